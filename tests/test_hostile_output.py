"""The second line of defence: with the input check switched off (as if hostile text had
slipped past it), nothing the real command line writes for people carries a control or
bidirectional character. Rich output, the handout (Markdown and HTML), the calendar and the
messages on stderr each go through the one sanitizer, meso_cli.text.printable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest

from meso_cli.text import unsafe_character

ON = "2026-11-22"
ROOT = Path(__file__).resolve().parent.parent

# Loaded by the child interpreter only (a sitecustomize on its PYTHONPATH), before meso_cli:
# the input check finds nothing wrong, so hostile text reaches the outputs.
NO_INPUT_CHECK = """
import meso_cli.text

meso_cli.text.unsafe_character = lambda text, single_line=True: None
"""
HOSTILE = "P-\x1b[2J\x1b]0;owned\x07\u202eELBIGILE\u202c\x9b31m\x85\x7f"
CLEAR = ["--clear", "unrecognized-term"]  # the hostile condition is an unknown term
PATIENT = (
    f"id: {json.dumps(HOSTILE)}\nbirth_date: 1980-05-02\nsex: male\n"
    f"conditions: [{json.dumps('thinning hair' + HOSTILE)}]\n"
)


@pytest.fixture
def unchecked(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(NO_INPUT_CHECK)
    (tmp_path / "p.yaml").write_text(PATIENT, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MESO_DATA_DIR", "MESO_DEBUG")},
        "PYTHONPATH": f"{hook}{os.pathsep}{ROOT}",
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    return tmp_path, env


def meso(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def clean(data: bytes) -> bool:
    text = data.decode("utf-8").replace("\r\n", "\n")
    return unsafe_character(text, single_line=False) is None


def test_the_hook_lets_hostile_text_in(unchecked: tuple[Path, dict[str, str]]) -> None:
    where, env = unchecked
    done = meso(env, "screen", "p.yaml", "--on", ON, "--json", cwd=where)
    assert done.returncode == 3, done.stderr  # the hostile condition is an unknown term
    # JSON keeps the text (a script gets the same string back) with every refused character
    # as an escape: the bytes on stdout hold none of them raw.
    assert json.loads(done.stdout)["patient_id"] == HOSTILE
    assert clean(done.stdout), done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["screen", "p.yaml", "--protocol", "hair"],
        ["plan", "p.yaml", "--protocol", "hair", *CLEAR],
        ["handout", "p.yaml", "--protocol", "hair", *CLEAR],
        ["handout", "p.yaml", "-p", "hair", *CLEAR, "--format", "html", "--clinic", HOSTILE],
        ["handout", "p.yaml", "--protocol", "hair", *CLEAR, "--phone", HOSTILE, "-o", "-"],
        ["plan", "p.yaml", "--protocol", "hair", *CLEAR, "--ics", "-"],
        ["screen", "p.yaml", "--condition", "acne" + HOSTILE, "--json"],  # a note on stderr
        ["screen", "p.yaml", "--condition", "acne" + HOSTILE],  # the same note on stdout
        ["screen", "p.yaml", "--data-dir", "/nowhere/" + HOSTILE],  # an error quoting a path
        ["screen", "--age", "40", "--on", ON + HOSTILE],  # an error quoting an option
    ],
    ids=[
        "screen",
        "plan",
        "handout-md",
        "handout-html",
        "handout-phone",
        "ics",
        "note-stderr",
        "note-stdout",
        "error-path",
        "error-option",
    ],
)
def test_no_output_for_people_holds_a_refused_character(
    unchecked: tuple[Path, dict[str, str]], args: list[str]
) -> None:
    where, env = unchecked
    done = meso(env, *args, *([] if "--on" in args else ["--on", ON]), cwd=where)
    assert done.returncode in (0, 2, 3, 4, 5), done.stderr
    assert clean(done.stdout), done.stdout[:2000]
    assert clean(done.stderr), done.stderr
    # shown as a visible escape (ours, or Python's in a quoted value), not dropped
    shown = done.stdout + done.stderr
    assert b"\\u001b" in shown or b"\\x1b" in shown, shown[:2000]


def test_the_calendar_carries_the_escape_in_its_text(
    unchecked: tuple[Path, dict[str, str]],
) -> None:
    where, env = unchecked
    done = meso(env, "plan", "p.yaml", "-p", "hair", *CLEAR, "--on", ON, "--ics", "-", cwd=where)
    assert done.returncode == 0, done.stderr
    calendar = icalendar.Calendar.from_ical(done.stdout)
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert summaries and all("\\u001b" in s and "\x1b" not in s for s in summaries)
    # the UID holds the id percent-encoded: no control character there either
    assert all("%1B" in str(e["uid"]) for e in calendar.walk("VEVENT"))
