"""Text messages (SMS), sent through a backend chosen by the TEXT_BACKEND setting, as Django
sends email through EMAIL_BACKEND.

`send_text(to=..., body=...)` hands one message to the backend and returns the provider's
message id. The backends (`backends.py`): the console (development), an in-memory outbox for
tests (`recruitment.texts.outbox`, like `django.core.mail.outbox`) and Twilio's Messages API.
An empty TEXT_BACKEND turns texts off: `texts_enabled()` is false and every notice goes by
email. What is sent, when, and to whom is decided above (recruitment/notifications/); this
package only delivers."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TextMessage:
    """A text as the in-memory backend keeps it."""

    to: str
    body: str
    sid: str


# The in-memory backend's sent texts (tests empty it before each test).
outbox: list[TextMessage] = []


class TextRefused(Exception):
    """The provider did not take the text. `permanent`: trying again will not help (a bad
    number, an unsubscribed recipient, refused credentials); otherwise retry later. `code`:
    the provider's error code, when it gave one. The text never holds the number or body."""

    def __init__(self, reason: str, *, permanent: bool, code: str = ""):
        super().__init__(reason)
        self.permanent = permanent
        self.code = code


class TextsOff(Exception):
    """TEXT_BACKEND is empty: nothing can be sent by text."""


def texts_enabled() -> bool:
    return bool(getattr(settings, "TEXT_BACKEND", ""))


def get_backend(path: str | None = None, **options):
    """An instance of the backend named by `path`, or by the TEXT_BACKEND setting."""
    path = path or getattr(settings, "TEXT_BACKEND", "")
    if not path:
        raise TextsOff("TEXT_BACKEND is empty: texts are turned off.")
    return import_string(path)(**options)


def send_text(*, to: str, body: str) -> str:
    """Send `body` to `to` (E.164, e.g. +12055550100); return the provider's message id.
    Raises `TextRefused` when the provider does not take it, `TextsOff` when texts are off."""
    return get_backend().send(to=to, body=body)


def masked(number: str) -> str:
    """A number for a log line: the country code and the last two digits, e.g. +1*******00."""
    if len(number) <= 4:
        return "*" * len(number)
    head = 2 if number.startswith("+") else 0
    return number[:head] + "*" * (len(number) - head - 2) + number[-2:]
