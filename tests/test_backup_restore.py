"""Backup and restore on PostgreSQL, with the exact commands docs/operations.md gives.

A database seeded through the services (participants in every status, answers, verdicts,
lab values, status changes with reasons, consent, contact attempts, a staff edit, a duplicate,
a staff member's two-factor device, and the audit history of all of it) is dumped with
`pg_dump --format=custom`, restored into a fresh database with `pg_restore`, and the restored
database must hold the same rows in every table, pass `check_enrolment` and
`migrate --check`, answer /healthz, let the coordinator sign in with password and
authenticator code, and take a new submission. Each command is asserted to appear verbatim in
the document, so the document is what is tested.

PostgreSQL only (skipped on SQLite, whose backup is a file copy); CI runs both.
"""

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from recruitment.models import Status
from recruitment.screening.services import (
    contact_attempt_record,
    lab_values_record,
    participant_update,
)
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, staff, submit, walk
from tests.test_settings import clean_env, production_secret_key

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"

# docs/operations.md, "Backup with pg_dump" (the backup script's three commands).
DUMP = 'pg_dump --format=custom --file="$BACKUP_FILE.partial" "$PGDATABASE"'
READ_BACK = 'pg_restore --list "$BACKUP_FILE.partial" > /dev/null'
KEEP = 'mv "$BACKUP_FILE.partial" "$BACKUP_FILE"'
# "Restore into a fresh database".
CREATE = 'createdb "$RESTORE_DB"'
RESTORE = (
    "pg_restore --no-owner --no-privileges --single-transaction "
    '--dbname="$RESTORE_DB" "$BACKUP_FILE"'
)
# "Check a restore", step 1: row counts.
ROW_COUNTS = (
    "ROW_COUNTS=\"SELECT table_name, (xpath('/row/n/text()', query_to_xml(format('SELECT "
    "count(*) AS n FROM %I', table_name), false, true, '')))[1]::text FROM "
    "information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
    'ORDER BY table_name"'
)
COUNT_LIVE = (
    'psql --no-psqlrc --tuples-only --no-align --dbname="$PGDATABASE" '
    '--command="$ROW_COUNTS" > live-counts.txt'
)
COUNT_RESTORED = (
    'psql --no-psqlrc --tuples-only --no-align --dbname="$RESTORE_DB" '
    '--command="$ROW_COUNTS" > restored-counts.txt'
)
COMPARE_COUNTS = "diff live-counts.txt restored-counts.txt"
# Step 2: the schema and the enrolment invariants.
RESTORED_URL = 'RESTORED_URL="${DATABASE_URL%/*}/$RESTORE_DB"'
MIGRATE_CHECK = 'DATABASE_URL="$RESTORED_URL" .venv/bin/python manage.py migrate --check'
CHECK_ENROLMENT = 'DATABASE_URL="$RESTORED_URL" .venv/bin/python manage.py check_enrolment'
# Step 4.
DROP = 'dropdb "$RESTORE_DB"'

DOCUMENTED = [
    DUMP,
    READ_BACK,
    KEEP,
    CREATE,
    RESTORE,
    ROW_COUNTS,
    COUNT_LIVE,
    COUNT_RESTORED,
    COMPARE_COUNTS,
    RESTORED_URL,
    MIGRATE_CHECK,
    CHECK_ENROLMENT,
    DROP,
]

# Step 3, done in-process here instead of through a browser: /healthz, a login with password
# and authenticator code, the coordinators' queue, and a new submission (the restored
# sequences continue after the restored rows).
SIGN_IN_AND_SUBMIT = """
import json, sys
import django
django.setup()
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from recruitment.models import Study
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit

username, password = sys.argv[1:3]
client = Client()
health = client.get("/healthz")
login = client.post("/admin/login/", {"username": username, "password": password})
device = TOTPDevice.objects.get(user__username=username, confirmed=True)
code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
verified = client.post("/staff/2fa/verify/", {"token": code})
queue = client.get("/admin/recruitment/participant/")
new = submit(Study.objects.get(slug="ldn-mecfs"), answers=LDN_ELIGIBLE_ANSWERS,
             email="after.restore@example.com", first_name="After", phone="")
print(json.dumps({
    "healthz": [health.status_code, health.json()],
    "login": [login.status_code, login.get("Location")],
    "verified": [verified.status_code, verified.get("Location")],
    "queue": [queue.status_code, queue.content.decode()],
    "new": new.screening_number,
}))
"""

