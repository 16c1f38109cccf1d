"""The criteria's change stamp is the database's own: any insert, update or delete of a
criterion rewrites it, by the ORM or by SQL typed by hand, and the interest form's page kept in
the process is served under it with one query a GET. Posts read the study and its criteria
kept in the process under the same stamp."""

import pytest
from django.db import connection
from django.test import Client

from recruitment.intake import form_cache
from recruitment.models import CriteriaStamp, EligibilityCriterion
from tests.factories import CriterionFactory, ldn_form_data
from tests.intake.test_form_cache import per_page_values

pytestmark = pytest.mark.django_db

FORM_URL = "/studies/ldn-mecfs/interest/"
OLD = "Do you have liver disease or hepatitis?"
NEW = "Has a doctor ever said your liver is sick?"


def stamp():
    return CriteriaStamp.objects.values_list("value", flat=True).first()


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_every_kind_of_change_of_a_criterion_rewrites_the_stamp(ldn_study):
    """Fails too if a later migration lost the triggers (on SQLite, altering the criteria's
    table rebuilds it without them): that migration must create them again."""
    seen = [stamp()]
    criterion = CriterionFactory(study=ldn_study, code="new-one")
    seen.append(stamp())
    criterion.question = "Changed?"
    criterion.save()
    seen.append(stamp())
    EligibilityCriterion.objects.filter(pk=criterion.pk).update(hint="A hint")
    seen.append(stamp())
    criterion.delete()
    seen.append(stamp())

    assert None not in seen
    assert len(set(seen)) == len(seen)


def test_sql_typed_by_hand_rewrites_the_stamp(ldn_study):
    before = stamp()
    sql("UPDATE recruitment_eligibilitycriterion SET question = %s WHERE code = %s", [NEW, "liver"])
    after_update = stamp()
    sql("DELETE FROM recruitment_eligibilitycriterion WHERE code = %s", ["liver"])

    assert len({before, after_update, stamp()}) == 3


def test_a_lost_stamp_row_is_written_again_by_the_next_change(ldn_study):
    """A test database's flush empties the stamp's table: the next change writes it again."""
    CriteriaStamp.objects.all().delete()

    sql("UPDATE recruitment_eligibilitycriterion SET hint = hint WHERE code = %s", ["liver"])

    assert stamp() is not None


def test_a_page_kept_in_the_process_costs_one_query(client, ldn_study, django_assert_num_queries):
    client.get(FORM_URL)
    client.cookies.clear()

    with django_assert_num_queries(1):  # the study, with the stamp in the same query
        response = client.get(FORM_URL)

    assert response.status_code == 200
    assert OLD in response.content.decode()


def test_a_change_by_sql_by_hand_shows_on_the_next_get_from_the_kept_page(client, ldn_study):
    assert OLD in client.get(FORM_URL).content.decode()
    assert form_cache.pages_kept() == 1  # the page is kept, not rendered again

    sql("UPDATE recruitment_eligibilitycriterion SET question = %s WHERE code = %s", [NEW, "liver"])

    html = client.get(FORM_URL).content.decode()
    assert NEW in html and OLD not in html


def test_without_the_stamp_row_the_page_reads_the_criteria_and_keeps_nothing(client, ldn_study):
    CriteriaStamp.objects.all().delete()
    assert OLD in client.get(FORM_URL).content.decode()

    EligibilityCriterion.objects.filter(code="liver").update(question=NEW)
    CriteriaStamp.objects.all().delete()

    html = client.get(FORM_URL).content.decode()
    assert NEW in html and OLD not in html
    assert form_cache.pages_kept() == 0


def test_a_form_from_the_kept_page_can_be_sent_with_its_csrf_token(ldn_study):
    browser = Client(enforce_csrf_checks=True)
    browser.get(FORM_URL)  # renders and keeps the page
    page = per_page_values(browser.get(FORM_URL).content.decode())  # the kept page

    response = browser.post(
        FORM_URL,
        ldn_form_data(
            csrfmiddlewaretoken=page["csrfmiddlewaretoken"][0],
            form_issued=page["form_issued"][0],
            submission_token=page["submission_token"][0],
        ),
    )

    assert response.status_code == 302
    assert str(ldn_study.participants.get().submission_token) == page["submission_token"][0]


def test_a_study_closed_by_sql_by_hand_shows_its_closed_page_at_once(client, ldn_study):
    assert OLD in client.get(FORM_URL).content.decode()  # kept

    sql("UPDATE recruitment_study SET is_recruiting = %s WHERE id = %s", [False, ldn_study.pk])

    html = client.get(FORM_URL).content.decode()
    assert OLD not in html and 'id="interest-form"' not in html


def test_a_post_to_a_study_closed_by_sql_by_hand_saves_nothing(client, ldn_study):
    client.post(FORM_URL, ldn_form_data(email="first@example.com"))  # the study kept for posts

    sql("UPDATE recruitment_study SET is_recruiting = %s WHERE id = %s", [False, ldn_study.pk])
    response = client.post(FORM_URL, ldn_form_data(email="second@example.com"))

    assert response.status_code == 200
    assert 'id="interest-form"' not in response.content.decode()
    assert list(ldn_study.participants.values_list("email", flat=True)) == ["first@example.com"]


def test_without_the_stamp_row_a_post_reads_the_study_and_its_criteria(client, ldn_study):
    client.post(FORM_URL, ldn_form_data(email="first@example.com"))
    EligibilityCriterion.objects.filter(code="liver").update(question=NEW)
    CriteriaStamp.objects.all().delete()

    response = client.post(FORM_URL, ldn_form_data(email="second@example.com"))

    assert response.status_code == 302
    second = ldn_study.participants.get(email="second@example.com")
    liver = second.verdicts.select_related("criterion_version").get(criterion__code="liver")
    assert liver.criterion_snapshot["question"] == NEW


def test_an_unknown_study_is_not_found_on_the_kept_path(client, ldn_study):
    client.get(FORM_URL)
    client.post(FORM_URL, ldn_form_data(email="first@example.com"))

    assert client.get("/studies/no-such-study/interest/").status_code == 404
    assert client.post("/studies/no-such-study/interest/", ldn_form_data()).status_code == 404


def test_a_draft_in_the_session_is_shown_instead_of_the_kept_page(client, ldn_study):
    from recruitment.intake import draft_views

    client.get(FORM_URL)  # the blank page, kept
    session = client.session
    session[draft_views.KEPT_SESSION_KEY] = {
        "study": ldn_study.pk,
        "data": {"first_name": ["Ann"], "note": ["Tired after walking."]},
    }
    session.save()

    html = client.get(FORM_URL).content.decode()

    assert 'value="Ann"' in html and "Tired after walking." in html
