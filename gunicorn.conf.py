"""gunicorn's configuration for ldn-trial: production (docs/deploy.md) and `make serve`.

    gunicorn -c gunicorn.conf.py ldn_trial.wsgi

gunicorn also reads this file by itself when started from the project directory. Every value
can be changed from the environment (the variables below, set in the same environment file
as the app's) or on the command line, which wins over both (`--bind 127.0.0.1:8001`).

What is chosen, and why:
- workers: 2 x CPU cores + 1 (gunicorn's rule of thumb), threads: 2 per worker ("gthread").
  Each thread keeps its own PostgreSQL connection open (CONN_MAX_AGE, 60 s) and checks it
  before reuse (CONN_HEALTH_CHECKS), so the database sees up to workers x threads
  connections (10 on 2 cores); keep that under PostgreSQL's max_connections (100).
- timeout 30 s: a worker that stops answering gunicorn's heartbeat for that long is killed and
  replaced. With threads the heartbeat runs beside the requests, so a long export (a CSV of
  every participant, streamed) is not cut short; nginx's proxy_read_timeout bounds a request.
- graceful_timeout 30 s: on a restart (SIGHUP) or stop (SIGTERM, systemd) workers finish the
  requests in hand for up to this long; a patient sending the form is not cut off.
- max_requests 1000 with a jitter of 100: each worker is replaced after about 1,000 to 1,100
  requests, so a slow memory leak cannot grow without bound, and the workers never all
  restart at once.
- keepalive 5 s: how long an idle keep-alive connection from nginx stays open.
- no control socket (`gunicornc`): systemd's signals reload (HUP) and stop (TERM) it.
- each new worker loads the ZIP database, templates, translations and the interest form's
  fields before it takes its first request (post_worker_init, recruitment/intake/warmup.py);
  GUNICORN_WARM_UP=0 turns that off (the bench's cold-start measure compares both).
- bind: 127.0.0.1:8000 (only nginx on the same machine reaches it), or a Unix socket
  (GUNICORN_BIND=unix:/run/ldn-trial/gunicorn.sock).
- logs: gunicorn's error log and Django's log go to stderr, which systemd sends to journald.
  No access log by default: the patients' withdraw and resume links carry their token in the
  URL, and staff searches carry names in the query string. GUNICORN_ACCESS_LOG=- turns one on
  (to stderr); its lines then keep only the method, the path with every link token replaced
  by "[redacted]", no query string, no referrer and no user agent (TokenRedactingLogger).
  Do not ship any other web server access log that holds full URLs off the machine.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from accounts.log_filters import REDACTED, SIGNED_LINK


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = [os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"]
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 2)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# No control socket (gunicorn 24+ makes one in $HOME/.gunicorn by default): systemd's signals
# do the job (HUP reloads, TERM stops), and two gunicorns of one user would share its path.
control_socket_disable = True

# The proxies allowed to say the request came over HTTPS (X-Forwarded-Proto): nginx on this
# machine. Django trusts the header only with BEHIND_TLS_PROXY=1 (ldn_trial/settings.py).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs: stderr, for journald. Django's own log lines (ldn_trial/settings.py LOGGING) and the
# JSON security events go the same way.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "").strip() or None
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class TokenRedactingLogger(Logger):
    """An access log without credentials or personal data: patients' link tokens are blanked
    in the path (accounts/log_filters.py, the same rule as Django's log), and the query
    string, referrer, user agent and request headers are dropped."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = SIGNED_LINK.sub(REDACTED, environ.get("PATH_INFO", ""))
        atoms = {
            key: value
            for key, value in atoms.items()
            if not (key.startswith("{") and key.endswith("}i"))  # request headers
        }
        atoms.update(
            {
                "r": f"{environ['REQUEST_METHOD']} {path} {environ['SERVER_PROTOCOL']}",
                "U": path,
                "q": "",
                "f": "-",
                "a": "-",
                "h": "-",
            }
        )
        return atoms


logger_class = TokenRedactingLogger


def post_worker_init(worker) -> None:
    """The worker has loaded the app: load what its first request would otherwise wait for."""
    if os.environ.get("GUNICORN_WARM_UP", "1").strip().lower() in {"0", "false", "no", "off"}:
        return
    from django.db import connections

    from recruitment.intake.warmup import worker_warm_up

    seconds = worker_warm_up()
    # Requests run in other threads (gthread), each with its own connection: the warm-up's
    # would stay open unused.
    connections.close_all()
    worker.log.info("Worker %s warmed up in %.0f ms", worker.pid, seconds * 1000)
