"""Server-rendered SVG for the staff dashboard: no JavaScript, no third-party request.

Each chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>` (which states
the numbers in words); the page puts a data table with the same numbers next to it. Text
and lines use `currentColor`, so the drawings follow the page's text colour.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from recruitment.reports.consort import ConsortCounts, LabelledCount
from recruitment.reports.progress import WeekCount

APPLICATIONS_COLOUR = "#0b5ed7"  # blue, 5.2:1 on white
ENROLMENTS_COLOUR = "#a04a00"  # dark orange, 6:1 on white; tells apart from blue in all
# common colour-vision deficiencies
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _svg(*, svg_id: str, width: int, height: int, title: str, desc: str, body: list[str]):
    return mark_safe(  # noqa: S308 - every text part below goes through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(svg_id)}" class="chart" '
        f'role="img" aria-labelledby="{escape(svg_id)}-title" '
        f'aria-describedby="{escape(svg_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width: {width}px" font-family="{escape(FONT)}" fill="currentColor">'
        f'<title id="{escape(svg_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(svg_id)}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, size=13, weight="normal", anchor="start", **attrs):
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x:g}" y="{y:g}" font-size="{size}" font-weight="{weight}" '
        f'text-anchor="{anchor}"{extra}>{escape(text)}</text>'
    )


# ---------------------------------------------------------------------------------------------
# The CONSORT enrolment box
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Line:
    text: str
    level: int = 0  # 0: the box heading, 1: a bucket, 2: a detail
    suffix: str = ""  # the count, never shortened


LINE_HEIGHT = 19
PAD = 10
INDENT = (0, 10, 24)
# Average glyph width in px, with a margin over DejaVu Sans (the widest common system-ui
# fallback, about 7.6, 7.4 and 6.3): bold 14px headings, semibold and normal 13px lines.
GLYPH = (8.2, 7.8, 6.8)
CONSORT_DETAILS = 5  # criteria or reasons listed per bucket in the drawing (the table has all)


def _box(x: int, y: int, width: int, lines: Sequence[_Line]) -> tuple[str, int]:
    """A box of lines, each wrapped at word boundaries to the box's width (never cut short:
    a criterion's label is read whole), its count kept with its last word."""
    rows = []  # (level, text)
    for line in lines:
        chars = int((width - 2 * PAD - INDENT[line.level]) / GLYPH[line.level])
        text = f"{line.text}{line.suffix.replace(' ', NBSP)}"
        rows += [(line.level, row.replace(NBSP, " ")) for row in _wrap(text, chars)]
    height = PAD * 2 + LINE_HEIGHT * len(rows) - 4
    parts = [
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4" fill="none" '
        f'stroke="currentColor" stroke-width="1.5"/>'
    ]
    for i, (level, text) in enumerate(rows):
        size, weight = ((14, "bold"), (13, "600"), (13, "normal"))[level]
        parts.append(
            _text(
                x + PAD + INDENT[level],
                y + PAD + 14 + i * LINE_HEIGHT,
                text,
                size=size,
                weight=weight,
            )
        )
    return "".join(parts), height


NBSP = "\u00a0"


def _wrap(text: str, chars: int) -> list[str]:
    """Rows of at most `chars` characters, broken at spaces (a no-break space holds a count
    to its word); a word longer than a row is broken where it must be."""
    rows: list[str] = []
    current = ""
    for word in str(text).split(" "):
        while len(word) > chars:
            if current:
                rows.append(current)
                current = ""
            rows.append(word[:chars])
            word = word[chars:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= chars:
            current = candidate
        else:
            rows.append(current)
            current = word
    rows.append(current)
    return rows


def _n(label: str, n: int, level: int) -> _Line:
    """A box heading or bucket, as CONSORT writes it: "Excluded (n=12)"."""
    return _Line(label, level, f" (n={n})")


def _details(items: Sequence[LabelledCount], *, more: str) -> list[_Line]:
    lines = [_Line(item.label, 2, f" ({item.count})") for item in items[:CONSORT_DETAILS]]
    rest = items[CONSORT_DETAILS:]
    if rest:
        lines.append(_Line(more.format(n=len(rest)), 2, f" ({sum(i.count for i in rest)})"))
    return lines


def _arrow(x1, y1, x2, y2, *, marker: str) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="currentColor" '
        f'stroke-width="1.5" marker-end="url(#{marker})"/>'
    )


