"""Where a participant stands: the status machine, the outcome of the pre-screen, and the
choices and reason codes around them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
class Status(models.TextChoices):
    """Where a participant stands; FHIR R4 ResearchSubject codes are in FHIR_STATUS."""

    NEW = "new", _("New")
    SCREENING = "screening", _("Screening")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Ineligible")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CONSENTED = "consented", _("Consented")
    RUN_IN = "run_in", _("Run-in")
    ENROLLED = "enrolled", _("Enrolled")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECLINED = "declined", _("Declined")

    # Groups of statuses, each defined here once; every group lists its statuses in the order
    # above. `final` and `open` follow from ALLOWED_TRANSITIONS.
    @classmethod
    def final(cls) -> tuple["Status", ...]:
        """Where the status machine ends: nobody has anything left to do with them."""
        return tuple(status for status in cls if not ALLOWED_TRANSITIONS[status])

    @classmethod
    def open(cls) -> tuple["Status", ...]:
        """Not in a final status: someone still has to act on them."""
        return tuple(status for status in cls if ALLOWED_TRANSITIONS[status])

    @classmethod
    def holding_participant_id(cls) -> tuple["Status", ...]:
        """Enrolled at some point: the participant ID given at enrolment is kept afterwards
        (CONSORT's "enrolled")."""
        return (cls.ENROLLED, cls.COMPLETED, cls.WITHDRAWN)

    @classmethod
    def never_enrolled(cls) -> tuple["Status", ...]:
        """Not enrolled so far: no participant ID, no slot."""
        return tuple(s for s in cls if s not in cls.holding_participant_id())

    @classmethod
    def in_progress(cls) -> tuple["Status", ...]:
        """Open and not yet enrolled: on the way from the form to enrolment."""
        return tuple(s for s in cls.open() if s not in cls.holding_participant_id())

    @classmethod
    def holding_slot(cls, *, withdrawal_frees_slot: bool = True) -> tuple["Status", ...]:
        """Those who hold an enrolment slot: enrolled and completed always, withdrawn too
        unless the study lets a withdrawal free its slot (by default, the statuses that hold
        one in every study)."""
        if withdrawal_frees_slot:
            return (cls.ENROLLED, cls.COMPLETED)
        return (cls.ENROLLED, cls.COMPLETED, cls.WITHDRAWN)

    @classmethod
    def awaiting_enrollment(cls) -> tuple["Status", ...]:
        """Judged eligible but not yet enrolled: new values that make them fail a criterion
        put a warning on their page and in the queue."""
        return (cls.ELIGIBLE, cls.WAITLISTED, cls.CONSENTED, cls.RUN_IN)

    @classmethod
    def judged_eligible(cls) -> tuple["Status", ...]:
        """Coordinators judged them eligible (and they may have gone further)."""
        return (*cls.awaiting_enrollment(), *cls.holding_participant_id())

    @classmethod
    def having_consented(cls) -> tuple["Status", ...]:
        """Reached only through informed consent: a consent record exists."""
        return (cls.CONSENTED, cls.RUN_IN, *cls.holding_participant_id())

    @classmethod
    def erasable(cls) -> tuple["Status", ...]:
        """The final statuses of people never enrolled: their personal data are erased once
        the study's retention period has passed."""
        return (cls.INELIGIBLE, cls.DECLINED)

    @classmethod
    def needing_reason(cls) -> tuple["Status", ...]:
        """Moves into these statuses need a reason (REASON_CODES lists each one's codes)."""
        return (cls.INELIGIBLE, cls.WITHDRAWN, cls.DECLINED)


FHIR_STATUS = {
    Status.NEW: "potential-candidate",
    Status.SCREENING: "screening",
    Status.ELIGIBLE: "eligible",
    Status.INELIGIBLE: "ineligible",
    Status.WAITLISTED: "eligible",
    Status.CONSENTED: "pending-on-study",
    Status.RUN_IN: "pending-on-study",
    Status.ENROLLED: "on-study",
    Status.COMPLETED: "off-study",
    Status.WITHDRAWN: "off-study",
    Status.DECLINED: "not-registered",
}

# The status machine: where each status may go next. Terminal statuses map to nothing.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # New to ineligible only to rule out someone the pre-screen found likely ineligible, for
    # the criteria it found not met (`participant_transition` refuses any other such move).
    Status.NEW: frozenset({Status.SCREENING, Status.INELIGIBLE, Status.DECLINED}),
    Status.SCREENING: frozenset({Status.ELIGIBLE, Status.INELIGIBLE, Status.DECLINED}),
    Status.ELIGIBLE: frozenset(
        {Status.CONSENTED, Status.WAITLISTED, Status.INELIGIBLE, Status.DECLINED}
    ),
    Status.WAITLISTED: frozenset({Status.CONSENTED, Status.INELIGIBLE, Status.DECLINED}),
    # Consented to enrolled only in a study without a run-in; in a study with one, the run-in
    # comes first (`recruitment.screening.run_in_gate`).
    Status.CONSENTED: frozenset(
        {Status.RUN_IN, Status.ENROLLED, Status.WAITLISTED, Status.DECLINED}
    ),
    # Run-in to ineligible when the run-in fails (the reason "did not complete the run-in");
    # to waitlisted when it passed and the study is full (enrolled from the waitlist later,
    # their run-in kept: `recruitment.screening.run_in_gate`).
    Status.RUN_IN: frozenset(
        {Status.ENROLLED, Status.WAITLISTED, Status.INELIGIBLE, Status.DECLINED}
    ),
    Status.ENROLLED: frozenset({Status.COMPLETED, Status.WITHDRAWN}),
    Status.INELIGIBLE: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.DECLINED: frozenset(),
}
# How a participant gets from `new` to each status: the moves coordinators make, in order,
# each one allowed by ALLOWED_TRANSITIONS. Tests and the bench's seeder walk these routes.
ROUTE_FROM_NEW: dict[str, tuple[Status, ...]] = {
    Status.NEW: (),
    Status.SCREENING: (Status.SCREENING,),
    Status.ELIGIBLE: (Status.SCREENING, Status.ELIGIBLE),
    Status.INELIGIBLE: (Status.SCREENING, Status.INELIGIBLE),
    Status.DECLINED: (Status.DECLINED,),
    Status.WAITLISTED: (Status.SCREENING, Status.ELIGIBLE, Status.WAITLISTED),
    Status.CONSENTED: (Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED),
    Status.RUN_IN: (Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED, Status.RUN_IN),
    Status.ENROLLED: (Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED),
    Status.COMPLETED: (
        *(Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED),
        *(Status.ENROLLED, Status.COMPLETED),
    ),
    Status.WITHDRAWN: (
        *(Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED),
        *(Status.ENROLLED, Status.WITHDRAWN),
    ),
}


