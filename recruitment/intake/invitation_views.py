"""The pages behind a registry invitation's two links (`/registry/invitation/<token>/`).

"No, thanks" asks to confirm (GET is safe: mail scanners open links), then thanks the person.
"Yes" shows the study, the shared answers carried over and only the study's new questions,
with its consent to contact; sending it makes the person an applicant and ends on the
interest form's thank-you page. The pages name the study, never the person. The view never
raises: a bad, expired or used link is a friendly page, so the token is never in a logged
traceback."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from recruitment.errors import StudyNotRecruiting
from recruitment.intake import invitation as invitations
from recruitment.intake.invitation import InvitationState, carried_answers
from recruitment.intake.invitation_forms import InvitationApplyForm, answer_in_words
from recruitment.intake.views import thanks_redirect
from recruitment.links import INVITATION_NO
from recruitment.models import EligibilityCriterion

logger = logging.getLogger(__name__)

INVALID_STATUS = 404


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def registry_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        response = _invitation_page(request, token)
    except Exception as exc:  # noqa: BLE001 - never a 500 whose log line holds the token
        logger.error("Invitation link failed: %s", type(exc).__name__)
        response = render(request, "recruitment/registry/invitation_error.html", status=503)
    # The URL holds the token: no request from these pages may carry it as a referrer.
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    link = invitations.invitation_link_check(token=token)
    if link.state == InvitationState.INVALID:
        return _invalid(request)
    study = link.study
    person = link.invitation.match.person
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        # The language of the email, unless the person chose another on the site.
        translation.activate(person.language)
        request.LANGUAGE_CODE = translation.get_language()
    if link.response == INVITATION_NO:
        if request.method == "POST":
            link = invitations.invitation_decline(token=token)
            if link.state == InvitationState.INVALID:
                return _invalid(request)
            return render(
                request, "recruitment/registry/invitation_declined.html", {"study": study}
            )
        return render(request, "recruitment/registry/invitation_decline.html", {"study": study})
    # "Yes": the study's questions that the person's shared answers do not cover.
    criteria = list(EligibilityCriterion.objects.filter(study_id=study.pk).active())
    carried = carried_answers(person=person, criteria=criteria)
    carried_ids = {answer.criterion.pk for answer in carried}
    new = [c for c in criteria if c.pk not in carried_ids]
    form = InvitationApplyForm(
        request.POST if request.method == "POST" else None, study=study, criteria=new
    )
    if request.method == "POST" and form.is_valid():
        try:
            link = invitations.invitation_accept(
                token=token,
                answers=form.answers(),
                contact_consent=form.cleaned_data["contact_consent"],
                site_url=request.build_absolute_uri("/"),
            )
        except StudyNotRecruiting:
            return render(request, "recruitment/closed.html", {"study": study})
        if link.state == InvitationState.INVALID:
            return _invalid(request)
        return thanks_redirect(study, token=link.participant.submission_token)
    context = {
        "study": study,
        "form": form,
        "carried": [
            {
                "question": answer.criterion.text.question,
                "answer": answer_in_words(answer.criterion, answer.value),
                "answered_on": answer.answered_on,
            }
            for answer in carried
        ],
        "language": translation.get_language(),
    }
    return render(request, "recruitment/registry/invitation_apply.html", context)


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "recruitment/registry/invitation_invalid.html", status=INVALID_STATUS)
