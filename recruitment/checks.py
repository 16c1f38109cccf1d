"""System checks of this project's own deployment rules (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils.module_loading import import_string

# Caches whose counts are not one for every worker process: each gunicorn worker (or each
# machine) would allow the full rate on its own, and a restart forgets every count.
PROCESS_LOCAL_CACHES = (LocMemCache, DummyCache, FileBasedCache)
RATE_LIMIT_CACHE_NOT_SHARED = (
    "The cache the rate limits count in ({alias!r}: {backend}) is not shared by every worker "
    "process: each one counts on its own and a restart forgets the counts."
)
RATE_LIMIT_CACHE_HINT = (
    "Leave CACHE_URL unset (the database cache, created by `migrate`) or set it to Redis "
    "(CACHE_URL=redis://127.0.0.1:6379/1)."
)


@checks.register(checks.Tags.caches, deploy=True)
def check_rate_limit_cache_is_shared(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when the interest form's per-address limit would hold per worker, not per site."""
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    try:
        backend_class = import_string(backend)
    except ImportError:
        return []  # Django's own cache checks report a backend that does not import
    if not issubclass(backend_class, PROCESS_LOCAL_CACHES):
        return []
    return [
        checks.Warning(
            RATE_LIMIT_CACHE_NOT_SHARED.format(alias=alias, backend=backend),
            hint=RATE_LIMIT_CACHE_HINT,
            id="recruitment.W001",
        )
    ]


# Task backends that run a task in the web process as it is enqueued: no queue, so an email the
# mail server refuses is given up at once instead of retried.
IMMEDIATE_TASKS_IN_PRODUCTION = (
    "Tasks (every email) run in the web process as they are enqueued ({backend}): an email the "
    "mail server refuses is not retried, and the patient waits on the mail server."
)
IMMEDIATE_TASKS_HINT = (
    "Leave TASKS_BACKEND unset (the database queue, run by `manage.py db_worker`) or set it to "
    "rq with a worker (docs/deploy.md)."
)


@checks.register(deploy=True)
def check_tasks_are_queued(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when emails would be sent from the request, with no retry."""
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if backend not in {
        "django_tasks.backends.immediate.ImmediateBackend",
        "django_tasks.backends.dummy.DummyBackend",
    }:
        return []
    return [
        checks.Warning(
            IMMEDIATE_TASKS_IN_PRODUCTION.format(backend=backend),
            hint=IMMEDIATE_TASKS_HINT,
            id="recruitment.W002",
        )
    ]


TEXTS_TO_THE_CONSOLE = (
    "Texts are printed to the server's log ({backend}), never sent to patients: reminders for "
    "patients who chose texts are lost."
)
TEXTS_TO_THE_CONSOLE_HINT = (
    "Set TEXT_BACKEND=twilio with its TEXT_* settings, or leave TEXT_BACKEND empty to send "
    "everything by email (docs/operators.md, 'Texts and reminders')."
)
TWILIO_SETTINGS_MISSING = "TEXT_BACKEND is Twilio's but {missing} is not set: no text can be sent."


@checks.register(deploy=True)
def check_texts_are_delivered(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when production texts would go nowhere: the console backend, or Twilio without
    its account, token or sender number."""
    backend = getattr(settings, "TEXT_BACKEND", "")
    if backend.endswith(".ConsoleTextBackend") or backend.endswith(".LocMemTextBackend"):
        return [
            checks.Warning(
                TEXTS_TO_THE_CONSOLE.format(backend=backend),
                hint=TEXTS_TO_THE_CONSOLE_HINT,
                id="recruitment.W003",
            )
        ]
    if backend.endswith(".TwilioTextBackend"):
        missing = [
            name
            for name in ("TEXT_TWILIO_ACCOUNT_SID", "TEXT_TWILIO_AUTH_TOKEN", "TEXT_FROM_NUMBER")
            if not getattr(settings, name, "")
        ]
        if missing:
            return [
                checks.Warning(
                    TWILIO_SETTINGS_MISSING.format(missing=", ".join(missing)),
                    hint=TEXTS_TO_THE_CONSOLE_HINT,
                    id="recruitment.W004",
                )
            ]
    return []
