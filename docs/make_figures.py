"""Render the user guide's before/after figures on the built-in example voice.

Run from the repository root:

    python docs/make_figures.py            # every figure
    python docs/make_figures.py noise      # only some

Each figure is drawn by vcfx's own plotting (``vcfx.plotting.compare_figure``
and ``analyze_figure``, the same code as ``vcfx compare`` and ``vcfx
analyze``) from :func:`vcfx.example_voice` and a seeded chain, and written to
``docs/figures/<name>.png``. The PNGs are committed; run this again when an
effect or the plotting changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import vcfx
from vcfx.plotting import analyze_figure, compare_figure, save_figure

HERE = Path(__file__).resolve().parent
OUT = HERE / "figures"
SEED = 0
DPI = 80

COMPARE = {
    # figure name: (chain spec, what the figure shows)
    "pitch_shift": ("pitch_shift=semitones=4", "pitch up 4 semitones"),
    "pitch_variance": ("pitch_variance=factor=2", "intonation twice as lively"),
    "formant_shift": ("formant_shift=ratio=1.2", "formants up by 1.2"),
    "speed": ("speed=rate=1.25", "speed 1.25: shorter and higher"),
    "tempo": ("tempo=rate=0.7", "tempo 0.7: longer, same pitch (the f0 panel compares medians)"),
    "noise": ("noise=snr_db=10:color=pink", "pink noise at 10 dB SNR"),
    "reverb": ("reverb=rt60_s=1.5:wet=0.5", "synthetic room, rt60 1.5 s"),
    "pedalboard": ("pitch_shift=semitones=-3,pedalboard=plugin=Chorus,formant_shift=ratio=0.9",
                   "pitch_shift -3, pedalboard's Chorus, formant_shift 0.9"),
}
"""One before/after figure per user guide page."""

LABELS = {"pedalboard": "pitch_shift → Chorus → formant_shift"}
"""Short names for chains too long to show as a label."""

ANALYSIS = {"onsets": "the example voice with the onsets the slicer finds"}


def _small(path: Path) -> Path:
    """Re-save with a 256-colour palette: a quarter of the size, no visible change."""
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                dither=Image.Dither.NONE)
    palette.save(path, optimize=True)
    return path


def render(names: list[str] | None = None) -> list[Path]:
    voice = vcfx.example_voice()
    OUT.mkdir(exist_ok=True)
    written = []
    for name, (spec, what) in COMPARE.items():
        if names and name not in names:
            continue
        after = vcfx.Chain.from_spec(spec, seed=SEED)(voice)
        label = spec if len(spec) <= 40 else LABELS[name]
        fig = compare_figure(voice, after, labels=("original", label), title=f"{what} (example voice, seed {SEED})")
        written.append(_small(save_figure(fig, OUT / f"{name}.png", dpi=DPI)))
        print(written[-1].relative_to(HERE.parent))
    for name, what in ANALYSIS.items():
        if names and name not in names:
            continue
        fig = analyze_figure(voice, title=what)
        written.append(_small(save_figure(fig, OUT / f"{name}.png", dpi=DPI)))
        print(written[-1].relative_to(HERE.parent))
    return written


if __name__ == "__main__":
    render(sys.argv[1:] or None)
