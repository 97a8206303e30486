from django.urls import path

from bihuan.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/mapping/", views.job_mapping, name="mapping"),
    path("<int:pk>/check/", views.job_check, name="check"),
    path("<int:pk>/decide/", views.job_decide, name="decide"),
    path("<int:pk>/commit/", views.job_commit, name="commit"),
    path("<int:pk>/errors/", views.job_errors, name="errors"),
]
