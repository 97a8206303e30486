from django.urls import path

from bihuan.documents import views

app_name = "documents"

urlpatterns = [
    path("inspections/<int:pk>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("supervisions/<int:pk>.pdf", views.supervision_pdf, name="supervision_pdf"),
    path("briefing/", views.briefing, name="briefing"),
    path("briefing/<str:fmt>/", views.briefing_download, name="briefing_download"),
]
