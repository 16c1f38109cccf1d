"""Retention: the personal data of people never enrolled are erased after the study's
retention period, history included, while the anonymous facts the reports count stay."""

import datetime as dt
import json
import math
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.urls import reverse

from recruitment.errors import RecruitmentError
from recruitment.intake.withdraw import withdraw_path
from recruitment.models import (
    Answer,
    ContactAttempt,
    CriterionVerdict,
    Participant,
    Status,
    StatusChange,
)
from recruitment.screening.duplicates import duplicate_confirm
from recruitment.screening.retention import participants_erase_expired
from recruitment.screening.services import (
    contact_attempt_record,
    lab_values_record,
    participant_transition,
    participant_update,
)
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    StudyFactory,
    applicant,
    submit,
    walk,
)

pytestmark = pytest.mark.django_db

JAN_10 = dt.datetime(2026, 1, 10, 18, tzinfo=dt.UTC)
JUL_15 = dt.datetime(2026, 7, 15, 18, tzinfo=dt.UTC)
AUG_1 = dt.datetime(2026, 8, 1, 18, tzinfo=dt.UTC)  # 203 days after 10 January

# Unique strings of the people to be erased: none may survive anywhere.
CANARIES = (
    "Canaryfirst",
    "Canarylast",
    "canary.mail",
    "+12055550199",  # the phone as stored (E.164)
    "2055550199",
    "1971-02-03",
    "35216",
    "Canary patient note",
    "Canary contact note",
    "Canary edit reason",
    "Canary lab reason",
    "2019-07-13",  # the date of a last opioid dose
    "2.87",  # a lab value
)


def canary_contact(n: int) -> dict:
    return {
        "first_name": f"Canaryfirst{n}",
        "last_name": f"Canarylast{n}",
        "email": f"canary.mail{n}@example.com",
        "phone": "205-555-0199" if n == 1 else "",
        "date_of_birth": dt.date(1971, 2, 3),
        "zip_code": "35216",
        "note": f"Canary patient note {n}",
    }


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(JAN_10, tick=False)
    return JAN_10


@pytest.fixture
def staff_study():
    """The role fixtures' users (tests/conftest.py) are members of no study: the services check
    no membership."""
    return None


@pytest.fixture
def people(ldn_study, coordinator, time_machine):
    """Everyone the retention rule must tell apart, in the LDN study (retention 180 days)."""
    answers = {**LDN_ELIGIBLE_ANSWERS, "opioids": {"taken": "yes", "last": "2019-07-13"}}
    ldn_study.retention_days = 180
    ldn_study.save()

    declined = submit(ldn_study, answers=answers, **canary_contact(1))
    contact_attempt_record(
        participant=declined,
        by=coordinator,
        method="phone",
        outcome="no_answer",
        note="Canary contact note: left a message",
    )
    participant_update(
        participant=declined,
        data={"last_name": "Canarylast1b"},
        by=coordinator,
        reason="Canary edit reason: she spelt it Canarylast1b",
    )
    declined = walk(declined, Status.DECLINED, by=coordinator)

    ineligible = submit(ldn_study, answers=answers, **canary_contact(2))
    ineligible = walk(ineligible, Status.SCREENING, by=coordinator)
    lab_values_record(
        participant=ineligible,
        values={"hs-crp": 2.87},
        by=coordinator,
        reason="Canary lab reason: re-tested at 2.87",
    )
    ineligible = participant_transition(
        participant=ineligible, to=Status.INELIGIBLE, by=coordinator, reason="hs-CRP too high"
    )

    # Same email as the first: a duplicate, closed as declined; the link stays.
    duplicate = submit(ldn_study, answers=answers, **canary_contact(1))
    duplicate = duplicate_confirm(participant=duplicate, by=coordinator)

    kept = {
        status: walk(applicant(ldn_study, answers=answers), status, by=coordinator)
        for status in (Status.ENROLLED, Status.COMPLETED, Status.WITHDRAWN, Status.SCREENING)
    }

    time_machine.move_to(JUL_15, tick=False)
    recent = walk(applicant(ldn_study, first_name="Recentperson"), Status.DECLINED, by=coordinator)
    time_machine.move_to(AUG_1, tick=False)
    return {
        "erased": [declined, ineligible, duplicate],
        "kept": [*kept.values(), recent],
        "recent": recent,
        "duplicate": duplicate,
        "first": declined,
    }


