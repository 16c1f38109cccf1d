"""Save and finish later: the services and selectors for drafts.

A draft is an interest form a patient saved to finish later. It is not a participant: it has
no screening number, no answers or verdicts and no history, and it is never in the admin, the
staff pages or the exports. The patient gets a link by email, made by the email's task when it
sends (recruitment/notifications); only the sha256 of its token is stored, and resuming
replaces that hash, so a link works once. A draft lasts DRAFT_MAX_AGE_DAYS from its last save;
resuming refuses an expired one at once, and `drafts_erase_expired` (run by
`erase_expired_participants`) deletes it.

Nothing here logs an email address, an answer or a token.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from recruitment.links import token_hash, token_new
from recruitment.models import Draft, Study
from recruitment.notifications import tasks as notifications

# Posted fields never kept in a draft: per-page tokens (a resumed form gets fresh ones) and
# the honeypot.
NOT_SAVED = frozenset({"csrfmiddlewaretoken", "website", "form_issued", "submission_token"})
# Far more than anyone types in one field (the note's limit is 1,000): a bound on what a bot
# can store, never on what a person typed.
MAX_VALUE_CHARS = 10_000
MAX_VALUES_PER_FIELD = 20


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
    one made: new answers, email and expiry; its older link stops working at once (the hash
    kept is of a token nobody has until the email's task makes the link). The email is a task
    enqueued on commit, retried while the mail server refuses.
    """
    now = now or timezone.now()
    token = token_new()  # never sent: the task makes the emailed one
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
        notifications.task_enqueue(
            notifications.draft_link_send,
            draft_id=draft.pk,
            link_hash=draft.token_hash,
            site_url=site_url,
        )
    return draft


def draft_resume(*, study: Study, token: str, now: datetime | None = None) -> Draft | None:
    """Open the draft the link's `token` names, once: its hash is replaced by one of a token
    nobody knows, so the same link is refused next time. None for an unknown, used, expired
    or other study's token; of two requests racing with one link, only one wins."""
    draft = draft_get_by_token(study=study, token=token, now=now)
    if draft is None:
        return None
    new_hash = token_hash(token_new())
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
