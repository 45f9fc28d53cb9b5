"""The committed JSON Schemas match the models; real inputs and outputs validate against them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.documents import parse
from meso_cli.files import read_text

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
EXAMPLE = ROOT / "examples" / "patient.yaml"
NAMES = ("patient", "screening", "plan")

runner = CliRunner()


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return loaded


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def as_json_data(value: Any) -> Any:
    """YAML values as a JSON document would hold them: dates become YYYY-MM-DD strings."""
    if isinstance(value, dict):
        return {k: as_json_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_data(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("name", NAMES)
def test_committed_schema_matches_what_meso_schema_prints(name: str) -> None:
    result = runner.invoke(app, ["schema", name])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == schema(name), (
        f"schemas/{name}.schema.json is out of date: run "
        f"`meso schema {name} > schemas/{name}.schema.json`"
    )


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_draft_2020_12_with_an_id(name: str) -> None:
    found = schema(name)
    assert found["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert found["$id"].startswith(f"urn:meso:schema:{name}:")
    jsonschema.Draft202012Validator.check_schema(found)


def test_example_patient_validates_against_the_patient_schema() -> None:
    doc = parse(read_text(str(EXAMPLE)), str(EXAMPLE))
    validator("patient").validate(as_json_data(doc.value))


def test_patient_schema_rejects_an_unknown_key() -> None:
    errors = list(validator("patient").iter_errors({"age": 40, "colour": "blue"}))
    assert errors, "an unknown key must not validate"


@pytest.mark.parametrize(
    "record",
    [
        {"sex": "female"},
        {"age": None},
        {"age": 40, "medications": [{"name": "x", "last_dose": None}]},
        {"age": 40, "conditions": [""]},
        {"age": 40, "allergies": ["x" * 201]},
        {"age": 40, "medications": ["aspirin"] * 201},
        {"age": 40, "sessions_done": ["2026-11-02", "2026-11-02"]},
        {"age": 40, "id": ""},
    ],
    ids=[
        "neither-age-nor-birth-date",
        "null-age",
        "null-last-dose",
        "empty-name",
        "long-name",
        "too-many-entries",
        "same-session-twice",
        "empty-id",
    ],
)
def test_patient_schema_refuses_what_meso_refuses(record: dict[str, Any]) -> None:
    assert list(validator("patient").iter_errors(record)), f"{record} must not validate"
    result = runner.invoke(app, ["screen", "-", "--json"], input=json.dumps(record))
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("screening", {"schema_version", "meso_version", "data_version", "not_applicable"}),
        ("plan", {"schema_version", "meso_version", "start_moved_from"}),
    ],
)
def test_output_schemas_require_every_field_meso_always_writes(name: str, fields: set[str]) -> None:
    # A script may rely on a key being there, null or not: defaults are written too.
    assert fields <= set(schema(name)["required"])


def test_screen_json_validates_against_the_screening_schema() -> None:
    args = ["screen", str(EXAMPLE), "--protocol", "hair", "--on", "2026-11-22", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 4, result.output
    output = json.loads(result.stdout)
    validator("screening").validate(output)
    assert output["schema_version"] == "1"


def test_plan_json_validates_against_the_plan_schema() -> None:
    args = ["plan", str(EXAMPLE), "--protocol", "hair", "--on", "2026-11-22", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    validator("plan").validate(output)
    assert output["schema_version"] == "1"
    assert output["sessions"], "the example patient gets a plan"