class Outcome(models.TextChoices):
    LIKELY_ELIGIBLE = (
        eligibility.Outcome.LIKELY_ELIGIBLE,
        _("Likely eligible (staff checks pending)"),
    )
    ALL_MET = eligibility.Outcome.ALL_MET, _("All criteria met")
    LIKELY_INELIGIBLE = eligibility.Outcome.LIKELY_INELIGIBLE, _("Likely ineligible")
    NEEDS_REVIEW = eligibility.Outcome.NEEDS_REVIEW, _("Needs review")
    ELIGIBLE_FROM = eligibility.Outcome.ELIGIBLE_FROM, _("Eligible from a later date")


class ContactMethod(models.TextChoices):
    """How staff and a participant reach each other: a contact attempt's "how", and (all but
    in person) the method a patient prefers."""

    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    TEXT = "text", _("Text message")
    IN_PERSON = "in_person", _("In person")

    @classmethod
    def preferable(cls) -> list[tuple[str, str]]:
        """The choices a patient may prefer, in the form's order: not "in person"."""
        return [(method.value, method.label) for method in (cls.PHONE, cls.TEXT, cls.EMAIL)]


class BestTime(models.TextChoices):
    MORNING = "morning", _("Morning (9 to 12)")
    AFTERNOON = "afternoon", _("Afternoon (12 to 5)")
    EVENING = "evening", _("Early evening (5 to 7)")
    ANY = "any", _("Any time")


