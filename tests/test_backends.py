"""The host never trusts a backend: what pyworld, pedalboard, soundfile and scipy do with bad input, and vcfx's answer.

Each case first checks vcfx's side in-process: the same user input gives a
clear :class:`vcfx.VcfxError` or a correct result, whatever the backend does.
Then it observes the raw backend call, in a subprocess because some of them
take the interpreter down (SIGABRT from glibc's heap checks, SIGFPE,
SIGSEGV); the subprocess prints what it got as JSON. The raw hazard is
observed, not required: the day upstream fixes it, the case is reported as
skipped, naming what no longer happens, so the guard can be reconsidered. The
subprocess timeout only keeps a hung backend from hanging the suite; nothing
here measures speed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf

import vcfx

HANG_GUARD_S = 300


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; a hang becomes a test failure, not a stuck suite."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=HANG_GUARD_S)


def killed_by_signal(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode < 0 and proc.returncode in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGFPE,
                                                       -signal.SIGBUS)


def backend_result(code: str) -> dict:
    """What a raw backend call did: the JSON the subprocess printed, or ``{"died": ...}`` if it did not get there."""
    proc = run_python(code)
    if killed_by_signal(proc):
        return {"died": signal.Signals(-proc.returncode).name}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"died": f"exit status {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def observe_hazards(backend: str, hazards: dict[str, bool], got) -> None:
    """Report upstream misbehaviour that vcfx guards against, without requiring it.

    Call after vcfx's guard was checked. Each entry of ``hazards`` says whether a documented
    misbehaviour still happens; if one no longer does, the case is skipped saying which.
    """
    gone = [what for what, present in hazards.items() if not present]
    if gone:
        pytest.skip(f"{backend} no longer {'; no longer '.join(gone)}; vcfx's guard still holds and may no "
                    f"longer be needed (got {got})")


def dominant_hz(audio: vcfx.Audio) -> float:
    x = audio.samples[0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1.0 / audio.sample_rate)[np.argmax(spectrum)])


def sine(hz: float = 200.0, seconds: float = 1.0, rate: int = 16000) -> vcfx.Audio:
    return vcfx.Audio(0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)[np.newaxis, :], rate)


# -- pyworld ---------------------------------------------------------------------------

@pytest.mark.parametrize("rate, fft_size", [(32000, 128), (16000, 64)])
def test_vcfx_never_builds_the_narrow_envelope_that_aborts_pyworld_synthesis(rate, fft_size):
    """WORLD writes one pitch period of noise into an fft_size buffer: longer periods corrupt the heap.

    A corrupted heap does not always abort at once, so the raw call is repeated until the process dies.
    """
    # vcfx never builds such features: the same voice through a WORLD effect comes out whole
    voice = vcfx.synthetic_voice(0.5, rate).audio
    out = vcfx.Chain([vcfx.effect("pitch_shift", semitones=-3)], options={"world": {"f0_method": "harvest"}})(voice)
    assert out.frames == voice.frames and np.isfinite(out.samples).all()
    proc = run_python(f"""
        import numpy as np, pyworld, vcfx
        x = vcfx.synthetic_voice(0.5, {rate}).audio.samples[0].astype(np.float64)
        f0, t = pyworld.harvest(x, {rate})
        sp = pyworld.cheaptrick(x, f0, t, {rate}, fft_size={fft_size})
        ap = pyworld.d4c(x, f0, t, {rate}, fft_size={fft_size})
        for _ in range(20):
            pyworld.synthesize(f0, sp, ap, {rate})
        print("survived")
    """)
    observe_hazards("pyworld", {f"aborts synthesis with fft_size={fft_size} at {rate} Hz": killed_by_signal(proc)},
                    f"exit status {proc.returncode}, {proc.stdout.strip()!r}")


@pytest.mark.parametrize("rate, floor", [(32000, 400.0), (16000, 400.0), (44100, 40.0)])
def test_vcfx_world_analysis_at_any_f0_floor_synthesizes_cleanly(rate, floor):
    """The narrowest envelope a user can ask for (f0_floor_hz=400) is still wide enough for synthesis."""
    voice = vcfx.synthetic_voice(0.5, rate, f0_hz=(420.0, 600.0)).audio
    chain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=-5)],
                       options={"world": {"f0_floor_hz": floor, "f0_ceil_hz": 1600.0}})
    out = chain(voice)
    assert out.frames == voice.frames and np.isfinite(out.samples).all() and out.samples.any()


def test_vcfx_deep_pitch_shift_of_a_low_voice_does_not_abort():
    proc = run_python("""
        import numpy as np, vcfx
        voice = vcfx.synthetic_voice(1.0, 44100, f0_hz=90.0, syllable_rate_hz=3.0).audio
        chain = vcfx.Chain.from_spec("pitch_shift=semitones=-24", seed=0)
        chain.options = {"world": {"frame_period_ms": 20.0}}
        for _ in range(3):
            out = chain(voice)
        print(out.frames, bool(np.isfinite(out.samples).all()))
    """)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-500:])
    assert proc.stdout.split() == ["44100", "True"]


def test_pyworld_harvest_calls_a_pure_sine_unvoiced_but_vcfx_shifts_it():
    out = vcfx.effect("pitch_shift", semitones=12)(sine(200.0), seed=0)  # vcfx tracks with dio by default
    assert abs(dominant_hz(out) - 400.0) < 10.0
    raw = backend_result("""
        import json, numpy as np, pyworld
        x = 0.5 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
        f0, _ = pyworld.harvest(x, 16000)
        print(json.dumps({"voiced": float((f0 > 0).mean())}))
    """)
    observe_hazards("pyworld", {"calls a pure sine unvoiced in harvest": raw.get("voiced", 1.0) < 0.05}, raw)


def test_one_nan_sample_makes_pyworld_call_everything_unvoiced_and_vcfx_refuses_it():
    x = vcfx.synthetic_voice(1.0, 16000).audio.samples[0].copy()
    x[8000] = np.nan
    with pytest.raises(vcfx.AudioError, match="1 non-finite"):
        vcfx.effect("pitch_shift", semitones=2).process(x, 16000)
    raw = backend_result("""
        import json, numpy as np, pyworld, vcfx
        x = vcfx.synthetic_voice(1.0, 16000).audio.samples[0].astype(np.float64)
        clean = float((pyworld.dio(x, 16000)[0] > 0).mean())
        x[8000] = np.nan
        print(json.dumps({"clean": clean, "dio": float((pyworld.dio(x, 16000)[0] > 0).mean()),
                          "harvest": float((pyworld.harvest(x, 16000)[0] > 0).mean())}))
    """)
    assert raw.get("clean", 1.0) > 0.8, raw  # the clean voice is voiced: the observation below means something
    observe_hazards("pyworld", {"calls everything unvoiced after one NaN in dio": raw.get("dio") == 0.0,
                                "calls everything unvoiced after one NaN in harvest": raw.get("harvest") == 0.0}, raw)


def test_pyworld_empty_input_and_floor_above_ceiling_are_memory_errors_vcfx_says_what_is_wrong():
    with pytest.raises(vcfx.AudioError, match="empty"):
        vcfx.effect("pitch_shift", semitones=2).process(np.zeros(0, dtype=np.float32), 16000)
    chain = vcfx.Chain([vcfx.effect("pitch_shift", semitones=2)],
                       options={"world": {"f0_floor_hz": 300.0, "f0_ceil_hz": 200.0}})
    with pytest.raises(vcfx.ParameterError, match="f0_floor_hz=300.0 must be below f0_ceil_hz=200.0"):
        chain(vcfx.synthetic_voice(0.3, 16000).audio)
    raw = backend_result("""
        import json, numpy as np, pyworld
        got = {}
        for case, call in {
            "empty": lambda: pyworld.harvest(np.zeros(0), 16000),
            "floor_above_ceil": lambda: pyworld.dio(np.random.default_rng(0).standard_normal(16000), 16000,
                                                    f0_floor=500.0, f0_ceil=100.0),
        }.items():
            try:
                call()
                got[case] = "returned"
            except BaseException as exc:
                got[case] = type(exc).__name__
        print(json.dumps(got))
    """)
    observe_hazards("pyworld", {
        "raises MemoryError for empty input": raw.get("empty") == "MemoryError",
        "raises MemoryError for f0_floor above f0_ceil": raw.get("floor_above_ceil") == "MemoryError",
    }, raw)


# -- pedalboard --------------------------------------------------------------------------------

PEDALBOARD_AT_RATE = """
    import json, numpy as np, pedalboard
    x = 0.1 * np.random.default_rng(0).standard_normal((1, 16000)).astype(np.float32)
    y = {call}
    print(json.dumps({{"frames": int(y.shape[-1]), "finite": bool(np.isfinite(y).all())}}))
