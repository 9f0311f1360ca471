"""WORLD's spectral envelope (CheapTrick), frame for frame as WORLD computes it, in batches with NumPy.

CheapTrick (its cheaptrick.cpp, which pyworld wraps) takes each frame in a
Hann window three periods long, centred on the frame; its power spectrum,
with the part below f0 folded back (WORLD's DC correction), is averaged
over a band ``2 f0 / 3`` wide, and its logarithm is liftered in the
cepstrum (smoothing and WORLD's recovery lifter, ``q1 = -0.15``). WORLD
does this one frame at a time; here :data:`FRAMES_PER_BATCH` frames share
each FFT call, in single precision. The result equals pyworld's to
rounding (1e-5 dB on the median bin of real speech), except where WORLD
adds random noise, so that a silent frame still has a logarithm: noise of
size 1e-12 on each windowed sample and ``|N(0, 1)|`` times machine epsilon
on each bin of the smoothed power. Here their expected powers are added
instead.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

import vcfx

DEFAULT_F0_HZ = 500.0
"""f0 of frames unvoiced or below the lowest f0 the FFT size allows (WORLD's ``kDefaultF0``)."""

Q1 = -0.15
"""WORLD's spectral recovery parameter."""

NOISE_POWER = 1e-24
"""Power per windowed sample of the noise WORLD adds before the FFT (its ``kMySafeGuardMinimum``, 1e-12, squared)."""

FLOOR_POWER = float(np.finfo(np.float64).eps * np.sqrt(2 / np.pi))
"""Power WORLD adds to each bin of the smoothed spectrum, on average (``|N(0, 1)|`` times its ``kEps``)."""

FRAMES_PER_BATCH = 128
"""Frames per batch of NumPy calls. The calls hold the interpreter lock between them, so threads analysing batches
side by side run in parallel better on fewer, larger calls (``pitch_shift`` on 30 s at 22.05 kHz: 2 threads 1.24
times as fast as one with batches of 64 frames, 1.45 with 128; 256 is no better)."""


def fft_size(sample_rate: int, f0_floor_hz: float) -> int:
    """CheapTrick's FFT size for ``sample_rate`` and the lowest f0 (as ``pyworld.get_cheaptrick_fft_size``)."""
    return int(2.0 ** (1 + int(np.log(3.0 * sample_rate / f0_floor_hz + 1) / np.log(2))))


def matlab_round(v: np.ndarray) -> np.ndarray:
    """MATLAB's rounding, half away from zero, as WORLD rounds (to int64)."""
    return np.where(v > 0, np.floor(v + 0.5), np.ceil(v - 0.5)).astype(np.int64)


def in_batches(compute, f0: np.ndarray, columns: int) -> np.ndarray:
    """Rows ``compute(frames)`` for every frame, :data:`FRAMES_PER_BATCH` at a time, frames of similar f0 together.

    Frames of similar f0 have windows of similar length, so a batch pads
    few of them to its longest window.
    """
    out = np.empty((len(f0), columns))
    order = np.argsort(f0, kind="stable")
    for a in range(0, len(f0), FRAMES_PER_BATCH):
        frames = order[a:a + FRAMES_PER_BATCH]
        out[frames] = compute(frames)
    return out


def spectral_envelope(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, size: int) -> np.ndarray:
    """CheapTrick's envelope (power, ``size // 2 + 1`` bins) at times ``t`` (s) with f0 ``f0`` (0: unvoiced).

    Parameters
    ----------
    x : np.ndarray
        One channel.
    f0, t : np.ndarray
        f0 (Hz) and time (s) of each frame.
    sample_rate : int
        Rate of ``x``.
    size : int
        FFT size (:func:`fft_size`).
    """
    floor = 3.0 * sample_rate / (size - 3.0)
    f0 = np.where(np.asarray(f0, dtype=np.float64) <= floor, DEFAULT_F0_HZ, f0)
    t = np.asarray(t, dtype=np.float64)
    return in_batches(lambda frames: _batch(x, f0[frames], t[frames], sample_rate, size), f0, size // 2 + 1)


def _batch(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, size: int) -> np.ndarray:
    step = sample_rate / size  # Hz per bin
    half = matlab_round(1.5 * sample_rate / f0)
    first = matlab_round(t * sample_rate + 0.001) - half
    waveform = windowed(x, first, half, np.pi / 1.5 / sample_rate * f0, unit_energy=True)
    spectrum = scipy.fft.rfft(waveform.astype(np.float32), n=size, axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float64) + (2 * half + 1)[:, None] * NOISE_POWER
    power = dc_corrected(power, f0, step)
    # the smoothing takes differences of running sums: where the spectrum is empty, rounding can leave them below 0
    power = np.maximum(smoothed(power, 2.0 * f0 / 3.0, step), 0.0) + FLOOR_POWER
    return _liftered(np.log(power), f0, sample_rate, size)


def windowed(x: np.ndarray, first: np.ndarray, half: np.ndarray, step: np.ndarray, blackman: bool = False,
             unit_energy: bool = False, dither: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Rows of ``x`` from ``first``, ``2 half + 1`` long, in a Hann (or Blackman) window, their weighted mean removed.

    Samples before the signal and past its end repeat its first and last.
    The window, centred on each row, is a sum of cosines of the phase
    ``step`` (radians) advances per sample; with ``unit_energy`` it is
    scaled to a sum of squares of 1. ``dither``, a noise track and where
    each row starts in it, is added to the windowed samples. The rows are
    zero-padded to the longest.
    """
    noise, at = dither if dither is not None else (np.zeros(0), np.zeros(len(first), dtype=np.int64))
    return _windowed_rows(x, first, half, step, 2 * int(half.max()) + 1, blackman, unit_energy, noise, at)


@vcfx.compiled
def _windowed_rows(x, first, half, step, width, blackman, unit_energy, noise, at):
    out = np.zeros((len(first), width))
    window = np.zeros(width)
    for row in range(len(first)):
        h = half[row]
        # cos(k a) by the recurrence cos((k + 1) a) = 2 cos(a) cos(k a) - cos((k - 1) a)
        turn = np.cos(step[row])
        before, now = turn, 1.0
        energy = 0.0
        for k in range(h + 1):
            if blackman:
                value = 0.42 + 0.5 * now + 0.08 * (2.0 * now * now - 1.0)
            else:
                value = 0.5 + 0.5 * now
            window[h + k] = window[h - k] = value
            energy += value * value if k == 0 else 2.0 * value * value
            before, now = now, 2.0 * turn * now - before
        scale = 1.0 / np.sqrt(energy) if unit_energy else 1.0
        weighted = total = 0.0
        for j in range(2 * h + 1):
            window[j] *= scale
            value = x[min(max(first[row] + j, 0), len(x) - 1)] * window[j]
            if len(noise):
                value += noise[at[row] + j]
            out[row, j] = value
            weighted += value
            total += window[j]
        mean = weighted / total
        for j in range(2 * h + 1):
            out[row, j] -= window[j] * mean
    return out


def dc_corrected(power: np.ndarray, f0: np.ndarray, step: float) -> np.ndarray:
    """``power`` with its part below f0 folded back onto it: bin ``i`` gains the power at ``f0 - i * step``.

    Frames are rows; ``step`` is the bins' spacing in Hz. WORLD's
    ``DCCorrection``, for CheapTrick and D4C.
    """
    out = np.array(power, dtype=np.float64)
    _fold_below_f0(out, power.astype(np.float64, copy=False), np.asarray(f0, dtype=np.float64) / step)
    return out


@vcfx.compiled
def _fold_below_f0(out, power, f0_bins):
    for row in range(len(f0_bins)):
        for i in range(int(f0_bins[row]) + 1):  # WORLD corrects the bins below f0 and one more
            position = f0_bins[row] - i
            base = min(max(int(position), 0), power.shape[1] - 2)
            low, high = power[row, base], power[row, base + 1]
            out[row, i] += low + (high - low) * (position - base)


def smoothed(power: np.ndarray, width: np.ndarray, step: float) -> np.ndarray:
    """``power`` averaged over ``width`` Hz around each bin, the spectrum mirrored at 0 and Nyquist (WORLD's way).

    Frames are rows, each with its own width; ``step`` is the bins' spacing
    in Hz. The running sum of the mirrored spectrum is read, linearly
    between bins, at each bin's frequency minus and plus half the width
    (WORLD's ``LinearSmoothing``, for CheapTrick and D4C).
    """
    return _smoothed(np.ascontiguousarray(power, dtype=np.float64), np.asarray(width, dtype=np.float64), float(step))


@vcfx.compiled
def _smoothed(power, width, step):
    frames, bins = power.shape
    margin = int(width.max() / step) + 1
    running = np.empty(bins + 2 * margin)
    out = np.empty_like(power)
    for row in range(frames):
        total = 0.0
        for i in range(len(running)):
            k = abs(i - margin)  # mirrored at 0 ...
            if k >= bins:  # ... and at Nyquist
                k = 2 * (bins - 1) - k
            total += power[row, k] * step
            running[i] = total
        upper = margin - 0.5 + width[row] / 2 / step  # where bin 0's sum is read: every bin has the same fraction
        lower = margin - 0.5 - width[row] / 2 / step
        first_upper, first_lower = int(upper), int(lower)
        upper -= first_upper
        lower -= first_lower
        for k in range(bins):
            at = running[first_upper + k]
            above = (running[first_upper + k + 1] - at) * upper + at
            at = running[first_lower + k]
            below = (running[first_lower + k + 1] - at) * lower + at
            out[row, k] = (above - below) / width[row]
    return out


def _liftered(log_power: np.ndarray, f0: np.ndarray, sample_rate: int, size: int) -> np.ndarray:
    """The envelope from the log power: the cepstrum smoothed and recovered with f0's lifters (WORLD's ``q1``)."""
    bins = log_power.shape[1]
    log_power = log_power.astype(np.float32)
    cepstrum = scipy.fft.rfft(np.concatenate([log_power, log_power[:, -2:0:-1]], axis=1), axis=1).real
    phase = (np.pi / sample_rate) * (np.arange(bins)[None, :] * f0[:, None])  # pi f0 times the quefrency
    sine = np.sin(phase.astype(np.float32))
    phase[:, 0] = 1.0
    sine[:, 0] = 1.0
    # the smoothing lifter sin(phase) / phase, and the recovery lifter 1 - 2 q1 + 2 q1 cos(2 phase)
    lifter = sine / phase * (1.0 - 4.0 * Q1 * sine * sine)
    lifter[:, 0] = 1.0
    return np.exp(scipy.fft.irfft(cepstrum * lifter.astype(np.float32), n=size, axis=1)[:, :bins].astype(np.float64))
