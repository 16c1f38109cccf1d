import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.core import mail
from django.db import connection

from recruitment.errors import StudyNotRecruiting
from recruitment.evaluation import participant_evaluate
from recruitment.intake.services import participant_submit
from recruitment.models import Answer, CriterionVerdict, Participant, Study
from recruitment.selectors import verdict_list
from recruitment.studies.services import study_criteria_changed
from tests.dates import NOV_25
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    CriterionFactory,
    StudyFactory,
    contact_details,
    submit,
)

pytestmark = pytest.mark.django_db


# -- participant_submit ------------------------------------------------------------------------
@time_machine.travel(NOV_25, tick=False)
def test_submission_saves_participant_answers_and_one_verdict_per_active_criterion(ldn_study):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    assert participant.screening_number == "LDN-S-0001"
    assert participant.status == "new"
    assert participant.participant_id is None
    assert participant.outcome == "likely_eligible"
    assert participant.criteria_version == ldn_study.criteria_version
    assert participant.contact_consent_version == ldn_study.contact_consent_version
    assert Answer.objects.filter(participant=participant).count() == len(LDN_ELIGIBLE_ANSWERS)
    verdicts = {v.criterion.code: v for v in verdict_list(participant=participant)}
    assert len(verdicts) == 18
    assert verdicts["age"].verdict == "met"
    assert verdicts["age"].provenance == "self_reported"
    assert verdicts["lives-nearby"].reason == "About 7 miles from 35294; limit 100 miles."
    assert {code for code, v in verdicts.items() if v.verdict == "pending"} == {
        "hs-crp",
        "esr",
        "rf",
        "ana",
        "thyroid",
    }
    assert all(v.reason for v in verdicts.values())
    # The staff checks not entered yet are listed, not stored: a row for each criterion judged.
    assert participant.verdicts.count() == 13
    assert not participant.verdicts.filter(verdict="pending").exists()


def test_each_verdict_keeps_the_criterion_text_and_rule_it_was_judged_by(ldn_study):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    criterion = ldn_study.criteria.get(code="allergy")
    old_question = criterion.question

    study_criteria_changed(study=ldn_study, criteria=[criterion])
    criterion.question = "A reworded question?"
    criterion.save()

    verdict = participant.verdicts.get(criterion=criterion)
    assert verdict.criterion_snapshot["question"] == old_question
    assert verdict.criterion_snapshot["version"] == 1
    assert verdict.criterion_snapshot["params"] == {"required": "no"}
    assert participant.criteria_version == 1
    assert Study.objects.get(pk=ldn_study.pk).criteria_version == 2


def test_screening_numbers_count_up_per_study_and_are_never_reused(ldn_study):
    first = submit(ldn_study, email="a@example.com", phone="205-555-0101", first_name="A")
    second = submit(ldn_study, email="b@example.com", phone="205-555-0102", first_name="B")
    second.delete()
    third = submit(ldn_study, email="c@example.com", phone="205-555-0103", first_name="C")

    assert [first.screening_number, third.screening_number] == ["LDN-S-0001", "LDN-S-0003"]


def test_a_closed_study_refuses_submissions_and_writes_nothing(ldn_study):
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)

    with pytest.raises(StudyNotRecruiting):
        submit(ldn_study)

    assert Participant.objects.count() == 0
    assert Study.objects.get(pk=ldn_study.pk).last_screening_seq == 0


def test_the_same_submission_token_returns_the_first_participant(ldn_study):
    token = uuid.uuid4()
    kwargs = {"study": ldn_study, "contact": contact_details(), "answers": {}, "token": token}

    first = participant_submit(**kwargs)
    again = participant_submit(**kwargs)

    assert again.pk == first.pk
    assert Participant.objects.count() == 1


