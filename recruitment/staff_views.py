"""Staff pages (placeholder until the dashboard lands in this change)."""

from django.http import Http404

from recruitment.staff_access import staff_required


@staff_required
def dashboard(request):
    raise Http404
