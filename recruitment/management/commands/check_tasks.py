"""`manage.py check_tasks`: is the background task queue (every email) draining? Prints the
queue's state and exits non-zero when a due task has waited longer than
TASKS_MAX_WAIT_MINUTES, a task has been running longer than TASKS_STUCK_MINUTES, an email
was given up in the last day, or an interest form sent has waited longer than
TASKS_MAX_WAIT_MINUTES to be taken in: for a monitoring timer (docs/operations.md, "The task
worker")."""

from django.core.management.base import BaseCommand, CommandError

from recruitment.notifications.queue import queue_health

FAILED = "Task queue check failed: {problems}"


class Command(BaseCommand):
    help = "Report whether the background task queue (emails) is draining; non-zero if not."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-wait-minutes",
            type=int,
            default=None,
            help="Longest a due task may wait (default: TASKS_MAX_WAIT_MINUTES).",
        )
        parser.add_argument(
            "--stuck-minutes",
            type=int,
            default=None,
            help="Longest a task may run (default: TASKS_STUCK_MINUTES).",
        )
        parser.add_argument(
            "--failed-hours",
            type=int,
            default=24,
            help="Report tasks that failed within this many hours (default: 24).",
        )

    def handle(self, *args, **options):
        health = queue_health(
            max_wait_minutes=options["max_wait_minutes"],
            stuck_minutes=options["stuck_minutes"],
            failed_hours=options["failed_hours"],
        )
        self.stdout.write(
            f"{health.backend}: {health.due} due (oldest {health.oldest_due_minutes} min), "
            f"{health.scheduled} scheduled, {health.running} running, {health.stuck} stuck, "
            f"{health.failed} failed; {health.sent_forms} interest form(s) waiting to be taken "
            f"in (oldest {health.oldest_sent_form_minutes} min)"
            + (": OK" if not health.problems else "")
        )
        if health.problems:
            raise CommandError(FAILED.format(problems="; ".join(health.problems)))