def run(*args) -> str:
    out = StringIO()
    call_command("erase_expired_participants", *args, stdout=out)
    return out.getvalue()


def dump(queryset) -> str:
    return json.dumps(list(queryset.values()), cls=DjangoJSONEncoder)


def everything_about(pks) -> str:
    """Every stored row about these participants, history included, as one text."""
    return "\n".join(
        [
            dump(Participant.objects.filter(pk__in=pks)),
            dump(Answer.objects.filter(participant_id__in=pks)),
            dump(CriterionVerdict.objects.filter(participant_id__in=pks)),
            dump(ContactAttempt.objects.filter(participant_id__in=pks)),
            dump(Participant.history.filter(id__in=pks)),
            dump(Answer.history.filter(participant_id__in=pks)),
        ]
    )


def anonymous_facts() -> dict:
    """What the screening log and the CONSORT box count."""
    return {
        "participants": sorted(
            Participant.objects.values_list(
                "screening_number", "status", "outcome", "participant_id", "referral_source"
            )
        ),
        "duplicates": sorted(
            Participant.objects.filter(duplicate_of__isnull=False).values_list(
                "screening_number", "duplicate_of__screening_number", "duplicate_review"
            )
        ),
        "verdicts": Counter(
            CriterionVerdict.objects.values_list(
                "participant__screening_number", "criterion__code", "verdict", "provenance"
            )
        ),
        "snapshots": sorted(
            json.dumps(s, sort_keys=True)
            for s in CriterionVerdict.objects.values_list("criterion_version__snapshot", flat=True)
        ),
        "status changes": sorted(
            StatusChange.objects.values_list(
                "participant__screening_number", "from_status", "to_status", "reason", "at", "by"
            )
        ),
        "contact attempts": sorted(
            ContactAttempt.objects.values_list("participant_id", "at", "method", "outcome")
        ),
        "applied": sorted(Participant.objects.values_list("screening_number", "created_at")),
        "consent to contact": sorted(
            Participant.objects.values_list(
                "screening_number", "contact_consent_version", "contact_consent_at"
            )
        ),
    }


def footprint() -> str:
    return everything_about(Participant.objects.values_list("pk", flat=True)) + dump(
        StatusChange.objects.all()
    )


# -- what is erased, what stays ------------------------------------------------------------------
def test_the_canaries_are_there_before_the_erasure(people):
    """The search below would prove nothing if the canaries were not stored to begin with."""
    text = everything_about([p.pk for p in people["erased"]])

    for canary in CANARIES:
        assert canary in text, canary


def test_only_people_never_enrolled_and_past_the_retention_period_are_erased(people):
    run()

    erased = Participant.objects.filter(erased_at__isnull=False)
    assert set(erased.values_list("pk", flat=True)) == {p.pk for p in people["erased"]}
    assert all(p.erased_at == AUG_1 for p in erased)
    for kept in people["kept"]:
        row = Participant.objects.get(pk=kept.pk)
        assert row.erased_at is None
        assert row.first_name == kept.first_name
        assert row.email == kept.email
        assert row.date_of_birth == kept.date_of_birth
    assert Participant.objects.get(pk=people["recent"].pk).first_name == "Recentperson"


