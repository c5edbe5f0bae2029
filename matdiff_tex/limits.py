"""A time limit per directive, so one expensive directive cannot stall a build.

:func:`time_limit` arms a CPU-time timer (``ITIMER_PROF``: user and system time of the process, so a
machine busy with other work does not make a directive fail) for the directive being expanded;
when it fires, :class:`DirectiveTimeout` (a ``BaseException``, so no ``except Exception`` inside the engine or
sympy swallows it) unwinds the derivation and the document layer reports a located error and goes
on with the next directive.  The limit is ``MATDIFF_TEX_TIME_LIMIT`` seconds of CPU time (default 10; 0
turns it off; ``render --time-limit`` sets it).  It applies in the main thread of a process on systems
with ``setitimer`` (every ``-j`` worker is one), and steps aside when a timer is already running (a
test runner's own timeout).  Memory is bounded separately: the numeric checks size their test
matrices to a budget (:mod:`matdiff_tex.check.budget`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

ENV = "MATDIFF_TEX_TIME_LIMIT"
DEFAULT_SECONDS = 10.0


class DirectiveTimeout(BaseException):
    """Raised inside a directive's expansion when its time is up."""


def seconds() -> float:
    """The time limit per directive in seconds (0: none)."""
    try:
        value = float(os.environ.get(ENV, DEFAULT_SECONDS))
    except ValueError:
        return DEFAULT_SECONDS
    return max(value, 0.0)


def _on_alarm(signum: int, frame: object) -> None:
    raise DirectiveTimeout()


@contextlib.contextmanager
def time_limit(limit: float | None = None) -> Iterator[None]:
    """Raise :class:`DirectiveTimeout` in the block after ``limit`` seconds of CPU time (default
    :func:`seconds`)."""
    limit = seconds() if limit is None else limit
    usable = (
        limit > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_PROF)[0] == 0
    )
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
