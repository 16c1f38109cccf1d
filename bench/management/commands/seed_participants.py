"""Seed a study with N realistic, fake participants, fast, for `make bench` (never production).

Participants are built in Python and written with `bulk_create` in batches; their answers,
verdicts, status history, contact attempts and audit-history rows are then written by one
`INSERT ... SELECT` per criterion or status step, so 100,000 participants take a few minutes
on PostgreSQL. Everything derives from `--seed` and each participant's screening sequence:
seeding 100 then up to 100,000 gives the same data as seeding 100,000 at once.

Consent and enrolment go up to the study's target and no further (slots, participant IDs and
consent records as the services would write them); past the target, people who would have
been enrolled are waitlisted. Nobody is emailed. PostgreSQL only.
"""

import random
import time
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts import roles
from accounts.services import roles_ensure
from recruitment.eligibility import RULES_FROM_CONTACT_DETAILS
from recruitment.evaluation import criterion_version_ids
from recruitment.models import (
    ROUTE_FROM_NEW,
    AnsweredBy,
    ConsentRecord,
    ContactMethod,
    DeclineReason,
    DuplicateReview,
    EligibilityCriterion,
    Outcome,
    Participant,
    Person,
    ReferralSource,
    Status,
    StatusChange,
    StatusReason,
    Study,
)
from recruitment.people.services import PERSON_FIELDS

CONFIRM_FLAG = "--i-know-this-is-not-production"
BATCH = 5_000
SEEDER_USERNAME = "bench-seeder"
# How many participants end in each status (of 1,000), before the enrolment cap.
STATUS_WEIGHTS = [
    (Status.NEW, 180),
    (Status.SCREENING, 90),
    (Status.ELIGIBLE, 30),
    (Status.INELIGIBLE, 360),
    (Status.DECLINED, 300),
    (Status.WAITLISTED, 20),
    (Status.CONSENTED, 5),
    (Status.ENROLLED, 15),
]
FIRST_NAMES = ["Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kim"]
LAST_NAMES = ["Lee", "Moss", "Nash", "Owens", "Park", "Quinn", "Reyes", "Shaw", "Tate", "Vo"]
ZIPS = ["35294", "35203", "35205", "35401", "35801", "36104", "30301", "37203", "35004"]
ANSWERS = {
    "core-symptoms": {"pem": "yes", "sleep": "yes", "cognitive": "yes", "orthostatic": "no"},
    "opioids": {"taken": "no"},
    "diagnosis": "yes",
    "can-attend": "yes",
}
DECLINE_REASONS = [
    str(DeclineReason.NOT_REACHED.value),
    str(DeclineReason.NOT_INTERESTED.value),
    "lives too far to travel",
    str(DeclineReason.DUPLICATE.value),
]
# The code of each reason above, in the same order.
DECLINE_CODES = [
    StatusReason.NOT_REACHED.value,
    StatusReason.NOT_INTERESTED.value,
    StatusReason.OTHER.value,
    StatusReason.DUPLICATE.value,
]
SUBMITTED = "Submitted the interest form"
SPAN_DAYS = 3 * 365  # applications spread over three years, up to today


class Command(BaseCommand):
    help = (
        "Seed a study with fake participants up to --total (bench only: refuses to run unless "
        f"the bench settings are active or {CONFIRM_FLAG} is given). PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--total", type=int, required=True, help="Participants wanted.")
        parser.add_argument("--study", default="ldn-mecfs", help="The study's slug.")
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same data.")
        parser.add_argument(CONFIRM_FLAG, dest="confirmed", action="store_true")

    def handle(self, *args, total, study, seed, confirmed, **options):
        if not (confirmed or getattr(settings, "BENCH", False)):
            raise CommandError(
                f"This fills the database with fake participants. Run it only on a throwaway "
                f"database, with DJANGO_SETTINGS_MODULE=bench.settings or {CONFIRM_FLAG}."
            )
        if connection.vendor != "postgresql":
            raise CommandError("seed_participants needs PostgreSQL.")
        started = time.monotonic()
        study_obj = Study.objects.get(slug=study)
        have = Participant.objects.filter(study=study_obj).count()
        if have >= total:
            self.stdout.write(f"{study}: {have} participants already, nothing to add.")
            return
        seeder = _seeder()
        study_obj.members.add(seeder)
        added = 0
        while have + added < total:
            n = min(BATCH, total - have - added)
            with transaction.atomic():
                _seed_batch(study_id=study_obj.pk, n=n, seed=seed, by=seeder)
            added += n
            self.stdout.write(f"  {have + added} participants")
        # What autovacuum does to a table in steady use: statistics for the planner, and the
        # visibility map that lets index-only scans skip the table.
        # (VACUUM cannot run inside a transaction, as under a test: ANALYZE alone then.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(
            f"{study}: added {added} participants ({have + added} in all) "
            f"in {time.monotonic() - started:.0f} s."
        )


