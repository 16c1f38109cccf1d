"""The public pages and the interest form, through HTTP as a patient's browser meets them."""

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.core import mail
from django.test.html import Element

from recruitment.contact import PHONE_INVALID
from recruitment.intake import forms
from recruitment.models import Answer, Participant, Study
from recruitment.selectors import verdict_list
from tests.dates import NOV_25_EARLY as NOW  # 06:00 on the 25th in Birmingham
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    CriterionFactory,
    StudyFactory,
    ldn_form_data,
    submit,
)
from tests.html_reading import attrs, by_id, find_all, parse, rendered_values, text, walk

HOME_URL = "/"
STUDY_URL = "/studies/ldn-mecfs/"
FORM_URL = "/studies/ldn-mecfs/interest/"
THANKS_URL = "/studies/ldn-mecfs/interest/thanks/"

STAFF_CRITERIA = {"hs-crp", "esr", "rf", "ana", "thyroid"}
PATIENT_QUESTION_FIELDS = {
    "q_diagnosis",
    "q_core-symptoms__pem",
    "q_core-symptoms__sleep",
    "q_core-symptoms__cognitive",
    "q_core-symptoms__orthostatic",
    "q_can-attend",
    "q_opioids",
    "q_recent-ldn",
    "q_allergy",
    "q_pregnancy",
    "q_liver",
    "q_autoimmune",
    "q_substance-misuse",
    "q_other-trial",
}
PATIENT_EMAIL = "ann.lee@example.com"
COORDINATORS = ["coordinators@example.edu"]


@pytest.fixture(autouse=True)
def _today():
    """Every test runs on the same day: ages, washout dates and "future" depend on it."""
    with time_machine.travel(NOW, tick=False):
        yield


# ---------------------------------------------------------------------------------------------
# Reading pages the way a browser (and a screen reader) does
# ---------------------------------------------------------------------------------------------
def page_text(tree: Element) -> str:
    (main,) = find_all(tree, "main")
    return text(main)


def plain(value: str) -> str:
    return " ".join(value.split())


def error_summary_links(tree: Element) -> list[tuple[str, str]]:
    (summary,) = find_all(tree, "div", id="error-summary")
    return [(attrs(a)["href"], text(a)) for a in find_all(summary, "a")]


def post_form(client, **overrides):
    return client.post(FORM_URL, ldn_form_data(**overrides))


def submitted(client, **overrides) -> Participant:
    response = post_form(client, **overrides)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Participant.objects.latest("pk")


def answers_of(participant: Participant) -> dict:
    return {a.criterion.code: a.value for a in participant.answers.select_related("criterion")}


def verdicts_of(participant: Participant) -> dict[str, str]:
    return {v.criterion.code: v.verdict for v in participant.verdicts.select_related("criterion")}


# ---------------------------------------------------------------------------------------------
# Home and study pages
# ---------------------------------------------------------------------------------------------
def test_home_lists_the_recruiting_studies_and_not_a_closed_one(client, ldn_study):
    other = StudyFactory(title="Another open study", summary="A second summary.")
    closed = StudyFactory(title="A closed study", is_recruiting=False)

    response = client.get(HOME_URL)

    assert response.status_code == 200
    tree = parse(response)
    titles = {text(a): attrs(a)["href"] for h2 in find_all(tree, "h2") for a in find_all(h2, "a")}
    assert titles == {
        "Low-dose naltrexone (LDN) for ME/CFS": STUDY_URL,
        "Another open study": f"/studies/{other.slug}/",
    }
    assert plain(ldn_study.summary) in page_text(tree)
    assert "A second summary." in page_text(tree)
    assert closed.title not in response.content.decode()
    assert f"/studies/{closed.slug}/" not in response.content.decode()


def test_home_says_so_when_no_study_is_recruiting(client, db):
    StudyFactory(is_recruiting=False)

    tree = parse(client.get(HOME_URL))

    assert "No study is looking for people right now." in page_text(tree)
    assert find_all(tree, "article") == []


def test_the_study_page_shows_the_summary_the_interest_link_and_the_form_length(client, ldn_study):
    response = client.get(STUDY_URL)

    assert response.status_code == 200
    tree = parse(response)
    body = page_text(tree)
    assert plain(ldn_study.summary) in body
    links = [text(a) for a in find_all(tree, "a", href=FORM_URL)]
    assert links == ["I'm interested"]
    assert "The form takes about 5 minutes." in body
    assert "Taking one capsule each night at home for about 12 weeks" in body
    assert "ldn-study@example.edu" in body


