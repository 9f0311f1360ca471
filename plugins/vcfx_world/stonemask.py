"""WORLD's StoneMask: f0 refined by the instantaneous frequency of its first harmonics, frame for frame as WORLD does.

StoneMask (its stonemask.cpp, which pyworld wraps) windows the voice
around each frame with a Blackman window three periods long, takes the
spectra of the waveform under that window and under its derivative, and
reads at the bins of the first two harmonics of the frame's f0 the
instantaneous frequency, ``bin + Im(conj(M) D) / |M|^2`` in bins; their
amplitude-weighted mean is a first estimate, and the same read at six
harmonics of that estimate is the result (kept only within 20 % of the
f0 given). WORLD computes both spectra with full FFTs four times longer
than the window; here only the eight bins read are computed, as direct
sums, which gives the same f0 to rounding (within 1e-11 of it) in a
fraction of the time.
"""

from __future__ import annotations

import numpy as np

import vcfx

FLOOR_HZ = 40.0
"""f0 at or below which StoneMask gives 0 (WORLD's ``kFloorF0StoneMask``); so it does above a twelfth of the rate."""

LOG_2 = 0.69314718055994529
"""WORLD's ``kLog2``, by which it takes the base-2 logarithm that sets the FFT size."""

SAFEGUARD = 1e-12
"""WORLD's ``kMySafeGuardMinimum``, added to the weights' sum."""

RECURRENCE = 32
"""Samples between exact values of the window's cosine; in between it is rotated step by step."""


def refine(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int) -> np.ndarray:
    """``pyworld.stonemask(x, f0, t, sample_rate)``: f0 (Hz, 0 unvoiced) refined at times ``t`` (s).

    Frames with f0 at most :data:`FLOOR_HZ` or above ``sample_rate / 12``
    give 0, as in WORLD. Where the first estimate (up to twice the f0 given)
    exceeds ``sample_rate / 12``, its sixth harmonic lies past Nyquist and
    WORLD reads past the end of its spectrum; here that bin is the DFT's
    own, the mirror of one below Nyquist.
    """
    return _refined(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(f0, dtype=np.float64),
                    np.ascontiguousarray(t, dtype=np.float64), int(sample_rate))


@vcfx.compiled
def _refined(x, f0, t, sample_rate):
    out = np.zeros(len(f0))
    largest = 4
    for frame in range(len(f0)):
        if FLOOR_HZ < f0[frame] <= sample_rate / 12.0:
            largest = max(largest, _fft_size(2 * int(1.5 * sample_rate / f0[frame] + 1.0) + 1))
    # e^(-2 pi i m / largest): every FFT's factors, read with a stride
    turns = np.exp(-2j * np.pi * np.arange(largest) / largest)
    for frame in range(len(f0)):
        initial = f0[frame]
        if initial <= FLOOR_HZ or initial > sample_rate / 12.0:
            continue
        half = int(1.5 * sample_rate / initial + 1.0)
        length = 2 * half + 1
        size = _fft_size(length)
        duration = length / sample_rate
        main = np.empty(length)
        windowed = np.empty((2, length))  # the samples under the window and under its derivative
        indices = np.empty(length, dtype=np.int64)
        for i in range(length):
            at = (t[frame] + (i - half) / sample_rate) * sample_rate
            indices[i] = int(np.floor(at + 0.5)) if at > 0 else int(np.ceil(at - 0.5))  # MATLAB's round
            windowed[0, i] = x[max(0, min(len(x) - 1, indices[i] - 1))]
        # the window's cosine, rotated from sample to sample where the samples are consecutive
        turn_re, turn_im = np.cos(2.0 * np.pi / sample_rate / duration), np.sin(2.0 * np.pi / sample_rate / duration)
        re = im = 0.0
        for i in range(length):
            if i % RECURRENCE == 0 or indices[i] - indices[i - 1] != 1:
                phase = 2.0 * np.pi * ((indices[i] - 1.0) / sample_rate - t[frame]) / duration
                re, im = np.cos(phase), np.sin(phase)
            main[i] = 0.42 + 0.5 * re + 0.08 * (2.0 * re * re - 1.0)
            re, im = re * turn_re - im * turn_im, re * turn_im + im * turn_re
        for i in range(length):
            if i == 0:
                diff = -main[1] / 2.0
            elif i == length - 1:
                diff = main[length - 2] / 2.0
            else:
                diff = -(main[i + 1] - main[i - 1]) / 2.0
            windowed[1, i] = windowed[0, i] * diff
            windowed[0, i] *= main[i]
        factors = turns[::largest // size]
        tentative = _mean_frequency(windowed, factors, sample_rate, initial, 2)
        if tentative <= 0.0 or tentative > 2.0 * initial:
            refined = 0.0
        else:
            refined = _mean_frequency(windowed, factors, sample_rate, tentative, 6)
        out[frame] = initial if abs(refined - initial) / initial > 0.2 else refined
    return out


@vcfx.compiled
def _fft_size(length):
    """WORLD's FFT size for a window of ``length`` samples: four times it, at least, to a power of 2."""
    return int(2.0 ** (2 + int(np.log(length * 1.0) / LOG_2)))


@vcfx.compiled
def _mean_frequency(windowed, factors, sample_rate, f0, harmonics):
    """The harmonics' instantaneous frequencies, weighted by their amplitudes, over the harmonic numbers so weighted.

    ``factors`` are the FFT's, ``e^(-2 pi i m / size)``; the spectra are
    summed at the harmonics' bins only.
    """
    size = len(factors)
    numerator = denominator = 0.0
    for h in range(1, harmonics + 1):
        index = int(np.floor(f0 * size / sample_rate * h + 0.5))
        main = diff = 0j
        at = 0
        for n in range(windowed.shape[1]):
            main += windowed[0, n] * factors[at]
            diff += windowed[1, n] * factors[at]
            at = (at + index) & (size - 1)
        power = main.real * main.real + main.imag * main.imag
        frequency = 0.0
        if power != 0.0:
            frequency = index * sample_rate / size + (main.real * diff.imag - main.imag * diff.real) / power * sample_rate / 2.0 / np.pi
        numerator += np.sqrt(power) * frequency
        denominator += np.sqrt(power) * h
    return numerator / (denominator + SAFEGUARD)
