"""Public pages and the health check. Views translate HTTP; services and selectors do the work."""

import logging
import uuid

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.client_ip import interest_rate, ratelimit_key
from recruitment import selectors
from recruitment.errors import StudyNotRecruiting
from recruitment.evaluation import criteria_fingerprint
from recruitment.intake import draft_views, form_cache
from recruitment.intake.forms import InterestForm
from recruitment.intake.inbox import confirmation_get, sent_form_keep
from recruitment.study_contacts import study_contact_remember

logger = logging.getLogger(__name__)

# The thank-you page's screening number goes to the browser that sent the form in a signed,
# short-lived, HttpOnly cookie (no session row to write): the study's id and the form's own
# random token (which finds the form, sent or taken in), never the number itself or anything
# about the person.
SUBMITTED_COOKIE = "interest_submitted"
SUBMITTED_SALT = "recruitment.intake.thanks"
SUBMITTED_MAX_AGE = 30 * 60


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "recruitment/home.html", {"studies": selectors.study_list_recruiting()})


@require_GET
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = selectors.study_get_public(slug=slug)
    return render(request, "recruitment/study_detail.html", {"study": study})


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(group="interest-form", key=ratelimit_key, rate=interest_rate, method="POST", block=False)
def interest(request: HttpRequest, slug: str) -> HttpResponse:
    """The interest form; on success, post/redirect/get to the thank-you page.

    Bots are answered like people and nothing is saved: a filled honeypot, or a form sent back
    too fast or without a valid signed time (InterestForm.is_spam). Past the per-IP limit the
    POST is refused with a friendly 429 page and not read at all. A draft in the session (see
    recruitment/intake/draft_views.py) fills the form on GET and is deleted once the form is sent.
    A POST with `language` is the header's language switch: it keeps the answers for the
    next GET, in the new language (draft_views.switch_language).
    """
    kept = None
    if (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and not draft_views.answers_in_session(request)
    ):
        # The blank form's page kept in this process: one small query, no criteria read.
        kept = form_cache.page_state_get(slug=slug)
        response = _kept_page(request, kept)
        if response is not None:
            return response
    sent = request.method == "POST" and "language" not in request.POST
    kept_study = _kept_study(slug) if sent else None
    study = kept_study.study if kept_study is not None else selectors.study_get_public(slug=slug)
    if sent:
        # A send carries the answers, whatever becomes of it: none stay behind in the session.
        draft_views.forget_kept_answers(request)
    if getattr(request, "limited", False):
        return render(request, "429.html", {"study": study}, status=429)
    if not study.is_recruiting:
        return render(request, "recruitment/closed.html", {"study": study})
    context = draft_views.form_page_context(study)
    if request.method == "POST" and "language" in request.POST:
        # The header's language switch, which belongs to this form: keep every answer.
        return draft_views.switch_language(request, study)
    if request.method == "GET":
        # A draft in the session (a used "finish later" link, or a save): every answer back.
        # Or answers kept by a switch of language on the form (the newest: first).
        resumed = draft_views.kept_context(request, study) or draft_views.resumed_context(
            request, study
        )
        if resumed is not None:
            context.update(resumed)
            return render(request, "recruitment/interest.html", context)
        # The blank form: from the cache, with this page's own tokens (the form itself is
        # rendered below only when the cache is down).
        response = _blank_form_page(
            request, study, context, key=kept.key() if kept is not None else None
        )
        if response is not None:
            return response
    if kept_study is not None:
        criteria, fingerprint = kept_study.criteria, kept_study.fingerprint
    else:
        criteria = selectors.criterion_list_active(study=study)
        fingerprint = criteria_fingerprint(criteria)
    data = request.POST if request.method == "POST" else None
    if data is not None:
        # Validated on the fields built once for these criteria; shown again (errors, or
        # expired) on a form of its own, since showing a form changes its widgets.
        form = form_cache.interest_form_to_validate(
            data, study=study, criteria=criteria, fingerprint=fingerprint
        )
        if form.is_valid() and not form.is_expired:
            if form.is_spam:
                return thanks_redirect(study, token=None)
            try:
                token = sent_form_keep(
                    study=study,
                    contact=form.contact_details(),
                    answers=form.answers(),
                    token=form.cleaned_data.get("submission_token"),
                    language=translation.get_language() or "en",
                    site_url=request.build_absolute_uri("/"),
                )
            except StudyNotRecruiting:
                return render(request, "recruitment/closed.html", {"study": study})
            # Sent: a draft saved to finish later is not needed any more.
            draft_views.forget_draft(request, study)
            return thanks_redirect(study, token=token)
    form = InterestForm(data, study=study, criteria=criteria)
    context["form"] = form
    if data is not None and form.is_valid() and form.is_expired:
        # Open for over a day: show it again, answers kept and a fresh signed time.
        context["form_expired"] = True
    return render(request, "recruitment/interest.html", context)