def _seeder():
    """The coordinator every seeded contact attempt, status change and consent is 'by'."""
    user, created = get_user_model().objects.get_or_create(
        username=SEEDER_USERNAME, defaults={"is_staff": True, "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(roles_ensure()[roles.COORDINATOR])
    return user


def _pick(rng: random.Random, weighted):
    roll = rng.randrange(sum(w for _, w in weighted))
    for value, weight in weighted:
        if roll < weight:
            return value
        roll -= weight
    raise AssertionError


def _seed_batch(*, study_id: int, n: int, seed: int, by) -> None:
    study = Study.objects.select_for_update().get(pk=study_id)
    first_seq = study.last_screening_seq + 1
    study.last_screening_seq += n
    now = datetime.now(UTC)
    today = now.date()
    free_slots = list(study.slots.free().order_by("number"))
    participants, consents = [], []
    first_of = _first_participant_pks(study)
    for seq in range(first_seq, first_seq + n):
        rng = random.Random(seed * 10_000_019 + seq)  # noqa: S311 - fake data
        status = _pick(rng, STATUS_WEIGHTS)
        if status == Status.ENROLLED:
            if not free_slots:
                status = Status.WAITLISTED
            else:
                status = rng.choice(
                    [Status.ENROLLED, Status.ENROLLED, Status.COMPLETED, Status.WITHDRAWN]
                )
        # Older applications are further along; the newest are mostly new.
        age_days = rng.randrange(SPAN_DAYS) if status != Status.NEW else rng.randrange(60)
        applied = now - timedelta(days=age_days, seconds=rng.randrange(86_400))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        outcome = {
            Status.INELIGIBLE: Outcome.LIKELY_INELIGIBLE,
            Status.NEW: rng.choice(list(Outcome)),
            Status.SCREENING: rng.choice(list(Outcome)),
            Status.DECLINED: rng.choice(list(Outcome)),
        }.get(status, Outcome.LIKELY_ELIGIBLE)
        attempts = 0 if status == Status.NEW else rng.randrange(4)
        unanswered = attempts if seq % 5 == 0 else 0
        in_progress = status in Status.in_progress()
        p = Participant(
            study_id=study_id,
            screening_seq=seq,
            screening_number=study.screening_number(seq),
            status=status,
            first_name=f"{first}{seq}",
            last_name=last,
            name_normalised=f"{first}{seq} {last}".casefold(),
            email=f"person{seq}@example.org",
            email_normalised=f"person{seq}@example.org",
            phone=f"(205) {seq // 10_000 % 1000:03d}-{seq % 10_000:04d}",
            phone_normalised=f"205{seq // 10_000 % 1000:03d}{seq % 10_000:04d}",
            preferred_contact=rng.choice([value for value, _label in ContactMethod.preferable()]),
            best_time=rng.choice(["morning", "afternoon", "evening", "any"]),
            date_of_birth=date(
                1958 + rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28)
            ),
            zip_code=rng.choice(ZIPS),
            referral_source=rng.choice([*ReferralSource.values, ""]),
            note="",
            language=rng.choice(["en"] * 9 + ["es"]),
            contact_consent=True,
            contact_consent_version=study.contact_consent_version,
            contact_consent_at=applied,
            outcome=outcome,
            eligible_from=today + timedelta(days=30) if outcome == Outcome.ELIGIBLE_FROM else None,
            criteria_version=study.criteria_version,
            evaluated_at=applied,
            unanswered_attempts=unanswered if in_progress else 0,
            next_follow_up_on=today + timedelta(days=rng.randrange(-10, 10))
            if in_progress and attempts and seq % 3 == 0
            else None,
            withdraw_nonce="",
            created_at=applied,
        )
        if status in Status.judged_eligible():
            p.eligible_at = applied + timedelta(days=7)
        if seq % 100 == 37 and first_of:
            p.duplicate_of_id = first_of[seq % len(first_of)]
            p.duplicate_review = rng.choice(list(DuplicateReview)[1:])
        if status in Status.holding_participant_id():
            slot = free_slots.pop(0)
            study.last_participant_seq += 1
            p.participant_id = study.participant_id(study.last_participant_seq)
            if status in Status.holding_slot(withdrawal_frees_slot=study.withdrawal_frees_slot):
                p.slot = slot
        if status in Status.having_consented():
            consents.append((p, applied + timedelta(days=14)))
        participants.append(p)
    study.save(update_fields=["last_screening_seq", "last_participant_seq"])
    applied_at = [p.created_at for p in participants]
    # One person per participant (the seeded names are per study, not people across studies).
    people = Person.objects.bulk_create(
        (Person(**{name: getattr(p, name) for name in PERSON_FIELDS}) for p in participants),
        batch_size=1_000,
    )
    for participant, person in zip(participants, people, strict=True):
        participant.person = person
    Participant.objects.bulk_create(participants, batch_size=1_000)
    # auto_now_add overwrote created_at: put the spread-out dates back.
    _restore_created_at([p.pk for p in participants], applied_at)
    ConsentRecord.objects.bulk_create(
        ConsentRecord(
            participant=p, consented_on=on.date(), form_version="v3", obtained_by=by, recorded_by=by
        )
        for p, on in consents
    )
    seq_range = (first_seq, first_seq + n - 1)
    _answers(study, seq_range)
    _verdicts(study, seq_range)
    _status_changes(study_id, seq_range, by.pk)
    _contact_attempts(study_id, seq_range, by.pk)
    _history(study_id, seq_range)


def _first_participant_pks(study) -> list[int]:
    return list(
        Participant.objects.filter(study=study, duplicate_of__isnull=True)
        .order_by("screening_seq")
        .values_list("pk", flat=True)[:50]
    )


def _restore_created_at(pks: list[int], dates: list[datetime]) -> None:
    table = Participant._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET created_at = v.at, updated_at = v.at "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE p.id = v.id",
            [pks, dates],
        )


