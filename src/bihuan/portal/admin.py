"""Portal links are read-only here: only their hash is stored, and services issue them."""

from django.contrib import admin

from bihuan.portal.models import PortalToken


@admin.register(PortalToken)
class PortalTokenAdmin(admin.ModelAdmin[PortalToken]):
    list_display = ["party", "created_by", "created_at", "expires_at", "revoked_at",
                    "last_used_at"]
    list_filter = ["revoked_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
