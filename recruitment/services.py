"""Every write to the recruitment data: keyword-only functions named <entity>_<verb>.

Views, the admin, management commands and tests all call these, so each rule is enforced in
one place. Side effects (emails) are sent after the transaction commits.
"""

import logging
import secrets
import tomllib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.contact import normalise_email, normalise_name, normalise_phone
from recruitment.models import (
    Answer,
    AnsweredBy,
    CriterionVerdict,
    EligibilityCriterion,
    Participant,
    Study,
)

logger = logging.getLogger(__name__)

STUDY_NOT_RECRUITING = _("This study is not recruiting at the moment.")


class RecruitmentError(Exception):
    """A domain rule refused the operation; the message is safe to show to the user."""


class StudyNotRecruiting(RecruitmentError):
    pass


class StudyFileError(RecruitmentError):
    pass


# ---------------------------------------------------------------------------------------------
# Studies
# ---------------------------------------------------------------------------------------------
STUDY_FIELDS = {
    "title",
    "short_title",
    "summary",
    "description",
    "what_it_involves",
    "form_minutes",
    "site_name",
    "site_zip",
    "catchment_miles",
    "target_enrolment",
    "withdrawal_frees_slot",
    "is_recruiting",
    "contact_name",
    "contact_email",
    "contact_phone",
    "irb_number",
    "prefix",
    "contact_consent_text",
    "contact_consent_version",
    "retention_days",
    "not_reached_after",
}
CRITERION_FIELDS = {
    "code",
    "kind",
    "answered_by",
    "title",
    "question",
    "hint",
    "rationale",
    "rule_kind",
    "params",
}


@dataclass(frozen=True)
class StudyLoadResult:
    study: Study
    created: bool
    changes: tuple[str, ...]


