"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser).

Where no Chromium is installed the tests are skipped, and the skip says so loudly
(``make test`` prints it in the summary); CI installs Chromium, so CI never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make between browser steps are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_CANDIDATES = ["chromium", "chromium-browser", "google-chrome"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    explicit = os.environ.get("BIHUAN_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


SKIP_REASON = (
    "!!! BROWSER TESTS SKIPPED: no Chromium found (apt-get install chromium "
    "fonts-wqy-microhei, or set BIHUAN_CHROMIUM). CI installs it and never skips. !!!"
)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if chromium_path() is not None:
        return
    marker = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if chromium_path() is None and terminalreporter.stats.get("skipped"):
        terminalreporter.write_sep("!", SKIP_REASON, red=True, bold=True)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where the key screens are written (the folder the tests name)."""
    root = Path(os.environ.get("BIHUAN_SCREENSHOT_DIR", "test-artifacts/screenshots"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@dataclass
class Session:
    """One user's browser context with what the tests assert about it."""

    page: Any
    base_url: str
    screenshot_dir: Path
    console_errors: list[str] = field(default_factory=list)
    taps: int = 0
    transferred: dict[str, int] = field(default_factory=dict)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def tap(self, selector: str, **kwargs: Any) -> None:
        """Click as a user taps; counted for the field-reality budget."""
        self.taps += 1
        self.page.click(selector, **kwargs)

    def shot(self, name: str) -> Path:
        width = self.page.viewport_size["width"]
        path = self.screenshot_dir / f"{name}-{width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, username: str, password: str) -> None:
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()

    def bytes_since(self, start: int = 0) -> int:
        return sum(list(self.transferred.values())[start:])


@pytest.fixture
def session_factory(browser: Any, live_server: Any, screenshot_dir: Path) -> Iterator[Any]:
    contexts: list[Any] = []
    sessions: list[Session] = []

    def make(viewport: dict[str, int] | None = None, locale: str = "zh-CN") -> Session:
        context = browser.new_context(viewport=viewport or PHONE, locale=locale,
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        session = Session(page=page, base_url=live_server.url, screenshot_dir=screenshot_dir)

        def on_console(message: Any) -> None:
            if message.type == "error":
                session.console_errors.append(message.text)

        def on_page_error(error: Any) -> None:
            session.console_errors.append(str(error))

        def on_finished(request: Any) -> None:
            try:
                sizes = request.sizes()
                session.transferred[request.url + f"#{len(session.transferred)}"] = (
                    sizes["responseBodySize"] + sizes["responseHeadersSize"]
                )
            except Exception:  # noqa: S110 - a request without sizes counts as zero
                pass

        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        page.on("requestfinished", on_finished)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        # A page's own requests (the bell loads itself once the page is up) must be
        # answered before the test's database is flushed: one still running under the
        # live server then deadlocked with the flush's TRUNCATE, and the next test
        # found the last one's rows.
        with contextlib.suppress(Exception):  # a closed or crashed page has none left
            session.page.wait_for_load_state("networkidle", timeout=10_000)
    for context in contexts:
        context.close()
    errors = [e for s in sessions for e in s.console_errors]
    assert errors == [], f"JavaScript errors in the console: {errors}"


def set_password(user: Any, password: str = "browser-test-pass-1") -> str:
    user.set_password(password)
    user.save(update_fields=["password"])
    return password
