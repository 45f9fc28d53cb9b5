"""Browse and check the data: `meso rules`, `meso protocols`, `meso data check`, `meso schema`."""

from __future__ import annotations

import json as jsonlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import DataDir, Json, app, load, out, protocol_named, show
from meso_cli.errors import unknown


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

      meso rules --json | jq -r '.rules[] | [.id, .action] | @tsv'
    """
    data = load(data_dir)
    found = None
    if rule_id is not None:
        found = data.rule(rule_id)
        if found is None:
            raise unknown("rule", rule_id, (r.id for r in data.rules))
    if json:
        from meso_cli import __version__
        from meso_cli.models import RuleListing
        from meso_cli.render.json import to_json

        shown = [found] if found else data.rules
        cited = {s for r in shown for s in r.sources}
        titles = {f: t for f, t in data.sources.items() if f in cited}
        listing = RuleListing(
            rules=shown, sources=titles, data_version=data.version, meso_version=__version__
        )
        out(to_json(listing))
        return
    from meso_cli.render import human  # Rich only for people: `--json` stays light

    show(
        human.rule_view(found, data.sources)
        if found
        else human.rules_table(data.rules, data.sources)
    )


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

      meso protocols --json | jq '.protocols[] | {id, phases: [.phases[].sessions.default]}'
    """
    data = load(data_dir)
    found = protocol_named(data, protocol_id)
    if json:
        from meso_cli import __version__
        from meso_cli.models import ProtocolListing
        from meso_cli.render.json import to_json

        listing = ProtocolListing(
            protocols=[found] if found else data.protocols,
            data_version=data.version,
            meso_version=__version__,
        )
        out(to_json(listing))
        return
    from meso_cli.render import human  # Rich only for people: `--json` stays light

    show(
        human.protocol_view(found, data)
        if found
        else human.protocols_table(data.protocols, data.sources)
    )


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
    batch_line = "batch-line"


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="patient, screening, plan or batch-line.")],
) -> None:
    """Print the JSON Schema (draft 2020-12) of the patient file or of a JSON output.

    `batch-line` is every line `meso batch` writes: a screening, a plan (--plan) or an
    error, each with its input line's number.

    Examples:

      meso schema patient > patient.schema.json

      meso schema batch-line
    """
    from meso_cli.models import BatchOutputLine, Patient, Plan, Screening
    from meso_cli.render.json import schema_of

    models: dict[str, Any] = {
        "patient": Patient,
        "screening": Screening,
        "plan": Plan,
        "batch-line": BatchOutputLine,
    }
    model = models[name.value]
    mode: Literal["validation", "serialization"] = (
        "validation" if name is SchemaName.patient else "serialization"
    )
    out(jsonlib.dumps(schema_of(model, name.value, mode=mode), indent=2) + "\n")
