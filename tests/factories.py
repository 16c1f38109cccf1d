"""factory_boy factories: small, valid objects with the LDN study's shape."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from recruitment import services
from recruitment.models import AnsweredBy, CriterionKind, EligibilityCriterion, RuleKind, Study


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.edu")
    password = factory.django.Password("correct-horse-battery-staple")


class StaffFactory(UserFactory):
    is_staff = True


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

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


def contact_details(**overrides) -> services.ContactDetails:
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
    return services.ContactDetails(**values)


def submit(study, *, answers=None, **contact):
    """A participant created the way the public form creates one."""
    return services.participant_submit(
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
