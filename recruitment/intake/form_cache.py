"""The interest form built once: its fields, per criteria and language, kept in this process to
validate posts; the blank form's HTML, per study text, criteria and language, kept in Django's
cache; and the blank form's whole page, per study text, criteria change stamp and language,
kept in this process. Each page gets its own fresh hidden values put in.

The fields and the form's HTML are keyed by the criteria's fingerprint
(recruitment.evaluation.criteria_fingerprint), the page by the study's `updated_at` and the
change stamp the database rewrites itself (recruitment.models.CriteriaStamp): the fingerprint
and the stamp both change with any change of a criterion, whether made in the admin, by
`load_study` or by SQL by hand."""

import copy
import functools
import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from crispy_forms.utils import render_crispy_form
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.dispatch import receiver
from django.test.signals import setting_changed
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from recruitment.evaluation import criteria_fingerprint
from recruitment.intake import forms as interest_forms
from recruitment.intake.form_timing import form_issued_token
from recruitment.intake.forms import InterestForm
from recruitment.models import CriteriaStamp, Study
from recruitment.models.stamps import CRITERIA_STAMP_ID
from recruitment.selectors import criterion_list_active

logger = logging.getLogger(__name__)

# -- The blank form, rendered once --------------------------------------------------------------
# Rendering the form with crispy-forms costs about 10 ms; the blank form (no data, no errors,
# no resumed draft) is the same HTML for everyone but two hidden values, so it is rendered once
# per study text, criteria and language, kept in Django's cache (CACHES), and each page gets
# its own fresh values put in. The CSRF tokens are outside the form's HTML (in the templates).
BLANK_FORM_CACHE_SECONDS = 60 * 60
# Stand-ins for the per-page values while rendering: letters only, so nothing escapes them.
_ISSUED_STAND_IN = "formissuedstandinXq7Zr"
_UUID_STAND_IN = "submissionuuidstandinKw3Vp"
CSRF_STAND_IN = "csrftokenstandinPq8Ld"


_settings_generation = 0


@receiver(setting_changed)
def _forget_rendered_forms(**kwargs) -> None:
    """The HTML depends on settings (languages, crispy's template pack): a changed setting
    (tests change them) gives new keys, so no page shows a form rendered before it."""
    global _settings_generation
    _settings_generation += 1


@functools.cache
def _render_version() -> str:
    """What else the form's page depends on, so a deploy never serves HTML cached before it
    from a shared cache (Redis): this file, the translations, the page's templates, the
    static files' hashed names and the crispy packages."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256(Path(interest_forms.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for path in (
        *sorted(root.glob("locale/*/LC_MESSAGES/django.mo")),
        root / "templates" / "base.html",
        root / "templates" / "recruitment" / "interest.html",
        Path(settings.STATIC_ROOT or root) / "staticfiles.json",
    ):
        if path.is_file():
            digest.update(path.read_bytes())
    for package in ("django", "django-crispy-forms", "crispy-bootstrap5"):
        digest.update(metadata.version(package).encode())
    return digest.hexdigest()[:16]


def blank_form_cache_key(*, study: Study, fingerprint: str) -> str:
    """Per study, its criteria (`fingerprint`), study text version (`updated_at`, new at every
    save of the study: the admin's and `load_study`'s) and language; a new version of this
    file, the translations or crispy-forms gives new keys too (`_render_version`)."""
    updated = study.updated_at.timestamp() if study.updated_at else 0
    return (
        f"interest-form:{study.pk}:{fingerprint[:32]}:{updated}:{get_language()}:"
        f"{_render_version()}:{_settings_generation}"
    )


def blank_form_template(*, study: Study, criteria: list | None, fingerprint: str) -> str | None:
    """The blank interest form's HTML (what `{% crispy form %}` outputs for an unbound form)
    with stand-ins for the per-page values (see fill_per_page_values); from the cache, or
    rendered and stored there. `criteria` are the study's active criteria (None: read here,
    only if the form is rendered), `fingerprint` theirs.

    None when the cache is down (the caller renders the form itself).
    """
    key = blank_form_cache_key(study=study, fingerprint=fingerprint)
    html = cache_get(key)
    if html is CACHE_DOWN:
        return None
    if html is None:
        form = InterestForm(
            study=study,
            criteria=criteria if criteria is not None else criterion_list_active(study=study),
            initial={"form_issued": _ISSUED_STAND_IN, "submission_token": _UUID_STAND_IN},
        )
        html = str(render_crispy_form(form))
        if html.count(_ISSUED_STAND_IN) != 1 or html.count(_UUID_STAND_IN) != 1:
            raise RuntimeError("The interest form's hidden values are not where expected.")
        cache_set(key, html)
    return html


# -- The fields, built once -----------------------------------------------------------------
# Building the form's fields (a deep copy of the declared ones, one or more per question) is
# the same work for every post of the same criteria in the same language: it is done once per
# process and the fields are shared by the forms that validate posts, which never render them.
_FIELDS_KEPT = 16
_fields: dict[tuple, dict[str, forms.Field]] = {}
_fields_lock = threading.Lock()


def validation_fields(*, study: Study, criteria: list, fingerprint: str) -> dict[str, forms.Field]:
    """The interest form's fields for these criteria in the active language, built once."""
    key = (study.pk, fingerprint, get_language(), _settings_generation)
    fields = _fields.get(key)
    if fields is None:
        fields = InterestForm(study=study, criteria=criteria).fields
        with _fields_lock:
            if len(_fields) >= _FIELDS_KEPT:
                _fields.clear()
            _fields[key] = fields
    return fields


