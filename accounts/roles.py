"""The staff roles and their reviewed permission sets; a migration creates the groups and
`services.roles_ensure()` re-applies them (tests that flush the database call it too).

Review any change here with the investigator: it decides who sees patients' identities.
"""

COORDINATOR = "Coordinator"
INVESTIGATOR = "Investigator"
MONITOR = "Monitor"
UNBLINDED_STATISTICIAN = "Unblinded statistician"
CENTER_COORDINATOR = "Center coordinator"

_VIEW_ALL = [
    "view_study",
    "view_eligibilitycriterion",
    "view_participant",
    "view_answer",
    "view_criterionverdict",
    "view_statuschange",
    "view_contactattempt",
    "view_consentrecord",
    "view_enrolmentslot",
    "view_historicalparticipant",
    "view_historicalanswer",
    "view_historicalconsentrecord",
    "view_eligibilityoverride",
    # Registry matches show no identity: a number, an outcome and its reasons.
    "view_registrymatch",
    "view_registryinvitation",
    # Visits: the study's plan, the visits booked and their history.
    "view_plannedvisit",
    "view_historicalplannedvisit",
    "view_visit",
    "view_historicalvisit",
]
_WORK_PARTICIPANTS = [
    "view_identification",  # names and contact details
    "change_participant",  # status, edits with a reason, staff-assessed values
    "add_contactattempt",
    "add_consentrecord",
    "change_consentrecord",
    "add_answer",
    "change_answer",
    # Staff notes may quote the person: read and written by those who see names only.
    "view_staffnote",
    "add_staffnote",
    # Emails a registry member about the study (the "Invite" button on its matches).
    "add_registryinvitation",
    # Book, rebook, cancel visits and record their outcome.
    "add_visit",
    "change_visit",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Everything on participants; reads studies and criteria.
    COORDINATOR: _VIEW_ALL + _WORK_PARTICIPANTS,
    # A coordinator's rights, and edits criteria when the protocol is amended.
    INVESTIGATOR: _VIEW_ALL
    + _WORK_PARTICIPANTS
    + ["change_study", "change_eligibilitycriterion", "add_eligibilitycriterion"]
    # The visit plan, amended with the protocol like the criteria.
    + ["change_plannedvisit", "add_plannedvisit"]
    # Lets a participant go on although a criterion is not met, naming it and why.
    + ["override_eligibility"]
    # Lets a participant be enrolled although their run-in is incomplete or under the minimum.
    + ["override_run_in"]
    # Emergency unblinding of one participant (with a reason, audited), and its report.
    + ["unblind_participant", "view_unblinding"],
    # Read-only, without identification data.
    MONITOR: list(_VIEW_ALL),
    # Not involved in data collection: uploads the sealed allocation list and alone sees arms
    # (superusers included: the check ignores the superuser flag); sees no participant data
    # beyond screening numbers, participant IDs and pack codes on the allocation pages.
    UNBLINDED_STATISTICIAN: ["view_study", "manage_allocation", "view_unblinding"],
    # The center's own staff: who signed up at the center's front door or ticked the registry
    # box, with their match numbers per recruiting study. No study's applicants: a study team
    # learns who a match is only once the person says yes and applies.
    CENTER_COORDINATOR: ["view_study", "view_registrymatch", "view_registry_people"],
}
