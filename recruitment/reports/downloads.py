"""Exports for sponsors, the IRB and data managers: staff of the study only, never cached.

The screening log and the FHIR bundle need `recruitment.view_participant` (the bundle holds
Patient resources only for users who also have `recruitment.view_identification`); the
identification list needs `recruitment.view_identification`. Arms are in no export but the
FHIR bundle of the study's unblinded statistician (`ResearchSubject.assignedArm`).
"""

import json

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from accounts.access import staff_required, study_for_staff
from recruitment.allocation import access as allocation_access
from recruitment.reports import exports

VIEW_PARTICIPANT = "recruitment.view_participant"
VIEW_IDENTIFICATION = "recruitment.view_identification"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_response(study, name: str, header, rows) -> StreamingHttpResponse:
    """The CSV streamed as its rows are read: a worker's memory stays flat for any study."""
    filename = exports.export_filename(
        study=study, name=name, extension="csv", today=timezone.localdate()
    )
    response = StreamingHttpResponse(
        exports.csv_stream(header, rows), content_type="text/csv; charset=utf-8"
    )
    return _attachment(response, filename)


@staff_required
def screening_log_csv(request, slug):
    study = study_for_staff(request, slug)
    _require(request, VIEW_PARTICIPANT)
    rows = exports.screening_log_iter(
        study=study, include_free_text=request.user.has_perm(VIEW_IDENTIFICATION)
    )
    return _csv_response(study, "screening-log", exports.SCREENING_LOG_HEADER, rows)


@staff_required
def identification_list_csv(request, slug):
    study = study_for_staff(request, slug)
    _require(request, VIEW_IDENTIFICATION)
    rows = exports.identification_list_iter(study=study)
    return _csv_response(study, "identification-list", exports.IDENTIFICATION_LIST_HEADER, rows)


@staff_required
def fhir_bundle(request, slug):
    study = study_for_staff(request, slug)
    # The unblinded statistician (no participant pages) gets the bundle with its arms.
    include_arm = allocation_access.may_manage_allocation(request.user, study)
    if not include_arm:
        _require(request, VIEW_PARTICIPANT)
    now = timezone.now()
    bundle = exports.fhir_bundle(
        study=study,
        base_url=request.build_absolute_uri("/"),
        include_identification=request.user.has_perm(VIEW_IDENTIFICATION),
        include_arm=include_arm,
        now=now,
    )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        content_type=exports.FHIR_CONTENT_TYPE,
    )
    filename = exports.export_filename(
        study=study, name="fhir-bundle", extension="json", today=timezone.localdate(now)
    )
    return _attachment(response, filename)
