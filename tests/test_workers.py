"""Worker processes for bulk work (assistant/services/workers.py): forked maps that see
the parent's memory, their fallback when a worker dies, spans of equal work, and the
collector's threshold during bulk work."""

from __future__ import annotations

import gc
import os

import pytest

from assistant.services import workers
from assistant.services.workers import fewer_collections, forked_map, spans, worker_count

needs_fork = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="forked maps need fork (Linux, macOS)")


def _where_and_what(state, part):
    start, stop = part
    return os.getpid(), [state["values"][i] * 2 for i in range(start, stop)]


@needs_fork
def test_a_forked_map_runs_its_parts_in_other_processes_that_see_the_parents_memory():
    # Built here, after the test process started: a worker can only know it by inheriting it.
    state = {"values": list(range(1000))}
    parts = spans([1] * 1000, 2)
    seen = []
    results = forked_map(_where_and_what, state, parts, workers=2,
                         meanwhile=lambda: seen.append(os.getpid()))
    assert [values for _pid, values in results] == [[i * 2 for i in range(0, 500)],
                                                    [i * 2 for i in range(500, 1000)]]
    assert all(pid != os.getpid() for pid, _ in results)
    assert seen == [os.getpid()]  # the parent's own work ran once, here
    assert workers._STATE is None  # nothing of the state is kept after


def test_a_serial_map_gives_the_same_answer_in_this_process():
    state = {"values": list(range(10))}
    results = forked_map(_where_and_what, state, [(0, 4), (4, 10)], workers=0)
    assert results == [(os.getpid(), [0, 2, 4, 6]), (os.getpid(), [8, 10, 12, 14, 16, 18])]


def _dies_in_a_worker(state, part):
    if os.getpid() != state["parent"]:
        os._exit(3)  # killed for memory, say
    return part * 10


@needs_fork
def test_when_a_worker_dies_the_parts_are_computed_here_with_the_same_answer(caplog):
    ran = []
    results = forked_map(_dies_in_a_worker, {"parent": os.getpid()}, [1, 2, 3], workers=2,
                         meanwhile=lambda: ran.append("meanwhile"))
    assert results == [10, 20, 30]
    assert ran == ["meanwhile"]  # once, whichever way it went
    assert "computing in this process instead" in caplog.text


def test_spans_cover_every_item_once_in_order_with_about_equal_work():
    sizes = [5, 1, 1, 1, 1, 1, 10, 2, 2, 2, 2, 2, 1, 1]
    found = spans(sizes, 2)
    assert found[0][0] == 0 and found[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in zip(found, found[1:]))
    assert len(found) == 2
    work = [sum(sizes[a:b]) for a, b in found]
    assert max(work) - min(work) <= max(sizes)
    assert spans([], 2) == [] and spans([3], 4) == [(0, 1)]
    assert spans([1] * 9, 3) == [(0, 3), (3, 6), (6, 9)]


def test_bulk_work_collects_less_often_and_puts_the_threshold_back():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == workers.BULK_THRESHOLD
        assert gc.get_threshold()[0] > before[0]
    assert gc.get_threshold() == before


def test_worker_count_reads_the_environment_and_the_cpus(monkeypatch):
    monkeypatch.setenv("FOLLOWUP_SYNC_WORKERS", "0")
    assert worker_count() == 0
    monkeypatch.setenv("FOLLOWUP_SYNC_WORKERS", "3")
    assert worker_count() == 3 and worker_count(1) == 1
    monkeypatch.delenv("FOLLOWUP_SYNC_WORKERS")
    cpus = os.cpu_count() or 1
    assert worker_count() == (cpus if cpus > 1 else 0)