def consort_svg(consort: ConsortCounts, *, svg_id: str, title: str) -> SafeString:
    """The CONSORT 2010 enrolment box: assessed at the top, excluded to the right, still in
    screening to the left, enrolled at the bottom."""
    c = consort
    width, side_w, centre_w, right_w = 960, 250, 280, 380
    left_x, centre_x, right_x = 10, 275, 570
    mid = centre_x + centre_w // 2

    assessed = [_n(_("Assessed for eligibility"), c.assessed, 0)]
    excluded = [_n(_("Excluded"), c.excluded, 0)]
    excluded.append(_n(_("Not meeting criteria"), c.not_meeting_criteria, 1))
    failures = list(c.not_meeting_by_criterion)
    if c.not_meeting_no_criterion:
        failures.append(LabelledCount(_("no criterion marked not met"), c.not_meeting_no_criterion))
    excluded += _details(failures, more=_("… {n} more criteria"))
    excluded.append(_n(_("Excluded after lab values"), c.excluded_after_labs, 1))
    excluded += _details(c.excluded_after_labs_by_criterion, more=_("… {n} more criteria"))
    excluded.append(_n(_("Excluded after the run-in"), c.excluded_after_run_in, 1))
    excluded.append(_n(_("Declined"), c.declined, 1))
    excluded += _details(c.declined_by_reason, more=_("… {n} more reasons"))
    excluded.append(_n(_("Other reasons"), c.other, 1))
    excluded += _details(c.other_by_reason, more=_("… {n} more reasons"))
    waiting = [_n(_("Still in screening"), c.in_progress, 0)]
    waiting += [_Line(item.label, 2, f" ({item.count})") for item in c.in_progress_by_status]
    enrolled = [
        _n(_("Enrolled"), c.enrolled, 0),
        _Line(_("On study"), 2, f" ({c.on_study})"),
        _Line(_("Completed"), 2, f" ({c.completed})"),
        _Line(_("Withdrawn"), 2, f" ({c.withdrawn})"),
    ]

    top = 10
    box_assessed, h_assessed = _box(centre_x, top, centre_w, assessed)
    side_top = top + h_assessed + 40
    box_excluded, h_excluded = _box(right_x, side_top, right_w, excluded)
    box_waiting, h_waiting = _box(left_x, side_top, side_w, waiting)
    enrolled_top = side_top + max(h_excluded, h_waiting) + 40
    box_enrolled, h_enrolled = _box(centre_x, enrolled_top, centre_w, enrolled)
    height = enrolled_top + h_enrolled + 10
    branch_y = side_top + PAD + 9

    marker = f"{escape(svg_id)}-arrow"
    body = [
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="currentColor"/></marker></defs>',
        box_assessed,
        box_excluded,
        box_waiting,
        box_enrolled,
        # The main flow, and a branch to each side box.
        _arrow(mid, top + h_assessed, mid, enrolled_top, marker=marker),
        _arrow(mid, branch_y, right_x, branch_y, marker=marker),
        _arrow(mid, branch_y, left_x + side_w, branch_y, marker=marker),
    ]
    desc = _(
        "{assessed} assessed for eligibility; {excluded} excluded ({not_meeting} not meeting "
        "criteria, {after_labs} after lab values, {after_run_in} after the run-in, {declined} "
        "declined, {other} for other reasons); {in_progress} still in screening; {enrolled} "
        "enrolled."
    ).format(
        assessed=c.assessed,
        excluded=c.excluded,
        not_meeting=c.not_meeting_criteria,
        after_labs=c.excluded_after_labs,
        after_run_in=c.excluded_after_run_in,
        declined=c.declined,
        other=c.other,
        in_progress=c.in_progress,
        enrolled=c.enrolled,
    )
    return _svg(svg_id=svg_id, width=width, height=height, title=title, desc=desc, body=body)


