"""Worker processes for bulk work: how many, how they start, and work mapped over them.

Two jobs use them: a large sync parses batches in workers while the main process writes
(:mod:`assistant.services.ingest`), and a rebuild of the read model computes its threads'
reports in forked workers that see the threads already built (:func:`forked_map`, used
by :mod:`assistant.services.snapshot`). Both run only pure computation there: no
database, no network, no logging.

``$FOLLOWUP_SYNC_WORKERS`` sets how many (``0``: none, everything in one process); by
default one per CPU, none on a single CPU (there is nothing to overlap).

Bulk work also runs with fewer garbage collections (:func:`fewer_collections`): a sync
from empty or a rebuild allocates hundreds of thousands of objects that live to its end
(parsed rows, every stored message, every thread), and CPython's collector walks every
live object at each full collection: on a 100,000-message sync, a tenth of the parsing
time. Nothing here makes cycles the collector must find quickly, so the first
generation's threshold is raised for the length of the work, then put back. A worker
also leaves everything it inherited out of its collections (``gc.freeze``): touching
those objects' headers would copy their memory pages (Python's documentation of
``gc.freeze``).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")

BULK_THRESHOLD = (20_000, 20, 20)
"""Collections during bulk work: the first generation every 20,000 net allocations (the
default is 700), each older one every 20 collections of the one below (default 10)."""


def worker_count(workers: int | None = None) -> int:
    """``workers`` if given, else ``$FOLLOWUP_SYNC_WORKERS``, else one per CPU (none on a
    single CPU)."""
    if workers is not None:
        return max(0, workers)
    override = os.environ.get("FOLLOWUP_SYNC_WORKERS", "").strip()
    if override.isdigit():
        return int(override)
    cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0


def mp_context():
    """fork where there is one (cheap on Linux, and the workers see the parent's memory);
    elsewhere the platform's default (spawn)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def start_worker(parent: int) -> None:
    """A worker's initializer: it never outlives the process that started it, and it
    leaves what it inherited out of its garbage collections.

    A ``kill -9`` of sync gives its workers no goodbye: blocked on their task queue, they
    would wait for ever. On Linux the kernel kills them with their parent
    (``PR_SET_PDEATHSIG``); elsewhere, and for a parent that died before that was set, a
    watcher thread sees the parent change and exits."""
    gc.freeze()
    gc.set_threshold(*BULK_THRESHOLD)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="followup-parent-watch").start()


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` started with :func:`start_worker`."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp_context(),
                               initializer=start_worker, initargs=(os.getpid(),))


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Bulk work: the collector runs on :data:`BULK_THRESHOLD`, then as it was."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


_STATE: Any = None
"""What :func:`forked_map`'s workers read: set before they are forked, so they see it
without it being copied to them."""


def can_fork() -> bool:
    """Forking is possible, and safe: no other thread of this process could be holding a
    lock the child would then wait on for ever (a web server's, a scheduler's)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def forked_map(function: Callable[[Any, P], R], state: Any, parts: Sequence[P], *,
               workers: int, meanwhile: Callable[[], None] | None = None) -> list[R]:
    """``[function(state, part) for part in parts]``, the parts spread over ``workers``
    forked processes that inherit ``state`` as it is in memory now (nothing of it is
    copied to them; only the parts and the results travel). ``meanwhile()`` runs here
    while they compute (before them when serial). Serial when ``workers`` is 0, there is
    one part, or this platform cannot fork; serial again, with a log line, when a worker
    dies (killed for memory, say): the answer is the same either way. ``function`` must
    not change ``state``: in workers its changes would be lost."""
    serial = workers < 1 or len(parts) < 2 or "fork" not in multiprocessing.get_all_start_methods()
    if serial:
        if meanwhile is not None:
            meanwhile()
        return [function(state, part) for part in parts]
    global _STATE
    _STATE = state
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(parts)),
                                 mp_context=multiprocessing.get_context("fork"),
                                 initializer=start_worker, initargs=(os.getpid(),)) as executor:
            futures = [executor.submit(_call, function, part) for part in parts]  # forks now
            _STATE = None  # the workers have their copy
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
            return [future.result() for future in futures]
    except BrokenProcessPool as exc:
        log.warning("a worker process died (%s); computing in this process instead", exc)
        if meanwhile is not None:
            meanwhile()
        return [function(state, part) for part in parts]
    finally:
        _STATE = None


def _call(function: Callable[[Any, P], R], part: P) -> R:
    return function(_STATE, part)


def spans(sizes: Sequence[int], count: int) -> list[tuple[int, int]]:
    """``count`` contiguous ``(start, stop)`` ranges over ``len(sizes)`` items, each of
    about the same total size (the last ones may be empty and are left out)."""
    total = sum(sizes)
    out: list[tuple[int, int]] = []
    start, acc = 0, 0
    for index, size in enumerate(sizes):
        acc += size
        if len(out) < count - 1 and acc * count >= total * (len(out) + 1):
            out.append((start, index + 1))
            start = index + 1
    if start < len(sizes):
        out.append((start, len(sizes)))
    return out
