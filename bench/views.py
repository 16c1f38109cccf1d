"""The yardsticks: what the bare stack costs on this machine, measured in the same run."""

import dataclasses

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from accounts.client_ip import interest_rate, ratelimit_key
from bench.models import BenchRow, BenchSubmission
from recruitment import selectors
from recruitment.intake.forms import InterestForm
from recruitment.intake.services import screening_seq_take


def yardstick(request):
    """A minimal Django view: the ceiling for any page of the app."""
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def insert(request):
    """One INSERT into PostgreSQL per request: the ceiling for any page that writes."""
    BenchRow.objects.create(note="bench")
    return HttpResponse("ok", content_type="text/plain")


# The study and its questions, read once per worker: the floor is a best case.
_FORMS: dict[str, tuple] = {}


@require_POST
@ratelimit(group="interest-form", key=ratelimit_key, rate=interest_rate, method="POST", block=False)
def form_post_floor(request, slug):
    """The least any design can do for a submission while the patient waits, whatever it
    leaves for later: the same middleware, CSRF check and per-IP limit as the interest form,
    the form checked (errors must show next to the fields), the next screening number taken
    (the thank-you page shows it) and the submission kept as one row, the number remembered
    for the thank-you page in a signed cookie, as the interest form does. No evaluation,
    duplicate match, answers, verdicts, history or email: a worker would do those afterwards.
    The form-post goal is a ratio to this floor (bench/README.md)."""
    if slug not in _FORMS:
        study = selectors.study_get_public(slug=slug)
        _FORMS[slug] = (study, selectors.criterion_list_for_form(study=study))
    study, criteria = _FORMS[slug]
    form = InterestForm(request.POST, study=study, criteria=criteria)
    if not form.is_valid() or form.is_spam or getattr(request, "limited", False):
        return HttpResponse("refused", status=400, content_type="text/plain")
    payload = {"contact": dataclasses.asdict(form.contact_details()), "answers": form.answers()}
    with transaction.atomic():
        numbered = screening_seq_take(study)  # the app's own numbering
        if numbered is None:
            return HttpResponse("closed", status=409, content_type="text/plain")
        BenchSubmission.objects.create(
            screening_seq=numbered.last_screening_seq,
            payload=payload,
        )
    response = redirect("recruitment:thanks", slug=study.slug)
    response.set_signed_cookie(
        "bench_floor_seq",
        str(numbered.last_screening_seq),
        salt="bench.floor",
        max_age=30 * 60,
        httponly=True,
        samesite="Lax",
    )
    return response
