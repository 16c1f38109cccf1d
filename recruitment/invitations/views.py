"""The study's registry matches at /staff/registry/<slug>/matches/, and the "Invite" button."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.access import staff_required, study_for_staff
from recruitment.invitations.services import INVITED, InvitationRefused, registry_invitation_send
from recruitment.models import RegistryMatch
from recruitment.registry.selectors import (
    criterion_titles,
    match_label,
    registry_match_groups,
    registry_match_list,
    registry_match_rows,
)

VIEW_MATCHES = "recruitment.view_registrymatch"
INVITE = "recruitment.add_registryinvitation"
PER_PAGE = 50


@staff_required
def registry_matches(request, slug):
    """The study's matches in their groups (`recruitment.registry.selectors`); identities
    only once a person applies."""
    study = study_for_staff(request, slug)
    if not request.user.has_perm(VIEW_MATCHES):
        raise PermissionDenied
    page = Paginator(registry_match_list(study=study), PER_PAGE).get_page(request.GET.get("page"))
    rows = registry_match_rows(
        matches=page.object_list, titles=criterion_titles(studies=[study]), now=timezone.now()
    )
    return render(
        request,
        "recruitment/staff/registry_matches.html",
        {
            "study": study,
            "page": page,
            "groups": registry_match_groups(rows),
            "may_invite": request.user.has_perm(INVITE),
        },
    )


@staff_required
def registry_match_invite(request, slug, number):
    """Invite one match's person (POST); a refusal says why, next to the list. Who may see
    the study is checked before the method, so staff of another study learn nothing."""
    study = study_for_staff(request, slug)
    if not request.user.has_perm(INVITE):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    match = get_object_or_404(
        RegistryMatch.objects.select_related("study"), study=study, number=number
    )
    try:
        registry_invitation_send(
            match=match, by=request.user, site_url=request.build_absolute_uri("/")
        )
    except InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, INVITED % {"match": match_label(match)})
    url = reverse("staff:registry_matches", args=[study.slug])
    page = request.POST.get("page", "")
    if page.isdigit():
        url = f"{url}?page={page}"
    return redirect(f"{url}#match-{match.number}")
