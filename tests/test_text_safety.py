"""Text that is not characters (bytes typed in another encoding, half a UTF-16 pair) is
refused where it comes in, with one line, never an internal error later on output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str | bytes, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args",
    [
        ["screen", "--age", "40", "--condition", b"ecz\xffema", "--json"],
        ["screen", "--age", "40", "--id", b"P\xff", "--json"],
        ["screen", b"nope\xff.yaml", "--on", "2026-11-22"],
        ["handout", "examples/patient.yaml", "-p", "hair", "--clinic", b"C\xff", "-o", "-"],
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_an_argument_that_is_not_utf8_is_refused_in_one_line(
    args: list[str | bytes], encoding: str
) -> None:
    done = run(*args, env={"PYTHONIOENCODING": encoding})
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    lines = done.stderr.decode("utf-8").splitlines()
    assert len(lines) == 1, lines
    assert "not UTF-8 text" in lines[0] and "\\xff" in lines[0]


def test_intake_asks_again_for_an_answer_that_is_not_text_or_too_long(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from meso_cli.cli import intake

    answers = iter(["P\udcff", "x" * (intake.MAX_ANSWER + 1), "P-1"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert intake._read("Patient id: ") == "P-1"
    said = capsys.readouterr().out
    assert "not UTF-8 text" in said
    assert f"at most {intake.MAX_ANSWER}" in said


def test_data_saved_while_being_validated_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from meso_cli import data as loader
    from meso_cli import validation

    copy = tmp_path / "data"
    shutil.copytree(loader.packaged_data_dir(), copy)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = validation.validated

    def saved_meanwhile(directory: Path) -> object:
        found = real(directory)
        if directory == copy:  # the clinic's copy, not the shipped data it is held against
            with (directory / "protocols.yaml").open("a", encoding="utf-8") as f:
                f.write("# saved by an editor while meso was reading\n")
        return found

    monkeypatch.setattr(validation, "validated", saved_meanwhile)
    loader.load_dataset.cache_clear()
    try:
        assert loader.load_dataset(copy).rules  # the run itself goes on
    finally:
        loader.load_dataset.cache_clear()
        real.cache_clear()
    assert not list((tmp_path / "cache").glob("meso/dataset-*"))
