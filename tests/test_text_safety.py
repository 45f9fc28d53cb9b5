"""Text that is not characters (bytes typed in another encoding, half a UTF-16 pair) is
refused where it comes in, with one line, never an internal error later on output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from meso_cli.models import MAX_NAME

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

    answers = iter(["P\udcff", "x" * (MAX_NAME + 1), "P-1"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert intake._read("Patient id: ") == "P-1"
    said = capsys.readouterr().out
    assert "not UTF-8 text" in said
    assert f"at most {MAX_NAME}" in said
