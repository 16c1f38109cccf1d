"""The next right steps on a participant: the moves possible now, and the others in words
("Enroll: the study is full; add to the waitlist instead").

Nothing here decides anew: each step asks the status machine (`can_transition_to`) and the
gates the services enforce (`recruitment.screening.gate`), in the order the status service
asks them, so the page and the services cannot disagree. The gates are asked lazily: a step
that is not offered costs no query.
"""

from collections import deque
from dataclasses import dataclass
from functools import cached_property

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.models import ALLOWED_TRANSITIONS, DuplicateReview, Participant, Status
from recruitment.screening import gate
from recruitment.screening.run_in_gate import run_in_get, run_in_refusal, study_has_run_in
from recruitment.screening.waitlist import waitlist_place
from recruitment.visits.services import visit_bookable_statuses

# The steps on a participant, by key: a workflow page, or a move on the status page.
STEP_LABELS = {
    "contact": _("Log a contact attempt"),
    "lab_values": _("Record lab values"),
    "override": _("Record an eligibility override"),
    "duplicate_confirm": _("Confirm duplicate"),
    "duplicate_dismiss": _("Not a duplicate"),
    "run_in_adherence": _("Record adherence"),
    "run_in_fail": _("Run-in failed"),
    "run_in_override": _("Override the run-in"),
    "status": _("Change status"),
    "visits": _("Book or manage visits"),
    Status.SCREENING: _("Move to screening"),
    Status.ELIGIBLE: _("Mark eligible"),
    Status.WAITLISTED: _("Add to the waitlist"),
    Status.CONSENTED: _("Record informed consent"),
    Status.RUN_IN: _("Start run-in"),
    Status.ENROLLED: _("Enroll"),
    Status.INELIGIBLE: _("Mark ineligible"),
    Status.DECLINED: _("Close as declined"),
    Status.WITHDRAWN: _("Withdraw"),
    Status.COMPLETED: _("Complete"),
}
# Each move as the words of an instruction ("record informed consent first").
MOVE_WORDS = {
    Status.SCREENING: _("move to screening"),
    Status.ELIGIBLE: _("mark eligible"),
    Status.WAITLISTED: _("add to the waitlist"),
    Status.CONSENTED: _("record informed consent"),
    Status.RUN_IN: _("start the run-in"),
    Status.ENROLLED: _("enroll"),
    Status.INELIGIBLE: _("mark ineligible"),
    Status.DECLINED: _("close as declined"),
    Status.WITHDRAWN: _("withdraw"),
    Status.COMPLETED: _("complete"),
}
# The workflow page of each move the page offers as a button of its own.
MOVE_PAGES = {
    Status.SCREENING: "status",
    Status.ELIGIBLE: "status",
    Status.WAITLISTED: "status",
    Status.CONSENTED: "consent",
    Status.RUN_IN: "run_in_start",
    Status.ENROLLED: "enrol",
}
# The way forward, in order: each is offered, or explained, when the status machine allows it.
FORWARD = (
    Status.SCREENING,
    Status.ELIGIBLE,
    Status.WAITLISTED,
    Status.CONSENTED,
    Status.RUN_IN,
    Status.ENROLLED,
)

WHY_CRITERIA = _(
    "the pre-screen has a criterion not met or not yet known ({criteria}); record the lab "
    "values, or ask an investigator for an eligibility override."
)
WHY_FULL_ENROL = _("the study is full; add to the waitlist instead.")
WHY_FULL_WAITING = _(
    "the study is full; they keep their place on the waitlist (number {place}) until a slot frees."
)
WHY_SLOT_FREE = _("the study has a free slot; record consent and enroll instead.")
WHY_SLOT_FREE_CONSENTED = _("the study has a free slot; enroll instead.")
WHY_CONSENT_FIRST = _("record informed consent first.")
WHY_RUN_IN_FIRST = _("the study has a run-in: start the run-in first.")
WHY_ROUTE = _("{moves} first.")
WHY_NO_ROUTE = _("not possible from “{status}”.")
WHY_ALREADY = _("already “{status}”.")
WHY_FINAL = _("“{status}” is a final status: nothing more can change.")
NOTE_FULL_ELIGIBLE = _(
    "The study is full: marking eligible puts them on the waitlist in the same step."
)
NOTE_FULL_CONSENT = _(
    "The study is full: they keep their place on the waitlist (number {place}) after consent."
)
NOTE_AHEAD = _("{next} is ahead on the waitlist: give a reason to enroll out of order.")


