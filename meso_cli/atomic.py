"""write_atomic(): a file is either the old one or the whole new one, never half written."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from meso_cli.errors import MesoError


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write `data` to `path` through a temporary file in the same directory.

    The temporary file is flushed and fsynced, then moved over `path` with os.replace (atomic
    on POSIX and Windows). On any failure the old file is left as it was, the temporary file
    is removed, and a MesoError (exit 2) names the path and the reason.
    """
    if str(path) == "-":
        raise MesoError("cannot write to '-': give a file name (standard output holds the report)")
    # Through a symbolic link to the file it names (the link stays a link); a device, pipe or
    # directory is refused rather than replaced by a regular file.
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise MesoError(f"cannot write {path}: not a regular file; give a file name")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    parent = target.parent
    # A random name opened with O_EXCL: never clobbers another writer's temporary file, and
    # mode 0o666 lets the umask decide permissions as for any newly created file.
    tmp = parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
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
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise MesoError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    _sync_dir(parent)


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
