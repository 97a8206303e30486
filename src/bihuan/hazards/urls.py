from django.urls import path

from bihuan.hazards import views

app_name = "hazards"

urlpatterns = [
    path("", views.hazard_list, name="list"),
    path("<int:pk>/", views.hazard_detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", views.transition, name="transition"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
