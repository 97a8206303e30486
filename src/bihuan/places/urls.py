from django.urls import path

from bihuan.places import views

app_name = "places"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.place_detail, name="detail"),
    path("<int:pk>/qr/", views.qr_plate, name="qr"),
    path("q/<str:token>/", views.by_token, name="by_token"),
]
