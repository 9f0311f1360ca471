"""Parameter declarations: declared once, read by validation, specs, the CLI and the docs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError

__all__ = ["Param", "Curve", "Distribution", "Uniform", "Choice", "at_times"]


@dataclass(frozen=True)
class Curve:
    """A parameter that changes over time: values at times, linearly interpolated.

    Before the first point the first value holds; after the last, the last.

    Parameters
    ----------
    points : sequence of (time_s, value)
        Times in seconds, strictly increasing.

    Examples
    --------
    >>> Curve([(0.0, 0.0), (1.5, 4.0)])  # rise from 0 to 4 over 1.5 s
    """

    points: tuple[tuple[float, float], ...]

    def __init__(self, points):
        try:
            pts = tuple((float(t), float(v)) for t, v in points)
        except (TypeError, ValueError):
            raise ParameterError(
                f"a curve takes (time_s, value) pairs, got {points!r}"
            ) from None
        if not pts:
            raise ParameterError("a curve needs at least one (time_s, value) point")
        times = [t for t, _ in pts]
        if not all(math.isfinite(t) and math.isfinite(v) for t, v in pts):
            raise ParameterError(f"curve points must be finite numbers, got {points!r}")
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ParameterError(f"curve times must increase strictly, got {times}")
        object.__setattr__(self, "points", pts)

    def __call__(self, times_s: np.ndarray) -> np.ndarray:
        """Values at ``times_s`` (seconds)."""
        t, v = zip(*self.points)
        return np.interp(times_s, t, v)

    def values(self) -> list[float]:
        return [v for _, v in self.points]

    def to_text(self) -> str:
        return "curve(" + ";".join(f"{_num(t)}:{_num(v)}" for t, v in self.points) + ")"

    @classmethod
    def from_text(cls, text: str) -> "Curve":
        body = text.strip()[len("curve(") : -1]
        pairs = []
        for item in filter(None, (p.strip() for p in body.split(";"))):
            t, sep, v = item.partition(":")
            if not sep:
                raise ParameterError(f'curve point "{item}" is not TIME:VALUE in {text}')
            try:
                pairs.append((float(t), float(v)))
            except ValueError:
                raise ParameterError(f'curve point "{item}" is not two numbers in {text}') from None
        return cls(pairs)

    def __repr__(self) -> str:
        return f"Curve({list(self.points)!r})"


def _num(x: float) -> str:
    return repr(float(x)).removesuffix(".0") if float(x).is_integer() else repr(float(x))


class Distribution:
    """A random parameter value, drawn anew for every run of a chain.

    Written in specs as ``uniform(LOW,HIGH)`` or ``choice(A,B,...)``, e.g.
    ``pitch_shift=semitones=uniform(-2,2)``. The draw comes from the chain's
    seeded generator, so a seed reproduces it.
    """

    def draw(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def candidates(self) -> list[Any]:
        """Values to check against the parameter's range."""
        raise NotImplementedError

    def to_text(self) -> str:
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self.to_text() == other.to_text()

    def __hash__(self) -> int:
        return hash(self.to_text())

    def __repr__(self) -> str:
        return self.to_text()

    @staticmethod
    def from_text(text: str) -> "Distribution | None":
        """Parse ``uniform(a,b)`` or ``choice(a,b,...)``; None for anything else."""
        text = text.strip()
        for cls in (Uniform, Choice):
            head = cls.keyword + "("
            if text.startswith(head) and text.endswith(")"):
                items = [i.strip() for i in text[len(head) : -1].split(",")]
                return cls.from_items(items, text)
        return None


class Uniform(Distribution):
    """A number drawn uniformly from ``[low, high]``."""

    keyword = "uniform"

    def __init__(self, low: float, high: float):
        if not (math.isfinite(low) and math.isfinite(high)) or high < low:
            raise ParameterError(f"uniform({low},{high}) needs finite bounds with low <= high")
        self.low, self.high = float(low), float(high)

    @classmethod
    def from_items(cls, items: list[str], text: str) -> "Uniform":
        try:
            low, high = (float(i) for i in items)
        except ValueError:
            raise ParameterError(f"{text} is not uniform(LOW,HIGH) with two numbers") from None
        return cls(low, high)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def candidates(self) -> list[float]:
        return [self.low, self.high]

    def to_text(self) -> str:
        return f"uniform({_num(self.low)},{_num(self.high)})"


