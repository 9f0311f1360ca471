"""Reading and writing audio files safely: clear errors, atomic writes."""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import AudioError

__all__ = ["read_audio", "write_audio", "open_for_writing", "atomic_path", "same_file"]

_SFC_SET_ADD_PEAK_CHUNK = 0x1050


def read_audio(path: Path):
    """Read ``path`` as Audio, turning every libsndfile failure into an AudioError."""
    from .audio import Audio

    if not path.exists():
        raise AudioError(f"no such file: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        with sf.SoundFile(str(path)) as f:
            data = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
            declared = f.frames
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"cannot read {path} as audio: {exc}") from None
    if data.shape[0] < declared:
        raise AudioError(
            f"{path} is truncated: its header declares {declared} frames but only "
            f"{data.shape[0]} could be read"
        )
    _check_wav_data_size(path)
    if data.shape[0] == 0:
        raise AudioError(f"{path} holds no audio (0 frames)")
    if not np.isfinite(data).all():
        raise AudioError(f"{path} contains non-finite samples (NaN or inf)")
    return Audio(np.ascontiguousarray(data.T), rate)


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


def write_audio(audio, path: Path, subtype: str | None = None) -> Path:
    """Write Audio to ``path`` atomically, refusing formats and subtypes that lose data."""
    fmt = path.suffix.lstrip(".").upper()
    formats = sf.available_formats()
    if fmt not in formats:
        known = ", ".join("." + f.lower() for f in sorted(formats))
        raise AudioError(f'cannot write "{path.name}": unknown extension "{path.suffix}". Known: {known}')
    if subtype is not None:
        subtype = subtype.upper()
        subtypes = sf.available_subtypes(fmt)
        if subtype not in subtypes:
            raise AudioError(
                f"subtype={subtype!r} is not available for {fmt}. Known: {', '.join(sorted(subtypes))}"
            )
    else:
        subtype = sf.default_subtype(fmt)
    if not sf.check_format(fmt, subtype):
        raise AudioError(f"{fmt} files cannot hold subtype {subtype}")
    if subtype is not None and ("PCM" in subtype or subtype in {"ULAW", "ALAW", "DPCM_8", "DPCM_16"}):
        clipping = int(np.count_nonzero(np.abs(audio.samples) > 1.0))
        if clipping:
            peak = float(np.abs(audio.samples).max())
            raise AudioError(
                f"{clipping} samples would clip in {subtype} (peak {peak:.3f} > 1.0); "
                "lower the level, or save with subtype='FLOAT'"
            )
    with atomic_path(path) as tmp:
        try:
            with open_for_writing(tmp, audio.sample_rate, audio.channels, subtype, fmt) as f:
                f.write(audio.samples.T)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"cannot write {path}: {exc}") from None
    return path



def check_free_space(path: str | os.PathLike, nbytes: int) -> None:
    """Refuse, with an AudioError naming ``path``, to write ``nbytes`` where the disk has less room.

    The room is asked of the folder that will hold ``path``; when that
    cannot be told (no such folder yet, a file system that does not say),
    nothing is refused here and writing reports what goes wrong.
    """
    import shutil

    folder = Path(path).parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if nbytes > free:
        raise AudioError(f"cannot write {path}: it needs about {nbytes / 1e6:.1f} MB and only "
                         f"{free / 1e6:.1f} MB are free in {folder}")
