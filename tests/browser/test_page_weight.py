"""Every public page is under 60 KB transferred in total (HTML, CSS, any JS: compressed, with
headers) and asks nothing of a third party, measured from Chromium's network log.

Measured as production serves it: the app's real WSGI stack (GZipMiddleware compresses the
HTML) with DEBUG off and the static files collected by `collectstatic` into a temporary
STATIC_ROOT with the production storage (whitenoise's CompressedManifestStaticFilesStorage,
precompressed), served by whitenoise. pytest-django's live server would serve them raw
through Django's StaticFilesHandler: Bootstrap's CSS alone is about 230 KB uncompressed.

Each page is measured cold, as on a patient's first visit: a fresh browser context, its
cache cleared right before the page is loaded.
"""

import threading
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test.testcases import QuietWSGIRequestHandler
from playwright.sync_api import Page, expect

from recruitment.intake.withdraw import withdraw_token_make
from recruitment.studies.services import study_load_file
from tests.browser.test_layout import INTEREST, STUDY, fill_the_form, send
from tests.conftest import LDN_FILE, PRODUCTION_STORAGES
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUDGET_BYTES = 60 * 1024


# What production stores static files with (settings.py, DEBUG off).
@pytest.fixture
def production_server(settings, collected_static, transactional_db):
    """The app's WSGI application (every middleware, whitenoise serving the collected files)
    on a free port, in a thread; returns its base URL."""
    settings.DEBUG = False
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = PRODUCTION_STORAGES
    settings.ALLOWED_HOSTS = ["localhost"]
    server = ThreadedWSGIServer(("localhost", 0), QuietWSGIRequestHandler)
    server.set_app(get_wsgi_application())  # builds the middleware with these settings
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


class NetworkLog:
    """Bytes each response took on the wire (Chrome DevTools Protocol `encodedDataLength`:
    compressed body plus headers), from the moment `start()` is called."""

    def __init__(self, page: Page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.encodings: dict[str, str] = {}
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _request(self, event):
        self.urls[event["requestId"]] = event["request"]["url"]

    def _response(self, event):
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        self.encodings[event["requestId"]] = headers.get("content-encoding", "identity")

    def _finished(self, event):
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])

    def start(self) -> None:
        """Forget what came before and empty the browser's cache: the next load is cold."""
        self.cdp.send("Network.clearBrowserCache")
        self.urls.clear()
        self.sizes.clear()
        self.encodings.clear()

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    def requested_hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.urls.values() if not url.startswith("data:")}

    def breakdown(self) -> str:
        return "\n".join(
            f"  {self.sizes.get(rid, 0):>7} B  {self.encodings.get(rid, '?'):<8} {url}"
            for rid, url in self.urls.items()
        )


def measure_get(page: Page, log: NetworkLog, url: str) -> None:
    log.start()
    page.goto(url, wait_until="load")


def measure_action(page: Page, log: NetworkLog, action) -> None:
    log.start()
    with page.expect_navigation(wait_until="load"):
        action()


def test_every_public_page_is_under_60_kb_and_asks_no_third_party(
    browser, production_server, settings
):
    study = study_load_file(path=LDN_FILE).study
    token = withdraw_token_make(participant=applicant(study, answers=LDN_ELIGIBLE_ANSWERS))
    context = browser.new_context(locale="en-US", timezone_id="America/Chicago")
    page = context.new_page()
    log = NetworkLog(page)
    weights: dict[str, int] = {}
    breakdowns: dict[str, str] = {}

    def record(name: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        weights[name] = log.total
        breakdowns[name] = log.breakdown()
        hosts = log.requested_hosts()
        assert hosts == {urlsplit(production_server).netloc}, f"{name} asked {hosts}"

    try:
        for name, path in [
            ("home", "/"),
            ("study", STUDY),
            ("interest", INTEREST),
            ("withdraw", f"/withdraw/{token}/"),
            ("withdraw-invalid", "/withdraw/not-a-real-link/"),
        ]:
            measure_get(page, log, production_server + path)
            record(name)

        page.goto(production_server + INTEREST)
        fill_the_form(page, zip_code="3529")
        measure_action(page, log, lambda: send(page))
        expect(page.locator("#error-summary")).to_be_visible()
        record("interest-errors")

        page.get_by_label("ZIP code").fill("35203")
        send(page)
        expect(page.locator("#screening-number")).to_be_visible()
        measure_get(page, log, page.url)  # the thank-you page, reloaded with a cold cache
        expect(page.locator("#screening-number")).to_be_visible()
        record("thanks")

        # Past the per-connection limit the form gets the friendly 429 page.
        settings.RATELIMIT_ENABLE = True
        settings.INTEREST_RATE_LIMIT = "1/h"
        cache.clear()
        page.goto(production_server + INTEREST)
        send(page)  # the one allowed (empty: it comes back with errors)
        expect(page.locator("#error-summary")).to_be_visible()
        measure_action(page, log, lambda: send(page))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Please wait")
        record("429")
    finally:
        cache.clear()
        context.close()

    report = "\n".join(f"{name}: {size} B\n{breakdowns[name]}" for name, size in weights.items())
    print("\nTransferred per page (cold cache):\n" + report)
    assert set(weights) == {
        "home",
        "study",
        "interest",
        "interest-errors",
        "thanks",
        "withdraw",
        "withdraw-invalid",
        "429",
    }
    assert {name: size for name, size in weights.items() if size > BUDGET_BYTES} == {}, report
    # The CSS came compressed, as whitenoise serves it in production.
    assert "gzip" in breakdowns["home"] and "bootstrap.min." in breakdowns["home"]
