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
NAMES = ("patient", "screening", "plan", "batch-line")

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


def _properties(node: Any, name: str) -> list[dict[str, Any]]:
    """Every definition of property `name` anywhere in a schema."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and name in props:
            found.append(props[name])
        for value in node.values():
            found += _properties(value, name)
    elif isinstance(node, list):
        for value in node:
            found += _properties(value, name)
    return found


@pytest.mark.parametrize("name", ["screening", "plan", "batch-line"])
def test_every_output_schema_states_its_version_as_a_const_and_the_data_version_as_a_hash(
    name: str,
) -> None:
    found = schema(name)
    versions = _properties(found, "schema_version")
    assert versions and all(v.get("const") == "1" for v in versions)
    assert found["$id"].endswith(":1")
    hashes = _properties(found, "data_version")
    assert hashes and all(h.get("pattern") == "^[0-9a-f]{64}$" for h in hashes)
    check = validator(name)
    if name == "screening":
        screening = json.loads(
            runner.invoke(app, ["screen", str(EXAMPLE), "--on", "2026-11-22", "--json"]).stdout
        )
        check.validate(screening)
        for bad in ({"schema_version": "2"}, {"data_version": "not a hash"}):
            assert list(check.iter_errors({**screening, **bad})), bad


def test_rules_protocols_and_version_json_carry_the_versions() -> None:
    versions = json.loads(runner.invoke(app, ["--version", "--json"]).stdout)
    assert set(versions) == {"meso_version", "schema_version", "data_version"}
    assert json.loads(runner.invoke(app, ["--json", "--version"]).stdout) == versions
    alone = runner.invoke(app, ["--json"])
    assert alone.exit_code == 2 and "goes with --version" in alone.stderr
    assert versions["schema_version"] == "1" and len(versions["data_version"]) == 64
    for command, key in (("rules", "rules"), ("protocols", "protocols")):
        for args in (
            [command, "--json"],
            [command, "hair" if key == "protocols" else "cancer", "--json"],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
            listing = json.loads(result.stdout)
            assert {k: listing[k] for k in versions} == versions
            assert listing[key] and all("id" in item for item in listing[key])
