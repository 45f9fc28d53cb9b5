"""Where the clinical data lives, and loading it: from the cache when it was validated before,
else through `meso_cli.validation`. Nothing here imports pydantic, so a command that finds
the data in the cache never pays for it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from functools import cache
from pathlib import Path

from meso_cli.core import Dataset

DATA_FILES = ("contraindications.yaml", "protocols.yaml")


def packaged_data_dir() -> Path:
    """The data shipped in the wheel, or the repository's `data/` when run from source."""
    here = Path(__file__).resolve().parent
    installed = here / "data"
    return installed if installed.is_dir() else here.parent / "data"


def resolve_data_dir(option: str | None) -> Path:
    chosen = option or os.environ.get("MESO_DATA_DIR") or None
    return Path(chosen) if chosen else packaged_data_dir()


def data_version(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in DATA_FILES:
        p = directory / name
        digest.update(name.encode() + b"\0")
        if p.is_file():
            digest.update(p.read_bytes())
    return digest.hexdigest()


def require_directory(directory: Path) -> None:
    """Refuse what is not a data directory, saying what it is instead."""
    if directory.is_dir():
        return
    from meso_cli.errors import file_error

    what = (
        "is a file, not a data directory (give the directory holding contraindications.yaml "
        "and protocols.yaml)"
        if directory.exists()
        else "data directory not found"
    )
    raise file_error(str(directory), None, what)


@cache
def load_dataset(directory: Path) -> Dataset:
    """The validated, cross-checked data of a directory; every problem names file and line.

    A clinic's copy is also held against the shipped data (`validation.against_shipped`).
    """
    require_directory(directory)
    shipped = packaged_data_dir()
    compare = directory.resolve() != shipped.resolve()
    version = data_version(directory)
    key = _cache_key(version, shipped if compare else None)
    cached = _from_cache(key)
    if cached is not None:
        return cached
    from meso_cli.models import to_core
    from meso_cli.validation import validated

    dataset: Dataset = to_core(validated(directory))
    # Kept only if the files validated are the files the key was made from: a file saved
    # while this ran must not be stored under the content it had before.
    if dataset.version == version == data_version(directory):
        _to_cache(key, dataset)
    return dataset


# Parsing and validating the YAML costs more than the rest of a `meso screen`, so a dataset that
# passed validation is kept, pickled, in the user's cache directory. It is used only when its key
# matches: the sha256 of the data files' bytes (and, for a clinic's copy, of the shipped data it
# was held against), of the code that defines, checks and reads the data, and of the Python,
# pydantic and pydantic-core versions (read from their files: importing pydantic is what the
# cache saves). Any problem with the cache falls back to loading.
_CODE_FILES = (
    "core.py",
    "record.py",
    "models.py",
    "data.py",
    "validation.py",
    "documents.py",
    "matching.py",
    "__init__.py",
)


def _validator_versions() -> bytes:
    from importlib.util import find_spec

    out = b""
    for package, name in (("pydantic", "version.py"), ("pydantic_core", "__init__.py")):
        spec = find_spec(package)
        where = spec.origin if spec is not None else None
        try:
            out += Path(where).with_name(name).read_bytes() if where else b"?"
        except OSError:
            out += b"?"
    return out


def _cache_key(version: str, shipped: Path | None) -> str:
    import yaml  # loaded already: the files are YAML

    digest = hashlib.sha256(f"{sys.version}\0{yaml.__version__}\0".encode())
    digest.update(_validator_versions())
    digest.update(version.encode())
    if shipped is not None:
        digest.update(b"\0shipped\0" + data_version(shipped).encode())
    here = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()


def _cache_file(key: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "meso" / f"dataset-{key[:32]}.pickle"


def _from_cache(key: str) -> Dataset | None:
    import pickle

    try:
        stored = pickle.loads(_cache_file(key).read_bytes())
    except Exception:  # missing, unreadable, truncated or from another version: load afresh
        return None
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
        return None
    dataset = stored[1]
    return dataset if isinstance(dataset, Dataset) else None


def _to_cache(key: str, dataset: Dataset) -> None:
    import pickle

    path = _cache_file(key)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(pickle.dumps((key, dataset), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:  # a read-only home or a full disk: the next run loads the YAML again
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


_KEEP = 16  # cached data sets kept: every edit of a data file makes a new one


def _prune(folder: Path) -> None:
    """Only the most recently written data sets stay; older ones are removed, and so are the
    temporary files of writes cut short more than an hour ago."""
    import time

    kept = sorted(folder.glob("dataset-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[_KEEP:]:
        old.unlink(missing_ok=True)
    for tmp in folder.glob("dataset-*.tmp"):
        if tmp.stat().st_mtime < time.time() - 3600:
            tmp.unlink(missing_ok=True)
