"""A study's visit plan from its study file (`[[visits]]`), kept in step with the file by
the loader: idempotent, versioned like the criteria, a visit left out of the file retired
(never deleted: booked visits point at it)."""

from typing import Any

from django.core.exceptions import ValidationError

from recruitment.errors import StudyFileError
from recruitment.models import PLANNED_VISIT_TEXT_FIELDS, PlannedVisit, Study

PLANNED_VISIT_FIELDS = {
    "code",
    "name",
    "anchor",
    "target_day",
    "days_before",
    "days_after",
    "place",
    "duration_minutes",
}


# What staff may edit of a planned visit (the study file's keys, the order and whether active).
PLANNED_VISIT_EDITABLE = (*sorted(PLANNED_VISIT_FIELDS), "order", "is_active", "translations")


def planned_visit_translations_problems(*, translations: Any, code: str) -> list[str]:
    """What is wrong with a planned visit's translations table, naming where it is."""
    from recruitment.studies.services import translations_problems

    return translations_problems(
        translations=translations,
        table=f"visits.translations ({code})",
        fields=PLANNED_VISIT_TEXT_FIELDS,
    )


def planned_visit_save(*, planned: PlannedVisit, by, reason: str) -> PlannedVisit:
    """Save a planned visit edited by staff (the admin): checked, its history naming who and
    why; a new version when anything but its order or translations changed, as the loader
    does. Nothing is written when nothing changed (an admin form may call a field changed
    whose value is the same)."""
    if planned.pk:
        before = PlannedVisit.objects.get(pk=planned.pk)
        changed = {f for f in PLANNED_VISIT_EDITABLE if getattr(before, f) != getattr(planned, f)}
        if not changed:
            return planned
        if changed - {"order", "translations"}:
            planned.version += 1
    planned.full_clean()
    planned._history_user = by
    planned._change_reason = str(reason)
    planned.save()
    return planned


def visit_plan_sync(
    *, study: Study, visits: list[dict[str, Any]], reason: str = "Loaded from the study file"
) -> list[str]:
    """Make the study's planned visits match `visits` (the file's `[[visits]]` in order).
    Returns what changed, one line per planned visit. A change of anything but the order or
    the translations gives the planned visit a new version."""
    changes: list[str] = []
    existing = {p.code: p for p in study.planned_visits.all()}
    seen: set[str] = set()
    for order, item in enumerate(visits, start=1):
        if not isinstance(item, dict):
            raise StudyFileError(f"Visit {order}: each [[visits]] entry must be a table.")
        item = dict(item)
        code = item.get("code", "")
        unknown = set(item) - PLANNED_VISIT_FIELDS - {"translations"}
        if unknown:
            raise StudyFileError(
                f"Visit {code or order}: unknown keys {', '.join(sorted(unknown))}; "
                f"use: {', '.join(sorted(PLANNED_VISIT_FIELDS))}, translations."
            )
        if code in seen:
            raise StudyFileError(f"Visit {code} appears twice.")
        seen.add(code)
        item.setdefault("place", "")
        item.setdefault("days_before", 0)
        item.setdefault("days_after", 0)
        item.setdefault("duration_minutes", 60)
        item.setdefault("translations", {})
        item["order"] = order
        item["is_active"] = True
        problems = planned_visit_translations_problems(translations=item["translations"], code=code)
        if problems:
            raise StudyFileError(f"visit {code}: {' '.join(problems)}")
        planned = existing.get(code) or PlannedVisit(study=study)
        changed = [f for f, v in item.items() if getattr(planned, f, None) != v]
        if planned.pk and not changed:
            continue
        for field, value in item.items():
            setattr(planned, field, value)
        if planned.pk:
            if set(changed) - {"order", "translations"}:
                planned.version += 1
            changes.append(f"visit {code}: {', '.join(sorted(changed))}")
        else:
            changes.append(f"visit {code}: added")
        try:
            planned.full_clean()
        except ValidationError as exc:
            details = "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
            raise StudyFileError(f"visit {code}: {details}") from exc
        planned._change_reason = reason
        planned.save()
    for code, planned in existing.items():
        if code not in seen and planned.is_active:
            planned.is_active = False
            planned.version += 1
            planned._change_reason = reason
            planned.save(update_fields=["is_active", "version"])
            changes.append(f"visit {code}: retired")
    return changes
