"""Loops compiled to machine code by numba, for the few that NumPy cannot run without many passes over memory.

An effect or domain marks such a loop with :func:`compiled`. numba
compiles it on its first call in a process, not on import (importing
numba takes a few tenths of a second that a program without such loops
should not pay), and keeps the machine code on disk beside the module,
so later processes load it in milliseconds. The compiled loop runs
without the interpreter lock, so :func:`vcfx.thread_map` runs copies of
it on all cores at once.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any, Callable

__all__ = ["compiled"]

_compiling = threading.Lock()


def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (plain Python over NumPy arrays and numbers) compiled by numba on its first call.

    Parameters
    ----------
    fn : callable
        A function numba's ``njit`` compiles: loops over arrays, no Python
        objects. Called with arrays of one dtype and layout, it is compiled
        once; each new combination compiles again.

    Returns
    -------
    callable
        The same function, run as machine code without the interpreter lock.

    Examples
    --------
    >>> import numpy as np
    >>> import vcfx
    >>> @vcfx.compiled
    ... def total(x):
    ...     s = 0.0
    ...     for v in x:
    ...         s += v
    ...     return s
    >>> total(np.arange(4.0))
    6.0
    """
    machine_code = None

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        nonlocal machine_code
        if machine_code is None:
            with _compiling:
                if machine_code is None:
                    import numba

                    on_disk = os.path.isfile(fn.__code__.co_filename)  # not typed in at a prompt
                    machine_code = numba.njit(cache=on_disk, nogil=True)(fn)
        return machine_code(*args)

    return call