@pytest.mark.parametrize(
    "url",
    [
        "/studies/no-such-study/",
        "/studies/no-such-study/interest/",
        "/studies/no-such-study/interest/thanks/",
    ],
)
def test_an_unknown_study_is_not_found(client, ldn_study, url):
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------------------------------------
# The form page
# ---------------------------------------------------------------------------------------------
def test_every_form_control_has_a_visible_label_and_every_radio_group_a_legend(client, ldn_study):
    tree = parse(client.get(FORM_URL))
    labels = {attrs(label).get("for"): text(label) for label in find_all(tree, "label")}
    (form,) = find_all(tree, "form", id="interest-form")

    checked = 0
    for element, ancestors in walk(form):
        a = attrs(element)
        if element.name not in ("input", "select", "textarea"):
            continue
        if a.get("type") in ("hidden", "submit"):
            continue
        assert a.get("id"), f"{a.get('name')} has no id"
        assert labels.get(a["id"]), f"{a['name']} has no <label for={a['id']}>"
        if a.get("type") == "radio":
            fieldset = [e for e in ancestors if e.name == "fieldset"][-1]
            legends = [c for c in fieldset.children if isinstance(c, Element)]
            assert legends[0].name == "legend", f"{a['name']} has no legend"
            assert text(legends[0]), f"{a['name']} has an empty legend"
        checked += 1
    # 18 contact controls (6 boxes, 7 radios, the list, the note, the consent checkbox, the
    # registry's checkbox and the honeypot), three radios per health question, and the
    # last-dose date.
    assert checked == 18 + 3 * len(PATIENT_QUESTION_FIELDS) + 1


def test_the_consent_checkbox_says_what_is_stored_and_who_sees_it(client, ldn_study):
    tree = parse(client.get(FORM_URL))

    (label,) = find_all(tree, "label", **{"for": "id_contact_consent"})
    assert text(label).removesuffix("*").strip() == plain(ldn_study.contact_consent_text)
    assert "Only the study team at the university can see it." in text(label)


def test_nothing_is_chosen_for_the_patient_in_advance(client, ldn_study):
    tree = parse(client.get(FORM_URL))

    for element, _ in walk(tree):
        a = attrs(element)
        assert "checked" not in a, a
        if element.name == "option" and "selected" in a:
            assert a["value"] == "", a
        if element.name == "input" and a.get("type") not in ("hidden", "submit", "radio"):
            assert a.get("value", "") == "", a
    assert text(find_all(tree, "textarea", name="note")[0]) == ""


def test_every_health_question_offers_not_sure(client, ldn_study):
    tree = parse(client.get(FORM_URL))
    labels = {attrs(label).get("for"): text(label) for label in find_all(tree, "label")}

    groups: dict[str, dict[str, str]] = {}
    for radio in find_all(tree, "input", type="radio"):
        a = attrs(radio)
        if a["name"].startswith("q_"):
            groups.setdefault(a["name"], {})[a["value"]] = labels[a["id"]]

    assert set(groups) == PATIENT_QUESTION_FIELDS
    for name, options in groups.items():
        assert options == {"yes": "Yes", "no": "No", "unsure": "Not sure"}, name


def test_staff_checks_and_age_and_distance_are_not_asked(client, ldn_study):
    response = client.get(FORM_URL)
    tree = parse(response)
    names = {attrs(e).get("name") for e, _ in walk(tree)} - {None}
    body = page_text(tree)

    for code in (*STAFF_CRITERIA, "age", "lives-nearby"):
        assert not any(name.startswith(f"q_{code}") for name in names), code
    for staff_words in ("hs-CRP", "ESR", "Rheumatoid", "ANA", "Thyroid", "antinuclear"):
        assert staff_words not in body
    assert "How old are you" not in body
    assert "100 miles" not in body


def test_the_form_says_how_long_it_takes_and_its_button_says_what_it_does(client, ldn_study):
    tree = parse(client.get(FORM_URL))

    assert "This takes about 5 minutes." in page_text(tree)
    (form,) = find_all(tree, "form", id="interest-form")
    buttons = [e for e, _ in walk(form) if attrs(e).get("type") == "submit"]
    assert [attrs(b).get("value") or text(b) for b in buttons] == [
        "Send my interest",
        "Save and finish later",
    ]


def test_the_form_works_without_javascript(client, ldn_study):
    tree = parse(client.get(FORM_URL))

    assert find_all(tree, "script") == []
    (form,) = find_all(tree, "form", id="interest-form")
    assert attrs(form)["method"] == "post"
    assert attrs(form)["action"] == FORM_URL
    tokens = find_all(form, "input", name="submission_token")
    assert len(tokens) == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", attrs(tokens[0])["value"])


