from django.core.management.base import BaseCommand

from accounts.services import demo_coordinator_ensure


class Command(BaseCommand):
    help = (
        "Create the demo coordinator login for local use; prints its random password once. "
        "Running again neither duplicates the account nor changes its password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="coordinator")

    def handle(self, *args, username, **options):
        password = demo_coordinator_ensure(username=username)
        if password is None:
            self.stdout.write(
                f"Demo coordinator '{username}' already exists; its password is unchanged "
                f"(reset it with: python manage.py changepassword {username})."
            )
            return
        self.stdout.write(self.style.SUCCESS("Demo coordinator created. Shown only this once:"))
        self.stdout.write(f"  username: {username}")
        self.stdout.write(f"  password: {password}")
