# The script runs manage.py with fixed arguments and talks to the local PostgreSQL only.
# ruff: noqa: S603
"""Re-matching one study against 100,000 people of the registry (`rematch-100k`).

    .venv/bin/python bench/rematch.py [--people 100000] [--seed 7]

Recreates a throwaway PostgreSQL database (BENCH_DB_NAME, default `ldn_trial_rematch`, so it
never touches `make bench`'s), migrates it and loads the LDN study and the question bank; then
seeds `--people` people in the registry, each with a random share of the shared questions
answered (a few ruling them out, a few with a washout still running). It measures, in this
process and in the same run:

- the yardstick: reading every person's row and their shared answers (the rows the matching
  reads), and nothing else;
- `rematch-100k`: `study_rematch` of the LDN study, the first time (every match written),
  then again with nothing changed (every match read and compared, none written), each with
  its peak Python memory (tracemalloc) and the process's resident size.

Prints one table; bench/README.md keeps the figures of a run.
"""

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("BENCH_DB_NAME", "ldn_trial_rematch")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run  # noqa: E402 - sets the bench's settings and database first

SEED_BATCH = 5000


def people_seed(count: int, seed: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from recruitment.models import Person, SharedAnswer, SharedQuestion

    rng = random.Random(seed)  # noqa: S311 - repeatable made-up data, no secret
    questions = {q.code: q.pk for q in SharedQuestion.objects.all()}
    today = timezone.localdate()
    now = timezone.now()
    made = 0
    while made < count:
        size = min(SEED_BATCH, count - made)
        people = Person.objects.bulk_create(
            Person(
                first_name="Bench",
                last_name=f"Person {made + n}",
                email=f"person{made + n}@example.com",
                date_of_birth=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000)),
                zip_code=rng.choice(["35203", "35294", "35401", "36104", "10001"]),
                registry_consent=True,
                registry_consent_version="r1",
                registry_consent_at=now,
            )
            for n in range(size)
        )
        answers = []
        for person in people:
            on = today - dt.timedelta(days=rng.randrange(120))
            for code, value in (
                ("mecfs_diagnosis", rng.choice(["yes", "yes", "yes", "no", "unsure"])),
                (
                    "mecfs_core_symptoms",
                    {
                        k: rng.choice(["yes", "yes", "no"])
                        for k in ("pem", "sleep", "cognitive", "orthostatic")
                    },
                ),
                (
                    "last_opioid_dose",
                    rng.choice(
                        [
                            {"taken": "no"},
                            {"taken": "no"},
                            {"taken": "yes", "last": (on - dt.timedelta(days=20)).isoformat()},
                        ]
                    ),
                ),
                ("naltrexone_use", rng.choice(["no", "no", "yes"])),
                ("naltrexone_allergy", "no"),
                ("pregnancy", rng.choice(["no"] * 9 + ["yes"])),
                ("liver_disease", "no"),
                ("autoimmune_disease", rng.choice(["no"] * 5 + ["yes"])),
                ("substance_misuse", "no"),
                ("recent_drug_trial", "no"),
            ):
                if rng.random() < 0.8:  # not everyone was asked everything
                    answers.append(
                        SharedAnswer(
                            person=person, question_id=questions[code], value=value, answered_on=on
                        )
                    )
        SharedAnswer.objects.bulk_create(answers, batch_size=SEED_BATCH)
        made += size
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, work) -> tuple[str, float, float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    outcome = work()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    run.log(f"{label}: {seconds:.1f} s, peak {peak:.1f} MB ({outcome})")
    return label, seconds, peak, rss_mb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    run.log(f"database {run.DB_NAME}: recreate, migrate, load the study")
    run.database_recreate()
    run.manage("migrate", "--noinput", "-v", "0")
    run.manage("load_study", "--create-only", f"recruitment/studies/{run.SLUG}.toml")

    import django

    django.setup()
    from django.utils import timezone

    from recruitment.models import Person, SharedAnswer, Study
    from recruitment.registry.services import study_rematch

    started = time.perf_counter()
    people_seed(args.people, args.seed)
    run.log(f"seeded {args.people} people in {time.perf_counter() - started:.0f} s")
    study = Study.objects.get(slug=run.SLUG)
    today = timezone.localdate()

    def read_rows():
        people = sum(
            1
            for _ in Person.objects.values_list("pk", "date_of_birth", "zip_code").iterator(
                chunk_size=2000
            )
        )
        answers = sum(
            1
            for _ in SharedAnswer.objects.values_list(
                "person_id", "question_id", "value", "answered_on"
            ).iterator(chunk_size=2000)
        )
        return f"{people} people, {answers} answers"

    def rematch():
        result = study_rematch(study=study, today=today)
        return (
            f"{result.evaluated} judged, {result.created} new, {result.updated} updated, "
            f"{result.unchanged} unchanged; {result.outcomes}"
        )

    rows = [
        timed("yardstick: read the people and their answers", read_rows),
        timed("rematch-100k, first run (every match written)", rematch),
        timed("rematch-100k, again, nothing changed", rematch),
    ]
    yardstick = rows[0][1]
    print()
    print(
        f"| scenario ({args.people} people) | seconds | x yardstick | peak Python MB | max RSS MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, seconds, peak, rss in rows:
        print(f"| {label} | {seconds:.1f} | {seconds / yardstick:.1f} | {peak:.1f} | {rss:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
