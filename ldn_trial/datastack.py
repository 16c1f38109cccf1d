"""Run each request above a reserved stretch of CPython's frame stack: opt-in, off by default.

Served only with RESERVE_FRAME_STACK=1 (ldn_trial/wsgi.py, docs/deploy.md), for a Python
3.11 or 3.12 where the queue pages turn out slow under gunicorn. Delete this module, the switch
in ldn_trial/wsgi.py and tests/ for it once production runs a Python with the fix of
python/cpython#142183 (merged for 3.14 and backported to 3.13; 3.11 and 3.12 take security
fixes only and will not get it).

CPython 3.11 keeps Python frames in 16 KiB chunks and frees a chunk as soon as its last frame
returns. A loop that calls a function right at a chunk's edge therefore allocates and frees a
chunk (mmap, munmap, page faults) on every call: python/cpython#142183, fixed by caching a
spare chunk in later releases only. Where the edge falls depends on how deep the request
already is, so which page suffers is a matter of luck, and any change to the code may move
it. What it cost the staff queue under gunicorn, with and without this module, is in
bench/README.md ("The frame-stack switch").

`reserve_data_stack` calls the application from a function whose frame claims
RESERVED_SLOTS stack slots. CPython then gives that frame a chunk of its own, twice as large,
and every frame the request opens fits in the other half: no edge is crossed while the
request runs. The reserved slots are never written, so the kernel never backs them with
memory; the cost is one mmap and one munmap a request.

A streamed body (the screening-log CSV) is iterated by gunicorn after the application has
returned, outside the reservation.
"""

import functools

# 32,768 slots of 8 bytes: CPython allocates a 512 KiB chunk, which leaves about 256 KiB
# (32,000 slots) for the request's frames; a page of the staff queue needs about a tenth.
RESERVED_SLOTS = 32_768


def _call(function, *args):
    return function(*args)


_call.__code__ = _call.__code__.replace(co_stacksize=RESERVED_SLOTS)


def reserve_data_stack(application):
    """A WSGI application that runs `application` from the reserved frame of `_call`."""

    @functools.wraps(application)
    def reserved(environ, start_response):
        return _call(application, environ, start_response)

    return reserved