@dataclass(frozen=True)
class Step:
    """One step: offered (`url` set) or not possible now (`why_not` says why, and what to do
    instead). `note` says what else the step will do."""

    key: str
    label: str
    url: str = ""
    why_not: str = ""
    note: str = ""
    # A move that needs nothing more than a click (no reason, no form to fill): the page posts
    # it to the status page, which moves the participant and comes back.
    post_to: str = ""

    @property
    def possible(self) -> bool:
        return not self.why_not

    @property
    def sentence(self) -> str:
        """ "Enroll: the study is full; add to the waitlist instead." """
        return f"{self.label}: {self.why_not}" if self.why_not else str(self.label)


NOT_READ = object()  # a Gates argument not given: the gate reads it when asked


class Gates:
    """The gates' answers for one participant, each asked once and only when needed. A page
    that has read the verdicts and overrides already passes them (no second read)."""

    def __init__(
        self, participant: Participant, *, verdicts=None, overridden=None, run_in=NOT_READ
    ):
        self.participant = participant
        self.read = (verdicts, overridden) if verdicts is not None else None
        if run_in is not NOT_READ:
            self.run_in = run_in

    @cached_property
    def run_in(self):
        """The participant's run-in record: read for someone in the run-in, or consented or
        waitlisted in a study with one (back from the waitlist after it)."""
        participant = self.participant
        if participant.status == Status.RUN_IN or (
            participant.status in (Status.CONSENTED, Status.WAITLISTED)
            and study_has_run_in(participant.study)
        ):
            return run_in_get(participant)
        return None

    @cached_property
    def run_in_refusal(self) -> str:
        """Why enrollment waits for the run-in, or empty (`run_in_gate.run_in_or_refuse`)."""
        participant = self.participant
        if participant.status == Status.RUN_IN or self.run_in is not None:
            return run_in_refusal(
                self.run_in, number=participant.screening_number, today=timezone.localdate()
            )
        if study_has_run_in(participant.study):
            return str(WHY_RUN_IN_FIRST)
        return ""

    @cached_property
    def blocking(self):
        if self.read is None:
            return gate.criteria_blocking(self.participant)
        verdicts, overridden = self.read
        return gate.criteria_blocking_among(verdicts, overridden=overridden)

    @cached_property
    def free_slot(self) -> bool:
        return gate.study_has_free_slot(self.participant.study)

    @cached_property
    def consent(self) -> bool:
        return gate.consent_on_record(self.participant)

    @cached_property
    def first_ahead(self):
        return gate.waitlist_first_ahead(self.participant)

    @cached_property
    def place(self) -> int | None:
        return waitlist_place(self.participant)


def moves_to(current: Status, target: Status) -> list[Status]:
    """The fewest moves the status machine allows from `current` to `target` (empty when
    there is no way)."""
    queue = deque([(current, [])])
    seen = {current}
    while queue:
        status, path = queue.popleft()
        for following in sorted(ALLOWED_TRANSITIONS[status]):
            if following in seen:
                continue
            if following == target:
                return [*path, Status(following)]
            seen.add(following)
            queue.append((following, [*path, Status(following)]))
    return []


def enrolling_from_waitlist(participant: Participant, gates: Gates) -> bool:
    """A waitlisted participant with consent on record is enrolled from the waitlist
    (`waitlist.participant_enrol`)."""
    return participant.status == Status.WAITLISTED and gates.consent


def move_refusal(participant: Participant, to: Status, gates: Gates | None = None) -> str:
    """Why `participant` cannot move to `to` now, and what to do instead; empty when the
    move would pass every gate (a reason in words may still be asked for)."""
    gates = gates or Gates(participant)
    status = Status(participant.status)
    if not ALLOWED_TRANSITIONS[status]:
        return WHY_FINAL.format(status=status.label)
    if to == status:
        return WHY_ALREADY.format(status=status.label)
    direct = participant.can_transition_to(to) or (
        to == Status.ENROLLED and enrolling_from_waitlist(participant, gates)
    )
    if not direct:
        if to == Status.ENROLLED and status == Status.WAITLISTED:
            return (
                WHY_FULL_WAITING.format(place=gates.place)
                if not gates.free_slot
                else WHY_CONSENT_FIRST
            )
        moves = moves_to(status, to)
        if not moves:
            return WHY_NO_ROUTE.format(status=status.label)
        return WHY_ROUTE.format(moves=", then ".join(str(MOVE_WORDS[m]) for m in moves[:-1]))
    if to == Status.ENROLLED and gates.run_in_refusal:
        return gates.run_in_refusal
    if to in (Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED) and gates.blocking:
        return WHY_CRITERIA.format(criteria=gate.criteria_titles(gates.blocking))
    if to == Status.WAITLISTED and status == Status.RUN_IN and gates.run_in_refusal:
        return gates.run_in_refusal
    if to == Status.WAITLISTED and gates.free_slot:
        consented = status in (Status.CONSENTED, Status.RUN_IN)
        return WHY_SLOT_FREE_CONSENTED if consented else WHY_SLOT_FREE
    if to == Status.ENROLLED and not gates.free_slot:
        if status == Status.WAITLISTED:
            return WHY_FULL_WAITING.format(place=gates.place)
        return WHY_FULL_ENROL
    return ""