"""


@pytest.mark.parametrize("rate", [0, -16000])
def test_pedalboard_with_a_sample_rate_of_zero_or_below_crashes_or_returns_garbage(rate):
    for name in ("tempo", "pedalboard"):
        eff = vcfx.effect(name, rate=0.8) if name == "tempo" else vcfx.effect(name, plugin="Reverb")
        with pytest.raises(vcfx.AudioError, match=f"sample_rate={rate} is outside"):
            eff.process(np.zeros(16000, dtype=np.float32), rate)
    reverb = backend_result(PEDALBOARD_AT_RATE.format(call=f"pedalboard.Reverb()(x, {float(rate)})"))
    stretched = backend_result(PEDALBOARD_AT_RATE.format(
        call=f"pedalboard.time_stretch(x, {float(rate)}, stretch_factor=0.8)"))
    observe_hazards("pedalboard", {
        f"kills the process in Reverb at sample rate {rate}": reverb.get("died") in ("SIGFPE", "SIGSEGV", "SIGBUS"),
        f"returns audio from time_stretch at sample rate {rate}": stretched.get("frames", 0) > 0,
    }, {"Reverb": reverb, "time_stretch": stretched})


def test_pedalboard_time_stretch_returns_nothing_for_10_samples_vcfx_tempo_returns_the_right_length():
    x = 0.1 * np.random.default_rng(0).standard_normal(10).astype(np.float32)
    for rate in (0.8, 1.25, 4.0):
        y = vcfx.effect("tempo", rate=rate).process(x, 16000)
        assert len(y) == round(10 / rate) and np.isfinite(y).all()
    raw = backend_result(PEDALBOARD_AT_RATE.format(call="pedalboard.time_stretch(x[:, :10], 16000.0, "
                                                        "stretch_factor=0.8)"))
    observe_hazards("pedalboard", {"returns no frames from time_stretch for 10 samples": raw.get("frames") == 0}, raw)


def test_one_nan_makes_pedalboard_output_all_nan_vcfx_refuses_it_at_the_door():
    x = 0.1 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    x[100] = np.nan
    for eff in (vcfx.effect("tempo", rate=0.8), vcfx.effect("pedalboard", plugin="Chorus")):
        with pytest.raises(vcfx.AudioError, match="1 non-finite"):
            eff.process(x, 16000)
    raw = backend_result("""
        import json, numpy as np, pedalboard
        x = 0.1 * np.random.default_rng(0).standard_normal((1, 16000)).astype(np.float32)
        x[0, 100] = np.nan
        y = pedalboard.time_stretch(x, 16000.0, stretch_factor=0.8)
        print(json.dumps({"nan_share": float(np.isnan(y).mean())}))
    """)
    observe_hazards("pedalboard", {"turns all of time_stretch's output NaN for one NaN sample":
                                   raw.get("nan_share") == 1.0}, raw)


# -- soundfile and scipy ----------------------------------------------------------------------------

def test_soundfile_writes_nan_as_minus_one_and_clips_floats_in_16_bit_vcfx_never_does(tmp_path):
    with pytest.raises(vcfx.AudioError, match="1 non-finite"):
        vcfx.Audio(np.array([[0.0, np.nan, 0.5]]), 8000)
    loud = vcfx.Audio(np.array([[0.0, 0.25, 1.5, -2.0, 0.5]]), 8000)
    with pytest.raises(vcfx.AudioError, match=r"2 samples would clip in PCM_16 \(peak 2.000"):
        loud.save(tmp_path / "loud.wav", subtype="PCM_16")
    assert not (tmp_path / "loud.wav").exists()
    loud.save(tmp_path / "loud.wav", subtype="FLOAT")  # the lossless way keeps every value
    np.testing.assert_array_equal(sf.read(tmp_path / "loud.wav", dtype="float32")[0], loud.samples[0])
    raw = backend_result(f"""
        import json, numpy as np, soundfile as sf
        path = {str(tmp_path / "raw.wav")!r}
        sf.write(path, np.array([0.0, np.nan, 1.5, -2.0, 0.5]), 8000, subtype="PCM_16")
        print(json.dumps({{"read": sf.read(path)[0].tolist()}}))
    """)
    read = raw.get("read", [None] * 5)
    observe_hazards("soundfile", {"writes NaN as -1.0 in PCM_16": read[1] == -1.0,
                                  "clips 1.5 to 1.0 in PCM_16 silently": read[2] == pytest.approx(1.0, abs=1e-4)},
                    raw)


def test_scipy_convolution_spreads_one_nan_vcfx_reverb_refuses_a_nan_room(tmp_path):
    room = np.exp(-np.arange(1600) / 200.0) * np.random.default_rng(1).standard_normal(1600)
    room[10] = np.nan
    sf.write(tmp_path / "room.wav", room, 16000, subtype="FLOAT")
    with pytest.raises(vcfx.ParameterError, match="room.wav.*non-finite"):
        vcfx.effect("reverb", ir=str(tmp_path / "room.wav"))
    room[10] = 0.0
    sf.write(tmp_path / "room.wav", room, 16000, subtype="FLOAT")
    out = vcfx.effect("reverb", ir=str(tmp_path / "room.wav"))(sine(), seed=0)
    assert out.frames == 16000 + 1600 - 1 and np.isfinite(out.samples).all()
    raw = backend_result("""
        import json, numpy as np
        from scipy import signal
        x = np.random.default_rng(0).standard_normal(1000)
        x[10] = np.nan
        y = signal.oaconvolve(x, np.random.default_rng(1).standard_normal(100))
        print(json.dumps({"nan_share": float(np.isnan(y).mean())}))
    """)
    observe_hazards("scipy", {"spreads one NaN over most of a convolution": raw.get("nan_share", 0.0) > 0.5}, raw)


def test_a_hazard_fixed_upstream_is_reported_not_failed():
    with pytest.raises(pytest.skip.Exception, match="pyworld no longer aborts; vcfx's guard still holds"):
        observe_hazards("pyworld", {"aborts": False, "leaks": True}, {"died": None})
    observe_hazards("pyworld", {"aborts": True, "leaks": True}, {"died": "SIGABRT"})  # still there: nothing to say
