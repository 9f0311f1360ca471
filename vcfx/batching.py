"""Batch processing and augmentation of whole folders, locally or on a Dask cluster.

Every (input, copy) pair is one task with its own seed, derived from the base
seed and the input's path relative to the input folder, so any output can be
rebuilt alone, on any executor, in any order. A JSON Lines manifest next to the
outputs records what was drawn and what happened; running the same batch again
skips finished tasks and retries failed ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .audio import load
from .chain import Chain, check_engine
from .errors import AudioError, ParameterError, VcfxError
from .files import atomic_path, output_format, subtype_for
from .parallel import single_threaded
from .progress import progress
from .presets import load_chain

__all__ = ["batch", "BatchResult", "task_seed", "MANIFEST_NAME", "EXECUTORS", "ENGINES", "reproduce"]

MANIFEST_NAME = "manifest.jsonl"
EXECUTORS = ("local", "dask")
"""Where the tasks run: a local process pool, or Dask."""
ENGINES = EXECUTORS
"""Deprecated name of :data:`EXECUTORS`, from when ``batch(engine=...)`` chose the executor."""


def task_seed(seed: int, relative_path: str, copy: int) -> int:
    """The seed of one task: a 63-bit hash of the base seed, the input's relative path and the copy."""
    digest = hashlib.sha256(f"{seed}\0{relative_path}\0{copy}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True)
class Task:
    input: str
    output: str
    copy: int
    seed: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.input, self.copy)


@dataclass
class BatchResult:
    """What a batch run did.

    Attributes
    ----------
    done : int
        Tasks processed successfully in this run.
    skipped : int
        Tasks already finished by an earlier run.
    failed : list of dict
        Manifest records of the tasks that failed.
    manifest : Path
    """

    done: int = 0
    skipped: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    manifest: Path | None = None


def _output_name(relative: Path, copy: int, copies: int) -> str:
    if copies == 1:
        return relative.as_posix()
    return relative.with_name(f"{relative.stem}.{copy:0{len(str(copies - 1))}d}{relative.suffix}").as_posix()


def _tasks(in_dir: Path, pattern: str, copies: int, seed: int, out_dir: Path) -> list[Task]:
    out_resolved = out_dir.resolve()
    tasks = []
    for path in sorted(in_dir.glob(pattern)):
        if not path.is_file() or out_resolved in path.resolve().parents:
            continue
        rel = path.relative_to(in_dir)
        for copy in range(copies):
            tasks.append(Task(rel.as_posix(), _output_name(rel, copy, copies), copy, task_seed(seed, rel.as_posix(), copy)))
    return tasks


