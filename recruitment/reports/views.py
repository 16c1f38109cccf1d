"""Staff pages: the dashboard at /staff/ (the exports are in `recruitment.reports.downloads`)."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import staff_required
from recruitment.reports import charts
from recruitment.reports.dashboard import StudyDashboard, dashboard_list


@staff_required
def dashboard(request):
    """Progress, funnel, CONSORT box, weekly chart and work lists of the user's studies."""
    today = timezone.localdate()
    boards = dashboard_list(user=request.user, today=today)
    studies = [_study_context(d) for d in boards]
    # The counts over every participant are counted for all the studies at once.
    stale = next((d for d in boards if d.counts_stale), None)
    return render(
        request,
        "recruitment/staff/dashboard.html",
        {
            "today": today,
            "studies": studies,
            "counts_stale_since": stale.counted_at if stale else None,
            "may_see_identities": request.user.has_perm("recruitment.view_identification"),
        },
    )


def _study_context(d: StudyDashboard) -> dict:
    slug = d.study.slug
    funnel_peak = max((item.count for item in d.funnel), default=0)
    referral_peak = max((item.count for item in d.referral_sources), default=0)
    failure_peak = max((item.count for item in d.screen_failures), default=0)
    return {
        "d": d,
        "consort_svg": charts.consort_svg(
            d.consort,
            svg_id=f"consort-{slug}",
            title=_("CONSORT enrollment box: {study}").format(study=d.study.short_title),
        ),
        "weekly_svg": charts.weekly_svg(
            d.weeks,
            svg_id=f"weekly-{slug}",
            title=_("Applications and enrollments per week: {study}").format(
                study=d.study.short_title
            ),
        ),
        "funnel_rows": [(item, charts.bar(item.count, funnel_peak)) for item in d.funnel],
        "referral_rows": [
            (item, charts.bar(item.count, referral_peak)) for item in d.referral_sources
        ],
        "failure_rows": [
            (item, charts.bar(item.count, failure_peak)) for item in d.screen_failures
        ],
    }
