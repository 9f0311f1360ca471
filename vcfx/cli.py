"""The ``vcfx`` command.

Every error is one line on stderr, ``vcfx: error: …``; ``--debug`` adds the
traceback. Exit status:

0
    Success.
1
    The work failed: audio that cannot be read, an effect that fails, a
    result that would clip, an output that cannot be written (folder
    missing or not writable, disk full).
2
    The command line is wrong: unknown command or option, missing
    argument, bad option value, unknown effect or preset, bad parameter
    value, input file missing, OUT the same file as IN. Nothing is read or
    written.

Outputs are written atomically: on any failure no output file is left
behind, and an existing file at the output path is untouched.
"""

from __future__ import annotations

import json
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

import click

from . import plugins as plugin_host
from .applying import STREAM_ABOVE_S, apply_file
from .audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, load
from .batching import EXECUTORS, batch as run_batch
from .chain import check_engine
from .demo import run_demo
from .errors import VcfxError
from .files import check_folder, check_output_path, output_format
from .liveio import devices as audio_devices, run_devices, run_file
from .progress import steps
from .slicing import check_segments_target, slice_onsets, write_segments
from .presets import check_preset_path, load_chain
from .spec import parse_params
from .streaming import DEFAULT_CHUNK_S

EXIT_FAILURE = 1
EXIT_USAGE = 2


class _State:
    quiet = False


def _say(message: str) -> None:
    if not _State.quiet:
        click.echo(message)


def _warn(message: str) -> None:
    if not _State.quiet:
        click.echo(f"vcfx: warning: {message}", err=True)


def _set_quiet(ctx, param, value):
    if value:
        _State.quiet = True


def _common(f):
    """``--quiet`` and ``--debug`` after the subcommand too (``vcfx apply … -q``)."""
    f = click.option("--debug", is_flag=True, expose_value=False, help="Show the full traceback on errors.")(f)
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                        help="Print only errors: no messages, warnings or progress bars.")(f)


class _Commands(click.Group):
    """vcfx's commands, then those plugins add (the ``register_commands`` hook) once one is asked for.

    Built-in commands run without loading plugins' commands, so ``vcfx apply``
    starts as quickly as the chain allows; ``--help`` and unknown names load them.
    """

    def get_command(self, ctx, cmd_name):
        if cmd_name not in BUILT_IN_COMMANDS:
            plugin_host.add_commands(self)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx):
        plugin_host.add_commands(self)
        return super().list_commands(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="Print only errors: no messages, warnings or progress bars.")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.version_option(package_name="vcfx", prog_name="vcfx")
def cli(quiet: bool, debug: bool) -> None:
    """Change voices with chains of effects.

    Exit status 0 on success, 1 when the work fails, 2 when the command line
    is wrong. Progress bars appear on stderr only when it is a terminal.
    """
    _State.quiet = quiet


# -- arguments checked before any work, so a mistake costs nothing ------------------

def _input_path(f):
    return click.argument("input_path", metavar="IN",
                          type=click.Path(exists=True, dir_okay=False, path_type=Path))(f)


@contextmanager
def _usage(param_hint: str):
    """A VcfxError inside the block is a wrong command-line argument: exit status 2, naming the argument."""
    try:
        yield
    except VcfxError as exc:
        raise click.BadParameter(_one_line(exc), param_hint=param_hint) from exc


def _chain(spec: str, seed: int | None):
    with _usage("'--chain'"):
        return load_chain(spec, seed=seed)


def _engine_option(extra: str = ""):
    return click.option(
        "--engine", metavar="NAME",
        help="Voice engine: every effect that offers this domain (e.g. world; see `vcfx plugins`) runs in it, "
             "over the chain's own choice; effects that do not offer it run where they would anyway." + extra,
    )


def _checked_engine(engine: str | None) -> str | None:
    with _usage("'--engine'"):
        return check_engine(engine)


def _chain_option(f):
    return click.option(
        "--chain", "chain_spec", required=True, metavar="SPEC_OR_PRESET",
        help='Chain spec ("pitch_shift=semitones=4,tempo=rate=0.8"), a .toml/.json preset file, '
             "or a registered preset name (see `vcfx effects`).",
    )(f)


