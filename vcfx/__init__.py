"""vcfx: change voices with chains of effects.

>>> import vcfx
>>> voice = vcfx.load("voice.wav")
>>> chain = vcfx.Chain.from_spec("pitch_shift=semitones=4,tempo=rate=0.8", seed=0)
>>> chain(voice).save("out.wav")
"""

from importlib.metadata import PackageNotFoundError, version

from .audio import DTYPE, Audio, load
from .chain import Chain
from .domains import Domain
from .effect import Context, Effect
from .errors import (
    AudioError,
    EffectError,
    ParameterError,
    PluginError,
    PluginLoadWarning,
    SpecError,
    VcfxError,
)
from .hookspecs import hookimpl
from .params import Curve, Param, at_times
from .plugins import domain, effect, effect_class, effects, list_plugins, preset, presets
from .spec import load_chain

try:
    __version__ = version("vcfx")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Audio",
    "AudioError",
    "Chain",
    "Context",
    "Curve",
    "DTYPE",
    "Domain",
    "Effect",
    "EffectError",
    "Param",
    "ParameterError",
    "PluginError",
    "PluginLoadWarning",
    "SpecError",
    "VcfxError",
    "at_times",
    "domain",
    "effect",
    "effect_class",
    "effects",
    "hookimpl",
    "load",
    "load_chain",
    "list_plugins",
    "preset",
    "presets",
]

from .synthetic import example_voice, synthetic_voice  # noqa: E402

__all__ += ["example_voice", "synthetic_voice"]

from .plugins import slicer, slicers  # noqa: E402
from .slicing import Segment, Slicer, slice_audio, slice_onsets, write_segments  # noqa: E402

__all__ += ["Segment", "Slicer", "slice_audio", "slice_onsets", "slicer", "slicers", "write_segments"]
