# The script starts gunicorn with fixed arguments and fetches loopback URLs only.
# ruff: noqa: S603, S310
"""A new worker's first requests, with and without the warm-up at worker start.

    .venv/bin/python bench/cold_start.py [--rounds 3]

Recreates the throwaway database (BENCH_DB_NAME, as `make bench`), migrates it and loads the
LDN study; then, `--rounds` times each way (alternating), starts gunicorn with one sync worker
(gunicorn.conf.py; GUNICORN_WARM_UP=0 or 1), waits until the worker has booted (and warmed
up), and times its first GET of the interest form, its first POST of a valid form (a new
person; the ZIP lookup, validation and the submission), then the second of each. Prints the
median of each.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run  # noqa: E402 - sets the bench's settings and database first
from bench.interest_data import interest_fields  # noqa: E402

PORT = run.PORT + 7


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def timed(request: urllib.request.Request) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        with OPENER.open(request, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def form_body(n: int, csrf: str, issued: str) -> bytes:
    fields = {
        **interest_fields(
            first_name="Cold",
            last_name=f"Start{uuid.uuid4().hex[:8]}",
            email=f"cold{n}.{uuid.uuid4().hex[:8]}@example.org",
            phone=f"(659) 555-{n % 10000:04d}",
        ),
        "csrfmiddlewaretoken": csrf,
        "form_issued": issued,
    }
    return "&".join(
        f"{k}={urllib.request.quote(str(v), safe='')}" for k, v in fields.items()
    ).encode()


def one_worker(warm: bool, n: int, csrf: str, issued: str) -> dict[str, float]:
    log = Path(tempfile.gettempdir()) / f"ldn-cold-start-{PORT}.log"
    log.write_text("")
    env = {
        **os.environ,
        "GUNICORN_WARM_UP": "1" if warm else "0",
        "GUNICORN_LOG_LEVEL": "info",
        "CONN_MAX_AGE": "60",
        "RESERVE_FRAME_STACK": os.environ.get("RESERVE_FRAME_STACK", "1"),
    }
    cmd = [
        str(run.GUNICORN),
        "--config",
        str(run.ROOT / "gunicorn.conf.py"),
        "--bind",
        f"{run.HOST}:{PORT}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--error-logfile",
        str(log),
        "ldn_trial.wsgi:application",
    ]
    process = subprocess.Popen(cmd, cwd=run.ROOT, env=env, start_new_session=True)
    try:
        # Booted: the app is loaded (and warmed up) once the worker has logged it; a worker
        # without warm-up is given the time the warmed one took, and more.
        deadline = time.monotonic() + 120
        marker = "warmed up" if warm else "Booting worker"
        while marker not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5)
        base = f"http://{run.HOST}:{PORT}/studies/{run.SLUG}/interest/"
        headers = {"X-Forwarded-Proto": "https"}
        post_headers = {
            **headers,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Origin": f"https://{run.HOST}:{PORT}",
            "Referer": f"https://{run.HOST}:{PORT}/studies/{run.SLUG}/interest/",
        }
        times = {}
        for label in ("first", "second"):
            ms, status = timed(urllib.request.Request(base, headers=headers))
            assert status == 200, status
            times[f"{label} GET"] = ms
            request = urllib.request.Request(
                base,
                data=form_body(n, csrf, urllib.request.unquote(issued)),
                headers={**post_headers, "X-Forwarded-For": f"10.77.{n % 250}.{len(times)}"},
            )
            ms, status = timed(request)
            assert status == 302, status
            times[f"{label} POST"] = ms
        return times
    finally:
        run.os.killpg(process.pid, run.signal.SIGTERM)
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run.log(f"Recreating the database {run.DB_NAME}, migrating, loading the study")
    run.database_recreate()
    run.manage("migrate", "--noinput", "-v", "0")
    run.manage("collectstatic", "--noinput", "-v", "0")
    run.manage("load_study", "--create-only", f"recruitment/studies/{run.SLUG}.toml")
    csrf, issued = run.form_post_secrets()
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for n in range(args.rounds):
        for warm in (False, True):
            times = one_worker(warm, n * 2 + warm, csrf, issued)
            results[warm].append(times)
            run.log(
                f"warm-up {'on ' if warm else 'off'}: "
                + ", ".join(f"{k} {v:.0f} ms" for k, v in times.items())
            )
    print()
    print("| worker start | first GET | first POST | second GET | second POST |")
    print("| --- | --- | --- | --- | --- |")
    for warm in (False, True):
        medians = {k: statistics.median(t[k] for t in results[warm]) for k in results[warm][0]}
        print(
            f"| {'warm-up (post_worker_init)' if warm else 'no warm-up'} | "
            + " | ".join(
                f"{medians[k]:.0f} ms"
                for k in ("first GET", "first POST", "second GET", "second POST")
            )
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
