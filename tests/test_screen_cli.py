"""`meso screen` through the CLI: verdicts, exit codes, JSON on stdout only, stdin, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from meso_cli.cli import app

ON = "2026-11-22"
runner = CliRunner()


def meso(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, env={"NO_COLOR": "1", "COLUMNS": "80"})


def write(tmp_path: Path, text: str, name: str = "patient.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def screen_json(*args: str, input: str | None = None, code: int) -> dict[str, Any]:
    result = meso("screen", *args, "--json", input=input)
    assert result.exit_code == code, result.output
    document = json.loads(result.stdout)  # stdout holds JSON and nothing else
    assert isinstance(document, dict)
    return document


BASE = "id: P-1\nbirth_date: 1980-05-02\npregnant: false\nbreastfeeding: false\nfever: false\n"


def test_ibuprofen_two_days_ago_defers_to_day_7_exit_4(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "medications:\n  - {name: ibuprofen, last_dose: 2026-11-20}\n")
    out = screen_json(path, "--on", ON, code=4)
    assert out["verdict"] == "deferred"
    assert out["earliest_start"] == "2026-11-27"
    assert out["reference_date"] == ON
    assert out["patient_id"] == "P-1"
    assert out["protocol"] is None
    (finding,) = out["findings"]
    assert finding["rule"] == "nsaid-washout"
    assert finding["action"] == "defer"
    assert finding["matched"] == "ibuprofen"
    assert finding["until"] == "2026-11-27"
    assert finding["cleared"] is False
    assert "000_83a82c1e611c96ee.txt" in finding["sources"]
    assert len(out["data_version"]) == 64


def test_screening_json_has_every_field_of_the_spec(tmp_path: Path) -> None:
    out = screen_json(write(tmp_path, BASE), "--on", ON, "-p", "hair", code=0)
    assert {
        "patient_id",
        "protocol",
        "reference_date",
        "verdict",
        "earliest_start",
        "findings",
        "data_version",
    } <= set(out)
    assert out["verdict"] == "eligible"
    assert out["earliest_start"] == ON
    assert out["findings"] == []
    assert out["assumed"] == []


def test_coumadin_needs_review_exit_3_and_clearing_it_gives_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "medications: [Coumadin]\n")
    review = screen_json(path, "--on", ON, code=3)
    assert review["verdict"] == "review"
    (finding,) = review["findings"]
    assert (finding["rule"], finding["matched"], finding["cleared"]) == (
        "anticoagulant",
        "Coumadin",
        False,
    )
    assert "consult the prescriber" in finding["advice"]

    cleared = screen_json(path, "--on", ON, "--clear", "anticoagulant", code=0)
    assert cleared["verdict"] == "eligible"
    assert cleared["cleared"] == ["anticoagulant"]
    assert cleared["findings"][0]["cleared"] is True


def test_pregnant_is_not_eligible_exit_5_without_a_start(tmp_path: Path) -> None:
    path = write(tmp_path, "birth_date: 1990-01-01\npregnant: true\n")
    out = screen_json(path, "--on", ON, code=5)
    assert out["verdict"] == "not_eligible"
    assert out["earliest_start"] is None
    # The exclusion first; breastfeeding left out is asked, not taken as no.
    assert [f["rule"] for f in out["findings"]] == ["pregnancy", "status-not-stated"]
    assert out["findings"][1]["detail"] == (
        "breastfeeding not stated in the patient file (sex: not given)"
    )


def test_unknown_condition_needs_review_with_suggestions(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "conditions: [diabetis]\nmedications: [warfarine]\n")
    out = screen_json(path, "--on", ON, code=3)
    assert out["verdict"] == "review"
    found = {f["matched"]: f for f in out["findings"]}
    assert set(found) == {"diabetis", "warfarine"}
    assert {f["rule"] for f in found.values()} == {"unrecognized-term"}
    assert "diabetes" in found["diabetis"]["suggestions"]
    assert found["warfarine"]["suggestions"][0] == "warfarin"
    assert all(len(f["suggestions"]) <= 3 for f in found.values())


def test_human_output_goes_to_stdout_with_the_same_exit_code(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "medications: [Coumadin]\n")
    result = meso("screen", path, "--on", ON)
    assert result.exit_code == 3, result.output
    assert result.stdout.startswith("? REVIEW REQUIRED")
    assert "→ Do not stop a prescribed blood thinner" in result.stdout
    assert result.stderr == ""


COUMADIN = {"id": "P-1", "birth_date": "1980-05-02", "sex": "male", "medications": ["Coumadin"]}


@pytest.mark.parametrize(
    "text",
    [
        BASE + "medications: [Coumadin]\n",
        json.dumps(COUMADIN),
        json.dumps(COUMADIN, indent=2),
    ],
    ids=["yaml", "json", "json-indented"],
)
def test_stdin_takes_yaml_or_json(text: str) -> None:
    out = screen_json("-", "--on", ON, input=text, code=3)
    assert out["patient_id"] == "P-1"
    assert out["findings"][0]["matched"] == "Coumadin"


def test_a_json_file_is_read_like_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"age": 40, "sex": "male", "fever": True}), name="p.json")
    out = screen_json(path, "--on", ON, code=4)
    assert out["verdict"] == "deferred"
    assert out["earliest_start"] is None


def test_protocol_choice_is_reported_and_applies_its_exemptions(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "medications: [warfarin]\nconditions: [haemophilia]\n")
    out = screen_json(path, "--on", ON, "--protocol", "no-needle", code=0)
    assert out["protocol"] == "no-needle"
    assert out["findings"] == []
    assert out["not_applicable"] == ["anticoagulant", "bleeding-disorder", "nsaid-washout"]
    assert screen_json(path, "--on", ON, "-p", "hair", code=5)["verdict"] == "not_eligible"


def test_allergy_is_checked_against_the_chosen_protocol(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "allergies: [finasteride]\n")
    assert screen_json(path, "--on", ON, "-p", "hair", code=5)["verdict"] == "not_eligible"
    assert screen_json(path, "--on", ON, code=3)["verdict"] == "review"


# --- errors: exit 2, one message on stderr, nothing on stdout, no traceback -------------------


def error(*args: str, input: str | None = None) -> str:
    result = meso(*args, input=input)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.stderr.startswith("meso: error: "), result.stderr
    return result.stderr


def test_clearing_an_exclude_rule_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "age: 16\npregnant: true\n")
    message = error("screen", path, "--on", ON, "--clear", "age-under-18", "--json")
    assert "only review findings can be cleared" in message


def test_clearing_an_unknown_rule_suggests_the_right_one(tmp_path: Path) -> None:
    message = error("screen", write(tmp_path, "age: 30\n"), "--clear", "anticoagulants")
    assert "unknown rule 'anticoagulants'" in message
    assert "did you mean 'anticoagulant'" in message


def test_unknown_protocol_suggests_the_right_one(tmp_path: Path) -> None:
    message = error("screen", write(tmp_path, "age: 30\n"), "--protocol", "hiar")
    assert "unknown protocol 'hiar'" in message and "'hair'" in message


def test_bad_reference_date(tmp_path: Path) -> None:
    message = error("screen", write(tmp_path, "age: 30\n"), "--on", "22/11/2026")
    assert "--on '22/11/2026': expected a date as YYYY-MM-DD" in message


def test_missing_file() -> None:
    assert "no-such.yaml: no such file" in error("screen", "no-such.yaml")


def test_invalid_patient_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "age: 30\nmedicatoins: [warfarin]\n")
    message = error("screen", path, "--json")
    assert f"{path}:2:" in message
    assert "unknown key 'medicatoins'" in message
    assert "did you mean 'medications'" in message


def test_patient_without_age_or_birth_date(tmp_path: Path) -> None:
    assert "give birth_date or age" in error("screen", write(tmp_path, "pregnant: false\n"))


def test_bad_stdin_names_stdin() -> None:
    message = error("screen", "-", input="age: [30\n")
    assert "<stdin>:" in message and "invalid YAML" in message
