from django.urls import path

from bihuan.tenants import views

app_name = "tenants"

urlpatterns = [
    path("place/<int:place_pk>/", views.place_tenants, name="place"),
    path("place/<int:place_pk>/register/", views.register, name="register"),
    path("<int:pk>/move-out/", views.move_out, name="move_out"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("lookup/", views.lookup, name="lookup"),
]
