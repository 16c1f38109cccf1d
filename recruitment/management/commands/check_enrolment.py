"""`manage.py check_enrolment`: recompute each study's enrolment from its participants'
statuses and compare it with the slot rows they hold. A deploy and restore gate: it exits
non-zero on any mismatch or overrun (docs/deploy.md, docs/operations.md).

Three queries in all, whatever the number of studies or participants: the studies, their slot
rows, and the participants that hold a slot, a participant ID or an enrolled status (at most
about the target per study, unless the data are corrupt). The database's constraints already
forbid most of what is checked here; the command checks it anyway, because a restore that
skipped a constraint, or a hand-written UPDATE, would not.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from recruitment.models import (
    EnrolmentSlot,
    Participant,
    Status,
    Study,
)

NO_STUDY = "No study with the slug {slug!r}."
NO_STUDIES = "No studies."
FAILED = "Enrolment check failed: {problems} in {studies}."


@dataclass(frozen=True)
class StudyFacts:
    pk: int
    slug: str
    prefix: str
    target: int
    withdrawal_frees_slot: bool
    last_participant_seq: int


@dataclass(frozen=True)
class Slot:
    pk: int
    study_id: int
    number: int


@dataclass(frozen=True)
class Holder:
    """A participant who holds a slot or a participant ID, or whose status says they should.
    Screening numbers only: nothing here identifies a person."""

    study_id: int
    screening_number: str
    status: str
    participant_id: str | None
    slot_id: int | None


@dataclass(frozen=True)
class StudyReport:
    study: StudyFacts
    taken: int  # recomputed from the statuses
    held: int  # slot rows of the study held by a participant
    free: int  # slot rows of the study held by nobody
    problems: tuple[str, ...]

    @property
    def line(self) -> str:
        summary = (
            f"{self.study.slug}: {self.taken} of {self.study.target} enrolled, {self.free} free"
        )
        if not self.problems:
            return f"{summary}: OK"
        return f"{summary}: {plural(len(self.problems), 'problem')}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def holds_slot_by_status(status: str, *, withdrawal_frees_slot: bool) -> bool:
    """Whether a participant in this status must hold a slot."""
    return status in Status.holding_slot(withdrawal_frees_slot=withdrawal_frees_slot)


def study_problems(
    study: StudyFacts, slots: list[Slot], holders: list[Holder], slot_by_pk: dict[int, Slot]
) -> StudyReport:
    """Every way the study's slots disagree with its participants' statuses.

    `slots` are the study's slot rows; `holders` are its participants that hold a slot or a
    participant ID or have an enrolled status, and participants of other studies holding one
    of its slots; `slot_by_pk` maps every loaded slot (of every checked study)."""
    problems: list[str] = []
    own = [h for h in holders if h.study_id == study.pk]
    slot_pks = {slot.pk for slot in slots}

    # Slot rows: exactly the target, and never more taken than the target.
    if len(slots) != study.target:
        problems.append(
            f"{plural(len(slots), 'slot row')} for a target of {study.target}: "
            f"there must be exactly {study.target}."
        )
    holders_of: dict[int, list[Holder]] = defaultdict(list)
    for holder in holders:
        if holder.slot_id is not None:
            holders_of[holder.slot_id].append(holder)
    held = sum(1 for pk in slot_pks if holders_of.get(pk))
    free = len(slots) - held
    for pk in sorted(slot_pks, key=lambda pk: slot_by_pk[pk].number):
        if len(holders_of.get(pk, ())) > 1:
            numbers = " and ".join(sorted(h.screening_number for h in holders_of[pk]))
            problems.append(f"Slot {slot_by_pk[pk].number} is held by {numbers}.")
    for pk in slot_pks:
        for holder in holders_of.get(pk, ()):
            if holder.study_id != study.pk:
                problems.append(
                    f"Slot {slot_by_pk[pk].number} is held by {holder.screening_number} "
                    "of another study."
                )

    # The statuses: who must hold a slot, who must not, and how many that makes.
    by_status = Counter(h.status for h in own)
    taken = sum(
        count
        for status, count in by_status.items()
        if holds_slot_by_status(status, withdrawal_frees_slot=study.withdrawal_frees_slot)
    )
    for holder in sorted(own, key=lambda h: h.screening_number):
        number, status = holder.screening_number, holder.status
        if holder.slot_id is not None and holder.slot_id not in slot_pks:
            problems.append(f"{number} holds a slot of another study.")
        if status in Status.holding_slot() and holder.slot_id is None:
            problems.append(f"{number} is {status} but holds no slot.")
        elif status == Status.WITHDRAWN:
            if not study.withdrawal_frees_slot and holder.slot_id is None:
                problems.append(
                    f"{number} is withdrawn and holds no slot, but withdrawals do not free a "
                    "slot in this study (was the setting changed after the withdrawal?)."
                )
            elif study.withdrawal_frees_slot and holder.slot_id is not None:
                problems.append(
                    f"{number} is withdrawn and still holds a slot, but withdrawals free a "
                    "slot in this study (was the setting changed after the withdrawal?)."
                )
        elif status not in Status.holding_participant_id() and holder.slot_id is not None:
            problems.append(f"{number} is {status} but holds a slot.")
        # Participant IDs: given at enrolment and kept; never before.
        if status in Status.holding_participant_id() and not holder.participant_id:
            problems.append(f"{number} is {status} but has no participant ID.")
        elif status not in Status.holding_participant_id() and holder.participant_id:
            problems.append(f"{number} is {status} but has participant ID {holder.participant_id}.")
    ids = Counter(h.participant_id for h in own if h.participant_id)
    for participant_id, count in sorted(ids.items()):
        if count > 1:
            numbers = " and ".join(
                sorted(h.screening_number for h in own if h.participant_id == participant_id)
            )
            problems.append(f"Participant ID {participant_id} is given to {numbers}.")
        match = re.fullmatch(rf"{re.escape(study.prefix)}-(\d+)", participant_id)
        if match and int(match.group(1)) > study.last_participant_seq:
            problems.append(
                f"Participant ID {participant_id} is past the study's counter "
                f"({study.last_participant_seq}): the next enrolment would fail."
            )

    # The counts: the statuses and the slot rows must agree, and neither passes the target.
    own_held = len({h.slot_id for h in own if h.slot_id in slot_pks})
    if taken != own_held:
        problems.append(
            f"The statuses take {plural(taken, 'slot')} ({status_summary(by_status)}) "
            f"but {own_held} of the study's slot rows are held."
        )
    if max(taken, held) > study.target:
        problems.append(
            f"Over the target: {max(taken, held)} slots taken for a target of {study.target}."
        )
    return StudyReport(study=study, taken=taken, held=held, free=free, problems=tuple(problems))


def status_summary(by_status: Counter) -> str:
    parts = [f"{by_status[s]} {s}" for s in Status.holding_participant_id() if by_status.get(s)]
    return ", ".join(parts) or "none enrolled"


def enrolment_reports(*, slug: str | None = None) -> list[StudyReport]:
    """Check every study (or one): three queries in all."""
    studies = Study.objects.order_by("slug")
    if slug is not None:
        studies = studies.filter(slug=slug)
    facts = [
        StudyFacts(*row)
        for row in studies.values_list(
            "pk",
            "slug",
            "prefix",
            "target_enrolment",
            "withdrawal_frees_slot",
            "last_participant_seq",
        )
    ]
    if not facts:
        return []
    pks = [study.pk for study in facts]
    slots = [
        Slot(*row)
        for row in EnrolmentSlot.objects.filter(study_id__in=pks)
        .order_by("study_id", "number")
        .values_list("pk", "study_id", "number")
    ]
    holders = [
        Holder(*row)
        for row in Participant.objects.filter(
            Q(study_id__in=pks)
            & (
                Q(slot__isnull=False)
                | Q(participant_id__isnull=False)
                | Q(status__in=Status.holding_participant_id())
            )
            | Q(slot__study_id__in=pks)
        )
        .order_by()
        .values_list("study_id", "screening_number", "status", "participant_id", "slot_id")
    ]
    slot_by_pk = {slot.pk: slot for slot in slots}
    slots_of: dict[int, list[Slot]] = defaultdict(list)
    for slot in slots:
        slots_of[slot.study_id].append(slot)
    holders_of: dict[int, list[Holder]] = defaultdict(list)
    for holder in holders:
        holders_of[holder.study_id].append(holder)
        slot = slot_by_pk.get(holder.slot_id)
        if slot is not None and slot.study_id != holder.study_id:
            holders_of[slot.study_id].append(holder)  # another study's participant
    return [
        study_problems(study, slots_of[study.pk], holders_of[study.pk], slot_by_pk)
        for study in facts
    ]


class Command(BaseCommand):
    help = (
        "Recompute every study's enrolment from its participants' statuses and compare it with "
        "the enrolment slots they hold. Prints one line per study and every problem found "
        "(screening numbers only); exits non-zero on any mismatch or overrun. Run it after a "
        "deploy and after a restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", metavar="SLUG", help="Check this study only.")

    def handle(self, *args, study=None, **options):
        reports = enrolment_reports(slug=study)
        if not reports:
            if study is not None:
                raise CommandError(NO_STUDY.format(slug=study))
            self.stdout.write(NO_STUDIES)
            return
        failed = [report for report in reports if report.problems]
        for report in reports:
            style = self.style.ERROR if report.problems else self.style.SUCCESS
            self.stdout.write(style(report.line))
            for problem in report.problems:
                self.stdout.write(f"  - {problem}")
        if failed:
            raise CommandError(
                FAILED.format(
                    problems=plural(sum(len(r.problems) for r in failed), "problem"),
                    studies="1 study" if len(failed) == 1 else f"{len(failed)} studies",
                )
            )
