"""The client's IP address, for per-IP rate limits.

Without a reverse proxy (`TRUSTED_PROXY_COUNT = 0`, the default) the client is `REMOTE_ADDR`
and `X-Forwarded-For` is ignored: any client can send one. Behind N proxies you control, each
appends the address it received the request from, so the client is the Nth entry counted from
the right; entries further left were written by the client and are never trusted. If the
header has fewer entries than that (the proxy was bypassed or is misconfigured), fall back to
`REMOTE_ADDR` rather than trust the client.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote_addr
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < count:
        return remote_addr
    return hops[-count]


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's `key`: count by client IP (see the module docstring)."""
    return client_ip(request)


def interest_rate(group: str, request: HttpRequest) -> str:
    """django-ratelimit's `rate`, read per request so the setting can change in tests."""
    return settings.INTEREST_RATE_LIMIT
