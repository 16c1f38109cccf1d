"""The task settings come from the environment: the database queue unless TASKS_BACKEND says
rq (Redis at TASKS_REDIS_URL) or immediate; anything else refuses to start. `check --deploy`
warns when tasks would run in the web process with no retry."""

import pytest

from tests.test_settings import manage, production, read_settings, run


def test_the_database_queue_is_the_default_with_a_retry_schedule_and_a_smtp_timeout():
    assert read_settings(
        "TASKS", "EMAIL_RETRY_DELAYS", "EMAIL_TIMEOUT", "TASKS_MAX_WAIT_MINUTES", **production()
    ) == {
        "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        "EMAIL_RETRY_DELAYS": [60, 300, 1800, 7200, 21600, 43200],
        "EMAIL_TIMEOUT": 30,
        "TASKS_MAX_WAIT_MINUTES": 10,
    }


def test_rq_reads_its_redis_from_the_environment():
    found = read_settings(
        "TASKS",
        "RQ_QUEUES",
        "INSTALLED_APPS",
        **production(TASKS_BACKEND="rq", TASKS_REDIS_URL="redis://10.0.0.5:6379/3"),
    )

    assert found["TASKS"] == {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    assert found["RQ_QUEUES"]["default"]["URL"] == "redis://10.0.0.5:6379/3"
    assert {"django_rq", "django_tasks_rq"} <= set(found["INSTALLED_APPS"])


def test_retry_delays_are_read_as_seconds():
    found = read_settings("EMAIL_RETRY_DELAYS", **production(EMAIL_RETRY_DELAYS="30, 90,600"))

    assert found == {"EMAIL_RETRY_DELAYS": [30, 90, 600]}


def test_an_unknown_backend_refuses_to_start():
    result = run(["-c", "import django; django.setup()"], **production(TASKS_BACKEND="celery"))

    assert result.returncode != 0
    assert "TASKS_BACKEND must be one of database, rq, immediate." in result.stderr


@pytest.mark.parametrize(("backend", "warned"), [("", False), ("rq", False), ("immediate", True)])
def test_check_deploy_warns_when_emails_would_be_sent_from_the_request(backend, warned):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **production(TASKS_BACKEND=backend)
    )

    assert ("(recruitment.W002)" in result.stderr) is warned
    assert (result.returncode != 0) is warned, result.stderr
