"""Cutting audio into segments (syllables, notes, phrases) with slicers from plugins.

A :class:`Slicer` declares its parameters like an :class:`vcfx.Effect` and
finds ``(start_frame, end_frame)`` spans; the host cuts the audio, applies an
optional chain to each piece and writes the pieces out::

    >>> import vcfx
    >>> segments = vcfx.slice_onsets(vcfx.example_voice(), min_segment_ms=80)
    >>> vcfx.write_segments(segments, "syllables")
"""

from __future__ import annotations

import csv
import operator
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .audio import Audio
from .effect import Configurable, Effect
from .errors import AudioError, EffectError, ParameterError, VcfxError
from .files import atomic_path, write_audio

__all__ = ["Slicer", "Segment", "slice_audio", "slice_onsets", "write_segments"]


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

    def __call__(self, audio: Audio, chain=None) -> list["Segment"]:
        """Cut ``audio`` into :class:`Segment` objects; see :func:`slice_audio`."""
        return slice_audio(audio, self, chain=chain)


@dataclass(frozen=True)
class Segment:
    """One piece of a sliced recording.

    Attributes
    ----------
    index : int
        Position in the list, from 0.
    start_s, end_s : float
        Where the piece lies in the input, in seconds (``frame / sample_rate``).
        Consecutive pieces from a gap-free slicer share the boundary value
        exactly.
    audio : Audio
        The samples of that span, every channel; after a chain, the chain's
        output (which may be longer or shorter than ``end_s - start_s``).
    """

    index: int
    start_s: float
    end_s: float
    audio: Audio


def _spans(who: str, found: Any, frames: int) -> list[tuple[int, int]]:
    """Check a slicer's output against the :meth:`Slicer.find` contract."""
    try:
        spans = [(operator.index(a), operator.index(b)) for a, b in found]
    except (TypeError, ValueError):
        shown = repr(found)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise EffectError(f"{who} returned {shown}; expected a list of (start_frame, end_frame) integers") from None
    previous_end = 0
    for start, end in spans:
        if not previous_end <= start < end <= frames:
            raise EffectError(
                f"{who} returned the span ({start}, {end}) after one ending at {previous_end}; spans must be "
                f"non-empty, in order, not overlapping and within [0, {frames}] frames"
            )
        previous_end = end
    return spans


def slice_audio(audio: Audio, slicer: str | Slicer = "onsets", chain=None, **params: Any) -> list[Segment]:
    """Cut ``audio`` into segments with a registered slicer, optionally processing each.

    Parameters
    ----------
    audio : Audio
    slicer : str or Slicer
        Registered slicer name (see :func:`vcfx.slicers`) or a slicer object.
    chain : Chain or Effect, optional
        Applied to every segment separately. Segment ``i`` gets its own random
        generator spawned from the chain's seed, so the same seed gives the
        same output and segments do not share noise.
    **params
        Slicer parameters, e.g. ``min_segment_ms=80``; only with a name.

    Returns
    -------
    list of Segment

    Raises
    ------
    PluginError
        No slicer has that name.
    ParameterError
        A parameter is unknown or out of range.
    EffectError
        The slicer failed or broke the :meth:`Slicer.find` contract.
    """
    from .chain import Chain, _blame
    from .plugins import slicer as make_slicer

    if not isinstance(audio, Audio):
        raise AudioError(
            f"slicing takes vcfx.Audio, got {type(audio).__name__}; "
            "wrap arrays with vcfx.Audio.from_array(array, sample_rate)"
        )
    if isinstance(slicer, Slicer):
        if params:
            raise ParameterError(
                f"parameters {', '.join(sorted(params))} go with a slicer name; "
                f"set them on the {type(slicer).__name__} object instead"
            )
    elif isinstance(slicer, str):
        slicer = make_slicer(slicer, **params)
    else:
        raise ParameterError(f"slicer={slicer!r} is neither a slicer name nor a vcfx.Slicer")
    if chain is not None and not isinstance(chain, Effect):
        raise ParameterError(f"chain={chain!r} is not a vcfx.Chain or vcfx.Effect")
    if chain is not None and not isinstance(chain, Chain):
        chain = Chain([chain])

    who = f'slicer "{slicer.name}"'
    with _blame(who):
        found = slicer.find(audio)
    spans = _spans(who, found, audio.frames)
    seeds = np.random.SeedSequence(None if chain is None else chain.seed).spawn(len(spans))
    segments = []
    for i, ((start, end), seed) in enumerate(zip(spans, seeds)):
        piece = audio.replace(samples=audio.samples[:, start:end])
        start_s, end_s = start / audio.sample_rate, end / audio.sample_rate
        if chain is not None:
            try:
                piece = chain(piece, seed=seed)
            except VcfxError as exc:
                raise type(exc)(f"segment {i} ({start_s:.3f}-{end_s:.3f} s): {exc}") from exc
        segments.append(Segment(i, start_s, end_s, piece))
    return segments


def slice_onsets(audio: Audio, chain=None, **params: Any) -> list[Segment]:
    """Cut ``audio`` at detected onsets (roughly one segment per syllable).

    ``slice_audio(audio, "onsets", chain, **params)``: the ``"onsets"``
    slicer comes from a plugin; a :class:`vcfx.PluginError` says so when it
    is missing. See ``vcfx.slicer("onsets")`` for its parameters.
    """
    return slice_audio(audio, "onsets", chain=chain, **params)


def write_segments(
    segments: list[Segment], outdir: str | os.PathLike, stem: str = "segment", subtype: str | None = None
) -> list[Path]:
    """Write each segment to ``outdir/<stem>_<index>.wav`` and list them in ``outdir/<stem>.csv``.

    Every file is written atomically (complete or absent). The CSV, with
    columns ``index,start_s,end_s,path`` (``path`` relative to ``outdir``),
    is written last, so its presence means every segment file is complete.
    Files from an earlier run with more segments are left in place.

    Parameters
    ----------
    segments : list of Segment
        As returned by :func:`slice_audio`.
    outdir : str or path-like
        An existing, writable folder.
    stem : str
        File name prefix; a plain name without folders.
    subtype : str, optional
        soundfile subtype such as ``"PCM_16"`` or ``"FLOAT"``; see
        :meth:`vcfx.Audio.save`.

    Returns
    -------
    list of pathlib.Path
        The segment files, in segment order (the CSV is ``outdir/<stem>.csv``).

    Raises
    ------
    AudioError
        ``outdir`` is missing, not a folder or not writable, or a segment
        cannot be written (for example it would clip in a PCM subtype).
    """
    outdir = Path(outdir)
    if not outdir.is_dir():
        what = "is not a folder" if outdir.exists() else "does not exist"
        raise AudioError(f"cannot write segments to {outdir}: it {what}")
    if not isinstance(stem, str) or not stem or Path(stem).name != stem or stem in (".", ".."):
        raise ParameterError(f"stem={stem!r} must be a plain file name prefix such as 'segment'")
    segments = list(segments)
    for seg in segments:
        if not isinstance(seg, Segment):
            raise ParameterError(f"write_segments takes vcfx.Segment objects, got {type(seg).__name__}")
    width = max(3, len(str(max((s.index for s in segments), default=0))))
    paths = []
    for seg in segments:
        paths.append(write_audio(seg.audio, outdir / f"{stem}_{seg.index:0{width}d}.wav", subtype))
    with atomic_path(outdir / f"{stem}.csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "start_s", "end_s", "path"])
            for seg, path in zip(segments, paths):
                writer.writerow([seg.index, seg.start_s, seg.end_s, path.name])
    return paths
