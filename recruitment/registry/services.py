"""Re-matching the registry against a study: every person who agreed to hear about other
studies, judged by the study's criteria from the answers they already gave to the center's
shared questions, in batches, with one `RegistryMatch` per person and study.

A criterion nobody asked the person (no shared question, or no answer yet) is unknown:
"never asked". Only a person's shared answers, date of birth and ZIP code are read; nothing
here is written to a log."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from recruitment import eligibility
from recruitment.models import (
    DATE_OF_BIRTH,
    AnsweredBy,
    EligibilityCriterion,
    MatchOutcome,
    MatchState,
    MatchVerdict,
    Participant,
    Person,
    RegistryMatch,
    SharedAnswer,
    SharedQuestion,
    Study,
)

BATCH_SIZE = 1000

# The verdicts' reasons, for the study's team (written like the engine's, in English: they are
# stored, then shown as they are, like a participant's verdict reasons).
NEVER_ASKED = "Never asked: this study's own question."
NOT_ANSWERED_YET = "Never asked: no answer to this shared question yet."
OUT_OF_DATE = "Answered on {on}; out of date, to ask again."
CHECKED_BY_STAFF = "Checked by staff at the screening visit."

# The engine's outcome, as a match's.
OUTCOMES = {
    eligibility.Outcome.ALL_MET: MatchOutcome.LIKELY_ELIGIBLE,
    eligibility.Outcome.LIKELY_ELIGIBLE: MatchOutcome.LIKELY_ELIGIBLE,
    eligibility.Outcome.NEEDS_REVIEW: MatchOutcome.NEEDS_ANSWERS,
    eligibility.Outcome.ELIGIBLE_FROM: MatchOutcome.ELIGIBLE_FROM,
    eligibility.Outcome.LIKELY_INELIGIBLE: MatchOutcome.INELIGIBLE,
}
# The states in which a match is no longer judged again: the person said no, or yes (they
# have an application then), or the team closed it.
STATES_KEPT = (MatchState.ACCEPTED, MatchState.DECLINED, MatchState.CLOSED)
# What a new evaluation rewrites; the number, state and invitation stay.
EVALUATION_FIELDS = (
    "outcome",
    "eligible_from",
    "verdicts",
    "verdicts_digest",
    "criteria_version",
    "inputs_fingerprint",
    "evaluated_at",
)


@dataclass
class RematchResult:
    """What one re-matching did: persons judged, matches created, updated and unchanged, and
    persons passed over (they declined, or their match was accepted or closed)."""

    evaluated: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    batches: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, other: "RematchResult") -> None:
        for name in ("evaluated", "created", "updated", "unchanged", "kept", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count


# How a criterion is judged for a person of the registry.
STAFF, AGE, ZIP, OWN, SHARED = "staff", "age", "zip", "own", "shared"


@dataclass(frozen=True)
class _Plan:
    """What every person of one study is judged by, read once per re-matching, and the
    verdicts already reached for an answer (`seen`): people share answers ("no", "yes", the
    same ZIP code), so each distinct answer to a criterion is judged once per re-matching."""

    study: Study
    today: date
    criteria: list[tuple[int, str, str, int | None, eligibility.Criterion]]
    valid_days: dict[int, int | None]  # shared question pk -> days an answer stays current
    date_of_birth_id: int | None  # the shared question `date_of_birth`, if the bank has it
    digest: str
    seen: dict = field(default_factory=dict)


def study_rematch(
    *,
    study: Study,
    today: date,
    person_ids: Iterable[int] | None = None,
    batch_size: int = BATCH_SIZE,
) -> RematchResult:
    """Judge every person in the registry against `study` and write their matches.

    Repeatable: the same criteria, answers and day give the same matches, and a match whose
    verdicts did not change is not written again. A person applying to the study already, or
    whose match they declined (or accepted, or the team closed), is passed over. A person
    who no longer matches keeps their match with its new outcome (`ineligible`), which the
    team's list does not show. `person_ids` limits it to those persons (a washout ending).

    Batches of `batch_size` persons, each read with their answers in a constant number of
    queries and written in one transaction; memory holds one batch at a time."""
    plan = _plan(study, today)
    result = RematchResult()
    persons = Person.objects.in_registry().exclude(applications__study=study)
    if person_ids is not None:
        persons = persons.filter(pk__in=list(person_ids))
    persons = persons.order_by("pk").values_list("pk", "date_of_birth", "zip_code")
    last = 0
    while True:
        batch = list(persons.filter(pk__gt=last)[:batch_size])
        if not batch:
            return result
        result.add(_rematch_batch(plan, batch))
        last = batch[-1][0]


def _plan(study: Study, today: date) -> _Plan:
    rows = list(
        EligibilityCriterion.objects.filter(study=study)
        .active()
        .select_related("shared_question")
        .order_by("order", "pk")
    )
    criteria = []
    for index, criterion in enumerate(rows):
        if criterion.answered_by == AnsweredBy.STAFF:
            mode = STAFF
        elif criterion.rule_kind == eligibility.RuleKind.AGE_RANGE:
            mode = AGE
        elif criterion.rule_kind == eligibility.RuleKind.ZIP_DISTANCE:
            mode = ZIP
        else:
            mode = SHARED if criterion.shared_question_id else OWN
        criteria.append(
            (index, criterion.code, mode, criterion.shared_question_id, criterion.as_rule())
        )
    valid_days = {
        c.shared_question_id: c.shared_question.valid_days for c in rows if c.shared_question_id
    }
    date_of_birth_id = (
        SharedQuestion.objects.filter(code=DATE_OF_BIRTH).values_list("pk", flat=True).first()
    )
    content = [
        (c.snapshot(), c.shared_question_id, valid_days.get(c.shared_question_id)) for c in rows
    ]
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    return _Plan(
        study=study,
        today=today,
        criteria=criteria,
        valid_days=valid_days,
        date_of_birth_id=date_of_birth_id,
        digest=digest,
    )


def _rematch_batch(plan: _Plan, batch: list[tuple[int, date | None, str]]) -> RematchResult:
    result = RematchResult(batches=1)
    ids = [pk for pk, _dob, _zip in batch]
    wanted = set(plan.valid_days)
    if plan.date_of_birth_id:
        wanted.add(plan.date_of_birth_id)
    answers: dict[int, dict[int, tuple[str, date]]] = {pk: {} for pk in ids}
    # Each answer as its stored JSON text: the key of the verdicts already reached, decoded
    # only the first time it is seen.
    rows = (
        SharedAnswer.objects.filter(person_id__in=ids, question_id__in=wanted)
        .annotate(raw=Cast("value", TextField()))
        .values_list("person_id", "question_id", "raw", "answered_on")
    )
    for person_id, question_id, raw, answered_on in rows:
        answers[person_id][question_id] = (raw, answered_on)
    now = timezone.now()
    judged = {}
    for pk, date_of_birth, zip_code in batch:
        judged[pk] = _judge(plan, answers[pk], date_of_birth, zip_code)
    with transaction.atomic():
        # The study's row lock serialises re-matchings of one study, so numbers never clash.
        Study.objects.select_for_update().filter(pk=plan.study.pk).values_list("pk").first()
        existing = {
            row[0]: row[1:]
            for row in RegistryMatch.objects.filter(
                study=plan.study, person_id__in=ids
            ).values_list(
                "person_id",
                "number",
                "state",
                "inputs_fingerprint",
                "outcome",
                "eligible_from",
                "verdicts_digest",
            )
        }
        next_number = None
        writes = []
        for pk in ids:
            outcome, eligible_from, verdicts, digest, fingerprint = judged[pk]
            row = existing.get(pk)
            if row is not None:
                number, state, old_fingerprint, old_outcome, old_from, old_digest = row
                if state in STATES_KEPT:
                    result.kept += 1
                    continue
                same = (old_fingerprint, old_outcome, old_from, old_digest)
                if same == (fingerprint, outcome, eligible_from, digest):
                    result.unchanged += 1
                    result.evaluated += 1
                    result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
                    continue
                result.updated += 1
            else:
                if next_number is None:
                    top = RegistryMatch.objects.filter(study=plan.study).aggregate(Max("number"))
                    next_number = (top["number__max"] or 0) + 1
                number = next_number
                next_number += 1
                result.created += 1
            result.evaluated += 1
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
            writes.append(
                RegistryMatch(
                    study=plan.study,
                    person_id=pk,
                    number=number,
                    outcome=outcome,
                    eligible_from=eligible_from,
                    verdicts=verdicts,
                    verdicts_digest=digest,
                    criteria_version=plan.study.criteria_version,
                    inputs_fingerprint=fingerprint,
                    evaluated_at=now,
                )
            )
        if writes:
            # One statement for new and changed matches alike (an upsert on study and person):
            # the number, state and invitation of an existing match are left as they are.
            RegistryMatch.objects.bulk_create(
                writes,
                update_conflicts=True,
                unique_fields=["study", "person"],
                update_fields=list(EVALUATION_FIELDS),
            )
    return result


def _judge(
    plan: _Plan,
    answers: dict[int, tuple[str, date]],
    date_of_birth: date | None,
    zip_code: str,
) -> tuple[str, date | None, list[dict[str, str]], str, str]:
    """One person's outcome, eligible-from date, verdicts, their digest, and the inputs'
    fingerprint."""
    if date_of_birth is None and plan.date_of_birth_id in answers:
        date_of_birth = _date_or_none(answers[plan.date_of_birth_id][0])
    seen = plan.seen
    if len(seen) >= 100_000:  # bounded memory: start again with the answers to come
        seen.clear()
    verdicts = []
    for index, code, mode, question_id, rule in plan.criteria:
        if mode == AGE:
            key = (index, date_of_birth)
        elif mode == ZIP:
            key = (index, zip_code)
        elif mode != SHARED:
            key = (index,)
        elif question_id not in answers:
            key = (index, None)
        else:
            raw, answered_on = answers[question_id]
            days = plan.valid_days.get(question_id)
            if days is not None and answered_on + timedelta(days=days) < plan.today:
                key = (index, "out of date", answered_on)
            else:
                key = (index, "answer", raw)
        verdict = seen.get(key)
        if verdict is None:
            verdict = seen[key] = _verdict(plan, key, code, mode, rule, date_of_birth, zip_code)
        verdicts.append(verdict)
    evaluation = eligibility.evaluation_of(engine for engine, _stored in verdicts)
    outcome = OUTCOMES[evaluation.outcome]
    eligible_from = evaluation.eligible_from if outcome == MatchOutcome.ELIGIBLE_FROM else None
    inputs = "|".join(
        [
            plan.digest,
            str(date_of_birth),
            zip_code or "",
            *(f"{q}:{on}:{raw}" for q, (raw, on) in sorted(answers.items())),
        ]
    )
    fingerprint = hashlib.sha256(inputs.encode()).hexdigest()
    stored = [verdict for _engine, verdict in verdicts]
    said = "|".join(f"{v['criterion']}:{v['verdict']}:{v['reason']}" for v in stored)
    digest = hashlib.sha256(said.encode()).hexdigest()
    return str(outcome), eligible_from, stored, digest, fingerprint


def _verdict(
    plan: _Plan,
    key: tuple,
    code: str,
    mode: str,
    rule: eligibility.Criterion,
    date_of_birth: date | None,
    zip_code: str,
) -> tuple[eligibility.Verdict, dict[str, str]]:
    """A criterion's verdict (the engine's, and as a match stores it) for the answer `key`
    names: the answer itself, the date of birth or ZIP code, or why there is none."""
    applicant = eligibility.Applicant(date_of_birth=date_of_birth, zip_code=zip_code or None)
    answer = json.loads(key[2]) if len(key) == 3 and key[1] == "answer" else None
    engine = eligibility.evaluate_one(rule, answer, applicant=applicant, today=plan.today)
    reason = engine.reason
    if mode == STAFF:
        reason = CHECKED_BY_STAFF
    elif mode == OWN:
        reason = NEVER_ASKED
    elif mode == SHARED and key[1] is None:
        reason = NOT_ANSWERED_YET
    elif mode == SHARED and key[1] == "out of date":
        reason = OUT_OF_DATE.format(on=key[2].isoformat())
    status = engine.status
    if status is eligibility.VerdictStatus.PENDING:
        status = MatchVerdict.UNKNOWN
    stored = {"criterion": code, "verdict": str(status), "reason": reason}
    return engine, stored


def _date_or_none(raw: str) -> date | None:
    try:
        value = json.loads(raw)
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def registry_rematch_due(*, today: date) -> RematchResult:
    """Judge again the matches that waited for a date (a washout ending) which has come: for
    each study, only the persons concerned. Run daily by `manage.py rematch_due`."""
    result = RematchResult()
    due = RegistryMatch.objects.due(today).exclude(state__in=STATES_KEPT)
    study_ids = sorted(set(due.values_list("study_id", flat=True)))
    for study in Study.objects.filter(pk__in=study_ids).order_by("pk"):
        person_ids = due.filter(study=study).values_list("person_id", flat=True)
        result.add(study_rematch(study=study, today=today, person_ids=list(person_ids)))
    return result


# ---------------------------------------------------------------------------------------------
# Shared answers: a question asked once serves every study that asks it
# ---------------------------------------------------------------------------------------------
ANSWERED_ON_FORM = "Answered on an application form"


def shared_answers_record(
    *,
    participant: Participant,
    criteria: list[EligibilityCriterion],
    values: dict[int, Any],
    by=None,
) -> list[SharedAnswer]:
    """Keep the answers an application gave to criteria naming a shared question as the
    person's latest answers (`values` by criterion pk, as stored), dated today and pointing at
    the application; the date of birth counts as the answer to `date_of_birth`. A blank
    answer leaves the one kept before. The study's own questions stay its own.

    Two statements whatever the number of answers: the answers written (new or changed) and
    their history rows, with `by` and the reason."""
    if participant.person_id is None:
        return []
    wanted: dict[int, Any] = {}
    for criterion in criteria:
        if criterion.shared_question_id is None or criterion.answered_by != AnsweredBy.PATIENT:
            continue
        if criterion.rule_kind == eligibility.RuleKind.AGE_RANGE:
            value = participant.date_of_birth and participant.date_of_birth.isoformat()
        else:
            value = values.get(criterion.pk)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        wanted[criterion.shared_question_id] = value
    if not wanted:
        return []
    now = timezone.now()
    today = timezone.localdate(now)
    answers = [
        SharedAnswer(
            person_id=participant.person_id,
            question_id=question_id,
            value=value,
            answered_on=today,
            source_application=participant,
            updated_at=now,
        )
        for question_id, value in wanted.items()
    ]
    # One statement whether the person answered before or not (an upsert on person and
    # question), then their history rows, each with who and why.
    SharedAnswer.objects.bulk_create(
        answers,
        update_conflicts=True,
        unique_fields=["person", "question"],
        update_fields=["value", "answered_on", "source_application", "updated_at"],
    )
    SharedAnswer.history.bulk_history_create(
        answers, default_user=by, default_change_reason=ANSWERED_ON_FORM, default_date=now
    )
    return answers


def shared_answers_erase(*, application_ids: list[int]) -> int:
    """Erase the shared answers that came from these applications (erased after their study's
    retention period), with their values in the history, unless the person is in the
    registry: they agreed to be kept and contacted about other studies. Returns how many."""
    erased = SharedAnswer.objects.filter(source_application_id__in=application_ids).exclude(
        person__in=Person.objects.in_registry()
    )
    pks = list(erased.values_list("pk", flat=True))
    if pks:
        SharedAnswer.objects.filter(pk__in=pks).delete()
        SharedAnswer.history.filter(id__in=pks).update(value=None, history_change_reason=None)
    return len(pks)
