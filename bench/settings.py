"""Settings for `make bench`: the production settings (DEBUG off, 2FA on, rate limits on,
persistent connections) plus the yardstick URLs and their table.

What differs from production, and why (also written to bench/results/latest.md):
- plain HTTP on loopback, as behind a TLS proxy: BEHIND_TLS_PROXY=1 and TRUSTED_PROXY_COUNT=1,
  and wrk sends `X-Forwarded-Proto: https` and a random `X-Forwarded-For` per request, so the
  per-IP rate limit on the interest form runs on every POST but no single address reaches it;
- email goes to Django's dummy backend (messages are still rendered, never sent);
- the throwaway database `ldn_trial_bench` unless BENCH_DATABASE_URL names another;
- the cache: the default database table unless BENCH_CACHE_URL names another (a CACHE_URL
  set in the shell is ignored, so two runs compare the same cache).
"""

import os

os.environ["DEBUG"] = "0"  # the bench measures the production configuration
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 50)
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ldn_trial_bench"
)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("BEHIND_TLS_PROXY", "1")
os.environ.setdefault("TRUSTED_PROXY_COUNT", "1")
os.environ.setdefault("CSRF_TRUSTED_ORIGINS", "https://127.0.0.1,https://localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The cache is part of what a page costs: the default (a table in the database, CACHE_URL
# empty) unless BENCH_CACHE_URL names another, never a CACHE_URL left in the shell.
os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "")

from ldn_trial.settings import *  # noqa: E402, F403
from ldn_trial.settings import INSTALLED_APPS  # noqa: E402

BENCH = True
ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
