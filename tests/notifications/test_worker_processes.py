"""The workers as an operator runs them, each in its own process with the production settings
from the environment: `manage.py db_worker` on the database queue (the default), and RQ's
worker on Redis (TASKS_BACKEND=rq). Each sends a real email to the SMTP server on loopback,
which refuses the first attempt. The database is a SQLite file of the test's own, migrated and
with the LDN study (`sqlite_with_ldn_study`, tests/conftest.py)."""

import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.test_serving import ROOT, production_env

COORDINATORS = "coordinators@example.edu"
# Loading the study queued the registry's re-matching (tests/registry): out of the count here.
ENQUEUE = (
    "from django_tasks_db.models import DBTaskResult; "
    "from recruitment.models import Study; "
    "from recruitment.notifications.tasks import slot_freed_notice_send; "
    "DBTaskResult.objects.filter(task_path__endswith='.study_rematch_task').delete(); "
    "slot_freed_notice_send.enqueue(study_id=Study.objects.get().pk)"
)
# A Redis database per test process, so two RQ tests running at once never share a queue.
REDIS = "redis://127.0.0.1:6379/{db}"
# A patient's form as the request keeps it (recruitment/intake/inbox.py), in a process of its
# own: with its take-in queued (the database queue) or enqueued once it commits (RQ).
SEND_A_FORM = (
    "from django_tasks_db.models import DBTaskResult; "
    "from recruitment.intake.inbox import sent_form_keep; "
    "from recruitment.models import Study; "
    "from tests.factories import LDN_ELIGIBLE_ANSWERS, contact_details; "
    "DBTaskResult.objects.filter(task_path__endswith='.study_rematch_task').delete(); "
    "sent_form_keep(study=Study.objects.get(), contact=contact_details(email='ann@example.com'), "
    "answers=LDN_ELIGIBLE_ANSWERS, token=None, language='en', site_url='https://example.edu/')"
)
TAKEN_IN = (
    "from recruitment.models import Participant, SentForm; "
    "print(list(Participant.objects.values_list('screening_number', 'outcome')), "
    "SentForm.objects.waiting().count())"
)


def manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_taken_in_and_emailed(env: dict[str, str], smtp_server) -> None:
    """The form SEND_A_FORM sent is a participant, no form waits, and the patient and the
    coordinators each got their email."""
    taken = manage("shell", "--no-imports", "-c", TAKEN_IN, env=env)
    assert taken.stdout == "[('LDN-S-0001', 'likely_eligible')] 0\n", taken.stderr
    assert sorted(rcpt for rcpts, _message in smtp_server.delivered for rcpt in rcpts) == [
        "ann@example.com",
        COORDINATORS,
    ]


def worker_env(database: Path, smtp_server, **variables: str) -> dict[str, str]:
    """The SQLite file, and email to the loopback server."""
    return production_env(
        DATABASE_URL=f"sqlite:///{database}",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_TIMEOUT="5",
        COORDINATOR_EMAILS=COORDINATORS,
        EMAIL_RETRY_DELAYS="0",
        **variables,
    )


@pytest.fixture
def smtp_server(smtp_server, settings):
    smtp_server.port = settings.EMAIL_PORT
    smtp_server.refusals = 1
    return smtp_server


def test_the_database_worker_process_delivers_a_refused_email_once(
    sqlite_with_ldn_study, smtp_server
):
    env = worker_env(sqlite_with_ldn_study, smtp_server)
    queued = manage("shell", "-c", ENQUEUE, env=env)
    assert queued.returncode == 0, queued.stderr
    waiting = manage("check_tasks", "--max-wait-minutes", "0", env=env)
    assert waiting.returncode == 1
    assert "1 task(s) due and waiting" in waiting.stderr

    worked = manage("db_worker", "--batch", "--no-startup-delay", "--interval", "0", env=env)

    assert worked.returncode == 0, worked.stderr
    assert smtp_server.attempts == {COORDINATORS: 2}
    (message,) = smtp_server.to(COORDINATORS)
    assert message["Subject"] == "A slot is free in LDN for ME/CFS"
    checked = manage("check_tasks", "--max-wait-minutes", "0", env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.endswith(
        "0 due (oldest 0 min), 0 scheduled, 0 running, 0 stuck, 0 failed; "
        "0 interest form(s) waiting to be taken in (oldest 0 min): OK\n"
    )


def test_the_database_worker_process_takes_in_a_sent_form_and_emails_the_patient(
    sqlite_with_ldn_study, smtp_server
):
    smtp_server.refusals = 0
    env = worker_env(sqlite_with_ldn_study, smtp_server)
    sent = manage("shell", "--no-imports", "-c", SEND_A_FORM, env=env)
    assert sent.returncode == 0, sent.stderr
    waiting = manage("check_tasks", "--max-wait-minutes", "0", env=env)
    assert "1 interest form(s) sent and not taken in" in waiting.stderr

    worked = manage("db_worker", "--batch", "--no-startup-delay", "--interval", "0", env=env)

    assert worked.returncode == 0, worked.stderr
    assert_taken_in_and_emailed(env, smtp_server)


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS.format(db=14), socket_connect_timeout=1).ping()
    except (OSError, redis.RedisError):
        return False


@pytest.fixture
def redis_url(worker_id):
    """This test process's Redis database (14 for the first, 13 for the next, ...), without
    RQ's keys, before and after."""
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379 (TASKS_BACKEND=rq needs it)")
    url = REDIS.format(db=14 - (int(worker_id[2:]) if worker_id.startswith("gw") else 0))
    connection = redis.Redis.from_url(url)

    def empty():
        for key in connection.scan_iter("rq:*"):
            connection.delete(key)

    empty()
    yield url
    empty()


def test_the_rq_worker_process_delivers_a_refused_email_once(
    sqlite_with_ldn_study, smtp_server, redis_url
):
    env = worker_env(
        sqlite_with_ldn_study, smtp_server, TASKS_BACKEND="rq", TASKS_REDIS_URL=redis_url
    )
    queued = manage("shell", "-c", ENQUEUE, env=env)
    assert queued.returncode == 0, queued.stderr
    rq_worker = ("rqworker", "--burst", "--with-scheduler", "--job-class", "django_tasks_rq.Job")

    first = manage(*rq_worker, "default", env=env)
    assert first.returncode == 0, first.stderr
    assert smtp_server.attempts == {COORDINATORS: 1}
    assert smtp_server.delivered == []
    # The retry is scheduled; a burst worker's scheduler moves it to the queue when it starts.
    second = manage(*rq_worker, "default", env=env)

    assert second.returncode == 0, second.stderr
    assert smtp_server.attempts == {COORDINATORS: 2}
    (message,) = smtp_server.to(COORDINATORS)
    assert message["Subject"] == "A slot is free in LDN for ME/CFS"
    checked = manage("check_tasks", env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("rq: 0 due")


def test_the_rq_worker_process_takes_in_a_sent_form(sqlite_with_ldn_study, smtp_server, redis_url):
    smtp_server.refusals = 0
    env = worker_env(
        sqlite_with_ldn_study, smtp_server, TASKS_BACKEND="rq", TASKS_REDIS_URL=redis_url
    )
    sent = manage("shell", "--no-imports", "-c", SEND_A_FORM, env=env)
    assert sent.returncode == 0, sent.stderr

    worked = manage(
        "rqworker",
        "--burst",
        "--with-scheduler",
        "--job-class",
        "django_tasks_rq.Job",
        "default",
        env=env,
    )

    assert worked.returncode == 0, worked.stderr
    assert_taken_in_and_emailed(env, smtp_server)
