"""Read-only: deliveries and subscriptions change only through the services (the pages
under /notifications/), which validate addresses and write the audit trail."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bihuan.notifications.models import Delivery, WebhookSubscription


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "status", "attempts", "delivered_at"]
    list_filter = ["channel", "status"]
    search_fields = ["recipient", "dedupe_key"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["name", "url", "active", "area", "created_at"]
    # The secret is never shown here; the subscription page shows it once.
    exclude = ["secret"]
