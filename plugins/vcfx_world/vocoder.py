"""WORLD's synthesis, pulse for pulse as WORLD places and shapes them, computed in batches with NumPy.

WORLD (``Synthesis`` in its synthesis.cpp, which pyworld wraps) places
excitation pulses along the f0 contour, one per period where voiced and
one every 2 ms where not, and adds at each pulse the response of the
spectral envelope interpolated to that instant: a periodic part (the
minimum-phase response of the envelope's harmonic share, delayed by the
pulse's fractional position, its DC removed) and an aperiodic part (the
noise since the previous pulse, filtered by the minimum-phase response of
the noise share). It does this one pulse at a time. Here voiced pulses
are shaped :data:`PULSES_PER_BATCH` per FFT call, on all cores, and the
noise of unvoiced stretches once per frame instead of at 500 pulses a
second (:func:`_unvoiced_frames`), with the same power at every instant.
The periodic part equals pyworld's to rounding; the noise is numpy's,
equal in level and spectrum, not sample for sample. The noise goes
through the zero-phase response of its share (the envelope's magnitude
alone) instead of the minimum-phase one: white noise through either has
the same spectrum, and the zero-phase one needs no cepstrum, a quarter of
a voiced pulse's work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.fft

import vcfx

UNVOICED_F0_HZ = 500.0
"""Pulse rate in unvoiced frames (WORLD's ``kDefaultF0``)."""

SAFE_APERIODICITY = (0.001, 0.999999999999)
"""WORLD clips aperiodicity to this range before it squares it."""

SAFEGUARD = 1e-12
"""WORLD's ``kMySafeGuardMinimum``, added to the periodic share before its logarithm."""

PULSES_PER_BATCH = 128
"""Pulses (or unvoiced frames) shaped per FFT call: enough to amortise the call, few enough to stay in cache."""

SEED = 20121
"""Seed of the noise. Each batch draws its own from it, so the noise is the same on any number of threads, and the
same in every channel given the same features."""


def output_length(frames: int, sample_rate: int, period_ms: float) -> int:
    """Samples synthesized from ``frames`` frames (as pyworld counts them)."""
    return int(frames * period_ms * sample_rate / 1000)


@dataclass
class Pulses:
    """Where WORLD's synthesis places its pulses.

    Attributes
    ----------
    index : np.ndarray
        Sample of each pulse.
    shift : np.ndarray
        Fraction of a sample between ``index`` and the exact pulse position.
    voiced : np.ndarray
        Whether each pulse lies where the contour is voiced.
    noise : np.ndarray
        Samples of noise each pulse carries: up to the next pulse (0 for the last).
    """

    index: np.ndarray
    shift: np.ndarray
    voiced: np.ndarray
    noise: np.ndarray


def pulses(f0: np.ndarray, fft_size: int, sample_rate: int, period_ms: float, length: int) -> Pulses:
    """WORLD's pulse train for ``f0``: its phase, accumulated sample by sample, wraps at every pulse.

    f0 and voicing are interpolated linearly between frames (and
    extrapolated one frame past the last); f0 below
    ``sample_rate // fft_size + 1`` counts as unvoiced, unvoiced samples
    run at :data:`UNVOICED_F0_HZ`.
    """
    lowest = sample_rate // fft_size + 1.0
    coarse = np.where(f0 < lowest, 0.0, f0)
    coarse_vuv = (coarse != 0).astype(np.float64)
    coarse = np.append(coarse, 2 * coarse[-1] - coarse[-2])
    coarse_vuv = np.append(coarse_vuv, 2 * coarse_vuv[-1] - coarse_vuv[-2])
    frame_times = np.arange(len(coarse)) * (period_ms / 1000.0)
    index, before, after, voiced = _phase_wraps(frame_times, coarse, coarse_vuv, length, float(sample_rate))
    before -= 2.0 * np.pi
    shift = -before / (after - before)
    noise = np.append(np.diff(index), 0)
    return Pulses(index, shift, voiced, noise)


@vcfx.compiled
def _phase_wraps(frame_times, f0, voicing, length, sample_rate):
    """Where the pulses fall: the samples after which the phase wraps, the phase there and after, and voicing there.

    f0 and voicing are read linearly between frames at each sample (as
    ``np.interp`` reads them, to the bit); the phase is summed sample by
    sample and taken modulo 2 pi, as WORLD does.
    """
    index = np.empty(length, dtype=np.int64)
    before = np.empty(length)
    after = np.empty(length)
    voiced = np.empty(length, dtype=np.bool_)
    wraps = 0
    total = previous = 0.0
    was_voiced = False
    j = 0
    for i in range(length):
        t = i / sample_rate
        while j + 1 < len(frame_times) and frame_times[j + 1] <= t:
            j += 1
        if j == len(frame_times) - 1 or frame_times[j] == t:
            v, hz = voicing[j], f0[j]
        else:
            span, into = frame_times[j + 1] - frame_times[j], t - frame_times[j]
            v = (voicing[j + 1] - voicing[j]) / span * into + voicing[j]
            hz = (f0[j + 1] - f0[j]) / span * into + f0[j]
        total += 2.0 * np.pi * (hz if v > 0.5 else UNVOICED_F0_HZ) / sample_rate
        phase = np.fmod(total, 2.0 * np.pi)
        if i > 0 and abs(phase - previous) > np.pi:
            index[wraps], before[wraps], after[wraps], voiced[wraps] = i - 1, previous, phase, was_voiced
            wraps += 1
        previous, was_voiced = phase, v > 0.5
    return index[:wraps].copy(), before[:wraps].copy(), after[:wraps].copy(), voiced[:wraps].copy()


def _minimum_phase(power: np.ndarray, size: int, delay: np.ndarray) -> np.ndarray:
    """Minimum-phase spectra (rfft bins of ``size`` points) with magnitude ``sqrt(power)``, delayed, row by row.

    The phase comes from the folded cepstrum of the log magnitude; ``delay``
    (samples, one per row) adds a linear phase. All of it is computed in
    single precision (the FFTs twice, the cosines and sines ten times faster
    here than in double), whose error, below 1e-6 of the magnitude (-120
    dB), no output can show: the periodic part stays as close to pyworld's
    (0.124 % of its RMS, the noise WORLD leaves in it) as in double.
    """
    log_magnitude = (0.5 * np.log(power)).astype(np.float32)
    even = np.concatenate([log_magnitude, log_magnitude[:, -2:0:-1]], axis=1)
    cepstrum = scipy.fft.rfft(even, axis=1).real / size  # the log spectrum is real and even
    cepstrum[:, 1:-1] *= 2.0
    phase = scipy.fft.rfft(cepstrum, size, axis=1).imag
    phase -= ((2.0 * np.pi / size) * delay[:, np.newaxis] * np.arange(size // 2 + 1)).astype(np.float32)
    magnitude = np.sqrt(power).astype(np.float32)
    out = np.empty(power.shape, dtype=np.complex64)
    np.multiply(magnitude, np.cos(phase), out=out.real)
    np.multiply(magnitude, np.sin(phase), out=out.imag)
    return out


def _dc_remover(size: int) -> np.ndarray:
    """WORLD's window for taking the DC out of a periodic response, summing to 1 (unshifted order)."""
    half = 0.5 - 0.5 * np.cos(2.0 * np.pi * (np.arange(size // 2) + 1.0) / (1.0 + size))
    window = np.concatenate([half[::-1], half])
    return window / window.sum()


@vcfx.compiled
def _causal_without_dc(waves, dc_remover, gain):
    """Periodic responses (rows, in place) cut to their first half, less :func:`_dc_remover` times their sum, scaled."""
    half = waves.shape[1] // 2
    for row in range(waves.shape[0]):
        total = 0.0
        for k in range(half):
            total += waves[row, k]
        for k in range(half):
            waves[row, k] = (waves[row, k] - total * dc_remover[k]) * gain[row]
        for k in range(half, waves.shape[1]):
            waves[row, k] = -total * dc_remover[k] * gain[row]
    return waves


def _noise(rng: np.random.Generator, samples: np.ndarray) -> np.ndarray:
    """Rows of white noise, ``samples[k]`` long and zero-padded, each with its mean removed."""
    inside = np.arange(max(1, int(samples.max()))) < samples[:, np.newaxis]
    noise = rng.standard_normal(inside.shape) * inside
    noise -= inside * (noise.sum(axis=1) / np.maximum(samples, 1))[:, np.newaxis]
    return noise


def _at_pulses(values: np.ndarray, index: np.ndarray, sample_rate: int, period_ms: float,
               columns: np.ndarray | slice, clip: tuple[float, float]) -> np.ndarray:
    """Rows of ``values`` (frames x bins), clipped to ``clip``, interpolated linearly to the time of each pulse."""
    position = np.minimum(index / sample_rate * 1000.0 / period_ms, len(values) - 1)
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, len(values) - 1)
    out = np.clip(values[lower][:, columns], *clip)
    out += (position - lower).astype(values.dtype)[:, np.newaxis] * (np.clip(values[upper][:, columns], *clip) - out)
    return out


def _voiced_responses(batch: np.ndarray, train: Pulses, sp, ap, sample_rate, period_ms, rng) -> np.ndarray:
    """Responses (envelope FFT size, circular) of voiced pulses: the periodic part plus the noise share.

    The periodic part keeps only its causal half, less WORLD's DC window, as WORLD's does.
    """
    size = 2 * (sp.shape[1] - 1)
    power = _at_pulses(sp, train.index[batch], sample_rate, period_ms, slice(None), clip=(0.0, np.inf))
    ratio = np.square(_at_pulses(ap, train.index[batch], sample_rate, period_ms, slice(None), clip=SAFE_APERIODICITY))
    spectrum = scipy.fft.rfft(_noise(rng, train.noise[batch]).astype(np.float32), size, axis=1)
    spectrum *= np.sqrt(power * ratio)
    out = scipy.fft.irfft(spectrum, size, axis=1)
    periodic = np.flatnonzero(ratio[:, 0] <= 0.999)
    if len(periodic):
        harmonic = _minimum_phase(power[periodic] * (1.0 - ratio[periodic]) + SAFEGUARD, size,
                                  delay=train.shift[batch][periodic])
        wave = _causal_without_dc(scipy.fft.irfft(harmonic, size, axis=1), _dc_remover(size),
                                  np.sqrt(train.noise[batch][periodic]))
        if len(periodic) == len(batch):
            out += wave
        else:
            out[periodic] += wave
    return out


def _unvoiced_noise(starts: np.ndarray, ends: np.ndarray, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    """Two independent noises over samples ``lo .. hi``, nonzero within the unvoiced pulses' shares ``starts .. ends``.

    Each share that reaches into ``lo .. hi`` is drawn whole, and its mean
    removed, as WORLD removes it from the noise of each pulse.
    """
    first, last = np.searchsorted(ends, lo, side="right"), np.searchsorted(starts, hi)
    starts, sizes = starts[first:last], ends[first:last] - starts[first:last]
    streams = np.zeros((2, hi - lo))
    if not len(starts):
        return streams
    firsts = np.cumsum(sizes) - sizes
    pulse = np.repeat(np.arange(len(starts)), sizes)
    at = starts[pulse] + np.arange(int(sizes.sum())) - firsts[pulse] - lo
    draws = rng.standard_normal((2, len(at)))
    draws -= (np.add.reduceat(draws, firsts, axis=1) / sizes)[:, pulse]
    inside = (at >= 0) & (at < hi - lo)
    streams[:, at[inside]] = draws[:, inside]
    return streams


def _frame_spans(frames: np.ndarray, step: float, length: int) -> tuple[np.ndarray, np.ndarray]:
    """First and end sample of the noise each frame takes: within one frame (``step`` samples) of it."""
    lo = np.clip(np.ceil((frames - 1) * step).astype(int), 0, length)
    hi = np.clip(np.floor((frames + 1) * step).astype(int) + 1, 0, length)
    return lo, hi


def _noisy_frames(frames: int, shares: tuple[np.ndarray, np.ndarray], step: float, length: int) -> np.ndarray:
    """The frames whose samples (:func:`_frame_spans`) reach into a share of unvoiced noise (``starts``, ``ends``)."""
    starts, ends = shares
    every = np.arange(frames)
    if not len(starts):
        return every[:0]
    lo, hi = _frame_spans(every, step, length)
    nearest = np.minimum(np.searchsorted(ends, lo, side="right"), len(ends) - 1)  # the first share ending after lo
    return every[(hi > lo) & (starts[nearest] < hi) & (ends[nearest] > lo)]


def _unvoiced_frames(frames: np.ndarray, number: int, shares: tuple[np.ndarray, np.ndarray], sp: np.ndarray,
                     step: float, length: int) -> tuple[int, np.ndarray]:
    """The unvoiced noise around ``frames``, each through its frame's envelope: (first sample, samples).

    Frame ``f`` takes the noise within one frame of it, weighted by the
    square root of a triangle (the squares of neighbouring frames' weights
    add up to one), from one noise where ``f`` is even and the other where
    odd (:func:`_unvoiced_noise` over the frames' samples, the ``number``-th
    draw). The power at any instant is thus the envelopes' power
    interpolated linearly between frames, as WORLD's synthesis interpolates
    it at each of its 500 pulses a second; one response per frame instead
    of per pulse.
    """
    size = 2 * (sp.shape[1] - 1)
    lo, hi = _frame_spans(frames, step, length)
    start = int(lo.min())
    streams = _unvoiced_noise(*shares, start, int(hi.max()), np.random.default_rng([SEED, 2, number]))
    width = int((hi - lo).max())
    at = lo[:, np.newaxis] + np.arange(width)
    inside = at < hi[:, np.newaxis]
    weight = np.sqrt(np.clip(1.0 - np.abs(at / step - frames[:, np.newaxis]), 0.0, 1.0)) * inside
    noise = streams[frames[:, np.newaxis] % 2, np.minimum(at, hi.max() - 1) - start] * weight
    power = np.clip(sp[np.minimum(frames, len(sp) - 1)], 0.0, np.inf)
    responses = scipy.fft.irfft(scipy.fft.rfft(noise.astype(np.float32), size, axis=1) * np.sqrt(power),
                                size, axis=1)
    return _overlap_added(responses, lo)


def _overlap_added(responses: np.ndarray, starts: np.ndarray) -> tuple[int, np.ndarray]:
    """Circular responses (rows) added up, each placed at its start: (first sample, samples).

    A response's first half follows its start (from the next sample on),
    its second half, where a circular convolution wraps, comes before it.
    """
    half = responses.shape[1] // 2
    first = int(starts.min()) + 1 - half
    return first, _added(responses, starts - first + 1 - half, int(starts.max() - starts.min()) + responses.shape[1])


@vcfx.compiled
def _added(responses, offsets, length):
    out = np.zeros(length)
    size = responses.shape[1]
    half = size // 2
    for row in range(responses.shape[0]):
        at = offsets[row]
        for k in range(half):
            out[at + half + k] += responses[row, k]
            out[at + k] += responses[row, half + k]
    return out


def _voiced_pulses(batch: np.ndarray, number: int, train: Pulses, sp, ap, sample_rate, period_ms) -> tuple[int, np.ndarray]:
    """One batch of voiced pulses overlap-added: (first sample, samples)."""
    rng = np.random.default_rng([SEED, 1, number])
    responses = _voiced_responses(batch, train, sp, ap, sample_rate, period_ms, rng)
    return _overlap_added(responses, train.index[batch])


def synthesize(f0: np.ndarray, spectral_envelope: np.ndarray, aperiodicity: np.ndarray, sample_rate: int,
               period_ms: float, mapper: Callable = lambda fn, jobs: [fn(job) for job in jobs]) -> np.ndarray:
    """A waveform from WORLD features, as ``pyworld.synthesize`` makes it (its noise drawn differently).

    Parameters
    ----------
    f0 : np.ndarray [shape=(frames,)]
        Hz; 0 where unvoiced. At least 2 frames.
    spectral_envelope, aperiodicity : np.ndarray [shape=(frames, fft_size // 2 + 1)]
    sample_rate : int
    period_ms : float
        Time between frames.
    mapper : callable, optional
        ``mapper(fn, jobs)`` returns ``[fn(job) for job in jobs]``, in order;
        give one that runs them on several threads (NumPy's FFTs release the GIL).

    Returns
    -------
    np.ndarray [shape=(output_length(frames, sample_rate, period_ms),)]
    """
    # every response is shaped in single precision (see _minimum_phase), so the features are read in it too
    sp = np.asarray(spectral_envelope, dtype=np.float32)
    ap = np.asarray(aperiodicity, dtype=np.float32)
    length = output_length(len(f0), sample_rate, period_ms)
    train = pulses(np.asarray(f0, dtype=np.float64), 2 * (sp.shape[1] - 1), sample_rate, period_ms, length)
    step = sample_rate * period_ms / 1000.0
    unvoiced = np.flatnonzero(~train.voiced & (train.noise > 0))
    shares = (train.index[unvoiced], train.index[unvoiced] + train.noise[unvoiced])
    noisy = _noisy_frames(len(f0) + 1, shares, step, length)
    voiced = np.flatnonzero(train.voiced)
    jobs = [partial(_voiced_pulses, voiced[b:b + PULSES_PER_BATCH], k, train, sp, ap, sample_rate, period_ms)
            for k, b in enumerate(range(0, len(voiced), PULSES_PER_BATCH))]
    jobs += [partial(_unvoiced_frames, noisy[b:b + PULSES_PER_BATCH], k, shares, sp, step, length)
             for k, b in enumerate(range(0, len(noisy), PULSES_PER_BATCH))]
    margin = 2 * (sp.shape[1] - 1)
    out = np.zeros(length + 2 * margin)
    for first, samples in mapper(lambda job: job(), jobs):
        out[margin + first:margin + first + len(samples)] += samples
    return out[margin:margin + length]
