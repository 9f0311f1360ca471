"""The PSOLA domain live: causal pitch marks and overlap-add with a look-ahead of three longest periods.

Registered for the ``psola`` domain through ``register_live_domains``. Each
block goes through the same steps as the offline domain, in order, as far
as the input received so far allows:

1. **f0**, one frame every ``frame_period_ms``: over the stretch of two
   longest periods centred on the frame, the normalised cross-correlation
   of its first ``n - lag`` samples with its last ``n - lag`` at every lag
   (two windows one lag apart centred on the frame, as the offline
   periodicity measures it, as long as the look-ahead allows); the
   shortest lag whose peak comes near the best, refined by a parabola and
   by StoneMask where that stays within
   :data:`vcfx_world.PEAK_TOLERANCE_CENTS`. A frame is voiced when that
   peak reaches :data:`vcfx_world.VOICING_THRESHOLD`, more where the
   stretch is quiet against the loudest of the last
   :data:`CENTRE_WINDOW_S` seconds and never under
   :data:`vcfx_world.SILENCE` of it (Praat's rule,
   :meth:`PsolaLive._unvoice_quiet`); a frame that leaps more than an
   octave off the one before without repeating clearly is put near the
   period before (:meth:`PsolaLive._no_leaps`). A Hann window's
   autocorrelation divided by the window's own (Boersma's method, Praat's)
   needs three longest periods: over two it is divided by 0.17 at the
   longest lag, and its noise there outweighed the period.
2. **Analysis marks**: the next mark where the period around the last one
   repeats best (a lag within -20 / +25 % of the period, to a fraction of
   a sample), as offline; but
   where offline marks a voiced stretch outwards from its loudest frame, a
   stream cannot wait for that frame: the first mark of a voiced stretch
   sits on the maximum of the signal low-passed to about its fundamental,
   within half a period of one period after the last mark (every 10 ms
   where unvoiced).
3. **Effects**: every effect's own ``process_psola`` runs on a
   :class:`LiveState` holding the last :data:`CENTRE_WINDOW_S` seconds of
   analysed frames, so ``pitch_variance`` finds its centre over that
   window: a running estimate.
4. **Output marks** where the target rate, integrated frame by frame,
   reaches one more mark (as offline; one target period of the frame at
   the mark before lagged a glide by 10-15 cents), each overlap-adding the
   Hann-windowed two-period grain of the nearest analysis mark (no wider
   than two target periods), read ``formant_ratio`` times as fast and
   placed between samples where the output mark falls, as offline
   (:func:`vcfx_psola.overlap_add.overlap_add`); to the nearest sample, the
   jitter of the periods filled the gaps between harmonics. The output gets
   its input's level through running mean
   squares (:data:`LEVEL_TIME_S`); where no effect changes a frame (as in
   unvoiced frames under a pitch shift), the delayed input is passed
   through instead. Offline, the voiced grains alone are scaled, a few
   periods at a time (:func:`vcfx_psola.level.leveled`).

The latency is three of the longest periods (the f0 window's half, the
wait for the next analysis mark, a grain's half-width) and half a frame.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyworld
from scipy import signal

import vcfx
from vcfx_world import PEAK_TOLERANCE_CENTS, SILENCE, VOICING_THRESHOLD, parabola_vertex  # as offline

from .domain import analysis_options, check_state
from .marks import UNVOICED_SPACING_S, refined_lag, repeat_lag
from .overlap_add import grain_window
from .state import PsolaState

__all__ = ["LiveState", "PsolaLive", "live_processor", "latency_frames", "CENTRE_WINDOW_S", "MIN_RATE", "MAX_RATE"]

CENTRE_WINDOW_S = 3.0
"""Seconds of past frames the effects see each block: ``pitch_variance``'s centre is their running mean."""

LOWPASS_HARMONICS = 1.5
"""A voiced stretch's first mark sits on a maximum of the signal low-passed at this many times the voice's mean f0."""


NEAR_BEST = 0.9
"""The shortest lag whose peak reaches this share of the best peak is the period, so a multiple never wins."""

