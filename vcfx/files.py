"""Audio files as arrays: reading with every check, writing atomically, and the rules for outputs.

This module knows files and NumPy arrays, nothing of :class:`vcfx.Audio`:
:func:`vcfx.load`, :meth:`vcfx.Audio.save`, ``vcfx apply``, streaming and
batch all read and write through it, so each rule below lives here once.

- A file is read whole or refused: missing, a folder, not audio, truncated
  (fewer frames or data bytes than its header declares), empty, or holding
  NaN or inf.
- An output path is checked before any work: a known extension, a subtype
  that format holds, never one of the inputs, an existing folder.
- Integer and companded subtypes (PCM, ULAW, ALAW, DPCM) hold only
  ``[-1, 1]``; samples outside are refused, never clipped.
- Files appear complete or not at all (:class:`atomic_path`), and their bytes
  depend only on the samples written.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import AudioError

__all__ = [
    "read_audio",
    "open_audio",
    "read_block",
    "write_audio",
    "open_for_writing",
    "atomic_path",
    "same_file",
    "output_format",
    "check_output_path",
    "check_folder",
    "check_clipping",
    "check_free_space",
    "holds_unit_range",
    "subtype_for",
]

_SFC_SET_ADD_PEAK_CHUNK = 0x1050
_UNIT_RANGE_SUBTYPES = {"ULAW", "ALAW", "DPCM_8", "DPCM_16"}


# -- reading -----------------------------------------------------------------------

def open_audio(path: Path) -> sf.SoundFile:
    """Open ``path`` for reading, or raise AudioError: missing, a folder, not audio, or a truncated WAV.

    Returns
    -------
    soundfile.SoundFile
        Open for reading; close it (or use it in a ``with`` block).
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"no such file: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        source = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError) as exc:
        raise AudioError(f"cannot read {path} as audio: {exc}") from None
    try:
        _check_wav_data_size(path)  # libsndfile would quietly read what is there
        if source.frames == 0:
            raise AudioError(f"{path} holds no audio (0 frames)")
    except AudioError:
        source.close()
        raise
    return source


def read_block(source: sf.SoundFile, start: int, stop: int) -> np.ndarray:
    """Frames ``[start, stop)`` of an open file as float32 ``(channels, frames)``, checked.

    Raises AudioError when the file holds fewer frames there than its header
    declares, or non-finite samples.
    """
    source.seek(start)
    x = source.read(stop - start, dtype="float32", always_2d=True).T
    if x.shape[1] != stop - start:
        raise AudioError(f"{source.name} is truncated: its header declares {source.frames} frames, "
                         f"but only {start + x.shape[1]} could be read")
    if not np.isfinite(x).all():
        raise AudioError(f"{source.name} contains non-finite samples (NaN or inf)")
    return np.ascontiguousarray(x)


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Read a whole file: float32 samples shaped ``(channels, frames)`` and the sample rate."""
    with open_audio(path) as source:
        return read_block(source, 0, source.frames), source.samplerate


def _check_wav_data_size(path: Path) -> None:
    """Refuse a RIFF/WAVE file whose data chunk is shorter than its header says.

    libsndfile quietly reads what is there, so a file cut off by a failed copy
    or a full disk would otherwise load as shorter audio without a word.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        size = path.stat().st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                available = size - f.tell()
                if length != 0xFFFFFFFF and available < length:
                    raise AudioError(
                        f"{path} is truncated: its data chunk declares {length} bytes "
                        f"but the file holds only {available}"
                    )
                return
            f.seek(length + (length & 1), os.SEEK_CUR)


# -- the rules for outputs ------------------------------------------------------------