def _run(sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


PARTICIPANTS_IN_BATCH = "p.study_id = %s AND p.screening_seq BETWEEN %s AND %s"


def _answers(study, seq_range) -> None:
    import json

    criteria = (
        study.criteria.active()
        .filter(answered_by=AnsweredBy.PATIENT)
        .exclude(rule_kind__in=sorted(RULES_FROM_CONTACT_DETAILS))
    )
    for c in criteria:
        _run(
            "INSERT INTO recruitment_answer "  # noqa: S608
            "(participant_id, criterion_id, value, answered_by, recorded_at, verified_how, "
            "verified_note) "
            "SELECT p.id, %s, %s::jsonb, 'patient', p.created_at, '', '' "
            f"FROM recruitment_participant p WHERE {PARTICIPANTS_IN_BATCH}",
            [c.pk, json.dumps(ANSWERS.get(c.code, "no")), study.pk, *seq_range],
        )


def _verdicts(study, seq_range) -> None:
    """A verdict per active criterion judged, pointing at the criterion's version. An
    ineligible person fails one patient criterion (which one depends on their sequence); a
    needs-review one is unsure of one; staff criteria are met once staff judged the person
    eligible, and not stored before (pending, as the app stores them)."""
    criteria: list[EligibilityCriterion] = list(study.criteria.active().order_by("order", "pk"))
    version_ids = criterion_version_ids(criteria)
    patient = [c for c in criteria if c.answered_by == AnsweredBy.PATIENT]
    eligible_statuses = list(Status.judged_eligible())
    for order, c in enumerate(criteria):
        if c.answered_by == AnsweredBy.PATIENT:
            index = patient.index(c)
            verdict = (
                "CASE WHEN p.outcome = 'likely_ineligible' AND p.screening_seq %% %s = %s "
                "THEN 'not_met' WHEN p.outcome = 'needs_review' AND p.screening_seq %% %s = %s "
                "THEN 'unknown' ELSE 'met' END"
            )
            verdict_params = [len(patient), index, len(patient), index]
            provenance = "'self_reported'"
        else:
            verdict = "'met'"
            verdict_params = []
            provenance = "'staff_verified'"
        sql = (
            "INSERT INTO recruitment_criterionverdict (participant_id, criterion_id, "  # noqa: S608
            'criterion_version_id, answer, verdict, reason, provenance, eligible_from, "order") '
            f"SELECT p.id, %s, %s, NULL, v.verdict, "
            "CASE v.verdict WHEN 'met' THEN 'The answer meets this criterion.' "
            "WHEN 'not_met' THEN 'The answer rules this out.' "
            "WHEN 'unknown' THEN 'Not sure: staff will ask.' ELSE 'Checked at screening.' END, "
            f"{provenance}, NULL, %s "
            f"FROM recruitment_participant p, LATERAL (SELECT {verdict} AS verdict) v "
            f"WHERE {PARTICIPANTS_IN_BATCH}"
        )
        params = [c.pk, version_ids[c.pk], order, *verdict_params, study.pk, *seq_range]
        if c.answered_by != AnsweredBy.PATIENT:
            sql += " AND p.status = ANY(%s)"
            params.append(eligible_statuses)
        _run(sql, params)


def _status_changes(study_id, seq_range, by_id) -> None:
    """Each status's route from `new`, one step a week after applying."""
    for status, route in ROUTE_FROM_NEW.items():
        previous = Status.NEW
        for step, to in enumerate(route, start=1):
            if to == Status.DECLINED:
                pick = "(%s::text[])[1 + p.screening_seq %% %s]"
                reason_sql, code_sql = pick, pick
                reason_params = [DECLINE_REASONS, len(DECLINE_REASONS)]
                code_params = [DECLINE_CODES, len(DECLINE_CODES)]
            elif to == Status.INELIGIBLE:
                reason_sql, reason_params = "%s", ["Did not meet the criteria at screening."]
                code_sql, code_params = "%s", [StatusReason.OTHER.value]
            elif to == Status.WITHDRAWN:
                reason_sql, reason_params = "%s", ["Moved out of the area."]
                code_sql, code_params = "%s", [StatusReason.OTHER.value]
            else:
                reason_sql, reason_params = "%s", [""]
                code_sql, code_params = "%s", [""]
            _run(
                f"INSERT INTO {StatusChange._meta.db_table} "  # noqa: S608
                "(participant_id, from_status, to_status, reason, reason_code, reason_criterion, "
                "by_id, at) "
                f"SELECT p.id, %s, %s, {reason_sql}, {code_sql}, '', %s, "
                "p.created_at + make_interval(days => 7 * %s) "
                f"FROM recruitment_participant p WHERE p.status = %s AND {PARTICIPANTS_IN_BATCH}",
                [
                    previous,
                    to,
                    *reason_params,
                    *code_params,
                    by_id,
                    step,
                    status,
                    study_id,
                    *seq_range,
                ],
            )
            previous = to


def _contact_attempts(study_id, seq_range, by_id) -> None:
    """0 to 3 attempts for everyone past `new`; every fifth person was never reached."""
    _run(
        "INSERT INTO recruitment_contactattempt "  # noqa: S608
        "(participant_id, at, by_id, method, outcome, note, follow_up_on, recorded_at) "
        "SELECT p.id, p.created_at + make_interval(days => 2 * g), %s, "
        "(ARRAY['phone','email','text'])[1 + (p.screening_seq + g) %% 3], "
        "CASE WHEN p.screening_seq %% 5 = 0 THEN 'no_answer' "
        "WHEN g = p.screening_seq %% 4 THEN 'reached' ELSE 'voicemail' END, "
        "'', NULL, p.created_at + make_interval(days => 2 * g) "
        "FROM recruitment_participant p "
        "CROSS JOIN generate_series(1, 3) AS g "
        f"WHERE p.status <> 'new' AND g <= p.screening_seq %% 4 AND {PARTICIPANTS_IN_BATCH}",
        [by_id, study_id, *seq_range],
    )


def _history(study_id, seq_range) -> None:
    """The audit trail simple-history would have written: a '+' row at submission and a '~'
    row for the latest status change."""
    historical = Participant.history.model
    columns, values = [], []
    special = {
        "history_date": "p.created_at + make_interval(days => %(days)s)",
        "history_type": "%(kind)s",
        "history_change_reason": "%(reason)s",
        "history_user_id": "NULL",
    }
    for field in historical._meta.concrete_fields:
        if field.column == "history_id":
            continue
        columns.append(f'"{field.column}"')
        values.append(special.get(field.column, f'p."{field.column}"'))
    sql = (
        f"INSERT INTO {historical._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM recruitment_participant p "
        "WHERE p.study_id = %(study)s AND p.screening_seq BETWEEN %(low)s AND %(high)s "
        "AND (%(everyone)s OR p.status <> 'new')"
    )
    batch = {"study": study_id, "low": seq_range[0], "high": seq_range[1]}
    _run(sql, {**batch, "days": 0, "kind": "+", "reason": SUBMITTED, "everyone": True})
    _run(sql, {**batch, "days": 7, "kind": "~", "reason": "Status changed", "everyone": False})
