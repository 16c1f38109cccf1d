"""A patient withdraws interest through a signed link (placeholder until it lands)."""

from django.http import Http404


def withdraw(request, token):
    raise Http404
