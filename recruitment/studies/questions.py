"""Loading the center's question bank (recruitment/studies/questions.toml): the questions
several studies ask, asked once (see `SharedQuestion`)."""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from recruitment.errors import StudyFileError
from recruitment.models import SharedQuestion
from recruitment.studies.services import _full_clean, translations_problems

QUESTION_BANK_FILE = Path(__file__).resolve().parent / "questions.toml"
QUESTION_FIELDS = {"code", "question", "hint", "answer_type", "options", "valid_days"}
# A shared question's translation table: its texts, and labels for its items or options.
QUESTION_TRANSLATION_KEYS = ("question", "hint", "items", "options")


@dataclass(frozen=True)
class QuestionBankLoadResult:
    created: tuple[str, ...]
    changed: tuple[str, ...]


def question_bank_load_file(
    *, path: Path = QUESTION_BANK_FILE, create_only: bool = False
) -> QuestionBankLoadResult:
    """Load a question bank file (TOML); see `question_bank_load`."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StudyFileError(f"{path}: {exc}") from exc
    return question_bank_load(data=data, create_only=create_only)


@transaction.atomic
def question_bank_load(
    *, data: dict[str, Any], create_only: bool = False
) -> QuestionBankLoadResult:
    """Create or update the shared questions so they match `data`; idempotent (loading the
    same file again writes nothing). A question left out of the file stays: criteria and
    answers point at it. With `create_only`, existing questions are left as they are (so
    `make run` never reverts edits made in the admin)."""
    unknown = set(data) - {"questions"}
    if unknown:
        raise StudyFileError(f"Unknown question bank keys: {', '.join(sorted(unknown))}.")
    existing = {q.code: q for q in SharedQuestion.objects.all()}
    seen: set[str] = set()
    created, changed = [], []
    for position, item in enumerate(data.get("questions", []), start=1):
        item = dict(item)
        code = item.get("code") or f"#{position}"
        unknown = set(item) - QUESTION_FIELDS - {"translations"}
        if unknown:
            raise StudyFileError(f"question {code}: unknown keys {', '.join(sorted(unknown))}.")
        if code in seen:
            raise StudyFileError(f"question {code} appears twice.")
        seen.add(code)
        item.setdefault("hint", "")
        item.setdefault("options", {})
        item.setdefault("valid_days", None)
        item.setdefault("translations", {})
        question = existing.get(code)
        if question is not None and create_only:
            continue
        question = question or SharedQuestion()
        different = [f for f, v in item.items() if getattr(question, f, None) != v]
        if question.pk and not different:
            continue
        for field, value in item.items():
            setattr(question, field, value)
        _full_clean(question, f"question {code}")
        problems = question_translations_problems(question)
        if problems:
            raise StudyFileError(f"question {code}: {' '.join(problems)}")
        (changed if question.pk else created).append(code)
        question.save()
    return QuestionBankLoadResult(created=tuple(created), changed=tuple(changed))


def question_translations_problems(question: SharedQuestion) -> list[str]:
    """`translations_problems` for a shared question, with its items' keys and options'
    values."""
    options = question.params

    def ids(group: str, key: str) -> tuple[str, ...]:
        entries = options.get(group)
        if not isinstance(entries, list):
            return ()
        return tuple(str(e[key]) for e in entries if isinstance(e, dict) and key in e)

    return translations_problems(
        translations=question.translations,
        table="questions.translations",
        fields=QUESTION_TRANSLATION_KEYS,
        items=ids("items", "key"),
        options=ids("options", "value"),
    )
