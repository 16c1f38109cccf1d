"""Studies, their eligibility criteria, and the participants who express interest.

Invariants that must never be false live here as database constraints; cross-field rules live
in `clean()`. Every write goes through the context services (`recruitment.screening.services`
and the others); `save()` has no side effects. One module per part of the domain (common,
studies, status, participants, verdicts, workflow, drafts); every model and choice is
importable from `recruitment.models`, where the migrations and the rest of the app find them.
"""

from recruitment.models.allocation import (  # noqa: F401
    AllocationList,
    AllocationRow,
    AllocationRowQuerySet,
    ParticipantStratum,
    Unblinding,
)
from recruitment.models.common import (  # noqa: F401
    PREFIX_VALIDATOR,
    ZIP_VALIDATOR,
    audit_history,
)
from recruitment.models.drafts import (  # noqa: F401
    Draft,
)
from recruitment.models.participants import (  # noqa: F401
    Answer,
    EntrySource,
    Participant,
    ParticipantQuerySet,
)
from recruitment.models.status import (  # noqa: F401
    ALLOWED_TRANSITIONS,
    DECLINE_REASON_CODES,
    FHIR_STATUS,
    REASON_CODES,
    ROUTE_FROM_NEW,
    BestTime,
    ContactMethod,
    DeclineReason,
    DuplicateReview,
    EvaluationCause,
    Outcome,
    ReferralSource,
    Status,
    StatusReason,
    VerificationMethod,
)
from recruitment.models.studies import (  # noqa: F401
    CRITERION_TEXT_FIELDS,
    STUDY_TEXT_FIELDS,
    AnsweredBy,
    CriterionKind,
    CriterionQuerySet,
    CriterionText,
    CriterionVersion,
    EligibilityCriterion,
    RuleKind,
    Study,
    StudyQuerySet,
    StudyText,
    active_translation,
    snapshot_digest,
)
from recruitment.models.verdicts import (  # noqa: F401
    CriterionVerdict,
    Provenance,
    Verdict,
)
from recruitment.models.workflow import (  # noqa: F401
    BY_PARTICIPANT,
    UNANSWERED_OUTCOMES,
    ConsentRecord,
    ContactAttempt,
    ContactOutcome,
    EligibilityOverride,
    EnrolmentSlot,
    EnrolmentSlotQuerySet,
    StaffNote,
    StaffNoteQuerySet,
    StatusChange,
)
