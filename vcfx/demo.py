"""``vcfx demo``: every preset and each effect's examples on the example voice."""

from __future__ import annotations

from pathlib import Path

from . import plugins as plugin_host
from .chain import Chain
from .errors import AudioError
from .progress import progress
from .synthetic import example_voice


def _slug(effect_name: str, params: dict) -> str:
    parts = [effect_name] + [f"{k}{v:+g}" if isinstance(v, (int, float)) else f"{k}-{v}" for k, v in params.items()]
    return "_".join(parts).replace("/", "-")


def run_demo(outdir: Path, seed: int = 0, quiet: bool = False) -> list[Path]:
    """Write the example voice and its transformations into ``outdir``; return the paths."""
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"cannot create {outdir}: {exc.strerror or exc}") from None
    voice = example_voice()
    jobs: list[tuple[str, Chain]] = []
    reg = plugin_host.registry()
    for name in sorted(reg.presets):
        jobs.append((f"preset_{name}", plugin_host.preset(name)))
    for name in sorted(reg.effects):
        for params in reg.effects[name].examples:
            jobs.append((_slug(name, params), Chain([plugin_host.effect(name, **params)])))
    written = [voice.save(outdir / "original.wav")]
    for stem, chain in progress(jobs, desc="demo", quiet=quiet, unit="file"):
        chain.seed = seed
        out = chain(voice)
        peak = float(abs(out.samples).max())
        if peak > 1.0:
            out = out.replace(samples=out.samples / peak)
        written.append(out.save(outdir / f"{stem}.wav"))
    return written
