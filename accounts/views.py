"""Staff two-factor pages: enrol an authenticator app (TOTP), then give its code at each login.

Both pages are for signed-in staff only: anonymous users go to the login page, others get 403.
Enrolment is open only while the user has no confirmed device, so someone holding a password
alone cannot add a device of their own to an account that already has one.
"""

from base64 import b32encode

import segno
from django import forms
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import mark_safe
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.security import Event, security_event

WRONG_CODE = _("That code is not right, or it has expired. Enter the code your app shows now.")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next_url(request) -> str:
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index")


def _with_next(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: _next_url(request)})}")


def _signed_in_staff_only(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and (request.user.is_staff or request.user.is_superuser)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return sensitive_post_parameters("token")(never_cache(wrapper))


def _verified(request, device) -> None:
    """The session now counts as verified: new key, the device remembered in it."""
    request.session.cycle_key()
    otp_login(request, device)


@_signed_in_staff_only
def enrol(request):
    """Show a new device's QR code (drawn here, as inline SVG) and secret; confirm it with a
    code from the app."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return _with_next("staff_otp:verify", request)
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=request.user, name=str(_("Authenticator app")), confirmed=False
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            confirmed = device.verify_token(form.cleaned_data["token"])
            if confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
        if confirmed:
            _verified(request, device)
            return redirect(_next_url(request))
        security_event(Event.TWO_FACTOR_FAILURE, request=request, user_id=request.user.pk)
        form.add_error("token", WRONG_CODE)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title=str(_("QR code for your authenticator app"))
    )
    context = {
        "form": form,
        "qr_svg": mark_safe(qr_svg),  # noqa: S308 - segno's own SVG, no user input in markup
        "secret": b32encode(device.bin_key).decode(),
        "next": _next_url(request),
    }
    return render(request, "recruitment/staff/otp_enrol.html", context)


@_signed_in_staff_only
def verify(request):
    """Ask for the current code of the user's confirmed device."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return _with_next("staff_otp:enrol", request)
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accepted = verify_token(request.user, device.persistent_id, form.cleaned_data["token"])
        if accepted is not None:
            _verified(request, accepted)
            return redirect(_next_url(request))
        security_event(Event.TWO_FACTOR_FAILURE, request=request, user_id=request.user.pk)
        form.add_error("token", WRONG_CODE)
    context = {"form": form, "next": _next_url(request)}
    return render(request, "recruitment/staff/otp_verify.html", context)


app_name = "staff_otp"
urlpatterns = [
    path("enrol/", enrol, name="enrol"),
    path("verify/", verify, name="verify"),
]
