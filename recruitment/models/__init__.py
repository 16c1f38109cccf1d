"""Studies, their eligibility criteria, and the participants who express interest.

Invariants that must never be false live here as database constraints; cross-field rules live
in `clean()`. Every write goes through the context services (`recruitment.screening.services`
and the others); `save()` has no side effects. One module per part of the domain (common,
studies, status, people, participants, verdicts, workflow, drafts, registry); every model and
choice is importable from `recruitment.models`, where the migrations and the rest of the app
find them.
"""

from recruitment.models.allocation import (  # noqa: F401
    AllocationList,
    AllocationRow,
    AllocationRowQuerySet,
    ParticipantStratum,
    Unblinding,
)
from recruitment.models.amendments import (  # noqa: F401
    CriteriaDraft,
    CriteriaDraftQuerySet,
    WhatIfRun,
    WhatIfState,
)
from recruitment.models.answers import (  # noqa: F401
    Answer,
)
from recruitment.models.common import (  # noqa: F401
    PREFIX_VALIDATOR,
    ZIP_VALIDATOR,
    audit_history,
)
from recruitment.models.drafts import (  # noqa: F401
    Draft,
)
from recruitment.models.inbox import (  # noqa: F401
    SentForm,
    form_pack,
)
from recruitment.models.participants import (  # noqa: F401
    EntrySource,
    Participant,
    ParticipantQuerySet,
)
from recruitment.models.people import (  # noqa: F401
    Person,
    PersonQuerySet,
)
from recruitment.models.registry import (  # noqa: F401
    ANSWER_TYPE_RULES,
    DATE_OF_BIRTH,
    AnswerType,
    InvitationResponse,
    MatchOutcome,
    MatchState,
    MatchVerdict,
    RegistryInvitation,
    RegistryMatch,
    RegistryMatchQuerySet,
    SharedAnswer,
    SharedQuestion,
)
from recruitment.models.run_in import (  # noqa: F401
    RunIn,
    adherence_percent,
    days_counted,
    on_track,
)
from recruitment.models.stamps import CRITERIA_STAMP_ID, CriteriaStamp  # noqa: F401
from recruitment.models.status import (  # noqa: F401
    ALLOWED_TRANSITIONS,
    DECLINE_REASON_CODES,
    FHIR_STATUS,
    REASON_CODES,
    ROUTE_FROM_NEW,
    UNANSWERED_OUTCOMES,
    BestTime,
    ContactMethod,
    ContactOutcome,
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
from recruitment.models.texts import (  # noqa: F401
    START_WORDS,
    STOP_WORDS,
    OptOutHow,
    Reminder,
    ReminderKind,
    TextOptOut,
    TextOptOutQuerySet,
)
from recruitment.models.verdicts import (  # noqa: F401
    CriterionVerdict,
    Provenance,
    Verdict,
)
from recruitment.models.visits import (  # noqa: F401
    PLANNED_VISIT_TEXT_FIELDS,
    PlannedVisit,
    PlannedVisitQuerySet,
    Visit,
    VisitAnchor,
    VisitQuerySet,
    VisitStatus,
    VisitWindow,
)
from recruitment.models.workflow import (  # noqa: F401
    BY_PARTICIPANT,
    ConsentRecord,
    ContactAttempt,
    EligibilityOverride,
    EnrolmentSlot,
    EnrolmentSlotQuerySet,
    StaffNote,
    StaffNoteQuerySet,
    StatusChange,
)
