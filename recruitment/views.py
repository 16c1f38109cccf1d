"""Public pages and the health check. Views translate HTTP; services and selectors do the work."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from recruitment import selectors, services
from recruitment.client_ip import interest_rate, ratelimit_key
from recruitment.forms import InterestForm

logger = logging.getLogger(__name__)

SESSION_KEY = "interest_submitted"


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
    POST is refused with a friendly 429 page and not read at all.
    """
    study = selectors.study_get_public(slug=slug)
    if getattr(request, "limited", False):
        return render(request, "429.html", {"study": study}, status=429)
    if not study.is_recruiting:
        return render(request, "recruitment/closed.html", {"study": study})
    criteria = selectors.criterion_list_for_form(study=study)
    data = request.POST if request.method == "POST" else None
    form = InterestForm(data, study=study, criteria=criteria)
    if request.method == "POST" and form.is_valid():
        if form.is_spam:
            request.session[SESSION_KEY] = {"study": study.pk, "participant": None}
            return redirect("recruitment:thanks", slug=study.slug)
        if form.is_expired:
            # Open for over a day: show it again, answers kept and a fresh signed time.
            context = {"study": study, "form": form, "form_expired": True}
            return render(request, "recruitment/interest.html", context)
        try:
            participant = services.participant_submit_idempotent(
                study=study,
                contact=form.contact_details(),
                answers=form.answers(),
                token=form.cleaned_data.get("submission_token"),
                language=translation.get_language() or "en",
                site_url=request.build_absolute_uri("/"),
            )
        except services.StudyNotRecruiting:
            return render(request, "recruitment/closed.html", {"study": study})
        request.session[SESSION_KEY] = {"study": study.pk, "participant": participant.pk}
        return redirect("recruitment:thanks", slug=study.slug)
    return render(request, "recruitment/interest.html", {"study": study, "form": form})


@never_cache
@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """The thank-you page; it shows the screening number from the session, never from the URL."""
    study = selectors.study_get_public(slug=slug)
    submitted = request.session.get(SESSION_KEY)
    if not submitted or submitted.get("study") != study.pk:
        return redirect("recruitment:study", slug=study.slug)
    participant = None
    if submitted.get("participant"):
        participant = selectors.participant_get_for_confirmation(
            pk=submitted["participant"], study=study
        )
    return render(request, "recruitment/thanks.html", {"study": study, "participant": participant})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not; no details that help an attacker."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("Health check: database unavailable (%s)", type(exc).__name__)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
