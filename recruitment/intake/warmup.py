"""What a new worker loads before its first request, so no patient waits for it: the ZIP
database, the translations, the public pages' and emails' templates, the URLs, the host name
emails are sent from, and for each recruiting study, in each language, the interest form's
fields and the criterion versions (recruitment/intake/form_cache.py,
recruitment/evaluation.py). Called by gunicorn's
`post_worker_init` hook (gunicorn.conf.py); a failure is logged and never stops the worker:
the first request then loads what is missing, as it would have anyway."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.mail.utils import DNS_NAME
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from recruitment import eligibility, selectors
from recruitment.evaluation import criteria_fingerprint, criterion_version_ids
from recruitment.intake import form_cache

logger = logging.getLogger(__name__)

TEMPLATES = (
    "base.html",
    "recruitment/interest.html",
    "recruitment/thanks.html",
    "recruitment/study_detail.html",
    "recruitment/home.html",
    "recruitment/email/confirmation_subject.txt",
    "recruitment/email/confirmation.txt",
    "recruitment/email/coordinator_subject.txt",
    "recruitment/email/coordinator.txt",
)
# Any ZIP the offline database knows: the first lookup loads its index.
A_KNOWN_ZIP = "35294"
# A post whose validation compiles the validators' patterns (email, dates, phone) once; it is
# validated only, never saved.
SAMPLE_POST = {
    "first_name": "Warm",
    "last_name": "Up",
    "email": "warm.up@example.com",
    "phone": "(205) 555-0100",
    "date_of_birth": "1980-04-28",
    "zip_code": A_KNOWN_ZIP,
    "note": "Warm-up.",
}


def worker_warm_up() -> float:
    """Load everything above; returns the seconds it took."""
    started = time.monotonic()
    for step in (_zip_database, _pages, _studies):
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a cold cache must not stop a worker
            logger.warning("Worker warm-up: %s failed (%s)", step.__name__, type(exc).__name__)
    return time.monotonic() - started


def _zip_database() -> None:
    eligibility.zip_is_known(A_KNOWN_ZIP)


def _pages() -> None:
    reverse("recruitment:interest", args=["warm-up"])
    cache.get("worker-warm-up")  # the cache's connection (the rate limits count in it)
    DNS_NAME.get_fqdn()  # every email's Message-ID names this host: looked up once
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for name in TEMPLATES:
                try:
                    get_template(name)
                except TemplateDoesNotExist:
                    logger.info("Worker warm-up: no template %s", name)


def _studies() -> None:
    for study in selectors.study_list_recruiting():
        criteria = selectors.criterion_list_active(study=study)
        fingerprint = criteria_fingerprint(criteria)
        criterion_version_ids(criteria, fingerprint=fingerprint)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                form_cache.interest_form_to_validate(
                    SAMPLE_POST, study=study, criteria=criteria, fingerprint=fingerprint
                ).is_valid()
