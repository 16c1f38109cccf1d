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
  the process's largest resident size so far (flat: one batch of 1,000 at a time).

Prints one table; bench/README.md keeps the figures of a run.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("BENCH_DB_NAME", "ldn_trial_rematch")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run  # noqa: E402 - sets the bench's settings and database first

# Each shared question's answers, as SQL over random(): most people answer in a way that keeps
# them in, some rule themselves out, a third took an opioid in the last months (a washout).
ANSWER_SQL = {
    "mecfs_diagnosis": "(ARRAY['\"yes\"','\"yes\"','\"yes\"','\"no\"','\"unsure\"'])"
    "[1 + floor(random() * 5)::int]::jsonb",
    "mecfs_core_symptoms": "jsonb_build_object("
    + ", ".join(
        f"'{key}', (ARRAY['yes','yes','no'])[1 + floor(random() * 3)::int]"
        for key in ("pem", "sleep", "cognitive", "orthostatic")
    )
    + ")",
    "last_opioid_dose": 'CASE WHEN random() < 0.67 THEN \'{"taken": "no"}\'::jsonb ELSE '
    "jsonb_build_object('taken', 'yes', 'last', "
    "to_char(current_date - 140 + floor(random() * 120)::int, 'YYYY-MM-DD')) END",
    "naltrexone_use": "CASE WHEN random() < 0.33 THEN '\"yes\"' ELSE '\"no\"' END::jsonb",
    "naltrexone_allergy": "'\"no\"'::jsonb",
    "pregnancy": "CASE WHEN random() < 0.1 THEN '\"yes\"' ELSE '\"no\"' END::jsonb",
    "liver_disease": "'\"no\"'::jsonb",
    "autoimmune_disease": "CASE WHEN random() < 0.17 THEN '\"yes\"' ELSE '\"no\"' END::jsonb",
    "substance_misuse": "'\"no\"'::jsonb",
    "recent_drug_trial": "'\"no\"'::jsonb",
}


def people_seed(count: int, seed: int) -> None:
    """`count` people in the registry and about 80% of the shared questions answered by each,
    written by PostgreSQL itself (INSERT ... SELECT over generate_series, random() seeded)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        cursor.execute(
            """
            INSERT INTO recruitment_person (
                first_name, last_name, name_normalised, email, email_normalised, phone,
                phone_normalised, date_of_birth, zip_code, language, registry_consent,
                registry_consent_version, registry_consent_at, registry_nonce, created_at,
                updated_at)
            SELECT 'Bench', 'Person ' || n, 'bench person ' || n, 'person' || n || '@example.com',
                'person' || n || '@example.com', '', '',
                date '1950-01-01' + floor(random() * 20000)::int,
                (ARRAY['35203', '35294', '35401', '36104', '10001'])[1 + floor(random() * 5)::int],
                'en', true, 'r1', now(), '', now(), now()
            FROM generate_series(1, %s) AS n
            """,
            [count],
        )
        for code, value in ANSWER_SQL.items():
            cursor.execute(
                f"""
                INSERT INTO recruitment_sharedanswer (
                    person_id, question_id, value, answered_on, updated_at)
                SELECT p.id, q.id, {value}, current_date - floor(random() * 120)::int, now()
                FROM recruitment_person p, recruitment_sharedquestion q
                WHERE q.code = %s AND random() < 0.8
                """,  # noqa: S608 - the values are this file's constants
                [code],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, work) -> tuple[str, float, float]:
    started = time.perf_counter()
    outcome = work()
    seconds = time.perf_counter() - started
    run.log(f"{label}: {seconds:.1f} s, max RSS {rss_mb():.0f} MB ({outcome})")
    return label, seconds, rss_mb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the people seeded by the last run"
    )
    args = parser.parse_args()

    if not args.reuse:
        run.log(f"database {run.DB_NAME}: recreate, migrate, load the study")
        run.database_recreate()
        run.manage("migrate", "--noinput", "-v", "0")
        run.manage("load_study", "--create-only", f"recruitment/studies/{run.SLUG}.toml")

    import django

    django.setup()
    from django.utils import timezone

    from recruitment.models import Person, RegistryMatch, SharedAnswer, Study
    from recruitment.registry.services import study_rematch

    study = Study.objects.get(slug=run.SLUG)
    if args.reuse:
        RegistryMatch.objects.filter(study=study).delete()
        args.people = Person.objects.count()
    else:
        started = time.perf_counter()
        people_seed(args.people, args.seed)
        run.log(f"seeded {args.people} people in {time.perf_counter() - started:.0f} s")
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

    size = f"{args.people // 1000}k" if args.people % 1000 == 0 else str(args.people)
    rows = [
        timed("yardstick: read the people and their answers", read_rows),
        timed(f"rematch-{size}, first run (every match written)", rematch),
        timed(f"rematch-{size}, again, nothing changed", rematch),
    ]
    yardstick = rows[0][1]
    print()
    print(f"| scenario ({args.people} people) | seconds | x yardstick | max RSS MB after |")
    print("| --- | ---: | ---: | ---: |")
    for label, seconds, rss in rows:
        print(f"| {label} | {seconds:.1f} | {seconds / yardstick:.1f} | {rss:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
