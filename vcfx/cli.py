"""The ``vcfx`` command."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import click

from . import plugins as plugin_host
from .audio import load
from .errors import AudioError, VcfxError
from .files import same_file
from .progress import progress
from .spec import load_chain, write_preset

EXIT_FAILURE = 1
EXIT_USAGE = 2


class _State:
    quiet = False


def _say(message: str) -> None:
    if not _State.quiet:
        click.echo(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.version_option(package_name="vcfx", prog_name="vcfx")
def cli(quiet: bool, debug: bool) -> None:
    """Change voices with chains of effects."""
    _State.quiet = quiet


def _chain_option(f):
    return click.option(
        "--chain", "chain_spec", required=True, metavar="SPEC_OR_PRESET",
        help='Chain spec ("pitch_shift=semitones=4,tempo=rate=0.8"), a .toml/.json preset, '
             "or a built-in preset name (see `vcfx effects`).",
    )(f)


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT", type=click.Path(path_type=Path))
@_chain_option
@click.option("--seed", type=click.IntRange(min=0), help="Seed for random effects (noise).")
@click.option("--sample-rate", type=int, help="Resample the input to this rate first.")
@click.option("--subtype", help="Output subtype, e.g. PCM_16, PCM_24, FLOAT.")
@click.option("--save-preset", type=click.Path(path_type=Path), help="Also write the chain run (seed included) as a .toml/.json preset.")
def apply(input_path, output_path, chain_spec, seed, sample_rate, subtype, save_preset):
    """Apply a chain of effects to IN and write OUT."""
    if output_path.resolve() == input_path.resolve() or same_file(input_path, output_path):
        raise AudioError(f"OUT {output_path} is the input file; choose another path, the input is never overwritten")
    chain = load_chain(chain_spec, seed=seed)
    audio = load(input_path, sample_rate=sample_rate)
    out = chain(audio)
    out.save(output_path, subtype=subtype)
    if save_preset:
        write_preset(chain, save_preset)
    _say(f"wrote {output_path} ({out.duration_s:.2f} s, {out.sample_rate} Hz, {out.channels} ch)")


def _effect_table() -> list[dict]:
    reg = plugin_host.registry()
    rows = []
    for name in sorted(reg.effects):
        cls = reg.effects[name]
        rows.append({
            "effect": name,
            "summary": cls.summary,
            "domains": list(cls.domains),
            "plugin": reg.owner[name].name,
            "params": [
                {"name": p.name, "type": p.type.__name__, "default": p.to_json(p.default), "range": p.range_text,
                 "unit": p.unit, "curve": p.curve, "doc": p.doc}
                for p in cls.params
            ],
        })
    return rows


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def effects(as_json):
    """List every effect with its parameters, units, ranges and defaults."""
    rows = _effect_table()
    if as_json:
        click.echo(json.dumps({"effects": rows, "presets": plugin_host.presets()}, indent=2))
        return
    for row in rows:
        click.echo(f"{row['effect']}  [{', '.join(row['domains'])}]  {row['summary']}")
        for p in row["params"]:
            unit = f" {p['unit']}" if p["unit"] else ""
            curve = ", curve ok" if p["curve"] else ""
            click.echo(f"    {p['name']:<14} default {p['default']!s:<8} {p['range']}{unit}{curve}  {p['doc']}")
    presets = plugin_host.presets()
    if presets:
        click.echo("\npresets:")
        for name, summary in presets.items():
            click.echo(f"  {name:<16} {summary}")


@cli.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json):
    """List plugins with their versions, effects and load failures."""
    infos = plugin_host.list_plugins()
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    for info in infos:
        dist = f"{info.distribution} {info.version}" if info.distribution else "(registered in process)"
        click.echo(f"{info.name}  {dist}")
        if info.effects:
            click.echo(f"    effects: {', '.join(info.effects)}")
        if info.domains:
            click.echo(f"    domains: {', '.join(info.domains)}")
        if info.presets:
            click.echo(f"    presets: {', '.join(info.presets)}")
        if info.error:
            click.echo(f"    FAILED: {info.error}")


@cli.command()
@click.argument("outdir", required=False, default="vcfx-demo", type=click.Path(path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def demo(outdir, seed):
    """Run every preset and each effect's examples on the built-in example voice."""
    from .demo import run_demo

    written = run_demo(outdir, seed=seed, quiet=_State.quiet)
    _say(f"wrote {len(written)} files to {outdir.resolve()}/")
    for path in written:
        _say(f"  {path.name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vcfx`` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        cli.main(args=argv, prog_name="vcfx", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        message = exc.format_message().replace("\n", " ")
        click.echo(f"vcfx: error: {message}", err=True)
        return EXIT_USAGE
    except click.Abort:
        click.echo("vcfx: error: aborted", err=True)
        return EXIT_FAILURE
    except VcfxError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"vcfx: error: {' '.join(str(exc).split())}", err=True)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        click.echo("vcfx: error: interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
