"""Inviting a registry member to apply to a study: the rules, the audit row, the email task.

A person is invited at most once per study (one invitation per match, a database
constraint), and at most once in `REGISTRY_INVITE_MIN_DAYS` across all studies: the person's
row is locked while the last invitation is read, so two coordinators of two studies pressing
"Invite" at once cannot both write to the same person. Someone who left the registry is never
invited; the email task checks it again when it runs."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError
from recruitment.models import (
    MatchOutcome,
    MatchState,
    Person,
    RegistryInvitation,
    RegistryMatch,
)
from recruitment.notifications import tasks as notifications
from recruitment.registry.selectors import match_label

INVITE_NOT_IN_REGISTRY = _(
    "%(match)s was not invited: this person has left the registry, or was erased."
)
INVITE_ALREADY = _("%(match)s was not invited: this person was invited to this study already.")
INVITE_ANSWERED = _("%(match)s was not invited: this match is %(state)s.")
INVITE_INELIGIBLE = _("%(match)s was not invited: this person does not meet the criteria.")
INVITE_NOT_RECRUITING = _("%(match)s was not invited: the study is not recruiting.")
INVITE_TOO_SOON = _(
    "%(match)s was not invited: this person was invited to a study on %(last)s. A person gets "
    "at most one invitation in %(days)s days, so they can be invited from %(next)s."
)
INVITED = _("%(match)s is invited. The email is on its way.")


class InvitationRefused(RecruitmentError):
    """The person may not be invited now; the message (safe for staff) says why."""


def registry_invitation_send(
    *, match: RegistryMatch, by, site_url: str = "", now: datetime | None = None
) -> RegistryInvitation:
    """Invite the match's person to apply to the match's study: an audited invitation row
    (who, when), the match marked invited, and the email queued (sent after commit, in the
    person's language, rendered when it is sent). Raises `InvitationRefused` and writes
    nothing when the person may not be invited now."""
    now = now or timezone.now()
    label = match_label(match)
    try:
        with transaction.atomic():
            # The person first: every invitation to them, whatever the study, waits here.
            person = Person.objects.select_for_update().filter(pk=match.person_id).first()
            locked = (
                RegistryMatch.objects.select_for_update().select_related("study").get(pk=match.pk)
            )
            refusal = _refusal(locked, person, now=now)
            if refusal is not None:
                raise InvitationRefused(refusal)
            invitation = RegistryInvitation(
                match=locked, sent_by=by, sent_at=now, nonce=secrets.token_urlsafe(16)
            )
            invitation.full_clean(exclude=["match", "sent_by"], validate_unique=False)
            invitation._history_user = by  # simple-history's documented hook
            invitation._change_reason = "Invited to apply to the study"
            invitation.save()
            RegistryMatch.objects.filter(pk=locked.pk).update(
                state=MatchState.INVITED, invited_at=now
            )
            match.state, match.invited_at = MatchState.INVITED, now
            notifications.task_enqueue(
                notifications.registry_invitation_email_send,
                invitation_id=invitation.pk,
                site_url=site_url,
            )
    except IntegrityError:
        # The other coordinator's invitation to this study committed first.
        raise InvitationRefused(INVITE_ALREADY % {"match": label}) from None
    return invitation


def _refusal(match: RegistryMatch, person: Person | None, *, now: datetime) -> str | None:
    """Why this match may not be invited now (a message for staff), or None."""
    label = match_label(match)
    if person is None or not Person.objects.in_registry().filter(pk=person.pk).exists():
        return INVITE_NOT_IN_REGISTRY % {"match": label}
    if RegistryInvitation.objects.filter(match=match).exists():
        return INVITE_ALREADY % {"match": label}
    if match.state != MatchState.MATCHED:
        return INVITE_ANSWERED % {"match": label, "state": match.get_state_display().lower()}
    if match.outcome == MatchOutcome.INELIGIBLE:
        return INVITE_INELIGIBLE % {"match": label}
    if not match.study.is_recruiting:
        return INVITE_NOT_RECRUITING % {"match": label}
    last = registry_invitation_last_sent(person=person)
    days = settings.REGISTRY_INVITE_MIN_DAYS
    if last is not None and last > now - timedelta(days=days):
        return INVITE_TOO_SOON % {
            "match": label,
            "last": date_format(timezone.localdate(last), "DATE_FORMAT"),
            "days": days,
            "next": date_format(timezone.localdate(last + timedelta(days=days)), "DATE_FORMAT"),
        }
    return None


def registry_invitation_last_sent(*, person: Person) -> datetime | None:
    """When the person was last invited to any study, or None."""
    return (
        RegistryInvitation.objects.filter(match__person=person)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
