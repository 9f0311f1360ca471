"""Progress bars that stay quiet when nobody is watching.

Bars go to stderr and only appear when stderr is a terminal, so pipes, log
files, notebooks and tests see nothing; ``--quiet`` turns them off too.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm

__all__ = ["progress", "steps", "showing"]


def showing(quiet: bool = False) -> bool:
    """Whether a bar would be drawn: stderr is a terminal and ``quiet`` is not set."""
    return not quiet and sys.stderr.isatty()


def progress(iterable=None, *, total=None, desc: str = "", quiet: bool = False, unit: str = "it"):
    """A tqdm bar over ``iterable`` on stderr, disabled unless :func:`showing`.

    Parameters
    ----------
    iterable : iterable, optional
    total : int, optional
        Number of items, when ``iterable`` has no length.
    desc : str
        Label in front of the bar.
    quiet : bool
        Never draw the bar.
    unit : str
        What one item is called (``"file"``, ``"segment"``).

    Returns
    -------
    tqdm.tqdm
        Iterate over it like ``iterable``; it vanishes when done.
    """
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not showing(quiet),
                file=sys.stderr, leave=False, dynamic_ncols=True)


@contextmanager
def steps(total: int, desc: str, quiet: bool = False):
    """A bar over named steps of one long job.

    Yields a function ``step(name)`` to call at the start of each step; the
    bar shows the step's name and how many steps are done.

    Examples
    --------
    >>> with steps(2, "apply") as step:
    ...     step("reading"); audio = vcfx.load(path)
    ...     step("processing"); out = chain(audio)
    """
    bar = progress(total=total, desc=desc, quiet=quiet, unit="step")
    started = False

    def step(name: str) -> None:
        nonlocal started
        if started:
            bar.update(1)
        started = True
        bar.set_postfix_str(name, refresh=True)

    try:
        yield step
    finally:
        bar.close()
