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
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .audio import Audio
from .chain import Chain, _blame
from .effect import Effect
from .errors import AudioError, EffectError, ParameterError, VcfxError
from .files import atomic_path, check_folder
from .plugins import slicer as make_slicer
from .slicer import Slicer

__all__ = ["Segment", "slice_audio", "slice_onsets", "write_segments", "check_segments_target"]


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


def check_segments_target(outdir: str | os.PathLike, stem: str = "segment") -> Path:
    """Refuse, before any work, a segment folder that cannot be one or a stem that is not a plain name.

    Returns
    -------
    pathlib.Path
        ``outdir`` as a path.
    """
    outdir = Path(outdir)
    if not isinstance(stem, str) or not stem or Path(stem).name != stem or stem in (".", ".."):
        raise ParameterError(f"stem={stem!r} must be a plain file name prefix such as 'segment'")
    if outdir.exists() and not outdir.is_dir():
        raise AudioError(f"cannot write segments to {outdir}: it is not a folder")
    return outdir


def write_segments(
    segments: list[Segment], outdir: str | os.PathLike, stem: str = "segment", subtype: str | None = None
) -> list[Path]:
    """Write each segment to ``outdir/<stem>_<index>.wav`` and list them in ``outdir/<stem>.csv``.

    All files appear, or none do: they are written into a hidden folder
    inside ``outdir`` and moved in when every one is complete, the CSV (columns
    ``index,start_s,end_s,path``, ``path`` relative to ``outdir``) last. A
    missing ``outdir`` is created, and removed again if writing fails. Files
    from an earlier run with more segments are left in place.

    Parameters
    ----------
    segments : list of Segment
        As returned by :func:`slice_audio`.
    outdir : str or path-like
        The folder to write into; created with its parents when missing.
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
        ``outdir`` is not a folder or cannot be created or written, or a
        segment cannot be written (for example it would clip in a PCM subtype).
    """
    outdir = check_segments_target(outdir, stem)
    segments = list(segments)
    for seg in segments:
        if not isinstance(seg, Segment):
            raise ParameterError(f"write_segments takes vcfx.Segment objects, got {type(seg).__name__}")
    created = None  # the topmost folder this call creates, removed again on failure
    if not outdir.exists():
        created = outdir.absolute()
        while not created.parent.exists():
            created = created.parent
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".vcfx-slice.", dir=outdir))
    except OSError as exc:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise AudioError(f"cannot create {outdir}: {exc.strerror or exc}") from None
    try:
        paths = _write_into(segments, staging, stem, subtype)
        for path in paths:
            check_folder(outdir / path.name)  # nothing in the way, before the first file moves in
        for path in [*paths, staging / f"{stem}.csv"]:
            path.replace(outdir / path.name)
        return [outdir / path.name for path in paths]
    except BaseException as exc:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        if isinstance(exc, OSError):
            raise AudioError(f"cannot write segments to {outdir}: {exc.strerror or exc}") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_into(segments: list[Segment], folder: Path, stem: str, subtype: str | None) -> list[Path]:
    width = max(3, len(str(max((s.index for s in segments), default=0))))
    paths = [seg.audio.save(folder / f"{stem}_{seg.index:0{width}d}.wav", subtype) for seg in segments]
    with atomic_path(folder / f"{stem}.csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "start_s", "end_s", "path"])
            for seg, path in zip(segments, paths):
                writer.writerow([seg.index, seg.start_s, seg.end_s, path.name])
    return paths
