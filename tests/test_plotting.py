"""Figures and the notebook player: panels, shared axes, colour scales, registry fallbacks."""

import base64
import io
import re

import numpy as np
import pytest
import soundfile as sf
from matplotlib.figure import Figure

import vcfx
from vcfx import plotting, plugins


def titled(fig) -> dict[str, object]:
    """Axes by the first word of their (left) title."""
    return {ax.get_title(loc="left").split(" ")[0]: ax for ax in fig.axes if ax.get_title(loc="left")}


@pytest.fixture
def without_plugins(monkeypatch):
    """Reload the registry with some entry points disabled; restore it afterwards."""

    def disable(names: str) -> None:
        monkeypatch.setenv("VCFX_DISABLE_PLUGINS", names)
        plugins.reload()

    yield disable
    monkeypatch.undo()
    plugins.reload()


def test_analyze_panels_share_one_time_axis_in_seconds(voice):
    fig = plotting.analyze_figure(voice.audio, title="voice.wav")
    assert isinstance(fig, Figure)
    axes = titled(fig)
    assert list(axes) == ["Waveform", "Spectrogram", "RMS", "f0"]
    panels = list(axes.values())
    for ax in panels:
        assert ax.get_xlim() == pytest.approx((0.0, voice.audio.duration_s))
        assert ax.get_shared_x_axes().joined(ax, panels[0])
    assert panels[-1].get_xlabel() == "time (s)"
    assert all(not label.get_visible() or not label.get_text() for ax in panels[:-1]
               for label in ax.get_xticklabels())
    spec = axes["Spectrogram"]
    assert spec.get_yscale() == "log" and spec.get_ylabel() == "frequency (Hz)"
    assert spec.get_ylim()[1] == pytest.approx(voice.audio.sample_rate / 2)
    assert axes["f0"].get_ylabel() == "f0 (Hz)" and axes["RMS"].get_ylabel() == "dBFS"
    assert "voice.wav" in fig._suptitle.get_text() and "mono" in fig._suptitle.get_text()


def test_analyze_says_a_stereo_file_is_analysed_as_its_mono_mix(stereo_voice):
    fig = plotting.analyze_figure(stereo_voice)
    assert "2 channels, analysed as their mono mix" in fig._suptitle.get_text()


def test_f0_track_follows_the_true_contour(voice):
    times, f0 = plotting.f0_track(voice.audio)
    voiced = np.isfinite(f0) & (times > 0.05) & (times < voice.audio.duration_s - 0.05)
    assert voiced.mean() > 0.8
    error_st = 12 * np.abs(np.log2(f0[voiced] / voice.f0_at(times[voiced])))
    assert np.median(error_st) < 0.15 and np.percentile(error_st, 95) < 0.5


def test_analyze_reports_the_median_f0_in_the_title(voice):
    title = titled(plotting.analyze_figure(voice.audio))["f0"].get_title(loc="left")
    median = float(re.search(r"median (\d+) Hz", title).group(1))
    truth = np.median(voice.f0_at(np.linspace(0, voice.audio.duration_s, 200)))
    assert median == pytest.approx(truth, rel=0.05)
    assert plotting.F0_METHOD in title


def test_onsets_come_from_the_registered_slicer(voice):
    syllables = vcfx.synthetic_voice(2.0, 22050, f0_hz=160.0, syllable_rate_hz=3.0).audio
    fig = plotting.analyze_figure(syllables)
    wave = titled(fig)["Waveform"]
    onsets = plotting.onset_times(syllables)
    assert len(onsets) >= 3
    assert f"{len(onsets)} onsets" in wave.get_title(loc="left")
    marked = sorted(float(line.get_xdata()[0]) for line in wave.get_lines()
                    if line.get_color() == plotting._ONSET_COLOUR)
    assert marked == pytest.approx(sorted(onsets))


def test_missing_slicer_and_world_domain_are_noted_not_fatal(voice, without_plugins):
    without_plugins("onset,world")
    assert "onsets" not in vcfx.slicers() and "world" not in plugins.registry().domains
    notes = []
    fig = plotting.analyze_figure(voice.audio, world=True, notes=notes)
    axes = titled(fig)
    assert list(axes) == ["Waveform", "Spectrogram", "RMS", "f0"]
    assert "onsets not marked" in axes["Waveform"].get_title(loc="left")
    assert len(notes) == 2
    assert 'no "world" domain' in notes[1] and 'no "onsets" slicer' in notes[0]
    assert fig._supxlabel.get_text() == "Note: " + "; ".join(notes) + "."


def test_very_short_audio_still_gets_a_figure_with_a_note():
    tiny = vcfx.Audio(np.full((1, 100), 0.1, dtype=np.float32), 22050)
    notes = []
    fig = plotting.analyze_figure(tiny, world=True, notes=notes)
    assert list(titled(fig)) == ["Waveform", "Spectrogram", "RMS", "f0"]
    assert any("too short for WORLD" in n for n in notes)
    plotting.compare_figure(tiny, tiny)


