"""Error pages a patient can read, and the middleware that makes sure every error gets one.

Each page (400, 403, 404, 429, 500, 503) says what happened, whether what was sent was saved
(on a POST, and only when that is known), and how to reach the study team: the team of the
study the URL names, when it can be found. No page shows an exception's text, a form's data
or anything else about a person.

The 500 and 503 pages never query the database: they must render when the database is what
failed. They take the study team's details from `recruitment.study_contacts`, never from the
cache either (by default the cache is a database table). The 4xx pages look the study up,
and fall back to the same memory when the database does not answer.
"""

import codecs
import logging
import re
import sys

from django.conf import settings
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.exceptions import BadRequest
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from accounts.client_ip import interest_rate, ratelimit_key
from recruitment.models import Study
from recruitment.study_contacts import StudyContact, study_contact_recall, study_contact_remember

logger = logging.getLogger(__name__)

# How long a client should wait before trying again when the database does not answer.
DATABASE_RETRY_AFTER_SECONDS = 60
# django-ratelimit's group of the interest form and its "save and finish later" button.
INTEREST_FORM_GROUP = "interest-form"
# A URL that names a study: its contact details belong on any error page under it.
STUDY_PATH = re.compile(r"^/studies/(?P<slug>[-a-zA-Z0-9_]+)/")
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Statements that change no row: anything else counts as a write (see DatabaseWritesMiddleware).
READ_ONLY_STATEMENTS = {"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "SET", "SHOW"}
# What the page says about the data a POST sent (`saved` in the templates).
NOTHING_SAVED = "nothing"
MAYBE_SAVED = "maybe"
# The last resort, should the error page itself fail to render: no template, no database.
BARE_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>ldn-trial</title>'
    "<p>Something went wrong. Please try again later.</p>"
    '<p lang="es">Algo salió mal. Intente de nuevo más tarde.</p></html>'
)


# -- what the page knows -------------------------------------------------------------------------
def _study_slug(request: HttpRequest) -> str | None:
    match = STUDY_PATH.match(request.path_info)
    return match.group("slug") if match else None


def _study_from_database(request: HttpRequest) -> Study | None:
    """The study the URL names, for the 4xx pages; None if there is none or the database does
    not answer (the page then falls back to what this process remembers)."""
    slug = _study_slug(request)
    if slug is None:
        return None
    try:
        study = Study.objects.filter(slug=slug).first()
    except DatabaseError:
        return None
    if study is not None:
        study_contact_remember(study)
    return study


def _contact(request: HttpRequest, *, use_database: bool) -> StudyContact | None:
    study = _study_from_database(request) if use_database else None
    if study is not None:
        return study_contact_remember(study)
    slug = _study_slug(request)
    return study_contact_recall(slug) if slug is not None else None


def _saved(request: HttpRequest) -> str | None:
    """Whether a POST's data was saved: "nothing" only when the request changed no row at
    all (DatabaseWritesMiddleware); "maybe" whenever that is not known. Nothing on a GET."""
    if request.method != "POST":
        return None
    return NOTHING_SAVED if getattr(request, "database_written", None) is False else MAYBE_SAVED


def _database_unavailable(exception: BaseException | None) -> bool:
    """The database refused the connection, dropped it or timed out: try again later."""
    seen = 0
    while exception is not None and seen < 10:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return True
        exception, seen = exception.__cause__ or exception.__context__, seen + 1
    return False


def _render(request: HttpRequest, template: str, context: dict, *, status: int) -> HttpResponse:
    """The page in the language the person reads (the language cookie or the browser's: the
    error may come before LocaleMiddleware ran). A page that cannot render falls back to a
    bare one rather than fail again."""
    try:
        with translation.override(translation.get_language_from_request(request)):
            html = render_to_string(template, context, request=request)
    except Exception:
        logger.exception("The %s error page could not be rendered", status)
        html = BARE_PAGE
    return HttpResponse(html, status=status)


def error_page(
    request: HttpRequest, template: str, *, status: int, use_database: bool = True, **context
) -> HttpResponse:
    context = {
        "contact": _contact(request, use_database=use_database),
        "saved": _saved(request),
        **context,
    }
    return _render(request, template, context, status=status)


