"""The allocation pages under /staff/allocation/<study>/: the sealed list (the unblinded
statistician's), a participant's stratum (staff), an emergency unblinding (an investigator's)
and the list of unblindings (investigators and the statistician). Thin: a form, one service."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.access import staff_required, study_for_staff
from recruitment.allocation import access, selectors, services
from recruitment.allocation.forms import AllocationUploadForm, StratumForm, UnblindForm
from recruitment.errors import RecruitmentError
from recruitment.models import Participant


def _participant(study, pk) -> Participant:
    return get_object_or_404(Participant.objects.select_related("study"), pk=pk, study=study)


@staff_required
def allocation_list(request, slug):
    """Upload the sealed list, and see what is left of it, by stratum and arm."""
    study = study_for_staff(request, slug)
    if not access.may_manage_allocation(request.user, study):
        raise PermissionDenied
    form = AllocationUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.allocation_list_upload(
                study=study,
                content=upload.read(),
                filename=upload.name,
                arms=form.cleaned_data["arms"],
                strata=form.cleaned_data["strata"],
                by=request.user,
            )
        except services.AllocationFileInvalid as exc:
            errors = exc.errors
            form.add_error("file", _("The file was not stored: correct the errors listed."))
        except RecruitmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The allocation list is stored."))
            return redirect("allocation:list", slug=study.slug)
    current = selectors.allocation_list_get(study=study)
    if current is not None and not form.is_bound:
        form = AllocationUploadForm(
            initial={"arms": ", ".join(current.arms), "strata": ", ".join(current.strata)}
        )
    remaining = selectors.remaining_by_study(study_ids=[study.pk], by_arm=True).get(study.pk, [])
    return render(
        request,
        "recruitment/staff/allocation_list.html",
        {
            "study": study,
            "form": form,
            "file_errors": errors,
            "current": current,
            "remaining": remaining,
            "unused_total": sum(r.unused for r in remaining),
            "used_total": sum(r.used for r in remaining),
        },
    )


@staff_required
def stratum(request, slug, pk):
    """Set the stratum of a participant before enrollment (staff who work on participants)."""
    study = study_for_staff(request, slug)
    if not (
        request.user.has_perm("recruitment.change_participant")
        and access.is_member(request.user, study)
    ):
        raise PermissionDenied
    participant = _participant(study, pk)
    current = selectors.allocation_list_get(study=study)
    strata = current.strata if current else []
    form = StratumForm(
        request.POST or None,
        strata=strata,
        initial={"stratum": selectors.stratum_get(participant=participant)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.participant_stratum_set(
                participant=participant, stratum=form.cleaned_data["stratum"], by=request.user
            )
        except RecruitmentError as exc:
            form.add_error("stratum", str(exc))
        else:
            messages.success(
                request,
                _("The stratum of %(number)s is set.") % {"number": participant.screening_number},
            )
            return redirect("admin:recruitment_participant_change", participant.pk)
    return render(
        request,
        "recruitment/staff/allocation_stratum.html",
        {"study": study, "participant": participant, "form": form, "strata": strata},
    )


@staff_required
def unblind(request, slug, pk):
    """Unblind one participant in an emergency: a reason, then the arm on this page only
    (never in a URL, a message stored in the session, a log line or an email)."""
    study = study_for_staff(request, slug)
    if not access.may_unblind(request.user, study):
        raise PermissionDenied
    participant = _participant(study, pk)
    form = UnblindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unblinding, row = services.participant_unblind(
                participant=participant,
                by=request.user,
                reason=form.cleaned_data["reason"],
                site_url=request.build_absolute_uri("/"),
            )
        except RecruitmentError as exc:
            form.add_error("reason", str(exc))
        else:
            return render(
                request,
                "recruitment/staff/allocation_unblinded.html",
                {
                    "study": study,
                    "participant": participant,
                    "unblinding": unblinding,
                    "arm": row.arm,
                    "pack_code": row.pack_code,
                    "report_url": reverse("allocation:unblindings", kwargs={"slug": study.slug}),
                },
            )
    return render(
        request,
        "recruitment/staff/allocation_unblind.html",
        {
            "study": study,
            "participant": participant,
            "form": form,
            "pack_code": selectors.pack_code_get(participant=participant),
        },
    )


@staff_required
def unblindings(request, slug):
    """Every emergency unblinding of the study: who, when, why; never the arm."""
    study = study_for_staff(request, slug)
    if not access.may_view_unblindings(request.user, study):
        raise PermissionDenied
    return render(
        request,
        "recruitment/staff/allocation_unblindings.html",
        {"study": study, "unblindings": selectors.unblinding_list(study=study)},
    )
