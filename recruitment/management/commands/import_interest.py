from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recruitment.intake import importer
from recruitment.models import Study


class Command(BaseCommand):
    help = (
        "Import an interest list (CSV, the columns of docs/import-template.csv) into a study. "
        "Every row is checked like the public form; with --dry-run nothing is written. The real "
        "run imports every row or none. Exits non-zero when the file has errors."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="The study's slug, e.g. ldn-mecfs.")
        parser.add_argument("path", type=Path, help="The CSV file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report errors and possible duplicates; write nothing.",
        )

    def handle(self, *args, study, path, dry_run, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"No study with the slug {study!r}.")
        try:
            with path.open("rb") as file:
                data = file.read(importer.MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            report = importer.interest_list_import(study=found, data=data, dry_run=dry_run)
        except importer.InterestListError as exc:
            raise CommandError(str(exc)) from exc

        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(warning))
        style = self.style.SUCCESS if report.imported else (lambda text: text)
        for line in report.summary():
            self.stdout.write(style(line))
        for error in report.errors:
            self.stdout.write(self.style.ERROR(str(error)))
        if report.errors:
            message = importer.DRY_RUN_HAS_ERRORS if dry_run else importer.ROWS_HAVE_ERRORS
            raise CommandError(str(message))
        if dry_run:
            self.stdout.write(str(importer.DRY_RUN_DONE))
