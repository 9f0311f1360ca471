"""How many threads an effect may use: all cores, unless the caller already runs one job per core.

Effects and domains that parallelise internally ask :func:`threads`. Batch
workers and streamed chunks each run under :func:`single_threaded`, because
they are the parallelism there; ``VCFX_THREADS`` caps it for a whole program.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["threads", "single_threaded"]

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
