"""Figures of a voice.

:func:`analyze_figure` draws waveform, spectrogram, RMS level and f0 of one
voice (plus WORLD's spectral envelope and aperiodicity on request);
:func:`compare_figure` sets two voices side by side on the same axes and
colour scale. Both build a :class:`matplotlib.figure.Figure` on the Agg
canvas directly: pyplot is never imported, so no global figure state is
created or leaked, and nothing needs closing.

The host knows no plugin by name: onset lines come from the registered
``"onsets"`` slicer and the WORLD panels from the registered ``"world"``
domain; when either is missing the figure says so instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, MultipleLocator, NullLocator

from . import plugins
from .audio import Audio
from .effect import Context
from .errors import AudioError, PluginError
from .files import atomic_path, check_output_path

__all__ = [
    "F0_RANGE_HZ",
    "F0_METHOD",
    "analyze_figure",
    "compare_figure",
    "save_figure",
    "check_figure_path",
    "f0_track",
    "onset_times",
]

F0_RANGE_HZ = (60.0, 800.0)
"""Range searched by the f0 tracker: low male speech to high children's and shifted voices."""

F0_METHOD = "pYIN (librosa)"
"""The f0 tracker used in figures, named in their titles. It is independent
of the WORLD vocoder, so it can judge what WORLD effects did."""

_F0_RATE = 16_000          # the tracker runs on a 16 kHz copy: fast, and ample for f0
_F0_HOP_S = 0.01
_DB_RANGE = 80.0           # colour scales span this many dB below the peak
_MAX_COLUMNS = 2000        # time columns in a spectrogram; longer files use a larger hop
_FREQ_TICKS_HZ = (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
_ONSET_COLOUR = "#d62728"
_MAX_ONSET_LINES = 60      # more onsets than this are ticks on the waveform, not lines through every panel


# -- measurements ---------------------------------------------------------------

@dataclass
class _Spectrogram:
    times: np.ndarray      # frame centres, s
    freqs: np.ndarray      # bin centres, Hz
    power: np.ndarray      # (freqs, times)
    window_s: float


def _window(sample_rate: int) -> int:
    """An STFT size of about 46 ms: narrow enough in frequency to show harmonics."""
    return int(2 ** round(math.log2(0.046 * sample_rate)))


def _hop(frames: int, n_fft: int) -> int:
    return max(n_fft // 8, math.ceil(frames / _MAX_COLUMNS))


def _spectrogram(x: np.ndarray, sample_rate: int) -> _Spectrogram:
    import librosa

    n_fft = _window(sample_rate)
    hop = _hop(len(x), n_fft)
    x = np.pad(x, (0, max(0, n_fft - len(x))))  # very short input: one silent-padded frame
    power = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop)) ** 2
    times = np.arange(power.shape[1]) * hop / sample_rate
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    return _Spectrogram(times, freqs, power, n_fft / sample_rate)


def _rms_dbfs(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, float]:
    import librosa

    n_fft = _window(sample_rate)
    hop = _hop(len(x), n_fft)
    x = np.pad(x, (0, max(0, n_fft - len(x))))
    rms = librosa.feature.rms(y=x, frame_length=n_fft, hop_length=hop)[0]
    times = np.arange(len(rms)) * hop / sample_rate
    return times, 20 * np.log10(np.maximum(rms, 1e-6)), n_fft / sample_rate


def f0_track(audio: Audio, hop_s: float = _F0_HOP_S) -> tuple[np.ndarray, np.ndarray]:
    """Track f0 of the mono mix with pYIN.

    Parameters
    ----------
    audio : Audio
    hop_s : float
        Time between frames; the work grows with the number of frames.

    Returns
    -------
    times_s : np.ndarray [shape=(n,)]
        Frame times in seconds, every ``hop_s`` (10 ms unless given).
    f0_hz : np.ndarray [shape=(n,)]
        f0 in Hz, NaN where the frame is unvoiced.
    """
    import librosa

    y = audio.to_mono().resample(_F0_RATE).samples[0].astype(np.float64)
    hop = max(1, round(_F0_RATE * hop_s))
    if len(y) < 1024:
        y = np.pad(y, (0, 1024 - len(y)))
    f0, _, _ = librosa.pyin(
        y, fmin=F0_RANGE_HZ[0], fmax=F0_RANGE_HZ[1], sr=_F0_RATE, frame_length=1024, hop_length=hop
    )
    times = np.arange(len(f0)) * hop / _F0_RATE
    keep = times <= audio.duration_s
    return times[keep], f0[keep]


