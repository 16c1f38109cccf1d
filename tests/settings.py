"""The settings the tests run with: the production settings (DEBUG off), with a throwaway
secret key when the environment gives none, so `pytest tests/<file>.py` works in any checkout
where `make` has run. `make test` sets both itself; test-only overrides live in conftest.py,
except the test database's connection options, read before any fixture runs."""

import os
import secrets

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", f"test-only-{secrets.token_urlsafe(40)}")

from ldn_trial.settings import *  # noqa: E402, F403

# A test database outlives no crash, so its commits need not reach the disk before they
# return: every transactional test commits often (each live-server request, and the flush
# after the test, which writes the content types and permissions again), and waiting for the
# disk at each commit was most of their time. Locking and isolation are unchanged; the
# processes the tests start (gunicorn, the workers) keep the production settings.
_default = DATABASES["default"]  # noqa: F405
if _default["ENGINE"] == "django.db.backends.sqlite3":
    _default["OPTIONS"] = {**_default["OPTIONS"], "init_command": "PRAGMA synchronous=OFF;"}
else:
    _options = _default.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c synchronous_commit=off".strip()

# Empties PostgreSQL's tables after each transactional test with DELETE, not TRUNCATE
# (tests/database/management/commands/flush.py).
INSTALLED_APPS = ["tests.database", *INSTALLED_APPS]  # noqa: F405
