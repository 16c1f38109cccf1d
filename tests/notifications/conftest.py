"""A real SMTP server on loopback (aiosmtpd) that refuses each recipient's first attempts and
then accepts, and the database task queue run by its real worker command."""

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@dataclass
class RefusingThenAccepting:
    """Answers 451 (try again later) to each recipient's first `refusals` RCPTs, or `code`
    for good when `code` is a 5xx; accepts after that. Keeps every accepted message."""

    refusals: int = 0
    code: int = 451
    only: set[str] | None = None  # the addresses refused (all when None)
    attempts: dict[str, int] = field(default_factory=dict)
    delivered: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.attempts[address] = self.attempts.get(address, 0) + 1
        if self.only is not None and address not in self.only:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        if self.code >= 500:
            return f"{self.code} 5.1.1 No such mailbox here"
        if self.attempts[address] <= self.refusals:
            return f"{self.code} 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.delivered.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        """The messages delivered to `address`."""
        return [message for rcpts, message in self.delivered if address in rcpts]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """The SMTP server, and the settings that send to it (Django's SMTP backend)."""
    handler = RefusingThenAccepting()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        controller.port,
        5,
    )
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def database_queue(settings):
    """Tasks go to the database queue, as in production; retries are due at once unless a
    test sets its own delays."""
    settings.TASKS = DATABASE_TASKS
    settings.EMAIL_RETRY_DELAYS = [0, 0, 0, 0]


def run_worker() -> None:
    """`manage.py db_worker --batch`: run every due task, retries that fall due included, then
    stop."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


@pytest.fixture
def ldn_study(ldn_study):
    """The LDN study, less the registry's re-matching that loading it queued (a task of its
    own, tested in tests/registry): these tests count the queue's email tasks."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path__endswith=".study_rematch_task").delete()
    return ldn_study
