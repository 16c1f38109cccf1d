"""What a new worker loads before its first request, so no patient waits for it: the ZIP
database, the translations, the public pages' templates and URLs, and for each recruiting
study, in each language, the interest form's fields and the criterion versions
(recruitment/intake/form_cache.py, recruitment/evaluation.py). Called by gunicorn's
`post_worker_init` hook (gunicorn.conf.py); a failure is logged and never stops the worker:
the first request then loads what is missing, as it would have anyway."""

import logging
import time

from django.conf import settings
from django.db import close_old_connections
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
)
# Any ZIP the offline database knows: the first lookup loads its index.
A_KNOWN_ZIP = "35294"


def worker_warm_up() -> float:
    """Load everything above; returns the seconds it took."""
    started = time.monotonic()
    for step in (_zip_database, _pages, _studies):
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a cold cache must not stop a worker
            logger.warning("Worker warm-up: %s failed (%s)", step.__name__, type(exc).__name__)
    close_old_connections()
    return time.monotonic() - started


def _zip_database() -> None:
    eligibility.zip_is_known(A_KNOWN_ZIP)


def _pages() -> None:
    reverse("recruitment:interest", args=["warm-up"])
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for name in TEMPLATES:
                get_template(name)


def _studies() -> None:
    for study in selectors.study_list_recruiting():
        criteria = selectors.criterion_list_active(study=study)
        fingerprint = criteria_fingerprint(criteria)
        criterion_version_ids(criteria, fingerprint=fingerprint)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                form_cache.validation_fields(
                    study=study, criteria=criteria, fingerprint=fingerprint
                )
