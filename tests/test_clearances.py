"""Clearances recorded in the patient file: honoured for the entry they name, shown with who,
when and why; the patient's name stays out of batch output."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from meso_cli.errors import MesoError
from meso_cli.models import Dataset, Patient, Verdict
from meso_cli.screening import screen

ON = date(2026, 11, 22)
WARFARIN = {
    "rule": "anticoagulant",
    "matched": "Warfarin",
    "by": "Dr Ada Yilmaz",
    "on": "2026-11-20",
    "reason": "prescriber agrees; INR stable",
}


def patient(**fields: Any) -> Patient:
    return Patient.model_validate({"id": "P-1", "birth_date": "1988-03-14", **fields})


def test_a_recorded_clearance_clears_the_entry_it_names(data: Dataset) -> None:
    s = screen(
        patient(medications=["warfarin"], clearances=[WARFARIN]), data.protocol("hair"), data, on=ON
    )
    assert s.verdict is Verdict.ELIGIBLE
    (finding,) = s.findings
    assert finding.cleared and finding.clearance is not None
    assert finding.clearance.by == "Dr Ada Yilmaz"
    assert finding.clearance.reason == "prescriber agrees; INR stable"
    assert s.cleared == []  # nothing cleared with --clear this run


def test_a_new_entry_fires_the_rule_again(data: Dataset) -> None:
    who = patient(medications=["warfarin", "heparin"], clearances=[WARFARIN])
    s = screen(who, data.protocol("hair"), data, on=ON)
    assert s.verdict is Verdict.REVIEW
    by_name = {f.matched: f for f in s.findings}
    assert by_name["warfarin"].cleared
    assert not by_name["heparin"].cleared and by_name["heparin"].clearance is None


def test_a_clearance_is_not_in_force_before_its_day(data: Dataset) -> None:
    who = patient(medications=["warfarin"], clearances=[WARFARIN])
    s = screen(who, data.protocol("hair"), data, on=date(2026, 11, 19))
    assert s.verdict is Verdict.REVIEW


def test_an_age_review_stays_cleared_as_the_days_go_by(data: Dataset) -> None:
    old = {**WARFARIN, "rule": "age-over-75", "matched": "age 80 on 2026-11-20"}
    who = Patient.model_validate({"birth_date": "1946-01-01", "clearances": [old]})
    later = screen(who, data.protocol("hair"), data, on=date(2027, 3, 1))
    assert later.verdict is Verdict.ELIGIBLE
    assert later.findings[0].clearance is not None


def test_an_exclude_rule_in_the_clearances_is_refused(data: Dataset) -> None:
    who = patient(pregnant=True, clearances=[{**WARFARIN, "rule": "pregnancy"}])
    with pytest.raises(MesoError, match="pregnancy is an exclude rule and cannot be cleared"):
        screen(who, data.protocol("hair"), data, on=ON)


def test_an_unknown_rule_in_the_clearances_is_refused_with_a_suggestion(data: Dataset) -> None:
    who = patient(clearances=[{**WARFARIN, "rule": "anticoagulent"}])
    with pytest.raises(MesoError, match="did you mean 'anticoagulant'"):
        screen(who, data.protocol("hair"), data, on=ON)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("by", "", "at least 1 character"),
        ("reason", "ok\x1b[2J", "control character U+001B"),
        ("reason", "x" * 1001, "1001 characters; at most 1000"),
        ("on", "2026-13-01", "not a real date"),
    ],
)
def test_a_clearance_is_checked_like_the_rest_of_the_file(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    path = tmp_path / "p.json"
    body = {"age": 40, "medications": ["warfarin"], "clearances": [{**WARFARIN, field: value}]}
    path.write_text(json.dumps(body))
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "screen", str(path), "--on", "2026-11-22"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{path}:" in done.stderr and message in done.stderr, done.stderr


def test_the_output_says_who_cleared_what_when_and_why(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"age": 40, "medications": ["warfarin"], "clearances": [WARFARIN]}))
    args = [
        sys.executable,
        "-m",
        "meso_cli",
        "screen",
        str(path),
        "-p",
        "hair",
        "--on",
        "2026-11-22",
    ]
    human = subprocess.run(args, capture_output=True, text=True, timeout=60, env={"COLUMNS": "100"})
    assert human.returncode == 0, human.stderr
    assert "[anticoagulant]  CLEARED\n" in human.stdout
    assert "cleared by Dr Ada Yilmaz on 2026-11-20: prescriber agrees; INR stable" in human.stdout
    as_json = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=60)
    finding = json.loads(as_json.stdout)["findings"][0]
    assert finding["cleared"] is True
    assert finding["clearance"] == WARFARIN


def test_the_patients_name_never_reaches_batch_output(tmp_path: Path) -> None:
    lines = [
        {"id": "P-1", "name": "Ayşe Yılmaz", "age": 40, "medications": ["warfarin"]},
        {"id": "P-2", "name": "Ayşe Yılmaz", "age": "forty"},
        {"id": "P-3", "name": "Ayşe Yılmaz" * 30, "age": 40},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    for extra in ([], ["--plan"]):
        done = subprocess.run(
            [sys.executable, "-m", "meso_cli", "batch", str(source), "-p", "hair",
             "--on", "2026-11-22", "--jobs", "1", *extra],
            capture_output=True, text=True, timeout=60, encoding="utf-8",
        )  # fmt: skip
        assert done.returncode == 6, done.stderr
        assert len(done.stdout.splitlines()) == 3
        assert "Ayşe" not in done.stdout and "Ay\\u015fe" not in done.stdout
        assert "Ayşe" not in done.stderr