def test_no_personal_data_survive_in_the_rows_or_their_history(people):
    run()

    text = everything_about([p.pk for p in people["erased"]])
    for canary in CANARIES:
        assert canary not in text, canary
    for row in Participant.objects.filter(erased_at__isnull=False):
        assert (row.first_name, row.last_name, row.email, row.phone) == ("", "", "", "")
        assert (row.name_normalised, row.email_normalised, row.phone_normalised) == ("", "", "")
        assert (row.date_of_birth, row.zip_code, row.note) == (None, "", "")
        assert (row.submission_token, row.withdraw_nonce) == (None, "")
    assert not Answer.objects.filter(participant__erased_at__isnull=False, value__isnull=False)
    assert not CriterionVerdict.objects.filter(
        participant__erased_at__isnull=False, answer__isnull=False
    )


def test_the_anonymous_facts_the_reports_count_are_unchanged(people):
    before = anonymous_facts()

    run()

    assert anonymous_facts() == before


def test_the_duplicate_link_to_an_erased_participant_stays(people):
    run()

    duplicate = Participant.objects.get(pk=people["duplicate"].pk)
    assert duplicate.duplicate_of_id == people["first"].pk
    assert duplicate.duplicate_of.screening_number == people["first"].screening_number


def test_the_history_records_the_erasure_and_keeps_who_did_what_when(people):
    first = people["first"]
    versions = Participant.history.filter(id=first.pk).count()

    run()

    history = Participant.history.filter(id=first.pk).order_by("-history_date", "-history_id")
    assert history.count() == versions + 1
    latest = history.first()
    assert latest.history_change_reason == (
        "Personal data erased: the study's retention period (180 days) passed."
    )
    assert latest.erased_at == AUG_1
    assert latest.history_user is None
    earlier = list(history[1:])
    assert {r.history_user.username for r in earlier if r.history_user} == {"coordinator"}
    assert [r.status for r in earlier][0] == Status.DECLINED


def test_the_status_changes_keep_their_reasons(people):
    run()

    last = StatusChange.objects.filter(participant=people["duplicate"]).last()
    assert (last.to_status, last.reason) == (Status.DECLINED, "duplicate")


def test_a_participant_is_kept_until_the_retention_period_has_fully_passed(
    coordinator, time_machine
):
    study = StudyFactory(retention_days=30)
    participant = walk(applicant(study), Status.DECLINED, by=coordinator)
    declined_at = StatusChange.objects.get(participant=participant).at

    on_the_day = participants_erase_expired(now=declined_at + dt.timedelta(days=30))
    after = participants_erase_expired(now=declined_at + dt.timedelta(days=30, seconds=1))

    assert on_the_day.total == 0
    assert after.total == 1
    assert Participant.objects.get(pk=participant.pk).erased_at is not None


def test_each_study_has_its_own_retention_period(coordinator, time_machine):
    short, long = StudyFactory(retention_days=30), StudyFactory(retention_days=180)
    in_short = walk(applicant(short), Status.DECLINED, by=coordinator)
    in_long = walk(applicant(long), Status.DECLINED, by=coordinator)
    time_machine.move_to(JAN_10 + dt.timedelta(days=60), tick=False)

    run()

    assert Participant.objects.get(pk=in_short.pk).erased_at is not None
    assert Participant.objects.get(pk=in_long.pk).erased_at is None


def test_the_retention_period_counts_from_the_last_status_change_not_from_applying(
    coordinator, time_machine
):
    study = StudyFactory(retention_days=30)
    participant = applicant(study)
    time_machine.move_to(JAN_10 + dt.timedelta(days=100), tick=False)
    walk(participant, Status.DECLINED, by=coordinator)
    time_machine.move_to(JAN_10 + dt.timedelta(days=110), tick=False)

    assert "Nothing to erase." in run()
    assert Participant.objects.get(pk=participant.pk).erased_at is None


# -- the command ---------------------------------------------------------------------------------
def test_a_dry_run_lists_screening_numbers_and_changes_nothing(people, ldn_study):
    before = footprint()

    out = run("--dry-run")

    assert footprint() == before
    numbers = sorted(p.screening_number for p in people["erased"])
    assert (
        f"Would erase the personal data of 3 participants of {ldn_study.slug} "
        f"(retention 180 days): {', '.join(numbers)}"
    ) in out
    assert "nothing was changed" in out
    for canary in CANARIES:
        assert canary not in out
    for kept in people["kept"]:
        assert kept.screening_number not in out
        assert kept.first_name not in out