def output_format(path: Path, subtype: str | None = None) -> tuple[str, str]:
    """The ``(format, subtype)`` a file at ``path`` is written in; AudioError when it cannot be.

    The format follows the extension; ``subtype=None`` means the format's default.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").upper()
    formats = sf.available_formats()
    if fmt not in formats:
        known = ", ".join("." + f.lower() for f in sorted(formats))
        raise AudioError(f'cannot write "{path.name}": unknown audio extension "{path.suffix}". Known: {known}')
    if subtype is None:
        return fmt, sf.default_subtype(fmt)
    if not isinstance(subtype, str):
        raise AudioError(f"subtype={subtype!r} is not a soundfile subtype name such as 'PCM_16' or 'FLOAT'")
    chosen = subtype.upper()
    subtypes = sf.available_subtypes(fmt)
    if chosen not in subtypes or not sf.check_format(fmt, chosen):
        raise AudioError(f"subtype={chosen!r} is not available for {fmt} files. "
                         f"Known: {', '.join(sorted(s for s in subtypes if sf.check_format(fmt, s)))}")
    return fmt, chosen


def check_folder(path: Path) -> None:
    """Refuse an output path whose folder is missing, or that is itself a folder."""
    path = Path(path)
    if not path.parent.is_dir():
        raise AudioError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise AudioError(f"cannot write {path}: it is a folder")


def check_output_path(path: Path, inputs: Iterable[Path] = (), what: str = "input file") -> None:
    """Refuse an output path that names one of ``inputs``: inputs are never overwritten."""
    path = Path(path)
    for source in inputs:
        source = Path(source)
        if path.resolve() == source.resolve() or same_file(source, path):
            raise AudioError(f"{path} is the {what}; choose another path, the input is never overwritten")


def holds_unit_range(subtype: str) -> bool:
    """Whether ``subtype`` stores only ``[-1, 1]`` (integer PCM and companded formats)."""
    subtype = subtype.upper()
    return "PCM" in subtype or subtype in _UNIT_RANGE_SUBTYPES


def check_clipping(samples: np.ndarray, subtype: str, fmt: str = "WAV") -> None:
    """Refuse samples outside ``[-1, 1]`` for a subtype that would clip them (in format ``fmt``)."""
    if not holds_unit_range(subtype):
        return
    clipping = int(np.count_nonzero(np.abs(samples) > 1.0))
    if clipping:
        peak = float(np.abs(samples).max())
        fix = ("save with subtype='FLOAT'" if sf.check_format(fmt, "FLOAT")
               else "write a format that holds 32-bit float (.wav, .aiff, .caf) with subtype='FLOAT'")
        raise AudioError(f"{clipping} samples would clip in {subtype} (peak {peak:.3f} > 1.0); lower the level, "
                         f"or {fix}")


def subtype_for(path: Path, subtype: str | None, peak: float | None) -> tuple[str | None, str | None]:
    """The subtype to write when the caller may not have chosen one, and a note when it differs.

    A chosen ``subtype`` is kept. Otherwise the format's default, unless that
    would clip a result peaking at ``peak`` (or the peak is not known yet, as
    when streaming): then 32-bit float where the format holds it.

    Returns
    -------
    (subtype, note)
        ``note`` says why float was chosen, or is None.
    """
    fmt, default = output_format(path, subtype)
    if subtype is not None or not holds_unit_range(default) or (peak is not None and peak <= 1.0):
        return subtype, None
    if not sf.check_format(fmt, "FLOAT"):
        return subtype, None  # check_clipping says what to do instead
    if peak is None:
        return "FLOAT", None
    return "FLOAT", (f"the result peaks at {peak:.3f}, above 1.0, so {Path(path).name} is written as 32-bit "
                     f"float instead of {default} (nothing clips); choose a subtype to override")


def check_free_space(path: Path, nbytes: int) -> None:
    """Refuse to start writing ``nbytes`` next to ``path`` when its file system has less free space."""
    path = Path(path)
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    if nbytes > free:
        raise AudioError(f"cannot write {path}: it needs about {nbytes / 1e6:.1f} MB and only "
                         f"{free / 1e6:.1f} MB are free in {path.parent}")


# -- writing ----------------------------------------------------------------------

def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (b may not exist yet)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


class atomic_path:
    """Context manager yielding a temporary path that is renamed to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """

    def __init__(self, path: Path, suffix: str | None = None):
        self.path = Path(path)
        self.suffix = self.path.suffix if suffix is None else suffix
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        folder = self.path.parent
        if not folder.is_dir():
            raise AudioError(f"cannot write {self.path}: folder {folder} does not exist")
        try:
            fd, name = tempfile.mkstemp(
                prefix=f".{self.path.stem}.", suffix=".part" + self.suffix, dir=folder
            )
        except OSError as exc:
            raise AudioError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                os.replace(self.tmp, self.path)
                return False
            except OSError as err:
                self.tmp.unlink(missing_ok=True)
                raise AudioError(f"cannot write {self.path}: {err.strerror or err}") from None
        self.tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise AudioError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return False


def open_for_writing(path: Path, sample_rate: int, channels: int, subtype: str, fmt: str) -> sf.SoundFile:
    """A SoundFile for writing whose bytes depend only on the samples written.

    libsndfile stamps float files with the time of writing (the PEAK chunk);
    it is left out, so the same audio always gives the same file.
    """
    f = sf.SoundFile(str(path), "w", sample_rate, channels, subtype, format=fmt)
    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
    return f


def write_audio(samples: np.ndarray, sample_rate: int, path: Path, subtype: str | None = None) -> Path:
    """Write ``(channels, frames)`` samples to ``path`` atomically, refusing formats and subtypes that lose data."""
    path = Path(path)
    fmt, subtype = output_format(path, subtype)
    check_folder(path)
    check_clipping(samples, subtype, fmt)
    with atomic_path(path) as tmp:
        try:
            with open_for_writing(tmp, sample_rate, samples.shape[0], subtype, fmt) as f:
                f.write(samples.T)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"cannot write {path}: {exc}") from None
    return path
