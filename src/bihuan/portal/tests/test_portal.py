"""The responsible party's portal: links, what a party sees, and what it may do."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse

from bihuan.accounts.choices import Role
from bihuan.accounts.models import Membership, User
from bihuan.audit.models import AuditEntry
from bihuan.core import clock, images
from bihuan.core.errors import NotFound, PermissionDenied, TransitionNotAllowed
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import (
    ExtensionStatus,
    HazardAction,
    HazardSource,
    HazardState,
)
from bihuan.hazards.models import Hazard
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.models import Inspection
from bihuan.portal import services
from bihuan.portal.models import PortalToken
from bihuan.portal.views import SESSION_PARTY
from bihuan.testing import before_photo, future, tiny_jpeg

pytestmark = pytest.mark.django_db


def _hazard(world, place="baita_rental", actor="baita_grid_worker", seed=0):  # type: ignore[no-untyped-def]
    place_obj = world.places[place]
    item = next(i for i in world.checklist_for(place_obj).items.order_by("order")
                if i.severity == "general")
    return hazard_services.register_hazard(
        actor=world.users[actor], place=place_obj, item=item, description="",
        evidence=[before_photo(seed)], deadline=future(10),
    )


def _link(world, party="landlord", official="east_officer", **kwargs):  # type: ignore[no-untyped-def]
    return services.issue_token(actor=world.users[official], party=world.parties[party],
                                **kwargs)


def _enter(client, raw):  # type: ignore[no-untyped-def]
    return client.get(reverse("portal:enter", args=[raw]))


def jpeg_with_gps() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (28.0, 54.0, 0.0), 3: "E", 4: (120.0, 3.0, 0.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (20, 120, 40)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


# ---------------------------------------------------------------- links


def test_only_the_hash_of_a_link_is_stored(world):
    token, raw = _link(world)
    assert raw not in token.token_hash
    assert token.token_hash == services.hash_token(raw)
    assert token.expires_at == clock.now() + dt.timedelta(days=60)
    assert AuditEntry.objects.filter(action="portal.token.issue").count() == 1
    assert raw not in str(AuditEntry.objects.get(action="portal.token.issue").data)


def test_the_link_lifetime_is_configurable(world, settings):
    settings.BIHUAN_PORTAL_TOKEN_DAYS = 7
    token, _raw = _link(world)
    assert token.expires_at == clock.now() + dt.timedelta(days=7)
    token, _raw = _link(world, days=30)
    assert token.expires_at == clock.now() + dt.timedelta(days=30)


def test_a_link_opens_the_portal_of_its_party_only(world, client):
    _token, raw = _link(world)
    response = _enter(client, raw)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.session[SESSION_PARTY] == world.parties["landlord"].pk
    html = client.get(reverse("portal:home")).content.decode()
    assert "baita_rental" in html and "loutang_rental" in html
    for other in ("baita_shop", "wujin_market", "baita2_workshop", "loutang_hotel"):
        assert other not in html
    # The party session is not a login.
    assert "_auth_user_id" not in client.session
    for other in ("baita_shop", "wujin_market", "loutang_hotel"):
        url = reverse("portal:place", args=[world.places[other].pk])
        assert client.get(url).status_code == 404
    assert client.get(reverse("portal:place",
                              args=[world.places["baita_rental"].pk])).status_code == 200


@pytest.mark.parametrize("how", ["wrong", "expired", "revoked"])
def test_an_unknown_expired_or_revoked_link_is_the_same_404(world, client, how):
    token, raw = _link(world)
    if how == "wrong":
        raw = raw[:-2] + ("AA" if not raw.endswith("AA") else "BB")
    elif how == "expired":
        clock.advance(dt.timedelta(days=60, seconds=1))
    else:
        services.revoke_token(actor=world.users["east_officer_2"], token=token)
    response = _enter(client, raw)
    assert response.status_code == 404
    assert SESSION_PARTY not in client.session
    assert client.get(reverse("portal:home")).status_code == 302  # to the login page
    token.refresh_from_db()
    assert token.last_used_at is None


def test_revoking_a_link_closes_an_open_portal_at_once(world, client):
    token, raw = _link(world)
    _enter(client, raw)
    assert client.get(reverse("portal:home")).status_code == 200
    services.revoke_token(actor=world.users["east_officer"], token=token)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert SESSION_PARTY not in client.session


def test_the_portal_closes_when_the_link_expires(world, client):
    _token, raw = _link(world, days=1)
    _enter(client, raw)
    clock.advance(dt.timedelta(days=1, minutes=1))
    assert client.get(reverse("portal:home")).status_code == 302


def test_only_officials_over_the_party_issue_or_revoke_links(world):
    # 胡女士's places are all in the east town.
    with pytest.raises(NotFound):
        _link(world, party="shopkeeper", official="west_officer")
    with pytest.raises(NotFound):
        _link(world, party="shopkeeper", official="loutang_grid_worker")
    # A party may not issue links for itself.
    with pytest.raises((NotFound, PermissionDenied)):
        _link(world, party="landlord", official="landlord")
    with pytest.raises(NotFound):
        _link(world, party="shopkeeper", official="system_admin")
    token, _raw = _link(world, party="shopkeeper", official="market_inspector")
    with pytest.raises(NotFound):
        services.revoke_token(actor=world.users["west_officer"], token=token)
    services.revoke_token(actor=world.users["baita_grid_worker"], token=token)
    with pytest.raises(TransitionNotAllowed):
        services.revoke_token(actor=world.users["east_officer"], token=token)


def test_officials_see_the_links_of_parties_in_their_scope_only(world):
    landlord_link, _raw = _link(world, party="landlord")  # baita_rental and loutang_rental
    shop_link, _raw = _link(world, party="shopkeeper")  # baita_shop and wujin_market
    seen = {name: set(PortalToken.objects.visible_to(world.users[name])
                      .values_list("pk", flat=True))
            for name in ("commander", "east_officer", "west_officer", "baita_grid_worker",
                         "loutang_grid_worker", "market_inspector", "landlord", "citizen",
                         "system_admin")}
    assert seen["commander"] == {landlord_link.pk, shop_link.pk}
    assert seen["east_officer"] == {landlord_link.pk, shop_link.pk}
    assert seen["baita_grid_worker"] == {landlord_link.pk, shop_link.pk}
    assert seen["west_officer"] == {landlord_link.pk}
    assert seen["loutang_grid_worker"] == {landlord_link.pk}
    assert seen["market_inspector"] == {shop_link.pk}
    for name in ("landlord", "citizen", "system_admin"):
        assert seen[name] == set(), name


def test_the_links_page_shows_a_new_link_once(world, client):
    client.force_login(world.users["east_officer"])
    url = reverse("portal:party_links", args=[world.parties["no_login"].pk])
    response = client.post(url, {"action": "issue", "days": "14"})
    assert response.status_code == 200
    html = response.content.decode()
    token = PortalToken.objects.get()
    assert "/portal/t/" in html
    raw = html.split("/portal/t/")[1].split("/")[0]
    assert services.hash_token(raw) == token.token_hash
    assert raw not in client.get(url).content.decode()
    client.force_login(world.users["west_officer"])
    assert client.get(reverse("portal:party_links",
                              args=[world.parties["shopkeeper"].pk])).status_code == 404


# ---------------------------------------------------------------- the party user


def test_a_party_without_login_gets_a_portal_user_on_first_use(world, client):
    party = world.parties["no_login"]
    assert party.user is None
    _token, raw = _link(world, party="no_login")
    _enter(client, raw)
    party.refresh_from_db()
    user = party.user
    assert user is not None and user.username == f"party-{party.pk}"
    assert not user.has_usable_password()
    assert user.is_active
    assert list(Membership.objects.filter(user=user).values_list("role", flat=True)) == [
        Role.PARTY
    ]
    assert AuditEntry.objects.filter(action="portal.party_user.create",
                                     stream="permissions").count() == 1
    # A second visit, or another link, reuses it.
    client.logout()
    _token2, raw2 = _link(world, party="no_login")
    _enter(client, raw2)
    assert User.objects.filter(username__startswith="party-").count() == 1
    # Nobody can log in as it with a password.
    assert not client.login(username=user.username, password="")


def test_a_party_that_logs_in_reaches_its_portal(world, client):
    client.force_login(world.users["landlord"])
    html = client.get(reverse("portal:home")).content.decode()
    assert "baita_rental" in html and "baita_shop" not in html


def test_anyone_else_logged_in_gets_404_in_the_portal(world, client):
    client.force_login(world.users["east_officer"])
    assert client.get(reverse("portal:home")).status_code == 404
    hazard = _hazard(world)
    assert client.get(reverse("portal:hazard", args=[hazard.pk])).status_code == 404


# ---------------------------------------------------------------- what the party does


def test_another_partys_hazard_is_404(world, client):
    shop_hazard = _hazard(world, place="baita_shop")
    evidence = shop_hazard.evidence.get()
    _token, raw = _link(world)
    _enter(client, raw)
    for name in ("portal:hazard", "portal:rectify", "portal:extension"):
        assert client.get(reverse(name, args=[shop_hazard.pk])).status_code == 404, name
    assert client.get(reverse("portal:photo", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("portal:self_check",
                              args=[world.places["baita_shop"].pk])).status_code == 404
    assert client.get(reverse("portal:notice",
                              args=[world.places["baita_shop"].pk])).status_code == 404
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("portal:rectify", args=[shop_hazard.pk]), {
        "photo": SimpleUploadedFile("a.jpg", tiny_jpeg(5), content_type="image/jpeg"),
    })
    assert response.status_code == 404
    shop_hazard.refresh_from_db()
    assert shop_hazard.state == HazardState.RECTIFYING


def test_evidence_uploaded_in_the_portal_moves_the_hazard_to_pending_verification(world,
                                                                                   client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    hazard = _hazard(world)
    _token, raw = _link(world)
    _enter(client, raw)
    page = client.get(reverse("portal:hazard", args=[hazard.pk]))
    assert reverse("portal:rectify", args=[hazard.pk]) in page.content.decode()
    response = client.post(reverse("portal:rectify", args=[hazard.pk]), {
        "photo": SimpleUploadedFile("after.jpg", jpeg_with_gps(), content_type="image/jpeg"),
        "note": "已清理楼道", "version": hazard.version,
    })
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.PENDING_VERIFICATION
    event = hazard.events.order_by("-seq").first()
    assert event is not None and event.action == HazardAction.SUBMIT_RECTIFICATION
    assert event.actor == world.users["landlord"] and event.actor_role == Role.PARTY
    after = hazard.evidence.get(kind="after")
    # The original keeps its EXIF for the verifier; the party is shown a clean copy.
    assert after.latitude is not None
    photo = client.get(reverse("portal:photo", args=[after.pk]))
    assert photo.status_code == 200
    assert images.validate_image(photo.content).latitude is None
    # The landlord, not another user, is the submitter: separation of duties holds.
    assert hazard.rectification_submitted_by == world.users["landlord"]


def test_a_portal_user_of_a_party_without_login_submits_evidence(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    hazard = _hazard(world, place="baita2_workshop", actor="baita_cadre")
    _token, raw = _link(world, party="no_login")
    _enter(client, raw)
    response = client.post(reverse("portal:rectify", args=[hazard.pk]), {
        "photo": SimpleUploadedFile("after.jpg", tiny_jpeg(9), content_type="image/jpeg"),
    })
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.PENDING_VERIFICATION
    party = world.parties["no_login"]
    party.refresh_from_db()
    assert party.user is not None
    assert hazard.rectification_submitted_by == party.user


def test_a_non_photo_is_a_form_error_and_nothing_changes(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    hazard = _hazard(world)
    _token, raw = _link(world)
    _enter(client, raw)
    response = client.post(reverse("portal:rectify", args=[hazard.pk]), {
        "photo": SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg"),
    })
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    hazard.refresh_from_db()
    assert hazard.state == HazardState.RECTIFYING and hazard.version == 1


def test_an_extension_request_through_the_portal_pauses_the_clock(world, client):
    hazard = _hazard(world)
    _token, raw = _link(world)
    _enter(client, raw)
    response = client.post(reverse("portal:extension", args=[hazard.pk]), {
        "requested_deadline": future(30).isoformat(), "reason": "需要采购防火门",
        "version": hazard.version,
    })
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.clock_paused_since == clock.today()
    request = hazard.extensions.get()
    assert request.status == ExtensionStatus.PENDING
    assert request.requested_by == world.users["landlord"]
    assert request.requested_deadline == future(30)
    # Days later the hazard is still not overdue: the clock stands still.
    assert not Hazard.objects.overdue(future(20)).filter(pk=hazard.pk).exists()
    # While pending, neither evidence nor a second request is offered.
    html = client.get(reverse("portal:hazard", args=[hazard.pk])).content.decode()
    assert reverse("portal:rectify", args=[hazard.pk]) not in html
    assert reverse("portal:extension", args=[hazard.pk]) not in html


def test_an_extension_to_an_earlier_date_is_refused_on_the_form(world, client):
    hazard = _hazard(world)
    _token, raw = _link(world)
    _enter(client, raw)
    response = client.post(reverse("portal:extension", args=[hazard.pk]), {
        "requested_deadline": future(2).isoformat(), "reason": "x",
    })
    assert response.status_code == 200
    hazard.refresh_from_db()
    assert hazard.clock_paused_since is None and not hazard.extensions.exists()


def test_a_self_check_in_the_portal_creates_reported_hazards(world, client):
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    items = list(checklist.items.order_by("order"))
    general = [i for i in items if i.severity == "general"][:2]
    _token, raw = _link(world)
    _enter(client, raw)
    url = reverse("portal:self_check", args=[place.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert general[0].code in page.content.decode()
    data = {f"fail_{general[0].code}": "on", f"note_{general[0].code}": "三楼楼道堆物",
            f"fail_{general[1].code}": "on",
            "client_key": "6f1c2a9e-27f4-4c55-9a55-0d6f7a1c3b21"}
    response = client.post(url, data)
    assert response.status_code == 302
    inspection = Inspection.objects.get(place=place)
    assert inspection.kind == InspectionKind.SELF_CHECK
    assert inspection.inspector == world.users["landlord"]
    assert inspection.results.filter(outcome="fail").count() == 2
    assert inspection.results.filter(outcome="pass").count() == len(items) - 2
    hazards = Hazard.objects.filter(inspection=inspection)
    assert hazards.count() == 2
    assert set(hazards.values_list("state", flat=True)) == {HazardState.REPORTED}
    assert set(hazards.values_list("source", flat=True)) == {HazardSource.SELF_CHECK}
    assert hazards.filter(description="三楼楼道堆物").exists()
    # A retried submission (same client key) records nothing twice.
    client.post(url, data)
    assert Inspection.objects.filter(place=place).count() == 1


def test_the_notice_page_lists_what_to_fix(world, client):
    hazard = _hazard(world)
    _token, raw = _link(world)
    _enter(client, raw)
    html = client.get(reverse("portal:notice",
                              args=[world.places["baita_rental"].pk])).content.decode()
    assert hazard.number in html
    assert hazard.requirement in html
    assert hazard.deadline is not None and hazard.deadline.isoformat() in html


def test_notices_of_the_party_are_shown_on_its_home(world, client, settings):
    from bihuan.notifications.services import notify_event

    hazard = _hazard(world)
    event = hazard.events.get()
    notify_event(event.pk)
    client.force_login(world.users["landlord"])
    html = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:hazard", args=[hazard.pk]) in html
