import os
import time

from django.core.management.base import BaseCommand

from recruitment.notifications.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Queue the reminders due now: each visit's reminder to the patient "
        "(VISIT_REMINDER_DAYS_BEFORE days ahead, by text or email as they chose) and each "
        "study's email of the follow-ups due today to its coordinators. Each is claimed once "
        "(a unique row), so running it often, or on two machines at once, sends nothing "
        "twice. Run it every few minutes (docs/deploy.md); the task worker sends them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running, once every SECONDS, until the shell that started it ends (for "
            "`make run`); by default run once.",
        )

    def handle(self, *args, every, **options):
        parent = os.getppid()
        while True:
            counts = reminders_send()
            self.stdout.write(
                "Reminders queued: " + ", ".join(f"{kind} {n}" for kind, n in counts.items())
            )
            if not every:
                return
            time.sleep(every)
            if os.getppid() != parent:  # `make run`'s shell has gone: stop with it
                return
