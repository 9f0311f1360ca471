"""MkDocs hook: write the effect reference from vcfx's plugin registry at build time.

``docs/reference.md`` holds the marker ``<!-- vcfx-reference -->``; this hook
replaces it with one section per effect, slicer, preset and domain that the
built-in plugins (distribution ``vcfx``) register, read from their declared
parameters, so the reference cannot drift from the code. Third-party plugins
installed in the building environment are left out, so the page is the same
on every machine.

It also replaces ``<!-- include: path -->`` lines on any page with that
file (path from the repository root) in a code block, so the plugin guide
shows the example package's real code.

``render()`` is importable on its own (tests/test_meta.py uses it).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path, PurePosixPath

MARKER = "<!-- vcfx-reference -->"
PAGE = "reference.md"
DISTRIBUTION = "vcfx"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|obj):`(~?)([^`]+)`")
_SECTION = re.compile(r"^(Parameters|Returns|Raises|Examples|See Also|Attributes|Notes)\n-{3,}$", re.M)


def _role(match: re.Match) -> str:
    """``:class:`~vcfx.Curve``` as ````Curve````; without the tilde, the full name."""
    target = match.group(2)
    return f"``{target.rsplit('.', 1)[-1] if match.group(1) else target}``"


def _docstring(obj) -> tuple[str, str]:
    """(description, notes) from a numpydoc docstring, Sphinx roles turned into code spans."""
    doc = _ROLE.sub(_role, inspect.getdoc(obj) or "")
    parts = _SECTION.split(doc)
    description, notes = parts[0].strip(), ""
    for title, body in zip(parts[1::2], parts[2::2]):
        if title == "Notes":
            notes = body.strip()
    return description, notes


_FILE_NOTES = {"data": "; a file read as data: on the [audition page](serve.md), an upload",
               "code": "; a file loaded and run: never from the [audition page](serve.md)"}


def _param_table(params) -> list[str]:
    if not params:
        return ["No parameters.", ""]
    rows = [
        "| Parameter | Type | Default | Valid values | Unit | Curve | Description |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in params:
        default = "not set" if p.default is None else _code(p.format(p.default)) or '`""`'
        rows.append("| " + " | ".join(_cell(c) for c in (
            f"`{p.name}`", p.type.__name__, default, p.range_text, p.unit,
            "yes" if p.curve else "", p.doc + (" (optional)" if p.optional and p.default is None else "")
            + _FILE_NOTES.get(p.file, ""),
        )) + " |")
    return rows + [""]


def _guide_link(name: str, pages: set[str] | None) -> str:
    page = f"guide/{name}.md"
    return f" · [user guide]({page})" if pages is None or page in pages else ""


def _effect_section(name: str, cls, info, pages) -> list[str]:
    from vcfx import Chain

    description, notes = _docstring(cls)
    lines = [
        f"### {name} {{#{name}}}",
        "",
        f"**{_cell(cls.summary)}**",
        "",
        f"Plugin `{info.name}` · domains {', '.join(f'`{d}`' for d in cls.domains)} · "
        f"class `{cls.__module__.split('.')[0]}.{cls.__name__}`{_guide_link(name, pages)}",
        "",
        *_param_table(cls.params),
    ]
    if cls.examples:
        lines += ["Examples (chain specs, as `vcfx apply --chain` takes them):", "", "```text"]
        lines += [Chain([cls(**example)]).to_spec() for example in cls.examples]
        lines += ["```", ""]
    if description:
        lines += [description, ""]
    if notes:
        lines += ["**Length and notes.** " + notes, ""]
    return lines


def _slicer_section(name: str, cls, info) -> list[str]:
    description, _ = _docstring(cls)
    return [
        f"### {name} {{#slicer-{name}}}",
        "",
        f"**{_cell(cls.summary)}**",
        "",
        f"Plugin `{info.name}` · class `{cls.__module__.split('.')[0]}.{cls.__name__}` · "
        f"`vcfx.slice_audio(audio, \"{name}\", ...)`, `vcfx slice -p KEY=VALUE`",
        "",
        *_param_table(cls.params),
        description,
        "",
    ]


def _preset_section(name: str, preset) -> list[str]:
    import vcfx

    signature = inspect.signature(preset.factory)
    description, _ = _docstring(preset.factory)
    lines = [
        f"### {name} {{#preset-{name}}}",
        "",
        f"**{_cell(preset.summary)}**",
        "",
        f"Plugin `{preset.plugin}` · `vcfx.preset(\"{name}\", ...)`, `--chain {name}`",
        "",
        "Options (keyword arguments of `vcfx.preset`):",
        "",
        "```text",
        f"{name}{signature}",
        "```",
        "",
    ]
    try:
        lines += ["With the defaults it is the chain", "", "```text", vcfx.preset(name).to_spec(), "```", ""]
    except vcfx.VcfxError:
        pass
    return lines + [description, ""]


def _domain_options(dom) -> tuple:
    """The chain options a domain reads: its ``option_params``, or its module's ``OPTION_PARAMS``."""
    import sys

    found = getattr(dom, "option_params", None)
    if found is None:
        found = getattr(sys.modules.get(type(dom).__module__), "OPTION_PARAMS", None)
    return tuple(found or ())


