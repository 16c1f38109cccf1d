"""Sending a text, and trying again later when the provider refuses it for now.

As emails (`delivery.py`): a refusal that may pass (a 5xx, no answer, too many requests)
enqueues the task's next attempt after the next delay of TEXT_RETRY_DELAYS; a refusal for
good (a 4xx: a bad number, an unsubscribed recipient) or the last delay passed ends the task
`FAILED` with `TextNotDelivered`. Log lines and errors name the text's kind and a screening
number or an id, never the number or the body."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from recruitment.models import OptOutHow
from recruitment.texts import TextRefused, send_text
from recruitment.texts.services import text_opt_out_record

logger = logging.getLogger(__name__)

# Twilio's "Attempt to send to unsubscribed recipient": they replied STOP to our number.
UNSUBSCRIBED_CODE = "21610"


class TextNotDelivered(Exception):
    """A text was given up: refused for good, or on its last attempt."""


def text_retry_at(attempt: int, *, now=None):
    """When attempt `attempt + 1` runs, or None when `attempt` was the last."""
    delays = settings.TEXT_RETRY_DELAYS
    if attempt > len(delays):
        return None
    return (now or timezone.now()) + timedelta(seconds=delays[attempt - 1])


def text_deliver(*, task, to: str, body: str, about: str, attempt: int, ids: dict) -> str:
    """Send one text; on a refusal for now enqueue `task` again with `ids` and `attempt + 1`.
    Returns what happened ("sent <id>", "retry at <time>"); raises `TextNotDelivered`."""
    try:
        sid = send_text(to=to, body=body)
    except TextRefused as exc:
        if exc.code == UNSUBSCRIBED_CODE:
            # The provider knows of a STOP we missed: record it, so nothing is tried again.
            text_opt_out_record(phone=to, how=OptOutHow.REPLY)
        when = None
        if not exc.permanent and task.get_backend().supports_defer:
            when = text_retry_at(attempt)
        if when is None:
            logger.error("%s failed: %s; given up after %d attempt(s)", about, exc, attempt)
            given_up = f"{about}: given up after {attempt} attempt(s) ({exc})"
            raise TextNotDelivered(given_up) from None
        task.using(run_after=when).enqueue(**ids, attempt=attempt + 1)
        logger.warning(
            "%s refused on attempt %d (%s); next attempt at %s",
            about,
            attempt,
            exc,
            when.isoformat(timespec="seconds"),
        )
        return f"retry at {when.isoformat()}"
    logger.info("%s sent", about)
    return f"sent {sid}"
