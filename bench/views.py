"""The yardsticks: what the bare stack costs on this machine, measured in the same run."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from bench.models import BenchRow


def yardstick(request):
    """A minimal Django view: the ceiling for any page of the app."""
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def insert(request):
    """One INSERT into PostgreSQL per request: the ceiling for any page that writes."""
    BenchRow.objects.create(note="bench")
    return HttpResponse("ok", content_type="text/plain")
