"""The text backends: each has `send(*, to, body) -> str` (the provider's message id) and
raises `TextRefused` when the text was not taken."""

import base64
import contextlib
import json
import logging
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from recruitment import texts

logger = logging.getLogger(__name__)


class BaseTextBackend:
    def send(self, *, to: str, body: str) -> str:  # pragma: no cover - the interface
        raise NotImplementedError


class ConsoleTextBackend(BaseTextBackend):
    """Development: print the text. The number is masked; the body is printed only with DEBUG
    on (`make run`), since in production the console is the server's log."""

    stream = None

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str) -> str:
        sid = f"console-{uuid.uuid4().hex[:12]}"
        shown = body if settings.DEBUG else f"({len(body)} characters, shown only with DEBUG)"
        self.stream.write(f"Text {sid} to {texts.masked(to)}:\n{shown}\n{'-' * 40}\n")
        self.stream.flush()
        return sid


class LocMemTextBackend(BaseTextBackend):
    """Tests: keep each text in `recruitment.texts.outbox`."""

    lock = threading.Lock()

    def send(self, *, to: str, body: str) -> str:
        sid = f"SM{uuid.uuid4().hex}"
        with self.lock:
            texts.outbox.append(texts.TextMessage(to=to, body=body, sid=sid))
        return sid


# Twilio error codes that will not change on a retry: an unsubscribed recipient (the person
# replied STOP), a number that cannot get texts, a landline, a blocked or invalid number.
TWILIO_PERMANENT_CODES = {"21211", "21408", "21610", "21612", "21614", "30003", "30005", "30006"}


class TwilioTextBackend(BaseTextBackend):
    """Twilio's Messages API: POST {base}/2010-04-01/Accounts/{sid}/Messages.json with basic
    auth (account SID, auth token) and the form fields To, From, Body; 201 and a JSON body
    with the message's `sid`. A 4xx is permanent (but 429, too many requests); a 5xx, a
    refused connection or a timeout is retried. Standard library only."""

    def __init__(self):
        self.account_sid = settings.TEXT_TWILIO_ACCOUNT_SID
        self.auth_token = settings.TEXT_TWILIO_AUTH_TOKEN
        self.from_number = settings.TEXT_FROM_NUMBER
        self.base_url = settings.TEXT_API_BASE_URL.rstrip("/")
        self.timeout = settings.TEXT_TIMEOUT
        if not (self.account_sid and self.auth_token and self.from_number):
            raise ImproperlyConfigured(
                "Twilio texts need TEXT_TWILIO_ACCOUNT_SID, TEXT_TWILIO_AUTH_TOKEN and "
                "TEXT_FROM_NUMBER."
            )
        if urllib.parse.urlsplit(self.base_url).scheme not in ("https", "http"):
            raise ImproperlyConfigured("TEXT_API_BASE_URL must be an https:// address.")

    def send(self, *, to: str, body: str) -> str:
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": self.from_number, "Body": body})
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            url,
            data=data.encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            code = ""
            with contextlib.suppress(ValueError):
                code = str(json.loads(exc.read() or b"{}").get("code") or "")
            permanent = (400 <= exc.code < 500 and exc.code != 429) or code in (
                TWILIO_PERMANENT_CODES
            )
            # Twilio's message quotes the number: only the status and code are kept.
            raise texts.TextRefused(
                f"HTTP {exc.code}" + (f" (Twilio error {code})" if code else ""),
                permanent=permanent,
                code=code,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise texts.TextRefused(type(exc).__name__, permanent=False) from None
        except ValueError:
            raise texts.TextRefused("an answer that is not JSON", permanent=False) from None
        sid = answer.get("sid")
        if not sid:
            raise texts.TextRefused("an answer without a message id", permanent=False)
        return str(sid)