# -- Retry-After ---------------------------------------------------------------------------------
def interest_form_retry_after(request: HttpRequest) -> int:
    """Seconds until the client's rate-limit window on the interest form ends."""
    usage = get_usage(
        request, group=INTEREST_FORM_GROUP, key=ratelimit_key, rate=interest_rate, method="POST"
    )
    if usage is None or usage["time_left"] <= 0:
        return 60
    return usage["time_left"]


def retry_after_seconds(request: HttpRequest) -> int:
    """The interest form's rate limit, or else django-axes' lockout (the only other 429 here):
    its whole cool-off, an upper bound since the lockout's start is not known here."""
    if getattr(request, "limited", False):
        return interest_form_retry_after(request)
    return max(1, int(settings.AXES_COOLOFF_TIME * 3600))


# -- the handlers (ldn_trial/urls.py, CSRF_FAILURE_VIEW) ------------------------------------------
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A refusal; django-ratelimit's `Ratelimited` (a PermissionDenied) is a 429 instead."""
    if isinstance(exception, Ratelimited):
        return rate_limited(request)
    return error_page(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: most often a page left open for a long time or
    cookies blocked, which the page explains. The reason is for the log, never the page."""
    return error_page(request, "403.html", status=403, form_expired=True)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this while handling the exception, so `sys.exception()` is the error: a
    database that does not answer is a 503 (come back soon), anything else a 500."""
    if _database_unavailable(sys.exception()):
        return service_unavailable(request)
    return error_page(request, "500.html", status=500, use_database=False)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    response = error_page(request, "503.html", status=503, use_database=False)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def rate_limited(request: HttpRequest) -> HttpResponse:
    """The same page the interest form shows past its limit (recruitment/intake/views.py)."""
    study = _study_from_database(request)
    response = _render(request, "429.html", {"study": study}, status=429)
    response["Retry-After"] = str(interest_form_retry_after(request))
    return response


# -- middleware ----------------------------------------------------------------------------------
def _database_cache_tables() -> tuple[str, ...]:
    """The tables of caches kept in the database: their rows (rate-limit counts) are not
    anything a person sent, so writing them does not count as saving."""
    return tuple(
        cache["LOCATION"]
        for cache in settings.CACHES.values()
        if issubclass(import_string(cache["BACKEND"]), BaseDatabaseCache)
    )


class DatabaseWritesMiddleware:
    """Note on each request whether it changed any row (`request.database_written`), so an
    error page says "nothing was saved" only when that is true.

    Requests are not atomic here: a form can be saved and the page still fail after (the
    session, an email). So the page cannot assume a rollback; it asks this instead. First in
    MIDDLEWARE, so it sees every statement of the request; a statement that failed wrote
    nothing. The rate-limit counts in a database cache do not count (see above)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.cache_tables = _database_cache_tables()

    def __call__(self, request):
        request.database_written = False

        def observe(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if not request.database_written and self.writes(sql):
                request.database_written = True
            return result

        with connection.execute_wrapper(observe):
            return self.get_response(request)

    def writes(self, sql: str) -> bool:
        words = sql.split(None, 1)
        if not words or words[0].upper() in READ_ONLY_STATEMENTS:
            return False
        return not any(table in sql for table in self.cache_tables)


class RequestCharsetMiddleware:
    """400 for a request whose Content-Type names a charset Python does not know, or a form
    Django refuses to decode (a urlencoded form in a charset other than UTF-8).

    Left to Django, the CSRF check reads request.POST and raises; Django's own 400 and 500
    views check the CSRF token again, read request.POST again and raise again, and the client
    gets the server's bare error. Here the form is decoded once, before any of that, and a
    refusal is answered with the 400 page. Requests without a charset are not touched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.content_params.get("charset")
        if charset is not None:
            try:
                codecs.lookup(charset)
                if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
                    request.POST  # noqa: B018 -- decoded here, where a refusal can be answered
            except (LookupError, BadRequest, MultiPartParserError):
                return bad_request(request)
        return self.get_response(request)


class RetryAfterMiddleware:
    """Every 429 tells the client when to try again (Retry-After, in seconds)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 429 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(retry_after_seconds(request))
        return response