def test_a_criterion_added_in_the_database_is_asked_stored_and_judged(client, ldn_study):
    CriterionFactory(
        study=ldn_study,
        code="night-shifts",
        kind="exclusion",
        question="Do you work night shifts?",
        hint="Shifts that end after midnight.",
        params={"required": "no"},
        order=50,
    )

    tree = parse(client.get(FORM_URL))
    radios = find_all(tree, "input", name="q_night-shifts")
    assert [attrs(r)["value"] for r in radios] == ["yes", "no", "unsure"]
    legends = [text(legend) for legend in find_all(tree, "legend")]
    assert "Do you work night shifts?" in legends
    assert "Shifts that end after midnight." in page_text(tree)

    participant = submitted(client, **{"q_night-shifts": "yes"})

    assert answers_of(participant)["night-shifts"] == "yes"
    verdict = participant.verdicts.get(criterion__code="night-shifts")
    assert verdict.verdict == "not_met"
    assert verdict.reason == "Answered yes; needs no."
    assert verdict.criterion_snapshot["question"] == "Do you work night shifts?"
    assert participant.outcome == "likely_ineligible"


@pytest.mark.parametrize(
    ("rule_kind", "params", "posted", "stored", "verdict"),
    [
        (
            "choice",
            {
                "options": [
                    {"value": "daily", "label": "Every day"},
                    {"value": "weekly", "label": "Once a week"},
                ],
                "eligible": ["weekly"],
            },
            "daily",
            "daily",
            "not_met",
        ),
        ("number_range", {"min": 2, "unit": "hours"}, "3.5", "3.5", "met"),
        ("number_range", {"min": 2, "unit": "hours"}, "", None, "unknown"),
    ],
)
def test_new_choice_and_number_questions_need_no_code(
    client, ldn_study, rule_kind, params, posted, stored, verdict
):
    CriterionFactory(
        study=ldn_study,
        code="extra",
        question="How often can you rest?",
        rule_kind=rule_kind,
        params=params,
        order=50,
    )

    tree = parse(client.get(FORM_URL))
    labels = {attrs(label).get("for"): text(label) for label in find_all(tree, "label")}
    if rule_kind == "choice":
        assert "How often can you rest?" in [text(legend) for legend in find_all(tree, "legend")]
        radios = find_all(tree, "input", name="q_extra")
        assert [labels[attrs(r)["id"]] for r in radios] == ["Every day", "Once a week", "Not sure"]
    else:
        assert labels["id_q_extra"] == "How often can you rest?"
        assert "Leave it empty if you are not sure." in page_text(tree)

    participant = submitted(client, q_extra=posted)

    assert answers_of(participant).get("extra") == stored
    assert verdicts_of(participant)["extra"] == verdict


def test_a_retired_criterion_is_no_longer_asked(client, ldn_study):
    ldn_study.criteria.filter(code="liver").update(is_active=False)

    tree = parse(client.get(FORM_URL))

    assert find_all(tree, "input", name="q_liver") == []
    assert "liver disease" not in page_text(tree)


# ---------------------------------------------------------------------------------------------
# A valid submission
# ---------------------------------------------------------------------------------------------
THANKS_CASES = {
    "eligible": {},
    "not sure": {"q_liver": "unsure"},
    "washout": {"q_opioids": "yes", "q_opioids__last": "2026-10-25"},
    "pregnant": {"q_pregnancy": "yes"},
}


@pytest.mark.parametrize("answers", THANKS_CASES.values(), ids=THANKS_CASES.keys())
def test_a_valid_form_redirects_to_a_thank_you_page_with_the_number_and_no_verdict(
    client, ldn_study, answers
):
    response = post_form(client, **answers)

    assert response.status_code == 302
    assert response["Location"] == THANKS_URL
    thanks = client.get(THANKS_URL)
    assert thanks.status_code == 200
    tree = parse(thanks)
    assert text(by_id(tree)["screening-number"]) == "LDN-S-0001"
    headings = [text(h) for h in find_all(tree, "h2")]
    assert headings == ["What happens next", "If you change your mind"]
    body = page_text(tree)
    assert "The LDN study team will call you within 5 working days" in body
    assert "You can stop at any time." in body
    assert "ldn-study@example.edu" in body
    for verdict_word in ("eligib", "qualif", "likely", "review", "not met", "sorry"):
        assert verdict_word not in body.lower()


def test_a_valid_form_saves_the_participant_answers_and_the_verdicts_judged(client, ldn_study):
    participant = submitted(client)

    assert Participant.objects.count() == 1
    assert participant.screening_number == "LDN-S-0001"
    assert participant.status == "new"
    assert participant.participant_id is None
    assert (participant.first_name, participant.last_name) == ("Ann", "Lee")
    assert participant.email == PATIENT_EMAIL
    assert participant.phone == "+12055550134"  # E.164
    assert participant.phone_normalised == "2055550134"
    assert participant.date_of_birth == dt.date(1980, 4, 28)
    assert participant.zip_code == "35203"
    assert participant.preferred_contact == "phone"
    assert participant.best_time == "morning"
    assert participant.referral_source == "prohealth"
    assert participant.contact_consent is True
    assert participant.contact_consent_version == "2026-11-01"
    assert participant.contact_consent_at == NOW
    assert participant.duplicate_of is None
    assert answers_of(participant) == LDN_ELIGIBLE_ANSWERS
    # Stored: a verdict for each criterion judged; the staff checks not entered are listed.
    verdicts = verdicts_of(participant)
    assert set(verdicts) == {*LDN_ELIGIBLE_ANSWERS, "age", "lives-nearby"}
    assert set(verdicts.values()) == {"met"}
    listed = {v.criterion.code: v.verdict for v in verdict_list(participant=participant)}
    assert len(listed) == 18
    assert {code for code, v in listed.items() if v == "pending"} == STAFF_CRITERIA
    assert participant.outcome == "likely_eligible"
    assert participant.eligible_from is None


