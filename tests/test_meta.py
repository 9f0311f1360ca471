"""Meta-tests, in the style of datasette's: the tests and docs keep up with the code.

- every hook in vcfx/hookspecs.py has a test function ``test_hook_<hook>`` and a section in the plugin author
  guide headed by its name and showing its signature;
- every registered built-in effect is in the generated reference, declares examples, and has a user guide
  page with a before/after figure rendered by docs/make_figures.py;
- every slicer and preset is in the reference.
"""

import ast
import importlib
import importlib.util
import re
import sys
import textwrap
import types
from pathlib import Path

import pluggy
import pytest
import yaml

import vcfx
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


def declared_builtins() -> dict[str, str]:
    """The built-in plugins pyproject.toml ships in the vcfx wheel: entry point name -> module."""
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    return toml.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["vcfx"]


@pytest.mark.parametrize("name", sorted(declared_builtins()))
def test_every_builtin_plugin_loads(name, fresh_plugins):
    """The built-ins ship in the same wheel as the host: one that is missing or fails to load is a bug.

    (The checks below run over what the built-ins register, so a missing one would otherwise go unnoticed.)
    """
    loaded = {p.name: p for p in vcfx.list_plugins()}
    assert name in loaded, f"built-in plugin {name!r} is not loaded; loaded: {sorted(loaded)}"
    assert loaded[name].error is None, loaded[name].error
    assert loaded[name].distribution == "vcfx"


def builtin(owners: dict) -> list[str]:
    return sorted(name for name, info in owners.items() if info.distribution == "vcfx")


EFFECTS = builtin(plugins.registry().owner)
SLICERS = builtin(plugins.registry().slicer_owner)


# -- hooks: a test function and a docs section for each -----------------------------------------

def hook_signatures(module) -> dict[str, tuple[str, ...]]:
    """The hook specifications in ``module``, as pluggy reads them: name -> argument names."""
    pm = pluggy.PluginManager("vcfx")
    pm.add_hookspecs(module)
    return {name: caller.spec.argnames for name, caller in vars(pm.hook).items() if not name.startswith("_")}


def collected_tests(paths) -> set[str]:
    """Names of the test functions pytest would collect from ``paths``: module-level and in ``Test*`` classes.

    Read from the syntax tree, so a hook named in a docstring, a comment or a string is not a test.
    """
    names = set()
    for path in paths:
        tree = ast.parse(Path(path).read_text(), filename=str(path))
        nodes = list(tree.body)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                nodes.extend(node.body)
        names.update(n.name for n in nodes
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_"))
    return names


def untested(hooks, tests: set[str]) -> list[str]:
    """Hooks with no test function named ``test_hook_<hook>``."""
    return sorted(hook for hook in hooks if f"test_hook_{hook}" not in tests)


_HEADING = re.compile(r"^(#{1,6})\s+`?(\w+)")


def doc_sections(markdown: str) -> dict[str, str]:
    """The text of each markdown section (up to the next heading of its level or above), by its heading's first word.

    Lines inside fenced code blocks are never headings; sections of the same name are joined.
    """
    sections: dict[str, str] = {}
    open_: list[tuple[int, str, list[str]]] = []  # the headings still open: level, name, lines
    fenced = False

    def close(level: int) -> None:
        while open_ and open_[-1][0] >= level:
            _, name, lines = open_.pop()
            sections[name] = sections.get(name, "") + "\n".join(lines) + "\n"

    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading:
            close(len(heading.group(1)))
            open_.append((len(heading.group(1)), heading.group(2), []))
        for _, _, lines in open_:
            lines.append(line)
    close(0)
    return sections


def undocumented(signatures: dict[str, tuple[str, ...]], markdown: str) -> list[str]:
    """Hooks without a section headed by their name that shows their signature, ``hook(arg, ...)``."""
    sections = doc_sections(markdown)
    return sorted(hook for hook, args in signatures.items()
                  if f"{hook}({', '.join(args)})" not in sections.get(hook, ""))


SIGNATURES = hook_signatures(hookspecs)
HOOKS = sorted(SIGNATURES)
TEST_FILES = sorted(TESTS.glob("test_*.py"))


def test_hooks_are_found():
    assert {"register_effects", "register_domains", "register_presets", "register_slicers"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    missing = untested([hook], collected_tests(TEST_FILES))
    assert not missing, f"no test function test_hook_{hook} in tests/test_*.py"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_in_the_plugin_guide(hook):
    missing = undocumented({hook: SIGNATURES[hook]}, (DOCS / "plugins.md").read_text())
    assert not missing, f"docs/plugins.md has no section headed {hook} showing {hook}({', '.join(SIGNATURES[hook])})"


def test_a_hook_without_a_test_or_a_section_is_caught(tmp_path):
    """The two checks above, run against a hook specification made here: a mention is not enough."""
    spec = types.ModuleType("widget_hookspecs")
    marker = pluggy.HookspecMarker("vcfx")

    @marker
    def register_widgets(register, size):
        """Register widgets."""

    spec.register_widgets = register_widgets
    signatures = hook_signatures(spec)
    assert signatures == {"register_widgets": ("register", "size")}

    mentions = tmp_path / "test_mentions.py"
    mentions.write_text(textwrap.dedent('''
        """Tests of register_widgets, and test_hook_register_widgets too."""
        # test_hook_register_widgets


        def test_register_widgets_works():
            assert "test_hook_register_widgets"


        def helper():
            def test_hook_register_widgets():  # nested: pytest never collects it
                pass
    '''))
    assert untested(signatures, collected_tests([mentions])) == ["register_widgets"]
    tested = tmp_path / "test_widgets.py"
    tested.write_text("class TestWidgets:\n    def test_hook_register_widgets(self):\n        pass\n")
    assert untested(signatures, collected_tests([mentions, tested])) == []

    guide = textwrap.dedent("""
        # Plugins

        register_widgets(register, size) is mentioned here, under no heading of its own.

        ```python
        # register_widgets
        def register_widgets(register, size): ...
        ```

        ## register_widgets {#register_widgets}

        A section with no signature.

        ## Other

        register_widgets(register, size)
    """)
    assert undocumented(signatures, guide) == ["register_widgets"]
    assert undocumented(signatures, guide.replace("A section with no signature.",
                                                  "def register_widgets(register, size):")) == []
    assert undocumented(signatures, guide + "\n### `register_widgets(register, size)`\n\nCall `register(w)`.\n") == []


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
