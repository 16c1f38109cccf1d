"""`manage.py load_study`: the study files (recruitment/studies/*.toml) into the database."""

import tomllib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recruitment.models import EligibilityCriterion, Study
from tests.conftest import LDN_FILE

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write_study(tmp_path, text: str):
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_ldn_file_holds_every_criterion_the_protocol_lists():
    data = tomllib.loads(LDN_FILE.read_text())
    by_code = {c["code"]: c for c in data["criteria"]}

    assert (data["slug"], data["target_enrolment"], data["site_zip"]) == ("ldn-mecfs", 20, "35294")
    assert data["catchment_miles"] == 100
    assert {code for code, c in by_code.items() if c["answered_by"] == "staff"} == {
        "hs-crp",
        "esr",
        "rf",
        "ana",
        "thyroid",
    }
    assert by_code["age"]["params"] == {"min": 18, "max": 65}
    assert by_code["opioids"]["params"] == {"months": 3}
    assert "withdrawal" in by_code["opioids"]["rationale"]
    assert by_code["lives-nearby"]["params"] == {"site_zip": "35294", "max_miles": 100}
    exclusions = {code for code, c in by_code.items() if c["kind"] == "exclusion"}
    assert exclusions >= {
        "opioids",
        "recent-ldn",
        "allergy",
        "pregnancy",
        "liver",
        "autoimmune",
        "substance-misuse",
        "other-trial",
    }
    assert all(c["rationale"].strip() for c in data["criteria"])


def test_loading_the_ldn_study_twice_changes_nothing():
    first = run("load_study", str(LDN_FILE))
    study = Study.objects.get(slug="ldn-mecfs")
    second = run("load_study", str(LDN_FILE))

    assert "Created study ldn-mecfs with 18 criteria." in first
    assert "Study ldn-mecfs is up to date." in second
    assert Study.objects.count() == 1
    assert EligibilityCriterion.objects.count() == 18
    assert Study.objects.get().criteria_version == study.criteria_version == 1
    assert set(EligibilityCriterion.objects.values_list("version", flat=True)) == {1}


def test_without_a_path_every_study_file_is_loaded():
    run("load_study")

    assert Study.objects.filter(slug="ldn-mecfs").exists()


def test_a_changed_criterion_gets_a_new_version_and_so_does_the_study(tmp_path):
    run("load_study", str(LDN_FILE))
    amended = LDN_FILE.read_text().replace(
        "params = { min = 18, max = 65 }", "params = { min = 18, max = 70 }"
    )

    out = run("load_study", str(write_study(tmp_path, amended)))

    age = EligibilityCriterion.objects.get(code="age")
    assert age.params == {"min": 18, "max": 70}
    assert age.version == 2
    assert Study.objects.get().criteria_version == 2
    assert "criterion age: params" in out
    assert EligibilityCriterion.objects.get(code="liver").version == 1


def test_a_criterion_dropped_from_the_file_is_retired_not_deleted(tmp_path):
    run("load_study", str(LDN_FILE))
    text = LDN_FILE.read_text()
    start = text.index('[[criteria]]\ncode = "liver"')
    end = text.index("[[criteria]]", start + 1)

    out = run("load_study", str(write_study(tmp_path, text[:start] + text[end:])))

    liver = EligibilityCriterion.objects.get(code="liver")
    assert (liver.is_active, liver.version) == (False, 2)
    assert "criterion liver: retired" in out


def test_create_only_leaves_an_existing_study_and_its_admin_edits_alone():
    run("load_study", str(LDN_FILE))
    Study.objects.update(title="Edited in the admin")

    out = run("load_study", "--create-only", str(LDN_FILE))

    assert Study.objects.get().title == "Edited in the admin"
    assert "up to date" in out


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('slug = "ldn-mecfs"', 'slug = "ldn-mecfs"\ncolour = "blue"', "Unknown study keys: colour"),
        ("params = { min = 18, max = 65 }", 'params = { min = 18, max = "old" }', "criterion age"),
        ('rule_kind = "age_range"', 'rule_kind = "horoscope"', "criterion age"),
        ('site_zip = "35294"\ncatchment', 'site_zip = "352"\ncatchment', "site_zip"),
        ('code = "liver"', 'code = "allergy"', "Criterion allergy appears twice"),
        ('slug = "ldn-mecfs"', 'slug = "ldn-mecfs', "study.toml"),
    ],
    ids=["unknown-key", "bad-params", "unknown-rule", "bad-zip", "duplicate-code", "bad-toml"],
)
def test_a_bad_study_file_is_refused_with_a_clear_message_and_nothing_saved(
    tmp_path, replace, by, message
):
    text = LDN_FILE.read_text()
    assert replace in text
    path = write_study(tmp_path, text.replace(replace, by, 1))

    with pytest.raises(CommandError, match=message):
        run("load_study", str(path))

    assert Study.objects.count() == 0
    assert EligibilityCriterion.objects.count() == 0
