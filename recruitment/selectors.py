"""Reads for pages and reports, each with a fixed number of queries."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from recruitment import eligibility
from recruitment.models import (
    Answer,
    AnsweredBy,
    ConsentRecord,
    CriterionVerdict,
    CriterionVersion,
    DuplicateReview,
    EligibilityCriterion,
    Participant,
    StaffNote,
    Study,
    Verdict,
)
from recruitment.study_contacts import study_contact_remember


def study_list_recruiting() -> QuerySet[Study]:
    return Study.objects.recruiting().order_by("title")


def study_get_public(*, slug: str) -> Study:
    """The study of a public page; its team's contact details are remembered for the server
    error pages, which may not query the database (recruitment/study_contacts.py)."""
    study = get_object_or_404(Study, slug=slug)
    study_contact_remember(study)
    return study


def criterion_list_for_form(*, study: Study) -> list[EligibilityCriterion]:
    return list(study.criteria.active().for_patient().order_by("order", "pk"))


def criterion_list_active(*, study: Study) -> list[EligibilityCriterion]:
    """The study's active criteria in order (1 query): the form asks the patient's, the
    submission judges them all."""
    return list(study.criteria.active().order_by("order", "pk"))


# ---------------------------------------------------------------------------------------------
# The coordinators' admin
# ---------------------------------------------------------------------------------------------
def verdict_blocks(verdict: CriterionVerdict, *, today: date) -> bool:
    """Whether this verdict stands between the participant and eligibility: anything but met,
    except a washout that has ended since the evaluation (its "eligible from" date is past)."""
    if verdict.verdict == Verdict.MET:
        return False
    return not (
        verdict.verdict == Verdict.NOT_MET
        and verdict.eligible_from is not None
        and verdict.eligible_from <= today
    )


def verdict_list(
    *, participant: Participant, stored: list[CriterionVerdict] | None = None
) -> list[CriterionVerdict]:
    """The participant's pre-screen, one verdict per criterion, in the study's order (2
    queries; 1 when `stored`, their stored verdicts, were read already): the stored verdicts,
    and a pending one for each active criterion that staff assess and have not entered yet.

    Those are not stored: until staff enter the value, such a verdict is always the same (the
    criterion as it stands, pending, "not yet entered"), so a submission writes none of them
    (`evaluation.verdicts_to_store`). Every page and gate that lists the criteria reads them
    here, so a staff check not entered stays in view and stops enrollment, including one
    added to the study after the participant was judged."""
    if stored is None:
        stored = list(participant.verdicts.select_related("criterion_version").order_by("order"))
    judged = {verdict.criterion_id for verdict in stored}
    criteria = EligibilityCriterion.objects.filter(study_id=participant.study_id).active()
    pending = [
        CriterionVerdict(
            participant=participant,
            criterion=criterion,
            criterion_version=CriterionVersion(criterion=criterion, snapshot=criterion.snapshot()),
            verdict=Verdict.PENDING,
            reason=eligibility.NOT_YET_ENTERED,
            order=order,
        )
        # Numbered as the evaluation numbers every active criterion.
        for order, criterion in enumerate(criteria.order_by("order", "pk"), start=1)
        if criterion.answered_by == AnsweredBy.STAFF and criterion.pk not in judged
    ]
    if not pending:
        return stored
    return sorted([*stored, *pending], key=lambda verdict: verdict.order)


def verdict_list_blocking(*, participant: Participant, today: date) -> list[CriterionVerdict]:
    """The criteria a participant does not (yet) meet and no investigator has overridden, in
    the study's order (3 queries): a staff check not entered yet among them. Empty means every
    criterion is met: eligibility, consent and enrollment may go ahead."""
    overridden = set(participant.eligibility_overrides.values_list("criterion_code", flat=True))
    return [
        verdict
        for verdict in verdict_list(participant=participant)
        if verdict_blocks(verdict, today=today)
        and verdict.criterion_snapshot.get("code") not in overridden
    ]


@dataclass(frozen=True)
class StudyProgress:
    """Where a study's enrolment stands: slots taken and free, and who is next in line."""

    study: Study
    taken: int
    free: int
    next_waitlisted: str | None
    next_waitlisted_pk: int | None

    @property
    def target(self) -> int:
        return self.study.target_enrolment


