"""The Audio value: samples with the sample rate they were recorded at."""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from . import files
from .errors import AudioError

__all__ = ["Audio", "load", "DTYPE", "MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE", "MAX_HTML_AUDIO_BYTES"]

DTYPE = np.float32
"""The dtype of :attr:`Audio.samples`."""

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 384_000

MAX_HTML_AUDIO_BYTES = 10_000_000
"""Largest WAV embedded by :meth:`Audio.to_html` (about a minute of CD-quality stereo)."""

Layout = Literal["channels_first", "channels_last"]
_LAYOUTS = ("channels_first", "channels_last")


def _check_sample_rate(sample_rate) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer, float, np.floating)):
        raise AudioError(f"sample_rate={sample_rate!r} is not a number; give an int in Hz, e.g. 44100")
    if not np.isfinite(sample_rate) or float(sample_rate) != int(sample_rate):
        raise AudioError(f"sample_rate={sample_rate!r} is not a whole number of Hz")
    rate = int(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"sample_rate={rate} is outside [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}] Hz"
        )
    return rate


@dataclass(frozen=True, eq=False, repr=False)
class Audio:
    """Immutable audio: float32 samples shaped ``(channels, frames)`` and a sample rate.

    Every Audio holds finite samples, at least one frame and a sample rate in
    ``[8000, 384000]`` Hz; the constructor refuses anything else. The samples
    array is read-only, so an Audio can be shared freely.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Floating-point samples, nominally in ``[-1, 1]``. Use
        :meth:`from_array` for 1-D input or ``(frames, channels)`` arrays.
    sample_rate : int
        Samples per second of each channel.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self):
        rate = _check_sample_rate(self.sample_rate)
        x = self.samples
        if not isinstance(x, np.ndarray):
            raise AudioError(f"samples must be a numpy array, not {type(x).__name__}")
        if x.ndim != 2:
            raise AudioError(
                f"samples must be shaped (channels, frames), got {x.ndim}-D shape {x.shape}; "
                "use Audio.from_array for 1-D or (frames, channels) input"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise AudioError(
                f"samples must be floating point, got dtype {x.dtype}; "
                "scale integer PCM to [-1, 1] first (e.g. x / 32768)"
            )
        channels, frames = x.shape
        if channels == 0 or frames == 0:
            raise AudioError(f"audio is empty: shape {x.shape} (channels, frames)")
        with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
            x = np.ascontiguousarray(x, dtype=DTYPE)
        if x is self.samples and x.flags.writeable:
            x = x.copy()
        # NaN and inf reach the sum, so a finite sum means finite samples; an overflowing sum is counted out
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.sum(x)
        if not np.isfinite(total):
            bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            if bad:
                raise AudioError(f"samples contain {bad} non-finite values (NaN or inf)")
        x.flags.writeable = False
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "sample_rate", rate)

    @classmethod
    def from_array(cls, array, sample_rate: int, layout: Layout = "channels_first") -> "Audio":
        """Build Audio from a NumPy array (or anything ``np.asarray`` takes).

        Parameters
        ----------
        array : array-like [shape=(frames,) or (channels, frames) or (frames, channels)]
            Floating-point samples. A 1-D array is one channel.
        sample_rate : int
            Samples per second.
        layout : {"channels_first", "channels_last"}
            How a 2-D array is laid out. ``"channels_first"`` (the default)
            means ``(channels, frames)``, as librosa uses; ``"channels_last"``
            means ``(frames, channels)``, as soundfile returns. A 2-D array
            with at least as many channels as frames is refused as ambiguous.

        Returns
        -------
        Audio
        """
        if layout not in _LAYOUTS:
            raise AudioError(f"layout={layout!r} is not one of {', '.join(_LAYOUTS)}")
        try:
            x = np.asarray(array)
        except (TypeError, ValueError) as exc:  # ragged nesting, objects numpy cannot hold
            raise AudioError(f"samples cannot be read as an array of numbers: {exc}") from None
        if x.ndim == 1:
            x = x[np.newaxis, :]
        elif x.ndim == 2:
            if layout == "channels_last":
                x = x.T
            channels, frames = x.shape
            if channels >= frames:
                told = "(frames, channels)" if layout == "channels_last" else "(channels, frames)"
                raise AudioError(
                    f"array shape {np.shape(array)} is ambiguous: read as {told} it has "
                    f"{channels} channels of {frames} frames. Pass layout='channels_first' "
                    "for (channels, frames) or layout='channels_last' for (frames, channels), "
                    "and at least one more frame than channels"
                )
        else:
            raise AudioError(
                f"array must be 1-D (frames,) or 2-D (channels, frames), got shape {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise AudioError(
                f"samples must be floating point, got dtype {x.dtype}; "
                "scale integer PCM to [-1, 1] first (e.g. x / 32768)"
            )
        return cls(x, sample_rate)

    @property
    def channels(self) -> int:
        """Number of channels."""
        return self.samples.shape[0]

    @property
    def frames(self) -> int:
        """Number of samples per channel."""
        return self.samples.shape[1]

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate

    def replace(self, samples: np.ndarray | None = None, sample_rate: int | None = None) -> "Audio":
        """Return a new Audio with other samples and/or sample rate.

        A float32, C-ordered array that owns its data is taken over without a
        copy and made read-only: effects hand over the arrays they computed.
        """
        if (isinstance(samples, np.ndarray) and samples.dtype == DTYPE and samples.ndim == 2
                and samples.flags.c_contiguous and samples.flags.owndata):
            samples.flags.writeable = False
        return Audio(
            self.samples if samples is None else samples,
            self.sample_rate if sample_rate is None else sample_rate,
        )

    def to_mono(self) -> "Audio":
        """Average the channels into one."""
        if self.channels == 1:
            return self
        return Audio(self.samples.mean(axis=0, keepdims=True), self.sample_rate)

    def resample(self, sample_rate: int) -> "Audio":
        """Resample with a very-high-quality band-limited resampler (soxr VHQ)."""
        rate = _check_sample_rate(sample_rate)
        if rate == self.sample_rate:
            return self
        import soxr

        out = soxr.resample(self.samples.T, self.sample_rate, rate, quality="VHQ").T
        return Audio(np.ascontiguousarray(out), rate)

    def save(self, path: str | os.PathLike, subtype: str | None = None) -> Path:
        """Write to an audio file atomically; the format follows the file extension.

        The file appears complete or not at all: the data go to a temporary
        file in the same folder, which is then renamed over ``path``.

        Parameters
        ----------
        path : str or path-like
            Destination, e.g. ``"out.wav"`` or ``"out.flac"``.
        subtype : str, optional
            soundfile subtype such as ``"PCM_16"``, ``"PCM_24"`` or ``"FLOAT"``;
            the format's default when omitted. Integer (PCM) subtypes hold only
            ``[-1, 1]``: if any sample lies outside, nothing is written and an
            :class:`AudioError` says how many samples would clip.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        return files.write_audio(self.samples, self.sample_rate, _path(path), subtype)

    def to_html(self, max_bytes: int = MAX_HTML_AUDIO_BYTES) -> str:
        """An HTML5 audio player with the audio embedded as a base64 16-bit WAV.

        Audio longer than ``max_bytes`` of WAV allows is cut, and a note under
        the player says how much is playable. Audio peaking above 1.0 is scaled
        down for listening (the Audio itself is untouched), with a note.

        Parameters
        ----------
        max_bytes : int
            Size limit of the embedded WAV.

        Returns
        -------
        str
            HTML, as Jupyter shows it for ``_repr_html_``.
        """
        frames = max(1, min(self.frames, (max_bytes - 44) // (2 * self.channels)))
        clip = self.samples[:, :frames]
        notes = []
        if frames < self.frames:
            notes.append(f"playing the first {frames / self.sample_rate:.1f} s of {self.duration_s:.1f} s "
                         f"(embedded audio is limited to {max_bytes / 1e6:g} MB)")
        peak = float(np.abs(clip).max())
        if peak > 1.0:
            clip = clip / peak
            notes.append(f"scaled by 1/{peak:.2f} for playback, as it peaks above 1.0")
        buf = io.BytesIO()
        sf.write(buf, clip.T, self.sample_rate, format="WAV", subtype="PCM_16")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        caption = html.escape(repr(self)) + "".join(f"<br>{html.escape(n)}" for n in notes)
        return (
            '<div class="vcfx-audio">'
            f'<audio controls preload="metadata" src="data:audio/wav;base64,{data}"></audio>'
            f'<div style="font-size: smaller">{caption}</div>'
            "</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return (
            f"Audio(channels={self.channels}, frames={self.frames}, "
            f"sample_rate={self.sample_rate}, duration_s={self.duration_s:.3f})"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, Audio):
            return NotImplemented
        return self.sample_rate == other.sample_rate and np.array_equal(self.samples, other.samples)

    __hash__ = None


def load(path: str | os.PathLike, sample_rate: int | None = None, mono: bool = False) -> Audio:
    """Read an audio file into :class:`Audio`.

    Parameters
    ----------
    path : str or path-like
        Any format libsndfile reads (WAV, FLAC, OGG, MP3, AIFF, ...).
    sample_rate : int, optional
        Resample to this rate (soxr, very high quality). Keep the file's rate
        when omitted.
    mono : bool
        Average all channels into one.

    Returns
    -------
    Audio
    """
    audio = Audio(*files.read_audio(_path(path)))
    if mono:
        audio = audio.to_mono()
    if sample_rate is not None:
        audio = audio.resample(sample_rate)
    return audio


def _path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise AudioError(f"path={path!r} is not a file path")
    return Path(path)
