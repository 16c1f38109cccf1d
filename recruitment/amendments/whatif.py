"""The what-if of a criteria draft: who would change outcome, and why, if it were published.

Every stored answer is judged twice by the pure engine (`recruitment.eligibility.evaluate`),
by the criteria in use and by the draft's, on the same day; nothing here judges a rule itself.
People are read in chunks (a fixed number of queries per chunk), so memory stays flat for any
study, and only counts leave this module: no name, no screening number. The per-row export
gives each row a random id, drawn anew at every export, and shuffles the rows of each chunk,
so a row cannot be tied back to an applicant through its id or its place."""

import json
import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.amendments.services import criteria_live, criterion_as_draft
from recruitment.models import (
    Answer,
    CriteriaDraft,
    EligibilityCriterion,
    Outcome,
    Participant,
    Person,
    SharedAnswer,
    SharedQuestion,
)

CHUNK = 500

APPLICANT = "applicant"
REGISTRY = "registry"
SOURCES = {APPLICANT: _("Applicant to this study"), REGISTRY: _("Registry member")}

CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"
SAME = "same"
CHANGE_LABELS = {
    CHANGED: _("changed"),
    ADDED: _("added"),
    REMOVED: _("removed"),
    SAME: _("unchanged"),
}


@dataclass(frozen=True)
class Judged:
    """One person judged by both sets of criteria (no identity kept)."""

    source: str
    before: eligibility.Evaluation
    after: eligibility.Evaluation

    @property
    def changed(self) -> bool:
        return self.before.outcome != self.after.outcome


@dataclass
class CriterionShift:
    code: str
    title: str
    change: str
    now_failing: int = 0
    would_fail: int = 0
    now_unsure: int = 0
    would_be_unsure: int = 0
    newly_met: int = 0
    newly_failing: int = 0
    moved_outcome: int = 0

    @property
    def change_label(self) -> str:
        return CHANGE_LABELS[self.change]


@dataclass
class OutcomeCount:
    outcome: str
    label: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass
class WhatIf:
    people: int = 0
    by_source: Counter = field(default_factory=Counter)
    changed: int = 0
    outcomes: list[OutcomeCount] = field(default_factory=list)
    moves: list[tuple[str, str, int]] = field(default_factory=list)
    criteria: list[CriterionShift] = field(default_factory=list)
    # The moves by outcome value (from, to, how many), most first: `moves` in words.
    move_counts: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def applicants(self) -> int:
        return self.by_source[APPLICANT]

    @property
    def registry(self) -> int:
        return self.by_source[REGISTRY]


# -- The two sets of criteria ------------------------------------------------------------------
def draft_rules(criteria: list[Mapping[str, Any]]) -> list[eligibility.Criterion]:
    """The draft's criteria as the engine's rules."""
    return [
        eligibility.Criterion(
            code=item["code"],
            kind=eligibility.CriterionKind(item["kind"]),
            answered_by=eligibility.AnsweredBy(item["answered_by"]),
            rule_kind=eligibility.RuleKind(item["rule_kind"]),
            params=item.get("params") or {},
            title=item.get("title", ""),
        )
        for item in criteria
    ]


def _live(draft: CriteriaDraft) -> list[EligibilityCriterion]:
    return criteria_live(study=draft.study)


# -- The people ----------------------------------------------------------------------------------
def applicants_iter(
    *, study, codes: Mapping[int, str], chunk: int = CHUNK
) -> Iterator[list[tuple[eligibility.Applicant, dict[str, Any]]]]:
    """The study's applicants whose data is kept (not erased), a chunk at a time: the
    details the rules read (date of birth, ZIP code) and their stored answers by criterion
    code. Two queries per chunk."""
    last = 0
    while True:
        rows = list(
            Participant.objects.filter(study=study, erased_at__isnull=True, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "date_of_birth", "zip_code")[:chunk]
        )
        if not rows:
            return
        last = rows[-1][0]
        answers: dict[int, dict[str, Any]] = {pk: {} for pk, _dob, _zip in rows}
        for participant, criterion, value in Answer.objects.filter(
            participant_id__in=list(answers)
        ).values_list("participant_id", "criterion_id", "value"):
            if criterion in codes:
                answers[participant][codes[criterion]] = value
        yield [
            (eligibility.Applicant(date_of_birth=dob, zip_code=zip_code), answers[pk])
            for pk, dob, zip_code in rows
        ]
        if len(rows) < chunk:
            return


