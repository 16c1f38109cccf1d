"""Verified answers: staff confirm a patient's answer ("not sure" above all) on the phone, in
person or from records; the record says who, when and how, the patient's own answer stays in
the history, the verdict says staff-verified, and the screening log and the CONSORT box count
the verified answer."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from recruitment.errors import RecruitmentError
from recruitment.models import (
    Answer,
    AnsweredBy,
    CriterionVerdict,
    Outcome,
    Participant,
    Provenance,
    Status,
    StatusReason,
    Verdict,
)
from recruitment.reports.consort import consort_counts
from recruitment.reports.exports import screening_log_iter
from recruitment.screening import services as screening
from recruitment.screening.answer_forms import VerifyAnswersForm
from recruitment.screening.retention import participants_erase_expired
from recruitment.screening.verified_answers import (
    NOT_PATIENT_ANSWERED,
    ORIGINAL_ANSWER_REASON,
    VERIFY_ERASED,
    VERIFY_HOW,
    VERIFY_NOTHING,
    VERIFY_STILL_UNSURE,
    answer_verify,
    criterion_list_verifiable,
)
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant, walk

pytestmark = pytest.mark.django_db

NOV_25 = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)
LATER = NOV_25 + dt.timedelta(hours=3)
UNSURE_ATTENDANCE = {**LDN_ELIGIBLE_ANSWERS, "can-attend": "unsure"}


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOV_25, tick=False)
    return NOV_25


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def verdict_of(participant, code) -> CriterionVerdict:
    return CriterionVerdict.objects.get(participant=participant, criterion__code=code)


def answer_of(participant, code) -> Answer:
    return Answer.objects.get(participant=participant, criterion__code=code)


def unsure(study, **answers):
    participant = applicant(study, answers={**UNSURE_ATTENDANCE, **answers})
    assert verdict_of(participant, "can-attend").verdict == Verdict.UNKNOWN
    return participant


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
def test_a_not_sure_confirmed_on_the_phone_is_recorded_with_who_when_and_how(
    ldn_study, coordinator, time_machine
):
    participant = unsure(ldn_study)
    assert participant.outcome == Outcome.NEEDS_REVIEW
    time_machine.move_to(LATER, tick=False)

    answer_verify(
        participant=participant,
        answers={"can-attend": "yes"},
        how="phone",
        note="Her son drives her",
        by=coordinator,
    )

    answer = answer_of(participant, "can-attend")
    assert (answer.value, answer.answered_by, answer.recorded_by, answer.recorded_at) == (
        "yes",
        AnsweredBy.STAFF,
        coordinator,
        LATER,
    )
    assert (answer.verified_how, answer.verified_note) == ("phone", "Her son drives her")
    verdict = verdict_of(participant, "can-attend")
    assert (verdict.verdict, verdict.provenance) == (Verdict.MET, Provenance.STAFF_VERIFIED)
    # Met now; the lab values are still to come.
    assert fresh(participant).outcome == Outcome.LIKELY_ELIGIBLE
    assert verdict_of(participant, "diagnosis").provenance == Provenance.SELF_REPORTED


def test_the_patient_s_own_answer_stays_in_the_history(ldn_study, coordinator, time_machine):
    participant = unsure(ldn_study)
    time_machine.move_to(LATER, tick=False)

    answer_verify(
        participant=participant, answers={"can-attend": "no"}, how="phone", by=coordinator
    )
    answer_verify(
        participant=participant, answers={"can-attend": "yes"}, how="in_person", by=coordinator
    )

    history = Answer.history.filter(id=answer_of(participant, "can-attend").pk).order_by(
        "history_date", "history_id"
    )
    assert [
        (row.value, row.history_user, row.history_change_reason, row.verified_how)
        for row in history
    ] == [
        ("unsure", None, ORIGINAL_ANSWER_REASON, ""),
        ("no", coordinator, "Verified by staff: Asked on the phone", "phone"),
        ("yes", coordinator, "Verified by staff: Asked in person", "in_person"),
    ]


def test_an_answer_the_patient_skipped_can_be_verified(ldn_study, coordinator):
    answers = {k: v for k, v in LDN_ELIGIBLE_ANSWERS.items() if k != "can-attend"}
    participant = applicant(ldn_study, answers=answers)

    answer_verify(
        participant=participant, answers={"can-attend": "yes"}, how="records", by=coordinator
    )

    assert answer_of(participant, "can-attend").verified_how == "records"
    assert verdict_of(participant, "can-attend").verdict == Verdict.MET


@pytest.mark.parametrize(
    ("answers", "how", "message"),
    [
        ({"hs-crp": 1.2}, "phone", NOT_PATIENT_ANSWERED.format(code="hs-crp")),
        ({"age": "yes"}, "phone", NOT_PATIENT_ANSWERED.format(code="age")),
        ({"nothing-like-it": "yes"}, "phone", NOT_PATIENT_ANSWERED.format(code="nothing-like-it")),
        ({"can-attend": "unsure"}, "phone", None),
        ({"can-attend": "yes"}, "email", VERIFY_HOW),
        ({}, "phone", VERIFY_NOTHING),
    ],
    ids=["a lab value", "age", "no such criterion", "still not sure", "unknown how", "nothing"],
)
def test_a_verification_that_cannot_stand_is_refused_and_nothing_is_written(
    ldn_study, coordinator, answers, how, message
):
    participant = unsure(ldn_study)
    before = (
        list(Answer.history.values_list("pk", flat=True)),
        list(CriterionVerdict.objects.values_list("pk", "verdict", "provenance")),
        fresh(participant).evaluated_at,
    )

    with pytest.raises(RecruitmentError) as refused:
        answer_verify(participant=participant, answers=answers, how=how, by=coordinator)

    title = ldn_study.criteria.get(code="can-attend").title
    assert str(refused.value) == (message or VERIFY_STILL_UNSURE.format(title=title))
    assert before == (
        list(Answer.history.values_list("pk", flat=True)),
        list(CriterionVerdict.objects.values_list("pk", "verdict", "provenance")),
        fresh(participant).evaluated_at,
    )


def test_an_erased_participant_s_answers_cannot_be_verified(ldn_study, coordinator, time_machine):
    participant = walk(unsure(ldn_study), Status.DECLINED, by=coordinator)
    time_machine.move_to(NOV_25 + dt.timedelta(days=ldn_study.retention_days + 1), tick=False)
    participants_erase_expired()

    with pytest.raises(RecruitmentError) as refused:
        answer_verify(
            participant=fresh(participant),
            answers={"can-attend": "yes"},
            how="phone",
            by=coordinator,
        )

    assert str(refused.value) == VERIFY_ERASED.format(number=participant.screening_number)


def test_only_the_questions_of_the_form_can_be_verified(ldn_study):
    codes = [c.code for c in criterion_list_verifiable(study=ldn_study)]

    assert "age" not in codes and "lives-nearby" not in codes and "hs-crp" not in codes
    assert codes[:3] == ["diagnosis", "core-symptoms", "can-attend"]


# ---------------------------------------------------------------------------------------------
# The form: items of a several-item question keep the patient's other answers
# ---------------------------------------------------------------------------------------------
def test_one_item_verified_keeps_the_patient_s_answers_to_the_others(ldn_study, coordinator):
    symptoms = {"pem": "yes", "sleep": "yes", "cognitive": "unsure", "orthostatic": "unsure"}
    participant = applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "core-symptoms": symptoms})
    assert verdict_of(participant, "core-symptoms").verdict == Verdict.UNKNOWN
    criteria = criterion_list_verifiable(study=ldn_study)
    current = {a.criterion.code: a for a in participant.answers.select_related("criterion")}

    form = VerifyAnswersForm(
        {"core-symptoms__cognitive": "yes", "how": "phone"},
        participant=participant,
        user=coordinator,
        criteria=criteria,
        current=current,
    )

    assert form.is_valid(), form.errors
    assert form.answers() == {"core-symptoms": {**symptoms, "cognitive": "yes"}}
    answer_verify(participant=participant, answers=form.answers(), how="phone", by=coordinator)
    assert verdict_of(participant, "core-symptoms").verdict == Verdict.MET


def test_the_form_asks_the_date_of_the_last_dose_with_a_yes(ldn_study, coordinator):
    participant = unsure(ldn_study)
    criteria = criterion_list_verifiable(study=ldn_study)

    form = VerifyAnswersForm(
        {"opioids": "yes", "how": "phone"},
        participant=participant,
        user=coordinator,
        criteria=criteria,
        current={},
    )

    assert not form.is_valid()
    assert "opioids__last" in form.errors


# ---------------------------------------------------------------------------------------------
# What the screening log and the CONSORT box count
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("verified", "counted", "no_criterion"),
    [("no", True, 0), ("yes", False, 1)],
    ids=["not met", "met"],
)
def test_a_not_sure_resolved_moves_the_consort_box_and_the_screening_log(
    ldn_study, coordinator, verified, counted, no_criterion
):
    participant = walk(unsure(ldn_study), Status.SCREENING, by=coordinator)
    screening.participant_transition(
        participant=participant,
        to=Status.INELIGIBLE,
        by=coordinator,
        reason_code=StatusReason.OTHER,
        reason="Moved out of state",
    )
    title = ldn_study.criteria.get(code="can-attend").title
    before = consort_counts(study=ldn_study)
    assert (before.not_meeting_criteria, before.not_meeting_no_criterion) == (1, 1)
    assert before.not_meeting_by_criterion == ()

    answer_verify(
        participant=fresh(participant),
        answers={"can-attend": verified},
        how="phone",
        by=coordinator,
    )

    after = consort_counts(study=ldn_study)
    assert after.adds_up
    assert (after.not_meeting_criteria, after.not_meeting_no_criterion) == (1, no_criterion)
    by_criterion = {item.label: item.count for item in after.not_meeting_by_criterion}
    assert by_criterion == ({title: 1} if counted else {})
    (row,) = list(screening_log_iter(study=ldn_study))
    assert (title in row[3]) is counted


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def verify_url(participant):
    return reverse("admin:recruitment_participant_verify", args=[participant.pk])


def test_the_participant_page_offers_to_verify_a_not_sure(coord_client, ldn_study):
    participant = unsure(ldn_study)
    certain = applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    def page(p):
        return coord_client.get(reverse("admin:recruitment_participant_change", args=[p.pk]))

    assert "Verify answers (1 not sure)" in page(participant).content.decode()
    # Any answer of the form can be verified, "not sure" or not.
    html = page(certain).content.decode()
    assert verify_url(certain) in html and "not sure)" not in html


def test_verifying_on_the_page_records_the_answer_and_the_history_shows_it(
    coord_client, client, monitor, coordinator, ldn_study
):
    participant = unsure(ldn_study)

    form_page = coord_client.get(verify_url(participant)).content.decode()
    response = coord_client.post(
        verify_url(participant),
        {"can-attend": "yes", "how": "phone", "note": "Confirmed with her daughter"},
    )

    assert "The patient answered: Not sure." in form_page
    assert response.status_code == 302
    assert verdict_of(participant, "can-attend").provenance == Provenance.STAFF_VERIFIED
    history_url = reverse("admin:recruitment_participant_history", args=[participant.pk])
    history = coord_client.get(history_url).content.decode()
    assert "Asked on the phone: Confirmed with her daughter" in history
    assert escape(ORIGINAL_ANSWER_REASON) in history
    client.force_login(monitor)
    monitor_history = client.get(history_url).content.decode()
    assert "Asked on the phone (note recorded, hidden)" in monitor_history
    assert "her daughter" not in monitor_history


def test_the_verify_page_refuses_an_empty_form(coord_client, ldn_study):
    participant = unsure(ldn_study)

    response = coord_client.post(verify_url(participant), {"how": "phone"})

    assert response.status_code == 200
    assert str(VERIFY_NOTHING) in response.content.decode()
    assert not answer_of(participant, "can-attend").is_verified


def test_retention_erases_the_verification_note_with_the_answers(
    ldn_study, coordinator, time_machine
):
    participant = unsure(ldn_study)
    answer_verify(
        participant=participant,
        answers={"can-attend": "yes"},
        how="phone",
        note="Her son drives her",
        by=coordinator,
    )
    walk(fresh(participant), Status.DECLINED, by=coordinator)
    time_machine.move_to(NOV_25 + dt.timedelta(days=ldn_study.retention_days + 1), tick=False)

    participants_erase_expired()

    answer = answer_of(participant, "can-attend")
    assert (answer.value, answer.verified_note, answer.verified_how) == (None, "", "phone")
    assert not Answer.history.exclude(verified_note="").exists()
    assert not Answer.history.exclude(value=None).exists()
