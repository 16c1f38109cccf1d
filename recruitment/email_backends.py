"""Email backends of this project."""

import copy

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.core.mail.message import EmailAlternative, EmailMessage

from accounts.log_filters import REDACTED, SIGNED_LINK


def redact_signed_links(text: str) -> str:
    """The text with the token of every patient's link (withdraw, resume a saved form)
    replaced by "[redacted]"."""
    return SIGNED_LINK.sub(REDACTED, text)


class RedactingConsoleEmailBackend(ConsoleEmailBackend):
    """Django's console backend for `make serve`, whose console is the server's log: each
    email is written whole but for the tokens of patients' links, which are credentials (they
    withdraw a patient's interest or open their saved answers) and must stay out of logs, as
    accounts/log_filters.py keeps them out of Django's own log lines.

    The body is redacted before it is encoded, so no encoding can split a token across lines
    and hide it from the pattern; the written text is redacted again for the headers.
    """

    def write_message(self, message: EmailMessage) -> None:
        msg = self.redacted(message).message()
        charset = msg.get_charset().get_output_charset() if msg.get_charset() else "utf-8"
        text = redact_signed_links(msg.as_bytes().decode(charset))
        self.stream.write(f"{text}\n")
        self.stream.write("-" * 79)
        self.stream.write("\n")

    @staticmethod
    def redacted(message: EmailMessage) -> EmailMessage:
        """A copy of the message with the links' tokens blanked in its text parts."""
        redacted = copy.copy(message)
        redacted.body = redact_signed_links(message.body)
        if getattr(message, "alternatives", None):
            redacted.alternatives = [
                EmailAlternative(
                    redact_signed_links(content) if isinstance(content, str) else content,
                    mimetype,
                )
                for content, mimetype in message.alternatives
            ]
        return redacted
