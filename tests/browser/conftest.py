"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

No `playwright install` and no pytest-playwright: the browser is the system's
/usr/bin/chromium, launched once per session. CI installs it (.ci/run), so there a missing
browser fails the run; on a developer's machine without it the browser tests are skipped.
"""

import os
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Fail fast: every step of the journey answers in well under a second on this machine.
TIMEOUT_MS = 5_000


@pytest.fixture(scope="session")
def _plain_http_while_the_live_server_starts():
    """The live server speaks plain HTTP, so it must not redirect to HTTPS.

    SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread builds its
    handler; the per-test override in tests/conftest.py comes too late for the session-wide
    live server. Every other production setting stays as it is.
    """
    override = override_settings(SECURE_SSL_REDIRECT=False)
    override.enable()
    yield override
    if hasattr(override, "wrapped"):  # still enabled: the live server never started
        override.disable()


@pytest.fixture(scope="session")
def live_server(_plain_http_while_the_live_server_starts, live_server):
    _plain_http_while_the_live_server_starts.disable()
    return live_server


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI installs it, so the browser tests cannot be skipped here")
        pytest.skip(reason)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def requested_urls() -> list[str]:
    """Every URL the page under test asked for, in order (filled by the `page` fixture)."""
    return []


@pytest.fixture
def page(browser, live_server, requested_urls):
    """A fresh browser context (no cookies) per test, recording every request it makes."""
    context = browser.new_context(locale="en-US", timezone_id="America/Chicago")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("request", lambda request: requested_urls.append(request.url))
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def open_page(browser, requested_urls):
    """Open a page in a fresh context with options of one's own (`color_scheme="dark"`, a
    viewport, `reduced_motion="reduce"`...); like `page`, it records every requested URL.
    It does not start the live server: tests that need it ask for `live_server` themselves."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(
            **{"locale": "en-US", "timezone_id": "America/Chicago", **options}
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", lambda request: requested_urls.append(request.url))
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
