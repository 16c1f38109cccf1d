"""The patient's signed withdraw link: made at submission, checked and used from the
confirmation email."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.crypto import constant_time_compare

from recruitment.links import WITHDRAW_SALT, withdraw_path, withdraw_token_make
from recruitment.models import (
    DeclineReason,
    Participant,
    Status,
    Study,
)
from recruitment.notifications import tasks as notifications
from recruitment.people import person_registry_leave
from recruitment.screening.services import participant_transition

__all__ = [
    "WITHDRAW_SALT",
    "WithdrawLink",
    "WithdrawState",
    "participant_withdraw_by_link",
    "registry_leave_by_withdraw_link",
    "withdraw_link_check",
    "withdraw_path",
    "withdraw_token_make",
]


# ---------------------------------------------------------------------------------------------
# Withdrawing interest: the patient's signed link
# ---------------------------------------------------------------------------------------------
# The link (made in recruitment/links.py) carries the participant's pk and their
# `withdraw_nonce`, signed with a salt of its own and a timestamp (django.core.signing). It
# works while the nonce matches and for WITHDRAW_LINK_MAX_AGE_DAYS: using it clears the nonce.
WITHDRAW_REASON = DeclineReason.WITHDREW_BY_LINK


class WithdrawState(StrEnum):
    INVALID = "invalid"  # tampered, expired, revoked or used: the page gives no detail
    OPEN = "open"  # the question may be asked (GET)
    WITHDRAWN = "withdrawn"  # declined just now (POST)
    ENROLLED = "enrolled"  # on the trial: not withdrawn by a link; the coordinators are told
    ALREADY_DONE = "already_done"  # declined, ineligible, withdrawn or completed already
    REGISTRY_LEFT = "registry_left"  # the person left the registry; the application stays


@dataclass(frozen=True)
class WithdrawLink:
    """What the withdraw page shows. Pages show the screening number and the study only."""

    state: WithdrawState
    participant: Participant | None = None


def _withdraw_token_read(token: str) -> tuple[int, str] | None:
    """The (pk, nonce) a token carries, or None when it is tampered with or expired."""
    max_age = timedelta(days=settings.WITHDRAW_LINK_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=WITHDRAW_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(payload, dict):
        return None
    pk, nonce = payload.get("p"), payload.get("n")
    if type(pk) is not int or not isinstance(nonce, str) or not nonce:
        return None
    return pk, nonce


def _withdraw_state(participant: Participant | None, nonce: str) -> WithdrawState:
    if participant is None:
        return WithdrawState.INVALID
    if participant.status in Status.final():
        return WithdrawState.ALREADY_DONE
    if not participant.withdraw_nonce or not constant_time_compare(
        participant.withdraw_nonce, nonce
    ):
        return WithdrawState.INVALID
    return WithdrawState.OPEN


def withdraw_link_check(*, token: str) -> WithdrawLink:
    """What the link would do, without doing it (the confirmation page; GET is safe)."""
    claim = _withdraw_token_read(token)
    if claim is None:
        return WithdrawLink(WithdrawState.INVALID)
    pk, nonce = claim
    participant = Participant.objects.select_related("study", "person").filter(pk=pk).first()
    state = _withdraw_state(participant, nonce)
    return WithdrawLink(state, participant if state != WithdrawState.INVALID else None)


def participant_withdraw_by_link(*, token: str, site_url: str = "") -> WithdrawLink:
    """The patient confirmed on the page: a participant not yet enrolled is declined (by the
    participant, reason WITHDRAW_REASON); an enrolled one is not taken off the trial by a
    link, and the coordinators are told to contact them. Either way the link dies, and the
    coordinators get a notice with the screening number only, after commit."""
    claim = _withdraw_token_read(token)
    if claim is None:
        return WithdrawLink(WithdrawState.INVALID)
    pk, nonce = claim
    with transaction.atomic():
        # The study row first, then the participant, as in `participant_transition`.
        study_id = Participant.objects.filter(pk=pk).values_list("study_id", flat=True).first()
        if study_id is None:
            return WithdrawLink(WithdrawState.INVALID)
        study = Study.objects.select_for_update().get(pk=study_id)
        locked = Participant.objects.select_for_update().get(pk=pk)
        locked.study = study
        state = _withdraw_state(locked, nonce)
        if state != WithdrawState.OPEN:
            return WithdrawLink(state, locked if state != WithdrawState.INVALID else None)
        Participant.objects.filter(pk=pk).update(withdraw_nonce="")
        locked.withdraw_nonce = ""
        if locked.status != Status.ENROLLED:
            locked = participant_transition(
                participant=locked,
                to=Status.DECLINED,
                by=None,
                by_participant=True,
                reason=WITHDRAW_REASON,
            )
            locked.study = study
            state = WithdrawState.WITHDRAWN
        else:
            state = WithdrawState.ENROLLED
        enrolled = state == WithdrawState.ENROLLED
        notifications.task_enqueue(
            notifications.withdraw_notice_send,
            participant_id=pk,
            enrolled=enrolled,
            site_url=site_url,
        )
    return WithdrawLink(state, locked)


def registry_leave_by_withdraw_link(*, token: str) -> WithdrawLink:
    """The withdraw page's second button: the person stops being contacted about other
    studies (they leave the registry) and the application stays as it is: its withdraw link
    still works. Only while the withdraw link itself works."""
    link = withdraw_link_check(token=token)
    if link.state != WithdrawState.OPEN:
        return link
    person_registry_leave(person=link.participant.person, by=None)
    return WithdrawLink(WithdrawState.REGISTRY_LEFT, link.participant)
