"""The center's public form at /center/interest/ and its thank-you page. Views translate HTTP;
the service does the work. The form follows the interest form's rules: every answer kept on
an error, the errors listed at the top and linked to their fields, no JavaScript needed, the
same rate limit per client IP, and a bot answered like a person with nothing saved."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.access import staff_required
from accounts.client_ip import interest_rate, ratelimit_key
from recruitment.center import selectors
from recruitment.center.forms import CenterInterestForm
from recruitment.center.services import center_interest_submit
from recruitment.models import SharedQuestion, Study

VIEW_PARTICIPANT = "recruitment.view_participant"
VIEW_MATCHES = "recruitment.view_registrymatch"
VIEW_REGISTRY_PEOPLE = "recruitment.view_registry_people"


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
    """The center's registry at /staff/registry/: how many people are in it and, for each of
    the viewer's recruiting studies, its matches in the same groups and order as the study's
    own page (`recruitment.registry.selectors`), by number, never by name.

    The center's coordinators (`view_registry_people`) also see who the members are, with
    their matches to every recruiting study: they answer the people who signed up at the
    center's front door. A study's team never sees a name here."""
    people_allowed = request.user.has_perm(VIEW_REGISTRY_PEOPLE)
    if not (people_allowed or request.user.has_perm(VIEW_PARTICIPANT)):
        raise PermissionDenied
    if people_allowed:
        studies = list(Study.objects.recruiting().order_by("title"))
    else:
        studies = selectors.registry_studies(user=request.user)
        if not studies:
            raise PermissionDenied
    people = None
    if people_allowed:
        people = selectors.registry_people_page(studies=studies, page=request.GET.get("page", 1))
    return render(
        request,
        "recruitment/staff/registry.html",
        {
            "members": selectors.registry_member_count(),
            "studies": selectors.registry_study_matches(studies=studies, now=timezone.now()),
            # The study's page (to invite) is its team's; the center's staff answer people.
            "may_see_matches": request.user.has_perm(VIEW_MATCHES) and not people_allowed,
            "first_per_study": selectors.FIRST_PER_STUDY,
            "people": people,
        },
    )
