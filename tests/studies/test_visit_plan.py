"""The visit plan in the study file (`[[visits]]`), kept in step with the file by the loader."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from recruitment.models import PlannedVisit, Study
from tests.conftest import LDN_FILE

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def load(tmp_path, text: str) -> str:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return run("load_study", str(path))


def plan() -> dict[str, tuple]:
    return {
        p.code: (p.anchor, p.target_day, p.days_before, p.days_after, p.is_active)
        for p in PlannedVisit.objects.order_by("order")
    }


def test_the_ldn_study_plans_its_four_visits_in_order_with_their_windows():
    run("load_study", str(LDN_FILE))

    assert plan() == {
        "screening": ("consent", 0, 0, 14, True),
        "baseline-start": ("consent", 7, 3, 7, True),
        "baseline-end": ("run_in_start", 28, 2, 3, True),
        "first-dose": ("enrollment", 0, 0, 3, True),
    }
    assert "lab" in PlannedVisit.objects.get(code="screening").place


def test_a_planned_visit_reads_its_name_and_place_in_the_participants_language():
    run("load_study", str(LDN_FILE))
    screening = PlannedVisit.objects.get(code="screening")

    with translation.override("es"):
        assert screening.text.name == "Visita de selección"
        assert screening.text.place.startswith("Laboratorio")
    assert screening.text.name == "Screening visit"


def test_loading_the_plan_twice_changes_nothing():
    run("load_study", str(LDN_FILE))
    second = run("load_study", str(LDN_FILE))

    assert "up to date" in second
    assert set(PlannedVisit.objects.values_list("version", flat=True)) == {1}
    assert PlannedVisit.history.count() == 4


def test_a_changed_window_gives_the_planned_visit_a_new_version_with_its_history(tmp_path):
    run("load_study", str(LDN_FILE))
    text = LDN_FILE.read_text()
    start = text.index('code = "baseline-end"')
    amended = text[:start] + text[start:].replace("days_after = 3", "days_after = 5", 1)

    out = load(tmp_path, amended)

    baseline_end = PlannedVisit.objects.get(code="baseline-end")
    assert (baseline_end.days_after, baseline_end.version) == (5, 2)
    assert "visit baseline-end: days_after" in out
    assert PlannedVisit.objects.get(code="first-dose").version == 1
    assert baseline_end.history.first().history_change_reason == "Loaded from the study file"


def test_a_visit_dropped_from_the_file_is_retired_not_deleted(tmp_path):
    run("load_study", str(LDN_FILE))
    text = LDN_FILE.read_text()
    start = text.index('[[visits]]\ncode = "first-dose"')

    out = load(tmp_path, text[:start])

    first_dose = PlannedVisit.objects.get(code="first-dose")
    assert (first_dose.is_active, first_dose.version) == (False, 2)
    assert "visit first-dose: retired" in out


def test_the_window_is_unknown_until_the_run_in_has_started():
    run("load_study", str(LDN_FILE))
    baseline_end = PlannedVisit.objects.get(code="baseline-end")

    assert baseline_end.window(None) is None
    assert baseline_end.window(dt.date(2026, 12, 1)).target == dt.date(2026, 12, 29)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('anchor = "consent"', 'anchor = "birthday"', "visit screening: anchor"),
        ("days_after = 14", 'days_after = 14\ncolour = "blue"', "unknown keys colour"),
        ('code = "baseline-start"', 'code = "screening"', "Visit screening appears twice"),
        ("days_after = 14", "days_after = -1", "visit screening: days_after"),
        ('name = "Primera dosis"', 'nombre = "Primera dosis"', "unknown keys nombre"),
    ],
    ids=["unknown-anchor", "unknown-key", "duplicate-code", "negative-window", "bad-translation"],
)
def test_a_bad_visit_plan_is_refused_with_a_clear_message_and_nothing_saved(
    tmp_path, replace, by, message
):
    text = LDN_FILE.read_text()
    assert replace in text

    with pytest.raises(CommandError, match=message):
        load(tmp_path, text.replace(replace, by, 1))

    assert Study.objects.count() == 0
    assert PlannedVisit.objects.count() == 0