def onset_times(audio: Audio) -> np.ndarray | None:
    """Onset times (s) from the registered ``"onsets"`` slicer, or None when there is none.

    Parameters
    ----------
    audio : Audio

    Returns
    -------
    np.ndarray or None
        Start time of every segment the slicer finds, except one starting
        at 0 s (the beginning of the audio, not an onset).
    """
    slicer = _registered_slicer("onsets")
    if slicer is None:
        return None
    starts = [start for start, _ in slicer.find(audio) if start > 0]
    return np.array(starts, dtype=float) / audio.sample_rate


def _registered_slicer(name: str):
    try:
        return plugins.slicer(name)
    except PluginError:
        return None


def _registered_domain(name: str):
    return plugins.registry().domains.get(name)


def _onsets_or_note(audio: Audio, notes: list[str]) -> np.ndarray | None:
    if _registered_slicer("onsets") is None:
        notes.append('no "onsets" slicer is registered, so onsets are not marked')
        return None
    try:
        return onset_times(audio)
    except Exception as exc:  # a plugin's failure costs the onset lines, not the figure
        notes.append(f'the "onsets" slicer failed ({type(exc).__name__}: {exc}), so onsets are not marked')
        return None


def _world_or_note(audio: Audio, notes: list[str]):
    """The registered WORLD domain's analysis of ``audio``, or None with a note saying why not."""
    dom = _registered_domain("world")
    if dom is None:
        notes.append('no "world" domain is registered, so the WORLD panels are left out')
        return None
    if audio.frames < dom.min_frames(audio.sample_rate):
        notes.append(f"the audio is too short for WORLD analysis ({audio.frames} frames, needs "
                     f"{dom.min_frames(audio.sample_rate)}), so the WORLD panels are left out")
        return None
    try:
        return dom.analyze(audio, Context.from_seed(0))
    except Exception as exc:
        notes.append(f"WORLD analysis failed ({type(exc).__name__}: {exc}), so the WORLD panels are left out")
        return None


# -- drawing helpers ----------------------------------------------------------

def _new_figure(height_ratios: list[float], colorbars: bool):
    height = 1.0 + 1.45 * sum(height_ratios)
    fig = Figure(figsize=(12, height), layout="constrained", dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(height_ratios), 2 if colorbars else 1, height_ratios=height_ratios,
                            width_ratios=[1, 0.018] if colorbars else [1])
    axes = []
    for row in range(len(height_ratios)):
        axes.append(fig.add_subplot(grid[row, 0], sharex=axes[0] if axes else None))
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("time (s)")
    return fig, grid, axes


def _colorbar(fig, grid, row: int, mesh, label: str):
    cax = fig.add_subplot(grid[row, 1])
    bar = fig.colorbar(mesh, cax=cax)
    bar.set_label(label)
    return bar


def _title(ax, text: str) -> None:
    ax.set_title(text, loc="left", fontsize=10.5)


def _log_freq_axis(ax, top_hz: float, bottom_hz: float = 50.0) -> None:
    ax.set_yscale("log")
    ax.set_ylim(bottom_hz, top_hz)
    ax.yaxis.set_major_locator(FixedLocator([f for f in _FREQ_TICKS_HZ if bottom_hz <= f <= top_hz]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda f, _: f"{f / 1000:g}k" if f >= 1000 else f"{f:g}"))
    ax.set_ylabel("frequency (Hz)")


def _draw_db_image(ax, times, freqs, power, ref: float, cmap: str = "magma"):
    db = 10 * np.log10(np.maximum(power, ref * 10 ** (-_DB_RANGE / 10)) / ref)
    keep = freqs > 0
    return ax.pcolormesh(times, freqs[keep], db[keep], shading="nearest", cmap=cmap,
                         vmin=-_DB_RANGE, vmax=0.0, rasterized=True)


