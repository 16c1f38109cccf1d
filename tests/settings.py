"""The settings the tests run with: the production settings (DEBUG off), with a throwaway
secret key when the environment gives none, so `pytest tests/<file>.py` works in any checkout
where `make` has run. `make test` sets both itself; test-only overrides live in conftest.py."""

import os
import secrets

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", f"test-only-{secrets.token_urlsafe(40)}")

from ldn_trial.settings import *  # noqa: E402, F403