def study_load_file(*, path: Path, create_only: bool = False) -> StudyLoadResult:
    """Load a study definition file (TOML); see `study_load`."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StudyFileError(f"{path}: {exc}") from exc
    return study_load(data=data, create_only=create_only)


@transaction.atomic
def study_load(*, data: dict[str, Any], create_only: bool = False) -> StudyLoadResult:
    """Create or update a study and its criteria so they match `data`; idempotent.

    A criterion whose text or rule changes gets a new version, and so does the study's set of
    criteria; participants keep the versions they were judged by. Criteria missing from the
    file are retired, never deleted. With `create_only`, an existing study is left untouched
    (so `make run` never reverts edits made in the admin).
    """
    data = dict(data)
    slug = data.pop("slug", None)
    criteria = data.pop("criteria", [])
    if not slug:
        raise StudyFileError("The study file needs a slug.")
    unknown = set(data) - STUDY_FIELDS
    if unknown:
        raise StudyFileError(f"Unknown study keys: {', '.join(sorted(unknown))}.")

    study = Study.objects.filter(slug=slug).first()
    created = study is None
    if study is not None and create_only:
        return StudyLoadResult(study, created=False, changes=())
    changes: list[str] = []
    if created:
        study = Study(slug=slug)
    for field, value in data.items():
        if getattr(study, field) != value:
            setattr(study, field, value)
            if not created:
                changes.append(f"study {field}")
    _full_clean(study, f"study {slug}")
    study.save()

    seen = set()
    criteria_changed = False
    existing = {c.code: c for c in study.criteria.all()}
    for order, item in enumerate(criteria, start=1):
        item = dict(item)
        unknown = set(item) - CRITERION_FIELDS
        if unknown:
            raise StudyFileError(
                f"Criterion {item.get('code', order)}: unknown keys {', '.join(sorted(unknown))}."
            )
        item.setdefault("question", "")
        item.setdefault("hint", "")
        item.setdefault("params", {})
        item["order"] = order
        item["is_active"] = True
        code = item.get("code", "")
        if code in seen:
            raise StudyFileError(f"Criterion {code} appears twice.")
        seen.add(code)
        criterion = existing.get(code) or EligibilityCriterion(study=study)
        changed = [f for f, v in item.items() if getattr(criterion, f, None) != v]
        if criterion.pk and not changed:
            continue
        for field, value in item.items():
            setattr(criterion, field, value)
        if criterion.pk:
            meaningful = set(changed) - {"order", "is_active"}
            if meaningful or "is_active" in changed:
                criterion.version += 1
                criteria_changed = True
            changes.append(f"criterion {code}: {', '.join(sorted(changed))}")
        else:
            criteria_changed = True
            if not created:
                changes.append(f"criterion {code}: added")
        _full_clean(criterion, f"criterion {code}")
        criterion.save()
    for code, criterion in existing.items():
        if code not in seen and criterion.is_active:
            criterion.is_active = False
            criterion.version += 1
            criterion.save(update_fields=["is_active", "version"])
            criteria_changed = True
            changes.append(f"criterion {code}: retired")
    if criteria_changed and not created:
        study.criteria_version += 1
        study.save(update_fields=["criteria_version"])
    return StudyLoadResult(study, created=created, changes=tuple(changes))


def _full_clean(obj, label: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        details = "; ".join(
            f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
        )
        raise StudyFileError(f"{label}: {details}") from exc


def study_criteria_changed(*, study: Study, criteria: list[EligibilityCriterion]) -> None:
    """Record an edit of criteria made in the admin: new versions, so history stays exact."""
    with transaction.atomic():
        for criterion in criteria:
            criterion.version += 1
            criterion.save(update_fields=["version"])
        study.criteria_version += 1
        study.save(update_fields=["criteria_version"])


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContactDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    preferred_contact: str
    best_time: str
    date_of_birth: date
    zip_code: str
    referral_source: str
    note: str
    contact_consent: bool


def participant_submit(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    token: uuid.UUID | None = None,
    language: str = "en",
    site_url: str = "",
) -> Participant:
    """Save a patient's interest: participant, answers, pre-screen evaluation, screening
    number and possible-duplicate link, all in one transaction; then email the patient and
    the coordinators.

    `token` is the form's idempotency token: a second submission of the same form (a double
    click) returns the participant the first one created.
    """
    with transaction.atomic():
        # Lock the study row: serialises screening numbers and makes "not recruiting" final.
        locked = Study.objects.select_for_update().get(pk=study.pk)
        if token is not None:
            existing = Participant.objects.filter(study=locked, submission_token=token).first()
            if existing is not None:
                return existing
        if not locked.is_recruiting:
            raise StudyNotRecruiting(STUDY_NOT_RECRUITING)
        locked.last_screening_seq += 1
        locked.save(update_fields=["last_screening_seq"])

        now = timezone.now()
        phone_normalised = normalise_phone(contact.phone) if contact.phone else ""
        participant = Participant(
            study=locked,
            screening_seq=locked.last_screening_seq,
            screening_number=locked.screening_number(locked.last_screening_seq),
            first_name=contact.first_name.strip(),
            last_name=contact.last_name.strip(),
            name_normalised=normalise_name(contact.first_name, contact.last_name),
            email=contact.email.strip(),
            email_normalised=normalise_email(contact.email),
            phone=contact.phone.strip(),
            phone_normalised=phone_normalised,
            preferred_contact=contact.preferred_contact,
            best_time=contact.best_time,
            date_of_birth=contact.date_of_birth,
            zip_code=contact.zip_code[:5],
            referral_source=contact.referral_source,
            note=contact.note,
            language=language,
            contact_consent=contact.contact_consent,
            contact_consent_version=locked.contact_consent_version,
            contact_consent_at=now,
            submission_token=token,
            criteria_version=locked.criteria_version,
            evaluated_at=now,
            outcome=eligibility.Outcome.NEEDS_REVIEW,
        )
        participant.duplicate_of = _find_duplicate(participant)
        participant.full_clean()
        participant.save()

        criteria = list(locked.criteria.active().for_patient())
        Answer.objects.bulk_create(
            Answer(
                participant=participant,
                criterion=criterion,
                value=answers.get(criterion.code),
                answered_by=AnsweredBy.PATIENT,
            )
            for criterion in criteria
            if criterion.code in answers
        )
        participant_evaluate(participant=participant, today=timezone.localdate(now))

        staff_path = reverse("admin:recruitment_participant_change", args=[participant.pk])
        transaction.on_commit(
            lambda: _send_submission_emails(participant, f"{site_url.rstrip('/')}{staff_path}")
        )
    return participant


def participant_submit_idempotent(**kwargs) -> Participant:
    """`participant_submit`, tolerating two simultaneous posts of the same form."""
    try:
        return participant_submit(**kwargs)
    except IntegrityError:
        token = kwargs.get("token")
        existing = Participant.objects.filter(study=kwargs["study"], submission_token=token)
        if token is None or not existing.exists():
            raise
        return existing.get()


def _find_duplicate(participant: Participant) -> Participant | None:
    """The earliest participant of the same study with the same email, phone, or name and
    date of birth; duplicates link to the first of their group."""
    match = Q(email_normalised=participant.email_normalised)
    if participant.phone_normalised:
        match |= Q(phone_normalised=participant.phone_normalised)
    match |= Q(name_normalised=participant.name_normalised, date_of_birth=participant.date_of_birth)
    first = (
        Participant.objects.filter(match, study=participant.study)
        .order_by("screening_seq")
        .only("pk", "duplicate_of")
        .first()
    )
    if first is None:
        return None
    return first.duplicate_of or first


def participant_evaluate(*, participant: Participant, today: date | None = None) -> Participant:
    """Run the pre-screen rules on the participant's answers and store one verdict per active
    criterion, each with the exact criterion text and rule it was judged by."""
    today = today or timezone.localdate()
    criteria = list(participant.study.criteria.active())
    answers = {a.criterion_id: a.value for a in Answer.objects.filter(participant=participant)}
    by_code = {c.code: answers.get(c.pk) for c in criteria if c.pk in answers}
    evaluation = eligibility.evaluate(
        [c.as_rule() for c in criteria],
        by_code,
        applicant=eligibility.Applicant(
            date_of_birth=participant.date_of_birth, zip_code=participant.zip_code
        ),
        today=today,
    )
    with transaction.atomic():
        CriterionVerdict.objects.filter(participant=participant).delete()
        CriterionVerdict.objects.bulk_create(
            CriterionVerdict(
                participant=participant,
                criterion=criterion,
                criterion_snapshot=criterion.snapshot(),
                answer=answers.get(criterion.pk),
                verdict=verdict.status,
                reason=verdict.reason[:300],
                provenance=verdict.source or "",
                eligible_from=verdict.eligible_from,
                order=order,
            )
            for order, (criterion, verdict) in enumerate(
                zip(criteria, evaluation.verdicts, strict=True), start=1
            )
        )
        participant.outcome = evaluation.outcome
        participant.eligible_from = evaluation.eligible_from
        participant.criteria_version = participant.study.criteria_version
        participant.evaluated_at = timezone.now()
        participant.save(
            update_fields=["outcome", "eligible_from", "criteria_version", "evaluated_at"]
        )
    return participant


def _send_submission_emails(participant: Participant, staff_url: str) -> None:
    """Confirmation to the patient (no health answers) and a notice to the coordinators
    (screening number and a staff link only: no personal data)."""
    study = participant.study
    with translation.override(participant.language):
        context = {"participant": participant, "study": study}
        messages = [
            (
                render_to_string("recruitment/email/confirmation_subject.txt", context).strip(),
                render_to_string("recruitment/email/confirmation.txt", context),
                [participant.email],
            )
        ]
    if settings.COORDINATOR_EMAILS:
        context = {"participant": participant, "study": study, "staff_url": staff_url}
        messages.append(
            (
                render_to_string("recruitment/email/coordinator_subject.txt", context).strip(),
                render_to_string("recruitment/email/coordinator.txt", context),
                list(settings.COORDINATOR_EMAILS),
            )
        )
    for subject, body, recipients in messages:
        try:
            send_mail(subject, body, None, recipients)
        except Exception as exc:  # noqa: BLE001 - a mail outage must not lose the submission
            # Never log the exception text: SMTP errors quote the recipient's address.
            logger.error(
                "Email about %s failed: %s", participant.screening_number, type(exc).__name__
            )


# ---------------------------------------------------------------------------------------------
# Staff accounts
# ---------------------------------------------------------------------------------------------
COORDINATOR_GROUP = "Coordinators"
COORDINATOR_PERMISSIONS = [
    "view_study",
    "view_eligibilitycriterion",
    "view_participant",
    "view_answer",
    "view_criterionverdict",
]


def coordinator_group_ensure() -> Group:
    group, _created = Group.objects.get_or_create(name=COORDINATOR_GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label="recruitment", codename__in=COORDINATOR_PERMISSIONS
    )
    group.permissions.add(*permissions)
    return group


@transaction.atomic
def demo_coordinator_ensure(*, username: str = "coordinator") -> str | None:
    """Create the demo coordinator (a staff member of every study) once.

    Returns the new random password, or None when the account already exists: running again
    neither duplicates the account nor changes its password.
    """
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(coordinator_group_ensure())
    for study in Study.objects.all():
        study.members.add(user)
    return password
