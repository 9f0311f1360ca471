"""Preset files: chains as TOML or JSON data, and chains by name.

A preset file holds what a chain spec string holds, plus the seed, the
domain options and the engine::

    seed = 7
    engine = "world"
    [[effects]]
    effect = "pitch_shift"
    semitones = 4
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .chain import Chain
from .errors import SpecError, VcfxError
from .files import atomic_path, check_output_path
from .plugins import preset, registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_chain", "write_preset", "preset_text", "check_preset_path"]


def load_chain(spec_or_preset: str, seed: int | None = None):
    """A Chain from a spec string, a preset file (.toml/.json) or a registered preset name."""
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


def check_preset_path(path: str | Path, inputs: Iterable[Path] = ()) -> Path:
    """Refuse a preset path that does not end in ``.toml``/``.json`` or names one of ``inputs``."""
    path = Path(path)
    if path.suffix.lower() not in (".toml", ".json"):
        raise SpecError(f'preset files end in .toml or .json, got "{path.name}"')
    check_output_path(path, inputs, what="input or output file")
    return path


def write_preset(chain, path: str | Path) -> Path:
    """Write ``chain`` (seed, options and engine included) as a TOML or JSON preset, atomically.

    A nested chain is an entry with ``effect = "chain"`` and effects of its
    own: in TOML an array of tables inside the entry (``[[effects.effects]]``).
    The text is :func:`preset_text`'s.
    """
    path = check_preset_path(path)
    text = preset_text(chain, "json" if path.suffix.lower() == ".json" else "toml")
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def preset_text(chain, format: str = "toml") -> str:
    """``chain`` as the text of a preset file: what :func:`write_preset` writes.

    Parameters
    ----------
    chain : Chain
    format : {"toml", "json"}

    Returns
    -------
    str
    """
    if format not in ("toml", "json"):
        raise SpecError(f'preset format {format!r} is not one of "toml", "json"')

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

    data = chain.to_dict()
    data.pop("effect", None)  # a preset file is a chain: the top level needs no name
    if format == "json":
        return json.dumps(data, indent=2) + "\n"
    lines: list[str] = []
    table([], data, lines)
    return "\n".join(lines).lstrip("\n") + "\n"
