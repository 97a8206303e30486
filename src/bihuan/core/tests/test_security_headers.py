"""Headers (CSP and friends) and the log filter that keeps personal data out of logs."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client

from bihuan.core.logfilters import MaskPersonalData, mask

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(world):
    client = Client()
    client.force_login(world.users["east_officer"])
    for path in ("/accounts/login/", "/accounts/me/", "/hazards/"):
        response = Client().get(path) if path.endswith("login/") else client.get(path)
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'", path
        assert directives["script-src"] == "'self'", path
        assert directives["style-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'", path
        assert "unsafe" not in policy, path
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_only_the_admin_may_use_inline_styles_and_never_inline_scripts(world):
    from bihuan.accounts.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("root_admin", password=None))
    policy = client.get("/admin/").headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy + ";" and "frame-ancestors 'none'" in policy


def test_id_numbers_and_phone_numbers_are_masked_in_log_lines():
    assert mask("id 33078419900101123X phone 13812345678") == (
        "id 330784********123X phone 138****5678")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalData())
    logger = logging.getLogger("bihuan.test.masking")
    logger.addHandler(handler)
    try:
        logger.warning("Not Found: /tenants/?q=%s", "330784199001011234")
        try:
            raise ValueError("bad phone 13900000002")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "330784199001011234" not in text and "330784********1234" in text
    assert "13900000002" not in text and "139****0002" in text


def test_every_console_handler_masks(settings):
    handlers = settings.LOGGING["handlers"]
    assert all("mask_personal_data" in h.get("filters", []) for h in handlers.values())
