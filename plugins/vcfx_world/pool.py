"""Threads for WORLD work: pyworld releases the GIL, so channels and blocks run on all cores."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import vcfx

_EXECUTORS: dict[int, ThreadPoolExecutor] = {}


def _executor(size: int) -> ThreadPoolExecutor:
    """WORLD threads, ``size`` of them, started on first use."""
    if size not in _EXECUTORS:
        _EXECUTORS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="vcfx-world")
    return _EXECUTORS[size]


def pool_map(fn, *iterables) -> list:
    """``list(map(fn, ...))``, on :func:`vcfx.threads` WORLD threads when there are several items."""
    items = list(zip(*iterables))
    size = vcfx.threads()
    if len(items) < 2 or size < 2:
        return [fn(*args) for args in items]
    return list(_executor(size).map(fn, *zip(*items)))


def _forget_executors() -> None:
    """A forked child (a process pool's worker) has none of the parent's threads: start afresh."""
    _EXECUTORS.clear()


os.register_at_fork(after_in_child=_forget_executors)
