from django.conf import settings
from django.core.management.base import BaseCommand

from recruitment.intake import drafts, inbox
from recruitment.screening.retention import participants_erase_expired, sessions_erase_expired


class Command(BaseCommand):
    help = (
        "Erase the personal data of participants never enrolled (ineligible or declined) once "
        "their study's retention period has passed since their last status change, and the "
        "details of people whose every application was erased. Anonymous "
        "facts stay for the screening log and the CONSORT box. Also delete forms saved to "
        "finish later (drafts) once they expire (DRAFT_MAX_AGE_DAYS), expired sessions "
        "(they may hold a form's answers), and the screening numbers kept for forms taken in "
        "a day ago. Idempotent; schedule it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be erased (screening numbers only), count the expired drafts, "
            "and change nothing.",
        )

    def handle(self, *args, dry_run, **options):
        result = participants_erase_expired(dry_run=dry_run)
        verb = "Would erase" if dry_run else "Erased"
        for erasure in result.studies:
            numbers = erasure.screening_numbers
            self.stdout.write(
                f"{verb} the personal data of {len(numbers)} participant"
                f"{'' if len(numbers) == 1 else 's'} of {erasure.study.slug} "
                f"(retention {erasure.study.retention_days} days): {', '.join(numbers)}"
            )
        if result.people:
            self.stdout.write(
                f"{verb} the details of {result.people} "
                f"{'person' if result.people == 1 else 'people'} (name, contact details, date "
                "of birth) whose every application was erased."
            )
        expired_drafts = drafts.drafts_erase_expired(dry_run=dry_run)
        if expired_drafts:
            self.stdout.write(
                f"{'Would delete' if dry_run else 'Deleted'} {expired_drafts} expired draft"
                f"{'' if expired_drafts == 1 else 's'} (forms saved to finish later, kept "
                f"{settings.DRAFT_MAX_AGE_DAYS} days)."
            )
        numbers_kept = inbox.sent_forms_erase_taken_in(dry_run=dry_run)
        if numbers_kept:
            self.stdout.write(
                f"{'Would delete' if dry_run else 'Deleted'} {numbers_kept} screening number"
                f"{'' if numbers_kept == 1 else 's'} kept for forms taken in over a day ago "
                "(no personal data)."
            )
        sessions_erase_expired(dry_run=dry_run)
        if not dry_run:
            self.stdout.write("Deleted the expired sessions.")
        total = result.total + expired_drafts
        if not total and not result.people:
            self.stdout.write("Nothing to erase.")
        elif dry_run:
            self.stdout.write(f"Dry run: {total} in all; nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Erased {total} in all."))