def test_world_panels(voice):
    fig = plotting.analyze_figure(voice.audio, world=True)
    axes = titled(fig)
    world = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("WORLD")]
    assert [ax.get_title(loc="left").split(" ")[1] for ax in world] == ["spectral", "aperiodicity"]
    for ax in world:
        assert ax.get_yscale() == "log"
        assert ax.get_xlim() == pytest.approx((0.0, voice.audio.duration_s))
    aperiodicity = world[1].collections[0]
    assert aperiodicity.get_clim() == (0.0, 1.0)
    f0_lines = [line.get_label() for line in axes["f0"].get_lines()]
    assert "WORLD" in f0_lines


def test_compare_uses_one_colour_scale_and_overlays_both_f0_tracks(voice):
    shifted = vcfx.Chain.from_spec("pitch_shift=semitones=4")(voice.audio)
    fig = plotting.compare_figure(voice.audio, shifted, labels=("original", "up 4"))
    specs = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("Spectrogram")]
    assert len(specs) == 2
    meshes = [ax.collections[0] for ax in specs]
    assert meshes[0].get_clim() == meshes[1].get_clim()
    assert meshes[0].norm is not None and specs[0].get_ylim() == specs[1].get_ylim()
    f0_ax = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("f0")][0]
    assert [line.get_label().split(" ")[0] for line in f0_ax.get_lines()] == ["original", "up"]
    change = float(re.search(r"change ([+-][\d.]+) semitones", f0_ax.get_title(loc="left")).group(1))
    assert change == pytest.approx(4.0, abs=0.2)


def test_compare_of_different_lengths_spans_the_longer(voice):
    short = voice.audio.replace(samples=voice.audio.samples[:, : voice.audio.frames // 2])
    fig = plotting.compare_figure(voice.audio, short)
    assert fig.axes[0].get_xlim() == pytest.approx((0.0, voice.audio.duration_s))
    assert "medians differ" in fig.axes[2].get_title(loc="left") or "change" in fig.axes[2].get_title(loc="left")


def test_no_pyplot_state_is_created(voice):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plotting.analyze_figure(voice.audio)
    plotting.compare_figure(voice.audio, voice.audio)
    vcfx.plot(voice.audio)
    assert plt.get_fignums() == before


def test_save_figure_is_atomic_and_checks_the_extension(voice, tmp_path):
    fig = plotting.analyze_figure(voice.audio)
    path = plotting.save_figure(fig, tmp_path / "a.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    plotting.save_figure(fig, tmp_path / "a.svg")
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()[:2000]
    with pytest.raises(vcfx.VcfxError, match='unknown extension ".wav"'):
        plotting.save_figure(fig, tmp_path / "a.wav")
    with pytest.raises(vcfx.VcfxError, match="does not exist"):
        plotting.save_figure(fig, tmp_path / "no" / "a.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg"]


@pytest.mark.slow
def test_long_audio_is_drawn_with_bounded_detail():
    rng = np.random.default_rng(0)
    long = vcfx.Audio((0.1 * rng.standard_normal((1, 22050 * 60))).astype(np.float32), 22050)
    fig = plotting.analyze_figure(long)
    columns = titled(fig)["Spectrogram"].collections[0].get_array().shape[1]
    assert 1000 < columns <= plotting._MAX_COLUMNS + 1


# -- notebooks ---------------------------------------------------------------------------

def embedded_wav(html: str) -> tuple[np.ndarray, int]:
    data = re.search(r'src="data:audio/wav;base64,([^"]+)"', html).group(1)
    samples, rate = sf.read(io.BytesIO(base64.b64decode(data)), always_2d=True)
    return samples.T, rate


def test_repr_html_embeds_a_playable_wav(stereo_voice):
    html = stereo_voice._repr_html_()
    assert html.count("<audio controls") == 1
    samples, rate = embedded_wav(html)
    assert rate == stereo_voice.sample_rate and samples.shape == stereo_voice.samples.shape
    np.testing.assert_allclose(samples, stereo_voice.samples, atol=1 / 32768 + 1e-6)
    assert "channels=2" in html


def test_repr_html_is_size_limited_with_a_note(voice):
    html = voice.audio.to_html(max_bytes=22050 * 2)  # one second of 16-bit mono
    samples, _ = embedded_wav(html)
    assert samples.shape[1] < voice.audio.frames and samples.shape[1] * 2 <= 22050 * 2
    assert "playing the first 1.0 s of 2.0 s" in html


def test_repr_html_scales_loud_audio_for_playback_with_a_note():
    loud = vcfx.Audio(np.array([[0.0, 2.0, -1.0, 0.5] * 100], dtype=np.float32), 8000)
    html = loud._repr_html_()
    samples, _ = embedded_wav(html)
    assert np.abs(samples).max() == pytest.approx(1.0, abs=1e-3)
    assert "scaled by 1/2.00" in html


def test_vcfx_plot_returns_the_analyze_figure(voice):
    fig = vcfx.plot(voice.audio, title="mine")
    assert isinstance(fig, Figure)
    assert list(titled(fig)) == ["Waveform", "Spectrogram", "RMS", "f0"]
    assert "mine" in fig._suptitle.get_text()
