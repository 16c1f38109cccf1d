"""The visits page at /staff/visits/: each study's visits today and this week."""

from django.shortcuts import render
from django.utils import timezone

from accounts.access import staff_required
from recruitment.identification import can_identify
from recruitment.visits.selectors import visit_week_list, week_of


@staff_required
def visits(request):
    """Today's visits and the rest of this week's (Monday to Sunday), per study the user works
    on; names only for staff who may see identities, screening numbers always. A visit booked
    outside its window says so, with the window."""
    today = timezone.localdate()
    identify = can_identify(request.user)
    monday, sunday = week_of(today)
    return render(
        request,
        "recruitment/staff/visits.html",
        {
            "today": today,
            "monday": monday,
            "sunday": sunday,
            "studies": visit_week_list(user=request.user, today=today, identify=identify),
            "may_see_identities": identify,
        },
    )
