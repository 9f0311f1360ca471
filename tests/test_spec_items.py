"""One parser for ``key=value`` items: chain specs, ``vcfx slice -p`` and ``vcfx.testing`` read text the same way."""

import pytest

import vcfx
import vcfx.testing
from vcfx.cli import main
from vcfx.spec import parse_effect, parse_params


class Unregistered(vcfx.Effect):
    """Not registered: vcfx.testing parses its specs with the class itself."""

    name = "unregistered_gain"
    summary = "Multiply by a gain"
    params = (vcfx.Param("gain", float, 1.0, "Linear gain", low=0.0, high=4.0),)

    def process_waveform(self, audio, ctx):
        return audio.replace(samples=audio.samples * self.gain)


class RepeatsItself(Unregistered):
    def to_spec(self) -> str:
        return f"{self.name}=gain=1:gain={self.gain}"


def test_the_testing_kit_parses_with_the_users_parser():
    vcfx.testing.check_round_trip(Unregistered(gain=2.0))
    with pytest.raises(vcfx.testing.ContractError, match='parameter "gain" of effect "unregistered_gain" is given twice'):
        vcfx.testing.check_round_trip(RepeatsItself(gain=2.0))


@pytest.mark.parametrize("item, phrase", [
    ("unregistered_gain=gain=1:gain=2", "is given twice"),
    ("unregistered_gain=gian=1", 'did you mean "gain"'),
    ("unregistered_gain=gain", "is not key=value"),
    ('unregistered_gain=gain="1', "double quote is not closed"),
    ("other=gain=1", 'names effect "other"'),
])
def test_an_unregistered_class_gets_every_check_of_the_grammar(item, phrase):
    with pytest.raises(vcfx.VcfxError, match=phrase):
        parse_effect(item, Unregistered)


def test_slicer_parameters_on_the_command_line_use_the_same_parser(capsys, tmp_path):
    voice = tmp_path / "v.wav"
    vcfx.example_voice().save(voice)
    for args, phrase in ((["-p", "min_segment_ms=80", "-p", "min_segment_ms=90"], "is given twice"),
                         (["-p", "min_segmnt_ms=80"], 'did you mean "min_segment_ms"')):
        assert main(["slice", str(voice), str(tmp_path / "s"), *args]) == 2
        assert phrase in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
    assert parse_params(vcfx.slicer("onsets").params, ["min_segment_ms=80"], "slicer") == {"min_segment_ms": 80.0}