def test_a_repeated_token_uses_no_screening_number_and_sends_nothing(
    ldn_study, django_capture_on_commit_callbacks
):
    token = uuid.uuid4()
    kwargs = {"study": ldn_study, "contact": contact_details(), "answers": {}, "token": token}
    first = participant_submit(**kwargs)
    with django_capture_on_commit_callbacks() as callbacks:
        participant_submit(**kwargs)

    other = submit(ldn_study, email="b@example.com", phone="", first_name="B")

    assert [first.screening_number, other.screening_number] == ["LDN-S-0001", "LDN-S-0002"]
    assert callbacks == []


def test_a_repeated_token_returns_the_first_participant_after_the_study_closes(ldn_study):
    token = uuid.uuid4()
    kwargs = {"study": ldn_study, "contact": contact_details(), "answers": {}, "token": token}
    first = participant_submit(**kwargs)
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)

    again = participant_submit(**kwargs)

    assert again.pk == first.pk
    assert Study.objects.get(pk=ldn_study.pk).last_screening_seq == 1


def test_a_closed_study_refuses_even_when_the_caller_s_copy_says_open(ldn_study):
    stale = Study.objects.get(pk=ldn_study.pk)
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)

    with pytest.raises(StudyNotRecruiting):
        submit(stale)

    assert Participant.objects.count() == 0


def test_a_submission_is_audited_once_as_submitted_and_evaluated(ldn_study):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    versions = list(participant.history.order_by("history_date", "history_id"))
    assert [(v.history_type, v.history_change_reason) for v in versions] == [
        ("+", "Submitted the interest form"),
    ]
    (created,) = versions
    assert created.outcome == participant.outcome == "likely_eligible"
    assert created.history_user is None
    assert created.screening_number == "LDN-S-0001"
    assert created.evaluated_at == participant.evaluated_at
    assert created.created_at == participant.created_at


def test_the_evaluation_judges_the_answers_as_stored(ldn_study):
    answers = {**LDN_ELIGIBLE_ANSWERS, "diagnosis": "yes"}
    participant = submit(ldn_study, answers=answers)

    stored = dict(
        Answer.objects.filter(participant=participant).values_list("criterion__code", "value")
    )
    verdicts = dict(participant.verdicts.values_list("criterion__code", "answer"))
    assert stored == answers
    assert {code: verdicts[code] for code in stored} == stored


@pytest.mark.parametrize(
    "second",
    [
        {"email": "  ANN.Lee@Example.com "},
        {"email": "other@example.com", "phone": "+1 (205) 555.0134"},
        {"email": "other@example.com", "phone": "", "first_name": "ann", "last_name": "LEE"},
    ],
    ids=["same-email-other-case", "same-phone-other-format", "same-name-and-birth-date"],
)
def test_a_duplicate_is_kept_and_linked_to_the_first(ldn_study, second):
    first = submit(ldn_study)
    duplicate = submit(ldn_study, **second)

    assert duplicate.pk != first.pk
    assert duplicate.duplicate_of == first
    assert first.duplicate_of is None


def test_names_match_whatever_the_case_of_accented_letters(ldn_study):
    first = submit(ldn_study, first_name="Zoë", last_name="Núñez")
    duplicate = submit(
        ldn_study, email="z@example.com", phone="", first_name=" ZOË ", last_name="NÚÑEZ"
    )

    assert duplicate.duplicate_of == first


def test_a_third_duplicate_links_to_the_first_of_its_group(ldn_study):
    first = submit(ldn_study)
    submit(ldn_study, email="second@example.com")
    third = submit(ldn_study, email="third@example.com", phone="205-555-0199")

    assert third.duplicate_of == first


def test_different_people_are_not_linked(ldn_study):
    submit(ldn_study)
    other = submit(
        ldn_study,
        email="bo@example.com",
        phone="205-555-0177",
        first_name="Ann",
        last_name="Lee",
        date_of_birth=dt.date(1981, 4, 28),
    )

    assert other.duplicate_of is None


