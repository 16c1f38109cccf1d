"""The registry's consent: the box's words and their version, recorded on the person."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

# The box on every interest form. Change the version whenever the words change: each person
# keeps the version they agreed to (tests/people/test_consent.py pins the pair).
REGISTRY_CONSENT_VERSION = "2026-12"
REGISTRY_CONSENT_TEXT = _(
    "The trial center may contact me about other studies I may be able to join"
)
REGISTRY_CONSENT_HELP = _(
    "Optional. We keep your name and contact details to tell you about other studies. "
    "You can say stop at any time, with the link in our emails."
)


@dataclass(frozen=True)
class RegistryConsent:
    """A person ticked the registry's box: which words (version) and when."""

    version: str
    at: datetime

    @classmethod
    def now(cls, *, at: datetime) -> "RegistryConsent":
        return cls(version=REGISTRY_CONSENT_VERSION, at=at)
