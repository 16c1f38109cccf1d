"""The what-if of a big study, in the background: above AMENDMENT_WHAT_IF_INLINE_MAX people
(applicants and registry members) judging everyone twice takes minutes, so the page asks for
a run, the task worker computes it (`tasks.whatif_run_task`, ids only) and stores its counts,
per-criterion table and per-person CSV (random ids) in a `WhatIfRun`, and the page shows it
when done. A small study's what-if stays on the page itself. Both give the same counts: the
run calls the same `whatif_summarise`."""

import csv
import hashlib
import io
import json
from collections import Counter
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from recruitment.amendments import whatif
from recruitment.amendments.tasks import whatif_run_enqueue
from recruitment.models import (
    CriteriaDraft,
    Outcome,
    Participant,
    Person,
    WhatIfRun,
    WhatIfState,
)
from recruitment.reports import exports


def whatif_people_count(*, draft: CriteriaDraft) -> int:
    """How many people the what-if would judge: the study's applicants whose data is kept and
    the registry's members who have not applied to it (two counts)."""
    study = draft.study
    applicants = Participant.objects.filter(study=study, erased_at__isnull=True).count()
    members = Person.objects.in_registry().exclude(applications__study=study).count()
    return applicants + members


def whatif_runs_in_background(*, draft: CriteriaDraft) -> bool:
    return whatif_people_count(draft=draft) > settings.AMENDMENT_WHAT_IF_INLINE_MAX


def whatif_inputs_digest(*, draft: CriteriaDraft, today: date) -> str:
    """The draft's criteria, the criteria version in use and the day: what a run answers for."""
    content = [draft.criteria, draft.study.criteria_version, today.isoformat()]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def whatif_run_current(*, draft: CriteriaDraft, today: date) -> WhatIfRun | None:
    digest = whatif_inputs_digest(draft=draft, today=today)
    return WhatIfRun.objects.filter(draft=draft, inputs_digest=digest).defer("csv").first()


def whatif_run_request(*, draft: CriteriaDraft, by, today: date) -> WhatIfRun:
    """The run of the draft as it is today: the one asked before, or a new one queued for the
    task worker (after this transaction commits). Two staff asking at once get the same run."""
    current = whatif_run_current(draft=draft, today=today)
    if current is not None:
        return current
    try:
        with transaction.atomic():
            # Runs of the draft's earlier inputs are of no use now: their CSV goes with them.
            WhatIfRun.objects.filter(draft=draft).exclude(state=WhatIfState.QUEUED).delete()
            run = WhatIfRun.objects.create(
                draft=draft,
                inputs_digest=whatif_inputs_digest(draft=draft, today=today),
                today=today,
                requested_by=by,
                requested_at=timezone.now(),
            )
            whatif_run_enqueue(run=run)
    except IntegrityError:  # asked at the same moment by someone else: theirs
        return whatif_run_current(draft=draft, today=today)
    return run


def whatif_run_forget(*, draft: CriteriaDraft, today: date) -> None:
    """Drop the run of today's inputs, unless still being computed, so the page asks anew
    (the answers may have changed since it ran)."""
    WhatIfRun.objects.filter(
        draft=draft, inputs_digest=whatif_inputs_digest(draft=draft, today=today)
    ).exclude(state=WhatIfState.QUEUED).delete()


def whatif_run_csv(*, run: WhatIfRun) -> str:
    return WhatIfRun.objects.filter(pk=run.pk).values_list("csv", flat=True).get()


def whatif_run_compute(*, run: WhatIfRun) -> WhatIfRun:
    """Judge everyone once for the counts and the CSV rows together, and store both. Each
    chunk's rows are written out as CSV text at once: memory holds the text, not the rows."""
    draft = run.draft
    out = io.StringIO()
    out.write(exports.UTF8_BOM)
    writer = csv.writer(out)
    writer.writerow([exports.cell_neutralise(c) for c in whatif.whatif_header(draft=draft)])

    def write_chunk(chunk, codes):
        for row in whatif.whatif_chunk_rows(chunk, codes):
            writer.writerow([exports.cell_neutralise(c) for c in row])

    try:
        result = whatif.whatif_summarise(draft=draft, today=run.today, each_chunk=write_chunk)
    except Exception:
        WhatIfRun.objects.filter(pk=run.pk).update(
            state=WhatIfState.FAILED, finished_at=timezone.now()
        )
        raise
    run.summary = whatif_to_json(result)
    run.csv = out.getvalue()
    run.state = WhatIfState.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["summary", "csv", "state", "finished_at"])
    return run


# -- The result as stored: counts and codes only, the words added when shown ---------------------
def whatif_to_json(result: whatif.WhatIf) -> dict:
    return {
        "people": result.people,
        "by_source": dict(result.by_source),
        "changed": result.changed,
        "outcomes": [[o.outcome, o.before, o.after] for o in result.outcomes],
        "moves": [list(move) for move in result.move_counts],
        "criteria": [
            {
                "code": c.code,
                "title": c.title,
                "change": c.change,
                "now_failing": c.now_failing,
                "would_fail": c.would_fail,
                "now_unsure": c.now_unsure,
                "would_be_unsure": c.would_be_unsure,
                "newly_met": c.newly_met,
                "newly_failing": c.newly_failing,
                "moved_outcome": c.moved_outcome,
            }
            for c in result.criteria
        ],
    }


def whatif_from_json(data: dict) -> whatif.WhatIf:
    """The stored counts as the page shows them, in the reader's language."""
    labels = dict(Outcome.choices)
    move_counts = [(a, b, n) for a, b, n in data["moves"]]
    return whatif.WhatIf(
        people=data["people"],
        by_source=Counter(data["by_source"]),
        changed=data["changed"],
        outcomes=[
            whatif.OutcomeCount(value, str(labels.get(value, value)), before, after)
            for value, before, after in data["outcomes"]
        ],
        moves=whatif.move_words(move_counts),
        move_counts=move_counts,
        criteria=[whatif.CriterionShift(**c) for c in data["criteria"]],
    )
