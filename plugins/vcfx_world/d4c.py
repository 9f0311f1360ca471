"""WORLD's aperiodicity (D4C), frame for frame as WORLD computes it, in batches with NumPy.

D4C (its d4c.cpp, which pyworld wraps) measures, on each voiced frame, how
far the group delay of the voice strays from the smooth one of a periodic
signal: the static group delay (the energy centroid of two Blackman
windows a quarter period either side of the frame, over the power in a
Hann window, each four periods long, smoothed over ``f0 / 2`` minus its
smoothing over ``f0``) is windowed around each multiple of 3 kHz, and the
share of its spectrum outside the strongest bins is that band's
aperiodicity, in dB, corrected by ``(f0 - 100) / 50`` and at most 0; the
bands are interpolated in dB from -60 at 0 Hz to 0 at Nyquist. WORLD does
this one frame at a time, after its own voicing check (``D4CLoveTrain``,
which the analysis leaves out: it decides voicing itself); here
:data:`~vcfx_world.cheaptrick.FRAMES_PER_BATCH` frames share each FFT
call, every FFT in single precision (the group delay's band spectra in
double instead move the result by under 1e-5 dB). WORLD dithers each
window with fresh noise 1e-12 in size, which decides the group delay
where the voice has no energy at all (a synthetic voice's empty bands,
digital silence); here the dither is read from a fixed noise track at the
window's samples, so the result is the same on every run.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.fft

from .cheaptrick import dc_corrected, in_batches, matlab_round, smoothed, windowed

FLOOR_F0_HZ = 47.0
"""Lowest f0 D4C analyses at (WORLD's ``kFloorF0D4C``); lower frames are analysed at it."""

BAND_HZ = 3000.0
"""Spacing of D4C's bands (WORLD's ``kFrequencyInterval``)."""

TOP_BAND_HZ = 15000.0
"""Highest band D4C may measure (WORLD's ``kUpperLimit``)."""

LOWEST_DB = -60.0
"""Aperiodicity at 0 Hz, in dB, from which the bands are interpolated."""

DITHER = 1e-12
"""Size of the noise added to every windowed sample (WORLD's ``kMySafeGuardMinimum``)."""


NOISE_TRACK = 1 << 16
"""Samples of the noise track the dither is read from, at each window's samples modulo its length."""


def _dither_track(window: int) -> np.ndarray:
    """The noise track times :data:`DITHER`, its start repeated after its end, so a window may start anywhere in it."""
    return _dither_track_for(1 << max(0, window - 1).bit_length())


@cache
def _dither_track_for(window: int) -> np.ndarray:  # drawn on first use, not on import
    noise = DITHER * np.random.default_rng(20170201).standard_normal(NOISE_TRACK)
    return np.concatenate([noise, np.resize(noise, window)])


RESOLUTION = 1e-16
"""Smallest share of a frame's peak power that its smoothed power spectrum resolves (float64 running sums).

Where the voice has less, the group delay is rounding in WORLD too (and
the two part there: docs/measurements.md#analysis-numpy); the power is
held at this share, so that no band divides by 0.
"""


def fft_size(sample_rate: int) -> int:
    """Length of D4C's own FFTs at ``sample_rate``: four periods of :data:`FLOOR_F0_HZ`, to a power of 2."""
    return int(2.0 ** (1 + int(np.log(4.0 * sample_rate / FLOOR_F0_HZ + 1) / np.log(2))))


def bands(sample_rate: int) -> int:
    """How many 3 kHz bands D4C measures at ``sample_rate``."""
    return int(min(TOP_BAND_HZ, sample_rate / 2 - BAND_HZ) / BAND_HZ)


def aperiodicity(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, size: int) -> np.ndarray:
    """D4C's aperiodicity (``size // 2 + 1`` bins, in 0 .. 1) of voiced frames at times ``t`` (s), f0 ``f0`` (Hz).

    Parameters
    ----------
    x : np.ndarray
        One channel.
    f0, t : np.ndarray
        f0 (Hz, all positive) and time (s) of each frame.
    sample_rate : int
        Rate of ``x``.
    size : int
        FFT size of the envelope the aperiodicity goes with (its bins).
    """
    f0 = np.maximum(np.asarray(f0, dtype=np.float64), FLOOR_F0_HZ)
    t = np.asarray(t, dtype=np.float64)
    coarse = in_batches(lambda frames: _coarse(x, f0[frames], t[frames], sample_rate), f0, bands(sample_rate))
    coarse = np.minimum(0.0, coarse + ((f0 - 100.0) / 50.0)[:, None])
    axis = np.concatenate([np.arange(coarse.shape[1] + 1) * BAND_HZ, [sample_rate / 2]])
    levels = np.column_stack([np.full(len(f0), LOWEST_DB), coarse, np.full(len(f0), -1e-12)])
    return np.exp(levels @ _interpolation(axis, sample_rate, size))


def _interpolation(axis: np.ndarray, sample_rate: int, size: int) -> np.ndarray:
    """Matrix from levels in dB at the frequencies ``axis`` to natural logs of amplitude at every bin (linear in dB)."""
    hz = np.arange(size // 2 + 1) * sample_rate / size
    segment = np.clip(np.searchsorted(axis, hz, side="right") - 1, 0, len(axis) - 2)
    weight = (hz - axis[segment]) / (axis[segment + 1] - axis[segment])
    matrix = np.zeros((len(axis), len(hz)))
    bins = np.arange(len(hz))
    matrix[segment, bins] = 1.0 - weight
    matrix[segment + 1, bins] += weight
    return matrix * (np.log(10.0) / 20.0)


def _windowed(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, blackman: bool) -> np.ndarray:
    """Each frame in a window four periods long (Hann, or Blackman), its weighted mean removed; zero-padded rows."""
    half = matlab_round(2.0 * sample_rate / f0)
    first = matlab_round(t * sample_rate + 0.001) - half
    return windowed(x, first, half, np.pi / 2.0 / sample_rate * f0, blackman=blackman,
                    dither=(_dither_track(2 * int(half.max()) + 1), first % NOISE_TRACK))


def _centroid(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int, size: int) -> np.ndarray:
    """The energy centroid of each frame's spectrum: Re and Im of its FFT against those of its time-weighted FFT."""
    waveform = _windowed(x, f0, t, sample_rate, blackman=True)
    waveform /= np.sqrt(np.sum(waveform * waveform, axis=1, keepdims=True))
    plain = scipy.fft.rfft(waveform.astype(np.float32), n=size, axis=1)
    weighted = scipy.fft.rfft((waveform * np.arange(1, waveform.shape[1] + 1)).astype(np.float32), n=size, axis=1)
    return (plain.real * weighted.real + plain.imag * weighted.imag).astype(np.float64)


def _coarse(x: np.ndarray, f0: np.ndarray, t: np.ndarray, sample_rate: int) -> np.ndarray:
    """Each band's aperiodicity (dB) of frames with f0 ``f0`` at times ``t``, before the f0 correction."""
    size = fft_size(sample_rate)
    step = sample_rate / size
    centroid = _centroid(x, f0, t - 0.25 / f0, sample_rate, size) + _centroid(x, f0, t + 0.25 / f0, sample_rate, size)
    centroid = dc_corrected(centroid, f0, step)
    spectrum = scipy.fft.rfft(_windowed(x, f0, t, sample_rate, blackman=False).astype(np.float32), n=size, axis=1)
    power = smoothed(dc_corrected((spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float64), f0, step), f0, step)
    # the smoothing takes differences of running sums: below RESOLUTION of the peak, the power is rounding
    power = np.maximum(power, RESOLUTION * power.max(axis=1, keepdims=True))
    delay = smoothed(centroid / power, f0 / 2.0, step)
    delay -= smoothed(delay, f0, step)

    length = int(BAND_HZ * size / sample_rate) * 2 + 1
    nuttall = _nuttall(length)
    strongest = int(matlab_round(np.array(size * 8.0 / length))) + 1  # the bins a periodic frame's energy falls in
    out = np.empty((len(f0), bands(sample_rate)))
    for b in range(out.shape[1]):
        centre = int(BAND_HZ * (b + 1) * size / sample_rate)
        segment = delay[:, centre - length // 2:centre - length // 2 + length] * nuttall
        # a share of the band's power, so its scale is free: at most 1, single precision neither under- nor overflows
        segment /= np.maximum(np.abs(segment).max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
        band = scipy.fft.rfft(segment.astype(np.float32), n=size, axis=1)
        band_power = band.real ** 2 + band.imag ** 2
        weakest = np.partition(band_power, band_power.shape[1] - strongest, axis=1)[:, :band_power.shape[1] - strongest]
        out[:, b] = 10.0 * np.log10(weakest.sum(axis=1) / band_power.sum(axis=1))
    return out


def _nuttall(length: int) -> np.ndarray:
    """WORLD's Nuttall window of ``length`` samples."""
    phase = 2.0 * np.pi * np.arange(length) / (length - 1.0)
    return 0.355768 - 0.487396 * np.cos(phase) + 0.144232 * np.cos(2 * phase) - 0.012604 * np.cos(3 * phase)