LEAP_OCTAVES = 1.0
CLEAR_LEAP = 0.8
NEAR_PERIOD = 1.06
"""A frame more than ``LEAP_OCTAVES`` off the frame before that repeats less than ``CLEAR_LEAP`` is put on the
correlation's peak within a factor ``NEAR_PERIOD`` of the period before (:meth:`PsolaLive._no_leaps`)."""

SILENCE_RMS = 1e-5
"""Frames quieter than this are unvoiced."""

MIN_RATE, MAX_RATE = 8000, 96000
"""Sample rates the live engine streams at."""

HISTORY_S = 1.0
"""Seconds of input, low-passed input and output kept in memory."""

LEVEL_TIME_S = 1.0
"""Time constant of the running mean squares that give the output its input's level."""

CROSSFADE_S = 0.01
"""Fade between the delayed input (every effect neutral) and the overlap-add, either way."""


def longest_period(sample_rate: int, opts: dict[str, Any]) -> int:
    """Frames of the longest period the stream handles: of ``f0_floor_hz``, or the unvoiced mark spacing."""
    return max(math.ceil(sample_rate / opts["f0_floor_hz"]), math.ceil(UNVOICED_SPACING_S * sample_rate))


def latency_frames(sample_rate: int, opts: dict[str, Any]) -> int:
    """The live PSOLA engine's latency: three longest periods and half a frame."""
    hop = opts["frame_period_ms"] * sample_rate / 1000.0
    return 3 * longest_period(sample_rate, opts) + math.ceil(hop / 2) + 1


class LiveState(PsolaState):
    """A :class:`~vcfx_psola.PsolaState` of the frames a live block's effects see.

    Its frames are the last :data:`CENTRE_WINDOW_S` seconds of analysed
    frames; :meth:`frame_times` gives their times since the stream began,
    so a :class:`vcfx.Curve` parameter follows the stream's clock. It
    holds no samples (``samples`` has no frames): live effects change
    ``f0`` and ``formant_ratio`` only.
    """

    first_frame: int = 0

    def frame_times(self) -> np.ndarray:
        return (self.first_frame + np.arange(len(self.f0))) * (self.frame_period_ms / 1000.0)

    def frames_for(self, samples: int) -> int:
        """The window's frames (a live state's ``frames`` counts frames, not samples)."""
        return len(self.f0)


def live_processor(effects, contexts, sample_rate, channels, block_frames, ctx) -> "PsolaLive":
    """The ``register_live_domains`` factory of the ``psola`` domain."""
    return PsolaLive(effects, contexts, sample_rate, channels, block_frames, ctx)


