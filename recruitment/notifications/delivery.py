"""Sending one email from a task, and trying again later when the mail server refuses.

django-tasks has no retry of its own. A refused attempt delivered nothing, so the task
enqueues its own next attempt (the same ids, `attempt` + 1) to run after the next delay of
EMAIL_RETRY_DELAYS, and ends. Each attempt is one task, claimed by one worker, so an email
the server finally accepts is delivered once. After the last delay, or on a permanent
refusal (5xx), the task fails with `EmailNotDelivered` and the error is logged; `check_tasks`
reports failed tasks. Log lines and errors name the email's kind and a screening number or
an id, never an address: SMTP errors quote the recipient, so their text is never kept.
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


def retry_at(attempt: int, *, now=None):
    """When attempt `attempt + 1` runs, or None when `attempt` was the last."""
    delays = settings.EMAIL_RETRY_DELAYS
    if attempt > len(delays):
        return None
    return (now or timezone.now()) + timedelta(seconds=delays[attempt - 1])


def deliver(*, task, message: EmailMessage, attempt: int, about: str, ids: dict) -> str:
    """Send `message`; on a refusal, enqueue `task` again with `ids` for the next attempt.

    Returns what happened ("sent", or "retry at <time>"), which the task result keeps; raises
    `EmailNotDelivered` when giving up. A backend that cannot defer a task (the immediate one)
    gets no retry."""
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        reason = type(exc).__name__
        when = None
        if not refused_for_good(exc) and task.get_backend().supports_defer:
            when = retry_at(attempt)
        if when is None:
            logger.error("%s failed: %s; given up after %d attempt(s)", about, reason, attempt)
            raise EmailNotDelivered(
                f"{about}: given up after {attempt} attempt(s) ({reason})"
            ) from None
        task.using(run_after=when).enqueue(**ids, attempt=attempt + 1)
        logger.warning(
            "%s refused on attempt %d (%s); next attempt at %s",
            about,
            attempt,
            reason,
            when.isoformat(timespec="seconds"),
        )
        return f"retry at {when.isoformat()}"
    return "sent"
