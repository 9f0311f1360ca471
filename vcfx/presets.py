"""Preset files: chains as TOML or JSON data, and chains by name.

A preset file holds what a chain spec string holds, plus the seed and the
domain options::

    seed = 7
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

__all__ = ["load_chain", "write_preset", "check_preset_path"]


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
    """Write ``chain`` (seed included) as a TOML or JSON preset, atomically."""
    path = check_preset_path(path)
    data = chain.to_dict()
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        lines = [f"seed = {data['seed']}", ""] if "seed" in data else []
        for domain, options in data.get("options", {}).items():
            lines.append(f"[options.{domain}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in options.items()]
            lines.append("")
        for eff in data["effects"]:
            lines.append("[[effects]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in eff.items() if v is not None]
            lines.append("")
        text = "\n".join(lines)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
