"""Declared parameters: every assignment re-validates the whole effect and is undone when refused."""

import ast
from pathlib import Path

import numpy as np
import pytest

import vcfx

ROOT = Path(__file__).resolve().parents[1]


class Band(vcfx.Effect):
    """A test effect with a rule between two parameters: low_hz below high_hz."""

    name = "band_for_tests"
    params = (
        vcfx.Param("low_hz", float, 100.0, "Lower edge", unit="Hz", low=0.0, high=20000.0),
        vcfx.Param("high_hz", float, 1000.0, "Upper edge", unit="Hz", low=0.0, high=20000.0),
    )
    checks = 0

    def validate(self) -> None:
        type(self).checks += 1
        if not self.low_hz < self.high_hz:
            raise vcfx.ParameterError(f"low_hz={self.low_hz} must be below high_hz={self.high_hz}")

    def process_waveform(self, audio, ctx):
        return audio


@pytest.fixture
def band():
    Band.checks = 0
    return Band(low_hz=200.0, high_hz=800.0)


def test_construction_checks_the_combination_once(band):
    assert Band.checks == 1
    with pytest.raises(vcfx.ParameterError, match="low_hz=900.0 must be below high_hz=800.0"):
        Band(low_hz=900.0, high_hz=800.0)


def test_an_assignment_that_breaks_the_rule_is_refused_and_undone(band):
    with pytest.raises(vcfx.ParameterError, match="low_hz=900.0 must be below high_hz=800.0"):
        band.low_hz = 900.0
    assert band.param_values() == {"low_hz": 200.0, "high_hz": 800.0} and band == Band(low_hz=200.0, high_hz=800.0)
    with pytest.raises(vcfx.ParameterError, match=r"high_hz=30000 is outside \[0, 20000\]"):
        band.high_hz = 30000  # a value refused alone never reaches validate()
    assert band.high_hz == 800.0


def test_every_accepted_assignment_is_checked_with_the_others(band):
    band.high_hz = 2000.0
    band.low_hz = 1500.0
    assert (band.low_hz, band.high_hz) == (1500.0, 2000.0) and Band.checks == 3


def test_other_attributes_are_not_parameters(band):
    band.note = "anything"  # not declared: set as it is, no validation
    assert band.note == "anything" and Band.checks == 1


def test_an_unexpected_failure_in_validate_also_undoes_the_assignment(band, monkeypatch):
    def broken(self):
        raise RuntimeError("backend gone")

    monkeypatch.setattr(Band, "validate", broken)
    with pytest.raises(RuntimeError, match="backend gone"):
        band.low_hz = 300.0
    assert band.low_hz == 200.0


def test_a_refused_assignment_leaves_the_effect_working(band):
    with pytest.raises(vcfx.ParameterError):
        band.high_hz = 100.0
    audio = vcfx.Audio(np.zeros((1, 100), dtype=np.float32), 16000)
    assert band(audio) == audio


def _process_methods_that_validate(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("process_"):
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "validate"):
                    found.append(f"{path.relative_to(ROOT)}:{call.lineno} in {node.name}")
    return found


def test_no_effect_checks_its_own_parameters_again_at_process_time():
    sources = sorted((ROOT / "plugins").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    assert sources, "no plugin sources found"
    offenders = [hit for path in sources for hit in _process_methods_that_validate(path)]
    assert offenders == []
