"""The coordinators' admin: the participant queue, the screening workflow and the audit trail.

Every write goes through the context services (`recruitment.screening.services` and the
others), the same functions the views and commands call. A refusal is a `RecruitmentError`
whose message is shown to the user, never a 500. Staff see only the studies they are members
of; names and contact details only with the `view_identification` permission.

One module per concern: `studies` (studies, criteria, the import), `participants` (the queue
and the page, which registers the workflow pages of `recruitment.screening.views`), `queue`
(its filters and rows), `inlines`, `forms`, `common`, `invitations` (the registry
invitations' audit, read-only).
"""

from recruitment.admin import (  # noqa: F401 - registers the model admins
    invitations,
    participants,
    studies,
)
