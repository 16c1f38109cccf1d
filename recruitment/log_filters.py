"""Logging filters: what must never reach a log line."""

import logging
import re

# The token of a patient's withdraw link is a credential until it is used or expires.
SIGNED_LINK = re.compile(r"(/withdraw/)[^/\s\"'?#]+")
REDACTED = r"\1[redacted]"


class RedactSignedLinks(logging.Filter):
    """Blank out withdraw-link tokens in a record's message (Django logs the request path on
    a refused CSRF check, a 404 or a server error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        if "/withdraw/" in message:
            record.msg = SIGNED_LINK.sub(REDACTED, message)
            record.args = ()
        return True
