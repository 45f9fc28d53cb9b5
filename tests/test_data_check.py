"""`meso data check`: a broken copy of the data names file and line for each problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from meso_cli.cli import app
from meso_cli.files import packaged_data_dir

runner = CliRunner()
CONTRA = "contraindications.yaml"
PROTOS = "protocols.yaml"


def meso(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", **(env or {})})


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(packaged_data_dir(), target)
    return target


def line_of(text: str, marker: str) -> int:
    """1-based line of the only line holding `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def break_file(directory: Path, name: str, old: str, new: str, marker: str) -> int:
    """Replace `old` (which must occur once) by `new`; return the line that now holds `marker`."""
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return line_of(text, marker)


# Each: file, text replaced, its replacement, a marker on the line to be named, the message.
BREAKAGES = {
    "duplicate key": (
        CONTRA,
        "    title: Under 18 years of age\n",
        "    title: Under 18 years of age\n    title: Minors\n",
        "title: Minors",
        "duplicate key 'title'",
    ),
    "unknown key": (
        CONTRA,
        "    title: Over 75 years of age\n",
        "    title: Over 75 years of age\n    severity: high\n",
        "severity: high",
        "unknown key 'severity'",
    ),
    "wrong type": (
        CONTRA,
        "      - age_below: 18\n",
        "      - age_below: eighteen\n",
        "age_below: eighteen",
        "rules[0].when[0].age_below",
    ),
    "wrong type in a protocol": (
        PROTOS,
        "    session_minutes: 20\n",
        "    session_minutes: twenty\n",
        "session_minutes: twenty",
        "protocols[0].session_minutes",
    ),
    "missing rule named by a protocol": (
        PROTOS,
        "exempt_rules: [bleeding-disorder, anticoagulant, nsaid-washout]",
        "exempt_rules: [bleeding-disorder, anticoagulants, nsaid-washout]",
        "anticoagulants",
        "no rule 'anticoagulants' (did you mean 'anticoagulant'?)",
    ),
    "missing term named by a rule": (
        CONTRA,
        "      - conditions: [liver-disease, hepatitis-a]\n",
        "      - conditions: [liver-diseases, hepatitis-a]\n",
        "[liver-diseases, hepatitis-a]",
        "no condition term 'liver-diseases' (did you mean 'liver-disease'?)",
    ),
    "missing medication term in a compound rule": (
        CONTRA,
        "          - medications: [insulin, metformin, gliclazide,",
        "          - medications: [insulin, metformins, gliclazide,",
        "metformins, gliclazide",
        "no medication term 'metformins'",
    ),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_each_problem_names_file_and_exact_line(tmp_path: Path, case: str) -> None:
    name, old, new, marker, message = BREAKAGES[case]
    directory = copy_data(tmp_path)
    line = break_file(directory, name, old, new, marker)
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    expected = f"{directory / name}:{line}: "
    named = [row for row in result.stderr.splitlines() if expected in row]
    assert named, result.stderr
    assert message in named[0], result.stderr


def test_problems_in_both_files_are_all_listed(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    lines = [
        break_file(directory, *BREAKAGES[case][:4])
        for case in ("unknown key", "wrong type in a protocol")
    ]
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert f"{directory / CONTRA}:{lines[0]}: " in result.stderr
    assert f"{directory / PROTOS}:{lines[1]}: " in result.stderr


def test_a_missing_required_rule_is_named(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    path = directory / CONTRA
    text = path.read_text(encoding="utf-8")
    text = text.replace("  - id: cardiac-polypharmacy\n", "  - id: cardiac-many-drugs\n")
    path.write_text(text, encoding="utf-8")
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert "required rule 'cardiac-polypharmacy' is missing" in result.stderr


def test_a_missing_file_or_directory_is_named(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    (directory / PROTOS).unlink()
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert f"{directory / PROTOS}: no such file" in result.stderr
    missing = meso("data", "check", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2, missing.output
    assert "data directory not found" in missing.stderr


def test_the_shipped_data_passes() -> None:
    result = meso("data", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 20 rules, 9 protocols, ")


def test_an_unbroken_copy_passes(tmp_path: Path) -> None:
    result = meso("data", "check", str(copy_data(tmp_path)))
    assert result.exit_code == 0, result.output


# --- --data-dir and MESO_DATA_DIR switch the data for every command -------------------------


def clinic_copy(tmp_path: Path) -> Path:
    """A clinic's copy in which the over-75 rule is called something the clinic chose."""
    directory = copy_data(tmp_path)
    break_file(
        directory,
        CONTRA,
        "    title: Over 75 years of age\n",
        "    title: Older than 75 (clinic copy)\n",
        "clinic copy",
    )
    return directory


def titles(result: Result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    return {r["id"]: r["title"] for r in json.loads(result.stdout)["rules"]}


def test_data_dir_option_switches_the_rules(tmp_path: Path) -> None:
    directory = clinic_copy(tmp_path)
    assert titles(meso("rules", "--json"))["age-over-75"] == "Over 75 years of age"
    shown = titles(meso("rules", "--json", "--data-dir", str(directory)))
    assert shown["age-over-75"] == "Older than 75 (clinic copy)"


def test_meso_data_dir_variable_switches_the_rules(tmp_path: Path) -> None:
    directory = clinic_copy(tmp_path)
    shown = titles(meso("rules", "--json", env={"MESO_DATA_DIR": str(directory)}))
    assert shown["age-over-75"] == "Older than 75 (clinic copy)"
    checked = meso("data", "check", env={"MESO_DATA_DIR": str(directory)})
    assert checked.exit_code == 0, checked.output


def test_a_broken_data_dir_stops_every_command_with_exit_2(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    line = break_file(directory, *BREAKAGES["unknown key"][:4])
    for args in (["rules", "--json"], ["protocols"], ["screen", "-", "--json"]):
        result = runner.invoke(
            app, [*args, "--data-dir", str(directory)], input="age: 40\n", env={"NO_COLOR": "1"}
        )
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert f"{directory / CONTRA}:{line}: " in result.stderr
