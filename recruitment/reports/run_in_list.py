"""The dashboard's run-in list: each participant in the run-in, with their adherence (1 query
for every study)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber

from recruitment.models import Participant, Status, adherence_percent, days_counted, on_track


@dataclass(frozen=True)
class RunInLine:
    """A participant in the run-in as the dashboard lists them: screening number, which day
    of the run-in today is, and the daily reports recorded so far against the minimum."""

    pk: int
    screening_number: str
    day: int
    days: int
    days_completed: int
    counted: int  # the days the last count covers
    min_adherence: int
    as_of: date | None

    @property
    def percent(self) -> int | None:
        """The share of the days counted that have a report; None before any count."""
        if not self.counted:
            return None
        return adherence_percent(days_completed=self.days_completed, days=self.counted)

    @property
    def below_minimum(self) -> bool:
        return bool(self.counted) and not on_track(
            days_completed=self.days_completed,
            counted=self.counted,
            min_adherence=self.min_adherence,
        )


def run_in_by_study(*, study_ids: Sequence[int], today: date, limit: int):
    """Each study's participants in the run-in, those who started first first, with their
    adherence, and each study's total (1 query)."""
    rows = (
        Participant.objects.filter(study_id__in=study_ids, status=Status.RUN_IN)
        .order_by()
        .annotate(
            row=Window(
                RowNumber(),
                partition_by=[F("study_id")],
                order_by=[F("run_in__started_on").asc(nulls_first=True), F("screening_seq")],
            ),
            total=Window(Count("pk"), partition_by=[F("study_id")]),
        )
        .filter(row__lte=limit)
        .values(
            "pk",
            "study_id",
            "screening_number",
            "row",
            "total",
            "run_in__started_on",
            "run_in__days",
            "run_in__days_completed",
            "run_in__min_adherence",
            "run_in__adherence_as_of",
        )
    )
    listed: dict[int, list[RunInLine]] = defaultdict(list)
    totals: dict[int, int] = {}
    for row in sorted(rows, key=lambda r: (r["study_id"], r["row"])):
        started_on, days = row["run_in__started_on"], row["run_in__days"] or 0
        as_of = row["run_in__adherence_as_of"]
        listed[row["study_id"]].append(
            RunInLine(
                pk=row["pk"],
                screening_number=row["screening_number"],
                day=max(1, min((today - started_on).days + 1, days)) if started_on else 0,
                days=days,
                days_completed=row["run_in__days_completed"] or 0,
                counted=days_counted(started_on=started_on, days=days, as_of=as_of)
                if started_on
                else 0,
                min_adherence=row["run_in__min_adherence"] or 0,
                as_of=as_of,
            )
        )
        totals[row["study_id"]] = row["total"]
    return listed, totals
