"""Sending a task's emails, and trying again later those the mail server refuses.

django-tasks has no retry of its own. A refused attempt delivered nothing, so the task
enqueues its own next attempt (the same ids, `attempt` + 1, and only the emails refused) to
run after the next delay of EMAIL_RETRY_DELAYS, and ends. Each attempt is one task, claimed
by one worker, so an email the server finally accepts is delivered once. After the last
delay, or on a refusal for good (5xx), the task fails with `EmailNotDelivered` and the error
is logged; `check_tasks` reports failed tasks. Log lines and errors name the email's kind and
a screening number or an id, never an address: SMTP errors quote the recipient, so their text
is never kept.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

logger = logging.getLogger(__name__)


class EmailNotDelivered(Exception):
    """An email was given up: refused on its last attempt, or refused for good."""


def refused_for_good(exc: BaseException) -> bool:
    """A 5xx answer (no such mailbox, a policy refusal) will not change on a retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def retry_at(attempt: int, *, delays=None, now=None):
    """When attempt `attempt + 1` runs, or None when `attempt` was the last: after the next of
    `delays` (seconds; an email's, EMAIL_RETRY_DELAYS, unless given)."""
    delays = settings.EMAIL_RETRY_DELAYS if delays is None else delays
    if attempt > len(delays):
        return None
    return (now or timezone.now()) + timedelta(seconds=delays[attempt - 1])


def deliver(
    *,
    task,
    messages: dict[str, tuple[str, EmailMessage]],
    attempt: int,
    ids: dict,
    pending_in_retry: bool = False,
) -> str:
    """Send each of `messages` (name: (what to call it in a log line, the message)); when the
    server refuses some, enqueue `task` again with `ids` for the next attempt, naming only
    those refused (`pending`) when `pending_in_retry`, so an email accepted is never sent again.

    Returns what happened, which the task result keeps ("sent", "retry at <time>"); raises
    `EmailNotDelivered` when one is given up. A backend that cannot defer a task (the
    immediate one) gets no retry."""
    refused: dict[str, tuple[str, str]] = {}
    given_up: list[str] = []
    for name, (about, message) in messages.items():
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            reason = type(exc).__name__
            if refused_for_good(exc):
                logger.error("%s failed: %s; refused for good", about, reason)
                given_up.append(f"{about} ({reason})")
            else:
                refused[name] = (about, reason)
    outcome = "sent"
    when = retry_at(attempt) if refused and task.get_backend().supports_defer else None
    if when is not None:
        again = {**ids, "attempt": attempt + 1}
        if pending_in_retry:
            again["pending"] = sorted(refused)
        task.using(run_after=when).enqueue(**again)
        for about, reason in refused.values():
            logger.warning(
                "%s refused on attempt %d (%s); next attempt at %s",
                about,
                attempt,
                reason,
                when.isoformat(timespec="seconds"),
            )
        outcome = f"retry at {when.isoformat()}"
    elif refused:
        for about, reason in refused.values():
            logger.error("%s failed: %s; given up after %d attempt(s)", about, reason, attempt)
            given_up.append(f"{about} ({reason})")
    if given_up:
        raise EmailNotDelivered(
            f"Given up after {attempt} attempt(s): {'; '.join(given_up)}"
        ) from None
    return outcome
