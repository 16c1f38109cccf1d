"""A new worker loads what the first patient's request would wait for: the ZIP database, the
templates, each recruiting study's form fields and criterion versions; a failure never stops
the worker."""

import logging

import pytest
from django.db import DatabaseError
from django.utils import translation

from recruitment import selectors
from recruitment.eligibility import places
from recruitment.evaluation import criteria_fingerprint, criterion_version_ids
from recruitment.intake import form_cache, warmup
from recruitment.models import CriterionVersion


@pytest.mark.django_db
def test_the_warm_up_loads_the_form_and_the_criterion_versions(
    ldn_study, django_assert_num_queries
):
    places.zip_centroid.cache_clear()

    assert warmup.worker_warm_up() >= 0

    assert places.zip_centroid.cache_info().currsize >= 1
    criteria = selectors.criterion_list_active(study=ldn_study)
    fingerprint = criteria_fingerprint(criteria)
    assert CriterionVersion.objects.count() == len(criteria)
    with django_assert_num_queries(0):
        criterion_version_ids(criteria, fingerprint=fingerprint)
    for language in ("en", "es"):
        with translation.override(language):
            first = form_cache.validation_fields(
                study=ldn_study, criteria=criteria, fingerprint=fingerprint
            )
            again = form_cache.validation_fields(
                study=ldn_study, criteria=criteria, fingerprint=fingerprint
            )
            assert first is again
    with translation.override("es"):
        assert "hígado" in first["q_liver"].label


@pytest.mark.django_db
def test_a_failed_warm_up_is_logged_and_the_worker_goes_on(ldn_study, monkeypatch, caplog):
    def database_down(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(warmup.selectors, "study_list_recruiting", database_down)

    with caplog.at_level(logging.WARNING, logger="recruitment.intake.warmup"):
        warmup.worker_warm_up()

    assert "Worker warm-up: _studies failed (DatabaseError)" in caplog.text
