"""Threads for WORLD work: pyworld releases the GIL, so channels and blocks run on all cores."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from vcfx.parallel import threads

_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    """The WORLD threads, one per core, started on first use."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="vcfx-world")
    return _EXECUTOR


def pool_map(fn, *iterables) -> list:
    """``list(map(fn, ...))``, on the WORLD threads when there is more than one item and more than one thread."""
    items = list(zip(*iterables))
    if len(items) < 2 or threads() < 2:
        return [fn(*args) for args in items]
    return list(_executor().map(fn, *zip(*items)))


def _forget_executor() -> None:
    """A forked child (a process pool's worker) has none of the parent's threads: start afresh."""
    global _EXECUTOR
    _EXECUTOR = None


os.register_at_fork(after_in_child=_forget_executor)
