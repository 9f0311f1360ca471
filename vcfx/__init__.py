"""vcfx: change voices with chains of effects.

>>> import vcfx
>>> voice = vcfx.load("voice.wav")
>>> chain = vcfx.Chain.from_spec("pitch_shift=semitones=4,tempo=rate=0.8", seed=0)
>>> chain(voice).save("out.wav")
"""

from importlib.metadata import PackageNotFoundError, version

from .audio import DTYPE, Audio, load
from .batching import batch
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
    unknown_name_message,
)
from .hookspecs import hookimpl
from .parallel import threads
from .params import Curve, Param, at_times
from .plugins import domain, effect, effect_class, effects, list_plugins, preset, presets, slicer, slicers
from .slicing import Segment, Slicer, slice_audio, slice_onsets, write_segments
from .streaming import stream_file
from .synthetic import example_voice, synthetic_voice
from .spec import load_chain

try:
    __version__ = version("vcfx")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Audio",
    "batch",
    "example_voice",
    "Segment",
    "Slicer",
    "slice_audio",
    "slice_onsets",
    "slicer",
    "slicers",
    "stream_file",
    "synthetic_voice",
    "write_segments",
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
    "threads",
    "unknown_name_message",
]