def test_a_not_sure_answer_sends_the_participant_to_review(client, ldn_study):
    participant = submitted(client, q_liver="unsure")

    assert answers_of(participant)["liver"] == "unsure"
    assert verdicts_of(participant)["liver"] == "unknown"
    assert participant.outcome == "needs_review"


def test_an_unanswered_question_sends_the_participant_to_review(client, ldn_study):
    participant = submitted(client, q_allergy=None)

    assert "allergy" not in answers_of(participant)
    assert verdicts_of(participant)["allergy"] == "unknown"
    assert participant.outcome == "needs_review"


@pytest.mark.parametrize("last_dose", ["2026-10-25", "10/25/2026"])
def test_an_opioid_a_month_ago_makes_the_participant_eligible_three_months_after_it(
    client, ldn_study, last_dose
):
    participant = submitted(client, q_opioids="yes", q_opioids__last=last_dose)

    assert answers_of(participant)["opioids"] == {"taken": "yes", "last": "2026-10-25"}
    verdict = participant.verdicts.get(criterion__code="opioids")
    assert verdict.verdict == "not_met"
    assert verdict.eligible_from == dt.date(2027, 1, 25)
    assert participant.outcome == "eligible_from"
    assert participant.eligible_from == dt.date(2027, 1, 25)


def test_an_opioid_more_than_three_months_ago_does_not_exclude(client, ldn_study):
    participant = submitted(client, q_opioids="yes", q_opioids__last="2026-08-25")

    assert verdicts_of(participant)["opioids"] == "met"
    assert participant.outcome == "likely_eligible"
    assert participant.eligible_from is None


def test_a_yes_to_pregnancy_makes_the_participant_likely_ineligible(client, ldn_study):
    participant = submitted(client, q_pregnancy="yes")

    assert answers_of(participant)["pregnancy"] == "yes"
    assert verdicts_of(participant)["pregnancy"] == "not_met"
    assert participant.outcome == "likely_ineligible"


def test_someone_living_far_away_is_saved_and_judged_on_distance(client, ldn_study):
    participant = submitted(client, zip_code="10001")  # New York

    assert participant.zip_code == "10001"
    assert verdicts_of(participant)["lives-nearby"] == "not_met"
    assert participant.outcome == "likely_ineligible"


def test_a_zip_plus_four_and_a_us_date_of_birth_are_accepted(client, ldn_study):
    participant = submitted(client, zip_code="35203-1234", date_of_birth="04/28/1980")

    assert participant.zip_code == "35203"
    assert participant.date_of_birth == dt.date(1980, 4, 28)


def test_extra_fields_in_the_post_cannot_set_status_or_numbers(client, ldn_study):
    participant = submitted(
        client,
        status="enrolled",
        participant_id="LDN-001",
        screening_number="X",
        outcome="all_met",
        eligible_from="2020-01-01",
        study="999",
    )

    assert participant.status == "new"
    assert participant.participant_id is None
    assert participant.screening_number == "LDN-S-0001"
    assert participant.outcome == "likely_eligible"
    assert participant.eligible_from is None
    assert participant.study == ldn_study


