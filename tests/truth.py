"""Independent judges shared by the tests and the quality benchmarks; nothing here reads WORLD's features.

Praat (through parselmouth) judges pitch and voicing, with pYIN (librosa) as a
second pitch judge where two must agree; linear prediction
(librosa) judges the spectral envelope of the audio itself. The benchmarks
import this module from ``tests/``, so both measure with one copy.
"""

from __future__ import annotations

import librosa
import numpy as np
import parselmouth
import scipy.signal

import vcfx

ENVELOPE_RATE = 16000
"""Rate the envelope is measured at: formants up to 8 kHz, as in formant trackers."""


def praat_f0(audio: vcfx.Audio, floor: float = 60.0, ceiling: float = 900.0, step_s: float = 0.01):
    """Times (s) and f0 (Hz, 0 where unvoiced) of the first channel, by Praat's autocorrelation."""
    sound = parselmouth.Sound(audio.samples[0].astype(np.float64), audio.sample_rate)
    pitch = sound.to_pitch_ac(time_step=step_s, pitch_floor=floor, pitch_ceiling=ceiling)
    return pitch.xs(), pitch.selected_array["frequency"]


def f0_at(audio: vcfx.Audio, times_s: np.ndarray, **kw) -> np.ndarray:
    """Praat f0 sampled at ``times_s`` (nearest frame; 0 where unvoiced or outside)."""
    t, f = praat_f0(audio, **kw)
    idx = np.clip(np.searchsorted(t, times_s), 0, len(t) - 1)
    near = np.abs(t[idx] - times_s) <= 0.006
    return np.where(near, f[idx], 0.0)


def shift_cents(before: vcfx.Audio, after: vcfx.Audio, time_scale: float = 1.0, **kw) -> np.ndarray:
    """Per-frame pitch change in cents on frames voiced in both.

    ``time_scale`` maps a time in ``before`` to the time in ``after``
    (1 / rate for tempo and speed).
    """
    t, f_before = praat_f0(before, **kw)
    f_after = f0_at(after, t * time_scale, **kw)
    both = (f_before > 0) & (f_after > 0)
    return 1200.0 * np.log2(f_after[both] / f_before[both])


def cents(ratio: float) -> float:
    return 1200.0 * float(np.log2(ratio))


def aligned_cents(before: vcfx.Audio, after: vcfx.Audio, time_scale: float, **kw) -> np.ndarray:
    """Pitch change in cents, Praat frame by Praat frame, with ``after`` read at exactly ``t * time_scale``.

    The output's f0 is interpolated (in log frequency) between its two Praat
    frames around the mapped time, and used only where both are voiced, so a
    falling intonation does not bias the comparison when the frame grids
    of input and output do not line up.
    """
    t, f_before = praat_f0(before, **kw)
    t_after, f_after = praat_f0(after, **kw)
    x = t * time_scale
    i = np.clip(np.searchsorted(t_after, x), 1, len(t_after) - 1)
    lo, hi = f_after[i - 1], f_after[i]
    w = (x - t_after[i - 1]) / (t_after[i] - t_after[i - 1])
    ok = (f_before > 0) & (lo > 0) & (hi > 0) & (w >= 0) & (w <= 1)
    f = np.exp2((1 - w[ok]) * np.log2(lo[ok]) + w[ok] * np.log2(hi[ok]))
    return 1200.0 * np.log2(f / f_before[ok])


def rms_ratio(before: vcfx.Audio, after: vcfx.Audio) -> float:
    """RMS of ``after`` over RMS of ``before`` (all channels)."""
    rms = [np.sqrt(np.mean(np.square(a.samples, dtype=np.float64))) for a in (before, after)]
    return float(rms[1] / rms[0])


def f0_change_cents(before: vcfx.Audio, after: vcfx.Audio, **kw) -> float:
    """Median pitch change (Praat) in cents on frames voiced in both."""
    return float(np.median(shift_cents(before, after, **kw)))


def log_f0_spread(before: vcfx.Audio, after: vcfx.Audio, time_scale: float = 1.0, after_floor: float | None = None,
                  **kw) -> dict[str, float]:
    """How the spread and the mean of log f0 (Praat) changed, on frames voiced in both.

    ``time_scale`` maps a time in ``before`` to the time in ``after``
    (1 / rate after a tempo change). ``after_floor`` is Praat's pitch floor
    for ``after`` (default: ``floor``, as for ``before``): an effect that
    widens the pitch range can put low frames below the input's floor, and
    the judge must still see them.

    Returns
    -------
    dict
        ``std_ratio``: standard deviation of log f0 after over before;
        ``mean_cents``: change of the mean log f0 in cents; ``frames``: frames compared.
    """
    t, f_before = praat_f0(before, **kw)
    f_after = f0_at(after, t * time_scale, **(kw if after_floor is None else {**kw, "floor": after_floor}))
    both = (f_before > 0) & (f_after > 0)
    lb, la = np.log2(f_before[both]), np.log2(f_after[both])
    return {"std_ratio": float(la.std() / lb.std()), "mean_cents": float(1200 * (la.mean() - lb.mean())),
            "frames": int(both.sum())}


