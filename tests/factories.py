"""factory_boy factories: small, valid objects with the LDN study's shape."""

import datetime as dt
import itertools

import factory
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from accounts import roles
from accounts.services import roles_ensure
from recruitment import selectors
from recruitment.intake.services import ContactDetails, participant_submit
from recruitment.models import (
    ROUTE_FROM_NEW,
    AnsweredBy,
    ConsentRecord,
    CriterionKind,
    EligibilityCriterion,
    EnrolmentSlot,
    Outcome,
    Participant,
    Person,
    RuleKind,
    Status,
    Study,
)
from recruitment.screening.run_in import run_in_start
from recruitment.screening.services import (
    consent_record,
    eligibility_override_record,
    lab_values_record,
    participant_transition,
)
from recruitment.studies.services import study_slots_sync

# The users' password, for tests that sign in through the real pages.
PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.edu")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    is_staff = True


def staff(username: str, role: str | None, *studies, **fields):
    """A staff user in one of the roles (accounts.roles), a member of the given studies;
    `fields` are the user's other values (`password=None`: no usable password, no hashing)."""
    user = StaffFactory(username=username, **fields)
    if role:
        user.groups.add(roles_ensure()[role])
    for study in studies:
        study.members.add(user)
    return user


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"study-{n}")
    title = factory.Sequence(lambda n: f"Study {n} of a treatment")
    short_title = factory.Sequence(lambda n: f"Study {n}")
    prefix = factory.Sequence(lambda n: f"ST{n}")
    summary = "We are testing a treatment."
    description = "A study of a treatment."
    site_name = "The lab"
    site_zip = "35294"
    catchment_miles = 100
    target_enrolment = 20
    contact_name = "The study team"
    contact_email = "team@example.edu"
    contact_phone = "205-555-0100"
    irb_number = "IRB-1"
    contact_consent_text = "I agree that the study team may contact me."
    contact_consent_version = "v1"

    @factory.post_generation
    def slots(study, create, extracted, **kwargs):
        """One slot row per place in the target, as `study_load` makes them (`slots=False`
        leaves a study without any, for tests of the slots themselves)."""
        if create and extracted is not False:
            study_slots_sync(study=study)


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityCriterion

    study = factory.SubFactory(StudyFactory)
    code = factory.Sequence(lambda n: f"crit-{n}")
    kind = CriterionKind.INCLUSION
    answered_by = AnsweredBy.PATIENT
    title = factory.LazyAttribute(lambda c: f"Criterion {c.code}")
    question = "Do you agree?"
    rationale = "Because the protocol says so."
    rule_kind = RuleKind.YES_NO
    params = factory.LazyFunction(lambda: {"required": "yes"})
    order = factory.Sequence(int)


def contact_details(**overrides) -> ContactDetails:
    values = {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann.lee@example.com",
        "phone": "205-555-0134",
        "preferred_contact": "phone",
        "best_time": "morning",
        "date_of_birth": dt.date(1980, 4, 28),
        "zip_code": "35203",
        "referral_source": "prohealth",
        "note": "",
        "contact_consent": True,
    }
    values.update(overrides)
    return ContactDetails(**values)


def submit(study, *, answers=None, **contact):
    """A participant created the way the public form creates one."""
    return participant_submit(
        study=study,
        contact=contact_details(**contact),
        answers=answers or {},
        site_url="http://testserver/",
    )


LDN_ELIGIBLE_ANSWERS = {
    "diagnosis": "yes",
    "core-symptoms": {"pem": "yes", "sleep": "yes", "cognitive": "yes", "orthostatic": "no"},
    "can-attend": "yes",
    "opioids": {"taken": "no"},
    "recent-ldn": "no",
    "allergy": "no",
    "pregnancy": "no",
    "liver": "no",
    "autoimmune": "no",
    "substance-misuse": "no",
    "other-trial": "no",
}


# The LDN study's staff-assessed criteria (lab values), every value in range.
LDN_NORMAL_LABS = {
    "hs-crp": 1.2,
    "esr": 12,
    "rf": "negative",
    "ana": "negative",
    "thyroid": "in_range",
}


