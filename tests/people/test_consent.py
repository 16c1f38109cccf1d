"""The registry box's words are versioned like the consent to contact: each person keeps the
version they agreed to, so the words never change without a new version."""

from recruitment.people import REGISTRY_CONSENT_TEXT, REGISTRY_CONSENT_VERSION
from tests.readability import fk_grade

# Every version the box has had, with its English words. A change of the words needs a new
# version here and in recruitment/people/consent.py.
VERSIONS = {
    "2026-12": "The trial center may contact me about other studies I may be able to join",
}


def test_the_words_change_only_with_a_new_version():
    assert VERSIONS[REGISTRY_CONSENT_VERSION] == str(REGISTRY_CONSENT_TEXT)


def test_the_words_read_at_grade_8_or_below():
    assert fk_grade(f"{REGISTRY_CONSENT_TEXT}.") <= 8.0
