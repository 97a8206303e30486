from django.urls import path
from django.views.generic import RedirectView

from bihuan.inspections import views

app_name = "inspections"

urlpatterns = [
    path("places/new/", views.new_place, name="new_place"),
    path("places/<int:place_pk>/start/", views.start, name="start"),
    path("places/<int:place_pk>/walk/<int:checklist_pk>/", views.walk, name="walk"),
    path("places/<int:place_pk>/hazard/", views.quick_hazard, name="quick_hazard"),
    # An inspection's page is its notice (or, without findings, its record).
    path("<int:pk>/", RedirectView.as_view(pattern_name="inspections:notice"), name="detail"),
    path("<int:pk>/notice/", views.notice, name="notice"),
    path("<int:pk>/signature.png", views.signature, name="signature"),
]
