"""An uploaded interest list kept between its dry run and its import, so the coordinator does
not choose the file again.

The file is kept server-side in Django's cache (compressed), under a random key, for
`KEEP_SECONDS`; the page carries only a signed token naming that key, the study, the user and
the file's name, in a hidden field of the POST (never in a URL). The token is refused for
another user or study, or once expired; the import deletes the file.
"""

import logging
import secrets
import zlib
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache

logger = logging.getLogger(__name__)

KEEP_SECONDS = 30 * 60
_SALT = "recruitment.intake.import-upload"
_PREFIX = "import-upload:"


@dataclass(frozen=True)
class KeptUpload:
    token: str  # signed, for the page's hidden field
    name: str  # the file's name as uploaded, to show
    data: bytes


def upload_keep(*, data: bytes, name: str, study_id: int, user_id: int) -> str:
    """Keep the file; return the signed token, or "" when the cache cannot keep it (the
    coordinator then chooses the file again, as before)."""
    key = secrets.token_urlsafe(24)
    try:
        cache.set(f"{_PREFIX}{key}", zlib.compress(data), KEEP_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a cache outage only costs choosing the file again
        logger.warning("Import upload not kept: cache unavailable (%s)", type(exc).__name__)
        return ""
    return signing.dumps({"k": key, "s": study_id, "u": user_id, "n": name[:200]}, salt=_SALT)


def upload_get(*, token: str, study_id: int, user_id: int) -> KeptUpload | None:
    """The kept file for this study and user, or None (no token, forged, expired, another
    user's or study's, or gone from the cache)."""
    payload = _payload(token, study_id=study_id, user_id=user_id)
    if payload is None:
        return None
    try:
        stored = cache.get(f"{_PREFIX}{payload['k']}")
    except Exception as exc:  # noqa: BLE001
        logger.warning("Import upload unavailable: cache unavailable (%s)", type(exc).__name__)
        return None
    if stored is None:
        return None
    return KeptUpload(token=token, name=payload["n"], data=zlib.decompress(stored))


def upload_forget(*, token: str, study_id: int, user_id: int) -> None:
    """Delete the kept file (after the import)."""
    payload = _payload(token, study_id=study_id, user_id=user_id)
    if payload is None:
        return
    try:
        cache.delete(f"{_PREFIX}{payload['k']}")
    except Exception as exc:  # noqa: BLE001
        logger.warning("Import upload not deleted: cache unavailable (%s)", type(exc).__name__)


def _payload(token: str, *, study_id: int, user_id: int) -> dict | None:
    if not token:
        return None
    try:
        payload = signing.loads(token, salt=_SALT, max_age=KEEP_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if payload.get("s") != study_id or payload.get("u") != user_id:
        return None
    return payload
