"""A person leaves the registry (no more contacts about other studies) through the signed
link in the footer of the patient emails sent to registry members.

The pages show no name or contact detail. The view never raises: a bad, expired or used link
is a friendly page, so the token (a credential until it is used) is never in a logged
traceback or error line.
"""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from recruitment.people import (
    RegistryLinkState,
    person_registry_leave_by_link,
    registry_link_check,
)

logger = logging.getLogger(__name__)

TEMPLATES = {
    RegistryLinkState.OPEN: "recruitment/registry_leave_confirm.html",
    RegistryLinkState.LEFT: "recruitment/registry_left.html",
    RegistryLinkState.INVALID: "recruitment/registry_leave_invalid.html",
}
INVALID_STATUS = 404


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def registry_leave(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "Stop contacting me about other studies?"; POST (with the CSRF token) does it."""
    try:
        if request.method == "POST":
            link = person_registry_leave_by_link(token=token)
        else:
            link = registry_link_check(token=token)
        response = render(
            request,
            TEMPLATES[link.state],
            {},
            status=INVALID_STATUS if link.state == RegistryLinkState.INVALID else 200,
        )
    except Exception as exc:  # noqa: BLE001 - never a 500 whose log line holds the token
        logger.error("Registry link failed: %s", type(exc).__name__)
        response = render(request, "recruitment/withdraw_error.html", status=503)
    # The URL holds the token: no request from this page may carry it as a referrer.
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
