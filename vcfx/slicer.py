"""The Slicer base class: what a plugin implements to cut audio into segments.

:func:`vcfx.slice_audio` runs a slicer, cuts the audio at the spans it finds
and applies an optional chain to each piece.
"""

from __future__ import annotations

from typing import ClassVar

from .audio import Audio
from .effect import Configurable

__all__ = ["Slicer"]


class Slicer(Configurable):
    """Base class of every slicer.

    A subclass sets :attr:`name`, declares :attr:`params` (each a
    :class:`vcfx.Param`, validated on construction and on every assignment,
    exactly as for effects) and implements :meth:`find`. Plugins register
    slicers through the ``register_slicers(register)`` hook.

    Examples
    --------
    >>> class Halves(vcfx.Slicer):
    ...     name = "halves"
    ...     def find(self, audio):
    ...         mid = audio.frames // 2
    ...         return [(0, mid), (mid, audio.frames)]
    """

    _noun: ClassVar[str] = "slicer"

    def find(self, audio: Audio) -> list[tuple[int, int]]:
        """Spans of ``audio`` to cut out.

        Parameters
        ----------
        audio : Audio
            Any channel count and supported sample rate.

        Returns
        -------
        list of (int, int)
            ``(start_frame, end_frame)`` pairs, end exclusive, in order,
            non-empty and not overlapping, within ``[0, audio.frames]``.
            Gaps are allowed (a slicer may leave out silence).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement find(audio)")
