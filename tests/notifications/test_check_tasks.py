"""`manage.py check_tasks` says whether the queue drains: it fails when a due task waits too
long (no worker), when a task has run too long (its worker was killed) or when an email was
given up in the last day; a retry waiting for its time is not a problem."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from recruitment.notifications import tasks
from recruitment.notifications.delivery import EmailNotDelivered
from recruitment.notifications.queue import queue_health

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_queue")]

START = dt.datetime(2026, 11, 25, 15, tzinfo=dt.UTC)


def check(capsys, *options) -> str:
    call_command("check_tasks", *options)
    return capsys.readouterr().out


def failure(*options) -> str:
    with pytest.raises(CommandError) as failed:
        call_command("check_tasks", *options)
    return str(failed.value)


def test_an_empty_queue_is_ok(capsys):
    assert check(capsys) == (
        "database: 0 due (oldest 0 min), 0 scheduled, 0 running, 0 stuck, 0 failed; "
        "0 interest form(s) waiting to be taken in (oldest 0 min): OK\n"
    )


def test_a_task_due_for_longer_than_the_limit_fails_the_check(time_machine, settings, capsys):
    settings.TASKS_MAX_WAIT_MINUTES = 10
    time_machine.move_to(START, tick=False)
    tasks.slot_freed_notice_send.enqueue(study_id=1)

    time_machine.move_to(START + dt.timedelta(minutes=9), tick=False)
    assert "1 due (oldest 9 min)" in check(capsys)

    time_machine.move_to(START + dt.timedelta(minutes=10), tick=False)
    assert failure() == (
        "Task queue check failed: 1 task(s) due and waiting, the oldest for 10 minutes: "
        "is a worker running?"
    )
    assert "for 10 minutes" in failure("--max-wait-minutes", "10")
    assert "OK" in check(capsys, "--max-wait-minutes", "11")


def test_a_retry_waiting_for_its_time_is_not_a_problem_until_it_is_due(time_machine, capsys):
    time_machine.move_to(START, tick=False)
    tasks.slot_freed_notice_send.using(run_after=START + dt.timedelta(hours=2)).enqueue(
        study_id=1, attempt=2
    )

    time_machine.move_to(START + dt.timedelta(hours=1), tick=False)
    assert check(capsys).startswith("database: 0 due (oldest 0 min), 1 scheduled")

    time_machine.move_to(START + dt.timedelta(hours=2, minutes=15), tick=False)
    assert "the oldest for 15 minutes" in failure()


def test_a_task_left_running_by_a_killed_worker_fails_the_check(time_machine, settings):
    settings.TASKS_STUCK_MINUTES = 15
    time_machine.move_to(START, tick=False)
    tasks.slot_freed_notice_send.enqueue(study_id=1)
    DBTaskResult.objects.get().claim("killed-worker")

    time_machine.move_to(START + dt.timedelta(minutes=16), tick=False)

    assert "1 task(s) running for over 15 minutes" in failure()


def test_an_email_given_up_in_the_last_day_fails_the_check(time_machine, capsys):
    time_machine.move_to(START, tick=False)
    tasks.slot_freed_notice_send.enqueue(study_id=1)
    row = DBTaskResult.objects.get()
    row.claim("worker")
    row.set_failed(EmailNotDelivered("Slot-freed email for s: given up after 7 attempt(s)"))

    time_machine.move_to(START + dt.timedelta(hours=23), tick=False)
    assert "1 task(s) failed in the last 24 hours" in failure()

    time_machine.move_to(START + dt.timedelta(hours=25), tick=False)
    assert check(capsys).endswith("(oldest 0 min): OK\n")
    assert "0 failed;" in check(capsys)


def test_the_immediate_backend_has_no_queue_to_check(settings, capsys):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    assert check(capsys).startswith("ImmediateBackend: 0 due")


@pytest.mark.parametrize("queued", [3, 30])
def test_the_check_runs_two_queries_however_long_the_queue(queued, django_assert_num_queries):
    for n in range(queued):
        tasks.slot_freed_notice_send.enqueue(study_id=n)

    with django_assert_num_queries(2):  # the queue, and the interest forms waiting
        health = queue_health()

    assert health.due == queued