def _domain_section(name: str, dom, plugin: str) -> list[str]:
    description, _ = _docstring(type(dom))
    lines = [f"### {name} {{#domain-{name}}}", "", f"Plugin `{plugin}` · class `{type(dom).__name__}`", "",
             description, ""]
    options = _domain_options(dom)
    if options:
        lines += [f'Chain options, given as `vcfx.Chain(effects, options={{"{name}": {{...}}}})` or in a '
                  f"preset's `[options.{name}]` table:", "", *_param_table(options)]
    return lines


def render(pages: set[str] | None = None) -> str:
    """The generated part of the reference page, as Markdown.

    Parameters
    ----------
    pages : set of str, optional
        Documentation pages that exist (``"guide/noise.md"``, ...); user
        guide links are made only to these. ``None`` links every effect.
    """
    from vcfx import plugins

    reg = plugins.registry()
    ours = {name for name, info in reg.plugins.items() if info.distribution == DISTRIBUTION and not info.error}
    effects = sorted(n for n, info in reg.owner.items() if info.name in ours)
    slicers = sorted(n for n, info in reg.slicer_owner.items() if info.name in ours)
    presets = sorted(n for n, p in reg.presets.items() if p.plugin in ours)
    domains = sorted(n for n in reg.domains
                     if any(n in reg.plugins[p].domains for p in ours))

    lines = ["## Effects", "", "| Effect | What it does | Domains |", "| --- | --- | --- |"]
    lines += [f"| [`{n}`](#{n}) | {_cell(reg.effects[n].summary)} | {', '.join(reg.effects[n].domains)} |"
              for n in effects]
    lines.append("")
    for name in effects:
        lines += _effect_section(name, reg.effects[name], reg.owner[name], pages)
    lines += ["## Slicers", ""]
    for name in slicers:
        lines += _slicer_section(name, reg.slicers[name], reg.slicer_owner[name])
    lines += ["## Presets", ""]
    for name in presets:
        lines += _preset_section(name, reg.presets[name])
    lines += ["## Domains", "",
              "Consecutive effects of one domain share one conversion into it and one back "
              "(see [chains](chains.md#domains)). `waveform` is the host's own.", ""]
    for name in domains:
        plugin = next(p for p in ours if name in reg.plugins[p].domains)
        lines += _domain_section(name, reg.domains[name], plugin)
    return "\n".join(lines)


_INCLUDE = re.compile(r"^<!-- include: (\S+) -->$", re.M)
_LANGUAGES = {".py": "python", ".toml": "toml", ".json": "json", ".sh": "sh"}


def include_files(markdown: str, root: Path) -> str:
    """Replace each ``<!-- include: path/from/repo/root -->`` line with that file in a code block."""

    def replace(match: re.Match) -> str:
        path = root / match.group(1)
        if not path.is_file():
            raise ValueError(f"<!-- include: {match.group(1)} -->: no such file {path}")
        text = path.read_text(encoding="utf-8").rstrip("\n")
        return f"```{_LANGUAGES.get(path.suffix, 'text')}\n{text}\n```"

    return _INCLUDE.sub(replace, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = include_files(markdown, Path(config.config_file_path).resolve().parent)
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/{PAGE} lost its {MARKER} marker; the generated reference has nowhere to go")
    pages = {PurePosixPath(f.src_uri).as_posix() for f in files.documentation_pages()}
    return markdown.replace(MARKER, render(pages))
