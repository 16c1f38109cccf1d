"""The interest form on its own: validation and the answers it hands to the service."""

import datetime as dt
import uuid

import pytest

from recruitment import selectors
from recruitment.intake import forms
from recruitment.intake.forms import InterestForm
from tests.dates import TODAY
from tests.factories import LDN_ELIGIBLE_ANSWERS, CriterionFactory, ldn_form_data


def bound(study, today=TODAY, **overrides) -> InterestForm:
    return InterestForm(
        ldn_form_data(**overrides),
        study=study,
        criteria=selectors.criterion_list_for_form(study=study),
        today=today,
    )


def test_the_eligible_answers_come_out_in_the_engines_shape(ldn_study):
    form = bound(ldn_study)

    assert form.is_valid(), form.errors
    assert form.answers() == LDN_ELIGIBLE_ANSWERS
    assert form.cleaned_data["phone"] == "205-555-0134"
    assert form.is_spam is False


def test_unanswered_questions_are_left_out_not_stored_as_blank(ldn_study):
    form = bound(
        ldn_study,
        q_diagnosis=None,
        q_opioids=None,
        **{"q_core-symptoms__pem": None, "q_core-symptoms__sleep": "unsure"},
    )

    assert form.is_valid(), form.errors
    answers = form.answers()
    assert "diagnosis" not in answers
    assert "opioids" not in answers
    assert answers["core-symptoms"] == {"sleep": "unsure", "cognitive": "yes", "orthostatic": "no"}


def test_an_unsure_opioid_answer_is_kept_without_a_date(ldn_study):
    form = bound(ldn_study, q_opioids="unsure")

    assert form.is_valid(), form.errors
    assert form.answers()["opioids"] == {"taken": "unsure"}


def test_a_last_dose_date_with_a_no_is_questioned(ldn_study):
    form = bound(ldn_study, q_opioids="no", q_opioids__last="2026-10-01")

    assert form.errors == {"q_opioids__last": [forms.LAST_DOSE_NOT_RECENT]}


@pytest.mark.parametrize(
    ("today", "oldest_accepted"),
    [
        (dt.date(2026, 11, 25), dt.date(1906, 11, 25)),
        (dt.date(2028, 2, 29), dt.date(1908, 2, 29)),
        (dt.date(2027, 2, 28), dt.date(1907, 2, 28)),
    ],
)
def test_a_date_of_birth_up_to_120_years_ago_is_accepted_and_one_day_more_is_not(
    ldn_study, today, oldest_accepted
):
    oldest = bound(ldn_study, today=today, date_of_birth=oldest_accepted.isoformat())
    too_old = bound(
        ldn_study,
        today=today,
        date_of_birth=(oldest_accepted - dt.timedelta(days=1)).isoformat(),
    )

    assert oldest.is_valid(), oldest.errors
    assert too_old.errors == {"date_of_birth": [forms.DOB_TOO_OLD]}


def test_a_date_of_birth_today_is_accepted_and_tomorrow_is_not(ldn_study):
    assert bound(ldn_study, date_of_birth="2026-11-25").is_valid()
    assert bound(ldn_study, date_of_birth="2026-11-26").errors == {
        "date_of_birth": [forms.DOB_FUTURE]
    }


def test_line_breaks_in_the_note_count_as_one_character(ldn_study):
    note = "\r\n".join(["z" * 99] * 10) + "\r\n"

    form = bound(ldn_study, note=note)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["note"] == "\n".join(["z" * 99] * 10)


def test_the_note_box_never_cuts_a_pasted_note_short(ldn_study):
    form = bound(ldn_study)

    assert "maxlength" not in str(form["note"])
    assert 'maxlength="100"' in str(form["first_name"])


def test_a_note_one_character_too_long_is_refused_not_truncated(ldn_study):
    form = bound(ldn_study, note="n" * 1001)

    assert not form.is_valid()
    assert form.errors == {"note": ["Make your note shorter: up to 1,000 characters. It has 1001."]}
    assert form["note"].value() == "n" * 1001


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "Ann\x07", forms.NAME_CONTROL_CHARS),
        ("last_name", "Lee\x1b[0m", forms.NAME_CONTROL_CHARS),
        ("note", "ok\x00", "Null characters are not allowed."),
        ("note", "ok\x1b[2J", forms.NOTE_CONTROL_CHARS),
    ],
)
def test_control_characters_are_refused(ldn_study, field, value, message):
    form = bound(ldn_study, **{field: value})

    assert form.errors == {field: [message]}


def test_tabs_and_line_breaks_in_a_name_become_single_spaces(ldn_study):
    form = bound(ldn_study, first_name="Mary\tJane\r\n", last_name=" van  der Berg ")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["first_name"] == "Mary Jane"
    assert form.cleaned_data["last_name"] == "van der Berg"


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ("", None),
        ("not-a-uuid", None),
        (
            "{12345678-1234-5678-1234-567812345678}",
            uuid.UUID(int=0x12345678123456781234567812345678),
        ),
    ],
)
def test_the_submission_token_is_read_leniently(ldn_study, posted, expected):
    form = bound(ldn_study, submission_token=posted)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["submission_token"] == expected


def test_a_new_form_carries_a_fresh_token_and_no_answers(ldn_study):
    criteria = selectors.criterion_list_for_form(study=ldn_study)
    first = InterestForm(study=ldn_study, criteria=criteria)
    second = InterestForm(study=ldn_study, criteria=criteria)

    assert isinstance(first.initial["submission_token"], uuid.UUID)
    assert first.initial["submission_token"] != second.initial["submission_token"]
    assert set(first.initial) == {"submission_token"}


def test_fields_are_in_the_order_of_the_page(ldn_study):
    form = bound(ldn_study)

    names = list(form.fields)
    assert names[:8] == [
        "first_name",
        "last_name",
        "date_of_birth",
        "zip_code",
        "email",
        "phone",
        "preferred_contact",
        "best_time",
    ]
    assert names[8:11] == ["q_diagnosis", "q_core-symptoms__pem", "q_core-symptoms__sleep"]
    assert names[-6:] == [
        "referral_source",
        "note",
        "contact_consent",
        "registry_consent",
        "submission_token",
        "website",
    ]


def test_a_number_question_keeps_its_hint_and_says_how_to_be_unsure(ldn_study):
    CriterionFactory(
        study=ldn_study,
        code="hours-up",
        question="How many hours a day can you sit up?",
        hint="Count all the hours, not just in one go.",
        rule_kind="number_range",
        params={"min": 2},
    )

    form = bound(ldn_study, **{"q_hours-up": "abc"})

    assert str(form.fields["q_hours-up"].help_text) == (
        "Count all the hours, not just in one go. Leave it empty if you are not sure."
    )
    assert form.errors == {"q_hours-up": [forms.NUMBER_INVALID]}


def test_the_honeypot_marks_the_form_as_spam(ldn_study):
    form = bound(ldn_study, website="http://spam.example")

    assert form.is_valid(), form.errors
    assert form.is_spam is True


def test_staff_age_and_distance_criteria_get_no_field(ldn_study):
    form = bound(ldn_study)

    codes = {c.code for c in form.criteria}
    assert codes == {
        "diagnosis",
        "core-symptoms",
        "can-attend",
        "opioids",
        "recent-ldn",
        "allergy",
        "pregnancy",
        "liver",
        "autoimmune",
        "substance-misuse",
        "other-trial",
    }
    for code in ("age", "lives-nearby", "hs-crp", "esr", "rf", "ana", "thyroid"):
        assert not any(name.startswith(f"q_{code}") for name in form.fields)
