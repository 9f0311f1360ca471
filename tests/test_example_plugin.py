"""The example third-party package examples/vcfx-echo: pip-installed, listed, its own tests pass, used in chains."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "examples" / "vcfx-echo"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def vcfx_command() -> list[str]:
    script = Path(sys.executable).with_name("vcfx")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vcfx.cli"]


def run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def installed_echo():
    """vcfx-echo installed as a user would (no editable tricks), uninstalled afterwards."""
    subprocess.run(PIP + ["install", "--no-deps", "--no-build-isolation", str(PACKAGE)], check=True)
    try:
        yield
    finally:
        subprocess.run(PIP + ["uninstall", "-y", "vcfx-echo"], check=True)
        gone = run([sys.executable, "-c", "import vcfx; print('echo' in vcfx.effects())"], cwd=ROOT)
        assert gone.stdout.strip() == "False", gone.stderr


def test_vcfx_plugins_lists_it(installed_echo):
    result = run(vcfx_command() + ["plugins", "--json"])
    assert result.returncode == 0, result.stderr
    echo = next(p for p in json.loads(result.stdout) if p["name"] == "echo")
    assert (echo["distribution"], echo["version"], echo["effects"], echo["error"]) == ("vcfx-echo", "0.1.0", ["echo"], None)
    table = run(vcfx_command() + ["effects"]).stdout
    assert "echo  [waveform]  Repeats of the voice" in table and "delay_ms" in table


def test_its_own_tests_pass(installed_echo, tmp_path):
    """The package's tests, vcfx.testing's contract checks among them, run from outside this suite.

    Every test pytest collects there must pass: the collected ids (``--collect-only``) against the
    outcome of each test case in the run's JUnit report, none skipped, failed or missing.
    """
    pytest_cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(PACKAGE / "tests")]
    listing = run(pytest_cmd + ["--collect-only", "-q"], cwd=tmp_path)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    collected = [line for line in listing.stdout.splitlines() if "::" in line]
    assert collected, listing.stdout

    report = tmp_path / "report.xml"
    result = run(pytest_cmd + ["-q", f"--junitxml={report}"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes = {f"{case.get('classname')}.{case.get('name')}": [child.tag for child in case
                                                                if child.tag in ("skipped", "failure", "error")]
                for case in cases}
    assert len(outcomes) == len(collected), (sorted(outcomes), collected)
    assert all(not bad for bad in outcomes.values()), outcomes


def test_it_runs_in_a_chain_next_to_builtins(installed_echo):
    script = textwrap.dedent("""
        import numpy as np, vcfx
        voice = vcfx.synthetic_voice(1.0, 22050, channels=2).audio
        chain = vcfx.Chain.from_spec(
            "pitch_shift=semitones=3,echo=delay_ms=100:repeats=2,pedalboard=plugin=Chorus,reverb=rt60_s=0.3", seed=1)
        out = chain(voice)
        assert out.channels == 2 and np.isfinite(out.samples).all()
        assert out.frames == voice.frames + 2 * 2205 + round(0.3 * 22050) - 1, out.frames
        assert vcfx.Chain.from_dict(chain.to_dict()) == chain
        print(chain.to_spec())
    """)
    result = run([sys.executable, "-c", script], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "pitch_shift=semitones=3,echo=delay_ms=100:repeats=2,pedalboard=plugin=Chorus,reverb=rt60_s=0.3")
