"""Save and finish later: the services and selectors for drafts.

A draft is an interest form a patient saved to finish later. It is not a participant: it has
no screening number, no answers or verdicts and no history, and it is never in the admin, the
staff pages or the exports. The patient gets a link by email; only the sha256 of its token is
stored, and resuming replaces that hash, so a link works once. A draft lasts
DRAFT_MAX_AGE_DAYS from its last save; resuming refuses an expired one at once, and
`drafts_erase_expired` (run by `erase_expired_participants`) deletes it.

Nothing here logs an email address, an answer or a token.
"""

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from recruitment.models import Draft, Study

logger = logging.getLogger(__name__)

# Posted fields never kept in a draft: per-page tokens (a resumed form gets fresh ones) and
# the honeypot.
NOT_SAVED = frozenset({"csrfmiddlewaretoken", "website", "form_issued", "submission_token"})
# Far more than anyone types in one field (the note's limit is 1,000): a bound on what a bot
# can store, never on what a person typed.
MAX_VALUE_CHARS = 10_000
MAX_VALUES_PER_FIELD = 20


class DraftError(Exception):
    """A draft could not be saved."""


class DraftEmailFailed(DraftError):
    """The email with the link could not be sent, so the draft was not kept."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def draft_data_from_post(*, post: QueryDict, field_names: Iterable[str]) -> dict[str, list[str]]:
    """The answers to keep: every form field as posted (name to list of values), empty ones
    and per-page tokens left out."""
    data = {}
    for name in field_names:
        if name in NOT_SAVED:
            continue
        values = [str(v)[:MAX_VALUE_CHARS] for v in post.getlist(name)[:MAX_VALUES_PER_FIELD]]
        if any(values):
            data[name] = values
    return data


def draft_as_post(*, draft: Draft) -> QueryDict:
    """The draft's answers as the form would receive them from a browser."""
    post = QueryDict(mutable=True)
    for name, values in draft.data.items():
        post.setlist(name, [str(v) for v in values])
    return post


# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------
def draft_get_by_token(*, study: Study, token: str, now: datetime | None = None) -> Draft | None:
    """The study's unexpired draft whose link carries `token`; None for any other token."""
    now = now or timezone.now()
    return Draft.objects.filter(
        study=study, token_hash=token_hash(token), expires_at__gt=now
    ).first()


def draft_get(*, pk: int, study: Study, now: datetime | None = None) -> Draft | None:
    """The study's unexpired draft `pk` (the one a patient's session holds), or None."""
    now = now or timezone.now()
    return Draft.objects.filter(pk=pk, study=study, expires_at__gt=now).first()


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
def draft_save(
    *,
    study: Study,
    email: str,
    data: dict[str, list[str]],
    language: str = "en",
    site_url: str = "",
    draft_pk: int | None = None,
    now: datetime | None = None,
) -> Draft:
    """Keep a patient's answers and email them a link to come back, valid DRAFT_MAX_AGE_DAYS.

    `draft_pk` (the draft the patient's session holds, if any) is updated rather than a new
    one made: new answers, email, token and expiry; its older link stops working. The email
    is sent before this returns, not on commit: without it nobody can reach the draft, so on
    a failure the draft is deleted and `DraftEmailFailed` tells the patient, whose answers are
    still on their screen.
    """
    now = now or timezone.now()
    token = _new_token()
    with transaction.atomic():
        draft = None
        if draft_pk is not None:
            draft = (
                Draft.objects.select_for_update()
                .filter(pk=draft_pk, study=study, expires_at__gt=now)
                .first()
            )
        if draft is None:
            draft = Draft(study=study)
        draft.study = study  # already loaded: the email needs its slug and texts
        draft.email = email
        draft.data = data
        draft.language = language
        draft.token_hash = token_hash(token)
        draft.expires_at = now + timedelta(days=settings.DRAFT_MAX_AGE_DAYS)
        # The study is the caller's object, the data this module's; the hash is 256 random
        # bits, and unique in the table.
        draft.full_clean(exclude=["study", "data"], validate_unique=False)
        draft.save()
    if not _draft_link_send(draft=draft, token=token, site_url=site_url):
        Draft.objects.filter(pk=draft.pk).delete()
        raise DraftEmailFailed("The email with the link could not be sent.")
    return draft


def draft_resume(*, study: Study, token: str, now: datetime | None = None) -> Draft | None:
    """Open the draft the link's `token` names, once: its hash is replaced by one of a token
    nobody knows, so the same link is refused next time. None for an unknown, used, expired
    or other study's token; of two requests racing with one link, only one wins."""
    draft = draft_get_by_token(study=study, token=token, now=now)
    if draft is None:
        return None
    new_hash = token_hash(_new_token())
    used = Draft.objects.filter(pk=draft.pk, token_hash=draft.token_hash).update(
        token_hash=new_hash
    )
    if not used:
        return None
    draft.token_hash = new_hash
    return draft


def draft_discard(*, pk: int, study: Study) -> None:
    """Delete a draft: its answers were sent (it is a participant now) or are not wanted."""
    Draft.objects.filter(pk=pk, study=study).delete()


def drafts_erase_expired(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete every draft whose expiry has come; return how many (`dry_run`: only count)."""
    now = now or timezone.now()
    expired = Draft.objects.filter(expires_at__lte=now)
    if dry_run:
        return expired.count()
    deleted, _by_model = expired.delete()
    return deleted


def _draft_link_send(*, draft: Draft, token: str, site_url: str) -> bool:
    """Email the link, in the patient's language. No answers in it: only the study, the link
    and how long it works."""
    path = reverse("recruitment:draft_resume", kwargs={"slug": draft.study.slug, "token": token})
    context = {
        "study": draft.study,
        "resume_url": f"{site_url.rstrip('/')}{path}",
        "days": settings.DRAFT_MAX_AGE_DAYS,
        "expires_on": timezone.localtime(draft.expires_at).date(),
    }
    with translation.override(draft.language):
        subject = render_to_string("recruitment/email/draft_link_subject.txt", context)
        body = render_to_string("recruitment/email/draft_link.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [draft.email])
    except Exception as exc:  # noqa: BLE001 - reported to the patient by the caller
        # Never log the exception text: SMTP errors quote the recipient's address.
        logger.error("Draft link email failed: %s", type(exc).__name__)
        return False
    return True
