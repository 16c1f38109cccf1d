"""The form's fields, the blank form's HTML and the verdicts' criterion versions are built once
and kept; any change of a criterion shows at once, whether made in the admin, by the loader
(`load_study`) or by SQL by hand. Verdicts point at the version they were judged by."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from recruitment import selectors
from recruitment.evaluation import criteria_fingerprint
from recruitment.intake import form_cache
from recruitment.models import CriterionVerdict, CriterionVersion, EligibilityCriterion, Participant
from tests.admin_posts import form_data
from tests.conftest import LDN_FILE
from tests.factories import ldn_form_data

pytestmark = pytest.mark.django_db

FORM_URL = "/studies/ldn-mecfs/interest/"
OLD = "Do you have liver disease or hepatitis?"
NEW = "Has a doctor ever said your liver is sick?"


def post(client, n: int):
    response = client.post(
        FORM_URL,
        ldn_form_data(
            email=f"person{n}@example.com",
            phone=f"(205) 555-01{n:02d}",
            last_name=f"Lee{'x' * n}",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:300]
    return Participant.objects.get(email=f"person{n}@example.com")


def liver_verdict(participant) -> CriterionVerdict:
    return participant.verdicts.select_related("criterion_version").get(criterion__code="liver")


def warm(client) -> Participant:
    """Every cache filled: the blank form's page, the fields and the criterion versions."""
    assert OLD in client.get(FORM_URL).content.decode()
    return post(client, 1)


def assert_changed_everywhere(client, study, before: Participant) -> None:
    # The blank form (from Django's cache) asks the new question.
    html = client.get(FORM_URL).content.decode()
    assert NEW in html and OLD not in html
    # The fields that validate posts carry it.
    criteria = selectors.criterion_list_active(study=study)
    fields = form_cache.validation_fields(
        study=study, criteria=criteria, fingerprint=criteria_fingerprint(criteria)
    )
    assert fields["q_liver"].label == NEW
    # A new submission is judged by the new version; the earlier one still shows the old.
    after = post(client, 2)
    assert liver_verdict(after).criterion_snapshot["question"] == NEW
    assert liver_verdict(before).criterion_snapshot["question"] == OLD
    assert liver_verdict(after).criterion_version_id != liver_verdict(before).criterion_version_id


def test_a_change_in_the_admin_shows_at_once(client, admin_client, ldn_study):
    before = warm(client)
    url = reverse("admin:recruitment_study_change", args=[ldn_study.pk])
    page = admin_client.get(url)
    liver = next(
        form
        for inline in page.context["inline_admin_formsets"]
        for form in inline.formset.forms
        if getattr(form.instance, "code", None) == "liver"
    )

    response = admin_client.post(url, form_data(page, **{liver.add_prefix("question"): NEW}))

    assert response.status_code == 302
    assert EligibilityCriterion.objects.get(code="liver").question == NEW
    assert_changed_everywhere(client, ldn_study, before)


def test_a_change_by_the_loader_shows_at_once(client, ldn_study, tmp_path):
    before = warm(client)
    text = LDN_FILE.read_text(encoding="utf-8")
    assert OLD in text
    path = tmp_path / "ldn-mecfs.toml"
    path.write_text(text.replace(OLD, NEW), encoding="utf-8")

    call_command("load_study", str(path))

    assert EligibilityCriterion.objects.get(code="liver").question == NEW
    assert_changed_everywhere(client, ldn_study, before)


def test_a_change_by_sql_by_hand_shows_at_once(client, ldn_study):
    before = warm(client)
    liver = EligibilityCriterion.objects.get(code="liver")

    with connection.cursor() as cursor:
        # What a person would type at the database's prompt: no version, no study touched.
        cursor.execute(
            "UPDATE recruitment_eligibilitycriterion SET question = %s WHERE id = %s",
            [NEW, liver.pk],
        )

    assert_changed_everywhere(client, ldn_study, before)


def test_verdicts_judged_by_the_same_text_share_one_version_row(client, ldn_study):
    first, second = post(client, 1), post(client, 2)

    criteria = ldn_study.criteria.active().count()
    assert CriterionVersion.objects.count() == criteria
    assert sorted(first.verdicts.values_list("criterion_version_id", flat=True)) == sorted(
        second.verdicts.values_list("criterion_version_id", flat=True)
    )
    version = liver_verdict(first).criterion_version
    assert version.snapshot == EligibilityCriterion.objects.get(code="liver").snapshot()


def test_a_version_row_is_never_changed(ldn_study, client):
    version = liver_verdict(post(client, 1)).criterion_version
    version.snapshot = {**version.snapshot, "question": NEW}

    with pytest.raises(ValueError, match="never changed"):
        version.save()


def test_a_shown_form_never_shares_the_fields_that_validate(client, ldn_study):
    """Showing a form adds classes to its widgets: a post with errors is shown on fields of
    its own, and the next page is not marked invalid."""
    warm(client)
    client.post(FORM_URL, ldn_form_data(email="not an email", last_name="Other"))
    cache.clear()

    html = client.get(FORM_URL).content.decode()

    assert "is-invalid" not in html
    assert post(client, 3).screening_number == "LDN-S-0002"
