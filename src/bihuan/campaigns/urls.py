from django.urls import path

from bihuan.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/tasks/", views.task_list, name="tasks"),
    path("<int:pk>/tasks/new/", views.task_new, name="task_new"),
    path("<int:pk>/responsibilities/", views.responsibility_list, name="responsibilities"),
    path("<int:pk>/responsibilities/new/", views.responsibility_new, name="responsibility_new"),
    path("<int:pk>/problems/", views.problem_list, name="problems"),
    path("<int:pk>/findings/", views.finding_list, name="findings"),
    path("<int:pk>/draws/new/<slug:kind>/", views.draw_new, name="draw_new"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("task-evidence/<int:pk>/", views.task_evidence, name="task_evidence"),
    path("draws/<int:pk>/", views.draw_detail, name="draw"),
    path("draws/<int:pk>/draw/", views.draw_perform, name="draw_perform"),
    path("look-backs/<int:pk>/", views.look_back_record, name="look_back"),
    path("duty-checks/<int:pk>/", views.duty_record, name="duty_check"),
]
