"""People across studies: the person behind each application, and the trial center's registry
(consent to be contacted about other studies, and leaving it)."""

from recruitment.people.consent import (  # noqa: F401
    REGISTRY_CONSENT_TEXT,
    REGISTRY_CONSENT_VERSION,
    RegistryConsent,
)
from recruitment.people.services import (  # noqa: F401
    PERSON_ERASED_VALUES,
    RegistryLink,
    RegistryLinkState,
    application_person_join,
    person_attach,
    person_registry_leave,
    person_registry_leave_by_link,
    persons_erase,
    registry_link_check,
)