# ---------------------------------------------------------------------------------------------
# Applications and enrolments per week
# ---------------------------------------------------------------------------------------------
def nice_ceiling(value: int, *, ticks: int = 4) -> tuple[int, int]:
    """An axis maximum and step (1, 2 or 5 times a power of ten) with about `ticks` steps."""
    if value <= 0:
        return ticks, 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * ticks >= value:
                step *= factor
                return step * -(-value // step), step
        step *= 10


def weekly_svg(weeks: Sequence[WeekCount], *, svg_id: str, title: str) -> SafeString:
    """Grouped bars per ISO week: applications and enrolments, with a legend and value labels."""
    width, height = 760, 290
    left, right, top, bottom = 44, 10, 44, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([max(w.applications, w.enrolments) for w in weeks] + [0])
    y_max, step = nice_ceiling(peak)

    def y(value):
        return top + plot_h - plot_h * value / y_max

    body = []
    for tick in range(0, y_max + 1, step):
        body.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" '
            f'stroke="currentColor" stroke-opacity="{0.6 if tick == 0 else 0.18}"/>'
        )
        body.append(_text(left - 6, y(tick) + 4, str(tick), size=12, anchor="end"))
    legend = [(APPLICATIONS_COLOUR, _("Applications")), (ENROLMENTS_COLOUR, _("Enrollments"))]
    x = left
    for colour, label in legend:
        body.append(f'<rect x="{x}" y="12" width="14" height="14" fill="{colour}"/>')
        body.append(_text(x + 20, 24, label, size=13))
        x += 30 + 8 * len(label)

    group = plot_w / max(len(weeks), 1)
    bar = min(22, group * 0.36)
    for i, week in enumerate(weeks):
        gx = left + group * i + (group - 2 * bar - 2) / 2
        for j, (value, colour) in enumerate(
            ((week.applications, APPLICATIONS_COLOUR), (week.enrolments, ENROLMENTS_COLOUR))
        ):
            bx = gx + j * (bar + 2)
            body.append(
                f'<rect x="{bx:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                f'height="{y(0) - y(value):.1f}" fill="{colour}"/>'
            )
            if value:
                body.append(_text(bx + bar / 2, y(value) - 4, str(value), size=12, anchor="middle"))
        cx = left + group * i + group / 2
        body.append(_text(cx, height - bottom + 18, week.iso_week[-3:], size=12, anchor="middle"))
        monday = date_format(week.start, "M j")
        body.append(_text(cx, height - bottom + 33, monday, size=12, anchor="middle"))
    body.append(_text(left, height - 4, _("ISO week and its Monday"), size=12, fill_opacity="0.8"))
    total_applications = sum(w.applications for w in weeks)
    total_enrolments = sum(w.enrolments for w in weeks)
    desc = _(
        "{applications} applications and {enrollments} enrollments in the {n} weeks from "
        "{first} to {last}; the table below gives each week."
    ).format(
        applications=total_applications,
        enrollments=total_enrolments,
        n=len(weeks),
        first=weeks[0].iso_week if weeks else "",
        last=weeks[-1].iso_week if weeks else "",
    )
    return _svg(svg_id=svg_id, width=width, height=height, title=title, desc=desc, body=body)


def bar(value: int, peak: int, *, width: int = 120) -> SafeString:
    """A small decorative bar for a table row (hidden from screen readers: the row has the
    number)."""
    filled = 0 if peak <= 0 else round(width * value / peak)
    return mark_safe(  # noqa: S308 - numbers only
        f'<svg class="table-bar" aria-hidden="true" focusable="false" width="{width}" '
        f'height="12" viewBox="0 0 {width} 12"><rect width="{width}" height="12" rx="2" '
        f'fill="currentColor" fill-opacity="0.1"/><rect width="{filled}" height="12" rx="2" '
        f'fill="{APPLICATIONS_COLOUR}"/></svg>'
    )