def study_progress_list(*, user, study: Study | None = None) -> list[StudyProgress]:
    """Enrolment progress of every study the user may see (or of one of them), in one query."""
    waitlist = Participant.objects.filter(study=OuterRef("pk")).waitlist()
    studies = (
        Study.objects.visible_to(user)
        .annotate(
            taken_slots=Count("slots", filter=Q(slots__participant__isnull=False)),
            free_slots=Count("slots", filter=Q(slots__participant__isnull=True)),
            next_waitlisted=Subquery(waitlist.values("screening_number")[:1]),
            next_waitlisted_pk=Subquery(waitlist.values("pk")[:1]),
        )
        .order_by("title")
    )
    if study is not None:
        studies = studies.filter(pk=study.pk)
    return [
        StudyProgress(
            study=study,
            taken=study.taken_slots,
            free=study.free_slots,
            next_waitlisted=study.next_waitlisted,
            next_waitlisted_pk=study.next_waitlisted_pk,
        )
        for study in studies
    ]


def study_slots_taken(*, study: Study) -> int:
    """Slots held by enrolled (or completed, or withdrawn-and-kept) participants."""
    return study.slots.taken().count()


def study_staff_members(*, study: Study) -> QuerySet:
    """Active staff members of a study: who may obtain informed consent."""
    return study.members.filter(is_staff=True, is_active=True).order_by("username")


def criterion_list_for_staff(*, study: Study) -> list[EligibilityCriterion]:
    return list(study.criteria.active().for_staff().order_by("order", "pk"))


def answer_values_for(*, participant: Participant, criteria) -> dict[str, Any]:
    """The stored answers to the given criteria, keyed by criterion code."""
    codes = {criterion.pk: criterion.code for criterion in criteria}
    answers = Answer.objects.filter(participant=participant, criterion_id__in=codes)
    return {codes[answer.criterion_id]: answer.value for answer in answers}


def status_change_list(*, participant: Participant) -> QuerySet:
    """The participant's moves through the status machine, newest first."""
    return participant.status_changes.select_related("by").order_by("-at", "-pk")


def answer_history_list(*, participant: Participant) -> QuerySet:
    """Every recorded change of the participant's answers (staff-entered values), newest
    first; the patient's own answers are written once, with the submission."""
    return (
        Answer.history.filter(participant_id=participant.pk)
        .select_related("history_user", "criterion")
        .order_by("-history_date", "-history_id")
    )


def consent_history_list(*, participant: Participant) -> QuerySet:
    return (
        ConsentRecord.history.filter(participant_id=participant.pk)
        .select_related("history_user", "obtained_by")
        .order_by("-history_date", "-history_id")
    )


def staff_note_list(*, participant: Participant) -> QuerySet[StaffNote]:
    """The participant's staff notes, newest first, with who wrote them (1 query)."""
    return StaffNote.objects.filter(participant=participant).select_related("by").newest_first()


def participant_duplicates_unreviewed(*, participant: Participant) -> list[str]:
    """The screening numbers of the unreviewed possible duplicates on either side of a
    participant: the one they may duplicate, and those that may duplicate them. One query."""
    match = Q(duplicate_of=participant, duplicate_review=DuplicateReview.PENDING)
    if participant.duplicate_review == DuplicateReview.PENDING and participant.duplicate_of_id:
        match |= Q(pk=participant.duplicate_of_id)
    return list(
        Participant.objects.filter(match)
        .order_by("screening_seq")
        .values_list("screening_number", flat=True)
    )
