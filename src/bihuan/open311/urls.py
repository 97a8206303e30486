from django.urls import re_path

from bihuan.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)"

urlpatterns = [
    re_path(rf"^discovery{FMT}$", views.discovery, name="discovery"),
    re_path(rf"^services{FMT}$", views.service_list, name="services"),
    re_path(rf"^services/(?P<code>[A-Za-z0-9_-]{{1,40}}){FMT}$", views.service_definition,
            name="service"),
    re_path(rf"^requests{FMT}$", views.request_list, name="requests"),
    re_path(rf"^requests/(?P<request_id>[A-Za-z0-9-]{{1,40}}){FMT}$", views.request_detail,
            name="request"),
]
