"""The what-if of a big study, in the background: above AMENDMENT_WHAT_IF_INLINE_MAX people
the page asks for a run that the task worker computes, shows "being computed", then the
stored result and its CSV; a small study's stays on the page. Both give the same counts."""

import csv
import io

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from recruitment.amendments import runs, services, whatif
from recruitment.amendments.tasks import whatif_run_task
from recruitment.models import WhatIfRun, WhatIfState
from recruitment.reports.exports import csv_stream
from tests.amendments.conftest import clean_applicant, opioid_user, with_params
from tests.dates import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    return services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=2)
    )


@pytest.fixture
def people(ldn_study):
    opioid_user(ldn_study, "2026-09-10")  # moves to likely eligible
    opioid_user(ldn_study, "2026-10-20")  # waits either way
    clean_applicant(ldn_study)


@pytest.fixture
def inv_client(client, investigator):
    client.force_login(investigator)
    return client


@pytest.fixture
def big(settings):
    """Three people make a big study."""
    settings.AMENDMENT_WHAT_IF_INLINE_MAX = 2


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def draft_url(draft):
    return reverse("staff:amendment", args=[draft.study.slug, draft.pk])


def csv_url(draft):
    return reverse("staff:amendment_whatif", args=[draft.study.slug, draft.pk])


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def run_queued_tasks() -> None:
    for row in DBTaskResult.objects.filter(task_path__endswith="whatif_run_task"):
        whatif_run_task.call(**row.args_kwargs["kwargs"])


def test_the_run_s_result_equals_the_inline_result_for_the_same_input(draft, people, investigator):
    inline = whatif.whatif_summarise(draft=draft, today=TODAY)
    run = WhatIfRun.objects.create(
        draft=draft,
        inputs_digest="x",
        today=TODAY,
        requested_by=investigator,
        requested_at=draft.created_at,
    )

    whatif_run_task.call(run_id=run.pk)

    run.refresh_from_db()
    assert run.state == WhatIfState.DONE
    assert run.summary == runs.whatif_to_json(inline)
    assert runs.whatif_from_json(run.summary) == inline
    inline_csv = "".join(
        csv_stream(whatif.whatif_header(draft=draft), whatif.whatif_rows(draft=draft, today=TODAY))
    )
    assert run.csv.splitlines()[0] == inline_csv.splitlines()[0]  # the same header

    def without_ids(text):
        return sorted(tuple(v for k, v in row.items() if k != "row") for row in csv_rows(text))

    assert without_ids(run.csv) == without_ids(inline_csv)
    assert len(csv_rows(run.csv)) == inline.people == 3


def test_the_task_argument_is_the_run_s_id_only(draft, people, investigator, database_queue):
    runs.whatif_run_request(draft=draft, by=investigator, today=TODAY)

    [queued] = DBTaskResult.objects.filter(task_path__endswith="whatif_run_task")
    assert queued.args_kwargs == {"args": [], "kwargs": {"run_id": WhatIfRun.objects.get().pk}}


def test_a_small_study_s_what_if_stays_on_the_page(inv_client, draft, people):
    html = inv_client.get(draft_url(draft)).content.decode()

    assert "3 people judged" in html and "1 would change outcome" in html
    assert "Being computed" not in html
    assert not WhatIfRun.objects.exists()


def test_a_big_study_s_page_says_being_computed_then_shows_the_result_and_its_csv(
    inv_client, draft, people, big, database_queue
):
    first = inv_client.get(draft_url(draft)).content.decode()

    assert "Being computed since" in first and "Check if it is done" in first
    assert "would change outcome" not in first
    assert inv_client.get(csv_url(draft)).status_code == 404
    assert inv_client.get(draft_url(draft)).status_code == 200
    assert WhatIfRun.objects.count() == 1  # asking again does not queue it twice

    run_queued_tasks()

    done = inv_client.get(draft_url(draft)).content.decode()
    assert "3 people judged" in done and "1 would change outcome" in done
    assert "Computed in the background" in done
    response = inv_client.get(csv_url(draft))
    assert response.status_code == 200
    rows = csv_rows(response.content.decode())
    assert len(rows) == 3 and {r["source"] for r in rows} == {"applicant"}


def test_an_edited_draft_gets_a_new_run_and_the_old_one_goes(
    inv_client, draft, people, big, database_queue, investigator
):
    inv_client.get(draft_url(draft))
    run_queued_tasks()
    services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=1)
    )

    html = inv_client.get(draft_url(draft)).content.decode()

    assert "Being computed since" in html
    assert WhatIfRun.objects.get().state == WhatIfState.QUEUED


def test_compute_again_drops_the_done_run_and_asks_for_a_new_one(
    inv_client, draft, people, big, database_queue
):
    inv_client.get(draft_url(draft))
    run_queued_tasks()
    done = WhatIfRun.objects.get()

    response = inv_client.post(draft_url(draft), {"recompute": "1"})

    assert response.status_code == 302
    assert not WhatIfRun.objects.filter(pk=done.pk).exists()
    assert "Being computed since" in inv_client.get(draft_url(draft)).content.decode()


def test_a_failed_run_says_so(inv_client, draft, people, big, database_queue, monkeypatch):
    inv_client.get(draft_url(draft))

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(whatif, "whatif_summarise", broken)
    with pytest.raises(RuntimeError):
        run_queued_tasks()

    assert WhatIfRun.objects.get().state == WhatIfState.FAILED
    html = inv_client.get(draft_url(draft)).content.decode()
    assert "could not be computed" in html and "Compute the what-if again" in html
