"""`meso screen`: the verdict and its findings."""

from __future__ import annotations

from typing import Annotated

import typer

from meso_cli.cli.app import (
    Clear,
    DataDir,
    Json,
    On,
    app,
    load,
    out,
    protocol_named,
    reference_date,
)
from meso_cli.models import Verdict

EXIT_CODES = {
    Verdict.ELIGIBLE: 0,
    Verdict.REVIEW: 3,
    Verdict.DEFERRED: 4,
    Verdict.NOT_ELIGIBLE: 5,
}


@app.command()
def screen(
    patient: Annotated[str, typer.Argument(help="Patient file (YAML or JSON), or - for stdin.")],
    protocol: Annotated[
        str | None, typer.Option("--protocol", "-p", help="Protocol id (see `meso protocols`).")
    ] = None,
    on: On = None,
    clear: Clear = None,
    json: Json = False,
    data_dir: DataDir = None,
) -> None:
    """Screen a patient: verdict, findings with rule and source, assumptions.

    Exit 0 eligible, 3 review, 4 deferred, 5 not eligible, 2 bad input.

    Examples:

      meso screen patient.yaml --protocol hair

      meso screen patient.yaml --on 2026-11-22 --clear anticoagulant --json

      cat patient.json | meso screen - --json
    """
    from meso_cli.patients import load_patient
    from meso_cli.screening import screen as run_screen

    data = load(data_dir)
    chosen = protocol_named(data, protocol)
    person = load_patient(patient)
    result = run_screen(person, chosen, data, on=reference_date(on), clear=clear or [])
    if json:
        from meso_cli.render.json import to_json

        out(to_json(result))
    else:
        from meso_cli.cli.app import show
        from meso_cli.render.human import screening_view

        show(screening_view(result))
    raise typer.Exit(EXIT_CODES[result.verdict])
