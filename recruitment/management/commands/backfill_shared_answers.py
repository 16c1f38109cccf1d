from django.core.management.base import BaseCommand, CommandError

from recruitment.models import Study
from recruitment.registry.backfill import shared_answers_backfill


class Command(BaseCommand):
    help = (
        "Record the shared answers of registry members who applied before the question bank "
        "(or a study's shared questions) existed, from their latest application's answers, "
        "never over a newer answer; then queue the affected studies' re-matching. Repeatable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", help="Only the applications to this study (its slug).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be written; write nothing."
        )

    def handle(self, *args, study=None, dry_run=False, **options):
        chosen = None
        if study:
            chosen = Study.objects.filter(slug=study).first()
            if chosen is None:
                raise CommandError(f"No study with the slug {study}.")
        result = shared_answers_backfill(study=chosen, dry_run=dry_run)
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{result.people} people in the registry read: {result.created} shared answers "
            f"{verb} created, {result.updated} {verb} updated, {result.kept} kept (the person's "
            "shared answer is as new or newer)."
        )
        if result.studies:
            self.stdout.write(f"Re-matching queued for: {', '.join(result.studies)}.")
