"""Response headers for every page: the Content-Security-Policy and no-store for staff areas.

The public pages get the strict policy in `CONTENT_SECURITY_POLICY`. Staff areas (the admin
and /staff/, `STAFF_PATH_PREFIXES`) add `STAFF_CONTENT_SECURITY_POLICY_UPDATE` to it: a few
templates there (simple_history's audit list, the dashboard's SVG charts) use inline `style`
attributes. Scripts stay 'self' everywhere and no third-party source is ever allowed.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.utils.cache import add_never_cache_headers


def is_staff_path(request) -> bool:
    return request.path_info.startswith(tuple(settings.STAFF_PATH_PREFIXES))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp, with the staff areas' small addition to the policy."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.update is None and is_staff_path(request):
            parts.update = settings.STAFF_CONTENT_SECURITY_POLICY_UPDATE
        return parts


class StaffNoStoreMiddleware:
    """Every admin and staff response (pages, exports, the login page) is never cached: they
    hold patients' data, and a shared or back-button cache must not keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_staff_path(request):
            add_never_cache_headers(response)
        return response
