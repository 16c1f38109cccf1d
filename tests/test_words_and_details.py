"""Words and details staff meet every day: one date format, the lockout's length, no language
switch on staff pages, plurals, whole CONSORT labels, a plain date of birth input, who changed
a record in words, the icon, and `migrate` without SQLite's covering-index warning."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core import checks
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from recruitment.models import Participant, StatusChange
from recruitment.models.common import CoveringIndex
from recruitment.reports.charts import consort_svg
from recruitment.reports.consort import ConsortCounts, LabelledCount
from recruitment.screening.services import contact_attempt_record
from tests.factories import submit

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 12, 7, 15, tzinfo=dt.UTC)
# Dates written any other way than "Dec 7, 2026": "7 Dec 2026", "Dec. 7, 2026",
# "December 7, 2026", "2026-12-07", "12/07/2026".
OTHER_DATE_FORMATS = re.compile(
    r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* \d{4}\b"
    r"|\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\. \d{1,2}, \d{4}"
    r"|\b(January|February|March|April|June|July|August|September|October|November|December)"
    r" \d{1,2}, \d{4}"
    r"|>\s*\d{4}-\d{2}-\d{2}\s*<"
    r"|\b\d{2}/\d{2}/\d{4}\b"
)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " > < ", html))


# ---------------------------------------------------------------------------------------------
# One date format across the staff pages
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def applied(ldn_study, time_machine, coordinator):
    """An applicant called once, with a follow-up set for today: the call card, the contact
    log and the call list all show dates."""
    time_machine.move_to(NOW, tick=False)
    participant = submit(ldn_study)
    contact_attempt_record(
        participant=participant,
        by=coordinator,
        method="phone",
        outcome="no_answer",
        follow_up_on=NOW.date(),
    )
    return participant


@pytest.mark.parametrize(
    "url",
    [
        "admin:recruitment_participant_change",
        "admin:recruitment_participant_history",
        "admin:recruitment_participant_changelist",
        "admin:recruitment_participant_contact",
        "staff:dashboard",
        "staff:calls",
    ],
)
def test_staff_pages_write_every_date_one_way(applied, coord_client, url):
    on_one_participant = ("_change", "_history", "_contact")
    args = [applied.pk] if url.endswith(on_one_participant) else []
    html = coord_client.get(reverse(url, args=args)).content.decode()
    text = visible_text(html)

    assert "Dec 7, 2026" in text
    assert not OTHER_DATE_FORMATS.search(text), OTHER_DATE_FORMATS.search(text).group(0)


# ---------------------------------------------------------------------------------------------
# The lockout page says how long; no language switch on staff pages
# ---------------------------------------------------------------------------------------------
def lockout_page(cooloff: dt.timedelta | None) -> str:
    request = RequestFactory().post("/admin/login/")
    context = {"failure_limit": 5, "username": "boss"}
    if cooloff is not None:
        context["cooloff_timedelta"] = cooloff
    return render_to_string("registration/locked_out.html", context, request=request)


@pytest.mark.parametrize(
    ("cooloff", "words"),
    [
        (dt.timedelta(hours=1), "paused for 1 hour;"),
        (dt.timedelta(hours=2), "paused for 2 hours;"),
        (dt.timedelta(minutes=30), "paused for 30 minutes;"),
        (dt.timedelta(minutes=90), "paused for 1 hour 30 minutes;"),
    ],
)
def test_the_lockout_page_says_how_long_sign_in_is_paused(cooloff, words):
    assert words in " ".join(lockout_page(cooloff).split())


def test_a_real_lockout_says_one_hour_from_the_axes_setting(client, settings, db):
    from django.contrib.auth import get_user_model

    settings.AXES_ENABLED = True
    assert settings.AXES_COOLOFF_TIME == 1.0
    get_user_model().objects.create_user("boss", password="right-password-1234", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(
            reverse("admin:login"),
            {"username": "boss", "password": "wrong"},
            REMOTE_ADDR="10.0.0.9",
        )
    html = " ".join(response.content.decode().split())
    assert response.status_code == 429
    assert "paused for 1 hour;" in html
    assert 'id="language-switch"' not in html


def test_staff_pages_have_no_language_switch_but_public_pages_do(client, coord_client, ldn_study):
    assert 'id="language-switch"' in client.get("/").content.decode()
    for url in ("/staff/", "/admin/recruitment/participant/", "/admin/no-such-page/"):
        assert 'id="language-switch"' not in coord_client.get(url).content.decode(), url
    assert 'id="language-switch"' not in lockout_page(dt.timedelta(hours=1))


# ---------------------------------------------------------------------------------------------
# Plurals and whole labels
# ---------------------------------------------------------------------------------------------
def test_one_remaining_slot_is_singular():
    from django.template import Context, Template

    from recruitment.reports.dashboard import project

    source = (ROOT / "templates" / "recruitment" / "staff" / "dashboard.html").read_text()
    sentence = re.search(
        r"{% blocktranslate trimmed with n=d.projection.*?{% endblocktranslate %}", source, re.S
    ).group(0)
    template = Template("{% load i18n %}" + sentence)

    def said(remaining: int) -> str:
        projection = project(remaining=remaining, recent_enrolments=2, today=dt.date(2026, 12, 7))
        return " ".join(template.render(Context({"d": {"projection": projection}})).split())

    assert "the 1 remaining slot fills in about" in said(1)
    assert "the 3 remaining slots fill in about" in said(3)


def test_consort_labels_are_drawn_whole_never_cut_off():
    long_label = (
        "Autoimmune or inflammatory disease such as lupus, rheumatoid arthritis or multiple "
        "sclerosis"
    )
    counts = ConsortCounts(
        assessed=10,
        not_meeting_criteria=3,
        not_meeting_by_criterion=(LabelledCount(long_label, 3),),
        not_meeting_no_criterion=0,
        excluded_after_labs=0,
        excluded_after_labs_by_criterion=(),
        excluded_after_run_in=0,
        declined=1,
        declined_by_reason=(LabelledCount("No longer interested in taking part in the study", 1),),
        other=0,
        other_by_reason=(),
        enrolled=1,
        on_study=1,
        completed=0,
        withdrawn=0,
        in_progress=5,
        in_progress_by_status=(),
    )
    svg = str(consort_svg(counts, svg_id="c", title="CONSORT"))
    drawn = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))

    assert "…" not in drawn
    assert " ".join(long_label.split()) in " ".join(drawn.split())
    assert "sclerosis (3)" in drawn


# ---------------------------------------------------------------------------------------------
# The date of birth is a plain date input; the history names who acted
# ---------------------------------------------------------------------------------------------
def test_the_date_of_birth_is_a_plain_date_input_with_no_time_zone_warning(applied, coord_client):
    html = coord_client.get(reverse("admin:recruitment_participant_change", args=[applied.pk]))
    page = html.content.decode()
    field = re.search(r'<input[^>]*name="date_of_birth"[^>]*>', page).group(0)

    assert 'type="date"' in field
    assert "vDateField" not in field
    assert "DateTimeShortcuts.js" not in page  # the script that writes the time zone warning


def test_the_history_names_the_participant_the_import_and_staff_never_none(
    coord_client, coordinator, ldn_study
):
    from recruitment.intake.importer import interest_list_import
    from recruitment.screening import services as screening
    from tests.intake.test_import import csv_bytes, person

    participant = submit(ldn_study)
    screening.participant_update(
        participant=participant, data={"phone": "205-555-0100"}, by=coordinator, reason="New"
    )
    interest_list_import(study=ldn_study, data=csv_bytes([person(1)]), dry_run=False)
    imported = Participant.objects.exclude(pk=participant.pk).get()

    page = visible_text(
        coord_client.get(
            reverse("admin:recruitment_participant_history", args=[participant.pk])
        ).content.decode()
    )
    assert "the participant (interest form)" in page
    assert "coord" in page
    assert "None" not in page
    page = visible_text(
        coord_client.get(
            reverse("admin:recruitment_participant_history", args=[imported.pk])
        ).content.decode()
    )
    assert "an import (interest list)" in page
    assert "None" not in page


# ---------------------------------------------------------------------------------------------
# The icon
# ---------------------------------------------------------------------------------------------
def test_every_kind_of_page_names_the_apps_own_icon(coord_client, ldn_study):
    from django.test import Client

    anonymous = Client()
    for page_client, url in (
        (anonymous, "/"),
        (anonymous, "/admin/login/"),
        (coord_client, "/staff/"),
        (coord_client, "/admin/recruitment/participant/"),
    ):
        html = page_client.get(url).content.decode()
        assert re.search(r'<link rel="icon" href="/static/favicon[^"]*\.svg"', html), url


def test_favicon_ico_leads_to_the_icon_served_by_the_app(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/favicon")
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg").endswith("static/favicon.svg")


# ---------------------------------------------------------------------------------------------
# migrate and check without models.W040 on SQLite
# ---------------------------------------------------------------------------------------------
def test_the_model_checks_raise_no_covering_index_warning(db):
    found = checks.run_checks(databases=["default"], include_deployment_checks=False)
    assert [c.id for c in found if c.id == "models.W040"] == []


def test_a_covering_index_includes_its_columns_only_where_the_database_can(db):
    index = next(i for i in Participant._meta.indexes if i.name == "participant_tally")
    assert isinstance(index, CoveringIndex)
    assert index.include == ()  # nothing for the W040 check to warn about
    editor = connection.SchemaEditorClass(connection, collect_sql=True)
    sql = str(index.create_sql(Participant, editor))
    if connection.features.supports_covering_indexes:
        assert "INCLUDE" in sql
    else:
        assert "INCLUDE" not in sql
    into = next(i for i in StatusChange._meta.indexes if i.name == "status_change_into")
    assert into.covering == ("at", "reason", "reason_code")


def test_migrate_on_a_fresh_sqlite_file_prints_no_w040(fresh_sqlite_files):
    """`manage.py migrate` on a new SQLite file, in a process of its own: made once for the
    run (tests/fresh_sqlite.py), its output read here."""
    migrate = fresh_sqlite_files.migrate

    assert migrate.args == ["migrate", "--noinput"]
    assert migrate.returncode == 0, migrate.stderr
    assert "Applying recruitment.0001_initial... OK" in migrate.stdout
    assert "W040" not in migrate.stdout + migrate.stderr
