"""`manage.py take_in_sent_forms`: take in every interest form still waiting (its task failed,
or the worker was stopped and its queue lost): for an operator, after `check_tasks` reported
them and the cause is mended (docs/operations.md, "The task worker")."""

from django.core.management.base import BaseCommand, CommandError

from recruitment.intake.inbox import sent_forms_take_in

FAILED = "{failed} interest form(s) could not be taken in; the log names them by id."


class Command(BaseCommand):
    help = "Take in the interest forms sent and still waiting; non-zero if any fails."

    def handle(self, *args, **options):
        taken, failed = sent_forms_take_in()
        self.stdout.write(f"{taken} interest form(s) taken in, {failed} failed.")
        if failed:
            raise CommandError(FAILED.format(failed=failed))
