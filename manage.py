#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import secrets
import sys
from pathlib import Path

# Commands that read only the code, never a signed value: they run without SECRET_KEY, so a
# bare `manage.py makemigrations --check` works on a fresh checkout. Every other command with
# DEBUG off still needs the real key (ldn_trial/settings.py refuses to load without one).
KEYLESS_COMMANDS = {"makemigrations"}
VENV_PYTHON = Path(__file__).resolve().parent / ".venv" / "bin" / "python"


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_trial.settings")
    if sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS and not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = f"{sys.argv[1]}-signs-nothing-{secrets.token_urlsafe(50)}"
    try:
        from django.core.management import execute_from_command_line
    except ModuleNotFoundError:
        # Run by a Python without the project's packages: use the virtualenv `make` built.
        if VENV_PYTHON.exists() and Path(sys.executable) != VENV_PYTHON:
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])  # noqa: S606 (our own venv)
        raise

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
