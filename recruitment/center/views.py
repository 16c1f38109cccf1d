"""The center's public form at /center/interest/ and its thank-you page. Views translate HTTP;
the service does the work. The form follows the interest form's rules: every answer kept on
an error, the errors listed at the top and linked to their fields, no JavaScript needed, the
same rate limit per client IP, and a bot answered like a person with nothing saved."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.access import staff_required
from accounts.client_ip import interest_rate, ratelimit_key
from recruitment.center import selectors
from recruitment.center.forms import CenterInterestForm
from recruitment.center.services import center_interest_submit
from recruitment.models import SharedQuestion

VIEW_PARTICIPANT = "recruitment.view_participant"
VIEW_IDENTIFICATION = "recruitment.view_identification"


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="center-interest-form", key=ratelimit_key, rate=interest_rate, method="POST", block=False
)
def center_interest(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return render(request, "429.html", {}, status=429)
    questions = list(SharedQuestion.objects.order_by("pk"))
    form = CenterInterestForm(
        request.POST if request.method == "POST" else None, questions=questions
    )
    if request.method == "POST" and form.is_valid() and not form.is_expired:
        if not form.is_spam:
            center_interest_submit(
                contact=form.contact_details(),
                answers=form.answers(),
                language=translation.get_language() or "en",
            )
        return redirect("center:thanks")
    context = {"form": form}
    if request.method == "POST" and form.is_valid() and form.is_expired:
        context["form_expired"] = True
    return render(request, "recruitment/center/interest.html", context)


@require_GET
def center_thanks(request: HttpRequest) -> HttpResponse:
    """The same page for everyone: no verdict, no detail of what was sent."""
    return render(request, "recruitment/center/thanks.html")


@staff_required
@require_GET
def registry_queue(request: HttpRequest) -> HttpResponse:
    """The center's registry at /staff/registry/: every member with their matches to the
    viewer's recruiting studies (match number, outcome, state). Names and emails only for
    staff who may see identities; the others see each person's number."""
    if not request.user.has_perm(VIEW_PARTICIPANT):
        raise PermissionDenied
    studies = selectors.registry_studies(user=request.user)
    if not studies:
        raise PermissionDenied
    page = selectors.registry_person_list(studies=studies, page=request.GET.get("page", 1))
    return render(
        request,
        "recruitment/staff/registry.html",
        {
            "page": page,
            "studies": studies,
            "may_see_identities": request.user.has_perm(VIEW_IDENTIFICATION),
        },
    )