RECORD_TABLES = {
    "recruitment_participant",
    "recruitment_answer",
    "recruitment_criterionverdict",
    "recruitment_statuschange",
    "recruitment_consentrecord",
    "recruitment_contactattempt",
    "recruitment_enrolmentslot",
    "recruitment_historicalparticipant",
    "recruitment_historicalanswer",
    "recruitment_historicalconsentrecord",
    "auth_user",
    "otp_totp_totpdevice",
}


def seed() -> dict:
    """A small study with every kind of record, made through the services."""
    study = study_load_file(path=LDN_FILE).study
    # Straight from consent to enrollment, as the tests' LDN study (tests/conftest.py).
    study.run_in_days = 0
    study.save(update_fields=["run_in_days"])
    coordinator = staff("restore-coordinator", roles.COORDINATOR, study)
    # Signed in below by a process with the production settings, whose hashers do not read
    # the tests' fast one (tests/conftest.py): hashed as production hashes it.
    coordinator.password = make_password(PASSWORD, hasher="argon2")
    coordinator.save(update_fields=["password"])
    TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    statuses = [
        Status.ENROLLED,
        Status.COMPLETED,
        Status.WITHDRAWN,
        Status.CONSENTED,
        Status.ELIGIBLE,
        Status.INELIGIBLE,
        Status.DECLINED,
        Status.SCREENING,
        Status.NEW,
    ]
    people = {}
    for n, status in enumerate(statuses, start=1):
        participant = submit(
            study,
            answers=LDN_ELIGIBLE_ANSWERS,
            first_name=f"Restore{n}",
            email=f"restore{n}@example.com",
            phone=f"205-555-01{n:02d}",
        )
        if status in (Status.ENROLLED, Status.INELIGIBLE):
            lab_values_record(
                participant=participant,
                values={"hs-crp": 1.2 if status == Status.ENROLLED else 4.5, "esr": 12},
                by=coordinator,
                reason="Screening visit labs",
            )
        people[status] = walk(participant, status, by=coordinator)
    today = timezone.localdate()
    for outcome in ("voicemail", "no_answer"):
        contact_attempt_record(
            participant=people[Status.NEW],
            by=coordinator,
            method="phone",
            outcome=outcome,
            note=f"Attempt: {outcome}",
            follow_up_on=today + dt.timedelta(days=2),
        )
    participant_update(
        participant=people[Status.ELIGIBLE],
        data={"phone": "205-555-0199"},
        by=coordinator,
        reason="She called with a new number",
    )
    # Same email as the first: kept and linked as a possible duplicate.
    submit(study, answers=LDN_ELIGIBLE_ANSWERS, first_name="Restore1", email="restore1@example.com")
    return {"study": study, "coordinator": coordinator}


def pg_environment(db: dict, **variables: str) -> dict[str, str]:
    """libpq's variables for the test database, as the operator's shell would have them."""
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=production_secret_key(),
        PGDATABASE=db["NAME"],
        **variables,
    )
    for name, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if db.get(key):
            env[name] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def database_url(db: dict, name: str) -> str:
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{name}"


