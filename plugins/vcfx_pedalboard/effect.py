"""pedalboard: run any Spotify pedalboard plugin (built-in, VST3 or Audio Unit) as a vcfx effect."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import numpy as np
import pedalboard

import vcfx

_CONTAINERS = {"Chain", "Mix", "Pedalboard", "PluginContainer", "Plugin", "ExternalPlugin",
               "VST3Plugin", "AudioUnitPlugin", "IIRFilter"}
_NOT_PARAMETERS = {"is_effect", "is_instrument", "impulse_response"}


def builtin_plugins() -> dict[str, type]:
    """pedalboard's own plugin classes by name (``Chorus``, ``Reverb``, ...), containers left out."""
    return {
        name: obj for name in dir(pedalboard)
        if not name.startswith("_") and name not in _CONTAINERS
        and isinstance(obj := getattr(pedalboard, name), type) and issubclass(obj, pedalboard.Plugin)
    }


BUILTIN_PLUGINS = tuple(sorted(builtin_plugins()))
"""Names accepted by ``plugin=``."""

CONTEXT_S = 2.0
"""How far back (seconds) a pedalboard plugin's output is assumed to depend on its input, at least."""


def plugin_parameters(plugin: pedalboard.Plugin) -> list[str]:
    """Names of a built-in plugin's parameters (its properties), in alphabetical order."""
    return [name for name in dir(type(plugin))
            if isinstance(getattr(type(plugin), name, None), property) and name not in _NOT_PARAMETERS]


# -- the settings text: key=value;key=value ---------------------------------------

def _value_text(value: Any) -> str:
    if hasattr(type(value), "__members__"):  # a pybind11 enum, e.g. LadderFilter.Mode.HPF12
        return value.name
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not np.isfinite(number):
            raise vcfx.ParameterError(f"plugin parameter value {value!r} is not finite")
        return f"{number:.7g}"  # pedalboard keeps float32: 0.4000000059604645 is 0.4
    text = str(value).strip()
    if not text or any(c in text for c in ";=()"):
        raise vcfx.ParameterError(f'plugin parameter value "{text}" is empty or holds one of ; = ( )')
    return text


def parse_settings(text: str) -> dict[str, str]:
    """``"rate_hz=2;depth=0.5"`` as ``{"rate_hz": "2", "depth": "0.5"}`` (in order)."""
    settings: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in text.split(";"))):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key.isidentifier() or not value:
            raise vcfx.ParameterError(
                f'plugin setting "{item}" is not key=value; write settings as key=value;key=value, '
                "e.g. rate_hz=2;depth=0.5"
            )
        if key in settings:
            raise vcfx.ParameterError(f'plugin setting "{key}" is given twice in "{text}"')
        settings[key] = value
    return settings


def settings_text(settings: dict[str, Any]) -> str:
    """The canonical ``key=value;key=value`` text of plugin settings."""
    for key in settings:
        if not isinstance(key, str) or not key.isidentifier():
            raise vcfx.ParameterError(f"plugin parameter name {key!r} is not an identifier")
    return ";".join(f"{key}={_value_text(value)}" for key, value in settings.items())


class SettingsParam(vcfx.Param):
    """A ``key=value;key=value`` text parameter that also takes a dict."""

    def validate(self, value: Any) -> Any:
        if isinstance(value, dict):
            return settings_text(value)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise vcfx.ParameterError(f"{self.name}={value!r} is not key=value;key=value text or a dict")
        return settings_text({k: _guess(v) for k, v in parse_settings(value).items()})


class PluginParam(vcfx.Param):
    """A pedalboard built-in plugin name, or any ``pedalboard.Plugin`` object."""

    def validate(self, value: Any) -> Any:
        if value is None or isinstance(value, pedalboard.Plugin):
            return value
        if not isinstance(value, str):
            raise vcfx.ParameterError(
                f"{self.name}={value!r} is neither a pedalboard plugin name nor a pedalboard.Plugin object"
            )
        if value not in BUILTIN_PLUGINS:
            raise vcfx.ParameterError(vcfx.unknown_name_message(value, BUILTIN_PLUGINS, "pedalboard plugin")
                                      + ". For a VST3 or Audio Unit, give path= instead")
        return value

    def format(self, value: Any) -> str:
        if isinstance(value, pedalboard.Plugin):
            raise vcfx.ParameterError(f"a {type(value).__name__} object has no text form; see PedalboardEffect.to_spec")
        return super().format(value)

    def to_json(self, value: Any) -> Any:
        if isinstance(value, pedalboard.Plugin):
            raise vcfx.ParameterError(f"a {type(value).__name__} object has no JSON form; see PedalboardEffect.to_dict")
        return value


