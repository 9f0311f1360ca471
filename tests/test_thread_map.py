"""vcfx.thread_map: map on the shared threads, in order, on one thread where the caller asks for one."""

import threading

import vcfx
from vcfx.parallel import single_threaded


def test_results_come_in_order_from_several_threads(monkeypatch):
    monkeypatch.setenv("VCFX_THREADS", "2")
    barrier = threading.Barrier(2, timeout=10)

    def work(i):
        barrier.wait()  # returns only when two items run at the same time
        return i, threading.current_thread().name

    results = vcfx.thread_map(work, range(2))
    assert [i for i, _ in results] == [0, 1]
    assert len({name for _, name in results}) == 2 and all(name.startswith("vcfx_") for _, name in results)


def test_inside_single_threaded_everything_runs_on_the_callers_thread(monkeypatch):
    monkeypatch.setenv("VCFX_THREADS", "4")
    with single_threaded():
        names = vcfx.thread_map(lambda _: threading.current_thread().name, range(5))
    assert names == [threading.current_thread().name] * 5


def test_several_iterables_are_zipped_like_map():
    assert vcfx.thread_map(lambda a, b: a - b, [5, 7, 9], [1, 2, 3]) == [4, 5, 6]
    assert vcfx.thread_map(lambda a: a, []) == []


def test_a_call_from_inside_runs_serially_on_that_thread(monkeypatch):
    monkeypatch.setenv("VCFX_THREADS", "2")

    def outer(i):
        here = threading.current_thread().name
        return all(name == here for name in vcfx.thread_map(lambda _: threading.current_thread().name, range(4)))

    assert vcfx.thread_map(outer, range(4)) == [True] * 4  # and no deadlock with both threads busy
