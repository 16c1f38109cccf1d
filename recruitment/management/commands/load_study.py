from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recruitment.errors import StudyFileError
from recruitment.studies.questions import question_bank_load_file
from recruitment.studies.services import study_load_file


class Command(BaseCommand):
    help = (
        "Create or update studies from their definition files (TOML); idempotent. "
        "With no path, loads every file in recruitment/studies/. The question bank "
        "(recruitment/studies/questions.toml) is loaded first."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="Study files to load.")
        parser.add_argument(
            "--create-only",
            action="store_true",
            help="Create missing studies; leave existing ones (and admin edits) untouched.",
        )

    def handle(self, *args, paths, create_only, **options):
        if not paths:
            studies = Path(__file__).resolve().parents[2] / "studies"
            paths = sorted(p for p in studies.glob("*.toml") if p.name != "questions.toml")
        try:
            question_bank_load_file(create_only=create_only)
        except StudyFileError as exc:
            raise CommandError(str(exc)) from exc
        for path in paths:
            try:
                result = study_load_file(path=path, create_only=create_only)
            except StudyFileError as exc:
                raise CommandError(str(exc)) from exc
            study = result.study
            if result.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Created study {study.slug} with {study.criteria.count()} criteria."
                    )
                )
            elif result.changes:
                self.stdout.write(self.style.SUCCESS(f"Updated study {study.slug}:"))
                for change in result.changes:
                    self.stdout.write(f"  {change}")
            else:
                self.stdout.write(f"Study {study.slug} is up to date.")
