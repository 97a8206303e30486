from django.urls import path

from bihuan.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("t/<str:token>/", views.enter, name="enter"),
    path("leave/", views.leave, name="leave"),
    path("place/<int:pk>/", views.place, name="place"),
    path("place/<int:pk>/self-check/", views.self_check, name="self_check"),
    path("place/<int:pk>/notice/", views.notice, name="notice"),
    path("hazard/<int:pk>/", views.hazard, name="hazard"),
    path("hazard/<int:pk>/rectify/", views.rectify, name="rectify"),
    path("hazard/<int:pk>/extension/", views.extension, name="extension"),
    path("photo/<int:pk>/", views.photo, name="photo"),
    path("links/<int:pk>/", views.party_links, name="party_links"),
]
