from django.contrib import admin
from django.urls import include, path

from bihuan.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("bihuan.accounts.urls")),
    path("audit/", include("bihuan.audit.urls")),
    path("hazards/", include("bihuan.hazards.urls")),
    path("campaigns/", include("bihuan.campaigns.urls")),
    path("notifications/", include("bihuan.notifications.urls")),
    path("places/", include("bihuan.places.urls")),
    path("inspections/", include("bihuan.inspections.urls")),
    path("portal/", include("bihuan.portal.urls")),
    path("report/", include("bihuan.reports.urls")),
    path("imports/", include("bihuan.imports.urls")),
    path("tenants/", include("bihuan.tenants.urls")),
    path("documents/", include("bihuan.documents.urls")),
    path("dashboard/", include("bihuan.dashboard.urls")),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/", include("bihuan.api_urls")),
    path("open311/v2/", include("bihuan.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