class ReferralSource(models.TextChoices):
    DOCTOR = "doctor", _("My doctor or nurse")
    PROHEALTH = "prohealth", _("ProHealth")
    PATIENTSLIKEME = "patientslikeme", _("PatientsLikeMe")
    SUPPORT_GROUP = "support_group", _("A support group")
    SOCIAL_MEDIA = "social_media", _("Social media")
    NEWS = "news", _("News or a magazine")
    FRIEND = "friend", _("A friend or family member")
    UNIVERSITY = "university", _("The university's website")
    OTHER = "other", _("Somewhere else")


class DuplicateReview(models.TextChoices):
    NONE = "", _("No match")
    PENDING = "pending", _("Possible duplicate, not reviewed")
    CONFIRMED = "confirmed", _("Confirmed duplicate")
    DISMISSED = "dismissed", _("Dismissed: a different person")


class DeclineReason(models.TextChoices):
    """Common reasons to close a participant as declined; staff may also write their own."""

    NOT_REACHED = "not reached", _("Not reached")
    NOT_INTERESTED = "no longer interested", _("No longer interested")
    DUPLICATE = "duplicate", _("Duplicate")
    # Written only by the patient's signed withdraw link (`services.participant_withdraw_by_link`).
    WITHDREW_BY_LINK = "withdrew interest (patient link)", _("Withdrew interest (patient link)")


class StatusReason(models.TextChoices):
    """Why someone was declined, found ineligible or withdrawn, as a code: the CONSORT box and
    the screening log count these, and staff without `view_identification` see only them,
    since the free text beside a code may quote the person."""

    NOT_REACHED = "not_reached", _("Not reached")
    NOT_INTERESTED = "not_interested", _("No longer interested")
    DUPLICATE = "duplicate", _("Duplicate")
    # Written only by the patient's signed withdraw link (`services.participant_withdraw_by_link`).
    WITHDREW_BY_LINK = "withdrew_by_link", _("Withdrew interest (patient link)")
    FAILS_CRITERION = "fails_criterion", _("Fails a criterion")
    # Written only by failing the run-in (`recruitment.screening.run_in.run_in_fail`).
    RUN_IN_FAILED = "run_in_failed", _("Did not complete the run-in")
    OTHER = "other", _("Other")


# The codes each status that needs a reason takes (`Status.needing_reason()`): staff write free
# text only with "other".
REASON_CODES: dict[str, tuple[str, ...]] = {
    Status.DECLINED: (
        StatusReason.NOT_REACHED,
        StatusReason.NOT_INTERESTED,
        StatusReason.DUPLICATE,
        StatusReason.WITHDREW_BY_LINK,
        StatusReason.OTHER,
    ),
    Status.INELIGIBLE: (
        StatusReason.FAILS_CRITERION,
        StatusReason.RUN_IN_FAILED,
        StatusReason.OTHER,
    ),
    Status.WITHDRAWN: (StatusReason.NOT_REACHED, StatusReason.NOT_INTERESTED, StatusReason.OTHER),
}
# The common reasons, as staff and the services wrote them before the codes: their code.
DECLINE_REASON_CODES: dict[str, str] = {
    DeclineReason.NOT_REACHED: StatusReason.NOT_REACHED,
    DeclineReason.NOT_INTERESTED: StatusReason.NOT_INTERESTED,
    DeclineReason.DUPLICATE: StatusReason.DUPLICATE,
    DeclineReason.WITHDREW_BY_LINK: StatusReason.WITHDREW_BY_LINK,
}


class EvaluationCause(models.TextChoices):
    """What made the pre-screen run again: the warning on a participant's page names it."""

    LAB_VALUES = "lab values", _("lab values")
    CONTACT_DETAILS = "contact details", _("contact details")
    VERIFIED_ANSWERS = "verified answers", _("answers verified by staff")


class VerificationMethod(models.TextChoices):
    """How staff confirmed a patient's answer before recording it as verified."""

    PHONE = "phone", _("Asked on the phone")
    IN_PERSON = "in_person", _("Asked in person")
    RECORDS = "records", _("From medical records")
    OTHER = "other", _("Other")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    VOICEMAIL = "voicemail", _("Left voicemail")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALL_BACK = "call_back", _("Asked to call back")


# Outcomes where nobody was reached: they count towards "not reached".
UNANSWERED_OUTCOMES = (
    ContactOutcome.VOICEMAIL,
    ContactOutcome.NO_ANSWER,
    ContactOutcome.WRONG_NUMBER,
)
