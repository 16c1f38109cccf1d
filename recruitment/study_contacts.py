"""The study teams' contact details, remembered in this process for the server error pages.

A 500 or 503 page may not query the database (it must render when the database is what
failed), yet a patient who meets one needs a way to reach the study team. Each public page
of a study leaves its team's email and phone here (`selectors.study_get_public`), fresh from
the database; the error pages read them back. A worker that has not served the study's page
since it started knows nothing, and the page says where the details usually are instead.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class StudyContact:
    slug: str
    email: str
    phone: str


# One entry per study: bounded by the number of studies, overwritten on each read.
_contacts: dict[str, StudyContact] = {}


def study_contact_remember(study) -> StudyContact:
    contact = StudyContact(slug=study.slug, email=study.contact_email, phone=study.contact_phone)
    _contacts[study.slug] = contact
    return contact


def study_contact_recall(slug: str) -> StudyContact | None:
    return _contacts.get(slug)


def study_contact_forget_all() -> None:
    """Start from nothing, as a fresh worker does (for tests)."""
    _contacts.clear()
