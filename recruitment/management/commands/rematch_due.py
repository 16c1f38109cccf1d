from django.core.management.base import BaseCommand
from django.utils import timezone

from recruitment.registry.services import registry_rematch_due


class Command(BaseCommand):
    help = (
        "Match again the registry matches that waited for a date (a washout ending) which has "
        "come. Run it daily from cron, e.g. `15 5 * * * manage.py rematch_due`."
    )

    def handle(self, *args, **options):
        result = registry_rematch_due(today=timezone.localdate())
        self.stdout.write(
            f"{result.evaluated} matches judged again: {result.updated} changed, "
            f"{result.unchanged} unchanged."
        )
