"""Staff sign-in: two-factor verification, session limits and security events in the log.

Listed in INSTALLED_APPS in place of "django.contrib.admin" (`StaffAdminConfig`), so this
module is imported while the app registry loads: it imports no model at module level.

Three layers keep a password-only staff session (STAFF_2FA_REQUIRED) out of every staff page:
- `StaffVerificationMiddleware` sends every request under STAFF_PATH_PREFIXES (the admin and
  /staff/, whatever view or login path led there) to the enrol or verify page;
- `StaffAdminSite.has_permission` refuses the admin to an unverified user, as django-otp's
  OTPAdminSite does, should a request ever get past the middleware;
- `staff_required` (accounts/access.py) asks `verification_redirect` too.
"""

import datetime as dt
import json
import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.client_ip import client_ip

security_log = logging.getLogger("ldn_trial.security")

# Session keys: when the user logged in with a password, and was last seen (POSIX seconds).
LOGIN_AT_SESSION_KEY = "_ldn_login_at"
SEEN_AT_SESSION_KEY = "_ldn_seen_at"


# -- security events ---------------------------------------------------------------------------
class Event:
    LOGIN_SUCCESS = "login_success"
    LOGIN_FAILURE = "login_failure"
    LOCKOUT = "lockout"
    TWO_FACTOR_FAILURE = "2fa_failure"
    PERMISSION_DENIED = "permission_denied"


def security_event(event: str, *, request: HttpRequest | None, user_id: int | None) -> None:
    """Log one line: the event, the user's id (or null), the time and the client IP. Nothing
    else, ever: a username typed at a failed login may be an email address, a patient's even."""
    record = {
        "event": event,
        "user_id": user_id,
        "time": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
        "ip": (client_ip(request) or None) if request is not None else None,
    }
    security_log.info(json.dumps(record))


def _authenticated_user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def on_user_logged_in(sender, request, user, **kwargs):
    if request is None:
        return
    _mark_session(request, login=True)
    security_event(Event.LOGIN_SUCCESS, request=request, user_id=user.pk)


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    """The credentials (username included) are deliberately not logged."""
    security_event(Event.LOGIN_FAILURE, request=request, user_id=None)


def on_user_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    security_event(Event.LOCKOUT, request=request, user_id=None)


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """django-axes' description of a client in its own log lines: the IP only, never the
    username typed at the login form."""
    return f"{{ip_address: {ip_address!r}}}"


class SecurityEventMiddleware:
    """Log every 403 answer (PermissionDenied, a refused CSRF check) as `permission_denied`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            security_event(
                Event.PERMISSION_DENIED, request=request, user_id=_authenticated_user_id(request)
            )
        return response


# -- two-factor verification -------------------------------------------------------------------
def needs_verification(user) -> bool:
    """A staff user who signed in with a password only, while STAFF_2FA_REQUIRED is on."""
    if not settings.STAFF_2FA_REQUIRED:
        return False
    if not (user.is_authenticated and (user.is_staff or user.is_superuser)):
        return False
    is_verified = getattr(user, "is_verified", None)  # installed by django-otp's OTPMiddleware
    return not (is_verified is not None and is_verified())


def verification_redirect(request: HttpRequest) -> HttpResponseRedirect | None:
    """Where an unverified staff user must go first: the enrol page if they have no confirmed
    device yet, the verify page otherwise. None if nothing stands in the way."""
    if not needs_verification(request.user):
        return None
    from django_otp import user_has_device

    name = "staff_otp:verify" if user_has_device(request.user) else "staff_otp:enrol"
    query = urlencode({auth.REDIRECT_FIELD_NAME: request.get_full_path()})
    return HttpResponseRedirect(f"{reverse(name)}?{query}")


class StaffVerificationMiddleware:
    """No page of the admin or /staff/ for a password-only staff session (see the module
    docstring). Only the enrol and verify pages and the admin's logout stay open to it.
    Goes after django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(tuple(settings.STAFF_PATH_PREFIXES)):
            exempt = {reverse(name) for name in ("staff_otp:verify", "staff_otp:enrol")}
            exempt.add(reverse("admin:logout"))
            if request.path_info not in exempt:
                redirect = verification_redirect(request)
                if redirect is not None:
                    return redirect
        return self.get_response(request)


class StaffAdminSite(AdminSite):
    """The default admin site (`admin.site`), also requiring a verified OTP device when
    STAFF_2FA_REQUIRED is on, as django_otp.admin.OTPAdminSite does. No navigation sidebar:
    it lists two models the header and breadcrumbs already link to, and its width is what
    the participant list needs to fit a 1366-pixel screen."""

    enable_nav_sidebar = False

    def has_permission(self, request):
        return super().has_permission(request) and not needs_verification(request.user)

    def login(self, request, extra_context=None):
        """Signing in with no page asked for lands on the staff's start page (`staff:start`:
        the call list for those who contact participants), not on the admin's index."""
        asked = auth.REDIRECT_FIELD_NAME in request.GET or auth.REDIRECT_FIELD_NAME in request.POST
        if not asked:
            start = {auth.REDIRECT_FIELD_NAME: reverse("staff:start")}
            extra_context = {**start, **(extra_context or {})}
        return super().login(request, extra_context)


class StaffAdminConfig(AdminConfig):
    """Django's documented way to replace the default admin site: `admin.site` and every
    `@admin.register` keep working, and the site is ours from the first request."""

    default_site = "accounts.security.StaffAdminSite"

    def ready(self):
        super().ready()
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        user_logged_in.connect(on_user_logged_in, dispatch_uid="ldn_security_logged_in")
        user_login_failed.connect(on_user_login_failed, dispatch_uid="ldn_security_failed")
        user_locked_out.connect(on_user_locked_out, dispatch_uid="ldn_security_locked_out")


# -- session limits ----------------------------------------------------------------------------
def _mark_session(request: HttpRequest, *, login: bool = False) -> None:
    now = timezone.now().timestamp()
    if login:
        request.session[LOGIN_AT_SESSION_KEY] = now
    request.session[SEEN_AT_SESSION_KEY] = now


class SessionLimitsMiddleware:
    """End a signed-in session after SESSION_COOKIE_AGE seconds without a request (30
    minutes) and STAFF_SESSION_MAX_AGE seconds after its login however active (12 hours).

    The last request's time is written to the session at most once a minute (each write also
    renews the session's expiry in the store and the cookie's), not on every request: a
    staff page then costs no extra query. A session from before this middleware, with no
    times in it, starts counting now.
    """

    touch_every = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            login_at = request.session.get(LOGIN_AT_SESSION_KEY)
            seen_at = request.session.get(SEEN_AT_SESSION_KEY)
            if login_at is None or seen_at is None:
                _mark_session(request, login=login_at is None)
            elif (
                now - login_at > settings.STAFF_SESSION_MAX_AGE
                or now - seen_at > settings.SESSION_COOKIE_AGE
            ):
                auth.logout(request)  # the request goes on as anonymous
            elif now - seen_at >= self.touch_every:
                _mark_session(request)
        return self.get_response(request)