def _draw_waveform(ax, x: np.ndarray, sample_rate: int) -> None:
    n = len(x)
    bins = 4000
    if n > 4 * bins:  # long files: draw the min/max envelope, not a million points
        per = n // bins
        chunks = x[: per * bins].reshape(bins, per)
        t = (np.arange(bins) + 0.5) * per / sample_rate
        ax.fill_between(t, chunks.min(axis=1), chunks.max(axis=1), color="#1f4e79", linewidth=0.4)
    else:
        ax.plot(np.arange(n) / sample_rate, x, color="#1f4e79", linewidth=0.6)
    peak = max(float(np.abs(x).max()), 1e-3)
    ax.set_ylim(-1.1 * peak, 1.1 * peak)
    ax.set_ylabel("amplitude")
    ax.axhline(0.0, color="0.7", linewidth=0.5, zorder=0)


def _mark_onsets(axes, onsets, strong_ax) -> None:
    """Lines through every panel; only ticks along the waveform's top when there are too many."""
    if onsets is None:
        return
    if len(onsets) > _MAX_ONSET_LINES:
        strong_ax.vlines(onsets, 0.9, 1.0, transform=strong_ax.get_xaxis_transform(), color=_ONSET_COLOUR,
                         linewidth=0.8)
        return
    for ax in axes:
        for t in onsets:
            if ax is strong_ax:
                ax.axvline(t, color=_ONSET_COLOUR, linewidth=1.0, alpha=0.8)
            else:
                ax.axvline(t, color="white" if ax.get_label() == "image" else _ONSET_COLOUR,
                           linewidth=0.6, alpha=0.45, linestyle=(0, (4, 3)))


def _f0_limits(*tracks: np.ndarray) -> tuple[float, float]:
    voiced = np.concatenate([t[np.isfinite(t)] for t in tracks]) if tracks else np.array([])
    if voiced.size == 0:
        return F0_RANGE_HZ
    low, high = np.percentile(voiced, [1, 99])
    return max(F0_RANGE_HZ[0] * 0.9, low / 1.25), min(F0_RANGE_HZ[1] * 1.1, high * 1.25)


def _median_text(f0: np.ndarray) -> str:
    voiced = f0[np.isfinite(f0)]
    return f"median {np.median(voiced):.0f} Hz" if voiced.size else "no voiced frames"


def _f0_change(before: np.ndarray, after: np.ndarray) -> str:
    """How far f0 moved, in semitones, for a title: frame by frame when the lengths match."""
    if len(before) == len(after):
        both = np.isfinite(before) & np.isfinite(after)
        if both.sum() >= 10:
            st = np.median(12 * np.log2(after[both] / before[both]))
            return f"; change {st:+.1f} semitones (median over frames voiced in both)"
    if np.isfinite(before).any() and np.isfinite(after).any():
        st = 12 * np.log2(np.nanmedian(after) / np.nanmedian(before))
        return f"; medians differ by {st:+.1f} semitones"
    return ""


def _describe(audio: Audio, name: str | None) -> str:
    what = f"{name} — " if name else ""
    layout = "mono" if audio.channels == 1 else f"{audio.channels} channels, analysed as their mono mix"
    return f"{what}{audio.duration_s:.2f} s, {audio.sample_rate} Hz, {layout}"


# -- figures --------------------------------------------------------------------