def interest_form_to_validate(data, *, study: Study, criteria: list, fingerprint: str):
    """A bound interest form on the fields built once (see validation_fields): to validate a
    post only; to show it again (errors), build `InterestForm(data, ...)` itself."""
    fields = validation_fields(study=study, criteria=criteria, fingerprint=fingerprint)
    return InterestForm(data, study=study, criteria=criteria, fields=fields)


# -- The whole page, kept in this process ---------------------------------------------------
# The blank form's page (base template, study text, form) is the same for everyone but its
# per-page values. It is kept in each worker's memory, not in Django's cache: with the default
# cache (a database table) a cache read is a query of its own, while what the page depends on
# is read in one small query (page_state_get). Memory: one page (about 26 KB) per study,
# language and version of the study text and criteria; the oldest go when full.
_PAGES_KEPT = 32
_pages: dict[tuple, str] = {}
_pages_lock = threading.Lock()


@dataclass(frozen=True)
class PageState:
    """What a study's blank form page depends on, and its team's contact details (for
    study_contact_remember, as every public page of a study leaves them)."""

    study_pk: int
    slug: str
    is_recruiting: bool
    updated_at: object  # as the database driver gives it: only compared
    contact_email: str
    contact_phone: str
    stamp: int | None  # the criteria's change stamp; None where the database keeps none

    def key(self) -> tuple | None:
        """The key of the page in the active language: the study text's version
        (`updated_at`, new at every save of the study) and the criteria's change stamp. None
        without a stamp (a database without the stamp's triggers, or its row not written again
        since a flush): no page is kept then."""
        if self.stamp is None:
            return None
        return (self.study_pk, self.updated_at, self.stamp, get_language(), _settings_generation)


@functools.cache
def _page_state_sql() -> str:
    """The one query a kept page needs, in SQL: the ORM would compile it anew on every GET,
    which costs the worker several times what running it costs. Tables and columns are named
    from the models, so a rename cannot leave this query behind."""
    study, stamp = Study._meta, CriteriaStamp._meta
    quote = connection.ops.quote_name

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    fields = ["id", "slug", "is_recruiting", "updated_at", "contact_email", "contact_phone"]
    return (
        f"SELECT {', '.join(column(study, name) for name in fields)},"  # noqa: S608 - names from models; the slug is a parameter
        f" (SELECT {column(stamp, 'value')} FROM {quote(stamp.db_table)}"
        f" WHERE {column(stamp, 'id')} = {int(CRITERIA_STAMP_ID)})"
        f" FROM {quote(study.db_table)} WHERE {column(study, 'slug')} = %s"
    )


