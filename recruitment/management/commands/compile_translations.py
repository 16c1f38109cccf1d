"""Compile the translations (locale/*/LC_MESSAGES/*.po) into the .mo files Django reads.

With GNU gettext's `msgfmt` installed this is Django's `compilemessages`; without it (a fresh
machine that lacks the `gettext` package) polib writes the same catalogue, so `make run` and
`make test` still get the Spanish pages. tests/test_i18n.py checks that both agree.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def po_files() -> list[Path]:
    return sorted(po for root in settings.LOCALE_PATHS for po in Path(root).glob("*/*/*.po"))


def compile_with_polib(po: Path, mo: Path) -> None:
    import polib  # a setup tool (the dev extra), needed only without msgfmt

    polib.pofile(str(po)).save_as_mofile(str(mo))


class Command(BaseCommand):
    help = "Compile the .po translations to .mo, with msgfmt when installed, else with polib."

    def handle(self, *args, **options):
        if shutil.which("msgfmt"):
            call_command(
                "compilemessages",
                locale=[po.parent.parent.name for po in po_files()],
                ignore_patterns=[".venv", ".git"],
                verbosity=options["verbosity"],
            )
            return
        for po in po_files():
            compile_with_polib(po, po.with_suffix(".mo"))
            if options["verbosity"]:
                self.stdout.write(f"Compiled {po} with polib (msgfmt is not installed).")