def ldn_form_data(token="", **overrides) -> dict:
    """A valid POST of the LDN interest form, as a browser would send it."""
    data = {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann.lee@example.com",
        "phone": "(205) 555-0134",
        "preferred_contact": "phone",
        "best_time": "morning",
        "date_of_birth": "1980-04-28",
        "zip_code": "35203",
        "referral_source": "prohealth",
        "note": "",
        "contact_consent": "on",
        "submission_token": token,
        "q_diagnosis": "yes",
        "q_core-symptoms__pem": "yes",
        "q_core-symptoms__sleep": "yes",
        "q_core-symptoms__cognitive": "yes",
        "q_core-symptoms__orthostatic": "no",
        "q_can-attend": "yes",
        "q_opioids": "no",
        "q_recent-ldn": "no",
        "q_allergy": "no",
        "q_pregnancy": "no",
        "q_liver": "no",
        "q_autoimmune": "no",
        "q_substance-misuse": "no",
        "q_other-trial": "no",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# ---------------------------------------------------------------------------------------------
# The screening workflow
# ---------------------------------------------------------------------------------------------
_applicants = itertools.count(1)


def applicant(study, **contact):
    """A participant who matches nobody else (distinct email and name, no phone), submitted
    through the form's service."""
    n = next(_applicants)
    values = {"email": f"applicant{n}@example.com", "phone": "", "first_name": f"Pat{n}"}
    return submit(study, **{**values, **contact})


def investigator(study, username: str = "investigator"):
    """The study's investigator, the one role that may override eligibility criteria."""
    return staff(username, roles.INVESTIGATOR, study)


def overrides_ensure(participant, *, by=None) -> None:
    """Clear the way to eligibility as a screening team would: the LDN study's lab values
    entered in range, then an investigator's override for each criterion that still stops the
    participant (not met or unknown), so tests about later steps can walk anyone there."""
    pending = {
        v.criterion_snapshot["code"]
        for v in selectors.verdict_list_blocking(
            participant=participant, today=timezone.localdate()
        )
    }
    labs = {code: value for code, value in LDN_NORMAL_LABS.items() if code in pending}
    if labs:
        participant = lab_values_record(
            participant=participant, values=labs, by=by or investigator(participant.study)
        )
    blocking = selectors.verdict_list_blocking(participant=participant, today=timezone.localdate())
    if blocking:
        eligibility_override_record(
            participant=participant,
            reasons={v.criterion_snapshot["code"]: "Walked past in a test" for v in blocking},
            by=by or investigator(participant.study),
        )


def walk(participant, to, *, by):
    """Move a participant from `new` to `to` through the services, as a coordinator would:
    a reason only where the status machine asks for one, informed consent recorded today.
    `waitlisted` needs a full study. Returns the participant as the last service left it."""
    for step in ROUTE_FROM_NEW[Status(to)]:
        if step == Status.CONSENTED:
            participant = consent_record(
                participant=participant,
                consented_on=timezone.localdate(),
                form_version="ICF v2.0",
                obtained_by=by,
                by=by,
            )
            continue
        if step == Status.RUN_IN:
            participant = run_in_start(participant=participant, by=by)
            continue
        if step == Status.ELIGIBLE:
            overrides_ensure(participant)
        needs_reason = step in Status.needing_reason()
        participant = participant_transition(
            participant=participant,
            to=step,
            by=by,
            reason=f"Walked to {step.label}" if needs_reason else "",
        )
    return participant


def participants_bulk(study, count, *, status=Status.NEW, by=None):
    """`count` participants of `study` put straight into `status` with bulk inserts, for tests
    that need many rows fast (races, counts). It skips the services on purpose, so there is
    no history and no StatusChange row; the rows still meet every constraint: enrolled,
    completed and (unless the study frees them) withdrawn participants take the study's
    lowest free slots and its next participant IDs, and those consented or further on have a
    ConsentRecord obtained by `by` (a new staff user when not given)."""
    status = Status(status)
    study.refresh_from_db()
    now = timezone.now()
    first_seq = study.last_screening_seq + 1
    holds_slot = status in Status.holding_slot(withdrawal_frees_slot=study.withdrawal_frees_slot)
    free = EnrolmentSlot.objects.filter(study=study, participant__isnull=True)
    slots = list(free.order_by("number")[:count]) if holds_slot else []
    if holds_slot and len(slots) < count:
        raise ValueError(f"{study.prefix} has {len(slots)} free slots, not {count}.")
    people = Person.objects.bulk_create(
        Person(
            first_name=f"Bulk{first_seq + i}",
            last_name="Test",
            name_normalised=f"bulk{first_seq + i} test",
            email=f"bulk{first_seq + i}@{study.prefix.lower()}.example.com",
            email_normalised=f"bulk{first_seq + i}@{study.prefix.lower()}.example.com",
            date_of_birth=dt.date(1980, 1, 1),
            zip_code="35203",
        )
        for i in range(count)
    )
    rows = []
    for i in range(count):
        seq = first_seq + i
        row = Participant(
            study=study,
            person=people[i],
            screening_seq=seq,
            screening_number=study.screening_number(seq),
            status=status,
            first_name=f"Bulk{seq}",
            last_name="Test",
            name_normalised=f"bulk{seq} test",
            email=f"bulk{seq}@{study.prefix.lower()}.example.com",
            email_normalised=f"bulk{seq}@{study.prefix.lower()}.example.com",
            preferred_contact="email",
            date_of_birth=dt.date(1980, 1, 1),
            zip_code="35203",
            contact_consent=True,
            contact_consent_version=study.contact_consent_version,
            contact_consent_at=now,
            outcome=Outcome.ALL_MET,
            criteria_version=study.criteria_version,
            evaluated_at=now,
        )
        if status in Status.judged_eligible():
            row.eligible_at = now
        if status in Status.holding_participant_id():
            row.participant_id = study.participant_id(study.last_participant_seq + i + 1)
        if holds_slot:
            row.slot = slots[i]
        rows.append(row)
    Participant.objects.bulk_create(rows)
    enrolled = count if status in Status.holding_participant_id() else 0
    Study.objects.filter(pk=study.pk).update(
        last_screening_seq=F("last_screening_seq") + count,
        last_participant_seq=F("last_participant_seq") + enrolled,
    )
    study.refresh_from_db()
    created = list(
        Participant.objects.filter(study=study, screening_seq__gte=first_seq).order_by(
            "screening_seq"
        )
    )
    if status in Status.having_consented():
        by = by or StaffFactory(password=None)
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                participant=p,
                consented_on=timezone.localdate(now),
                form_version="ICF v2.0",
                obtained_by=by,
                recorded_by=by,
            )
            for p in created
        )
    return created


def free_slot_count(study) -> int:
    return EnrolmentSlot.objects.filter(study=study, participant__isnull=True).count()
