"""The chain spec grammar: effects as text, and parameters as ``key=value`` text.

A spec string lists effects separated by commas; each is ``name`` or
``name=key=value:key=value`` (as in ffmpeg filter graphs)::

    pitch_shift=semitones=4,tempo=rate=0.8

A value holding commas, colons or parentheses is written in
double quotes: ``reverb=ir="rooms/hall, large.wav"``. Preset files
(:mod:`vcfx.presets`) hold the same as data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .effect import Effect
from .errors import SpecError, unknown_name_message
from .params import Param
from .plugins import effect_class

__all__ = ["parse_spec", "parse_effect", "parse_params", "split_top"]


def split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside parentheses and double quotes."""
    parts, depth, quoted, current = [], 0, False, []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif quoted:
            pass
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise SpecError(f'unbalanced ")" in "{text}"')
        if ch == sep and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise SpecError(f'a double quote is not closed in {text}')
    if depth != 0:
        raise SpecError(f'unbalanced "(" in "{text}"')
    parts.append("".join(current))
    return parts


def parse_params(params: Iterable[Param], pairs: Iterable[str], owner: str) -> dict[str, Any]:
    """Parse ``key=value`` texts against declared parameters.

    Parameters
    ----------
    params : iterable of Param
        The declarations, e.g. ``cls.params``.
    pairs : iterable of str
        ``"key=value"`` items; empty ones are skipped.
    owner : str
        Who the parameters belong to in messages, e.g. ``'effect "noise"'``.

    Returns
    -------
    dict
        Parsed, validated values by parameter name.

    Raises
    ------
    SpecError
        An item is not ``key=value``, names an unknown parameter (the message
        suggests the closest and lists the known ones) or repeats one.
    ParameterError
        A value does not parse or is out of range.
    """
    declared = {p.name: p for p in params}
    values: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in pairs)):
        key, eq, text = pair.partition("=")
        key = key.strip()
        if not eq:
            raise SpecError(f'"{pair}" in {owner} is not key=value. Known keys: {", ".join(declared) or "(none)"}')
        if key not in declared:
            raise SpecError(unknown_name_message(key, declared, f"parameter of {owner}"))
        if key in values:
            raise SpecError(f'parameter "{key}" of {owner} is given twice')
        values[key] = declared[key].parse(text)
    return values


def parse_effect(item: str, cls: type[Effect] | None = None) -> Effect:
    """Parse one ``name=key=value:key=value`` item.

    The effect class is the one registered under ``name``, or ``cls`` when
    given (for a class that is not registered yet; its ``name`` must match).
    """
    name, _, rest = item.strip().partition("=")
    name = name.strip()
    if not name:
        raise SpecError(f'empty effect name in "{item}"')
    if cls is None:
        cls = effect_class(name)
    elif name != cls.name:
        raise SpecError(f'spec item "{item}" names effect "{name}", expected "{cls.name}"')
    return cls(**parse_params(cls.params, split_top(rest, ":") if rest else [], f'effect "{name}"'))


def parse_spec(spec: str) -> list[Effect]:
    """Parse a chain spec string into effects."""
    empty = SpecError("the chain spec is empty; e.g. pitch_shift=semitones=4,tempo=rate=0.8")
    if not isinstance(spec, str) or not spec.strip():
        raise empty
    effects = [parse_effect(item) for item in split_top(spec, ",") if item.strip()]
    if not effects:  # only commas
        raise empty
    return effects
