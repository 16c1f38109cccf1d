"""Exports (placeholder until the exports land in this change)."""

from django.http import Http404

from recruitment.staff_access import staff_required


@staff_required
def screening_log_csv(request, slug):
    raise Http404


@staff_required
def identification_list_csv(request, slug):
    raise Http404


@staff_required
def fhir_bundle(request, slug):
    raise Http404
