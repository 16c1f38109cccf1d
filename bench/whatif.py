"""Time the what-if of a criteria draft over a seeded study, and its peak Python memory.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> \
        DJANGO_SETTINGS_MODULE=bench.settings python -m bench.whatif [--study ldn-mecfs]

Seed first (`manage.py seed_participants --total N`). The draft (the opioid washout at 2
months instead of 3) is made in a transaction rolled back at the end: nothing stays.
"""

import argparse
import time
import tracemalloc

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--study", default="ldn-mecfs")
    args = parser.parse_args()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from recruitment.amendments import services, whatif
    from recruitment.models import Study

    study = Study.objects.get(slug=args.study)
    user = get_user_model().objects.filter(is_staff=True).first()
    with transaction.atomic():
        draft = services.criteria_draft_create(study=study, by=user)
        criteria = [
            {**c, "params": {"months": 2}} if c["rule_kind"] == "washout" else c
            for c in draft.criteria
        ]
        draft = services.criteria_draft_update(draft=draft, by=user, criteria=criteria)
        today = timezone.localdate()
        tracemalloc.start()
        started = time.perf_counter()
        result = whatif.whatif_summarise(draft=draft, today=today)
        summary_seconds = time.perf_counter() - started
        _current, summary_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        rows = sum(1 for _ in whatif.whatif_rows(draft=draft, today=today))
        rows_seconds = time.perf_counter() - started
        _current, rows_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        transaction.set_rollback(True)
    print(
        f"people {result.people}, changed {result.changed}; summary {summary_seconds:.2f} s, "
        f"peak {summary_peak / 1e6:.1f} MB; export {rows} rows {rows_seconds:.2f} s, "
        f"peak {rows_peak / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
