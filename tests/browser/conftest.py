"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

A failing test leaves a screenshot in ``test-output/screenshots/<test name>.png`` (kept as a CI artefact).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.training.conftest import demo, training_dirs  # noqa: F401 - fixtures shared with the training tests

# Playwright's sync API runs an event loop in this thread; the live server's ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LABELHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/bootstrap installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def logged_in(page, live_server, transactional_db):
    """Factory: sign in through the login page as a user holding ``role``."""
    from apps.accounts.services import user_create

    def login(role: str = "trainer"):
        user_create(username=f"{role}-browser", password="pw-browser-1234", roles=[role])
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", f"{role}-browser")
        page.fill("input[name=password]", "pw-browser-1234")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return login
