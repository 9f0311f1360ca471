"""noise: add Gaussian noise at a signal-to-noise ratio or an absolute level."""

from __future__ import annotations

import numpy as np

import vcfx

DEFAULT_SNR_DB = 20.0
"""SNR used when neither ``snr_db`` nor ``amount`` is given."""

COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}
"""Exponent ``a`` of the power spectrum ``1 / f**a`` of each color."""

FLAT_BELOW_HZ = 20.0
"""Pink and brown noise stop rising below this frequency (no sub-audible rumble)."""


def colored_noise(rng: np.random.Generator, channels: int, frames: int, color: str,
                  sample_rate: int) -> np.ndarray:
    """Independent Gaussian noise per channel with power exactly 1 (mean square over time).

    Parameters
    ----------
    rng : numpy.random.Generator
    channels, frames : int
    color : {"white", "pink", "brown"}
        Power spectrum flat, ``1/f`` (-3 dB per octave) or ``1/f**2`` (-6 dB
        per octave); pink and brown are flat below :data:`FLAT_BELOW_HZ`.
    sample_rate : int

    Returns
    -------
    np.ndarray [shape=(channels, frames), dtype=float32]
    """
    noise = rng.standard_normal((channels, frames), dtype=np.float32)
    exponent = COLORS[color]
    if exponent:
        freqs = np.maximum(np.fft.rfftfreq(frames, 1.0 / sample_rate), FLAT_BELOW_HZ)
        noise = np.fft.irfft(np.fft.rfft(noise) * freqs ** (-exponent / 2), frames).astype(np.float32)
    rms = np.sqrt(np.einsum("ij,ij->i", noise, noise)[:, np.newaxis] / frames)
    noise *= (1.0 / np.where(rms > 0, rms, 1.0)).astype(np.float32)
    return noise


class Noise(vcfx.Effect):
    """Add Gaussian noise (white, pink or brown) at a set SNR or level.

    Give one of:

    - ``snr_db``: the noise power is the signal's power divided by
      ``10 ** (snr_db / 10)``. The signal's power is the mean square over
      all channels and frames; every channel gets independent noise of
      exactly that power, so the achieved SNR is exact, not just expected.
      A silent input has no SNR: it is returned unchanged (silence, no NaN).
    - ``amount``: the standard deviation (RMS) of the noise in absolute
      units, as in the voice-converter study (``0.01`` is -40 dBFS). Silence
      in gives noise out.

    With neither, ``snr_db=20`` (:data:`DEFAULT_SNR_DB`); with both, a
    ParameterError. The noise comes from the chain's seeded generator:
    the same seed gives the same output. Any input length works, down to a
    single frame.

    Parameters
    ----------
    snr_db : float, optional
        Signal-to-noise ratio in dB.
    amount : float, optional
        Noise standard deviation.
    color : {"white", "pink", "brown"}
        Spectrum of the noise; see :func:`colored_noise`.
    """

    name = "noise"
    summary = "Add white, pink or brown Gaussian noise at an SNR (default 20 dB) or level"
    params = (
        vcfx.Param("snr_db", float, None, "Signal-to-noise ratio (20 dB when amount is not given either)",
                   unit="dB", low=-20.0, high=100.0, optional=True),
        vcfx.Param("amount", float, None, "Noise standard deviation, absolute (the study's 0.01)",
                   low=0.0, high=1.0, optional=True),
        vcfx.Param("color", str, "white", "Noise spectrum: flat, 1/f or 1/f^2", choices=tuple(COLORS)),
    )
    examples = ({"snr_db": 10.0}, {"snr_db": 20.0, "color": "pink"}, {"amount": 0.01})

    def validate(self) -> None:
        if self.snr_db is not None and self.amount is not None:
            raise vcfx.ParameterError(
                f"noise takes snr_db or amount, not both (snr_db={self.snr_db}, amount={self.amount})"
            )

    def live(self, sample_rate: int, channels: int, block_frames: int, ctx: vcfx.Context):
        """Stream the noise block by block (see :class:`vcfx_noise.live.NoiseLive`)."""
        from .live import NoiseLive

        return NoiseLive(self, sample_rate, channels, ctx)

    def process_waveform(self, audio: vcfx.Audio, ctx: vcfx.Context) -> vcfx.Audio:
        x = audio.samples
        if self.amount is not None:
            level = self.amount
        else:
            power = float(np.vdot(x, x)) / x.size
            if power == 0.0:
                return audio
            snr_db = DEFAULT_SNR_DB if self.snr_db is None else self.snr_db
            level = np.sqrt(power / 10.0 ** (snr_db / 10.0))
        noisy = colored_noise(ctx.rng, audio.channels, audio.frames, self.color, audio.sample_rate)
        noisy *= np.float32(level)
        noisy += x
        return audio.replace(samples=noisy)