def page_state_get(*, slug: str) -> PageState | None:
    """The study's PageState, the stamp read in the same query; None when no study has this
    slug."""
    with connection.cursor() as cursor:
        cursor.execute(_page_state_sql(), [slug])
        row = cursor.fetchone()
    return PageState(*row) if row is not None else None


def page_get(key: tuple) -> str | None:
    return _pages.get(key)


def page_keep(key: tuple, html: str) -> None:
    with _pages_lock:
        while len(_pages) >= _PAGES_KEPT:
            del _pages[next(iter(_pages))]
        _pages[key] = html


def pages_kept() -> int:
    return len(_pages)


def pages_forget() -> None:
    """Forget every kept page (tests: a rolled-back test frees its ids for the next one)."""
    with _pages_lock:
        _pages.clear()


# -- The study and its criteria, kept in this process for posts ---------------------------------
# A post is validated, judged and written against the study's active criteria; reading them
# (and the study's 40-odd columns) cost each post two queries and their models. They are kept
# under the same key as the page, read with the same one small query (page_state_get): a change
# of the study's text or of any criterion, however made, gives a new key.
_STUDIES_KEPT = 16
_studies: dict[tuple, "KeptStudy"] = {}
_studies_lock = threading.Lock()


@dataclass(frozen=True)
class KeptStudy:
    """A study as a post needs it: its active criteria in order and their fingerprint."""

    study: Study
    criteria: list
    fingerprint: str


def study_kept(state: PageState) -> KeptStudy | None:
    """The study of `state` with its criteria, kept in this process under the page's key (but
    for the language); read and kept on first use. The study returned is a copy of its own,
    recruiting or not as `state` says. None without a key (no change stamp)."""
    if state.stamp is None:
        return None
    key = (state.study_pk, state.updated_at, state.stamp, _settings_generation)
    kept = _studies.get(key)
    if kept is None:
        # Read after `state`: never older than the key says.
        study = Study.objects.get(pk=state.study_pk)
        criteria = criterion_list_active(study=study)
        kept = KeptStudy(study, criteria, criteria_fingerprint(criteria))
        with _studies_lock:
            while len(_studies) >= _STUDIES_KEPT:
                del _studies[next(iter(_studies))]
            _studies[key] = kept
    study = copy.copy(kept.study)
    study.is_recruiting = state.is_recruiting
    return KeptStudy(study, kept.criteria, kept.fingerprint)


def studies_forget() -> None:
    """Forget every kept study (tests: a rolled-back test frees its ids for the next one)."""
    with _studies_lock:
        _studies.clear()


CACHE_DOWN = object()


def cache_get(key: str):
    """The cached HTML, None when not cached, or CACHE_DOWN when the cache server is down (a
    cache that is down must not take the form down: the caller renders it itself)."""
    try:
        return cache.get(key)
    except Exception as exc:
        logger.warning("Interest form cache unavailable (%s)", type(exc).__name__)
        return CACHE_DOWN


def cache_set(key: str, value: str) -> None:
    try:
        cache.set(key, value, BLANK_FORM_CACHE_SECONDS)
    except Exception as exc:
        logger.warning("Interest form cache unavailable (%s)", type(exc).__name__)


def fill_per_page_values(html: str, *, csrf_token: str = "", now: datetime | None = None) -> str:
    """Put this page's own values in place of the stand-ins: a signed time of now, a new
    submission token and (for a whole page) the CSRF token."""
    html = html.replace(_ISSUED_STAND_IN, form_issued_token(now or timezone.now()))
    html = html.replace(_UUID_STAND_IN, str(uuid.uuid4()))
    return html.replace(CSRF_STAND_IN, csrf_token) if csrf_token else html


def blank_form_html(
    *, study: Study, criteria: list | None, fingerprint: str, now: datetime | None = None
) -> SafeString | None:
    """The blank form's HTML with fresh per-page values: byte for byte the same as rendering
    it. None when the cache is down."""
    html = blank_form_template(study=study, criteria=criteria, fingerprint=fingerprint)
    if html is None:
        return None
    return mark_safe(fill_per_page_values(html, now=now))  # noqa: S308 -- crispy's output
