"""Room impulse responses: synthetic ones, and files loaded once per (file, rate)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

import vcfx

SYNTHETIC_SEED = 0
"""Seed of the synthetic room's noise: a given ``rt60_s`` always gives the same room."""


@functools.lru_cache(maxsize=32)
def synthetic_ir(rt60_s: float, sample_rate: int) -> np.ndarray:
    """A synthetic room: Gaussian noise decaying exponentially by 60 dB over ``rt60_s``.

    The noise is drawn from a generator seeded with :data:`SYNTHETIC_SEED`,
    not from the chain's, so the room is part of the parameters: same
    ``rt60_s`` and rate, same impulse response, whatever the chain's seed.

    Returns
    -------
    np.ndarray [shape=(1, round(rt60_s * sample_rate)), dtype=float64]
        Read-only; not normalised.
    """
    n = max(1, round(rt60_s * sample_rate))
    t = np.arange(n) / sample_rate
    h = np.random.default_rng(SYNTHETIC_SEED).standard_normal(n) * 10.0 ** (-3.0 * t / rt60_s)
    h = h[np.newaxis, :]
    h.flags.writeable = False
    return h


def file_key(path: str) -> tuple[str, int, int]:
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError:
        raise vcfx.AudioError(f"impulse response {path!r}: no such file") from None
    return str(p.resolve()), st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> vcfx.Audio:
    try:
        audio = vcfx.load(path)
    except vcfx.AudioError as exc:
        raise vcfx.AudioError(f"impulse response {path!r} cannot be used: {exc}") from None
    if not audio.samples.any():
        raise vcfx.AudioError(f"impulse response {path!r} is silent")
    return audio


@functools.lru_cache(maxsize=16)
def _resampled(path: str, mtime_ns: int, size: int, sample_rate: int) -> np.ndarray:
    h = _read(path, mtime_ns, size).resample(sample_rate).samples.astype(np.float64)
    h.flags.writeable = False
    return h


def check_ir_file(path: str) -> None:
    """Read ``path`` (cached) or raise AudioError naming it."""
    _read(*file_key(path))


def file_ir(path: str, sample_rate: int) -> np.ndarray:
    """The impulse response in ``path`` at ``sample_rate`` (soxr, very high quality), all its channels.

    Cached per file (path, modification time and size) and rate, so a chain
    run many times reads and resamples the file once.

    Returns
    -------
    np.ndarray [shape=(channels, frames), dtype=float64]
        Read-only; not normalised.

    Raises
    ------
    vcfx.AudioError
        The file is missing, unreadable or silent; the message names it.
    """
    return _resampled(*file_key(path), sample_rate)
