"""The amendment pages under /staff/studies/<slug>/amendments/: the drafts of the study's
criteria, each draft's edit form and what-if, publishing, and the what-if's CSV for the IRB.
Investigators only (`recruitment.change_eligibilitycriterion`), of their own studies."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import staff_required, study_for_staff
from recruitment.amendments import runs, services, whatif
from recruitment.amendments.forms import DraftEditForm, DraftStartForm
from recruitment.models import CriteriaDraft, WhatIfState
from recruitment.reports import exports

AMEND_CRITERIA = "recruitment.change_eligibilitycriterion"


def _study(request, slug):
    study = study_for_staff(request, slug)
    if not request.user.has_perm(AMEND_CRITERIA):
        raise PermissionDenied
    return study


@staff_required
@require_http_methods(["GET", "POST"])
def amendments(request, slug):
    """The study's drafts, newest first, and a form to start one from the criteria in use."""
    study = _study(request, slug)
    form = DraftStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        draft = services.criteria_draft_create(
            study=study, by=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, _("Draft started from the criteria in use."))
        return redirect("staff:amendment", slug=study.slug, pk=draft.pk)
    drafts = study.criteria_drafts.select_related("created_by", "published_by")
    return render(
        request,
        "recruitment/staff/amendments.html",
        {"study": study, "drafts": drafts, "form": form},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def amendment(request, slug, pk):
    """A draft: its what-if, its criteria to edit (until published) and the publish button."""
    study = _study(request, slug)
    draft = get_object_or_404(CriteriaDraft, study=study, pk=pk)
    form = DraftEditForm(
        request.POST if request.method == "POST" and "save" in request.POST else None,
        criteria=draft.criteria,
        note=draft.note,
    )
    if request.method == "POST" and "recompute" in request.POST and not draft.is_published:
        runs.whatif_run_forget(draft=draft, today=timezone.localdate())
        return redirect("staff:amendment", slug=study.slug, pk=draft.pk)
    if request.method == "POST":
        try:
            if "publish" in request.POST:
                draft = services.criteria_draft_publish(draft=draft, by=request.user)
                messages.success(
                    request,
                    _("Published: the study's criteria are now version {version}.").format(
                        version=draft.published_version
                    ),
                )
                return redirect("staff:amendment", slug=study.slug, pk=draft.pk)
            if form.is_valid():
                criteria = form.drafted_criteria()
                try:
                    services.criteria_draft_update(
                        draft=draft,
                        by=request.user,
                        criteria=criteria,
                        note=form.cleaned_data["note"],
                    )
                except services.CriteriaDraftError as exc:
                    if not exc.problems:
                        raise
                    form.add_problems(exc.problems, criteria)
                else:
                    messages.success(request, _("Draft saved. The what-if below uses it."))
                    return redirect("staff:amendment", slug=study.slug, pk=draft.pk)
        except services.CriteriaDraftError as exc:
            messages.error(request, str(exc))
            if "publish" in request.POST:
                return redirect("staff:amendment", slug=study.slug, pk=draft.pk)
            form.add_error(None, str(exc))
    today = timezone.localdate()
    result, run = _whatif(request, draft, today)
    return render(
        request,
        "recruitment/staff/amendment.html",
        {
            "study": study,
            "draft": draft,
            "form": form,
            "stale": not draft.is_published and draft.base_version != study.criteria_version,
            "whatif": result,
            "run": run,
            "today": today,
        },
    )


def _whatif(request, draft, today):
    """The draft's what-if: on the page for a small study; for a big one, the background
    run's result once done (asking for the run if there is none for today's inputs)."""
    if draft.is_published:
        return None, None
    if not runs.whatif_runs_in_background(draft=draft):
        return whatif.whatif_summarise(draft=draft, today=today), None
    run = runs.whatif_run_request(draft=draft, by=request.user, today=today)
    if run.state != WhatIfState.DONE:
        return None, run
    return runs.whatif_from_json(run.summary), run


@staff_required
@require_http_methods(["GET"])
def whatif_csv(request, slug, pk):
    """The what-if, one de-identified row per person (a random id): streamed for a small
    study, the background run's for a big one (not found until it is done)."""
    study = _study(request, slug)
    draft = get_object_or_404(CriteriaDraft, study=study, pk=pk)
    today = timezone.localdate()
    filename = exports.export_filename(
        study=study, name=f"criteria-draft-{draft.pk}-what-if", extension="csv", today=today
    )
    if runs.whatif_runs_in_background(draft=draft):
        run = runs.whatif_run_current(draft=draft, today=today)
        if run is None or run.state != WhatIfState.DONE:
            raise Http404
        response = HttpResponse(
            runs.whatif_run_csv(run=run), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    response = StreamingHttpResponse(
        exports.csv_stream(
            whatif.whatif_header(draft=draft), whatif.whatif_rows(draft=draft, today=today)
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