def _kept_study(slug: str) -> form_cache.KeptStudy | None:
    """The study and its criteria as this process keeps them for posts, checked with one small
    query (form_cache.study_kept); None for no such study or no change stamp to check with."""
    state = form_cache.page_state_get(slug=slug)
    kept = form_cache.study_kept(state) if state is not None else None
    if kept is not None:
        study_contact_remember(state)
    return kept


def thanks_redirect(study, *, token: uuid.UUID | None) -> HttpResponse:
    """To the thank-you page, with the cookie that lets this browser alone see the number
    (a bot's "success" carries no form)."""
    response = redirect("recruitment:thanks", slug=study.slug)
    response.set_signed_cookie(
        SUBMITTED_COOKIE,
        f"{study.pk}:{token or ''}",
        salt=SUBMITTED_SALT,
        max_age=SUBMITTED_MAX_AGE,
        path=reverse("recruitment:thanks", args=[study.slug]),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _kept_page(request: HttpRequest, state: form_cache.PageState | None) -> HttpResponse | None:
    """The blank form's page kept in this process, with this page's own values put in; None
    (the page is built below) for no such study, a closed one, or no page kept under this key.
    """
    key = state.key() if state is not None and state.is_recruiting else None
    page = form_cache.page_get(key) if key is not None else None
    if page is None:
        return None
    study_contact_remember(state)
    return HttpResponse(form_cache.fill_per_page_values(page, csrf_token=get_token(request)))


def _blank_form_page(
    request: HttpRequest, study, context: dict, *, key: tuple | None
) -> HttpResponse | None:
    """The page of the blank form (no data, no errors, no draft), the same for everyone
    but its CSRF token, signed time and submission token: kept whole in this process under
    `key` (form_cache.PageState.key, None: not kept), and in Django's cache per study text,
    criteria fingerprint and language (form_cache.blank_form_cache_key); each page gets its own
    values put in. With a query string (its path is in the page), only the form is cached.
    None when the cache is down.

    `key` was read before the study and its criteria here, so the page kept under it is never
    older than the key says."""
    if request.META.get("QUERY_STRING"):
        criteria = selectors.criterion_list_active(study=study)
        form_html = form_cache.blank_form_html(
            study=study, criteria=criteria, fingerprint=criteria_fingerprint(criteria)
        )
        if form_html is None:
            return None
        return render(request, "recruitment/interest.html", {**context, "form_html": form_html})
    page = _blank_form_page_cached(request, study, context)
    if page is None:
        return None
    if key is not None:
        form_cache.page_keep(key, page)
    return HttpResponse(form_cache.fill_per_page_values(page, csrf_token=get_token(request)))


def _blank_form_page_cached(request: HttpRequest, study, context: dict) -> str | None:
    """The blank form's page with stand-ins for its per-page values, from Django's cache or
    rendered and stored there; the criteria are read for their fingerprint. None when the
    cache is down."""
    criteria = selectors.criterion_list_active(study=study)
    fingerprint = criteria_fingerprint(criteria)
    key = f"{form_cache.blank_form_cache_key(study=study, fingerprint=fingerprint)}:page"
    page = form_cache.cache_get(key)
    if page is None or page is form_cache.CACHE_DOWN:
        fragment = form_cache.blank_form_template(
            study=study, criteria=criteria, fingerprint=fingerprint
        )
        if fragment is None:
            return None
        page_context = {
            **context,
            "form_html": mark_safe(fragment),  # noqa: S308 -- crispy-forms' escaped output
            "csrf_token": form_cache.CSRF_STAND_IN,
        }
        page = render_to_string("recruitment/interest.html", page_context, request=request)
        form_cache.cache_set(key, page)
    return page


@never_cache
@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """The thank-you page; it shows the screening number only to the browser that sent the
    form (its signed cookie, see thanks_redirect), never from the URL."""
    study = selectors.study_get_public(slug=slug)
    submitted = request.get_signed_cookie(
        SUBMITTED_COOKIE, default="", salt=SUBMITTED_SALT, max_age=SUBMITTED_MAX_AGE
    )
    study_pk, _, token = submitted.partition(":")
    if study_pk != str(study.pk):
        return redirect("recruitment:study", slug=study.slug)
    try:
        confirmation = confirmation_get(study=study, token=uuid.UUID(token)) if token else None
    except ValueError:
        confirmation = None
    return render(request, "recruitment/thanks.html", {"study": study, "participant": confirmation})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not; no details that help an attacker."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # raw SQL: a query that reads no table of the app
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("Health check: database unavailable (%s)", type(exc).__name__)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
