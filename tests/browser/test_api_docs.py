"""/api/docs/: Swagger UI from this server's own static files, under the strict CSP."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, set_password

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_load_locally_and_list_the_operations(session_factory):
    from bihuan.testing import build_world

    world = build_world(with_checklists=False)
    password = set_password(world.users["commander"])
    s = session_factory(DESKTOP)
    outside: list[str] = []
    s.page.on("request", lambda request: outside.append(request.url)
              if not request.url.startswith(s.base_url) else None)
    s.login("commander", password)
    s.go("/api/docs/")
    assert s.page.locator("script:not([src])").count() == 0
    s.page.wait_for_selector(".opblock", timeout=20000)
    text = s.page.content()
    assert "/api/hazards/{id}/verify-pass/" in text
    assert "/api/inspections/" in text
    # Try one call from the page with the session: the areas list answers 200.
    s.page.click("#operations-areas-areas_list .opblock-summary")
    s.page.click("#operations-areas-areas_list .try-out__btn")
    s.page.click("#operations-areas-areas_list .execute")
    status = "#operations-areas-areas_list .live-responses-table tbody .response-col_status"
    s.page.wait_for_selector(status, timeout=20000)
    assert "200" in s.page.locator(status).first.inner_text()
    s.shot("api-docs")
    assert outside == [], f"requests to other hosts: {outside}"
