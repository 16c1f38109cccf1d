"""With RESERVE_FRAME_STACK=1, the WSGI entry point runs each request above a reserved chunk
of CPython's frame stack (ldn_trial/datastack.py). Measured with the process's minor page
faults: a call made at a chunk's edge maps a fresh chunk each time, and its first write
faults."""

import resource
import runpy

import pytest

from ldn_trial.datastack import reserve_data_stack

CALLS_AT_EACH_DEPTH = 200
# Deep enough to cross at least one 16 KiB chunk edge from wherever pytest already is.
DEPTHS = range(1, 400)


def _leaf(value):
    return value + 1


def _down(depth):
    if depth:
        return _down(depth - 1)
    total = 0
    for _ in range(CALLS_AT_EACH_DEPTH):
        total = _leaf(total)
    return total


def sweep_app(environ, start_response):
    """A WSGI application calling a small function many times at each depth in DEPTHS."""
    for depth in DEPTHS:
        _down(depth)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def faults_while_serving(application) -> int:
    statuses = []
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    body = application({}, lambda status, headers: statuses.append(status))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    assert (statuses, body) == (["200 OK"], [b"ok"])
    return after - before


def test_a_request_behind_the_reservation_crosses_no_chunk_edge():
    sweep_app({}, lambda *a: None)  # warm: specialised bytecode, caches
    plain = min(faults_while_serving(sweep_app) for _ in range(3))
    reserved = min(faults_while_serving(reserve_data_stack(sweep_app)) for _ in range(3))
    if plain < CALLS_AT_EACH_DEPTH:
        pytest.skip(f"this Python keeps a spare frame chunk ({plain} page faults without)")
    print(f"page faults: {plain} without the reservation, {reserved} behind it")
    assert reserved < CALLS_AT_EACH_DEPTH / 4, (plain, reserved)


def entry_point(monkeypatch, value: str | None):
    """The application ldn_trial/wsgi.py builds with RESERVE_FRAME_STACK set to `value`."""
    if value is None:
        monkeypatch.delenv("RESERVE_FRAME_STACK", raising=False)
    else:
        monkeypatch.setenv("RESERVE_FRAME_STACK", value)
    return runpy.run_module("ldn_trial.wsgi")["application"]


def test_the_entry_point_gunicorn_serves_is_plain_django_unless_the_operator_opts_in(monkeypatch):
    from django.core.handlers.wsgi import WSGIHandler

    assert isinstance(entry_point(monkeypatch, None), WSGIHandler)
    assert isinstance(entry_point(monkeypatch, "0"), WSGIHandler)


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_with_reserve_frame_stack_set_the_entry_point_runs_requests_above_the_reservation(
    monkeypatch, value
):
    from django.core.handlers.wsgi import WSGIHandler

    application = entry_point(monkeypatch, value)

    assert isinstance(application.__wrapped__, WSGIHandler)
    assert application.__code__ is reserve_data_stack(sweep_app).__code__
