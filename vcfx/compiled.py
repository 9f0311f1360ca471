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
import types
from typing import Any, Callable

__all__ = ["compiled"]

_compiling = threading.RLock()


def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (plain Python over NumPy arrays and numbers) compiled by numba on its first call.

    Parameters
    ----------
    fn : callable
        A function numba's ``njit`` compiles: loops over arrays, no Python
        objects. It may call other functions marked :func:`compiled`.
        Called with arrays of one dtype and layout, it is compiled once;
        each new combination compiles again.

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
    made = []

    def machine_code() -> Any:
        if not made:
            with _compiling:
                if not made:
                    made.append(_compile(fn))
        return made[0]

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        return machine_code()(*args)

    call.machine_code = machine_code
    return call


def _compile(fn: Callable[..., Any]) -> Any:
    """numba's dispatcher of ``fn``, which sees the compiled functions it calls as theirs."""
    import numba

    names = dict(fn.__globals__)
    for name in fn.__code__.co_names:
        if hasattr(names.get(name), "machine_code"):
            names[name] = names[name].machine_code()
    target = types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)
    target.__qualname__ = fn.__qualname__
    on_disk = os.path.isfile(fn.__code__.co_filename)  # not typed in at a prompt
    return numba.njit(cache=on_disk, nogil=True)(target)
