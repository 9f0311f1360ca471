import os
from pathlib import Path

import numpy as np
import pytest

import vcfx

SHARED_AUDIO = Path(os.environ.get("VCFX_SHARED_AUDIO", Path(__file__).resolve().parents[2] / "shared" / "audio"))


def _shared(name: str) -> Path:
    path = SHARED_AUDIO / name
    if not path.is_file():
        pytest.skip(f"{path} is not available (the shared audio folder sits beside the project)")
    return path


@pytest.fixture
def speech_path() -> Path:
    """The real recording: Korean sentence, female voice, 44.1 kHz stereo, 3.53 s."""
    return _shared("speech.wav")


@pytest.fixture
def reverb_path() -> Path:
    """A real room impulse response, 96 kHz mono, 2.0 s."""
    return _shared("reverb.wav")


@pytest.fixture(scope="session")
def voice() -> vcfx.synthetic.SyntheticVoice:
    """A synthetic voice with a known, moving f0 contour (140 -> 220 -> 160 Hz), 22.05 kHz mono."""
    return vcfx.synthetic_voice(2.0, 22050, f0_hz=(140.0, 220.0, 160.0))


@pytest.fixture(scope="session")
def stereo_voice() -> vcfx.Audio:
    return vcfx.synthetic_voice(1.0, 22050, f0_hz=(180.0, 150.0), channels=2).audio


@pytest.fixture
def fresh_plugins(monkeypatch):
    """Reload plugins before and after the test, so env changes take effect and are undone."""
    from vcfx import plugins

    monkeypatch.delenv("VCFX_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("VCFX_DISABLE_PLUGINS", raising=False)
    plugins.reload()
    yield
    monkeypatch.undo()
    plugins.reload()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# -- bad inputs: tests/test_bad_inputs.py counts them, the summary says how many and that none crashed --


class BadInputTally:
    """How many bad inputs were tried, and which crashed (raised something other than a VcfxError)."""

    def __init__(self):
        self.tried = 0
        self.crashes: list[str] = []


_BAD_INPUTS = pytest.StashKey[BadInputTally]()


@pytest.fixture(scope="session")
def bad_inputs(request) -> BadInputTally:
    return request.config.stash.setdefault(_BAD_INPUTS, BadInputTally())


def pytest_terminal_summary(terminalreporter, config):
    tally = config.stash.get(_BAD_INPUTS, None)
    if tally is not None and tally.tried:
        terminalreporter.write_sep("-", f"bad inputs tried: {tally.tried}, crashed: {len(tally.crashes)}")
        for crash in tally.crashes:
            terminalreporter.write_line(f"  crashed: {crash}")
