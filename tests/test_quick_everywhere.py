"""The quick-screen options on plan and handout, --sex among them, and --save."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "patient.yaml")
ON = ["--on", "2026-11-22"]


def meso(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        cwd=cwd,
    )


def test_plan_without_a_file(tmp_path: Path) -> None:
    done = meso("plan", "--age", "44", "--sex", "female", "--not-pregnant", "--not-breastfeeding",
                "--medication", "ibuprofen@2026-11-30", "-p", "hair", *ON, "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    plan: dict[str, Any] = json.loads(done.stdout)
    assert plan["sessions"][0]["date"] == "2026-12-07"  # 7 days after the last dose, a Monday
    assert plan["screening"]["findings"][0]["rule"] == "nsaid-washout"


def test_plan_over_a_file_reports_what_the_options_changed() -> None:
    done = meso("plan", EXAMPLE, "-p", "hair", *ON, "--medication", "warfarin", "--json")
    assert done.returncode == 3, done.stderr  # a blood thinner: review
    assert "meso: note: from the command line: medication warfarin added" in done.stderr
    cleared = meso("plan", EXAMPLE, "-p", "hair", *ON, "--medication", "warfarin",
                   "--clear", "anticoagulant", "--brief")  # fmt: skip
    assert cleared.returncode == 0, cleared.stderr
    assert "[anticoagulant] warfarin, taken now — CLEARED" in " ".join(cleared.stdout.split())


def test_handout_from_the_quick_options(tmp_path: Path) -> None:
    out = tmp_path / "h.md"
    done = meso("handout", "--birth-date", "1980-02-29", "--sex", "male", "-p", "hair", *ON,
                "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "23 Nov 2026" in out.read_text()  # the first session, the Monday after


def test_sex_is_checked_like_the_files(tmp_path: Path) -> None:
    done = meso("screen", "--age", "40", "--sex", "fmale", *ON)
    assert done.returncode == 2
    assert "sex" in done.stderr and "female" in done.stderr
    as_json = meso("screen", "--age", "40", "--sex", "Male", *ON, "--json")
    assert as_json.returncode == 0, as_json.stderr


@pytest.mark.parametrize("command", ["screen", "plan", "handout"])
def test_save_writes_the_patient_the_options_describe(tmp_path: Path, command: str) -> None:
    target = tmp_path / "new.yaml"
    args = [command, "--age", "52", "--sex", "female", "--not-pregnant", "--medication",
            "ibuprofen@2026-11-20", "--condition", "thinning hair", "--id", "P-9", "-p",
            "hair", *ON, "--save", str(target)]  # fmt: skip
    if command == "handout":
        args += ["-o", str(tmp_path / "h.md")]
    done = meso(*args)
    assert done.returncode in (0, 4), done.stderr
    assert f"meso: wrote the patient file {target}" in done.stderr
    assert target.read_text() == (
        "id: P-9\n"
        "age: 52\n"
        "sex: female\n"
        "pregnant: false\n"
        "conditions:\n"
        "  - thinning hair\n"
        "medications:\n"
        "  - {name: ibuprofen, last_dose: 2026-11-20}\n"
    )
    # read back, it screens the same as the options did
    again = meso("screen", str(target), "-p", "hair", *ON, "--json")
    first = meso("screen", "--age", "52", "--sex", "female", "--not-pregnant", "--medication",
                 "ibuprofen@2026-11-20", "--condition", "thinning hair", "--id", "P-9", "-p",
                 "hair", *ON, "--json")  # fmt: skip
    assert json.loads(again.stdout) == json.loads(first.stdout)
    # never over an existing file without --force
    refused = meso(*args)
    assert refused.returncode == 2
    assert "the file exists; add --force to replace it" in refused.stderr
    forced = meso(*args, "--force", "--age", "53")
    assert forced.returncode in (0, 4), forced.stderr
    assert "age: 53\n" in target.read_text()


def test_save_over_a_file_keeps_its_values_and_refuses_the_file_itself(tmp_path: Path) -> None:
    source = tmp_path / "p.yaml"
    source.write_text(Path(EXAMPLE).read_text())
    target = tmp_path / "p.json"
    done = meso("screen", str(source), "--medication", "warfarin", *ON, "--save", str(target))
    assert done.returncode == 3, done.stderr
    saved = json.loads(target.read_text())
    assert (
        saved["id"] == "P-0042"
        and {"name": "ibuprofen", "last_dose": "2026-11-20"} in (saved["medications"])
    )
    assert "warfarin" in saved["medications"]
    same = meso("screen", str(source), "--fever", *ON, "--save", str(source), "--force")
    assert same.returncode == 2
    assert "that is the file the patient was read from" in same.stderr
    assert source.read_text() == Path(EXAMPLE).read_text()
