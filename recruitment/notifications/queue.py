"""Is the task queue draining? What `manage.py check_tasks` reports: due tasks that wait too
long (no worker, or one that cannot keep up), tasks left running by a killed worker, emails
given up, and interest forms sent but not taken in (recruitment/intake/inbox.py). Reads only
the queue and the sent forms: one query each, whatever their length."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.base import TaskResultStatus

WAITING = "{count} task(s) due and waiting, the oldest for {minutes} minutes: is a worker running?"
STUCK = "{count} task(s) running for over {minutes} minutes: their worker was probably killed"
FAILED = (
    "{count} task(s) failed in the last {hours} hours (emails given up, or interest forms not "
    "taken in)"
)
SENT_FORMS_WAITING = (
    "{count} interest form(s) sent and not taken in, the oldest for {minutes} minutes: is a "
    "worker running? (`manage.py take_in_sent_forms` takes them in)"
)


@dataclass(frozen=True)
class QueueHealth:
    backend: str
    due: int = 0
    oldest_due_minutes: int = 0
    scheduled: int = 0
    running: int = 0
    stuck: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    # Interest forms sent and not taken in yet, and how long the oldest has waited.
    sent_forms: int = 0
    oldest_sent_form_minutes: int = 0


def queue_health(
    *,
    now: datetime | None = None,
    max_wait_minutes: int | None = None,
    stuck_minutes: int | None = None,
    failed_hours: int = 24,
) -> QueueHealth:
    """The queue of the default task backend, judged against the limits (TASKS_MAX_WAIT_MINUTES
    and TASKS_STUCK_MINUTES unless given)."""
    now = now or timezone.now()
    max_wait = settings.TASKS_MAX_WAIT_MINUTES if max_wait_minutes is None else max_wait_minutes
    stuck_after = settings.TASKS_STUCK_MINUTES if stuck_minutes is None else stuck_minutes
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    name = type(backend).__name__
    if name == "DatabaseBackend":
        health = _database_health(backend, now, max_wait, stuck_after, failed_hours)
    elif name == "RQBackend":
        health = _rq_health(backend, now, max_wait)
    else:
        # The immediate backend runs each task as it is enqueued: no queue to fall behind.
        health = QueueHealth(backend=name)
    return _with_sent_forms(health, now, max_wait)


def _with_sent_forms(health: QueueHealth, now: datetime, max_wait: int) -> QueueHealth:
    """`health` with the interest forms waiting to be taken in: a problem once the oldest has
    waited `max_wait` minutes (its task failed, or no worker runs)."""
    from recruitment.models import SentForm

    waiting = SentForm.objects.waiting().aggregate(count=Count("id"), oldest=Min("sent_at"))
    count, oldest = waiting["count"], waiting["oldest"]
    minutes = int((now - oldest).total_seconds() // 60) if oldest is not None else 0
    problems = list(health.problems)
    if count and minutes >= max_wait:
        problems.append(SENT_FORMS_WAITING.format(count=count, minutes=minutes))
    return replace(health, sent_forms=count, oldest_sent_form_minutes=minutes, problems=problems)


def _database_health(backend, now, max_wait, stuck_after, failed_hours) -> QueueHealth:
    from django_tasks_db.models import DBTaskResult, get_date_max

    never = get_date_max()  # the run_after of a task enqueued without a delay
    ready, running = Q(status=TaskResultStatus.READY), Q(status=TaskResultStatus.RUNNING)
    # Due: enqueued without a delay (due from its enqueueing), or deferred to a time now past.
    undelayed, delayed_due = ready & Q(run_after=never), ready & Q(run_after__lte=now)
    facts = DBTaskResult.objects.filter(backend_name=backend.alias).aggregate(
        undelayed=Count("id", filter=undelayed),
        delayed_due=Count("id", filter=delayed_due),
        first_undelayed=Min("enqueued_at", filter=undelayed),
        first_delayed=Min("run_after", filter=delayed_due),
        scheduled=Count("id", filter=ready & Q(run_after__gt=now) & ~Q(run_after=never)),
        running=Count("id", filter=running),
        stuck=Count("id", filter=running & Q(started_at__lt=now - timedelta(minutes=stuck_after))),
        failed=Count(
            "id",
            filter=Q(status=TaskResultStatus.FAILED)
            & Q(finished_at__gte=now - timedelta(hours=failed_hours)),
        ),
    )
    due = facts["undelayed"] + facts["delayed_due"]
    oldest = [t for t in (facts["first_undelayed"], facts["first_delayed"]) if t is not None]
    oldest_minutes = int((now - min(oldest)).total_seconds() // 60) if oldest else 0
    stuck, failed = facts["stuck"], facts["failed"]
    problems = []
    if due and oldest_minutes >= max_wait:
        problems.append(WAITING.format(count=due, minutes=oldest_minutes))
    if stuck:
        problems.append(STUCK.format(count=stuck, minutes=stuck_after))
    if failed:
        problems.append(FAILED.format(count=failed, hours=failed_hours))
    return QueueHealth(
        backend="database",
        due=due,
        oldest_due_minutes=oldest_minutes,
        scheduled=facts["scheduled"],
        running=facts["running"],
        stuck=stuck,
        failed=failed,
        problems=problems,
    )


def _rq_health(backend, now, max_wait) -> QueueHealth:
    import django_rq

    problems = []
    due = oldest_minutes = failed = scheduled = running = 0
    for queue_name in sorted(backend.queues):
        queue = django_rq.get_queue(queue_name)
        due += queue.count
        first = queue.get_jobs(0, 0)
        if first and first[0].enqueued_at:
            enqueued = first[0].enqueued_at
            if timezone.is_naive(enqueued):
                enqueued = enqueued.replace(tzinfo=UTC)
            oldest_minutes = max(oldest_minutes, int((now - enqueued).total_seconds() // 60))
        scheduled += queue.scheduled_job_registry.count
        running += queue.started_job_registry.count
        failed += queue.failed_job_registry.count
    if due and oldest_minutes >= max_wait:
        problems.append(WAITING.format(count=due, minutes=oldest_minutes))
    if failed:
        problems.append(f"{failed} task(s) in RQ's failed registry (emails given up)")
    return QueueHealth(
        backend="rq",
        due=due,
        oldest_due_minutes=oldest_minutes,
        scheduled=scheduled,
        running=running,
        failed=failed,
        problems=problems,
    )