def registry_iter(
    *,
    study,
    questions: Mapping[str, tuple[list[str], list[str]]],
    today: date,
    chunk: int = CHUNK,
) -> Iterator[list[tuple[eligibility.Applicant, dict[str, Any], dict[str, Any]]]]:
    """The registry's members (consent given, not left, not erased) who have not applied to
    this study, a chunk at a time: their date of birth and ZIP code, and their shared answers
    by criterion code, once for the criteria in use and once for the draft's (`questions`:
    shared question code -> the codes of the criteria asking it, in use and in the draft). An
    answer older than its question's `valid_days` is left out: it would be asked again. Two
    queries per chunk."""
    if not questions:
        return
    bank = {
        q.pk: q
        for q in SharedQuestion.objects.filter(code__in=list(questions)).only(
            "pk", "code", "valid_days"
        )
    }
    people = Person.objects.in_registry().exclude(applications__study=study)
    last = 0
    while True:
        rows = list(
            people.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "date_of_birth", "zip_code")[:chunk]
        )
        if not rows:
            return
        last = rows[-1][0]
        before: dict[int, dict[str, Any]] = {pk: {} for pk, _dob, _zip in rows}
        after: dict[int, dict[str, Any]] = {pk: {} for pk, _dob, _zip in rows}
        answers = SharedAnswer.objects.filter(
            person_id__in=list(before), question_id__in=list(bank)
        ).values_list("person_id", "question_id", "value", "answered_on")
        for person, question_id, value, answered_on in answers:
            question = bank[question_id]
            if question.valid_days is not None and (today - answered_on).days > question.valid_days:
                continue
            live_codes, draft_codes = questions[question.code]
            before[person].update(dict.fromkeys(live_codes, value))
            after[person].update(dict.fromkeys(draft_codes, value))
        yield [
            (eligibility.Applicant(date_of_birth=dob, zip_code=zip_code), before[pk], after[pk])
            for pk, dob, zip_code in rows
        ]
        if len(rows) < chunk:
            return


def _questions(
    draft: CriteriaDraft, live: list[EligibilityCriterion]
) -> dict[str, tuple[list[str], list[str]]]:
    """Shared question code -> (codes of the criteria in use asking it, of the draft's)."""
    questions: dict[str, tuple[list[str], list[str]]] = {}
    for criterion in live:
        if criterion.shared_question_id is not None:
            questions.setdefault(criterion.shared_question.code, ([], []))[0].append(criterion.code)
    for item in draft.criteria:
        if item.get("shared_question"):
            questions.setdefault(item["shared_question"], ([], []))[1].append(item["code"])
    return questions


def people_iter(
    *,
    draft: CriteriaDraft,
    live: list[EligibilityCriterion],
    today: date,
    chunk: int = CHUNK,
) -> Iterator[list[tuple[str, eligibility.Applicant, dict[str, Any], dict[str, Any]]]]:
    """Everyone the what-if judges, a chunk at a time: (source, applicant, answers by code
    for the criteria in use, and for the draft's). An applicant's answers are the same for
    both; a registry member's follow the shared question each criterion asks."""
    codes = dict(draft.study.criteria.values_list("pk", "code"))
    for rows in applicants_iter(study=draft.study, codes=codes, chunk=chunk):
        yield [(APPLICANT, applicant, answers, answers) for applicant, answers in rows]
    questions = _questions(draft, live)
    for rows in registry_iter(study=draft.study, questions=questions, today=today, chunk=chunk):
        yield [(REGISTRY, applicant, before, after) for applicant, before, after in rows]


class CriteriaJudge:
    """The engine's judgement of one set of criteria, each verdict remembered by criterion and
    answer (and, for the age and distance rules, the date of birth or ZIP code they read):
    most people give the same answers, so the engine runs once per distinct answer, not once
    per person. The verdicts are the engine's own (`evaluate_one`), combined as `evaluate`
    combines them (`evaluation_of`). Bounded: the memory is emptied past `LIMIT` entries."""

    LIMIT = 50_000

    def __init__(self, criteria: list[eligibility.Criterion], today: date):
        self.criteria = criteria
        self.today = today
        self.seen: dict[tuple, eligibility.Verdict] = {}

    def __call__(
        self, answers: Mapping[str, Any], applicant: eligibility.Applicant
    ) -> eligibility.Evaluation:
        return eligibility.evaluation_of(
            self._verdict(place, criterion, answers.get(criterion.code), applicant)
            for place, criterion in enumerate(self.criteria)
        )

    def _verdict(self, place, criterion, answer, applicant) -> eligibility.Verdict:
        reads = None
        if criterion.rule_kind == eligibility.RuleKind.AGE_RANGE:
            reads = applicant.date_of_birth
        elif criterion.rule_kind == eligibility.RuleKind.ZIP_DISTANCE:
            reads = applicant.zip_code
        key = (place, json.dumps(answer, sort_keys=True, default=str), reads)
        verdict = self.seen.get(key)
        if verdict is None:
            if len(self.seen) >= self.LIMIT:
                self.seen.clear()
            verdict = self.seen[key] = eligibility.evaluate_one(
                criterion, answer, applicant=applicant, today=self.today
            )
        return verdict


def whatif_judge(
    *,
    draft: CriteriaDraft,
    today: date,
    chunk: int = CHUNK,
    live: list[EligibilityCriterion] | None = None,
) -> Iterator[list[Judged]]:
    """Each person judged by the criteria in use (`live`, read when not given) and by the
    draft's, a chunk at a time."""
    live = _live(draft) if live is None else live
    before = CriteriaJudge([c.as_rule() for c in live], today)
    after = CriteriaJudge(draft_rules(draft.criteria), today)
    for rows in people_iter(draft=draft, live=live, today=today, chunk=chunk):
        yield [
            Judged(source=source, before=before(now, applicant), after=after(then, applicant))
            for source, applicant, now, then in rows
        ]