def test_the_same_person_in_another_study_is_not_a_duplicate(ldn_study):
    submit(ldn_study)
    other_study = StudyFactory()

    assert submit(other_study).duplicate_of is None


def test_emails_go_out_only_after_the_transaction_commits(
    ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
        assert mail.outbox == []

    for callback in callbacks:
        callback()
    patient, coordinators = mail.outbox
    assert patient.to == ["ann.lee@example.com"]
    assert participant.screening_number in patient.body
    assert coordinators.to == ["coordinators@example.edu"]
    assert f"/admin/recruitment/participant/{participant.pk}/change/" in coordinators.body
    for private in ("Ann", "Lee", "ann.lee", "555", "1980", "35203"):
        assert private not in coordinators.body
        assert private not in coordinators.subject


def test_a_mail_outage_keeps_the_submission_and_logs_no_address(
    ldn_study, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1

    with django_capture_on_commit_callbacks(execute=True):
        participant = submit(ldn_study)

    assert Participant.objects.filter(pk=participant.pk).exists()
    assert participant.screening_number in caplog.text
    assert "ann.lee" not in caplog.text


def test_no_coordinator_notice_when_no_coordinator_email_is_set(
    ldn_study, settings, django_capture_on_commit_callbacks
):
    settings.COORDINATOR_EMAILS = []
    with django_capture_on_commit_callbacks(execute=True):
        submit(ldn_study)

    assert [m.to for m in mail.outbox] == [["ann.lee@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_get_distinct_screening_numbers():
    study = StudyFactory(prefix="RACE")
    barrier = threading.Barrier(4)
    numbers, errors = [], []

    def worker(n):
        try:
            barrier.wait()
            numbers.append(
                submit(
                    study, email=f"p{n}@example.com", phone="", first_name=f"P{n}"
                ).screening_number
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(numbers) == [f"RACE-S-{n:04d}" for n in range(1, 5)]


# -- participant_evaluate ------------------------------------------------------------------
def test_lab_values_re_run_the_evaluation_as_staff_verified(ldn_study):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    staff_values = {"hs-crp": "1.2", "esr": "12", "rf": "negative", "ana": "negative"}
    for code, value in {**staff_values, "thyroid": "in_range"}.items():
        Answer.objects.create(
            participant=participant,
            criterion=ldn_study.criteria.get(code=code),
            value=value,
            answered_by="staff",
        )

    participant_evaluate(participant=participant)

    participant.refresh_from_db()
    assert participant.outcome == "all_met"
    crp = participant.verdicts.get(criterion__code="hs-crp")
    assert (crp.verdict, crp.provenance) == ("met", "staff_verified")


def test_a_running_washout_makes_the_participant_eligible_from_its_end(ldn_study):
    answers = {**LDN_ELIGIBLE_ANSWERS, "opioids": {"taken": "yes", "last": "2026-10-20"}}
    with time_machine.travel(NOV_25, tick=False):
        participant = submit(ldn_study, answers=answers)

    assert participant.outcome == "eligible_from"
    assert participant.eligible_from == dt.date(2027, 1, 20)
    assert CriterionVerdict.objects.get(
        participant=participant, criterion__code="opioids"
    ).eligible_from == dt.date(2027, 1, 20)


def test_retired_criteria_are_not_evaluated(ldn_study):
    ldn_study.criteria.filter(code="liver").update(is_active=False)

    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    assert not participant.verdicts.filter(criterion__code="liver").exists()
    assert len(verdict_list(participant=participant)) == 17


def test_a_criterion_added_as_data_is_evaluated_without_code():
    study = StudyFactory()
    CriterionFactory(study=study, code="smoker", params={"required": "no"})

    participant = submit(study, answers={"smoker": "yes"})

    verdict = participant.verdicts.get()
    assert (verdict.verdict, verdict.reason) == ("not_met", "Answered yes; needs no.")
    assert participant.outcome == "likely_ineligible"
