"""The participant's workflow pages: one view per step (status, consent, enrollment, lab values,
eligibility override, contact attempt, duplicate review, rule out, verify answers, staff note,
visits), each with its form and template; one module per kind of step (status, answers,
contacts, visits), what they share in `base`.
the run-in's steps), each with its form and template; one module per kind of step (status,
answers, contacts, run_in), what they share in `base`.

The participant admin registers them under its own URLs (`ParticipantAdmin.get_urls`, with
`as_view(model_admin=...)`), so they run behind the admin's sign-in, in its look, scoped to the
user's studies like every admin page. Each binds its form, calls one service and redirects to
the participant; a domain refusal becomes a form error.
"""

from recruitment.screening.views.answers import (
    EligibilityOverrideView,
    LabValuesView,
    VerifyAnswersView,
)
from recruitment.screening.views.base import (
    WorkflowView,
    duplicate_warning,
    override_allowed,
    participant_change_url,
    participant_not_found,
    status_log_message,
)
from recruitment.screening.views.contacts import (
    ContactAttemptView,
    DuplicateConfirmView,
    DuplicateDismissView,
    StaffNoteView,
)
from recruitment.screening.views.run_in import (
    RunInAdherenceView,
    RunInFailView,
    RunInOverrideView,
    RunInStartView,
)
from recruitment.screening.views.status import (
    ConsentView,
    EnrolView,
    RuleOutView,
    StatusChangeView,
)
from recruitment.screening.views.texts import TextsStartView, TextsStopView
from recruitment.screening.views.visits import (
    VisitCancelView,
    VisitOutcomeView,
    VisitRebookView,
    VisitsView,
)

__all__ = [
    "WORKFLOW_PAGES",
    "WorkflowView",
    "duplicate_warning",
    "override_allowed",
    "participant_change_url",
    "participant_not_found",
    "status_log_message",
]

# The pages by URL name (`admin:recruitment_participant_<name>`) with their paths under the
# participant's admin URL.
WORKFLOW_PAGES = {
    "status": ("status/", StatusChangeView),
    "consent": ("consent/", ConsentView),
    "enrol": ("enrol/", EnrolView),
    "lab_values": ("lab-values/", LabValuesView),
    "override": ("eligibility-override/", EligibilityOverrideView),
    "contact": ("contact/", ContactAttemptView),
    "duplicate_confirm": ("duplicate/confirm/", DuplicateConfirmView),
    "duplicate_dismiss": ("duplicate/dismiss/", DuplicateDismissView),
    "rule_out": ("rule-out/", RuleOutView),
    "verify": ("verify-answers/", VerifyAnswersView),
    "note": ("note/", StaffNoteView),
    "visits": ("visits/", VisitsView),
    "visit_rebook": ("visits/rebook/", VisitRebookView),
    "visit_cancel": ("visits/cancel/", VisitCancelView),
    "visit_outcome": ("visits/outcome/", VisitOutcomeView),
    "texts_stop": ("texts/stop/", TextsStopView),
    "texts_start": ("texts/start/", TextsStartView),
    "run_in_start": ("run-in/start/", RunInStartView),
    "run_in_adherence": ("run-in/adherence/", RunInAdherenceView),
    "run_in_fail": ("run-in/failed/", RunInFailView),
    "run_in_override": ("run-in/override/", RunInOverrideView),
}