# -- The summary ---------------------------------------------------------------------------------
def _shifts(draft: CriteriaDraft, live: list[EligibilityCriterion]) -> list[CriterionShift]:
    drafted = {item["code"]: item for item in draft.criteria}
    shifts = []
    for criterion in live:
        item = drafted.get(criterion.code)
        if item is None:
            change = REMOVED
        else:
            change = SAME if criterion_as_draft(criterion) == item else CHANGED
        shifts.append(CriterionShift(criterion.code, criterion.title, change))
    known = {c.code for c in live}
    shifts += [
        CriterionShift(item["code"], item.get("title", ""), ADDED)
        for item in draft.criteria
        if item["code"] not in known
    ]
    return shifts


def whatif_summarise(
    *,
    draft: CriteriaDraft,
    today: date,
    chunk: int = CHUNK,
    each_chunk: Callable[[list[Judged], list[str]], None] | None = None,
) -> WhatIf:
    """Counts by outcome before and after, the moves between outcomes, and per criterion how
    many fail it now and would fail it, and how many of those whose outcome moved it moved.
    `each_chunk` also gets every chunk judged, with the criteria's codes (the background
    what-if writes its CSV rows from them: one pass for both)."""
    live = _live(draft)
    shifts = _shifts(draft, live)
    by_code = {s.code: s for s in shifts}
    result = WhatIf()
    before_counts: Counter = Counter()
    after_counts: Counter = Counter()
    moves: Counter = Counter()
    codes = [shift.code for shift in shifts]
    for judged_chunk in whatif_judge(draft=draft, today=today, chunk=chunk, live=live):
        if each_chunk is not None:
            each_chunk(judged_chunk, codes)
        for judged in judged_chunk:
            result.people += 1
            result.by_source[judged.source] += 1
            before_counts[judged.before.outcome] += 1
            after_counts[judged.after.outcome] += 1
            if judged.changed:
                result.changed += 1
                moves[(judged.before.outcome, judged.after.outcome)] += 1
            now = {v.code: v.status for v in judged.before.verdicts}
            then = {v.code: v.status for v in judged.after.verdicts}
            for code, shift in by_code.items():
                _tally(shift, now.get(code), then.get(code), judged.changed)
    result.outcomes = [
        OutcomeCount(value, str(label), before_counts[value], after_counts[value])
        for value, label in Outcome.choices
    ]
    result.move_counts = [
        (str(a), str(b), n) for (a, b), n in sorted(moves.items(), key=lambda item: -item[1])
    ]
    result.moves = move_words(result.move_counts)
    result.criteria = shifts
    return result


def move_words(move_counts: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    labels = dict(Outcome.choices)
    return [(str(labels[a]), str(labels[b]), n) for a, b, n in move_counts]


def _tally(shift: CriterionShift, now, then, moved: bool) -> None:
    failing, unsure, met = (
        eligibility.VerdictStatus.NOT_MET,
        eligibility.VerdictStatus.UNKNOWN,
        eligibility.VerdictStatus.MET,
    )
    shift.now_failing += now == failing
    shift.would_fail += then == failing
    shift.now_unsure += now == unsure
    shift.would_be_unsure += then == unsure
    shift.newly_met += now is not None and now != met and then == met
    shift.newly_failing += then == failing and now != failing
    shift.moved_outcome += moved and now != then


# -- The per-row export ------------------------------------------------------------------------
def whatif_header(*, draft: CriteriaDraft) -> list[str]:
    codes = [s.code for s in _shifts(draft, _live(draft))]
    verdict_columns = [f"{code} {when}" for code in codes for when in ("now", "if published")]
    return ["row", "source", "outcome now", "outcome if published", "changed", *verdict_columns]


def whatif_rows(*, draft: CriteriaDraft, today: date, chunk: int = CHUNK) -> Iterator[list[str]]:
    """One row per person judged, de-identified: a random id, the source, both outcomes and
    each criterion's verdict before and after (empty where the criterion does not exist)."""
    live = _live(draft)
    codes = [s.code for s in _shifts(draft, live)]
    for judged_chunk in whatif_judge(draft=draft, today=today, chunk=chunk, live=live):
        yield from whatif_chunk_rows(judged_chunk, codes)


def whatif_chunk_rows(judged_chunk: list[Judged], codes: list[str]) -> list[list[str]]:
    """A chunk's CSV rows, each with a random id, shuffled."""
    rows = []
    for judged in judged_chunk:
        now = {v.code: str(v.status) for v in judged.before.verdicts}
        then = {v.code: str(v.status) for v in judged.after.verdicts}
        verdicts = [col for code in codes for col in (now.get(code, ""), then.get(code, ""))]
        rows.append(
            [
                secrets.token_hex(6),
                judged.source,
                str(judged.before.outcome),
                str(judged.after.outcome),
                "yes" if judged.changed else "no",
                *verdicts,
            ]
        )
    random.SystemRandom().shuffle(rows)
    return rows
