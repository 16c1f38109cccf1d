"""Access to staff pages and exports: logged in, active staff, and only their studies."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers

from accounts.security import verification_redirect
from recruitment.models import Study


def staff_required(view):
    """Anonymous users go to the login page; logged-in non-staff get 403; staff who signed in
    with a password only (STAFF_2FA_REQUIRED) go to the two-factor page first. Responses are
    never cached (they hold patients' data)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        if (redirect := verification_redirect(request)) is not None:
            return redirect
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapper


def study_for_staff(request, slug: str) -> Study:
    """The study, if the user is a member (superusers: any); otherwise 404, so staff of
    another study cannot even learn that it exists."""
    return get_object_or_404(Study.objects.visible_to(request.user), slug=slug)
