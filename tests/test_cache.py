"""The validated data is cached per user; a changed byte means a fresh validation, and a
damaged or foreign cache file is never trusted."""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from meso_cli import data as loader
from meso_cli.core import Dataset
from meso_cli.errors import FileProblems
from meso_cli.validation import validated


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    loader.load_dataset.cache_clear()
    validated.cache_clear()
    yield home / "meso"
    loader.load_dataset.cache_clear()
    validated.cache_clear()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(loader.packaged_data_dir(), target)
    return target


def test_a_first_load_writes_the_cache_and_a_second_reads_it(cache: Path, copy: Path) -> None:
    first = loader.load_dataset(copy)
    files = list(cache.glob("dataset-*.pickle"))
    assert len(files) == 1
    loader.load_dataset.cache_clear()
    validated.cache_clear()
    again = loader.load_dataset(copy)
    assert again == first and again is not first
    assert validated.cache_info().currsize == 0  # nothing was validated the second time


def test_a_data_file_edited_after_caching_is_validated_again(cache: Path, copy: Path) -> None:
    loader.load_dataset(copy)
    path = copy / "contraindications.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("action: exclude", "action: exclud", 1), "utf-8")
    loader.load_dataset.cache_clear()  # a new process: nothing kept in memory
    validated.cache_clear()
    with pytest.raises(FileProblems) as caught:
        loader.load_dataset(copy)
    assert any("contraindications.yaml" in str(p) for p in caught.value.problems)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle", pickle.dumps(("another key", None)), pickle.dumps({"x": 1})],
)
def test_a_damaged_or_foreign_cache_file_is_loaded_afresh(
    cache: Path, copy: Path, content: bytes
) -> None:
    expected = loader.load_dataset(copy)
    (written,) = cache.glob("dataset-*.pickle")
    written.write_bytes(content)
    loader.load_dataset.cache_clear()
    validated.cache_clear()
    assert loader.load_dataset(copy) == expected
    assert isinstance(pickle.loads(written.read_bytes())[1], Dataset)  # and it is rewritten


def test_an_unwritable_cache_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    loader.load_dataset.cache_clear()
    try:
        assert loader.load_dataset(copy).rules
    finally:
        loader.load_dataset.cache_clear()


def test_only_the_most_recent_data_sets_are_kept(cache: Path, copy: Path) -> None:
    cache.mkdir(parents=True)
    for n in range(loader._KEEP + 5):
        old = cache / f"dataset-{n:032d}.pickle"
        old.write_bytes(b"old")
        os.utime(old, (n, n))
    loader.load_dataset(copy)
    kept = sorted(p.name for p in cache.glob("dataset-*.pickle"))
    assert len(kept) == loader._KEEP
    assert f"dataset-{0:032d}.pickle" not in kept  # the oldest went first