def analyze_figure(audio: Audio, *, world: bool = False, title: str | None = None, progress=None,
                   notes: list[str] | None = None):
    """Waveform, spectrogram, RMS level and f0 of a voice, on one time axis.

    Stereo (or any multichannel) audio is analysed as the mono mix of its
    channels, and the figure title says so. Onsets from the registered
    ``"onsets"`` slicer are marked on every panel; without one (or when
    it fails) a note under the figure says why they are missing.

    Parameters
    ----------
    audio : Audio
    world : bool
        Add WORLD's spectral envelope and aperiodicity, from the registered
        ``"world"`` domain; when none is registered the figure notes it and
        leaves those panels out.
    title : str, optional
        Name to put in the figure title, e.g. the file name.
    progress : callable, optional
        Called with a short description before each slow step.
    notes : list, optional
        Sentences saying what was left out and why (no slicer or domain
        registered, audio too short, a plugin failing) are appended here;
        they are printed under the figure as well.

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled "Waveform …", "Spectrogram …", "RMS level …",
        "f0 …" and, with ``world``, "WORLD spectral envelope …" and
        "WORLD aperiodicity …".
    """
    step = progress or (lambda _: None)
    mono = audio.to_mono()
    x = mono.samples[0].astype(np.float64)
    sr = audio.sample_rate
    step("spectrogram")
    spec = _spectrogram(x, sr)
    rms_t, rms_db, rms_win = _rms_dbfs(x, sr)
    step("f0")
    f0_t, f0 = f0_track(mono)
    missing: list[str] = []
    step("onsets")
    onsets = _onsets_or_note(mono, missing)
    state = None
    if world:
        step("WORLD analysis")
        state = _world_or_note(mono, missing)
    step("drawing")

    ratios = [1.0, 2.2, 0.8, 1.1] + ([2.0, 1.5] if state is not None else [])
    fig, grid, axes = _new_figure(ratios, colorbars=True)
    fig.suptitle(_describe(audio, title), fontsize=12, x=0.01, ha="left")
    ax_wave, ax_spec, ax_rms, ax_f0 = axes[:4]

    _draw_waveform(ax_wave, x, sr)
    if onsets is None:
        onset_note = "onsets not marked (see the note below)"
    else:
        marks = "red lines" if len(onsets) <= _MAX_ONSET_LINES else "red ticks along the top"
        onset_note = f"{len(onsets)} onsets ({marks}, from the onsets slicer)"
    _title(ax_wave, f"Waveform — {onset_note}")

    ax_spec.set_label("image")
    mesh = _draw_db_image(ax_spec, spec.times, spec.freqs, spec.power, float(spec.power.max()) or 1.0)
    _log_freq_axis(ax_spec, sr / 2)
    _colorbar(fig, grid, 1, mesh, "dB re peak")
    _title(ax_spec, f"Spectrogram — {spec.window_s * 1000:.0f} ms window, log frequency")

    top = float(rms_db.max())
    floor = max(top - 60.0, -120.0)
    ax_rms.plot(rms_t, np.maximum(rms_db, floor), color="#2a7f62", linewidth=1.2)
    ax_rms.set_ylim(floor - 2.0, top + 4.0)
    ax_rms.yaxis.set_major_locator(MultipleLocator(20))
    ax_rms.set_ylabel("dBFS")
    _title(ax_rms, f"RMS level — {rms_win * 1000:.0f} ms window, peak {top:.1f} dBFS")

    ax_f0.plot(f0_t, f0, color="#1f77b4", linewidth=1.6, label=F0_METHOD)
    if state is not None:
        ax_f0.plot(state.frame_times(0), np.where(state.channels[0].f0 > 0, state.channels[0].f0, np.nan),
                   color="#ff7f0e", linewidth=1.0, linestyle="--", label="WORLD")
        ax_f0.legend(loc="best", fontsize=8, frameon=False, ncols=2)
    ax_f0.set_ylim(*_f0_limits(f0))
    ax_f0.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))
    ax_f0.set_ylabel("f0 (Hz)")
    _title(ax_f0, f"f0 — {F0_METHOD}, {_median_text(f0)}; gaps are unvoiced")

    if state is not None:
        ax_sp, ax_ap = axes[4:6]
        feats = state.channels[0]
        wt = state.frame_times(0)
        bins = feats.spectral_envelope.shape[1]
        wf = np.arange(bins) * (sr / 2) / (bins - 1)
        sp = feats.spectral_envelope.T
        ax_sp.set_label("image")
        mesh = _draw_db_image(ax_sp, wt, wf, sp, float(sp.max()) or 1.0)
        _log_freq_axis(ax_sp, sr / 2)
        _colorbar(fig, grid, 4, mesh, "dB re peak")
        _title(ax_sp, "WORLD spectral envelope (CheapTrick) — formants without the harmonics")
        ax_ap.set_label("image")
        keep = wf > 0
        mesh = ax_ap.pcolormesh(wt, wf[keep], feats.aperiodicity.T[keep], shading="nearest", cmap="viridis",
                                vmin=0.0, vmax=1.0, rasterized=True)
        _log_freq_axis(ax_ap, sr / 2)
        _colorbar(fig, grid, 5, mesh, "aperiodicity")
        _title(ax_ap, "WORLD aperiodicity (D4C) — 0 periodic (voiced), 1 noise")

    ax_wave.set_xlim(0.0, audio.duration_s)
    _mark_onsets(axes, onsets, ax_wave)
    if notes is not None:
        notes.extend(missing)
    if missing:
        # a figure-level x label, so the constrained layout makes room for it below "time (s)"
        fig.supxlabel("Note: " + "; ".join(missing) + ".", fontsize=8.5, color="0.35", x=0.01, ha="left")
    return fig


