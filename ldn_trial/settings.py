"""Settings for ldn-trial, read from the environment.

One file for every deployment. Safe defaults: DEBUG is off unless set, SECRET_KEY is required
when DEBUG is off, the database is an embedded SQLite file unless DATABASE_URL names another.
`make run` sets development values itself; every variable: docs/operators.md, "Configuration".
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable, forgiving spaces after the commas."""
    return [item.strip() for item in env.list(name, default=default) if item.strip()]


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    SECRET_KEY = "django-insecure-development-only-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # django.contrib.admin, with a default site that requires staff two-factor verification.
    "accounts.security.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap's CSS served by the app, never a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "recruitment",
    "accounts",
]

MIDDLEWARE = [
    # First: notes whether a request wrote anything, so an error page says "nothing was saved"
    # only when that is true (recruitment/error_pages.py).
    "recruitment.error_pages.DatabaseWritesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "accounts.middleware.ContentSecurityPolicyMiddleware",
    "accounts.middleware.StaffNoStoreMiddleware",
    "recruitment.error_pages.RetryAfterMiddleware",
    # Compresses pages (BREACH mitigated by Django's random padding; CSRF tokens are masked).
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the form: an undecodable one gets the 400 page, not a crash.
    "recruitment.error_pages.RequestCharsetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.security.SessionLimitsMiddleware",
    "accounts.security.StaffVerificationMiddleware",
    "accounts.security.SecurityEventMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the friendly lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out username and IP before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 for every new or changed password; the others only read older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

ROOT_URLCONF = "ldn_trial.urls"
WSGI_APPLICATION = "ldn_trial.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: an embedded SQLite file unless DATABASE_URL names another (PostgreSQL in production).
# An empty DATABASE_URL (a blank line in an env file) counts as unset.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue instead of failing; IMMEDIATE makes a write transaction take the lock at
    # BEGIN, so "check a free slot, then write" serialises like SELECT ... FOR UPDATE does.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No just-in-time compilation of queries: PostgreSQL compiles a query whose estimated cost
    # passes jit_above_cost, which costs about a hundred milliseconds of CPU before the first
    # row, far more than the short queries of these pages save by it (the dashboard's call
    # list groups, whose row estimates are loose, were compiled on every view). An operator
    # may still turn it on per role or database; the app's connections turn it off.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache the rate limits count in must be one every gunicorn worker shares. CACHE_URL unset
# (or empty): a table in the database (recruitment/cache.py; `migrate` creates it), which
# needs no other service; `make run` uses it too, so development counts as production does.
# Redis: CACHE_URL=redis://127.0.0.1:6379/1. `check --deploy` warns on a per-process cache.
CACHES = {
    "default": env.cache_url("CACHE_URL")
    if env.str("CACHE_URL", default="")
    else {"BACKEND": "recruitment.cache.AtomicDatabaseCache", "LOCATION": "ldn_trial_cache"}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format on every English page ("Dec 7, 2026"): ldn_trial/formats/en/formats.py.
FORMAT_MODULE_PATH = ["ldn_trial.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the hashed, compressed files that WhiteNoise (or nginx) serves.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"

# The audit trail is read-only for everyone, superusers included.
SIMPLE_HISTORY_REVERT_DISABLED = True
# No index on the versions' dates: every history is read by its record's id and then sorted,
# and an index nobody reads costs every audited write an entry.
SIMPLE_HISTORY_DATE_INDEX = False

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.edu:587) or the EMAIL_* settings.
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default="django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Seconds an SMTP connection may wait on the server: a hung server fails the attempt (which is
# retried) instead of holding the task worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ldn-trial <noreply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
COORDINATOR_EMAILS = env_list("COORDINATOR_EMAILS", [])

# Background tasks (django-tasks, the backport of Django's own task API): every email is one,
# sent by a worker (recruitment/notifications/, docs/architecture.md "Background tasks").
# TASKS_BACKEND=database (the default): a table in the database, run by `manage.py db_worker`,
# no other service. rq: Redis at TASKS_REDIS_URL, run by
# `manage.py rqworker --with-scheduler --job-class django_tasks_rq.Job default`.
# immediate: run in the web process as the transaction commits, no retry (tests, debugging).
TASKS_BACKEND = env.str("TASKS_BACKEND", default="") or "database"
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {
            "URL": env.str("TASKS_REDIS_URL", default="redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": 300,
        }
    }
# A refused email is tried again after each of these delays (seconds), then given up (logged,
# and the task marked failed, which `check_tasks` reports): 7 attempts over about 20 hours.
EMAIL_RETRY_DELAYS = [
    int(delay)
    for delay in env_list("EMAIL_RETRY_DELAYS", ["60", "300", "1800", "7200", "21600", "43200"])
]
# `check_tasks` fails when a ready task has waited longer than this (the worker is stopped or
# behind) or a task has been running longer than TASKS_STUCK_MINUTES (its worker was killed).
TASKS_MAX_WAIT_MINUTES = env.int("TASKS_MAX_WAIT_MINUTES", default=10)
TASKS_STUCK_MINUTES = env.int("TASKS_STUCK_MINUTES", default=15)

# Text messages (recruitment/texts/): the backend's dotted path, as EMAIL_BACKEND. Empty
# turns texts off (everyone is written to by email): the default in production until a
# provider is set. "twilio" is short for Twilio's Messages API, which needs the account SID,
# its auth token (also what checks the signature of replies posted to /texts/inbound/) and the
# number texts come from, in E.164 (+12055550100).
_TEXT_BACKENDS = {
    "console": "recruitment.texts.backends.ConsoleTextBackend",
    "twilio": "recruitment.texts.backends.TwilioTextBackend",
    "locmem": "recruitment.texts.backends.LocMemTextBackend",
}
TEXT_BACKEND = env.str("TEXT_BACKEND", default="console" if DEBUG else "")
TEXT_BACKEND = _TEXT_BACKENDS.get(TEXT_BACKEND, TEXT_BACKEND)
TEXT_TWILIO_ACCOUNT_SID = env.str("TEXT_TWILIO_ACCOUNT_SID", default="")
TEXT_TWILIO_AUTH_TOKEN = env.str("TEXT_TWILIO_AUTH_TOKEN", default="")
TEXT_FROM_NUMBER = env.str("TEXT_FROM_NUMBER", default="")
TEXT_API_BASE_URL = env.str("TEXT_API_BASE_URL", default="https://api.twilio.com")
# Seconds a request to the provider may take; a slow answer fails the attempt (retried).
TEXT_TIMEOUT = env.int("TEXT_TIMEOUT", default=15)
# A text the provider refuses for now (5xx, no answer) is tried again after each delay.
TEXT_RETRY_DELAYS = [
    int(delay) for delay in env_list("TEXT_RETRY_DELAYS", ["60", "300", "1800", "7200"])
]
# Visit reminders go this many days before the visit (by the person's preferred channel).
VISIT_REMINDER_DAYS_BEFORE = env.int("VISIT_REMINDER_DAYS_BEFORE", default=1)
# ... from this hour of the site's day (0 to 23), so nobody gets a text in the night.
VISIT_REMINDER_FROM_HOUR = env.int("VISIT_REMINDER_FROM_HOUR", default=9)

# The patient's withdraw link (in the confirmation email) works once, for this many days.
WITHDRAW_LINK_MAX_AGE_DAYS = env.int("WITHDRAW_LINK_MAX_AGE_DAYS", default=180)
# How long the link to leave the registry (in the footer of patients' emails) works.
REGISTRY_LEAVE_LINK_MAX_AGE_DAYS = env.int("REGISTRY_LEAVE_LINK_MAX_AGE_DAYS", default=365)
# A form saved to finish later (a draft) and its emailed link last this many days from the
# last save; erase_expired_participants deletes expired drafts.
DRAFT_MAX_AGE_DAYS = env.int("DRAFT_MAX_AGE_DAYS", default=7)
# Registry invitations: a person is invited to a new study at most once in this many days,
# whatever the study; the links in an invitation (yes / no) work once, for this many days.
REGISTRY_INVITE_MIN_DAYS = env.int("REGISTRY_INVITE_MIN_DAYS", default=30)
# A criteria draft's what-if judges every applicant and registry member twice: up to this many
# people on the page itself, more in a background task whose result the page shows when done.
AMENDMENT_WHAT_IF_INLINE_MAX = env.int("AMENDMENT_WHAT_IF_INLINE_MAX", default=500)
REGISTRY_INVITATION_LINK_MAX_AGE_DAYS = env.int("REGISTRY_INVITATION_LINK_MAX_AGE_DAYS", default=30)
# The longest the dashboard reuses its counts while nothing the app wrote changed (a change
# made outside the app, a restore or SQL by hand, is recounted after this); changes made in
# the app are recounted by the task worker, queued by the next view, which shows the latest
# counts until then (recruitment/reports/dashboard.py). 0: count every participant on every
# view, in the request.
DASHBOARD_COUNTS_CACHE_SECONDS = env.int("DASHBOARD_COUNTS_CACHE_SECONDS", default=60)

# Security. With DEBUG off these pass `manage.py check --deploy` without a warning.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The language switch's cookie (django.views.i18n.set_language): no script reads it.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# A session ends after SESSION_COOKIE_AGE seconds without a request and, signed in,
# STAFF_SESSION_MAX_AGE after its login: accounts/security.py SessionLimitsMiddleware.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # Cookies only over HTTPS. `make serve` (plain HTTP on 127.0.0.1, no TLS) sets these and
    # SECURE_SSL_REDIRECT to 0 itself; a real deployment never does.
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env.bool("BEHIND_TLS_PROXY", default=False):
    # Only when a reverse proxy you control sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A withdraw link's token in a logged path (a refused CSRF check, say) is blanked out.
    "filters": {"signed_links": {"()": "accounts.log_filters.RedactSignedLinks"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["signed_links"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request errors are logged without the request's POST data (patients' answers).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # At DEBUG this logs whole template contexts (a patient's bound form included).
        "django.template": {"level": "INFO"},
    },
}

# ---------------------------------------------------------------------------------------------
# Security hardening (SECURITY.md). Each block below belongs to one concern.
# ---------------------------------------------------------------------------------------------
# Staff two-factor authentication (django-otp, TOTP): on unless DEBUG; `make run` is DEBUG.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=not DEBUG)
# Clients' IP behind a reverse proxy: how many proxies you trust to append X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# The public interest form: per-IP submissions, and the fastest a person can fill it.
INTEREST_RATE_LIMIT = env.str("INTEREST_RATE_LIMIT", default="10/h")
INTEREST_FORM_MIN_SECONDS = env.int("INTEREST_FORM_MIN_SECONDS", default=3)

# ---------------------------------------------------------------------------------------------
# Staff sign-in (SECURITY.md, points 2 to 5): accounts/security.py.
# ---------------------------------------------------------------------------------------------
# Two-factor: the issuer name staff see in their authenticator app.
OTP_TOTP_ISSUER = "ldn-trial"
# A signed-in session ends this many seconds after its login, however active (12 hours).
STAFF_SESSION_MAX_AGE = env.int("STAFF_SESSION_MAX_AGE", default=12 * 60 * 60)
# django-axes: 5 failed logins for one username from one IP lock that pair for the cool-off
# (hours); the right password is refused meanwhile. Per username AND IP, so one person cannot
# lock everyone out from behind a shared proxy. The IP comes from accounts/client_ip.py,
# which honours TRUSTED_PROXY_COUNT (set it to 1 behind one nginx).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout: retrying meanwhile does not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_CLIENT_STR_CALLABLE = "accounts.security.axes_client_str"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Security events (login success and failure, lockout, 2FA failure, 403): one JSON line each.
LOGGING["loggers"]["ldn_trial.security"] = {"level": "INFO"}

# ---------------------------------------------------------------------------------------------
# Public form abuse and headers (SECURITY.md, points 6 and 7).
# ---------------------------------------------------------------------------------------------
# django-ratelimit counts interest-form POSTs per client IP (accounts/client_ip.py) in the
# default cache, which every worker process shares: the database's or Redis (CACHES above).
RATELIMIT_USE_CACHE = "default"
# Content-Security-Policy (django-csp 4): nothing from a third party, no inline script or
# style. Bootstrap draws its tick boxes and select arrows as data: images in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Staff areas: never cached, and inline style attributes allowed (the audit list and the
# dashboard's charts use a few); scripts stay 'self'. See accounts/middleware.py.
STAFF_PATH_PREFIXES = ("/admin/", "/staff/")
STAFF_CONTENT_SECURITY_POLICY_UPDATE = {"style-src-attr": ["'unsafe-inline'"]}
# Permissions-Policy (django-permissions-policy): the pages run no script, so every powerful
# browser feature is denied to this site and to anything it could embed. Autofill stays
# allowed: it helps a tired patient fill the form.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "captured-surface-control",
        "clipboard-read",
        "clipboard-write",
        "compute-pressure",
        "display-capture",
        "document-domain",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "interest-cohort",
        "keyboard-map",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "otp-credentials",
        "payment",
        "picture-in-picture",
        "private-state-token-issuance",
        "private-state-token-redemption",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "shared-storage",
        "shared-storage-select-url",
        "speaker-selection",
        "storage-access",
        "sync-xhr",
        "usb",
        "web-share",
        "window-management",
        "xr-spatial-tracking",
    )
}
# A refused CSRF check gets the site's 403 page (a form left open too long, cookies blocked).
CSRF_FAILURE_VIEW = "recruitment.error_pages.csrf_failure"
