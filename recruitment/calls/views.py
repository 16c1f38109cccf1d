"""The call list page at /staff/calls/: the coordinators' landing page after sign-in."""

from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import staff_required
from recruitment.calls.selectors import call_list
from recruitment.identification import can_identify


@staff_required
def calls(request):
    """Who to contact now, per study the user works on. Names and phone numbers only for
    staff who may see identities; the "Log a call" button only for those who may log one."""
    today = timezone.localdate()
    identify = can_identify(request.user)
    return render(
        request,
        "recruitment/staff/calls.html",
        {
            "today": today,
            "studies": call_list(user=request.user, today=today, identify=identify),
            "may_see_identities": identify,
            "may_log_calls": may_log_calls(request.user),
        },
    )


@staff_required
def start(request):
    """Where signing in lands: the call list for staff who contact participants, the admin's
    index for the others (monitors, administrators without a study role)."""
    if may_log_calls(request.user):
        return redirect("staff:calls")
    return redirect("admin:index")


def may_log_calls(user) -> bool:
    return user.has_perm("recruitment.add_contactattempt") and user.has_perm(
        "recruitment.change_participant"
    )
