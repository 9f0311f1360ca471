"""The "onsets" slicer: cut at detected onsets, roughly one segment per syllable."""

from __future__ import annotations

import librosa
import numpy as np

import vcfx

ANALYSIS_RATE = 22050
"""Detection runs on the mono mix resampled to this rate, so parameters mean the same at any rate."""
N_FFT = 1024
"""Analysis window (46 ms at :data:`ANALYSIS_RATE`), for the onset strength and the RMS energy."""


class Onsets(vcfx.Slicer):
    """Cut where new sounds begin: librosa onset detection, backtracked to the energy minimum before.

    Onsets are detected on the mono mix (``librosa.onset.onset_strength``
    and ``onset_detect``) and, with ``backtrack``, moved back to the
    preceding minimum of the RMS energy, so a cut falls in the quiet before a
    syllable rather than inside it. All channels are cut at the same frames.

    The segments cover the input from frame 0 to the last frame without gaps
    or overlaps. A segment shorter than ``min_segment_ms`` is merged into the
    one after it (the last into the one before), so every segment is at least
    that long unless the whole input is shorter. Silence gives one segment.
    """

    name = "onsets"
    summary = "Cut at detected onsets (about one segment per syllable)"
    params = (
        vcfx.Param("min_segment_ms", float, 50.0, "Shortest segment; shorter ones merge into a neighbour",
                   unit="ms", low=1.0, high=10_000.0),
        vcfx.Param("delta", float, 0.07, "Peak threshold over the local mean of the normalised onset "
                   "strength; higher finds fewer onsets", low=0.0, high=1.0),
        vcfx.Param("hop_ms", float, 10.0, "Time step of the onset analysis", unit="ms", low=1.0, high=50.0),
        vcfx.Param("backtrack", bool, True, "Move each onset back to the preceding energy minimum"),
    )

    def find(self, audio: vcfx.Audio) -> list[tuple[int, int]]:
        """``(start_frame, end_frame)`` spans covering ``audio`` without gaps."""
        frames = audio.frames
        min_frames = max(1, round(self.min_segment_ms * audio.sample_rate / 1000))
        if frames < 2 * min_frames:
            return [(0, frames)]
        cuts = self._onset_frames(audio)
        bounds = [0]
        for cut in cuts:  # keep a cut only when the segment it closes is long enough
            if cut - bounds[-1] >= min_frames and cut < frames:
                bounds.append(int(cut))
        if len(bounds) > 1 and frames - bounds[-1] < min_frames:
            bounds.pop()  # the last segment is too short: merge it into the one before
        bounds.append(frames)
        return list(zip(bounds[:-1], bounds[1:]))

    def _onset_frames(self, audio: vcfx.Audio) -> np.ndarray:
        """Sorted onset positions in frames of ``audio``."""
        mono = audio.to_mono().resample(ANALYSIS_RATE).samples[0]
        if not np.any(mono):
            return np.zeros(0, dtype=int)
        if mono.size < N_FFT:  # zeros at the end add no onsets and keep librosa's window inside
            mono = np.pad(mono, (0, N_FFT - mono.size))
        hop = max(1, round(self.hop_ms * ANALYSIS_RATE / 1000))
        strength = librosa.onset.onset_strength(y=mono, sr=ANALYSIS_RATE, n_fft=N_FFT, hop_length=hop)
        energy = librosa.feature.rms(y=mono, frame_length=N_FFT, hop_length=hop)[0]
        onsets = librosa.onset.onset_detect(
            onset_envelope=strength, sr=ANALYSIS_RATE, hop_length=hop, delta=self.delta,
            backtrack=self.backtrack, energy=energy, units="samples",
        )
        return np.unique(np.round(onsets * (audio.sample_rate / ANALYSIS_RATE)).astype(int))
