"""The inbox (bell), each user's channel preferences, and the system administrator's
delivery log and webhook subscriptions.

Everyone sees only their own notices (someone else's is a 404). The delivery
log and the subscriptions are configuration: the system administrator's alone
(403 for anyone else). Every change goes through ``notifications.services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bihuan.core.errors import DomainError, NotFound
from bihuan.core.forms import add_domain_error
from bihuan.core.pagination import keyset_page
from bihuan.notifications import services
from bihuan.notifications.choices import USER_CHANNELS, RobotStyle
from bihuan.notifications.forms import (
    DeliveryFilterForm,
    PreferencesForm,
    SubscriptionForm,
    pref_field_name,
)
from bihuan.notifications.models import ChatRobot, Delivery, WebhookSubscription

PAGE_SIZE = 50


def system_admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.is_system_admin(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# ---------------------------------------------------------------- the inbox


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    queryset = services.inbox_of(request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    page = keyset_page(queryset, ("-created_at", "-id"), request.GET.get("cursor"), PAGE_SIZE)
    return render(request, "notifications/inbox.html", {
        "notifications": page.items,
        "unread_only": unread_only,
        "unread": services.unread_count(request.user),
        "next_url": page.link(request.GET, page.next_cursor),
        "previous_url": page.link(request.GET, page.previous_cursor),
    })


@login_required
def bell(request: HttpRequest) -> HttpResponse:
    """The unread count beside "Notifications" in the top bar (loaded by htmx)."""
    return render(request, "notifications/_bell.html",
                  {"unread": services.unread_count(request.user)})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = services.mark_read(user=request.user, notification_id=pk)
    except NotFound:
        raise Http404 from None
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    if request.POST.get("open") and notification.hazard_id:
        return redirect(services.hazard_link(notification.hazard))  # type: ignore[arg-type]
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(user=request.user)
    messages.success(request, _("%(n)d notice(s) marked as read.") % {"n": count})
    return redirect("notifications:inbox")


# ---------------------------------------------------------------- preferences


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    robot = ChatRobot.objects.filter(user_id=int(request.user.pk or 0)).first()
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                services.save_preferences(
                    actor=request.user, choices=form.choices(),
                    robot_url=form.cleaned_data["robot_url"],
                    robot_style=form.cleaned_data["robot_style"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Your notification preferences are saved."))
                return redirect("notifications:preferences")
    else:
        initial: dict[str, Any] = {
            "robot_url": robot.url if robot else "",
            "robot_style": robot.style if robot else RobotStyle.DINGTALK,
        }
        for kind, chosen in services.preferences_of(request.user).items():
            for channel in USER_CHANNELS:
                initial[pref_field_name(kind, channel)] = channel in chosen
        form = PreferencesForm(initial=initial)
    return render(request, "notifications/preferences.html", {
        "form": form, "channels": [c.label for c in USER_CHANNELS],
        "has_email": bool(request.user.email),  # type: ignore[union-attr]
    })


# ---------------------------------------------------------------- administration


def _filtered_deliveries(form: DeliveryFilterForm) -> Any:
    queryset = Delivery.objects.select_related("subscription", "notification")
    if not form.is_valid():
        return queryset.none()
    data = form.cleaned_data
    if data.get("channel"):
        queryset = queryset.filter(channel=data["channel"])
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    if data.get("recipient"):
        queryset = queryset.filter(recipient__icontains=data["recipient"])
    if data.get("subscription"):
        queryset = queryset.filter(subscription_id=data["subscription"])
    tz = timezone.get_current_timezone()
    if data.get("created_from"):
        queryset = queryset.filter(
            created_at__gte=dt.datetime.combine(data["created_from"], dt.time.min, tzinfo=tz))
    if data.get("created_to"):
        queryset = queryset.filter(
            created_at__lt=dt.datetime.combine(data["created_to"] + dt.timedelta(days=1),
                                               dt.time.min, tzinfo=tz))
    return queryset


@system_admin_required
def deliveries(request: HttpRequest) -> HttpResponse:
    """The delivery log: every outbound message, its attempts and its last error."""
    form = DeliveryFilterForm(request.GET or None)
    queryset = _filtered_deliveries(form) if request.GET else Delivery.objects.select_related(
        "subscription", "notification")
    page = keyset_page(queryset, ("-created_at", "-id"), request.GET.get("cursor"), PAGE_SIZE)
    return render(request, "notifications/deliveries.html", {
        "form": form if request.GET else DeliveryFilterForm(),
        "deliveries": page.items,
        "next_url": page.link(request.GET, page.next_cursor),
        "previous_url": page.link(request.GET, page.previous_cursor),
    })


@system_admin_required
@require_POST
def retry_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.retry_delivery(actor=request.user, delivery_id=pk)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("notifications:deliveries")


@system_admin_required
def webhooks(request: HttpRequest) -> HttpResponse:
    """The webhook subscriptions; a new one's secret is shown once, on this response."""
    secret = None
    created = None
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            try:
                created, secret = services.create_subscription(
                    actor=request.user, name=form.cleaned_data["name"],
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    area=form.cleaned_data["area"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                form = SubscriptionForm()
    else:
        form = SubscriptionForm()
    return render(request, "notifications/webhooks.html", {
        "form": form, "subscriptions": WebhookSubscription.objects.select_related("area"),
        "created": created, "secret": secret,
    }, status=400 if request.method == "POST" and secret is None else 200)


@system_admin_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        subscription = WebhookSubscription.objects.select_related("area").get(pk=pk)
    except WebhookSubscription.DoesNotExist:
        raise Http404 from None
    secret = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rotate":
            subscription, secret = services.rotate_secret(actor=request.user,
                                                          subscription_id=pk)
        elif action in ("activate", "deactivate"):
            subscription = services.set_subscription_active(
                actor=request.user, subscription_id=pk, active=action == "activate")
            return redirect("notifications:webhook", pk=pk)
    recent = subscription.deliveries.order_by("-created_at", "-id")[:PAGE_SIZE]
    return render(request, "notifications/webhook_detail.html", {
        "subscription": subscription, "secret": secret, "deliveries": recent,
    })
