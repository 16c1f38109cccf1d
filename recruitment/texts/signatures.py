"""Twilio's request signature (X-Twilio-Signature): HMAC-SHA1, keyed with the account's auth
token, of the full URL Twilio posted to followed by each POST field's name and value, the
names in sorted order; base64-encoded."""

import base64
import hashlib
import hmac


def twilio_signature(*, url: str, params: dict[str, str], auth_token: str) -> str:
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    *, url: str, params: dict[str, str], auth_token: str, signature: str
) -> bool:
    if not (auth_token and signature):
        return False
    expected = twilio_signature(url=url, params=params, auth_token=auth_token)
    return hmac.compare_digest(expected, signature)