def sh(commands: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run documented commands, verbatim, in one shell that stops at the first failure."""
    script = "set -eu\n" + "\n".join(commands) + "\n"
    return subprocess.run(  # noqa: S603 (bash runs the documented commands)
        ["bash", "-c", script],  # noqa: S607
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def table_rows(dsn: dict) -> dict[str, list[tuple]]:
    """Every row of every table in the public schema, in a stable order."""
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        rows = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY "{table}"::text')  # noqa: S608
            rows[table] = cursor.fetchall()
    conn.close()
    return rows


def texts(rows: dict[str, list[tuple]], model: str) -> set[str]:
    """Every text value in a table's rows (reasons, notes)."""
    return {
        value for row in rows[f"recruitment_{model}"] for value in row if isinstance(value, str)
    }


def test_every_command_the_test_runs_is_in_the_operations_guide():
    text = OPERATIONS.read_text()

    missing = [command for command in DOCUMENTED if command not in text]

    assert missing == []


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_fresh_database_holds_the_same_records_and_passes_the_checks(
    tmp_path, collected_static
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: pg_dump and pg_restore (CI runs PostgreSQL too)")
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb", "psql"):
        assert shutil.which(tool), f"{tool} is needed (apt-get install postgresql-client)"
    seeded = seed()
    db = connection.settings_dict
    restore_db = f"{db['NAME']}_restored"
    backup_file = tmp_path / "ldn_trial.dump"
    env = pg_environment(
        db,
        BACKUP_FILE=str(backup_file),
        RESTORE_DB=restore_db,
        DATABASE_URL=database_url(db, db["NAME"]),
        ALLOWED_HOSTS="testserver",
        STATIC_ROOT=str(collected_static),  # the release step runs collectstatic too
        SECURE_SSL_REDIRECT="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    dsn = {
        key: value
        for key, value in {
            "host": db.get("HOST"),
            "port": db.get("PORT"),
            "user": db.get("USER"),
            "password": db.get("PASSWORD"),
        }.items()
        if value
    }
    connection.close()  # nothing of this test holds the database while it is dumped
    subprocess.run(["dropdb", "--if-exists", restore_db], env=env, check=True)  # noqa: S603,S607

    backup = sh([DUMP, READ_BACK, KEEP], env=env, cwd=tmp_path)
    assert backup.returncode == 0, backup.stderr
    assert backup_file.stat().st_size > 0
    assert not Path(f"{backup_file}.partial").exists()
    try:
        restore = sh([CREATE, RESTORE], env=env, cwd=tmp_path)
        assert restore.returncode == 0, restore.stderr

        # The same rows in every table: participants, answers, verdicts, status changes,
        # consent, contact attempts, slots, the audit history, staff and their devices.
        live = table_rows({**dsn, "dbname": db["NAME"]})
        restored = table_rows({**dsn, "dbname": restore_db})
        assert restored.keys() == live.keys()
        assert live.keys() >= RECORD_TABLES
        for table in sorted(live):
            assert restored[table] == live[table], table
        assert all(live[table] for table in RECORD_TABLES), "the seed left a table empty"
        assert len(live["recruitment_participant"]) == 10
        assert {"Walked to Withdrawn", "Walked to Declined"} <= texts(live, "statuschange")
        assert "She called with a new number" in texts(live, "historicalparticipant")
        assert "Screening visit labs" in texts(live, "historicalanswer")

        counts = sh([ROW_COUNTS, COUNT_LIVE, COUNT_RESTORED, COMPARE_COUNTS], env=env, cwd=tmp_path)
        assert counts.returncode == 0, counts.stdout + counts.stderr
        assert "recruitment_participant|10\n" in (tmp_path / "restored-counts.txt").read_text()

        gate = sh([RESTORED_URL, MIGRATE_CHECK, CHECK_ENROLMENT], env=env, cwd=ROOT)
        assert gate.returncode == 0, gate.stdout + gate.stderr
        assert gate.stdout.strip().endswith("ldn-mecfs: 3 of 20 enrolled, 17 free: OK")

        signed_in = subprocess.run(  # noqa: S603 (our own interpreter)
            [sys.executable, "-c", SIGN_IN_AND_SUBMIT, seeded["coordinator"].username, PASSWORD],
            cwd=ROOT,
            env={**env, "DATABASE_URL": database_url(db, restore_db)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert signed_in.returncode == 0, signed_in.stderr
        result = json.loads(signed_in.stdout)
        assert result["healthz"] == [200, {"status": "ok", "database": "ok"}]
        assert result["login"][0] == 302
        assert result["verified"][0] == 302
        assert '"event": "login_success"' in signed_in.stderr  # the JSON security event
        status, page = result["queue"]
        assert status == 200
        assert "LDN-S-0001" in page and "LDN-S-0010" in page
        assert result["new"] == "LDN-S-0011"
    finally:
        dropped = sh([DROP], env=env, cwd=tmp_path)
    assert dropped.returncode == 0, dropped.stderr