def compare_figure(before: Audio, after: Audio, *, labels: tuple[str, str] = ("before", "after"),
                   title: str | None = None, progress=None):
    """Spectrograms of two voices on the same axes and colour scale, and both f0 tracks.

    Parameters
    ----------
    before, after : Audio
        Multichannel audio is analysed as its mono mix. Durations and sample
        rates may differ (a tempo change shows as a shorter or longer image).
    labels : tuple of str
        Names of the two voices, used in titles and the legend.
    title : str, optional
        Figure title.
    progress : callable, optional
        Called with a short description before each slow step.

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled "Spectrogram — <label>" (twice) and "f0 …".
    """
    step = progress or (lambda _: None)
    monos = [before.to_mono(), after.to_mono()]
    step("spectrograms")
    specs = [_spectrogram(m.samples[0].astype(np.float64), m.sample_rate) for m in monos]
    step("f0")
    tracks = [f0_track(m) for m in monos]
    step("drawing")

    fig, grid, axes = _new_figure([2.0, 2.0, 1.3], colorbars=True)
    fig.suptitle(title or f"{labels[0]} vs {labels[1]}", fontsize=12, x=0.01, ha="left")
    ref = max(float(s.power.max()) for s in specs) or 1.0
    top = max(m.sample_rate for m in monos) / 2
    for row, (ax, spec, mono, label) in enumerate(zip(axes, specs, monos, labels)):
        mesh = _draw_db_image(ax, spec.times, spec.freqs, spec.power, ref)
        _log_freq_axis(ax, top)
        _title(ax, f"Spectrogram — {label}: {mono.duration_s:.2f} s, {mono.sample_rate} Hz")
    fig.colorbar(mesh, cax=fig.add_subplot(grid[0:2, 1])).set_label("dB re the louder peak")

    ax = axes[2]
    colours = ("0.45", "#d62728")
    widths = (2.2, 1.3)
    for (t, f0), label, colour, width in zip(tracks, labels, colours, widths):
        ax.plot(t, f0, color=colour, linewidth=width, label=f"{label} ({_median_text(f0)})")
    _title(ax, f"f0 — {F0_METHOD}{_f0_change(tracks[0][1], tracks[1][1])}")
    ax.set_ylim(*_f0_limits(tracks[0][1], tracks[1][1]))
    ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))
    ax.set_ylabel("f0 (Hz)")
    ax.legend(loc="best", fontsize=8.5, frameon=False, ncols=2)
    axes[0].set_xlim(0.0, max(m.duration_s for m in monos))
    return fig


def check_figure_path(path: str | Path, inputs=()) -> Path:
    """Refuse a figure path before any drawing: an extension matplotlib cannot write, or one of the inputs.

    Parameters
    ----------
    path : str or path-like
    inputs : iterable of path
        Files the figure is drawn from; it never overwrites them.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    check_output_path(path, inputs)
    known = FigureCanvasAgg.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in known:
        raise AudioError(f'cannot draw a figure into "{path.name}": unknown extension "{path.suffix}". '
                         f"Known: {', '.join('.' + k for k in sorted(known))}")
    return path


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Write a figure atomically; the format follows the extension (.png, .pdf, .svg, …).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
    dpi : int

    Returns
    -------
    pathlib.Path
    """
    path = check_figure_path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower(), dpi=dpi)
    return path