class PsolaLive(vcfx.LiveProcessor):
    """PSOLA on a live stream; see the module's description."""

    def __init__(self, effects, contexts, sample_rate: int, channels: int, block_frames: int, ctx: vcfx.Context):
        for eff in effects:
            if type(eff).expected_frames is not vcfx.Effect.expected_frames:
                raise vcfx.StreamError(f'effect "{eff.name}" changes the length (it declares expected_frames), '
                                       "and a live stream's output keeps pace with its input")
        if not MIN_RATE <= sample_rate <= MAX_RATE:
            raise vcfx.StreamError(f"the live psola engine streams at {MIN_RATE} to {MAX_RATE} Hz, not "
                                   f"{sample_rate} Hz; resample the input or open the device at 48000 Hz")
        self.effects, self.contexts = list(effects), list(contexts)
        self.opts = analysis_options(ctx)
        self.sr, self.channels, self.block_frames = sample_rate, channels, block_frames
        self.hop = self.opts["frame_period_ms"] * sample_rate / 1000.0
        self.pmax = longest_period(sample_rate, self.opts)
        self.latency_frames = latency_frames(sample_rate, self.opts)
        self.lag_min = max(2, int(sample_rate / self.opts["f0_ceil_hz"]))
        self.window = 2 * self.pmax
        self.nfft = 1 << math.ceil(math.log2(self.window + self.pmax + 2))
        self.unvoiced = round(UNVOICED_SPACING_S * sample_rate)
        self.cap = max(int(HISTORY_S * sample_rate), 4 * (self.latency_frames + block_frames))
        self.history_frames = int(CENTRE_WINDOW_S * 1000.0 / self.opts["frame_period_ms"])
        self.fade_step = 1.0 / max(1, round(CROSSFADE_S * sample_rate))
        self.reset()
        self._run_effects(np.full(4, 150.0), np.ones(4), 0)  # an effect that cannot run live fails now
        self._warm_up()

    def _warm_up(self) -> None:
        """Run every step once on a tone, then forget it: the first real block pays for no first calls."""
        tone = (0.1 * np.sin(2 * np.pi * 150.0 * np.arange(4 * self.latency_frames) / self.sr)).astype(np.float32)
        tone = np.repeat(tone[None, :], self.channels, axis=0)
        for start in range(0, tone.shape[1], self.block_frames):
            self.process(np.ascontiguousarray(tone[:, start:start + self.block_frames]))
        self.reset()

    # -- state -----------------------------------------------------------------------------------------------
    def reset(self) -> None:
        c, cap = self.channels, self.cap
        self.base = -(self.latency_frames + 2 * self.pmax + 2)  # absolute frame of index 0: zeros before the start
        self.t = 0  # frames received
        self.x = np.zeros((c, cap))
        self.mono = np.zeros(cap)
        self.acc = np.zeros((c, cap))
        self.emitted = 0  # output frames returned
        self.f0 = np.zeros(0)  # analysed f0 of frames [f0_base, f0_base + len)
        self.periodic = np.zeros(0)
        self.last_f0 = 0.0  # the last analysed frame's f0, before StoneMask
        self.peaks = np.zeros(0)  # per analysed frame, the peak of its window: the last CENTRE_WINDOW_S seconds
        self.target = np.zeros(0)
        self.ratio = np.ones(0)
        self.f0_base = 0
        self.frames_done = 0  # analysed frames
        self.target_done = 0  # frames with a target f0
        self.marks = [0]  # analysis marks (absolute), the last few
        self.mark_periods = [self.unvoiced]
        self.next_out: float | None = 0.0  # where the next output mark falls (absolute, fractional), once known
        self.last_out = 0.0  # where the last one fell
        self.mix = 0.0  # 0: the delayed input, 1: the overlap-add
        keep = math.exp(-1.0 / (LEVEL_TIME_S * self.sr))
        self.level_b, self.level_a = np.array([1.0 - keep]), np.array([1.0, -keep])
        self.power_zi = np.zeros((2, 1))
        self.busy = np.zeros(0)  # per frame: 1 where an effect changed it, 0 where every effect left it
        self.lp = np.zeros(cap)  # the mono mix low-passed (causal), up to lp_done
        self.lp_done = 0
        self.voiced_mean = math.log2(150.0)  # running mean log2 f0: the low-pass cutoff follows it
        self.cutoff = LOWPASS_HARMONICS * 150.0
        self.sos = signal.butter(4, self.cutoff, fs=self.sr, output="sos")
        self.zi = np.zeros((self.sos.shape[0], 2))

    def _shift(self, need: int) -> None:
        """Drop the oldest frames of the buffers when ``need`` more would not fit."""
        if self.t + need - self.base <= self.cap:
            return
        keep_from = max(0, self.t - self.latency_frames - 4 * self.pmax - self.block_frames - self.base)
        n = self.t - self.base - keep_from
        for buf in (self.x, self.acc):
            buf[:, :n] = buf[:, keep_from:keep_from + n]
            buf[:, n:] = 0.0
        for buf in (self.mono, self.lp):
            buf[:n] = buf[keep_from:keep_from + n]
            buf[n:] = 0.0
        self.base += keep_from

    # -- the block ---------------------------------------------------------------------------------------------
    def process(self, block: np.ndarray) -> np.ndarray:
        n = block.shape[1]
        self._shift(n)
        i = self.t - self.base
        self.x[:, i:i + n] = block
        self.mono[i:i + n] = block.mean(axis=0) if self.channels > 1 else block[0]
        self.t += n
        self._analyse()
        self._target()
        self._marks()
        self._overlap_add()
        return self._emit(n)

    def _analyse(self) -> None:
        """f0 and periodicity of every frame whose window the input now covers."""
        last = math.floor((self.t - self.pmax) / self.hop)
        first = self.frames_done
        if last < first:
            return
        centres = np.rint(np.arange(first, last + 1) * self.hop).astype(int)
        idx = centres[:, None] - self.pmax + np.arange(self.window)[None, :] - self.base
        segs = np.where(idx >= 0, self.mono[np.clip(idx, 0, None)], 0.0)
        f0, periodic, r = self._pitch(segs)
        f0, periodic = self._unvoice_quiet(np.abs(segs).max(axis=1), f0, periodic)
        f0, periodic = self._no_leaps(f0, periodic, r)
        tolerance = 2.0 ** (PEAK_TOLERANCE_CENTS / 1200.0)
        for k in np.flatnonzero(f0 > 0):  # refined by instantaneous frequency where that stays near, as offline
            start = centres[k] - 2 * self.pmax - self.base
            x = self.mono[start:start + 3 * self.pmax]  # the same stretch whatever the blocks
            refined = pyworld.stonemask(x, f0[k:k + 1], np.array([2 * self.pmax / self.sr]), self.sr)[0]
            if f0[k] / tolerance <= refined <= f0[k] * tolerance:
                f0[k] = refined
        self._append_frames(f0, periodic)
        self.frames_done = last + 1

    def _unvoice_quiet(self, peaks: np.ndarray, f0: np.ndarray, periodic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unvoice the frames Praat's rule calls silent: a frame whose window peaks at a share ``q`` of the loudest
        window of the last :data:`CENTRE_WINDOW_S` seconds is voiced only if it repeats at least
        ``VOICING_THRESHOLD + max(0, 2 - q (1 + VOICING_THRESHOLD) / SILENCE)``, so never under
        :data:`vcfx_world.SILENCE` (offline: under it against the whole voice's peak)."""
        history = np.concatenate([self.peaks, peaks])
        loudest = np.array([history[max(0, k - self.history_frames):k + 1].max()
                            for k in range(len(self.peaks), len(history))])
        self.peaks = history[-self.history_frames:]
        q = peaks / np.maximum(loudest, 1e-30)
        quiet = periodic < VOICING_THRESHOLD + np.maximum(0.0, 2.0 - q * (1.0 + VOICING_THRESHOLD) / SILENCE)
        return np.where(quiet, 0.0, f0), np.where(quiet, 0.0, periodic)

    def _pitch(self, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """f0 and periodicity of each row of ``segs`` (a frame's stretch), and the correlation at every lag."""
        segs = segs - segs.mean(axis=1, keepdims=True)
        rms = np.sqrt(np.mean(segs ** 2, axis=1))
        spec = np.fft.rfft(segs, self.nfft, axis=1)
        ac = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, self.nfft, axis=1)[:, : self.pmax + 2]
        energy = np.cumsum(segs ** 2, axis=1)
        shifts = np.arange(self.pmax + 2)
        first = energy[:, self.window - 1 - shifts]  # energy of the first window - lag samples, and of the last
        last = energy[:, -1:] - np.concatenate([np.zeros((len(segs), 1)), energy[:, shifts[1:] - 1]], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = ac / np.sqrt(first * last)
        r = np.nan_to_num(r)
        lo, hi = self.lag_min, self.pmax
        mid = r[:, lo:hi]
        peak = (mid >= r[:, lo - 1:hi - 1]) & (mid > r[:, lo + 1:hi + 1])
        lags = np.arange(lo, hi)
        strength = np.where(peak, mid, -np.inf)
        top_peak = strength.max(axis=1, keepdims=True)
        best = np.argmax(strength >= NEAR_BEST * top_peak, axis=1)
        rows = np.arange(len(segs))
        lag = lags[best]
        shift, top = np.array([parabola_vertex(*r[k, j - 1:j + 2]) for k, j in zip(rows, lag)]).reshape(-1, 2).T
        voiced = np.isfinite(strength[rows, best]) & (top >= VOICING_THRESHOLD) & (rms >= SILENCE_RMS)
        f0 = np.where(voiced, self.sr / (lag + shift), 0.0)
        return f0, np.where(voiced, np.minimum(top, 1.0), 0.0), r

    def _no_leaps(self, f0: np.ndarray, periodic: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frames more than :data:`LEAP_OCTAVES` off the frame before, that repeat less than :data:`CLEAR_LEAP`,
        put on the correlation's peak near the period before (unvoiced if it has none there), frame by frame.

        Where a syllable fades, the stretch holds the voice in one of its
        windows only, and the correlation peaks at a formant's ringing, two
        octaves up; a frame's pitch does not leap that far otherwise.
        """
        f0, periodic = f0.copy(), periodic.copy()
        for k in range(len(f0)):
            before = self.last_f0
            if f0[k] > 0 and before > 0 and abs(math.log2(f0[k] / before)) > LEAP_OCTAVES \
                    and periodic[k] < CLEAR_LEAP:
                period = self.sr / before
                lo = max(self.lag_min, int(period / NEAR_PERIOD))
                hi = min(self.pmax, int(math.ceil(period * NEAR_PERIOD)))
                j = lo + int(np.argmax(r[k, lo:hi + 1]))
                if lo < j < hi:
                    shift, top = parabola_vertex(r[k, j - 1], r[k, j], r[k, j + 1])
                    f0[k], periodic[k] = self.sr / (j + shift), min(1.0, max(float(top), 0.0))
                else:
                    f0[k], periodic[k] = 0.0, 0.0
            self.last_f0 = f0[k]
        return f0, periodic

    def _append_frames(self, f0: np.ndarray, periodic: np.ndarray) -> None:
        self.f0 = np.concatenate([self.f0, f0])
        self.periodic = np.concatenate([self.periodic, periodic])
        drop = len(self.f0) - self.history_frames - 64
        if drop > 0:
            self.f0, self.periodic = self.f0[drop:], self.periodic[drop:]
            self.target, self.ratio, self.busy = self.target[drop:], self.ratio[drop:], self.busy[drop:]
            self.f0_base += drop
        for k, f in enumerate(f0, start=self.frames_done):  # frame by frame: the blocks do not matter
            if f > 0:
                self.voiced_mean += 0.05 * (math.log2(f) - self.voiced_mean)
                cutoff = LOWPASS_HARMONICS * 2.0 ** self.voiced_mean
                if abs(cutoff / self.cutoff - 1.0) > 0.1:
                    self.cutoff = cutoff
                    self.sos = signal.butter(4, min(cutoff, 0.45 * self.sr), fs=self.sr, output="sos")
            end = round(k * self.hop) + self.pmax  # what frame k's marks can need, and no further
            if end > self.lp_done:
                a, b = self.lp_done - self.base, end - self.base
                self.lp[a:b], self.zi = signal.sosfilt(self.sos, self.mono[a:b], zi=self.zi)
                self.lp_done = end

    def _target(self) -> None:
        """Target f0 and formant ratio of every analysed frame that has none yet, one frame at a time.

        Frame ``j`` is given to the effects as the last of a window of the
        :data:`CENTRE_WINDOW_S` seconds up to it, so its target does not
        depend on how the input was cut into blocks.
        """
        for j in range(self.target_done, self.frames_done):
            end = j + 1 - self.f0_base
            start = max(0, end - self.history_frames)
            f0, ratio = self._run_effects(self.f0[start:end], self.periodic[start:end], self.f0_base + start)
            neutral = ratio == 1.0 and abs(f0 - self.f0[end - 1]) <= 1e-9 * self.f0[end - 1]
            self.target = np.append(self.target, f0)
            self.ratio = np.append(self.ratio, ratio)
            self.busy = np.append(self.busy, 0.0 if neutral else 1.0)
        self.target_done = self.frames_done

    def _run_effects(self, f0: np.ndarray, periodic: np.ndarray, first: int) -> tuple[float, float]:
        """The effects' target f0 of the last of these frames, and their formant ratio."""
        state = self._state(f0, periodic, first)
        before_s = state.source_s.copy()
        for eff, ctx in zip(self.effects, self.contexts):
            state = eff.process_psola(state, ctx)
        if not isinstance(state, PsolaState) or np.shape(state.f0) != f0.shape \
                or not np.array_equal(state.source_s, before_s) or state.frames != len(f0):
            names = ", ".join(e.name for e in self.effects)
            raise vcfx.StreamError(f"effects {names} changed the length or time map of live frames; a live "
                                   "stream keeps its length")
        check_state(state)
        return float(state.f0[-1]), float(state.formant_ratio)

    def _state(self, f0: np.ndarray, periodic: np.ndarray, first: int) -> LiveState:
        n = len(f0)
        period_s = self.opts["frame_period_ms"] / 1000.0
        state = LiveState(
            samples=np.zeros((self.channels, 0)), sample_rate=self.sr, frame_period_ms=self.opts["frame_period_ms"],
            frames=n, f0=f0.copy(), source_s=(first + np.arange(n)) * period_s, marks=np.zeros(0, int),
            mark_periods=np.zeros(0, int), analysed_f0=f0, periodicity=periodic, options=self.opts,
        )
        state.first_frame = first
        return state

    def _f0_at(self, values: np.ndarray, t: int) -> float:
        """``values`` (per frame) of the frame nearest to absolute frame ``t``."""
        k = int(round(t / self.hop)) - self.f0_base
        return float(values[min(max(k, 0), len(values) - 1)])

    def _known_until(self) -> float:
        """The last absolute frame whose nearest f0 frame has a target."""
        return (self.target_done - 0.5) * self.hop

    def _marks(self) -> None:
        """Analysis marks up to where f0 is known."""
        known = self._known_until()
        while True:
            last = self.marks[-1]
            if last > known:
                return
            f_last = self._f0_at(self.f0, last)
            p = int(round(last + (self.sr / f_last if f_last > 0 else self.unvoiced)))
            if p > known:
                return
            f = self._f0_at(self.f0, p)  # voicing and period at the predicted mark, as offline
            period = max(1, int(round(self.sr / f))) if f > 0 else self.unvoiced
            lag = -1
            if f > 0 and f_last > 0:  # where the period around the last mark repeats best, as offline
                lo, hi = max(int(0.8 * self.sr / f), period // 4 + 1), int(1.25 * self.sr / f) + 1
                at = int(round(last))
                if at + hi + period // 2 + 1 >= self.t:
                    return
                lag = repeat_lag(self.mono, at - self.base, period // 2, lo, hi)
                if lag > 0:  # to a fraction of a sample, as offline
                    lag = refined_lag(self.mono, at - self.base, period // 2, lag)
            if lag > 0:
                p = last + lag
            elif f > 0:
                lo = p - period // 2 - self.base
                p = lo + int(np.argmax(self.lp[lo:lo + 2 * (period // 2) + 1])) + self.base
            p = max(p, last + period // 4 + 1)  # a refined mark never falls back onto the last one
            self.marks.append(p)
            self.mark_periods.append(period)
            if len(self.marks) > 64:
                del self.marks[:32], self.mark_periods[:32]

    def _overlap_add(self) -> None:
        """Output marks up to the last analysis mark, each adding its grain into the output buffer."""
        marks = np.asarray(self.marks)
        limit = min(self.marks[-1], self._known_until())
        while True:
            if self.next_out is None:
                self.next_out = self._mark_after(self.last_out)
                if self.next_out is None:
                    return
            if round(self.next_out) > limit:
                return
            m = int(round(self.next_out))
            j = int(np.searchsorted(marks, m))
            j = min(j, len(marks) - 1)
            if j > 0 and abs(marks[j - 1] - m) <= abs(marks[j] - m):
                j -= 1
            a, period = float(marks[j]), int(self.mark_periods[j])
            ratio = self._f0_at(self.ratio, m)
            if a + period + 2 * ratio + 2 > self.t:  # the grain reads up to here, between samples
                return
            f = self._f0_at(self.target, m)
            spacing = self.sr / f if f > 0 else self.unvoiced
            late = m - self.next_out if f > 0 else None
            self._grain(m, a, min(period / ratio, spacing) if f > 0 else period / ratio, ratio, late)
            self.last_out, self.next_out = self.next_out, None

    def _mark_after(self, start: float) -> float | None:
        """The output mark after the one at ``start``: where the target rate, integrated frame by frame, reaches one
        more mark (as offline, :func:`vcfx_psola.marks.marks_along`); None while it needs a frame with no target."""
        pos, left = start, 1.0
        k = math.floor(pos / self.hop + 0.5)  # the frame whose samples pos is among
        while k < self.target_done:
            f = self._f0_at(self.target, k * self.hop)
            per_sample = f / self.sr if f > 0 else 1.0 / self.unvoiced
            end = (k + 0.5) * self.hop
            if pos + left / per_sample <= end:
                return pos + left / per_sample
            left -= (end - pos) * per_sample
            pos, k = end, k + 1
        return None

    def _grain(self, m: int, a: float, half: float, ratio: float, late: float | None) -> None:
        """Add the grain around input mark ``a`` at output sample ``m``, as offline: a voiced one (``late`` not
        None) read ``late`` samples after the mark, so that the mark lands where the output mark's exact
        position is, between samples, and zero-mean; an unvoiced one read from the mark on."""
        half = min(half, float(self.pmax))
        reach = int(math.ceil(half))
        offsets = np.arange(-reach, reach + 1)
        window = grain_window(offsets, half)
        voiced = late is not None
        if ratio == 1.0 and late is None and a == int(a):
            grain = self.x[:, int(a) + offsets - self.base]
        else:
            pos = a + (offsets + (late or 0.0)) * ratio - self.base
            lo = np.floor(pos).astype(int)
            frac = pos - lo
            grain = self.x[:, lo] * (1.0 - frac) + self.x[:, lo + 1] * frac
        if voiced:
            grain = grain - (grain * window).sum(axis=1, keepdims=True) / window.sum()
        at = m + offsets - self.base
        self.acc[:, at[0]:at[-1] + 1] += grain * window

    def _emit(self, n: int) -> np.ndarray:
        """The output for the ``n`` frames ``latency_frames`` behind the input: level-matched, faded where neutral."""
        first = self.t - n - self.latency_frames
        seg = slice(first - self.base, first - self.base + n)
        y, x = self.acc[:, seg], self.x[:, seg]
        power = np.stack([np.einsum("ij,ij->j", x, x), np.einsum("ij,ij->j", y, y)])
        power, self.power_zi = signal.lfilter(self.level_b, self.level_a, power, axis=1, zi=self.power_zi)
        gain = np.clip(np.sqrt(power[0] / np.maximum(power[1], 1e-30)), 0.1, 10.0)
        gain[power[1] < 1e-12] = 1.0
        if len(self.busy):
            frames = np.rint((first + np.arange(n)) / self.hop).astype(int) - self.f0_base
            goal = self.busy[np.clip(frames, 0, len(self.busy) - 1)]
        else:
            goal = np.zeros(n)
        mix = np.empty(n)
        bounds = [0, *(np.flatnonzero(np.diff(goal)) + 1), n]
        for a, b in zip(bounds[:-1], bounds[1:]):
            g = goal[a]
            ramp = self.mix + (self.fade_step if g > self.mix else -self.fade_step) * np.arange(1, b - a + 1)
            mix[a:b] = np.clip(ramp, min(self.mix, g), max(self.mix, g))
            self.mix = float(mix[b - 1])
        out = y * (gain * mix) + x * (1.0 - mix)
        self.acc[:, seg] = 0.0
        return out.astype(np.float32)

    def flush(self) -> np.ndarray:
        rest = self.latency_frames
        parts = [self.process(np.zeros((self.channels, min(self.block_frames, rest - s)), np.float32))
                 for s in range(0, rest, self.block_frames)]
        self.reset()
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.channels, 0), np.float32)


@vcfx.hookimpl
def register_live_domains(register):
    register("psola", live_processor)
