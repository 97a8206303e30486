from django.urls import path, re_path

from bihuan.reports import views

app_name = "reports"

# A ticket: the city prefix, a dash and 8 base32 characters (case forgiven).
TICKET = r"(?P<ticket>[A-Za-z]{1,6}-[A-Za-z2-7]{8})"

urlpatterns = [
    path("", views.new, name="new"),
    path("follow/", views.follow, name="follow"),
    path("triage/", views.triage, name="triage"),
    path("triage/<int:pk>/", views.detail, name="detail"),
    path("triage/<int:pk>/photo/", views.triage_photo, name="triage_photo"),
    re_path(rf"^{TICKET}/$", views.status, name="status"),
    re_path(rf"^{TICKET}/photo/$", views.public_photo, name="photo"),
]
