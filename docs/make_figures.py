"""Render the user guide's before/after figures on the built-in example voice.

Run from the repository root:

    python docs/make_figures.py            # every figure
    python docs/make_figures.py noise      # only some
    python docs/make_figures.py serve      # the audition page (needs chromium and chromedriver)

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

SCREENSHOTS = {"serve": "pitch_variance=factor=1.5,pitch_shift=semitones=4,reverb=rt60_s=0.5:wet=0.2"}
"""Screenshots of the page `vcfx serve` serves after rendering this chain on the example voice."""


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
    for name, spec in SCREENSHOTS.items():
        if names is not None and name in names:  # a browser is needed: only when asked for by name
            written.append(_small(screenshot(spec, OUT / f"{name}.png")))
            print(written[-1].relative_to(HERE.parent))
    return written


def screenshot(spec: str, path: Path, width: int = 1400, height: int = 1480) -> Path:
    """Start `vcfx serve`, render ``spec`` on the example voice in headless Chromium, save the page."""
    import re
    import shutil
    import socket
    import subprocess
    import tempfile
    import time
    from urllib.parse import quote

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "vcfx.cli", "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, text=True)
    profile = tempfile.mkdtemp()
    try:
        url = re.search(r"http://\S+", server.stdout.readline()).group(0)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     f"--window-size={width},{height}", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            driver.get(f"{url}#chain={quote(spec, safe='')}&seed={SEED}")
            while driver.execute_script("return document.body.dataset.ready") != "true":
                time.sleep(0.2)
            driver.find_element(By.ID, "render").click()
            while not driver.execute_script("return document.body.dataset.rendered"):
                time.sleep(0.2)
            driver.find_element(By.ID, "ab").click()  # listen to B, half-way through
            driver.execute_script("document.getElementById('result-audio').currentTime = 1.8; "
                                  "document.getElementById('result-audio').dispatchEvent(new Event('seeked'))")
            time.sleep(0.5)
            driver.save_screenshot(str(path))
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return path


if __name__ == "__main__":
    render(sys.argv[1:] or None)