def _read_manifest(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    records: dict[tuple[str, int], dict[str, Any]] = {}
    if not path.is_file():
        return records
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
            records[(record["input"], int(record["copy"]))] = record
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by an interrupted run
    return records


def _remove_leftovers(out_dir: Path) -> None:
    for tmp in out_dir.rglob(".*.part*"):
        if tmp.is_file():
            tmp.unlink()


def run_task(task: Task, in_dir: str, out_dir: str, chain_data: dict[str, Any], subtype: str | None) -> dict[str, Any]:
    """Process one task; never raises for bad input: failures become the record's error."""
    record: dict[str, Any] = {"input": task.input, "output": task.output, "copy": task.copy, "seed": task.seed}
    start = time.perf_counter()
    try:
        chain = Chain.from_dict(chain_data).resolve(task.seed)
        data = chain.to_dict()
        record.update({key: data[key] for key in ("options", "engine") if key in data})
        record["effects"] = data["effects"]
        audio = load(Path(in_dir) / task.input)
        record["duration_s"] = round(audio.duration_s, 6)
        out_path = Path(out_dir) / task.output
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with single_threaded():  # the workers are the parallelism: one core each
            out = chain(audio)
        out.save(out_path, subtype=_subtype_for(out_path, subtype))
        record["status"] = "ok"
    except VcfxError as exc:
        record.update(status="failed", error=" ".join(str(exc).split()))
    except OSError as exc:
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    record["seconds"] = round(time.perf_counter() - start, 4)
    return record


def _subtype_for(path: Path, subtype: str | None) -> str | None:
    """The chosen subtype, else 32-bit float where the format holds it, so no output of a batch clips."""
    return subtype_for(path, subtype, peak=None)[0]


def reproduce(record: dict[str, Any], in_dir: str | os.PathLike, out_path: str | os.PathLike,
              subtype: str | None = None) -> Path:
    """Rebuild one manifest entry from its recorded parameters, seed, options and engine."""
    chain = Chain.from_dict({"effects": record["effects"], "seed": record["seed"],
                             **{key: record[key] for key in ("options", "engine") if key in record}})
    out_path = Path(out_path)
    return chain(load(Path(in_dir) / record["input"])).save(out_path, subtype=_subtype_for(out_path, subtype))


def _exit_with_parent(parent: int) -> None:
    """Pool initializer: a worker whose batch was killed (even by SIGKILL) stops within a second.

    A forked worker holds both ends of its task queue, so it would otherwise
    wait for tasks from a parent that is gone, for ever.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="vcfx-parent-watch", daemon=True).start()


def _local(tasks, args, jobs) -> Iterator[dict[str, Any]]:
    if jobs == 1:
        for task in tasks:
            yield run_task(task, *args)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(run_task, task, *args) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


def _dask(tasks, args, jobs, scheduler) -> Iterator[dict[str, Any]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed as dask_completed
    except ImportError:
        raise ParameterError('executor="dask" needs dask.distributed: pip install "vcfx[dask]"') from None
    if scheduler:
        client, cluster = Client(scheduler), None
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(run_task, task, *args, pure=False) for task in tasks]
        for future in dask_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def batch(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    chain,
    *,
    copies: int = 1,
    seed: int = 0,
    jobs: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    pattern: str = "**/*.wav",
    subtype: str | None = None,
    engine: str | None = None,
    quiet: bool = False,
) -> BatchResult:
    """Apply ``chain`` to every file under ``in_dir`` matching ``pattern``.

    Parameters
    ----------
    in_dir, out_dir : path
        The output folder mirrors the input folder's structure. With
        ``copies > 1``, ``a/b.wav`` becomes ``a/b.0.wav``, ``a/b.1.wav``, ...
    chain : Chain or str
        A chain, spec string, preset file or preset name; random parameters
        (``uniform(-2,2)``, ``choice(10,20)``) are drawn per file and copy.
    copies : int
        Augmented versions written per input.
    seed : int
        Base seed; each task's seed is :func:`task_seed` of it.
    jobs : int
        Worker processes.
    executor : {"local", "dask"}
        Where the tasks run: a local process pool (the default), or Dask: a
        LocalCluster of ``jobs`` workers, or the cluster at ``scheduler``.
    pattern : str
        Glob pattern relative to ``in_dir``.
    subtype : str, optional
        Output subtype; 32-bit float where the format allows it when omitted,
        so nothing clips.
    engine : str, optional
        The voice engine, overriding the chain's (see :class:`vcfx.Chain`).
        ``"local"`` and ``"dask"`` still choose the executor, as they did
        before ``executor`` existed, with a DeprecationWarning.
    quiet : bool
        No progress bar.

    Returns
    -------
    BatchResult
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    executor, engine = _executor_and_engine(executor, engine)
    if scheduler and executor != "dask":
        raise ParameterError(f"scheduler={scheduler!r} needs executor='dask', got executor={executor!r}")
    for name, value, low in (("copies", copies, 1), ("jobs", jobs, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(f"{name}={value!r} must be an integer >= {low}")
    if not in_dir.is_dir():
        raise AudioError(f"input folder {in_dir} does not exist")
    if in_dir.resolve() == out_dir.resolve():
        raise AudioError(f"output folder {out_dir} is the input folder; outputs never overwrite inputs")
    chain = chain if isinstance(chain, Chain) else load_chain(str(chain))
    if engine is not None:
        chain = chain[:]  # a copy: the caller's chain keeps its engine
        chain.engine = engine
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".vcfx-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise AudioError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from None

    manifest = out_dir / MANIFEST_NAME
    _remove_leftovers(out_dir)
    tasks = _tasks(in_dir, pattern, copies, seed, out_dir)
    if not tasks:
        raise AudioError(f'no files match "{pattern}" in {in_dir}')
    for suffix in sorted({Path(t.output).suffix.lower() for t in tasks}):
        output_format(out_dir / f"output{suffix}", subtype)
    records = _read_manifest(manifest)
    todo = [t for t in tasks if not (records.get(t.key, {}).get("status") == "ok" and (out_dir / t.output).is_file())]
    result = BatchResult(skipped=len(tasks) - len(todo), manifest=manifest)
    args = (str(in_dir), str(out_dir), chain.to_dict(), subtype)
    runner = _local(todo, args, jobs) if executor == "local" else _dask(todo, args, jobs, scheduler)
    bar = progress(total=len(todo), desc="batch", unit="file", quiet=quiet)
    start = time.perf_counter()
    with open(manifest, "a") as log, bar:
        for record in runner:
            log.write(json.dumps(record) + "\n")
            log.flush()
            records[(record["input"], record["copy"])] = record
            if record["status"] == "ok":
                result.done += 1
            else:
                result.failed.append(record)
            bar.update(1)
            bar.set_postfix(failed=len(result.failed), files_per_s=f"{bar.n / (time.perf_counter() - start):.1f}")
    _compact(manifest, records, tasks)
    return result


def _executor_and_engine(executor: str | None, engine: str | None) -> tuple[str, str | None]:
    """The executor and the voice engine, with the old ``engine="local"/"dask"`` read as the executor."""
    if engine in EXECUTORS:
        if executor is not None and executor != engine:
            raise ParameterError(f"executor={executor!r} and engine={engine!r} disagree; engine={engine!r} is the "
                                 f"old spelling of executor={engine!r}: give only executor")
        warnings.warn(f"batch(engine={engine!r}) is deprecated: the executor is now executor={engine!r}, "
                      "and engine chooses the voice engine", DeprecationWarning, stacklevel=3)
        executor, engine = engine, None
    executor = "local" if executor is None else executor
    if executor not in EXECUTORS:
        raise ParameterError(f"executor={executor!r} is not one of {', '.join(EXECUTORS)}")
    return executor, check_engine(engine)


def _compact(manifest: Path, records: dict, tasks: list[Task]) -> None:
    """Rewrite the manifest with one record per task, in task order, atomically."""
    lines = [json.dumps(records[t.key]) for t in tasks if t.key in records]
    with atomic_path(manifest, suffix=".jsonl") as tmp:
        tmp.write_text("".join(line + "\n" for line in lines))
