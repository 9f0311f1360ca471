"""reverb: convolve with a room impulse response, from a file or synthetic."""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

import vcfx

from .rooms import file_key, check_ir_file, file_ir, synthetic_ir


@functools.lru_cache(maxsize=16)
def _prepared_ir(source, rt60_s: float, predelay_ms: float, sample_rate: int, channels: int) -> np.ndarray:
    h = synthetic_ir(rt60_s, sample_rate) if source is None else file_ir(source[0], sample_rate)
    if h.shape[0] != channels:
        h = h.mean(axis=0, keepdims=True)
    energy = np.sum(h**2) / h.shape[0]
    if energy == 0.0:
        raise vcfx.AudioError(f"impulse response {source[0] if source else 'room'!r} mixed to mono is silent")
    delay = round(predelay_ms * sample_rate / 1000.0)
    h = np.pad(h / np.sqrt(energy), ((0, 0), (delay, 0)))
    h.flags.writeable = False
    return h


class Reverb(vcfx.Effect):
    """Convolution reverb with a recorded or a synthetic room.

    The impulse response (IR) is read from ``ir`` (any format, any sample
    rate, resampled to the voice's rate) or, without a file, synthesised
    from ``rt60_s`` (:func:`vcfx_reverb.rooms.synthetic_ir`, fixed seed).
    An IR with as many channels as the voice is applied channel by
    channel; any other IR is mixed to mono and applied to every channel.
    The IR is normalised to unit energy (per channel, on average), so the
    reverberant part is about as loud as the dry voice, then delayed by
    ``predelay_ms``. FFT convolution keeps the whole tail.

    Parameters
    ----------
    ir : str, optional
        Path of an impulse response file.
    rt60_s : float
        Decay time (60 dB) of the synthetic room; ignored with ``ir``.
    predelay_ms : float
        Delay of the reverberant part.
    wet : float
        Mix: ``(1 - wet) * dry + wet * reverberant``.
    keep_peak : bool
        If the mix peaks above the input's peak, scale it down (one gain for
        the whole output) to the input's peak. On by default, so an input
        below full scale never comes out clipping; off gives the plain
        linear mix.

    Notes
    -----
    The output is longer than the input by the tail: ``frames + L - 1``,
    where ``L`` is the IR's length at the voice's sample rate including
    the pre-delay. Silence in gives silence out. Any input length works,
    down to a single frame. In a live stream (:class:`vcfx.Stream`) the
    convolution is partitioned and the tail comes with ``flush()``;
    ``keep_peak`` is not applied there.
    """

    name = "reverb"
    summary = "Convolution reverb: a room impulse response file, or a synthetic room from rt60_s"
    params = (
        vcfx.Param("ir", str, None, "Impulse response file (any rate); a synthetic room when not given",
                   optional=True, file="data"),
        vcfx.Param("rt60_s", float, 0.6, "Decay time of the synthetic room", unit="s", low=0.05, high=10.0),
        vcfx.Param("predelay_ms", float, 0.0, "Delay before the reverberant sound", unit="ms",
                   low=0.0, high=500.0),
        vcfx.Param("wet", float, 0.3, "Share of reverberant sound in the mix", low=0.0, high=1.0),
        vcfx.Param("keep_peak", bool, True, "Scale down if the output would peak above the input"),
    )
    examples = ({"rt60_s": 0.4}, {"rt60_s": 1.5, "wet": 0.5, "predelay_ms": 20.0})

    def validate(self) -> None:
        if isinstance(self.ir, str):
            try:
                check_ir_file(self.ir)
            except vcfx.AudioError as exc:
                raise vcfx.ParameterError(f"ir={self.ir!r}: {exc}") from None

    def context_frames(self, sample_rate: int) -> int:
        return self.ir_frames(sample_rate) + int(0.05 * sample_rate)

    def impulse_response(self, sample_rate: int, channels: int) -> np.ndarray:
        """The IR applied to a voice of ``channels`` at ``sample_rate``: matched, normalised, delayed.

        Returns
        -------
        np.ndarray [shape=(channels or 1, L), dtype=float64]
            Read-only; cached per room, rate and channel count.
        """
        source = None if self.ir is None else file_key(self.ir)
        return _prepared_ir(source, self.rt60_s, self.predelay_ms, sample_rate, channels)

    def ir_frames(self, sample_rate: int) -> int:
        """Length ``L`` of the IR at ``sample_rate``, pre-delay included."""
        h = synthetic_ir(self.rt60_s, sample_rate) if self.ir is None else file_ir(self.ir, sample_rate)
        return h.shape[1] + round(self.predelay_ms * sample_rate / 1000.0)

    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        if self.is_random():
            return None
        return frames + self.ir_frames(sample_rate) - 1

    def live(self, sample_rate: int, channels: int, block_frames: int, ctx: vcfx.Context):
        """Stream by partitioned convolution, the tail kept across blocks (see :class:`vcfx_reverb.live.ReverbLive`)."""
        from .live import ReverbLive

        return ReverbLive(self, sample_rate, channels)

    def process_waveform(self, audio: vcfx.Audio, ctx: vcfx.Context) -> vcfx.Audio:
        h = self.impulse_response(audio.sample_rate, audio.channels).astype(np.float32)
        x = audio.samples
        y = signal.fftconvolve(x, h, axes=-1)  # float32, like the audio
        y *= np.float32(self.wet)
        y[:, : x.shape[1]] += np.float32(1.0 - self.wet) * x
        peak_in, peak_out = max(x.max(), -x.min()), max(y.max(), -y.min())  # no |x| array made
        if self.keep_peak and peak_out > peak_in:
            y *= peak_in / peak_out
        return audio.replace(samples=y)
