"""``vcfx demo``: every preset and each effect's examples on the example voice."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import plugins as plugin_host
from .chain import Chain
from .errors import AudioError, VcfxError
from .progress import progress
from .synthetic import example_voice

__all__ = ["DemoReport", "run_demo"]


@dataclass
class DemoReport:
    """What :func:`run_demo` wrote.

    Attributes
    ----------
    audio : list of Path
        ``original.wav`` first, then one file per preset and per effect example.
    figures : list of Path
        The analysis of the original, then one comparison per preset.
    failed : list of (str, str)
        Jobs that failed (name, one-line reason); the others were still written.
    """

    audio: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _slug(effect_name: str, params: dict) -> str:
    parts = [effect_name] + [f"{k}{v:+g}" if isinstance(v, (int, float)) else f"{k}-{v}" for k, v in params.items()]
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", "_".join(parts))  # only characters every shell and OS take


def _jobs() -> list[tuple[str, Chain | None, str]]:
    """(file stem, chain or None if it cannot be built, error) for every preset and effect example."""
    reg = plugin_host.registry()
    jobs = []
    for name in sorted(reg.presets):
        try:
            jobs.append((f"preset_{name}", plugin_host.preset(name), ""))
        except VcfxError as exc:
            jobs.append((f"preset_{name}", None, str(exc)))
    for name in sorted(reg.effects):
        for params in reg.effects[name].examples:
            try:
                jobs.append((_slug(name, params), Chain([plugin_host.effect(name, **params)]), ""))
            except VcfxError as exc:
                jobs.append((_slug(name, params), None, str(exc)))
    return jobs


def run_demo(outdir: str | Path, seed: int = 0, quiet: bool = False) -> DemoReport:
    """Write the example voice, its transformations and figures into ``outdir``.

    Every registered preset and every example parameter set an effect
    declares (``Effect.examples``) runs on :func:`vcfx.example_voice` with
    ``seed``. Results peaking above 1.0 are scaled to peak 1.0 so they can be
    written as 16-bit WAV. A job that fails is reported and skipped; the
    rest are still written.

    Parameters
    ----------
    outdir : str or path-like
        Created if missing.
    seed : int
        Seed of every chain, so the demo writes the same files each time.
    quiet : bool
        No progress bar.

    Returns
    -------
    DemoReport
    """
    from .plotting import analyze_figure, compare_figure, save_figure  # matplotlib loads only when drawing

    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"cannot create {outdir}: {exc.strerror or exc}") from None
    voice = example_voice()
    report = DemoReport()
    report.audio.append(voice.save(outdir / "original.wav"))
    jobs = _jobs()
    bar = progress(total=len(jobs) + 1, desc="demo", quiet=quiet, unit="job")
    with bar:
        bar.set_postfix_str("analysis of the original")
        report.figures.append(save_figure(analyze_figure(voice, title="original.wav (the example voice)"),
                                          outdir / "analysis_original.png"))
        bar.update(1)
        for stem, chain, error in jobs:
            bar.set_postfix_str(stem)
            if chain is None:
                report.failed.append((stem, error))
                bar.update(1)
                continue
            try:
                chain.seed = seed
                out = chain(voice)
                peak = float(np.abs(out.samples).max())
                if peak > 1.0:
                    out = out.replace(samples=out.samples / peak)
                report.audio.append(out.save(outdir / f"{stem}.wav"))
                if stem.startswith("preset_"):
                    name = stem.removeprefix("preset_")
                    fig = compare_figure(voice, out, labels=("original", name),
                                         title=f"preset {name} (seed {seed}) on the example voice")
                    report.figures.append(save_figure(fig, outdir / f"compare_{stem}.png"))
            except VcfxError as exc:
                report.failed.append((stem, " ".join(str(exc).split())))
            bar.update(1)
    return report