def test_the_command_reports_what_it_erased_without_names(people, ldn_study):
    out = run()

    assert f"Erased the personal data of 3 participants of {ldn_study.slug}" in out
    for person in people["erased"]:
        assert person.screening_number in out
    for canary in CANARIES:
        assert canary not in out


def test_a_second_run_erases_nothing_new(people):
    run()
    after_first = footprint()

    out = run()

    assert "Nothing to erase." in out
    assert footprint() == after_first


def history_inserts(count: int) -> int:
    """The INSERT statements Django's bulk_create needs for `count` history rows: one on
    PostgreSQL; on SQLite as many as its limit on query parameters requires."""
    fields = [f for f in Participant.history.model._meta.concrete_fields if not f.primary_key]
    per_insert = connection.ops.bulk_batch_size(fields, [None] * count) or count
    return math.ceil(count / per_insert)


@pytest.mark.parametrize("count", [3, 30])
def test_the_command_runs_a_fixed_number_of_queries_whatever_the_number_erased(
    coordinator, time_machine, django_assert_max_num_queries, count
):
    study = StudyFactory(retention_days=30)
    for _ in range(count):
        participant = applicant(study, note="Something personal")
        contact_attempt_record(
            participant=participant, by=coordinator, method="phone", outcome="no_answer"
        )
        walk(participant, Status.DECLINED, by=coordinator)
    time_machine.move_to(JAN_10 + dt.timedelta(days=31), tick=False)

    # 15: the participants' erasure (the staff notes' text too), one DELETE of the expired
    # drafts (tests/intake/test_drafts.py), one of the numbers kept for forms taken in
    # (tests/intake/test_inbox.py) and one of the expired sessions
    # (tests/intake/test_session_answers.py); and the INSERTs simple-history's bulk history
    # splits the erasure's history rows into. Then 7 for the people no application needs any
    # more (a savepoint's pair, their list, their rows, their history's rows, the rows read
    # back for their erasure's version, its INSERT). And 1 for the shared answers the
    # applications gave (none here: the study names no shared question).
    with django_assert_max_num_queries(15 + history_inserts(count) + 7 + 1):
        out = run()

    assert f"Erased {count} in all." in out
    assert f"Erased the details of {count} people" in out
    assert Participant.objects.filter(erased_at__isnull=False).count() == count


# -- after the erasure ---------------------------------------------------------------------------
def test_staff_cannot_write_personal_data_back_nor_rerun_the_prescreen(people, coordinator):
    run()
    erased = Participant.objects.get(pk=people["first"].pk)

    with pytest.raises(RecruitmentError, match="were erased"):
        participant_update(
            participant=erased, data={"first_name": "Again"}, by=coordinator, reason="typo"
        )
    with pytest.raises(RecruitmentError, match="were erased"):
        contact_attempt_record(
            participant=erased, by=coordinator, method="phone", outcome="reached", note="hi"
        )
    with pytest.raises(RecruitmentError, match="were erased"):
        lab_values_record(participant=erased, values={"esr": 10}, by=coordinator)
    assert Participant.objects.get(pk=erased.pk).first_name == ""


def test_the_admin_pages_of_an_erased_participant_still_open(people, admin_client):
    run()
    pk = people["first"].pk

    for name in ("change", "history"):
        response = admin_client.get(reverse(f"admin:recruitment_participant_{name}", args=[pk]))
        assert response.status_code == 200
        assert people["first"].screening_number in response.content.decode()
    assert admin_client.get(reverse("admin:recruitment_participant_changelist")).status_code == 200


def test_the_withdraw_link_of_an_erased_participant_says_it_is_already_done(people, client):
    url = withdraw_path(participant=people["first"])  # as emailed in January
    run()

    response = client.get(url)

    assert response.status_code == 200
    assert "This is already done" in response.content.decode()
