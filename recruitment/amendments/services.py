"""Drafting an amendment of a study's criteria and publishing it.

A draft holds the study's whole set of criteria as the amendment would make it, in the study
file's shape; publishing loads it through `study_load`, the study file's own path, so the new
criterion versions, the study's criteria version and the form's fresh cache (keyed by the
criteria's fingerprint) come exactly as from `load_study`."""

import copy
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError
from recruitment.models import CriteriaDraft, EligibilityCriterion, SharedQuestion, Study
from recruitment.studies import services as study_services

DRAFT_PUBLISHED = _("This draft was published: it can no longer change.")
DRAFT_STALE = _(
    "The study's criteria changed after this draft was made (version {base} then, {now} now). "
    "Publishing it would undo that change: start a new draft."
)
DRAFT_CHANGES_NOTHING = _("This draft is the same as the criteria in use: nothing to publish.")
DRAFT_NO_CRITERIA = _("A study needs at least one criterion.")
CODE_TWICE = _("The code {code} is used twice.")
UNKNOWN_SHARED_QUESTION = _("No shared question has the code {code}.")

# The keys of a draft's criterion: the study file's criterion keys and its translations.
DRAFT_KEYS = (*sorted(study_services.CRITERION_FIELDS), "translations")


class CriteriaDraftError(RecruitmentError):
    """A draft refused: `problems` maps a criterion's code ("" for the draft) to its
    problems, each (field, message) (see `criteria_draft_problems`)."""

    def __init__(self, message: str, problems: dict[str, list[tuple[str, str]]] | None = None):
        super().__init__(message)
        self.problems = problems or {}


def criterion_as_draft(criterion: EligibilityCriterion) -> dict[str, Any]:
    """A live criterion in the draft's shape (the study file's: the shared question by code)."""
    item = {
        key: copy.deepcopy(getattr(criterion, key))
        for key in DRAFT_KEYS
        if key != "shared_question"
    }
    item["shared_question"] = (
        criterion.shared_question.code if criterion.shared_question_id is not None else None
    )
    return item


def criteria_live(*, study: Study) -> list[EligibilityCriterion]:
    """The criteria in use, in the form's order, with their shared questions (one query)."""
    return list(study.criteria.active().select_related("shared_question").order_by("order", "pk"))


def criteria_draft_problems(
    *, study: Study, criteria: list[dict[str, Any]]
) -> dict[str, list[tuple[str, str]]]:
    """What is wrong with a draft's criteria, by code, each problem as (field, message) ("" for
    the criterion as a whole; the code "" for the draft): each criterion is checked as the
    loader checks a study file's (the model's fields and `clean()`, its rule's params, its
    translations). Empty when the draft could be published."""
    problems: dict[str, list[tuple[str, str]]] = {}
    if not criteria:
        problems[""] = [("", str(DRAFT_NO_CRITERIA))]
    seen: set[str] = set()
    named = {item.get("shared_question") for item in criteria} - {None, ""}
    shared = {q.code: q for q in SharedQuestion.objects.filter(code__in=named)} if named else {}
    for item in criteria:
        code = str(item.get("code", ""))
        found: list[tuple[str, str]] = []
        if code in seen:
            found.append(("code", str(CODE_TWICE.format(code=code))))
        seen.add(code)
        unknown = set(item) - set(DRAFT_KEYS)
        if unknown:
            found.append(("", f"Unknown keys: {', '.join(sorted(unknown))}."))
        fields = {k: v for k, v in item.items() if k in DRAFT_KEYS}
        question = fields.pop("shared_question", None)
        if question and question not in shared:
            found.append(("shared_question", str(UNKNOWN_SHARED_QUESTION.format(code=question))))
        candidate = EligibilityCriterion(
            study=study, shared_question=shared.get(question), **fields
        )
        try:
            candidate.full_clean(exclude=["study"], validate_unique=False)
        except ValidationError as exc:
            found += [
                ("" if name == "__all__" else name, " ".join(messages))
                for name, messages in exc.message_dict.items()
            ]
        found += [
            ("translations", problem)
            for problem in study_services.criterion_translations_problems(
                translations=item.get("translations") or {},
                params=item.get("params"),
                table="translations",
            )
        ]
        if found:
            problems.setdefault(code, []).extend(found)
    return problems


def criteria_draft_create(*, study: Study, by, note: str = "") -> CriteriaDraft:
    """Start a draft from the criteria in use (the active ones, in the form's order)."""
    draft = CriteriaDraft(
        study=study,
        note=note,
        criteria=[criterion_as_draft(c) for c in criteria_live(study=study)],
        base_version=study.criteria_version,
        created_by=by,
    )
    draft.full_clean()
    draft._change_reason = "Draft started"
    draft._history_user = by
    draft.save()
    return draft


def criteria_draft_update(
    *, draft: CriteriaDraft, by, criteria: list[dict[str, Any]], note: str | None = None
) -> CriteriaDraft:
    """Replace the draft's criteria (a rule changed, a criterion added or removed) after
    checking each as the loader would; a refusal writes nothing."""
    with transaction.atomic():
        draft = CriteriaDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.is_published:
            raise CriteriaDraftError(str(DRAFT_PUBLISHED))
        problems = criteria_draft_problems(study=draft.study, criteria=criteria)
        if problems:
            raise CriteriaDraftError(str(_("The draft has errors: see each criterion.")), problems)
        draft.criteria = copy.deepcopy(criteria)
        if note is not None:
            draft.note = note
        draft.full_clean()
        draft._change_reason = "Draft edited"
        draft._history_user = by
        draft.save()
    return draft


def criteria_draft_publish(*, draft: CriteriaDraft, by) -> CriteriaDraft:
    """Make the draft the study's next criteria version, through the study file's loader
    (`study_load`), then keep the draft read-only with who published it and when.

    Refused when the draft is already published, when the study's criteria changed since the
    draft was made (publishing would silently undo that change), or when it changes nothing."""
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=draft.study_id)
        draft = CriteriaDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.is_published:
            raise CriteriaDraftError(str(DRAFT_PUBLISHED))
        if study.criteria_version != draft.base_version:
            raise CriteriaDraftError(
                str(DRAFT_STALE.format(base=draft.base_version, now=study.criteria_version))
            )
        problems = criteria_draft_problems(study=study, criteria=draft.criteria)
        if problems:
            raise CriteriaDraftError(str(_("The draft has errors: see each criterion.")), problems)
        live = [criterion_as_draft(c) for c in criteria_live(study=study)]
        if live == draft.criteria:
            raise CriteriaDraftError(str(DRAFT_CHANGES_NOTHING))
        result = study_services.study_load(
            data={
                "slug": study.slug,
                "translations": study.translations,
                "criteria": copy.deepcopy(draft.criteria),
            }
        )
        draft.published_at = timezone.now()
        draft.published_by = by
        draft.published_version = result.study.criteria_version
        draft._change_reason = "Published: " + "; ".join(result.changes)
        draft._history_user = by
        draft.save(update_fields=["published_at", "published_by", "published_version"])
    return draft