# -- building plugins ------------------------------------------------------------

def _convert(text: str, current: Any, key: str, plugin_label: str) -> Any:
    """Turn setting text into the type the plugin's property holds now."""
    if hasattr(type(current), "__members__"):
        members = type(current).__members__
        if text not in members:
            raise vcfx.ParameterError(f'{plugin_label} {key}="{text}" is not one of {", ".join(members)}')
        return members[text]
    if isinstance(current, bool):
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise vcfx.ParameterError(f"{plugin_label} {key}={text} is not true or false")
    if isinstance(current, (int, float)):
        try:
            return float(text)
        except ValueError:
            raise vcfx.ParameterError(f"{plugin_label} {key}={text} is not a number") from None
    return _guess(text)


def _guess(text: str) -> Any:
    """A number, true/false, or the text itself (for plugins whose types are not known ahead)."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return float(text)
    except ValueError:
        return text


def build_builtin(name: str, settings: dict[str, str]) -> pedalboard.Plugin:
    """``pedalboard.<name>`` with ``settings`` applied; ParameterError naming the bad setting."""
    cls = builtin_plugins()[name]
    label = f"pedalboard.{name}"
    try:
        plugin = cls()
    except (TypeError, RuntimeError):  # needs constructor arguments (Convolution)
        try:
            return cls(**{k: _guess(v) for k, v in settings.items()})
        except (TypeError, ValueError, RuntimeError) as exc:
            raise vcfx.ParameterError(f"{label}({settings_text(settings)}) cannot be built: "
                                      f"{' '.join(str(exc).split())}") from None
    known = plugin_parameters(plugin)
    for key, text in settings.items():
        if key not in known:
            raise vcfx.ParameterError(vcfx.unknown_name_message(key, known, f"parameter of {label}"))
        value = _convert(text, getattr(plugin, key), key, label)
        try:
            setattr(plugin, key, value)
        except (TypeError, ValueError) as exc:
            raise vcfx.ParameterError(f"{label} {key}={text}: {' '.join(str(exc).split())}") from None
    return plugin


def load_external(path: str, plugin_name: str | None, settings: dict[str, str]) -> pedalboard.Plugin:
    """A VST3 or Audio Unit through ``pedalboard.load_plugin``; ParameterError naming the file."""
    try:
        return pedalboard.load_plugin(path, parameter_values={k: _guess(v) for k, v in settings.items()},
                                      plugin_name=plugin_name)
    except (ImportError, ValueError, RuntimeError, TypeError, OSError) as exc:
        raise vcfx.ParameterError(f"path={path!r}: cannot load it as a VST3 or Audio Unit plugin: "
                                  f"{' '.join(str(exc).split())}") from None


def describe(plugin: pedalboard.Plugin) -> tuple[str, str]:
    """``(name, settings text)`` that rebuild a built-in plugin object by name.

    Raises ParameterError for objects that cannot be written down (VST3 and
    Audio Unit objects, containers, convolution with an in-memory IR).
    """
    name = type(plugin).__name__
    if builtin_plugins().get(name) is not type(plugin):
        raise vcfx.ParameterError(
            f"a wrapped {name} object cannot be written as a spec or preset; build the effect by name "
            "(plugin=Chorus:settings=...) or, for a VST3/Audio Unit, by path=..."
        )
    settings = {}
    for key in plugin_parameters(plugin):
        value = getattr(plugin, key)
        if value is None:
            continue
        if isinstance(value, np.ndarray):
            raise vcfx.ParameterError(f"a {name} object with an in-memory {key} cannot be written as text")
        settings[key] = value
    return name, settings_text(settings)


# -- the effect ------------------------------------------------------------------

class PedalboardEffect(vcfx.Effect):
    """Run a pedalboard plugin inside a vcfx chain.

    Three ways to say which plugin:

    - ``plugin="Chorus"`` and ``settings="rate_hz=2;depth=0.5"``: one of
      pedalboard's built-in plugins by class name, its settings as
      ``key=value;key=value`` (or a dict in Python). The spec form is
      ``pedalboard=plugin=Chorus:settings=rate_hz=2;depth=0.5``. Settings are
      validated by pedalboard's own setters when the effect is built.
    - ``plugin=pedalboard.Reverb(room_size=0.8)``: any plugin object
      (Python only). The object is used as it is, so later changes to it
      take effect. A built-in plugin object is written out by name in
      :meth:`to_spec` and :meth:`to_dict`.
    - ``path="/plugins/Foo.vst3"`` (with ``plugin_name`` for multi-plugin
      bundles, ``settings`` for its parameters): a VST3 or Audio Unit loaded
      with ``pedalboard.load_plugin`` once per effect.

    Length and tails: the plugin is reset before every run
    (``process(..., reset=True)``), so runs do not leak state into each other
    and the same input always gives the same output. The input is followed
    by ``tail_s`` seconds of silence, which pushes a reverb's or delay's
    tail out of the plugin; the output has exactly ``frames +
    round(tail_s * sample_rate)`` frames. With the default ``tail_s=0`` the
    length is kept and a tail is cut off at the end of the input, as with a
    pedal on a recorded track. pedalboard compensates a plugin's reported
    latency; if a plugin still returns fewer frames, the end is padded with
    silence (and a plugin's extra frames are dropped). Any input length
    works, down to a single frame.
    """

    name = "pedalboard"
    summary = "Any pedalboard plugin (built-in by name, an object, or a VST3/Audio Unit file)"
    params = (
        PluginParam("plugin", str, None, "A pedalboard built-in plugin by class name (or a pedalboard.Plugin object)",
                    optional=True, choices=BUILTIN_PLUGINS),
        vcfx.Param("path", str, None, "VST3 or Audio Unit file to load instead of a built-in", optional=True,
                   file="code"),
        vcfx.Param("plugin_name", str, None, "Which plugin of a multi-plugin VST3/AU bundle", optional=True),
        SettingsParam("settings", str, "", "Plugin settings as key=value;key=value (e.g. rate_hz=2;depth=0.5)"),
        vcfx.Param("tail_s", float, 0.0, "Silence appended so reverb and delay tails ring out", unit="s",
                   low=0.0, high=60.0),
    )
    examples = (
        {"plugin": "Chorus", "settings": "rate_hz=2;depth=0.5"},
        {"plugin": "Reverb", "settings": "room_size=0.8;wet_level=0.3", "tail_s": 1.5},
    )

    def validate(self) -> None:
        if (self.plugin is None) == (self.path is None):
            raise vcfx.ParameterError(
                "pedalboard needs exactly one of plugin= (a built-in such as Chorus, or a pedalboard.Plugin "
                f"object) and path= (a VST3 or Audio Unit); got plugin={self.plugin!r}, path={self.path!r}"
            )
        if isinstance(self.plugin, pedalboard.Plugin) and self.settings:
            raise vcfx.ParameterError(f"settings={self.settings!r} goes with a plugin name or path; "
                                      f"set them on the {type(self.plugin).__name__} object instead")
        if self.plugin_name is not None and self.path is None:
            raise vcfx.ParameterError("plugin_name goes with path= (a multi-plugin VST3/AU bundle)")
        self.instance()

    def instance(self) -> pedalboard.Plugin:
        """The pedalboard plugin this effect runs (built or loaded once, rebuilt when parameters change)."""
        if isinstance(self.plugin, pedalboard.Plugin):
            return self.plugin
        key = (self.plugin, self.path, self.plugin_name, self.settings)
        cached = self.__dict__.get("_cached")
        if cached is not None and cached[0] == key:
            return cached[1]
        settings = parse_settings(self.settings)
        if self.path is not None:
            built = load_external(self.path, self.plugin_name, settings)
        else:
            built = build_builtin(self.plugin, settings)
        object.__setattr__(self, "_cached", (key, built))
        return built

    def tail_frames(self, sample_rate: int) -> int:
        return round(self.tail_s * sample_rate) if isinstance(self.tail_s, (int, float)) else 0

    def expected_frames(self, frames: int, sample_rate: int) -> int | None:
        if self.is_random():
            return None
        return frames + self.tail_frames(sample_rate)

    def context_frames(self, sample_rate: int) -> int:
        return max(int(CONTEXT_S * sample_rate), self.tail_frames(sample_rate))

    def live(self, sample_rate: int, channels: int, block_frames: int, ctx: vcfx.Context):
        """Stream with ``reset=False`` between blocks (see :class:`vcfx_pedalboard.live.PedalboardLive`)."""
        from .live import PedalboardLive

        return PedalboardLive(self, sample_rate, channels, block_frames)

    def process_waveform(self, audio: vcfx.Audio, ctx: vcfx.Context) -> vcfx.Audio:
        if isinstance(self.plugin, str):  # a fresh built-in per run: no state shared between threads
            plugin, lock = build_builtin(self.plugin, parse_settings(self.settings)), contextlib.nullcontext()
        else:  # a wrapped object or a loaded VST3/AU holds state: one run at a time
            plugin, lock = self.instance(), _SHARED_PLUGIN_LOCK
        frames = self.expected_frames(audio.frames, audio.sample_rate)
        # pedalboard guesses the layout from the shape (the smaller side is channels):
        # keep frames > channels so a tiny input is never read sideways
        pad = frames - audio.frames + max(0, audio.channels + 1 - frames)
        x = np.ascontiguousarray(np.pad(audio.samples, ((0, 0), (0, pad))), dtype=np.float32)
        with lock:
            try:
                y = plugin.process(x, float(audio.sample_rate), reset=True)
            except ValueError as exc:  # pedalboard refusing the input, e.g. a sample rate its MP3 codec lacks
                raise vcfx.AudioError(
                    f"pedalboard.{type(plugin).__name__} cannot process {audio.channels}-channel audio at "
                    f"{audio.sample_rate} Hz: {' '.join(str(exc).split())}"
                ) from None
        y = np.asarray(y)
        if y.ndim == 1:
            y = y[np.newaxis, :]
        if y.shape[0] != audio.channels:
            raise vcfx.EffectError(
                f"pedalboard plugin {type(plugin).__name__} turned {audio.channels} channels into {y.shape[0]}; "
                "vcfx effects keep the channel count"
            )
        y = y[:, :frames] if y.shape[1] >= frames else np.pad(y, ((0, 0), (0, frames - y.shape[1])))
        return audio.replace(samples=y)

    # -- text forms -------------------------------------------------------------
    def _by_name(self) -> "PedalboardEffect":
        """This effect with a built-in plugin object replaced by its name and settings."""
        if not isinstance(self.plugin, pedalboard.Plugin):
            return self
        name, text = describe(self.plugin)
        return PedalboardEffect(plugin=name, settings=text, tail_s=self.tail_s)

    def to_dict(self) -> dict[str, Any]:
        """As for every effect; a wrapped built-in plugin object is written by name and settings."""
        by_name = self._by_name()
        return vcfx.Effect.to_dict(by_name) if by_name is not self else super().to_dict()

    def to_spec(self) -> str:
        """As for every effect; a wrapped built-in plugin object is written by name and settings."""
        by_name = self._by_name()
        return vcfx.Effect.to_spec(by_name) if by_name is not self else super().to_spec()

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        if isinstance(self.plugin, pedalboard.Plugin) or isinstance(other.plugin, pedalboard.Plugin):
            try:
                return self._by_name().param_values() == other._by_name().param_values()
            except vcfx.ParameterError:
                return self.plugin is other.plugin and self.param_values() == other.param_values()
        return self.param_values() == other.param_values()

    __hash__ = None


_SHARED_PLUGIN_LOCK = threading.Lock()
"""Held while a wrapped object or a loaded VST3/AU runs: a plugin holds state, so one run at a time."""
