"""FHIR and CDS Hooks out: `meso plan --format fhir` (a Bundle with a CarePlan and a
DetectedIssue per finding, read back with fhir.resources) and `meso screen --format cds-hooks`
(a cards response that validates against the committed schema)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.detectedissue import DetectedIssue
from typer.testing import CliRunner, Result

from meso_cli.cli import app
from meso_cli.render.fhir import check_bundle

ON = "2026-11-22"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "patient.yaml")
CARDS_SCHEMA = json.loads((ROOT / "schemas" / "cds-hooks-cards.schema.json").read_text("utf-8"))
runner = CliRunner()


def meso(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "80"})


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "patient.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_json(*args: str, code: int) -> dict[str, Any]:
    result = meso(*args)
    assert result.exit_code == code, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, dict)
    return out


def read_back(document: dict[str, Any]) -> tuple[CarePlan, list[tuple[str, DetectedIssue]]]:
    bundle = Bundle.model_validate_json(json.dumps(document))
    plans = [e.resource for e in bundle.entry or [] if isinstance(e.resource, CarePlan)]
    issues = [
        (str(e.fullUrl), e.resource)
        for e in bundle.entry or []
        if isinstance(e.resource, DetectedIssue)
    ]
    (care_plan,) = plans
    return care_plan, issues


def fields(resource: DetectedIssue) -> dict[str, Any]:
    """A resource read back by fhir.resources, as the JSON values it holds."""
    out = json.loads(resource.model_dump_json())
    assert isinstance(out, dict)
    return out


# --- meso plan --format fhir -------------------------------------------------------------------


def test_the_fhir_bundle_round_trips_to_the_same_sessions_and_findings() -> None:
    plain = run_json("plan", EXAMPLE, "-p", "hair", "--on", ON, "--json", code=0)
    fhir = run_json("plan", EXAMPLE, "-p", "hair", "--on", ON, "--format", "fhir", code=0)
    care_plan, issues = read_back(fhir)
    sessions = [
        (
            str(a.detail.scheduledPeriod.start),
            "completed" if a.detail.status == "completed" else "to come",
        )
        for a in care_plan.activity or []
        if a.detail is not None and a.detail.scheduledPeriod is not None
    ]
    assert sessions == [
        (s["date"], "completed" if s["done"] else "to come") for s in plain["sessions"]
    ]
    findings = []
    for _, issue in issues:
        read = fields(issue)
        evidence = read["evidence"][0]
        findings.append(
            (
                read["code"]["coding"][0]["code"],
                read["severity"],
                read["detail"],
                evidence["code"][0]["text"],
                [d["display"] for d in evidence["detail"]],
            )
        )
    severity = {"exclude": "high", "review": "moderate", "defer": "low"}
    assert findings == [
        (f["rule"], severity[f["action"]], f["detail"], f["matched"], f["sources"])
        for f in plain["screening"]["findings"]
    ]
    assert [ref.reference for ref in care_plan.supportingInfo or []] == [u for u, _ in issues]
    aftercare = [n.text for n in care_plan.note or []]
    assert aftercare[: len(plain["aftercare"])] == plain["aftercare"]


def test_the_bundle_says_which_tool_and_data_made_it() -> None:
    plain = run_json("plan", EXAMPLE, "-p", "hair", "--on", ON, "--json", code=0)
    fhir = run_json("plan", EXAMPLE, "-p", "hair", "--on", ON, "--format", "fhir", code=0)
    codes = [t["code"] for t in fhir["meta"]["tag"]]
    assert codes == [f"meso-{plain['meso_version']}", f"data-{plain['screening']['data_version']}"]
    for entry in fhir["entry"]:
        assert entry["resource"]["meta"]["tag"] == fhir["meta"]["tag"]


def test_the_bundle_is_the_same_for_the_same_input() -> None:
    args = ("plan", EXAMPLE, "-p", "hair", "--on", ON, "--format", "fhir")
    assert meso(*args).stdout == meso(*args).stdout


def test_a_done_session_is_completed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "age: 40\nsex: male\nsessions_done: [2026-11-03, 2026-11-10]\n",
    )
    fhir = run_json("plan", path, "-p", "hair", "--on", "2026-11-16", "--format", "fhir", code=0)
    care_plan, _ = read_back(fhir)
    statuses = [a.detail.status for a in care_plan.activity or [] if a.detail is not None]
    assert statuses[:3] == ["completed", "completed", "scheduled"]
    assert len(statuses) == 10


def test_severity_follows_the_action_and_a_cleared_review_is_mitigated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "age: 40\nsex: male\nmedications: [warfarin, {name: ibuprofen, last_dose: 2026-11-21}]\n",
    )
    fhir = run_json(
        "plan", path, "-p", "hair", "--on", ON, "--clear", "anticoagulant",
        "--format", "fhir", code=0,
    )  # fmt: skip
    _, issues = read_back(fhir)
    by_rule = {fields(issue)["code"]["coding"][0]["code"]: issue for _, issue in issues}
    assert by_rule["anticoagulant"].severity == "moderate"
    assert by_rule["anticoagulant"].mitigation is not None
    assert by_rule["nsaid-washout"].severity == "low"


def test_no_plan_still_writes_the_care_plan_and_its_issues(tmp_path: Path) -> None:
    path = write(tmp_path, "age: 40\nsex: male\nconditions: [type 2 diabetes]\n")
    fhir = run_json("plan", path, "-p", "hair", "--on", ON, "--format", "fhir", code=5)
    care_plan, issues = read_back(fhir)
    assert care_plan.activity is None
    assert [issue.severity for _, issue in issues] == ["high"]
    assert any("no plan" in (n.text or "") for n in care_plan.note or [])


def test_code_values_are_checked_since_fhir_resources_does_not() -> None:
    fhir = run_json("plan", EXAMPLE, "-p", "hair", "--on", ON, "--format", "fhir", code=0)
    check_bundle(fhir)
    wrong = copy.deepcopy(fhir)
    wrong["entry"][1]["resource"]["severity"] = "critical"
    Bundle.model_validate(wrong)  # fhir.resources lets it through...
    with pytest.raises(ValueError, match="severity"):
        check_bundle(wrong)  # ...meso does not
    wrong = copy.deepcopy(fhir)
    wrong["entry"][0]["resource"]["activity"][0]["detail"]["status"] = "done"
    with pytest.raises(ValueError, match="status"):
        check_bundle(wrong)


def test_json_and_another_format_together_are_refused() -> None:
    result = meso("plan", EXAMPLE, "-p", "hair", "--json", "--format", "fhir")
    assert result.exit_code == 2
    assert "two outputs" in result.stderr


# --- meso screen --format cds-hooks ------------------------------------------------------------


def cards(path: str, *extra: str, code: int) -> dict[str, Any]:
    out = run_json("screen", path, "--on", ON, "--format", "cds-hooks", *extra, code=code)
    jsonschema.Draft202012Validator(CARDS_SCHEMA).validate(out)
    return out


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(CARDS_SCHEMA)


def test_cards_one_per_finding_with_indicators(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "age: 40\nsex: male\nconditions: [type 2 diabetes]\n"
        "medications: [warfarin, {name: ibuprofen, last_dose: 2026-11-21}]\n",
    )
    out = cards(path, "-p", "hair", code=5)
    indicators = {c["source"].get("topic", {}).get("code"): c["indicator"] for c in out["cards"]}
    assert indicators["diabetes"] == "critical"
    assert indicators["anticoagulant"] == "warning"
    assert indicators["nsaid-washout"] == "warning"
    for card in out["cards"]:
        assert len(card["summary"]) < 140
    diabetes = next(
        c for c in out["cards"] if c["source"].get("topic", {}).get("code") == "diabetes"
    )
    assert "001 (untitled) Mesotherapy" in diabetes["source"]["label"]
    assert "002 What Is Mesotherapy?" in diabetes["source"]["label"]
    assert "type 2 diabetes" in diabetes["detail"]


def test_an_eligible_patient_gets_an_info_card(tmp_path: Path) -> None:
    path = write(
        tmp_path, "age: 40\nsex: male\npregnant: false\nbreastfeeding: false\nfever: false\n"
    )
    out = cards(path, "-p", "hair", code=0)
    card, assumed = out["cards"]  # the age without a birth date is an assumption
    assert assumed["summary"] == "1 fact assumed: confirm it with the patient"
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Eligible for hair")


def test_card_uuids_are_stable_for_the_same_input_and_differ_otherwise(tmp_path: Path) -> None:
    first = cards(EXAMPLE, "-p", "hair", code=4)
    again = cards(EXAMPLE, "-p", "hair", code=4)
    assert [c["uuid"] for c in first["cards"]] == [c["uuid"] for c in again["cards"]]
    other = cards(EXAMPLE, "-p", "cellulite", code=4)
    assert first["cards"][0]["uuid"] != other["cards"][0]["uuid"]


def test_the_response_says_which_tool_and_data_made_it() -> None:
    plain = run_json("screen", EXAMPLE, "-p", "hair", "--on", ON, "--json", code=4)
    out = cards(EXAMPLE, "-p", "hair", code=4)
    meta = out["extension"]["meso"]
    assert meta["meso_version"] == plain["meso_version"]
    assert meta["data_version"] == plain["data_version"]
    assert meta["verdict"] == "deferred"


def test_a_long_summary_is_cut_below_140_characters(tmp_path: Path) -> None:
    long_name = "an unheard-of condition " * 6
    path = write(tmp_path, f"age: 40\nsex: male\nconditions: ['{long_name.strip()}']\n")
    out = cards(path, code=3)
    summary = out["cards"][0]["summary"]
    assert len(summary) == 139 and summary.endswith("…")


def test_a_fhir_bundle_in_and_cards_out() -> None:
    out = cards(str(ROOT / "examples" / "patient.fhir.json"), "-p", "hair", code=4)
    assumed = next(c for c in out["cards"] if "assumed" in c["summary"])
    assert "1 Immunization not read" in assumed["detail"]


def test_fhir_dates_are_plain_days() -> None:
    fhir = run_json("plan", EXAMPLE, "-p", "hair", "--on", ON, "--format", "fhir", code=0)
    first = fhir["entry"][0]["resource"]["activity"][0]["detail"]["scheduledPeriod"]["start"]
    assert date.fromisoformat(first) == date(2026, 11, 27)
