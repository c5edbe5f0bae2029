"""Rendering many notes at once: ``render -j N`` spreads the notes over N worker processes.

The parent reads every note and answers what it can without the engine (no directive, only
mentions in code, a cached result: :func:`matdiff_tex.results.quick_result`); the rest go to
the workers.  Results come back in file order (``Executor.map``), so the output and the error
messages are exactly those of ``-j 1``.  Each worker's BLAS is held to one thread
(``OPENBLAS_NUM_THREADS`` and friends, set before numpy is imported in it; when the parent had
already loaded numpy, a forked worker inherits its pool, which threadpoolctl resizes to one thread):
N workers on N cores otherwise fight over the cores.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import InternalError, MatdiffError

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Task:
    """One note for the document layer."""

    text: str
    fmt: str
    path: str
    options: dict[str, Any]
    markers: bool
    force: bool
    strict: bool = False


#: What comes back for a note: its text, errors, warnings and notices.
Outcome = tuple[str, list[MatdiffError], list[MatdiffError], list[MatdiffError]]


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def render_all(tasks: list[Task], jobs: int, cache_dir: str | None) -> Iterator[Outcome]:
    """``(text, errors, warnings, notices)`` for every task, in order; ``jobs`` worker processes when more than one
    task needs the engine."""
    from .results import quick_result

    cache = _open(cache_dir)
    quick = [quick_result(t.text, t.fmt, path=t.path, options=t.options, markers=t.markers, force=t.force,
                          strict=t.strict, cache=cache) for t in tasks]
    pending = [task for task, result in zip(tasks, quick) if result is None]
    if jobs <= 1 or len(pending) <= 1:
        computed: Iterator[Outcome] = (_render(task, cache) for task in pending)
        pool = None
    else:
        for name in BLAS_THREADS:
            os.environ.setdefault(name, "1")
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        import multiprocessing  # here: a build with nothing to compute never starts a worker
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(min(jobs, len(pending)), mp_context=multiprocessing.get_context(method),
                                   initializer=_start_worker, initargs=(cache_dir,))
        computed = pool.map(_work, pending, chunksize=1)
    try:
        for result in quick:
            yield _outcome(result) if result is not None else next(computed)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if pending and cache is not None:
            cache.prune()


def _open(cache_dir: str | None) -> Any:
    from .cache import Cache

    return None if cache_dir is None else Cache(cache_dir)


_WORKER_CACHE: Any = None


def _start_worker(cache_dir: str | None) -> None:
    global _WORKER_CACHE
    _WORKER_CACHE = _open(cache_dir)
    if "numpy" in sys.modules:  # forked from a parent that had loaded numpy (MkDocs, a notebook, a
        # test): its BLAS read the variables long ago, so its pool is resized here
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # a declared dependency; without it the workers still run, only slower
            return
        threadpool_limits(1)


def blas_threads() -> list[int]:
    """The thread count of every BLAS/OpenMP pool loaded in this process (for tests and benchmarks)."""
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info()]


def _work(task: Task) -> Outcome:
    return _render(task, _WORKER_CACHE)


def _outcome(result: Any) -> Outcome:
    return result.text, list(result.errors), list(result.warnings), list(result.notices)


def _render(task: Task, cache: Any) -> Outcome:
    """One note through the document layer; a bug becomes an internal error of that note."""
    from .document import process_document

    try:
        result = process_document(task.text, task.fmt, path=task.path, options=task.options,
                                  markers=task.markers, force=task.force, strict=task.strict, cache=cache)
    except MatdiffError as error:
        return task.text, [error], [], []
    except Exception as exc:
        import traceback

        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
        return task.text, [InternalError(f"unexpected {type(exc).__name__}: {exc}\n{detail}", path=task.path)], [], []
    return _outcome(result)
