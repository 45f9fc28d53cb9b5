"""Browse and check the data: `meso rules`, `meso protocols`, `meso data check`, `meso schema`."""

from __future__ import annotations

import json as jsonlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import DataDir, Json, app, load, out, protocol_named, show
from meso_cli.errors import unknown

if TYPE_CHECKING:
    from pydantic import BaseModel


@app.command()
def rules(
    rule_id: Annotated[
        str | None,
        typer.Argument(help="One rule id to show in full.", autocompletion=complete.rules),
    ] = None,
    json: Json = False,
    data_dir: DataDir = None,
) -> None:
    """List the contraindication rules with action and sources, or show one in full.

    Examples:

      meso rules

      meso rules anticoagulant

      meso rules --json | jq -r '.[] | [.id, .action] | @tsv'
    """
    from meso_cli.render.json import list_to_json, to_json

    data = load(data_dir)
    found = None
    if rule_id is not None:
        found = data.rule(rule_id)
        if found is None:
            raise unknown("rule", rule_id, (r.id for r in data.rules))
    if json:
        out(to_json(found) if found else list_to_json(data.rules))
        return
    from meso_cli.render import human  # Rich only for people: `--json` stays light

    show(human.rule_view(found) if found else human.rules_table(data.rules))


@app.command()
def protocols(
    protocol_id: Annotated[
        str | None,
        typer.Argument(help="One protocol id to show.", autocompletion=complete.protocols),
    ] = None,
    json: Json = False,
    data_dir: DataDir = None,
) -> None:
    """List the protocols and their course of sessions, or show one in full.

    Examples:

      meso protocols

      meso protocols hair

      meso protocols --json | jq '.[] | {id, phases: [.phases[].sessions.default]}'
    """
    from meso_cli.render.json import list_to_json, to_json

    data = load(data_dir)
    found = protocol_named(data, protocol_id)
    if json:
        out(to_json(found) if found else list_to_json(data.protocols))
        return
    from meso_cli.render import human  # Rich only for people: `--json` stays light

    show(human.protocol_view(found, data) if found else human.protocols_table(data.protocols))


data_app = typer.Typer(help="Work with the clinical data files.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Data directory (default: --data-dir, MESO_DATA_DIR or shipped)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Validate a data directory: every problem as file:line: what is wrong.

    Exit 0 when valid, 2 otherwise.

    Examples:

      meso data check

      meso data check ./clinic-data
    """
    data = load(directory or data_dir)
    terms = sum(len(t) for t in data.terms.values())
    coded = sum(1 for kind in data.terms.values() for t in kind if any(t.codes.entries()))
    out(
        f"ok: {len(data.rules)} rules, {len(data.protocols)} protocols, {terms} terms, "
        f"{coded} of them coded (data_version {data.version[:12]})\n"
    )


class SchemaName(StrEnum):
    patient = "patient"
    screening = "screening"
    plan = "plan"


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="patient, screening or plan.")],
) -> None:
    """Print the JSON Schema (draft 2020-12) of the patient file or of a JSON output.

    Examples:

      meso schema patient > patient.schema.json

      meso schema screening
    """
    from meso_cli.models import Patient, Plan, Screening
    from meso_cli.render.json import schema_of

    models: dict[str, type[BaseModel]] = {
        "patient": Patient,
        "screening": Screening,
        "plan": Plan,
    }
    model = models[name.value]
    mode = "validation" if name is SchemaName.patient else "serialization"
    out(jsonlib.dumps(schema_of(model, name.value, mode=mode), indent=2) + "\n")
