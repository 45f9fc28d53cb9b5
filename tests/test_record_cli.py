"""`meso session add` and `meso clear` on the practitioner's own file, through the command
line: only the new lines differ, byte for byte; refusals; a clearance covers its entry only."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from meso_cli.edit import open_record, save, with_session
from meso_cli.errors import MesoError

COMMENTED = """\
# Patient P-7, seen on Tuesdays. Keep this note.
id: "P-7"          # quoted, as the clinic writes ids
name: 'Ayşe Yılmaz'
birth_date: 1980-05-02
sex: female
pregnant: false    # asked 2026-11-20
breastfeeding: false
medications:
  - warfarin       # for the heart: the prescriber decides
  - {name: ibuprofen, last_dose: 2026-11-20}
conditions: [thinning hair]
sessions_done:
  - 2026-11-24     # first session, went well

# Sun: none planned. (End-of-file note.)
"""


def meso(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
        cwd=cwd,
    )


def only_added(old: bytes, new: bytes) -> list[str]:
    """The lines `new` adds to `old`, checking that every old line is still there unchanged,
    byte for byte, in its place."""
    a, b = old.decode().splitlines(keepends=True), new.decode().splitlines(keepends=True)
    added = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), (tag, a[a0:a1], b[b0:b1])
        added += b[b0:b1] if tag == "insert" else []
    return added


@pytest.fixture
def patient(tmp_path: Path) -> Path:
    path = tmp_path / "p7.yaml"
    path.write_bytes(COMMENTED.encode())
    return path


def test_session_add_adds_one_line_and_keeps_every_other_byte(patient: Path) -> None:
    before = patient.read_bytes()
    done = meso("session", "add", str(patient), "--on", "2026-12-01", "-p", "hair",
                "--clear", "anticoagulant")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert only_added(before, patient.read_bytes()) == ["  - 2026-12-01\n"]
    assert "meso: recorded session 2 on 2026-12-01" in done.stderr
    assert done.stdout.startswith("Next: session 3 on Tue 2026-12-08\n")
    assert "(1 done" not in done.stdout and "(2 done, 8 to come)" in done.stdout


def test_clear_adds_the_clearance_lines_and_keeps_every_other_byte(patient: Path) -> None:
    before = patient.read_bytes()
    done = meso("clear", str(patient), "anticoagulant", "--by", "Dr. Ada Yılmaz",
                "--reason", "prescriber agrees: INR stable", "-p", "hair",
                "--on", "2026-12-01")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert only_added(before, patient.read_bytes()) == [
        "clearances:\n",
        "  - rule: anticoagulant\n",
        "    matched: warfarin\n",
        "    by: Dr. Ada Yılmaz\n",
        '    "on": 2026-12-01\n',
        "    reason: 'prescriber agrees: INR stable'\n",
    ]
    assert "anticoagulant for 'warfarin' cleared by Dr. Ada Yılmaz on 2026-12-01" in done.stderr
    shown = " ".join(done.stdout.split())
    assert "cleared by Dr. Ada Yılmaz on 2026-12-01: prescriber agrees: INR stable" in shown
    assert "sources: 000 — Cosmetic procedure" in shown  # by title, as `meso screen` shows them
    # Later runs honour it without --clear; the clearance is in the JSON.
    again = meso("screen", str(patient), "-p", "hair", "--on", "2026-12-02", "--json")
    assert again.returncode == 0, again.stderr
    finding = next(f for f in json.loads(again.stdout)["findings"] if f["rule"] == "anticoagulant")
    assert finding["cleared"] and finding["clearance"]["by"] == "Dr. Ada Yılmaz"
    # ... and so does a session added after it, with no --clear
    added = meso("session", "add", str(patient), "--on", "2026-12-02", "-p", "hair")
    assert added.returncode == 0, added.stderr


def test_a_clearance_does_not_cover_a_medicine_added_later(patient: Path) -> None:
    cleared = meso("clear", str(patient), "anticoagulant", "--by", "Dr. Ada", "--reason", "ok",
                   "-p", "hair", "--on", "2026-12-01")  # fmt: skip
    assert cleared.returncode == 0, cleared.stderr
    text = patient.read_text().replace("  - warfarin", "  - heparin\n  - warfarin")
    patient.write_text(text)
    done = meso("screen", str(patient), "-p", "hair", "--on", "2026-12-02", "--json")
    assert done.returncode == 3, done.stderr
    found = {f["matched"]: f for f in json.loads(done.stdout)["findings"]}
    assert found["warfarin"]["cleared"] is True
    assert found["heparin"]["cleared"] is False and found["heparin"]["clearance"] is None
    # the same through the quick options: a new medicine on the command line fires again
    quick = meso("screen", str(patient), "-p", "hair", "--on", "2026-12-02",
                 "--medication", "aspirin")  # fmt: skip
    assert quick.returncode == 3


def test_session_add_refusals(patient: Path) -> None:
    before = patient.read_bytes()
    base = [str(patient), "-p", "hair", "--clear", "anticoagulant", "--on", "2026-12-01"]
    future = meso("session", "add", *base[:1], "2026-12-02", *base[1:])
    assert future.returncode == 2 and "is after the reference date 2026-12-01" in future.stderr
    twice = meso("session", "add", *base[:1], "2026-11-24", *base[1:])
    assert twice.returncode == 2 and "2026-11-24 is already recorded" in twice.stderr
    soon = meso("session", "add", *base[:1], "2026-11-28", *base[1:])
    assert soon.returncode == 2
    assert "4 days after the session of 2026-11-24; phase weekly allows the next one from 7" in (
        soon.stderr
    )
    review = meso("session", "add", str(patient), "-p", "hair", "--on", "2026-12-01")
    assert review.returncode == 2 and "review required (anticoagulant)" in review.stderr
    assert patient.read_bytes() == before  # nothing written
    forced = meso("session", "add", *base[:1], "2026-11-28", *base[1:], "--force")
    assert forced.returncode == 0, forced.stderr
    assert "recorded with --force: 2026-11-28 is 4 days after" in forced.stderr
    assert only_added(before, patient.read_bytes()) == ["  - 2026-11-28\n"]


def test_clear_refusals(patient: Path) -> None:
    before = patient.read_bytes()
    on = ["--on", "2026-12-01", "-p", "hair"]
    exclude = meso("clear", str(patient), "age-under-18", "--by", "A", "--reason", "r", *on)
    assert exclude.returncode == 2 and "age-under-18 is an exclude rule" in exclude.stderr
    defer = meso("clear", str(patient), "nsaid-washout", "--by", "A", "--reason", "r", *on)
    assert defer.returncode == 2 and "nsaid-washout is a defer rule" in defer.stderr
    no_reason = meso("clear", str(patient), "anticoagulant", "--by", "A", *on)
    assert no_reason.returncode == 2 and "give --reason" in no_reason.stderr
    no_one = meso("clear", str(patient), "anticoagulant", "--reason", "r", *on)
    assert no_one.returncode == 2 and "give --by NAME" in no_one.stderr
    nothing = meso("clear", str(patient), "age-over-75", "--by", "A", "--reason", "r", *on)
    assert nothing.returncode == 2 and "no review finding of age-over-75" in nothing.stderr
    typo = meso("clear", str(patient), "anticoagulent", "--by", "A", "--reason", "r", *on)
    assert typo.returncode == 2 and "did you mean 'anticoagulant'" in typo.stderr
    control = meso("clear", str(patient), "anticoagulant", "--by", "A\x1b[2J", "--reason", "r", *on)
    assert control.returncode == 2 and "control character U+001B" in control.stderr
    assert patient.read_bytes() == before
    stdin = meso("clear", "-", "anticoagulant", "--by", "A", "--reason", "r", *on)
    assert stdin.returncode == 2 and "standard input cannot be edited" in stdin.stderr


def test_a_file_changed_on_disk_since_it_was_read_is_refused(patient: Path) -> None:
    record = open_record(str(patient), on=date(2026, 12, 1))
    text = with_session(record, date(2026, 12, 1))
    expected = record.patient.model_copy(
        update={"sessions_done": [date(2026, 11, 24), date(2026, 12, 1)]}
    )
    patient.write_text(COMMENTED.replace("Keep this note.", "Edited meanwhile."))
    with pytest.raises(MesoError, match="changed on disk since it was read; nothing written"):
        save(record, text, expected, on=date(2026, 12, 1))
    assert "Edited meanwhile." in patient.read_text()


def test_json_files_are_edited_as_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        '{\n  "id": "P-8",\n  "age": 40,\n  "sex": "male",\n  "medications": ["warfarin"]\n}\n'
    )
    done = meso("clear", str(path), "anticoagulant", "--by", "Dr. Ada", "--reason", "ok",
                "--on", "2026-12-01")  # fmt: skip
    assert done.returncode == 0, done.stderr
    added = meso("session", "add", str(path), "-p", "hair", "--on", "2026-12-01")
    assert added.returncode == 0, added.stderr
    assert json.loads(path.read_text()) == {
        "id": "P-8",
        "age": 40,
        "sex": "male",
        "medications": ["warfarin"],
        "clearances": [
            {"rule": "anticoagulant", "matched": "warfarin", "by": "Dr. Ada",
             "on": "2026-12-01", "reason": "ok"}
        ],
        "sessions_done": ["2026-12-01"],
    }  # fmt: skip
    assert path.read_text().startswith('{\n  "id": "P-8",\n')


def test_windows_line_ends_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    old = b"\xef\xbb\xbf# note\r\nage: 40\r\nsex: male\r\nsessions_done:\r\n  - 2026-11-24\r\n"
    path.write_bytes(old)
    done = meso("session", "add", str(path), "-p", "hair", "--on", "2026-12-01")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == old + b"  - 2026-12-01\r\n"


def test_a_flow_list_grows_in_place_and_the_note_says_so(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "age: 40   # years\nsessions_done: [2026-11-17, 2026-11-24]  # so far\nsex: male\n"
    )
    done = meso("session", "add", str(path), "-p", "hair", "--on", "2026-12-01")
    assert done.returncode == 0, done.stderr
    assert path.read_text() == (
        "age: 40   # years\nsessions_done: [2026-11-17, 2026-11-24, 2026-12-01] # so far\n"
        "sex: male\n"
    )
    assert "line 2 of" in done.stderr


def test_a_backdated_session_goes_in_date_order(patient: Path) -> None:
    meso("session", "add", str(patient), "-p", "hair", "--on", "2026-12-08",
         "--clear", "anticoagulant")  # fmt: skip
    done = meso("session", "add", str(patient), "2026-12-01", "-p", "hair", "--on", "2026-12-09",
                "--clear", "anticoagulant")  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = patient.read_text()
    assert "  - 2026-11-24     # first session, went well\n  - 2026-12-01\n  - 2026-12-08\n" in text


@pytest.mark.parametrize(
    ("args", "edits"),
    [
        (["screen", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22"], False),
        (["plan", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22"], False),
        (["session", "add", "PATIENT", "-p", "hair", "--on", "2026-12-01", "--force"], True),
    ],
)
def test_only_the_editing_commands_load_ruamel(args: list[str], edits: bool, patient: Path) -> None:
    from test_layering import MAIN, loaded_after

    args = [str(patient) if a == "PATIENT" else a for a in args]
    mods, done = loaded_after(MAIN.format(args=args))
    assert "exit" in done.stderr, done.stderr
    assert ("ruamel" in mods) is edits, done.stderr
