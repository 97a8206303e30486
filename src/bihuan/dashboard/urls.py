from django.urls import path

from bihuan.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("<str:code>/", views.area_dashboard, name="area"),
    path("<str:code>/map.json", views.map_json, name="map_json"),
    path("<str:code>/map.svg", views.map_svg, name="map_svg"),
]
