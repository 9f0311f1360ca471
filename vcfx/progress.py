"""Progress bars that stay quiet when nobody is watching."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(iterable=None, *, total=None, desc: str = "", quiet: bool = False, unit: str = "it"):
    """A tqdm bar on stderr, disabled when stderr is not a terminal or ``quiet`` is set."""
    disable = quiet or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, leave=False)
