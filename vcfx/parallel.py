"""How many threads an effect may use (all cores, unless the caller already runs one job per core), and a pool of them.

Effects and domains that parallelise internally ask :func:`threads`, or
run their pieces with :func:`thread_map`. Batch workers and streamed
chunks each run under :func:`single_threaded`, because they are the
parallelism there; ``VCFX_THREADS`` caps it for a whole program.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

__all__ = ["threads", "single_threaded", "thread_map"]

_local = threading.local()


def threads() -> int:
    """Threads the current job may use: 1 inside :func:`single_threaded`, else ``VCFX_THREADS`` or all cores."""
    if getattr(_local, "single", False):
        return 1
    try:
        limit = int(os.environ.get("VCFX_THREADS", "0"))
    except ValueError:
        limit = 0
    return max(1, limit or os.cpu_count() or 1)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Within the block (in this thread), effects run on one thread."""
    previous = getattr(_local, "single", False)
    _local.single = True
    try:
        yield
    finally:
        _local.single = previous


_EXECUTORS: dict[int, ThreadPoolExecutor] = {}


def thread_map(fn: Callable[..., Any], *iterables: Iterable) -> list:
    """``list(map(fn, *iterables))``, on :func:`threads` threads when there are several items.

    The threads are shared by everything that calls it and started on
    first use. Work that releases the GIL (pyworld, NumPy's FFTs and large
    array operations) runs on all of them at once. Called from one of
    these threads (an ``fn`` that calls it again), it runs serially there.

    Examples
    --------
    >>> import vcfx
    >>> vcfx.thread_map(lambda a, b: a * b, [1, 2, 3], [4, 5, 6])
    [4, 10, 18]
    """
    items = list(zip(*iterables))
    size = threads()
    if len(items) < 2 or size < 2 or getattr(_local, "worker", False):
        return [fn(*args) for args in items]
    if size not in _EXECUTORS:
        _EXECUTORS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="vcfx", initializer=_mark_worker)
    return list(_EXECUTORS[size].map(fn, *zip(*items)))


def _mark_worker() -> None:
    _local.worker = True


def _forget_executors() -> None:
    """A forked child (a process pool's worker) has none of the parent's threads: start afresh."""
    _EXECUTORS.clear()


os.register_at_fork(after_in_child=_forget_executors)
