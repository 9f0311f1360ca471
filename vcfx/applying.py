"""One file through a chain into another, with every check done before the work: what ``vcfx apply`` runs."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from .audio import load
from .chain import Chain, check_engine
from .effect import Effect
from .errors import ParameterError
from .files import atomic_path, check_folder, check_output_path, open_audio, output_format, subtype_for
from .progress import progress, steps
from .presets import check_preset_path, load_chain, write_preset
from .streaming import DEFAULT_CHUNK_S, stream_file

__all__ = ["apply_file", "check_apply", "ApplyResult", "STREAM_ABOVE_S"]

STREAM_ABOVE_S = 120.0
"""Inputs longer than this stream from disk to disk in chunks, unless they are resampled first."""


@dataclass
class ApplyResult:
    """What :func:`apply_file` wrote.

    Attributes
    ----------
    path : Path
        The output file.
    frames, sample_rate, channels : int
        Of the output.
    subtype : str
        The subtype it was written in.
    streamed : bool
        Whether it went through in chunks.
    chain : Chain
        The chain as run: random parameters drawn, seed set.
    preset : Path or None
        The preset written beside it.
    notes : list of str
        Things the caller may want to tell the user, such as a subtype changed so that nothing clips.
    """

    path: Path
    frames: int
    sample_rate: int
    channels: int
    subtype: str
    streamed: bool
    chain: Chain
    preset: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def check_apply(in_path: str | os.PathLike, out_path: str | os.PathLike, subtype: str | None = None,
                save_preset: str | os.PathLike | None = None) -> None:
    """Everything :func:`apply_file` can refuse before reading a sample, refused now.

    OUT is the input file, has an unknown extension or a subtype its format
    cannot hold, or lies in a missing folder; the preset path does not end in
    ``.toml``/``.json``, is IN or OUT, or lies in a missing folder.

    Raises
    ------
    AudioError, SpecError
    """
    in_path, out_path = Path(in_path), Path(out_path)
    check_output_path(out_path, [in_path])
    output_format(out_path, subtype)
    if save_preset is not None:
        check_preset_path(save_preset, [in_path, out_path])
    check_folder(out_path)
    if save_preset is not None:
        check_folder(save_preset)


def _duration_s(path: Path) -> float:
    with open_audio(path) as source:
        return source.frames / source.samplerate


def apply_file(in_path: str | os.PathLike, out_path: str | os.PathLike, chain, *, seed: int | None = None,
               sample_rate: int | None = None, subtype: str | None = None,
               save_preset: str | os.PathLike | None = None, chunk_s: float | None = None,
               engine: str | None = None, quiet: bool = True) -> ApplyResult:
    """Apply ``chain`` to the file ``in_path`` and write ``out_path``.

    OUT appears complete or not at all, never over IN, and only together
    with the preset when one is asked for. Long inputs (over
    :data:`STREAM_ABOVE_S`, unless resampled) stream from disk to disk in
    chunks, in bounded memory.

    Parameters
    ----------
    in_path, out_path : path
    chain : Chain, Effect or str
        A chain, or a spec string, preset file or preset name.
    seed : int, optional
        Overrides the chain's seed.
    sample_rate : int, optional
        Resample the input to this rate first (in memory).
    subtype : str, optional
        Output subtype; when omitted, the format's default, or 32-bit float
        where that would clip (a note says so) or where the output streams.
    save_preset : path, optional
        Also write the chain as run (drawn values and seed included) as a
        ``.toml``/``.json`` preset: applying it to the same input gives the
        same output. A chain without a seed gets a random one.
    chunk_s : float, optional
        Stream in chunks of about this many seconds, whatever the length.
    engine : str, optional
        Overrides the chain's engine (see :class:`vcfx.Chain`), e.g.
        ``"world"``; the saved preset records it.
    quiet : bool
        No progress bar (bars appear only on a terminal anyway).

    Returns
    -------
    ApplyResult
    """
    in_path, out_path = Path(in_path), Path(out_path)
    check_apply(in_path, out_path, subtype, save_preset)
    check_engine(engine)
    if chunk_s is not None and sample_rate is not None:
        raise ParameterError(f"chunk_s={chunk_s!r} and sample_rate={sample_rate!r} cannot be combined: a "
                             "streamed file keeps its sample rate; resample it first, or leave out chunk_s")
    if isinstance(chain, str):
        chain = load_chain(chain, seed=seed)
    elif isinstance(chain, Effect):
        chain = (Chain(chain, seed=chain.seed, options=chain.options, engine=chain.engine)
                 if isinstance(chain, Chain) else Chain([chain]))
        if seed is not None:
            chain.seed = seed
    else:
        raise ParameterError(f"chain={chain!r} is not a vcfx.Chain, vcfx.Effect or spec string")
    if engine is not None:
        chain.engine = engine
    if save_preset is not None and chain.seed is None:
        chain.seed = secrets.randbelow(2**31)  # so the saved preset reproduces this very run
    if chunk_s is not None or (sample_rate is None and _duration_s(in_path) > STREAM_ABOVE_S):
        return _stream(chain, in_path, out_path, subtype, chunk_s or DEFAULT_CHUNK_S, save_preset, quiet)
    with steps(3, "apply", quiet=quiet) as step:
        step("reading")
        audio = load(in_path, sample_rate=sample_rate)
        step("processing")
        out = chain(audio)
        step("writing")
        chosen, note = subtype_for(out_path, subtype, peak=float(abs(out.samples).max()))
        with atomic_path(out_path) as tmp:  # OUT appears only if the preset is written too
            out.save(tmp, subtype=chosen)
            if save_preset is not None:
                write_preset(chain.resolve(), save_preset)
    return ApplyResult(out_path, out.frames, out.sample_rate, out.channels, output_format(out_path, chosen)[1],
                       False, chain.resolve(), None if save_preset is None else Path(save_preset),
                       [note] if note else [])


def _stream(chain: Chain, in_path: Path, out_path: Path, subtype, chunk_s: float, save_preset, quiet: bool):
    bar = progress(total=None, desc="apply (streaming)", unit="frame", quiet=quiet)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    with bar, atomic_path(out_path) as tmp:  # OUT appears only if the preset is written too
        stream_file(chain, in_path, tmp, chunk_s=chunk_s, subtype=subtype, progress=advance)
        if save_preset is not None:
            write_preset(chain.resolve(), save_preset)
    info = sf.info(str(out_path))
    return ApplyResult(out_path, info.frames, info.samplerate, info.channels, info.subtype, True, chain.resolve(),
                       None if save_preset is None else Path(save_preset))
