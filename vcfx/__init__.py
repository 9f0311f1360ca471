"""vcfx: change voices with chains of effects.

>>> import vcfx
>>> voice = vcfx.load("voice.wav")
>>> chain = vcfx.Chain.from_spec("pitch_shift=semitones=4,tempo=rate=0.8", seed=0)
>>> chain(voice).save("out.wav")
"""

from importlib.metadata import PackageNotFoundError, version

from .applying import apply_file
from .audio import DTYPE, Audio, load
from .batching import batch
from .chain import Chain
from .compiled import compiled
from .domains import Domain
from .effect import Context, Effect, LiveProcessor
from .errors import (
    AudioError,
    EffectError,
    ParameterError,
    PluginError,
    PluginLoadWarning,
    SpecError,
    StreamError,
    VcfxError,
    unknown_name_message,
)
from .hookspecs import hookimpl
from .parallel import thread_map, threads
from .params import Curve, Param, at_times
from .plugins import domain, effect, effect_class, effects, list_plugins, preset, presets, slicer, slicers
from .presets import load_chain, write_preset
from .live import Stream
from .slicer import Slicer
from .slicing import Segment, slice_audio, slice_onsets, write_segments
from .streaming import stream_file
from .synthetic import example_voice, synthetic_voice

try:
    __version__ = version("vcfx")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def plot(audio: Audio, *, world: bool = False, title: str | None = None):
    """Waveform, spectrogram, RMS level and f0 of ``audio`` in one figure (as ``vcfx analyze`` draws).

    Parameters
    ----------
    audio : Audio
    world : bool
        Add WORLD's spectral envelope and aperiodicity (needs the ``"world"``
        domain from a plugin).
    title : str, optional
        Name to show in the figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Shown inline by Jupyter; save with ``fig.savefig("voice.png")``.
    """
    from .plotting import analyze_figure  # matplotlib loads on the first figure, not with vcfx

    return analyze_figure(audio, world=world, title=title)


__all__ = [
    "Audio",
    "apply_file",
    "plot",
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
    "Stream",
    "StreamError",
    "LiveProcessor",
    "VcfxError",
    "at_times",
    "compiled",
    "domain",
    "effect",
    "effect_class",
    "effects",
    "hookimpl",
    "load",
    "load_chain",
    "write_preset",
    "list_plugins",
    "preset",
    "presets",
    "thread_map",
    "threads",
    "unknown_name_message",
]

