from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bihuan.core.models import ApiToken, CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    list_display = ["date", "is_working_day", "note"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Creating a token here shows its secret once, in the confirmation message."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "expires_at", "revoked_at", "prefix", "created_at",
              "last_used_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is not None:  # a token's owner and name do not change; revoke and create
            return [*self.readonly_fields, "user", "name", "expires_at", "revoked_at"]
        return [*self.readonly_fields, "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        from bihuan.core.tokens import create_token

        token, secret = create_token(user=obj.user, name=obj.name, actor=request.user,
                                     expires_at=obj.expires_at)
        obj.pk = token.pk
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if k != "_state"})
        obj._state.adding = False
        messages.warning(request, _("The token's secret, shown only now: %(secret)s")
                         % {"secret": secret})

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        from bihuan.core.tokens import revoke_token

        for token in queryset:
            revoke_token(token, actor=request.user)
