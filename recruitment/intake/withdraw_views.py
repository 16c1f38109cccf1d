"""A patient withdraws their interest through the signed link in their confirmation email.

The pages show the study and the screening number, never a name or contact detail. The view
never raises: a bad, expired or used link is a friendly page, so the token (a credential
until it is used) is never in a logged traceback or error line.
"""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from recruitment.intake import withdraw as withdraw_link
from recruitment.intake.withdraw import WithdrawState

logger = logging.getLogger(__name__)

TEMPLATES = {
    WithdrawState.OPEN: "recruitment/withdraw_confirm.html",
    WithdrawState.WITHDRAWN: "recruitment/withdraw_done.html",
    WithdrawState.ENROLLED: "recruitment/withdraw_enrolled.html",
    WithdrawState.ALREADY_DONE: "recruitment/withdraw_already_done.html",
    WithdrawState.INVALID: "recruitment/withdraw_invalid.html",
    WithdrawState.REGISTRY_LEFT: "recruitment/registry_left.html",
}
# The name of the withdraw page's second button: leave the registry, keep the application.
LEAVE_REGISTRY = "leave_registry"
# Every link that does not work gets the same page and status, whatever the reason.
INVALID_STATUS = 404


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "Do you want to stop taking part?"; POST (with the CSRF token) does it, or,
    with the second button, only stops contacts about other studies (the registry)."""
    try:
        if request.method == "POST" and LEAVE_REGISTRY in request.POST:
            link = withdraw_link.registry_leave_by_withdraw_link(token=token)
        elif request.method == "POST":
            link = withdraw_link.participant_withdraw_by_link(
                token=token, site_url=request.build_absolute_uri("/")
            )
        else:
            link = withdraw_link.withdraw_link_check(token=token)
        participant = link.participant
        context = {"participant": participant, "study": participant.study if participant else None}
        response = render(
            request,
            TEMPLATES[link.state],
            context,
            status=INVALID_STATUS if link.state == WithdrawState.INVALID else 200,
        )
    except Exception as exc:  # noqa: BLE001 - never a 500 whose log line holds the token
        logger.error("Withdraw link failed: %s", type(exc).__name__)
        response = render(request, "recruitment/withdraw_error.html", status=503)
    # The URL holds the token: no request from this page may carry it as a referrer (only the
    # origin). Not "no-referrer": with it, Chromium posts the button's form with "Origin: null"
    # and Django's CSRF check refuses the withdrawal (tests/browser/test_accessibility.py).
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