def subharmonic_db(audio: vcfx.Audio, f0_hz: float, harmonics: int = 7) -> float:
    """Energy halfway between the harmonics of ``f0_hz`` against the energy at them, in dB (first channel).

    For a steady voice: one Hann-windowed spectrum of the whole signal,
    energy summed within 10 % of ``f0_hz`` around each of the first
    ``harmonics`` multiples and around each half-integer multiple below
    them (``f0_hz / 2`` first). A voice periodic at ``f0_hz`` has nothing
    between its harmonics; noise, and a cycle repeated every other period
    (a fundamental an octave below), show up there.
    """
    x = audio.samples[0].astype(np.float64)
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / audio.sample_rate)

    def around(multiples):
        return sum(power[np.abs(freqs - m * f0_hz) < 0.1 * f0_hz].sum() for m in multiples)

    between = around(np.arange(harmonics) + 0.5)
    return float(10 * np.log10(between / around(np.arange(1, harmonics + 1))))


def vowels_and_hiss(rate: int = 22050, f0_hz: float = 180.0, pairs: int = 3) -> tuple[vcfx.Audio, dict]:
    """A voice of known parts: bursts of band-passed noise (0.2 s) and vowels (0.3 s at ``f0_hz``), by turns.

    The noise (2-6 kHz, like a fricative) is 12 dB under the vowels (mean
    square of a whole part). Each part fades in and out over its whole
    length (a Hann window to the power 1/4), so neither starts with a click.

    Returns
    -------
    audio : vcfx.Audio
    spans : dict
        ``"noise"`` and ``"vowel"``: the (start, end) samples of each part.
    """
    vowel = vcfx.synthetic_voice(0.3, rate, f0_hz=f0_hz).audio.samples[0]
    vowel = vowel * np.hanning(len(vowel)) ** 0.25
    band = scipy.signal.butter(4, (2000.0, 6000.0), "bandpass", fs=rate, output="sos")
    noise = scipy.signal.sosfilt(band, np.random.default_rng(0).standard_normal(int(0.2 * rate)))
    noise *= np.hanning(len(noise)) ** 0.25
    noise *= np.sqrt(np.mean(vowel ** 2) / np.mean(noise ** 2)) / 4.0
    parts, spans = [], {"noise": [], "vowel": []}
    for _ in range(pairs):
        for kind, part in (("noise", noise), ("vowel", vowel)):
            start = sum(map(len, parts))
            spans[kind].append((start, start + len(part)))
            parts.append(part)
    return vcfx.Audio(np.concatenate(parts)[np.newaxis], rate), spans


def level_change_db(before: np.ndarray, after: np.ndarray, span: tuple[int, int], margin: int) -> float:
    """Mean square of ``after`` over ``span`` against ``before``'s, in dB, ``margin`` samples in from either end."""
    inner = slice(span[0] + margin, span[1] - margin)
    return float(10 * np.log10(np.mean(np.square(after[..., inner], dtype=np.float64))
                               / np.mean(np.square(before[..., inner], dtype=np.float64))))


AGREE_CENTS = 50.0
"""Praat and pYIN agree on a frame when both call it voiced and their f0 differ by less than this."""


def pyin_f0_at(audio: vcfx.Audio, times_s: np.ndarray, floor: float = 60.0, ceiling: float = 900.0) -> np.ndarray:
    """pYIN's f0 (librosa) of the first channel at ``times_s`` (nearest 10 ms frame; 0 where unvoiced or outside).

    The frame is long enough for two periods at ``floor``.
    """
    sr = audio.sample_rate
    hop = int(round(0.01 * sr))
    frame = int(2 ** np.ceil(np.log2(2.2 * sr / floor)))
    f, voiced, _ = librosa.pyin(audio.samples[0].astype(np.float64), fmin=floor, fmax=ceiling, sr=sr,
                                frame_length=frame, hop_length=hop)
    f = np.where(voiced & np.isfinite(f), f, 0.0)
    idx = np.rint(np.asarray(times_s) * sr / hop).astype(int)
    inside = (idx >= 0) & (idx < len(f))
    return np.where(inside, f[np.clip(idx, 0, len(f) - 1)], 0.0)


