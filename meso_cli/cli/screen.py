"""`meso screen`: the verdict and its findings."""

from __future__ import annotations

from typing import Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import (
    Clear,
    DataDir,
    Json,
    On,
    app,
    load,
    out,
    parse_date,
    protocol_named,
    reference_date,
)
from meso_cli.errors import VERDICT_EXIT

QUICK = "Quick screen (instead of, or over, a file)"


@app.command()
def screen(
    patient: Annotated[
        str | None,
        typer.Argument(
            help="Patient file (YAML or JSON), or - for stdin. Optional with --age/--birth-date.",
            show_default=False,
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            help="Protocol id (see `meso protocols`).",
            autocompletion=complete.protocols,
        ),
    ] = None,
    on: On = None,
    clear: Clear = None,
    json: Json = False,
    data_dir: DataDir = None,
    age: Annotated[
        str | None,
        typer.Option(
            help="Age in whole years, 0-130.",
            metavar="YEARS",
            rich_help_panel=QUICK,
            show_default=False,
        ),
    ] = None,
    birth_date: Annotated[
        str | None,
        typer.Option(help="Birth date YYYY-MM-DD.", rich_help_panel=QUICK, show_default=False),
    ] = None,
    pregnant: Annotated[
        bool | None,
        typer.Option("--pregnant/--not-pregnant", rich_help_panel=QUICK, show_default=False),
    ] = None,
    breastfeeding: Annotated[
        bool | None,
        typer.Option(
            "--breastfeeding/--not-breastfeeding", rich_help_panel=QUICK, show_default=False
        ),
    ] = None,
    fever: Annotated[
        bool | None,
        typer.Option(
            "--fever/--no-fever",
            help="Fever or an acute infection now.",
            rich_help_panel=QUICK,
            show_default=False,
        ),
    ] = None,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME or NAME@RESOLVED_ON (repeatable).", rich_help_panel=QUICK, show_default=False
        ),
    ] = None,
    medication: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME or NAME@LAST_DOSE (repeatable); no date: taken now.",
            rich_help_panel=QUICK,
            show_default=False,
        ),
    ] = None,
    allergy: Annotated[
        list[str] | None,
        typer.Option(help="NAME (repeatable).", rich_help_panel=QUICK, show_default=False),
    ] = None,
    patient_id: Annotated[
        str | None,
        typer.Option("--id", help="The clinic's patient id.", rich_help_panel=QUICK),
    ] = None,
) -> None:
    """Screen a patient: verdict, findings with rule and source, assumptions.

    Exit 0 eligible, 3 review, 4 deferred, 5 not eligible, 2 bad input.
    With a file, quick-screen options replace its age, birth date, flags and id, and add to
    its lists (an entry of the same name replaces the file's); each change is reported.

    Examples:

    \b
      meso screen patient.yaml --protocol hair
      meso screen --age 52 --medication warfarin --condition "type 2 diabetes" -p hair
      meso screen patient.yaml --medication ibuprofen@2026-11-20 --on 2026-11-22 --json
      cat patient.json | meso screen - --clear anticoagulant --json
    """
    from meso_cli.patients import QuickOptions, load_patient, parse_age, quick_patient
    from meso_cli.screening import screen as run_screen

    quick = QuickOptions(
        id=patient_id,
        age=parse_age(age) if age is not None else None,
        birth_date=parse_date(birth_date, "--birth-date") if birth_date else None,
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        fever=fever,
        conditions=condition or (),
        medications=medication or (),
        allergies=allergy or (),
    )
    data = load(data_dir)
    chosen = protocol_named(data, protocol)
    day = reference_date(on)
    notes: list[str] = []
    if patient is None or quick.given():
        base = load_patient(patient, day) if patient else None
        person, notes = quick_patient(quick, base, on=day)
    else:
        person = load_patient(patient, day)
    result = run_screen(person, chosen, data, on=day, clear=clear or [])
    if json:
        from meso_cli.render.json import to_json

        out(to_json(result))
        # stdout holds JSON only; what the options changed goes to stderr.
        from meso_cli.cli.app import note

        for change in notes:
            note(f"note: from the command line: {change}")
    else:
        from meso_cli.cli.app import show
        from meso_cli.render.human import screening_view

        show(screening_view(result))
        if notes:
            out("\n" + _wrap(f"From the command line, over {patient}:"))
            out("".join(_wrap(f"• {n}", indent="  ") for n in notes))
    raise typer.Exit(VERDICT_EXIT[result.verdict])


def _wrap(text: str, indent: str = "") -> str:
    import shutil
    import textwrap

    width = max(20, shutil.get_terminal_size().columns)
    return textwrap.fill(text, width, subsequent_indent=indent, break_on_hyphens=False) + "\n"
