"""Where meso's files are, and reading and writing them safely.

Reading takes a regular file (or `-`, standard input), checks its size before reading a
byte, and never waits on a FIFO or reads a device without end. Writing replaces a regular
file atomically (a temporary file in the same directory, then a rename), and writes a
stream it is pointed at (standard output, a terminal, a pipe) directly, never by rename.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import time
from pathlib import Path

from meso_cli.errors import FileExists, MesoError, file_error

MAX_BYTES = 1 << 20  # a patient or data file is a few KiB; refuse anything absurd
DATA_FILES = ("contraindications.yaml", "protocols.yaml")
_STALE_SECONDS = 3600  # a temporary file of ours this old was left by a write cut short


def packaged_data_dir() -> Path:
    """The data shipped in the wheel, or the repository's `data/` when run from source."""
    here = Path(__file__).resolve().parent
    installed = here / "data"
    return installed if installed.is_dir() else here.parent / "data"


def resolve_data_dir(option: str | None) -> Path:
    """`--data-dir`, else MESO_DATA_DIR, else the shipped data."""
    chosen = option or os.environ.get("MESO_DATA_DIR") or None
    return Path(chosen) if chosen else packaged_data_dir()


# --- reading ------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: str, *, expected: str = "a YAML or JSON file") -> bytes:
    """The bytes of a regular file, or of standard input for `-`, at most MAX_BYTES."""
    if path == "-":
        stream = sys.stdin
        if stream is None or stream.closed:
            raise file_error("<stdin>", None, "standard input is closed; give a file name")
        raw = stream.buffer.read(MAX_BYTES + 1)  # one byte over is enough to refuse it
        if len(raw) > MAX_BYTES:
            raise file_error("<stdin>", None, f"input is over {MAX_BYTES} bytes")
        return raw
    if path == "":
        raise MesoError("empty file name")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the checks below refuse it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise file_error(path, None, "no such file") from None
    except IsADirectoryError:
        raise file_error(path, None, f"is a directory, expected {expected}") from None
    except OSError as exc:
        raise file_error(path, None, f"cannot read: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise file_error(path, None, f"is {_kind(info.st_mode)}, expected {expected}")
    if info.st_size > MAX_BYTES:
        os.close(fd)
        raise file_error(path, None, f"file is {info.st_size} bytes; the limit is {MAX_BYTES}")
    with os.fdopen(fd, "rb") as handle:
        try:
            raw = handle.read(MAX_BYTES + 1)  # a file that grew since fstat
        except OSError as exc:
            raise file_error(path, None, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise file_error(path, None, f"file is over {MAX_BYTES} bytes")
    return raw


def decode(raw: bytes, shown: str) -> str:
    """UTF-8 text, refusing what is not (naming the encoding where it can); a BOM is dropped."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark from a Windows editor is harmless; drop it
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise file_error(shown, None, "UTF-32 text; save the file as UTF-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise file_error(shown, None, "UTF-16 text; save the file as UTF-8")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise file_error(shown, line, "binary file (NUL bytes), expected YAML or JSON text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise file_error(shown, line, "not UTF-8 text; save the file as UTF-8") from None
    if not text.strip():
        raise file_error(shown, None, "file is empty, expected a YAML or JSON mapping")
    return text


def read_text(path: str) -> str:
    """The text of a small UTF-8 file (or `-`)."""
    return decode(read_bytes(path), "<stdin>" if path == "-" else path)


# --- writing ------------------------------------------------------------------------------

_OURS = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")  # the temporary files write_atomic makes


def _same_file(info: os.stat_result, fd: int) -> bool:
    try:
        other = os.fstat(fd)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


def is_standard_output(path: str) -> bool:
    """`-`, or a path naming what standard output is already sent to (`/dev/stdout`, or the
    file of `( meso ... ) > log.txt`): a command whose report also goes there must choose."""
    if path == "-":
        return True
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return _same_file(info, 1)


def is_stream(path: str) -> bool:
    """`-`, or an existing path that is not a regular file of its own (a terminal, a pipe, a
    device, `/dev/stderr`), or the file standard output goes to: written as it is, no name
    to take a format from."""
    if path == "-":
        return True
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(info.st_mode) or _same_file(info, 1)


def write_output(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write what a command produces to `path`: `-` is standard output; a stream (a terminal,
    a pipe, a device, `/dev/stdout`, or the very file standard output goes to) is written
    directly; a regular file, new or existing, is replaced atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    name = os.fspath(path)
    if name == "":
        raise MesoError("empty file name")
    if name == "-":
        _to_stream(sys.stdout, payload, "standard output")
        return
    try:
        info: os.stat_result | None = os.stat(name)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise MesoError(f"cannot write {name}: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise MesoError(f"cannot write {name}: is a directory; give a file name")
    if info is not None and stat.S_ISREG(info.st_mode):
        for fd, stream, what in ((1, sys.stdout, "standard output"), (2, sys.stderr, "stderr")):
            if _same_file(info, fd):  # `--ics /dev/stdout`, or the file stdout is sent to
                _to_stream(stream, payload, what)
                return
    if info is not None and stat.S_ISSOCK(info.st_mode):  # cannot be opened as a file
        raise MesoError(f"cannot write {name}: is a socket; give a file name")
    streamlike = os.path.abspath(name).startswith(("/dev/", "/proc/"))
    if info is not None and (streamlike or not stat.S_ISREG(info.st_mode)):
        _to_path_directly(name, payload)
        return
    write_atomic(name, payload)


def _to_stream(stream: object, payload: bytes, what: str) -> None:
    target = getattr(stream, "buffer", None)
    if target is None:
        raise MesoError(f"cannot write to {what}: it is closed")
    try:
        stream.flush()  # type: ignore[attr-defined]
        target.write(payload)
        target.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise MesoError(f"cannot write to {what}: {exc.strerror or exc}") from None


def _to_path_directly(name: str, payload: bytes) -> None:
    """A device, FIFO, socket or descriptor path: opened for writing as it is, never renamed
    over, never truncated; a FIFO nobody reads is an error, not a wait."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO and _is_fifo(name):  # a FIFO with no reader
            raise MesoError(f"cannot write {name}: a FIFO that nothing reads") from None
        raise MesoError(f"cannot write {name}: {exc.strerror or exc}") from None
    try:
        os.set_blocking(fd, True)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise MesoError(f"cannot write {name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _is_fifo(name: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(name).st_mode)
    except OSError:
        return False


def _link_new(tmp: Path, target: Path, path: str | os.PathLike[str]) -> None:
    """Put `tmp` in place as `target`, which must not exist."""
    exists = FileExists(f"{path} exists; nothing was written over it")
    try:
        os.link(tmp, target)  # fails if the name exists: no check-then-write race
    except FileExistsError:
        raise exists from None
    except OSError:
        # A file system without hard links: claim the name first, then move over the claim.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise exists from None
        os.replace(tmp, target)
        return
    tmp.unlink()


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, replace: bool = True) -> None:
    """Write `data` to the regular file `path` through a temporary file in the same directory.

    The temporary file is flushed and fsynced, then moved over `path` with os.replace (atomic
    on POSIX and Windows). On any failure the old file is left as it was, the temporary file
    is removed, and a MesoError (exit 2) names the path and the reason. A symbolic link is
    written through to the file it names (the link stays a link). Temporary files of this
    naming left more than an hour ago by a write that was killed are removed. With
    `replace=False` an existing file is never written over, even one created a moment ago by
    another program: the temporary file is linked into place, and FileExists is raised.
    """
    if os.fspath(path) == "":
        raise MesoError("empty file name")
    if os.fspath(path) == "-":
        raise MesoError("cannot write to '-': give a file name (standard output holds the report)")
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise MesoError(f"cannot write {path}: not a regular file; give a file name")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    parent = target.parent
    _remove_stale(parent)
    # A random name opened with O_EXCL: never clobbers another writer's temporary file, and
    # mode 0o666 lets the umask decide permissions as for any newly created file.
    tmp = _temporary_beside(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise MesoError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if target.exists():  # keep the old file's permissions
                with contextlib.suppress(OSError, NotImplementedError):
                    os.chmod(handle.fileno(), target.stat().st_mode & 0o7777)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, target)
        else:
            _link_new(tmp, target, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise MesoError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    _sync_dir(parent)


def _temporary_beside(target: Path) -> Path:
    # A random name from os.urandom, as the secrets module makes it, without loading OpenSSL
    # (secrets imports hmac): shell completion imports this module and never writes.
    return target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp"


def _remove_stale(directory: Path) -> None:
    """Temporary files of write_atomic's naming older than an hour: a write killed with -9
    left them, and they may hold patient data."""
    limit = time.time() - _STALE_SECONDS
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not _OURS.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                os.unlink(entry.path)


def _sync_dir(directory: Path) -> None:
    # Make the rename itself durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_new(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write a new file at `path`, refusing one that exists, even if it appears while this
    is written: the text goes to a temporary file in the same directory, which is then
    linked into place (a link never replaces a file) and removed. A record is a regular file:
    never `-` (a file of that name would be made) nor an empty name."""
    if os.fspath(path) == "":
        raise MesoError("empty file name")
    if os.fspath(path) == "-":
        raise MesoError("cannot write to '-': give a file name")
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if target.exists() or target.is_symlink():
        raise MesoError(f"{target} exists; not replaced")
    _remove_stale(target.parent)
    tmp = _temporary_beside(target)
    try:
        with open(tmp, "xb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise MesoError(f"{target} exists; not replaced") from None
        except OSError:
            # No hard links here (some network or FAT file systems): create it exclusively.
            with open(target, "xb") as handle:
                handle.write(payload)
    except FileExistsError:
        raise MesoError(f"{target} exists; not replaced") from None
    except OSError as exc:
        raise MesoError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _sync_dir(target.parent)
