from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recruitment.errors import StudyFileError
from recruitment.studies.questions import QUESTION_BANK_FILE, question_bank_load_file


class Command(BaseCommand):
    help = (
        "Create or update the center's shared questions from the question bank file "
        "(recruitment/studies/questions.toml); idempotent. load_study runs it first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, default=QUESTION_BANK_FILE)
        parser.add_argument(
            "--create-only",
            action="store_true",
            help="Create missing questions; leave existing ones (and admin edits) untouched.",
        )

    def handle(self, *args, path, create_only, **options):
        try:
            result = question_bank_load_file(path=path, create_only=create_only)
        except StudyFileError as exc:
            raise CommandError(str(exc)) from exc
        if result.created or result.changed:
            for code in result.created:
                self.stdout.write(self.style.SUCCESS(f"Added shared question {code}."))
            for code in result.changed:
                self.stdout.write(self.style.SUCCESS(f"Updated shared question {code}."))
        else:
            self.stdout.write("The question bank is up to date.")
