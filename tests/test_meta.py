"""Meta-tests, in the style of datasette's: the tests and docs keep up with the code.

- every hook in vcfx/hookspecs.py has a test and a section in the plugin author guide;
- every registered built-in effect is in the generated reference, declares examples, and has a user guide
  page with a before/after figure rendered by docs/make_figures.py;
- every slicer and preset is in the reference.
"""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from vcfx import hookspecs, plugins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TESTS = Path(__file__).resolve().parent


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = load(DOCS / "hooks" / "reference.py", "vcfx_docs_reference")
make_figures = load(DOCS / "make_figures.py", "vcfx_docs_make_figures")

HOOKS = sorted(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "vcfx_spec"))


def builtin(owners: dict) -> list[str]:
    return sorted(name for name, info in owners.items() if info.distribution == "vcfx")


EFFECTS = builtin(plugins.registry().owner)
SLICERS = builtin(plugins.registry().slicer_owner)


def test_hooks_are_found():
    assert {"register_effects", "register_domains", "register_presets", "register_slicers"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    tested = [p.name for p in TESTS.glob("test_*.py") if p.name != "test_meta.py" and hook in p.read_text()]
    assert tested, f"no test mentions the {hook} hook"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_in_the_plugin_guide(hook):
    guide = (DOCS / "plugins.md").read_text()
    assert re.search(rf"^### {hook} {{#{hook}}}$", guide, re.M), f"docs/plugins.md has no section for {hook}"


@pytest.fixture(scope="module")
def rendered() -> str:
    return reference.render()


def test_effects_are_found():
    assert {"pitch_shift", "pitch_variance", "speed", "tempo", "noise", "reverb", "pedalboard"} <= set(EFFECTS)


@pytest.mark.parametrize("name", EFFECTS)
def test_every_effect_is_in_the_reference(name, rendered):
    assert f"### {name} {{#{name}}}" in rendered
    cls = plugins.registry().effects[name]
    for p in cls.params:
        assert f"| `{p.name}` |" in rendered.split(f"### {name} ", 1)[1].split("\n### ", 1)[0]


@pytest.mark.parametrize("name", EFFECTS)
def test_every_effect_declares_examples(name):
    assert plugins.registry().effects[name].examples, f"{name} declares no examples (vcfx demo and the docs use them)"


@pytest.mark.parametrize("name", EFFECTS)
def test_every_effect_has_a_user_guide_page_with_a_figure(name):
    page = DOCS / "guide" / f"{name}.md"
    assert page.is_file(), f"no user guide page docs/guide/{name}.md"
    text = page.read_text()
    assert f"../reference.md#{name}" in text, f"{page.name} does not link to its reference entry"
    assert name in make_figures.COMPARE, f"docs/make_figures.py renders no figure for {name}"
    assert f"](../figures/{name}.png)" in text, f"{page.name} does not show figures/{name}.png"
    assert (DOCS / "figures" / f"{name}.png").is_file(), f"run python docs/make_figures.py {name}"
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    assert f"guide/{name}.md" in str(nav), f"guide/{name}.md is not in mkdocs.yml's nav"


@pytest.mark.parametrize("name", SLICERS)
def test_every_slicer_is_in_the_reference_and_the_guide(name, rendered):
    assert f"### {name} {{#slicer-{name}}}" in rendered
    assert any(f"#slicer-{name}" in page.read_text() for page in (DOCS / "guide").glob("*.md"))


PRESETS = sorted(n for n, p in plugins.registry().presets.items()
                 if plugins.registry().plugins[p.plugin].distribution == "vcfx")


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_is_in_the_reference(name, rendered):
    assert f"### {name} {{#preset-{name}}}" in rendered