class Choice(Distribution):
    """One of the given values, each equally likely."""

    keyword = "choice"

    def __init__(self, *options: Any):
        if not options:
            raise ParameterError("choice() needs at least one value")
        self.options = tuple(options)

    @classmethod
    def from_items(cls, items: list[str], text: str) -> "Choice":
        if not all(items):
            raise ParameterError(f"{text} has an empty value; write choice(A,B,...)")
        return cls(*items)

    def draw(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def candidates(self) -> list[Any]:
        return list(self.options)

    def to_text(self) -> str:
        return "choice(" + ",".join(o if isinstance(o, str) else _num(o) for o in self.options) + ")"


FILE_KINDS = (None, "data", "code")
"""What :attr:`Param.file` can say: not a file, a file read as data, a file loaded and run."""

_TYPE_NAMES = {float: "number", int: "integer", str: "text", bool: "true/false"}


@dataclass(frozen=True)
class Param:
    """One declared effect parameter.

    Parameters
    ----------
    name : str
        Keyword name; carries the unit where there is one (``semitones``,
        ``snr_db``, ``rt60_s``).
    type : type
        ``float``, ``int``, ``str`` or ``bool``.
    default : object
        Value when not given; ``None`` only with ``optional=True``.
    doc : str
        One line for tables and help.
    unit : str
        Unit shown in tables (``"st"``, ``"dB"``, ``"s"``); empty when none.
    low, high : float, optional
        Inclusive range of numeric values.
    choices : tuple of str, optional
        Allowed values of a text parameter.
    optional : bool
        ``None`` is a valid value (meaning "not set").
    curve : bool
        A :class:`Curve` is accepted as well as a constant.
    file : {None, "data", "code"}
        The value names a file on the machine that runs the chain: ``"data"``
        for a file read as data (an impulse response), ``"code"`` for one
        loaded and run (a VST3 or Audio Unit plugin). ``vcfx serve`` refuses
        both from the web: a data file comes as an upload, code never does.
    """

    name: str
    type: type
    default: Any
    doc: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False
    curve: bool = False
    file: str | None = None

    def __post_init__(self) -> None:
        if self.file not in FILE_KINDS:
            raise ParameterError(f"Param {self.name!r}: file={self.file!r} is not one of "
                                 f"{', '.join(map(repr, FILE_KINDS))}")

    @property
    def range_text(self) -> str:
        """Human-readable valid values, e.g. ``[-24, 24]`` or ``white, pink``."""
        if self.choices:
            return ", ".join(self.choices)
        if self.low is not None or self.high is not None:
            lo = "-inf" if self.low is None else _num(self.low)
            hi = "inf" if self.high is None else _num(self.high)
            return f"[{lo}, {hi}]"
        return _TYPE_NAMES.get(self.type, self.type.__name__)

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ParameterError."""
        if value is None:
            if self.optional:
                return None
            raise ParameterError(f"{self.name} needs a value ({self.range_text})")
        if isinstance(value, str) and value.strip().startswith(("uniform(", "choice(")):
            value = Distribution.from_text(value)
        if isinstance(value, Distribution):
            if isinstance(value, Uniform) and self.type not in (int, float):
                raise ParameterError(f"{self.name} is {_TYPE_NAMES.get(self.type)}; uniform() needs a number")
            checked = [self.parse(c) if isinstance(c, str) else self.validate(c) for c in value.candidates()]
            return value if isinstance(value, Uniform) else Choice(*checked)
        if isinstance(value, Curve):
            if not self.curve:
                raise ParameterError(f"{self.name} does not accept a curve; give a constant")
            for v in value.values():
                self._check_range(v)
            return value
        if self.curve and isinstance(value, (list, tuple)):
            return self.validate(Curve(value))
        if self.type is bool:
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise ParameterError(f"{self.name}={value!r} is not true or false")
        if self.type in (int, float):
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)
            ):
                raise ParameterError(f"{self.name}={value!r} is not a {_TYPE_NAMES[self.type]}")
            if not math.isfinite(value):
                raise ParameterError(f"{self.name}={value!r} is not a finite number")
            if self.type is int and float(value) != int(value):
                raise ParameterError(f"{self.name}={value!r} is not a whole number")
            value = self.type(value)
            self._check_range(value)
            return value
        if self.type is str:
            if not isinstance(value, str):
                value = str(value)
            if self.choices and value not in self.choices:
                raise ParameterError(
                    f"{self.name}={value!r} is not one of {', '.join(self.choices)}"
                )
            return value
        return value

    def _check_range(self, value: float) -> None:
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ParameterError(f"{self.name}={_num(value)} is outside {self.range_text}")

    def parse(self, text: str) -> Any:
        """Parse a value written in a chain spec string (double quotes keep text as it is)."""
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
            return self.validate(text) if self.type is str else self.parse(text)
        if text.lower() in ("none", "") and self.optional:
            return None
        if text.startswith("curve(") and text.endswith(")"):
            return self.validate(Curve.from_text(text))
        random = Distribution.from_text(text)
        if random is not None:
            return self.validate(random)
        if self.type is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ParameterError(f"{self.name}={text} is not true or false")
        if self.type in (int, float):
            try:
                number = float(text)
            except ValueError:
                raise ParameterError(
                    f"{self.name}={text} is not a {_TYPE_NAMES[self.type]} ({self.range_text})"
                ) from None
            return self.validate(number)
        return self.validate(text)

    def format(self, value: Any) -> str:
        """Write a value as it appears in a chain spec string."""
        if value is None:
            return "none"
        if isinstance(value, (Curve, Distribution)):
            return value.to_text()
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return _num(value)
        text = str(value)
        if any(ch in text for ch in _SPEC_SYNTAX) or text != text.strip() or text.lower() in ("", "none"):
            if '"' in text:
                raise ParameterError(f"{self.name}={text!r} holds a double quote and cannot be written in a chain "
                                     "spec string; use a preset file")
            return f'"{text}"'
        return text

    def describe(self) -> dict[str, Any]:
        """The declaration as JSON-friendly data, as ``vcfx effects --json`` lists it."""
        return {"name": self.name, "type": self.type.__name__, "default": self.to_json(self.default),
                "range": self.range_text, "low": self.low, "high": self.high,
                "choices": list(self.choices) if self.choices else None, "unit": self.unit,
                "optional": self.optional, "curve": self.curve, "file": self.file, "doc": self.doc}

    def to_json(self, value: Any) -> Any:
        """A JSON/TOML-friendly form of ``value``."""
        if isinstance(value, Curve):
            return [list(p) for p in value.points]
        if isinstance(value, Distribution):
            return value.to_text()
        return value


_SPEC_SYNTAX = ',:()"'
"""Characters that make a text value need double quotes in a chain spec string."""


def at_times(value: float | Curve, times_s: np.ndarray) -> np.ndarray:
    """A constant or a :class:`Curve` evaluated at ``times_s``."""
    if isinstance(value, Curve):
        return value(times_s)
    return np.full(np.shape(times_s), float(value))