# -- commands --------------------------------------------------------------------

@cli.command()
@click.argument("paths", nargs=-1, metavar="[IN OUT]", type=click.Path(dir_okay=False, path_type=Path))
@_chain_option
@click.option("--seed", type=click.IntRange(min=0), help="Seed for random effects and parameters.")
@click.option("--input-device", type=click.IntRange(min=0), metavar="N", help="Input device (see `vcfx devices`).")
@click.option("--output-device", type=click.IntRange(min=0), metavar="N", help="Output device (see `vcfx devices`).")
@click.option("--block", type=click.IntRange(16, 8192), default=256, show_default=True, help="Frames per block.")
@click.option("--sample-rate", type=click.IntRange(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
              help="Device rate (default: the input device's).")
@click.option("--channels", type=click.IntRange(1, 64), default=1, show_default=True, help="Device channels.")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT",
              help="With devices: also write what was played.")
@click.option("--duration", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="With devices: stop this long after the first block.")
@click.option("--realtime/--fast", default=True, show_default=True, help="With IN OUT: keep real-time pace.")
@_common
def live(paths, chain_spec, seed, input_device, output_device, block, sample_rate, channels, record, duration,
         realtime):
    """Change a voice live: microphone to speakers, or IN to OUT block by block.

    Prints the latency and a running count of late blocks. Ctrl-C stops
    cleanly and writes what was produced.
    """
    if len(paths) not in (0, 2):
        raise click.UsageError("give both IN and OUT, or neither (to use the sound devices)")
    chain = _chain(chain_spec, seed)

    def tick(report):
        if not _State.quiet:
            click.echo(f"\r{report.blocks} blocks, {report.late_blocks} late", nl=False, err=True)

    if paths:
        if not paths[0].is_file():
            raise click.BadParameter(f"no such file: {paths[0]}", param_hint="'IN'")
        with _usage("'OUT'"):
            check_output_path(paths[1], [paths[0]])
            output_format(paths[1])
        report = run_file(chain, paths[0], paths[1], block_frames=block, realtime=realtime,
                                 on_block=tick if realtime else None)
    else:
        report = run_devices(chain, input_device=input_device, output_device=output_device, block_frames=block,
                                    sample_rate=sample_rate, channels=channels, duration_s=duration, record=record,
                                    on_tick=tick)
    if report.blocks and not _State.quiet:
        click.echo("", err=True)
    _say(f"latency {report.latency_ms:.1f} ms; {report.blocks} blocks, {report.late_blocks} late"
         + (f", the device stream reopened {report.restarts} time{'s' * (report.restarts > 1)}" if report.restarts
            else "")
         + (" (stopped)" if report.interrupted else ""))
    if report.output is not None:
        _say(f"wrote {report.output}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_common
def devices(as_json):
    """List the audio devices `vcfx live` can use."""
    rows = audio_devices()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for d in rows:
        click.echo(f"{d['index']:3d}  {d['name']}  (in {d['inputs']}, out {d['outputs']}, {d['sample_rate']} Hz)")


@cli.command()
@_input_path
@click.argument("output_path", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@_chain_option
@click.option("--seed", type=click.IntRange(min=0), help="Seed for random effects and parameters.")
@click.option("--sample-rate", type=click.IntRange(MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
              help="Resample the input to this rate (Hz) first.")
@click.option("--subtype", help="Output subtype, e.g. PCM_16, PCM_24, FLOAT (default: the format's).")
@click.option("--save-preset", type=click.Path(dir_okay=False, path_type=Path), metavar="P.toml",
              help="Also write the chain as run (drawn values and seed included) as a .toml/.json preset; "
                   "applying it to the same input (at the same --sample-rate) gives the same output.")
@click.option("--chunk-s", type=click.FloatRange(min=1.0), metavar="SECONDS",
              help=f"Stream IN to OUT in chunks of about this length (done by itself for inputs longer than "
                   f"{STREAM_ABOVE_S:g} s unless --sample-rate is given), in bounded memory.")
@_engine_option()
@_common
def apply(input_path, output_path, chain_spec, seed, sample_rate, subtype, save_preset, chunk_s, engine):
    """Apply a chain of effects to IN and write OUT.

    IN is never overwritten; OUT appears complete or not at all. Long inputs
    stream from disk to disk in chunks, cut at quiet moments and processed
    in parallel.
    """
    with _usage("'OUT'"):
        check_output_path(output_path, [input_path])
    with _usage("'--subtype'" if subtype else "'OUT'"):
        output_format(output_path, subtype)
    if save_preset is not None:
        with _usage("'--save-preset'"):
            check_preset_path(save_preset, [input_path, output_path])
    chain = _chain(chain_spec, seed)
    engine = _checked_engine(engine)
    result = apply_file(input_path, output_path, chain, sample_rate=sample_rate, subtype=subtype,
                        save_preset=save_preset, chunk_s=chunk_s, engine=engine, quiet=_State.quiet)
    for note in result.notes:
        _warn(note)
    how = f" (streamed in chunks of about {chunk_s or DEFAULT_CHUNK_S:g} s)" if result.streamed else ""
    _say(f"wrote {output_path} ({result.duration_s:.2f} s, {result.sample_rate} Hz, {result.channels} ch){how}")
    if result.preset is not None:
        _say(f"wrote {result.preset} (seed {result.chain.seed})")


def _figure_path(path: Path, *inputs: Path) -> None:
    """Refuse a figure path before drawing: a wrong one is a usage error, a missing folder a failure."""
    from .plotting import check_figure_path  # matplotlib loads only for the commands that draw

    with _usage("'-o'"):
        check_figure_path(path, inputs)
    check_folder(path)


@cli.command()
@_input_path
@click.option("-o", "--output", "figure", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FIG.png", help="Figure to write (.png, .pdf, .svg, …).")
@click.option("--world", is_flag=True, help="Add WORLD's spectral envelope and aperiodicity panels.")
@_common
def analyze(input_path, figure, world):
    """Draw waveform, spectrogram, RMS level, f0 and onsets of IN into one figure.

    Stereo files are analysed as the mono mix of their channels.
    """
    from .plotting import analyze_figure, save_figure  # matplotlib loads only for the commands that draw

    _figure_path(figure, input_path)
    with steps(6 if world else 5, "analyze", quiet=_State.quiet) as step:
        step("reading")
        audio = load(input_path)
        notes: list[str] = []
        fig = analyze_figure(audio, world=world, title=input_path.name, progress=step, notes=notes)
        save_figure(fig, figure)
    for note in notes:
        _warn(note)
    _say(f"wrote {figure}")


@cli.command()
@_input_path
@click.argument("other_path", metavar="OUT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "figure", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FIG.png", help="Figure to write (.png, .pdf, .svg, …).")
@_common
def compare(input_path, other_path, figure):
    """Draw IN and OUT (e.g. before and after a chain) on the same axes: spectrograms and f0."""
    from .plotting import compare_figure, save_figure  # matplotlib loads only for the commands that draw

    _figure_path(figure, input_path, other_path)
    with steps(4, "compare", quiet=_State.quiet) as step:
        step("reading")
        before, after = load(input_path), load(other_path)
        fig = compare_figure(before, after, labels=(input_path.name, other_path.name),
                             title=f"{input_path.name} vs {other_path.name}", progress=step)
        save_figure(fig, figure)
    _say(f"wrote {figure}")


@cli.command(name="slice")
@_input_path
@click.argument("outdir", metavar="OUTDIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Parameter of the onsets slicer, e.g. min_segment_ms=80 (repeatable; see `vcfx effects`).")
@click.option("--chain", "chain_spec", metavar="SPEC_OR_PRESET", help="Also apply a chain to every segment.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for random effects in --chain.")
@click.option("--stem", default="segment", show_default=True, help="File name prefix of the segments.")
@click.option("--subtype", help="Output subtype, e.g. PCM_16, FLOAT.")
@_common
def slice_command(input_path, outdir, params, chain_spec, seed, stem, subtype):
    """Cut IN at its onsets (about one segment per syllable) into OUTDIR.

    Writes OUTDIR/<stem>_000.wav, … and OUTDIR/<stem>.csv with the start and
    end time of each segment. All files appear, or none do.
    """
    with _usage("'--param'"):
        values = parse_params(plugin_host.slicer_class("onsets").params, params, 'slicer "onsets"')
    chain = _chain(chain_spec, seed) if chain_spec else None
    with _usage("'--subtype'"):
        output_format(outdir / f"{stem}.wav", subtype)
    with _usage("'--stem'"):
        check_segments_target(outdir, stem)
    with steps(3, "slice", quiet=_State.quiet) as step:
        step("reading")
        audio = load(input_path)
        step("finding onsets")
        segments = slice_onsets(audio, chain=chain, **values)
        step(f"writing {len(segments)} segments")
        paths = write_segments(segments, outdir, stem=stem, subtype=subtype)
    _say(f"wrote {len(paths)} segments and {stem}.csv to {outdir}/")


def _echo_params(params: list[dict]) -> None:
    for p in params:
        unit = f" {p['unit']}" if p["unit"] else ""
        curve = ", curve ok" if p["curve"] else ""
        click.echo(f"    {p['name']:<14} default {p['default']!s:<8} {p['range']}{unit}{curve}  {p['doc']}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_common
def effects(as_json):
    """List every effect with its parameters, units, ranges and defaults (and presets and slicers)."""
    rows, slicers = plugin_host.describe_effects(), plugin_host.describe_slicers()
    if as_json:
        click.echo(json.dumps({"effects": rows, "presets": plugin_host.presets(), "slicers": slicers}, indent=2))
        return
    for row in rows:
        click.echo(f"{row['effect']}  [{', '.join(row['domains'])}]  {row['summary']}")
        _echo_params(row["params"])
    presets = plugin_host.presets()
    if presets:
        click.echo("\npresets:")
        for name, summary in presets.items():
            click.echo(f"  {name:<16} {summary}")
    if slicers:
        click.echo("\nslicers (vcfx slice -p KEY=VALUE):")
        for row in slicers:
            click.echo(f"{row['slicer']}  {row['summary']}")
            _echo_params(row["params"])


@cli.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_common
def plugins_command(as_json):
    """List plugins with their versions, effects and load failures."""
    infos = plugin_host.list_plugins()
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    for info in infos:
        dist = f"{info.distribution} {info.version}" if info.distribution else "(registered in process)"
        click.echo(f"{info.name}  {dist}")
        for kind in ("effects", "domains", "live_domains", "presets", "slicers"):
            names = getattr(info, kind, None)
            if names:
                click.echo(f"    {kind}: {', '.join(names)}")
        if info.error:
            click.echo(f"    FAILED: {info.error}")


@cli.command()
@click.argument("outdir", required=False, default="vcfx-demo", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@_common
def demo(outdir, seed):
    """Run every preset and each effect's examples on the built-in example voice.

    Writes the audio, an analysis figure of the original and a comparison
    figure for each preset into OUTDIR (default ./vcfx-demo).
    """
    report = run_demo(outdir, seed=seed, quiet=_State.quiet)
    where = outdir.resolve()
    _say(f"wrote {len(report.audio)} audio files and {len(report.figures)} figures to {where}/")
    _say("  listen:")
    for path in report.audio:
        _say(f"    {path.name}")
    _say("  look:")
    for path in report.figures:
        _say(f"    {path.name}")
    for name, error in report.failed:
        _warn(f"{name} failed: {error}")
    if report.failed:
        raise click.exceptions.Exit(EXIT_FAILURE)


@cli.command()
@click.argument("in_dir", metavar="IN_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", metavar="OUT_DIR", type=click.Path(file_okay=False, path_type=Path))
@_chain_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option("--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="Augmented versions written per input (random parameters drawn anew for each).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Base seed; each file and copy gets its own seed from it and the file's path.")
@click.option("--executor", type=click.Choice(EXECUTORS),
              help="Where the tasks run: a local process pool, or Dask (default: local).")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler to use; a LocalCluster of --jobs workers when omitted.")
@click.option("--pattern", default="**/*.wav", show_default=True, help="Glob pattern of inputs, relative to IN_DIR.")
@click.option("--subtype", help="Output subtype (default: 32-bit float where the format allows it).")
@_engine_option(extra=" --engine local and --engine dask, the old spelling of --executor, still work "
                      "for now, with a warning.")
@_common
def batch(in_dir, out_dir, chain_spec, jobs, copies, seed, executor, scheduler, pattern, subtype, engine):
    """Apply a chain to every file in IN_DIR, mirroring its folders in OUT_DIR.

    Writes OUT_DIR/manifest.jsonl with the parameters drawn, the seed, the
    status and any error of every output. Running the same command again skips
    finished files and retries failed ones. The exit status is 1 when any
    file failed.
    """
    chain = _chain(chain_spec, None)
    if engine in EXECUTORS:
        if executor is not None and executor != engine:
            raise click.BadParameter(f"--engine {engine} is the old spelling of --executor {engine}, "
                                     f"and --executor {executor} says otherwise; give only --executor",
                                     param_hint="'--engine'")
        _warn(f"--engine {engine} is deprecated: use --executor {engine} (--engine now chooses the voice engine)")
        executor, engine = engine, None
    engine = _checked_engine(engine)
    result = run_batch(in_dir, out_dir, chain, copies=copies, seed=seed, jobs=jobs, executor=executor,
                       scheduler=scheduler, pattern=pattern, subtype=subtype, engine=engine, quiet=_State.quiet)
    _say(f"{result.done} written, {result.skipped} already done, {len(result.failed)} failed; "
         f"manifest: {result.manifest}")
    for record in result.failed:
        _warn(f"{record['input']}: {record['error']}")
    if result.failed:
        raise click.exceptions.Exit(EXIT_FAILURE)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 127.0.0.1 keeps other machines out.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@click.option("--max-upload-mb", type=click.FloatRange(min=0, min_open=True), default=50.0, show_default=True,
              help="Largest upload; larger ones are refused (413) as they stream in.")
@click.option("--max-duration-s", type=click.FloatRange(min=0, min_open=True), default=600.0, show_default=True,
              help="Longest voice accepted.")
@click.option("--no-token", is_flag=True,
              help="Let every request in without the token (anyone who can reach the port can use the server).")
@click.option("--engine", metavar="NAME", help="The engine the page's engine choice starts at (see `vcfx plugins`).")
@_common
def serve(host, port, open_browser, max_upload_mb, max_duration_s, no_token, engine):
    """Serve the audition page: build a chain with controls, render, listen A/B, compare.

    Prints the page's URL, which ends in ?token=…: every request needs that
    token, and requests from other web pages (a foreign Origin) are refused.
    Needs the serve extra: pip install "vcfx[serve]".
    """
    from .serving import serve as run_server  # starlette and uvicorn load only for `vcfx serve`

    engine = _checked_engine(engine)
    if no_token:
        _warn(f"--no-token: anyone who can reach {host}:{port} can use this server, other web pages included")

    def ready(url: str) -> None:
        click.echo(f"vcfx serve: open {url}  (Ctrl+C stops it)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    run_server(host, port, token=None if no_token else "", max_upload_mb=max_upload_mb,
               max_duration_s=max_duration_s, engine=engine, ready=ready)


BUILT_IN_COMMANDS = frozenset(cli.commands)
"""vcfx's own commands; plugins cannot take their names."""


# -- entry point -----------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vcfx`` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        if not argv:  # click 8.1 would print the help to stdout and exit 0; 8.2 and later raise NoArgsIsHelpError
            click.echo(cli.get_help(click.Context(cli, info_name="vcfx", **cli.context_settings)), err=True)
            return EXIT_USAGE
        status = cli.main(args=argv, prog_name="vcfx", standalone_mode=False)
        return status if isinstance(status, int) else 0  # click returns Exit's code without raising
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # click >= 8.2: a group given no command
        click.echo(exc.format_message(), err=True)
        return EXIT_USAGE
    except click.UsageError as exc:
        if debug:
            traceback.print_exc()
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"vcfx: error: {_one_line(exc.format_message())}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"vcfx: error: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("vcfx: error: aborted", err=True)
        return EXIT_FAILURE
    except VcfxError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"vcfx: error: {_one_line(exc)}", err=True)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        click.echo("vcfx: error: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug or an unexpected backend failure: still one line
        if debug:
            traceback.print_exc()
        detail = _one_line(f"{type(exc).__name__}: {exc}")
        click.echo(f"vcfx: error: unexpected {detail} (run with --debug for the traceback)", err=True)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