def move_note(participant: Participant, to: Status, gates: Gates) -> str:
    """What else a possible move will do, or ask for."""
    if to == Status.ELIGIBLE and not gates.free_slot:
        return str(NOTE_FULL_ELIGIBLE)
    if to == Status.CONSENTED and participant.status == Status.WAITLISTED and not gates.free_slot:
        return NOTE_FULL_CONSENT.format(place=gates.place)
    if to == Status.ENROLLED and gates.first_ahead is not None:
        return NOTE_AHEAD.format(next=gates.first_ahead.screening_number)
    return ""


def refusal_sentence(participant: Participant, to: Status, fallback: str) -> str:
    """A bulk action's word on a row it could not move: "LDN-S-0004: Enroll: the study is
    full; add to the waitlist instead." (the service's own message when no gate explains)."""
    why = move_refusal(participant, to)
    if not why:
        return f"{participant.screening_number}: {fallback}"
    return f"{participant.screening_number}: {STEP_LABELS[to]}: {why}"


def workflow_url(page: str, participant: Participant, to: str = "") -> str:
    url = reverse(f"admin:recruitment_participant_{page}", args=[participant.pk])
    return f"{url}?to={to}" if to else url


def participant_steps(
    *,
    participant: Participant,
    user,
    can_change: bool,
    has_staff_criteria: bool,
    gates: Gates | None = None,
) -> list[Step]:
    """The steps on the participant page and the call card, in the order of the work:
    offered ones with their links, the others with why not. Staff who may not change the
    participant get none."""
    if not can_change:
        return []
    gates = gates or Gates(participant)
    status = Status(participant.status)
    steps = [Step("contact", STEP_LABELS["contact"], url=workflow_url("contact", participant))]
    if not ALLOWED_TRANSITIONS[status]:
        final = Step("status", STEP_LABELS["status"], why_not=move_refusal(participant, status))
        return [*steps, final]
    staff_steps = (Status.NEW, Status.SCREENING, Status.ELIGIBLE, Status.WAITLISTED)
    if status in staff_steps and has_staff_criteria:
        steps.append(
            Step("lab_values", STEP_LABELS["lab_values"], workflow_url("lab_values", participant))
        )
    for to in FORWARD:
        waiting_with_consent = status == Status.WAITLISTED and gates.consent
        if to == Status.CONSENTED and waiting_with_consent:
            continue  # consent is on record; enrollment is the step
        if to == Status.RUN_IN and not study_has_run_in(participant.study):
            continue  # a study without a run-in enrolls straight after consent
        if to == Status.RUN_IN and gates.run_in is not None:
            continue  # back from the waitlist: their run-in is done
        if not (
            participant.can_transition_to(to)
            or (to == Status.ENROLLED and status == Status.WAITLISTED)
        ):
            continue
        label = STEP_LABELS[to]
        why = move_refusal(participant, to, gates)
        if why:
            steps.append(Step(str(to), label, why_not=why))
            continue
        page = MOVE_PAGES[to]
        note = move_note(participant, to, gates)
        if page == "status":
            url = workflow_url(page, participant)
            steps.append(Step(str(to), label, url=url, note=note, post_to=str(to)))
        else:
            steps.append(Step(str(to), label, url=workflow_url(page, participant), note=note))
    may_override = user.has_perm("recruitment.override_eligibility")
    if status == Status.RUN_IN:
        for key in ("run_in_adherence", "run_in_fail"):
            steps.append(Step(key, STEP_LABELS[key], workflow_url(key, participant)))
        run_in = gates.run_in
        may_override_run_in = user.has_perm("recruitment.override_run_in")
        if may_override_run_in and run_in is not None and not (run_in.passed or run_in.overridden):
            url = workflow_url("run_in_override", participant)
            steps.append(Step("run_in_override", STEP_LABELS["run_in_override"], url))
    if may_override and status in Status.in_progress() and gates.blocking:
        steps.append(
            Step("override", STEP_LABELS["override"], workflow_url("override", participant))
        )
    if participant.duplicate_review == DuplicateReview.PENDING:
        for key in ("duplicate_confirm", "duplicate_dismiss"):
            steps.append(Step(key, STEP_LABELS[key], workflow_url(key, participant)))
    if status in visit_bookable_statuses():
        steps.append(Step("visits", STEP_LABELS["visits"], workflow_url("visits", participant)))
    steps.append(Step("status", STEP_LABELS["status"], workflow_url("status", participant)))
    return steps