def agreed_f0(audio: vcfx.Audio, times_s: np.ndarray, floor: float = 60.0, ceiling: float = 900.0) -> np.ndarray:
    """Praat's f0 at ``times_s`` where Praat and pYIN agree (:data:`AGREE_CENTS`), else 0."""
    praat = f0_at(audio, times_s, floor=floor, ceiling=ceiling)
    pyin = pyin_f0_at(audio, times_s, floor=floor, ceiling=ceiling)
    both = (praat > 0) & (pyin > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.abs(1200.0 * np.log2(np.where(both, praat / np.where(both, pyin, 1.0), 1.0))) < AGREE_CENTS
    return np.where(both & close, praat, 0.0)


def agreed_log_f0_spread(before: vcfx.Audio, after: vcfx.Audio, time_scale: float = 1.0, floor: float = 60.0,
                         ceiling: float = 900.0, after_floor: float | None = None) -> dict[str, float]:
    """As :func:`log_f0_spread`, on the frames where Praat and pYIN agree in ``before`` and in ``after``.

    Two trackers that work differently (autocorrelation; a probabilistic
    YIN with an HMM) agreeing within :data:`AGREE_CENTS` mark a frame whose
    pitch is clear; creak, breath and the faint ends of syllables, where
    trackers disagree, do not count.
    """
    t, _ = praat_f0(before, floor=floor, ceiling=ceiling)
    f_before = agreed_f0(before, t, floor=floor, ceiling=ceiling)
    f_after = agreed_f0(after, t * time_scale, floor=floor if after_floor is None else after_floor, ceiling=ceiling)
    both = (f_before > 0) & (f_after > 0)
    lb, la = np.log2(f_before[both]), np.log2(f_after[both])
    return {"std_ratio": float(la.std() / lb.std()), "mean_cents": float(1200 * (la.mean() - lb.mean())),
            "frames": int(both.sum())}


def lpc_envelope_db(audio: vcfx.Audio, times_s: np.ndarray, freqs_hz: np.ndarray, order: int = 18,
                    frame_s: float = 0.025) -> np.ndarray:
    """Mean LPC log envelope (dB) at ``freqs_hz`` over frames centred at ``times_s`` (first channel).

    The usual formant-analysis set-up: resampled to 16 kHz, pre-emphasised
    (0.97), Hann-windowed 25 ms frames, order 2 + 16 = 18.
    """
    x = librosa.resample(audio.samples[0].astype(np.float64), orig_sr=audio.sample_rate,
                         target_sr=ENVELOPE_RATE)
    x = librosa.effects.preemphasis(x, coef=0.97)
    half = int(frame_s * ENVELOPE_RATE / 2)
    window = np.hanning(2 * half)
    w = 2 * np.pi * freqs_hz / ENVELOPE_RATE
    basis = np.exp(-1j * np.outer(w, np.arange(order + 1)))
    envelopes = []
    for t in times_s:
        c = int(round(t * ENVELOPE_RATE))
        if c - half < 0 or c + half > len(x):
            continue
        a = librosa.lpc(x[c - half : c + half] * window, order=order)
        envelopes.append(-20 * np.log10(np.abs(basis @ a)))
    return np.mean(envelopes, axis=0)


def envelope_ratio(before: vcfx.Audio, after: vcfx.Audio, band_hz=(300.0, 5000.0),
                   search=(0.7, 1.5), **kw) -> float:
    """Frequency ratio that best maps the envelope of ``before`` onto that of ``after``.

    Envelopes are LPC log envelopes averaged over frames Praat finds voiced in
    both; the ratio minimises the variance of their difference over
    ``band_hz`` on a log-frequency axis (a level difference does not count).
    """
    t, f_before = praat_f0(before, **kw)
    times = t[(f_before > 0) & (f0_at(after, t, **kw) > 0)]
    grid = np.geomspace(*band_hz, 400)
    ref = lpc_envelope_db(before, times, grid)
    fine = np.geomspace(band_hz[0] * search[0], band_hz[1] * search[1], 4000)
    moved = lpc_envelope_db(after, times, fine)
    ratios = np.exp(np.arange(np.log(search[0]), np.log(search[1]), 0.0005))
    cost = [np.var(np.interp(np.log(r * grid), np.log(fine), moved) - ref) for r in ratios]
    return float(ratios[int(np.argmin(cost))])


def shift_error(before: vcfx.Audio, after: vcfx.Audio, semitones: float, floor: float = 60.0,
                ceiling: float = 900.0, step_s: float = 0.01) -> dict:
    """How far a pitch shift of ``semitones`` missed, Praat frame by Praat frame, and the voicing it kept.

    Praat tracks ``before`` between ``floor`` and ``ceiling`` and ``after``
    between the same bounds times the intended ratio, so both analyses see
    the same number of periods per window and the same search range
    relative to the voice. The output's f0 is read at each input frame's
    time, interpolated in log frequency between its two neighbouring frames
    (both must be voiced), as in :func:`aligned_cents`.

    Returns
    -------
    dict
        ``cents``: error (cents, output minus intended) on each frame
        voiced in both;
        ``kept``: of the input frames Praat calls voiced, the share whose
        nearest output frame (within 6 ms) it calls voiced too;
        ``frames``: input frames voiced.
    """
    ratio = 2.0 ** (semitones / 12.0)
    t, f_before = praat_f0(before, floor, ceiling, step_s)
    t_after, f_after = praat_f0(after, floor * ratio, ceiling * ratio, step_s)
    voiced = f_before > 0
    i = np.clip(np.searchsorted(t_after, t), 1, len(t_after) - 1)
    lo, hi = f_after[i - 1], f_after[i]
    w = (t - t_after[i - 1]) / (t_after[i] - t_after[i - 1])
    ok = voiced & (lo > 0) & (hi > 0) & (w >= 0) & (w <= 1)
    f = np.exp2((1 - w[ok]) * np.log2(lo[ok]) + w[ok] * np.log2(hi[ok]))
    error = 1200.0 * np.log2(f / f_before[ok]) - 100.0 * semitones
    nearest = np.where(w < 0.5, i - 1, i)
    kept = (np.abs(t_after[nearest] - t) <= 0.006) & (f_after[nearest] > 0)
    return {"cents": error, "kept": float(kept[voiced].mean()), "frames": int(voiced.sum())}


DNSMOS_RATE = 16000
"""The rate DNSMOS P.835 was trained at."""

DNSMOS_HIGHPASS_HZ = 50.0
"""Where :func:`dnsmos_ovrl` can high-pass first: no part of a voice a listener hears lies below.

DNSMOS is not deaf below it: an offset that follows the voice moved a
score by 0.4 (docs/measurements.md#judges)."""


def dnsmos_scores(audio: vcfx.Audio, highpass_hz: float | None = None) -> dict[str, float]:
    """DNSMOS's no-reference scores (1-5) of the first channel: P.835's ``ovrl``, ``sig``, ``bak``, and ``p808``.

    The models ship inside the ``speechmos`` wheel and run on onnxruntime
    (``pip install "vcfx[bench]"``); the audio is resampled to 16 kHz and
    clipped to [-1, 1], as the model requires. The models score 9.01 s
    windows one second apart and average them; a shorter clip is repeated
    to fill exactly one window (``speechmos`` itself would double it until
    it fits, scoring up to twice as many windows of the same audio). With
    ``highpass_hz`` (:data:`DNSMOS_HIGHPASS_HZ`) the audio is first
    high-passed there (4th-order Butterworth, forward and back, so no
    delay), so what lies below, inaudible, does not count. ``p808`` is the
    second model DNSMOS carries, trained on other ratings (ITU-T P.808):
    a second opinion from the same package.
    """
    from speechmos import dnsmos

    x = audio.samples[0].astype(np.float64)
    if highpass_hz is not None:
        x = scipy.signal.sosfiltfilt(scipy.signal.butter(4, highpass_hz, "highpass", fs=audio.sample_rate,
                                                         output="sos"), x)
    x = librosa.resample(x, orig_sr=audio.sample_rate, target_sr=DNSMOS_RATE)
    window = int(dnsmos.INPUT_LENGTH * DNSMOS_RATE)
    if len(x) < window:
        x = np.resize(x, window)
    scores = dnsmos.run(np.clip(x, -1.0, 1.0), DNSMOS_RATE)
    return {key: float(scores[f"{key}_mos"]) for key in ("ovrl", "sig", "bak", "p808")}


def dnsmos_ovrl(audio: vcfx.Audio, highpass_hz: float | None = None) -> float:
    """DNSMOS P.835 overall score (1-5, no reference) of the first channel (:func:`dnsmos_scores`)."""
    return dnsmos_scores(audio, highpass_hz)["ovrl"]


def text_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows of measurements as aligned text: a header, a rule, one line per row (what the benchmarks print)."""
    columns = list(rows[0]) if columns is None else columns
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [columns, ["-" * w for w in widths], *cells]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
