"""The rectification notice and the listed-supervision notice as PDFs."""

from __future__ import annotations

import base64
import io

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image

from bihuan.documents import fonts
from bihuan.documents.tests.pdfcheck import needs_poppler, pdf_fonts, pdf_text
from bihuan.hazards import services as hazard_services
from bihuan.hazards.models import Hazard
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.services import Finding, submit_inspection
from bihuan.portal.models import PortalToken
from bihuan.testing import future

pytestmark = [pytest.mark.django_db, needs_poppler]


def _signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    for x in range(20, 280):
        image.putpixel((x, 50 + (x % 15)), (0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _inspection(world, *, place="baita_rental", signature=True):
    place_obj = world.places[place]
    checklist = world.checklist_for(place_obj)
    items = list(checklist.items.filter(severity="general").exclude(legal_basis="")[:2])
    return submit_inspection(
        actor=world.users["baita_grid_worker"], place=place_obj,
        kind=InspectionKind.GRID_PATROL, checklist=checklist,
        results={i.code: "fail" for i in items},
        findings=[Finding(item_code=items[0].code, description="三楼走道堆放电动车电池"),
                  Finding(item_code=items[1].code)],
        signature=_signature_png() if signature else None, signed_by_name="楼先生",
    ), items


def test_the_notice_pdf_carries_the_place_party_hazards_and_legal_basis(client, world):
    inspection, items = _inspection(world)
    client.force_login(world.users["baita_grid_worker"])
    tokens_before = PortalToken.objects.count()
    response = client.get(reverse("documents:notice_pdf", args=[inspection.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = pdf_text(content)
    for expected in ("整改通知书", inspection.notice_number, "baita_rental", "楼先生",
                     "三楼走道堆放电动车电池", "".join(items[1].text.split()),
                     "".join(items[0].legal_basis.split())[:20], "白塔村"):
        assert expected in text, expected
    for hazard in Hazard.objects.filter(inspection=inspection):
        assert hazard.number in text
        assert hazard.deadline.isoformat().replace("-", "") in text.replace("-", "").replace(
            "年", "").replace("月", "").replace("日", "") or str(hazard.deadline.day) in text
    # Printing a notice issues no portal link: the QR code is the place's plate.
    assert PortalToken.objects.count() == tokens_before


def test_the_notice_embeds_the_shipped_font_and_the_signature(client, world):
    inspection, _items = _inspection(world)
    client.force_login(world.users["east_officer"])
    content = client.get(reverse("documents:notice_pdf", args=[inspection.pk])).content
    used = pdf_fonts(content)
    assert used, "no font in the PDF"
    assert all(f["emb"] == "yes" for f in used), used
    assert any(fonts.CSS_FAMILY in f["name"] for f in used), used
    # Two images at least: the QR code and the party's signature.
    assert content.count(b"/Subtype /Image") >= 2


def test_the_notice_is_404_out_of_scope(client, world):
    inspection, _items = _inspection(world)
    url = reverse("documents:notice_pdf", args=[inspection.pk])
    client.force_login(world.users["landlord"])
    assert client.get(url).status_code == 200
    for outsider in ("loutang_grid_worker", "west_officer", "shopkeeper", "citizen",
                     "system_admin"):
        client.force_login(world.users[outsider])
        assert client.get(url).status_code == 404, outsider
    client.logout()
    assert client.get(url).status_code == 302


def test_the_supervision_notice_has_its_document_number(client, world):
    inspection, _items = _inspection(world, signature=False)
    hazard = Hazard.objects.filter(inspection=inspection).order_by("id").first()
    supervision = hazard_services.list_supervision(
        hazard, actor=world.users["east_officer"], level="town",
        document_number="东城督〔2026〕7号", responsible_person="楼先生",
        deadline=future(7), delivered_by="李网格", signed_for_by="楼先生")
    url = reverse("documents:supervision_pdf", args=[supervision.pk])
    client.force_login(world.users["commander"])
    response = client.get(url)
    assert response.status_code == 200
    text = pdf_text(response.content)
    title = "".join(str(_("Listed supervision notice")).split())
    for expected in (title, "东城督〔2026〕7号", "东城街道", "baita_rental", "楼先生",
                     "李网格", "三楼走道堆放电动车电池", hazard.number):
        assert expected in text, expected
    for outsider in ("west_officer", "loutang_grid_worker", "shopkeeper", "system_admin"):
        client.force_login(world.users[outsider])
        assert client.get(url).status_code == 404, outsider
    client.force_login(world.users["landlord"])
    assert client.get(url).status_code == 200


def test_the_signature_is_an_image_in_the_pdf(world):
    from bihuan.documents.notice import notice_for

    inspection, _items = _inspection(world)
    notice = notice_for(inspection, base_url="http://testserver/")
    assert notice.signature_png.startswith("data:image/png;base64,")
    assert base64.b64decode(notice.signature_png.split(",", 1)[1]).startswith(b"\x89PNG")
    assert notice.portal_url.startswith("http://testserver/places/")
