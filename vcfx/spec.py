"""Chain spec strings and preset files.

A spec string lists effects separated by commas; each is ``name`` or
``name=key=value:key=value`` (as in ffmpeg filter graphs)::

    pitch_shift=semitones=4,tempo=rate=0.8

A value holding commas, colons or parentheses is written in
double quotes: ``reverb=ir="rooms/hall, large.wav"``.

A preset file (TOML or JSON) holds the same as data::

    seed = 7
    [[effects]]
    effect = "pitch_shift"
    semitones = 4
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .effect import Effect
from .errors import SpecError, VcfxError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["parse_spec", "load_chain", "write_preset", "split_top"]


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


def parse_effect(item: str) -> Effect:
    """Parse one ``name=key=value:key=value`` item."""
    from .plugins import effect_class

    name, _, rest = item.strip().partition("=")
    name = name.strip()
    if not name:
        raise SpecError(f'empty effect name in "{item}"')
    cls = effect_class(name)
    declared = {p.name: p for p in cls.params}
    values: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in split_top(rest, ":"))) if rest else []:
        key, eq, text = pair.partition("=")
        key = key.strip()
        if not eq:
            raise SpecError(
                f'"{pair}" in effect "{name}" is not key=value. Known keys: {", ".join(declared) or "(none)"}'
            )
        if key not in declared:
            from .errors import suggest

            raise SpecError(suggest(key, declared, f'parameter of effect "{name}"'))
        if key in values:
            raise SpecError(f'parameter "{key}" of effect "{name}" is given twice')
        values[key] = declared[key].parse(text)
    return cls(**values)


def parse_spec(spec: str) -> list[Effect]:
    """Parse a chain spec string into effects."""
    empty = SpecError("the chain spec is empty; e.g. pitch_shift=semitones=4,tempo=rate=0.8")
    if not isinstance(spec, str) or not spec.strip():
        raise empty
    effects = [parse_effect(item) for item in split_top(spec, ",") if item.strip()]
    if not effects:  # only commas
        raise empty
    return effects


def load_chain(spec_or_preset: str, seed: int | None = None):
    """A Chain from a spec string, a preset file (.toml/.json) or a registered preset name."""
    from .chain import Chain
    from .plugins import preset, registry

    text = spec_or_preset.strip()
    path = Path(text)
    if path.suffix.lower() in (".toml", ".json"):
        if not path.is_file():
            raise SpecError(f"no such preset file: {path}")
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode()) if path.suffix.lower() == ".toml" else json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot parse preset {path}: {exc}") from None
        chain = Chain.from_dict(data)
    elif "=" not in text and "," not in text and text in registry().presets:
        chain = preset(text)
    else:
        chain = Chain.from_spec(text)
    if seed is not None:
        chain.seed = seed
    return chain


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise VcfxError(f"cannot write {value!r} to a preset")


def write_preset(chain, path: str | Path) -> Path:
    """Write ``chain`` (seed included) as a TOML or JSON preset, atomically.

    A nested chain is an entry with ``effect = "chain"`` and effects of its
    own: in TOML an array of tables inside the entry (``[[effects.effects]]``).
    """
    from .files import atomic_path

    def key(name: str) -> str:
        return name if name and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in name) else json.dumps(name)

    def tables(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)

    def plain(value: Any) -> bool:
        return not isinstance(value, dict) and not tables(value)

    def table(where: list[str], data: dict[str, Any], lines: list[str]) -> None:
        """Append the keys of ``data``, then its tables, then its arrays of tables (nested chains nest so)."""
        lines += [f"{key(k)} = {_toml_value(v)}" for k, v in data.items()
                  if v is not None and plain(v)]  # TOML has no null: None is left out
        for k, v in data.items():
            if isinstance(v, dict):
                if not v or any(plain(x) for x in v.values()):  # else its sub-tables' headers make it
                    lines += ["", f"[{'.'.join(map(key, where + [k]))}]"]
                table(where + [k], v, lines)
        for k, v in data.items():
            if tables(v):
                for item in v:
                    lines += ["", f"[[{'.'.join(map(key, where + [k]))}]]"]
                    table(where + [k], item, lines)

    path = Path(path)
    data = chain.to_dict()
    data.pop("effect", None)  # a preset file is a chain: the top level needs no name
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    elif path.suffix.lower() == ".toml":
        lines: list[str] = []
        table([], data, lines)
        text = "\n".join(lines).lstrip("\n") + "\n"
    else:
        raise SpecError(f'preset files end in .toml or .json, got "{path.name}"')
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