# ---------------------------------------------------------------------------------------------
# Emails
# ---------------------------------------------------------------------------------------------
def test_the_patient_gets_one_confirmation_with_the_number_and_no_health_answers(
    client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        participant = submitted(client, q_opioids="yes", q_opioids__last="2026-10-25")

    to_patient = [m for m in mail.outbox if m.to == [PATIENT_EMAIL]]
    assert len(to_patient) == 1
    message = to_patient[0]
    assert "LDN-S-0001" in message.subject
    assert "Your screening number is LDN-S-0001." in message.body
    assert message.body.startswith("Hello Ann,")
    everything = f"{message.subject}\n{message.body}".lower()
    health_texts = []
    for criterion in ldn_study.criteria.all():
        health_texts += [criterion.question, criterion.hint, criterion.title]
        health_texts += [item["label"] for item in criterion.params.get("items", [])]
    for health_text in filter(None, map(plain, health_texts)):
        assert health_text.lower() not in " ".join(everything.split())
    for word in ("opioid", "tramadol", "2026-10-25", "pregnan", "liver", "allerg", "alcohol"):
        assert word not in everything
    for word in ("eligib", "likely", "review", participant.outcome):
        assert word not in everything


def test_the_coordinators_get_one_notice_with_a_staff_link_and_no_personal_data(
    client, ldn_study, django_capture_on_commit_callbacks, admin_client
):
    with django_capture_on_commit_callbacks(execute=True):
        participant = submitted(
            client,
            first_name="Marguerite",
            last_name="Okonkwo",
            email="m.okonkwo@example.com",
            phone="(205) 555-0199",
            date_of_birth="1979-07-13",
            zip_code="35216",
        )

    assert len(mail.outbox) == 2
    notices = [m for m in mail.outbox if m.to == COORDINATORS]
    assert len(notices) == 1
    notice = notices[0]
    link = f"http://testserver/admin/recruitment/participant/{participant.pk}/change/"
    assert "LDN-S-0001" in notice.subject
    assert "Screening number: LDN-S-0001" in notice.body
    assert link in notice.body.split()
    everything = f"{notice.subject}\n{notice.body}".lower()
    for personal in (
        "marguerite",
        "okonkwo",
        "m.okonkwo",
        "555-0199",
        "5550199",
        "0199",
        "1979",
        "07/13",
        "july",
        "35216",
    ):
        assert personal not in everything
    # The link leads a logged-in member of staff to the participant.
    assert admin_client.get(link.removeprefix("http://testserver")).status_code == 200


def test_emails_are_sent_only_after_the_submission_commits(
    client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submitted(client)

    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(m.to[0] for m in mail.outbox) == [PATIENT_EMAIL, COORDINATORS[0]]


@pytest.mark.django_db(transaction=True)
def test_a_committed_submission_sends_both_emails(client, ldn_study):
    submitted(client)

    assert sorted(m.to[0] for m in mail.outbox) == [PATIENT_EMAIL, COORDINATORS[0]]


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
BAD_INPUT = {
    "date of birth in the future": (
        {"date_of_birth": "2026-11-26"},
        "date_of_birth",
        forms.DOB_FUTURE,
    ),
    "date of birth over 120 years ago": (
        {"date_of_birth": "1906-11-24"},
        "date_of_birth",
        forms.DOB_TOO_OLD,
    ),
    "date of birth that is not a date": (
        {"date_of_birth": "28/04/1980"},
        "date_of_birth",
        forms.DOB_INVALID,
    ),
    "ZIP too short": ({"zip_code": "1234"}, "zip_code", forms.ZIP_INVALID),
    "ZIP of letters": ({"zip_code": "abcde"}, "zip_code", forms.ZIP_INVALID),
    "ZIP that does not exist": ({"zip_code": "00000"}, "zip_code", forms.ZIP_UNKNOWN),
    "bad email": ({"email": "ann.lee@"}, "email", forms.EMAIL_INVALID),
    "phone too short": ({"phone": "123"}, "phone", PHONE_INVALID),
    "phone with letters": ({"phone": "205-555-CALL"}, "phone", PHONE_INVALID),
    "phone call with no phone": (
        {"preferred_contact": "phone", "phone": ""},
        "phone",
        forms.PHONE_NEEDED,
    ),
    "text message with no phone": (
        {"preferred_contact": "text", "phone": ""},
        "phone",
        forms.PHONE_NEEDED,
    ),
    "note of 1,001 characters": (
        {"note": "x" * 1001},
        "note",
        "Make your note shorter: up to 1,000 characters. It has 1001.",
    ),
    "unknown answer to a question": ({"q_allergy": "maybe"}, "q_allergy", forms.CHOICE_INVALID),
    "unknown contact method": (
        {"preferred_contact": "pigeon"},
        "preferred_contact",
        forms.CHOICE_INVALID,
    ),
    "no contact method": (
        {"preferred_contact": None},
        "preferred_contact",
        forms.CONTACT_METHOD_NEEDED,
    ),
    "no consent": ({"contact_consent": None}, "contact_consent", forms.CONSENT_NEEDED),
    "no first name": ({"first_name": "   "}, "first_name", forms.FIRST_NAME_NEEDED),
    "opioid with no date": (
        {"q_opioids": "yes"},
        "q_opioids__last",
        forms.LAST_DOSE_NEEDED,
    ),
    "opioid last taken in the future": (
        {"q_opioids": "yes", "q_opioids__last": "2026-11-26"},
        "q_opioids__last",
        forms.LAST_DOSE_FUTURE,
    ),
}
RADIOS = {"q_allergy", "preferred_contact"}


@pytest.mark.parametrize(
    ("overrides", "field", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys()
)
def test_bad_input_is_explained_next_to_its_field_and_in_the_summary_and_nothing_is_saved(
    client, ldn_study, django_capture_on_commit_callbacks, overrides, field, message
):
    data = ldn_form_data(token="6f1f5f2e-3c1d-4d6a-9b53-0d8d2f0b7a11", **overrides)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(FORM_URL, data)

    assert response.status_code == 200
    assert Participant.objects.count() == 0
    assert Answer.objects.count() == 0
    assert Study.objects.get(pk=ldn_study.pk).last_screening_seq == 0
    assert callbacks == []
    assert mail.outbox == []

    tree = parse(response)
    ids = by_id(tree)
    # Next to the field.
    error = ids[f"id_{field}_error"]
    assert "invalid-feedback" in attrs(error)["class"].split()
    assert text(error) == str(message)
    # In the summary at the top, linked to the field.
    target = f"id_{field}_0" if field in RADIOS else f"id_{field}"
    assert error_summary_links(tree) == [(f"#{target}", str(message))]
    assert attrs(ids[target])["name"] == field
    assert text(find_all(tree, "title")[0]).startswith("Error:")
    # Everything typed is still there (an unknown choice cannot be shown as chosen).
    kept = {name: value for name, value in data.items() if value != "" and name != field}
    if field not in RADIOS:
        kept.update({name: value for name, value in overrides.items() if value})
    rendered = rendered_values(tree)
    assert {name: rendered.get(name) for name in kept} == kept


def test_the_summary_lists_every_error_in_page_order_each_linked_to_an_element(client, ldn_study):
    response = post_form(
        client,
        first_name="",
        zip_code="1234",
        preferred_contact=None,
        q_allergy="maybe",
        q_opioids="yes",
        contact_consent=None,
    )

    tree = parse(response)
    links = error_summary_links(tree)
    assert [href for href, _ in links] == [
        "#id_first_name",
        "#id_zip_code",
        "#id_preferred_contact_0",
        "#id_q_opioids__last",
        "#id_q_allergy_0",
        "#id_contact_consent",
    ]
    ids = by_id(tree)
    for href, _ in links:
        assert href.removeprefix("#") in ids
    assert Participant.objects.count() == 0


def test_a_date_of_birth_exactly_120_years_ago_is_accepted(client, ldn_study):
    participant = submitted(client, date_of_birth="1906-11-25")

    assert participant.date_of_birth == dt.date(1906, 11, 25)
    assert verdicts_of(participant)["age"] == "not_met"


def test_a_note_of_1000_characters_is_kept_whole(client, ldn_study):
    # Ten lines of 99 characters: 1,000 characters as the browser counts them, 1,010 as sent.
    typed = "\n".join(["y" * 99] * 10) + "\n"
    participant = submitted(client, note=typed.replace("\n", "\r\n"))

    assert participant.note == typed.rstrip("\n")
    assert len(typed) == 1000


def test_an_empty_post_shows_the_errors_and_saves_nothing(client, ldn_study):
    response = client.post(FORM_URL, {})

    assert response.status_code == 200
    hrefs = [href for href, _ in error_summary_links(parse(response))]
    assert hrefs[0] == "#id_first_name"
    assert "#id_contact_consent" in hrefs
    assert Participant.objects.count() == 0


GARBAGE = {
    "100,000-character first name": {"first_name": "x" * 100_000},
    "null in the last name": {"last_name": "Lee\x00"},
    "bell in the first name": {"first_name": "Ann\x07"},
    "escape codes in the note": {"note": "hello \x1b[31mred"},
    "100,000-character email": {"email": "a" * 100_000 + "@example.com"},
    "null in the ZIP": {"zip_code": "3520\x00"},
    "absurd year": {"date_of_birth": "99999999-01-01"},
    "zero date": {"date_of_birth": "0000-00-00"},
    "right-to-left override in the phone": {"phone": "\u202e4310-555-502"},
    "huge answer": {"q_allergy": "y" * 100_000},
    "null answer": {"q_allergy": "\x00"},
    "garbage last dose": {"q_opioids": "yes", "q_opioids__last": "\x00" * 50},
}


@pytest.mark.parametrize("overrides", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_is_refused_with_a_message_never_a_server_error(client, ldn_study, overrides):
    response = post_form(client, **overrides)

    assert response.status_code == 200
    assert error_summary_links(parse(response))
    assert Participant.objects.count() == 0


@pytest.mark.parametrize("token", ["not-a-uuid", "\x00", "x" * 10_000])
def test_a_mangled_submission_token_still_saves_the_interest(client, ldn_study, token):
    participant = submitted(client, submission_token=token)

    assert participant.screening_number == "LDN-S-0001"
    # The server gives the form a token of its own, which finds the number on the thank-you
    # page.
    assert isinstance(participant.submission_token, uuid.UUID)
    assert str(participant.submission_token) != token


def test_names_in_many_languages_are_accepted_and_tidied(client, ldn_study):
    participant = submitted(client, first_name="  Zoë   Ngọc ", last_name="O'Brien-Núñez 李")

    assert participant.first_name == "Zoë Ngọc"
    assert participant.last_name == "O'Brien-Núñez 李"


# ---------------------------------------------------------------------------------------------
# Honeypot, double submission, the thank-you page
# ---------------------------------------------------------------------------------------------
def test_a_filled_honeypot_looks_like_success_but_saves_and_sends_nothing(
    client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_form(client, website="http://cheap-pills.example")

    assert response.status_code == 302
    assert response["Location"] == THANKS_URL
    thanks = client.get(THANKS_URL)
    assert thanks.status_code == 200
    assert [text(h) for h in find_all(parse(thanks), "h1")] == ["Thank you. We got your answers."]
    assert "LDN-S-" not in thanks.content.decode()
    assert Participant.objects.count() == 0
    assert Study.objects.get(pk=ldn_study.pk).last_screening_seq == 0
    assert callbacks == []
    assert mail.outbox == []


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client, ldn_study):
    tree = parse(client.get(FORM_URL))

    wrappers = [
        ancestors
        for element, ancestors in walk(tree)
        if element.name == "input" and attrs(element).get("name") == "website"
    ]
    assert len(wrappers) == 1
    hidden = [e for e in wrappers[0] if attrs(e).get("aria-hidden") == "true"]
    assert len(hidden) == 1
    assert "hp-field" in attrs(hidden[0])["class"].split()
    (website,) = find_all(tree, "input", name="website")
    assert attrs(website)["tabindex"] == "-1"


def test_a_double_click_creates_one_participant_and_shows_the_same_number_twice(
    client, ldn_study, django_capture_on_commit_callbacks
):
    (token_input,) = find_all(parse(client.get(FORM_URL)), "input", name="submission_token")
    token = attrs(token_input)["value"]

    numbers = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            response = client.post(FORM_URL, ldn_form_data(token=token))
            assert response.status_code == 302
            assert response["Location"] == THANKS_URL
            numbers.append(text(by_id(parse(client.get(THANKS_URL)))["screening-number"]))

    assert numbers == ["LDN-S-0001", "LDN-S-0001"]
    assert Participant.objects.count() == 1
    assert str(Participant.objects.get().submission_token) == token
    assert len(mail.outbox) == 2


def test_two_forms_from_the_same_browser_are_two_participants(client, ldn_study):
    first = submitted(client, submission_token="11111111-1111-4111-8111-111111111111")
    second = submitted(
        client,
        submission_token="22222222-2222-4222-8222-222222222222",
        first_name="Bo",
        email="bo@example.com",
        phone="205-555-0177",
    )

    assert (first.screening_number, second.screening_number) == ("LDN-S-0001", "LDN-S-0002")
    assert text(by_id(parse(client.get(THANKS_URL)))["screening-number"]) == "LDN-S-0002"


def test_the_thank_you_page_without_a_submission_redirects_to_the_study_page(client, ldn_study):
    response = client.get(THANKS_URL)

    assert response.status_code == 302
    assert response["Location"] == STUDY_URL


def test_a_submission_to_one_study_does_not_open_another_studys_thank_you_page(client, ldn_study):
    other = StudyFactory()
    submitted(client)

    response = client.get(f"/studies/{other.slug}/interest/thanks/")

    assert response.status_code == 302
    assert response["Location"] == f"/studies/{other.slug}/"


def test_the_screening_number_never_appears_in_a_url(client, ldn_study):
    response = post_form(client)
    thanks = client.get(response["Location"])

    assert "LDN-S" not in response["Location"]
    assert "LDN-S-0001" in thanks.content.decode()
    for element, _ in walk(parse(thanks)):
        for name in ("href", "src", "action"):
            assert "LDN-S" not in (attrs(element).get(name) or "")


def test_the_form_and_thank_you_pages_are_never_cached(client, ldn_study):
    form = client.get(FORM_URL)
    submitted(client)
    thanks = client.get(THANKS_URL)

    for response in (form, thanks):
        assert "no-store" in response["Cache-Control"]


# ---------------------------------------------------------------------------------------------
# Possible duplicates
# ---------------------------------------------------------------------------------------------
SAME_PERSON = {
    "same email in other case": {
        "email": "ANN.Lee@Example.COM",
        "first_name": "Annie",
        "phone": "205-555-0177",
        "date_of_birth": "1981-01-01",
    },
    "same phone written differently": {
        "phone": "+1 205.555.0134",
        "email": "annie@example.net",
        "first_name": "Annie",
        "date_of_birth": "1981-01-01",
    },
    "same name and date of birth": {
        "first_name": "ann",
        "last_name": "LEE",
        "email": "annie@example.net",
        "phone": "205-555-0177",
    },
}


@pytest.mark.parametrize("second", SAME_PERSON.values(), ids=SAME_PERSON.keys())
def test_a_repeat_submission_is_kept_linked_to_the_first_and_thanked_the_same_way(
    client, ldn_study, second
):
    first = submitted(client)
    first_thanks = parse(client.get(THANKS_URL))

    repeat = submitted(client, **second)
    repeat_thanks = parse(client.get(THANKS_URL))

    assert Participant.objects.count() == 2
    assert repeat.duplicate_of == first
    assert first.duplicate_of is None
    assert repeat.screening_number == "LDN-S-0002"
    assert text(by_id(repeat_thanks)["screening-number"]) == "LDN-S-0002"
    assert page_text(repeat_thanks) == page_text(first_thanks).replace("LDN-S-0001", "LDN-S-0002")


def test_a_different_person_is_not_linked(client, ldn_study):
    submitted(client)

    other = submitted(
        client,
        first_name="Bo",
        last_name="Park",
        email="bo@example.com",
        phone="205-555-0177",
        date_of_birth="1975-02-02",
    )

    assert other.duplicate_of is None


def test_the_same_person_in_another_study_is_not_linked(client, ldn_study):
    other_study = StudyFactory()
    elsewhere = submit(other_study, email=PATIENT_EMAIL, phone="205-555-0134")

    here = submitted(client)

    assert here.duplicate_of is None
    assert elsewhere.duplicate_of is None
    assert here.screening_number == "LDN-S-0001"


# ---------------------------------------------------------------------------------------------
# A closed study
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def closed_study(ldn_study):
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)
    return Study.objects.get(pk=ldn_study.pk)


def test_a_closed_study_page_says_it_is_not_recruiting_and_offers_no_form(client, closed_study):
    tree = parse(client.get(STUDY_URL))

    assert "This study is not looking for people right now." in page_text(tree)
    assert find_all(tree, "a", href=FORM_URL) == []
    assert "I'm interested" not in page_text(tree)


def test_the_form_of_a_closed_study_shows_the_closed_page_without_a_form(client, closed_study):
    response = client.get(FORM_URL)

    assert response.status_code == 200
    tree = parse(response)
    assert [text(h) for h in find_all(tree, "h1")] == [
        "This study is not looking for people right now"
    ]
    (main,) = find_all(tree, "main")
    assert find_all(main, "form") == []
    assert find_all(main, "input") == []


def test_posting_to_a_closed_study_saves_and_sends_nothing(
    client, closed_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_form(client)

    assert response.status_code == 200
    assert "We did not save anything." in page_text(parse(response))
    assert Participant.objects.count() == 0
    assert Study.objects.get(pk=closed_study.pk).last_screening_seq == 0
    assert callbacks == []
    assert mail.outbox == []


def test_a_study_closing_while_the_form_is_open_saves_nothing(client, ldn_study):
    (token_input,) = find_all(parse(client.get(FORM_URL)), "input", name="submission_token")
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)

    response = client.post(FORM_URL, ldn_form_data(token=attrs(token_input)["value"]))

    assert response.status_code == 200
    assert Participant.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# Query counts: the public pages do not grow with the data
# ---------------------------------------------------------------------------------------------
@pytest.fixture(params=[3, 30], ids=["3 rows", "30 rows"])
def crowd(request, ldn_study):
    """`n` other recruiting studies and `n` participants in the LDN study."""
    n = request.param
    StudyFactory.create_batch(n)
    for i in range(n):
        submit(ldn_study, email=f"p{i}@example.com", phone="", first_name=f"P{i}")
    return n


def test_the_home_page_query_count_does_not_grow(client, crowd, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(HOME_URL)

    assert len(find_all(parse(response), "article")) == crowd + 1


def test_the_study_page_query_count_does_not_grow(client, crowd, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(STUDY_URL)

    assert response.status_code == 200


def test_the_form_page_query_count_does_not_grow(client, crowd, django_assert_max_num_queries):
    # Rendered: what the kept page depends on, the study and its criteria; then kept: the first.
    with django_assert_max_num_queries(3):
        response = client.get(FORM_URL)
    client.cookies.clear()
    with django_assert_max_num_queries(1):
        assert client.get(FORM_URL).status_code == 200

    assert len(find_all(parse(response), "input", type="radio")) == 7 + 3 * len(
        PATIENT_QUESTION_FIELDS
    )


def test_the_thank_you_page_query_count_does_not_grow(client, crowd, django_assert_max_num_queries):
    submitted(client)

    with django_assert_max_num_queries(3):
        response = client.get(THANKS_URL)

    assert text(by_id(parse(response))["screening-number"]) == f"LDN-S-{crowd + 1:04d}"
