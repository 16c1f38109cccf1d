"""Logging filters: what must never reach a log line."""

import logging
import re

# Tokens in patients' links are credentials until used or expired: the withdraw link, the
# link back to a form saved to finish later (/studies/<slug>/interest/resume/<token>/), and
# the link to leave the registry (/registry/leave/<token>/).
SIGNED_LINK = re.compile(r"(/withdraw/|/interest/resume/|/registry/leave/)[^/\s\"'?#]+")
REDACTED = r"\1[redacted]"
MARKERS = ("/withdraw/", "/interest/resume/", "/registry/leave/")


class RedactSignedLinks(logging.Filter):
    """Blank out the tokens of patients' links in a record's message (Django logs the request
    path on a refused CSRF check, a 404 or a server error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        if any(marker in message for marker in MARKERS):
            record.msg = SIGNED_LINK.sub(REDACTED, message)
            record.args = ()
        return True
