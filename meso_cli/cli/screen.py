"""`meso screen`: the verdict and its findings."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import Clear, DataDir, Json, On, app, load, out, reference_date
from meso_cli.cli.options import (
    Age,
    Allergies,
    BirthDate,
    Breastfeeding,
    Conditions,
    Fever,
    Force,
    Medications,
    PatientId,
    Pregnant,
    ProfileOption,
    Save,
    Sex,
    chosen_protocol,
    quick_options,
    the_patient,
)
from meso_cli.errors import VERDICT_EXIT


class ScreenFormat(StrEnum):
    text = "text"
    json = "json"
    cds_hooks = "cds-hooks"


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
            help="Protocol id (see `meso protocols`); default: the profile's.",
            autocompletion=complete.protocols,
            show_default=False,
        ),
    ] = None,
    on: On = None,
    clear: Clear = None,
    json: Json = False,
    fmt: Annotated[
        ScreenFormat | None,
        typer.Option(
            "--format",
            show_default=False,
            help="text (default), json (as --json), or cds-hooks: a CDS Hooks cards response.",
        ),
    ] = None,
    data_dir: DataDir = None,
    profile: ProfileOption = None,
    age: Age = None,
    birth_date: BirthDate = None,
    sex: Sex = None,
    pregnant: Pregnant = None,
    breastfeeding: Breastfeeding = None,
    fever: Fever = None,
    condition: Conditions = None,
    medication: Medications = None,
    allergy: Allergies = None,
    patient_id: PatientId = None,
    save: Save = None,
    force: Force = False,
) -> None:
    """Screen a patient: verdict, findings with rule and source, assumptions.

    Exit 0 eligible, 3 review, 4 deferred, 5 not eligible, 2 bad input.
    With a file, quick-screen options replace its age, birth date, flags and id, and add to
    its lists (an entry of the same name replaces the file's); each change is reported.

    Examples:

    \b
      meso screen patient.yaml --protocol hair
      meso screen --age 52 --sex male --medication warfarin --condition "type 2 diabetes" -p hair
      meso screen patient.yaml --medication ibuprofen@2026-11-20 --on 2026-11-22 --json
      cat patient.json | meso screen - --clear anticoagulant --json
      meso screen --age 52 --sex female --not-pregnant -p hair --save new-patient.yaml
      meso screen record.fhir.json -p hair --format cds-hooks
    """
    from meso_cli.errors import MesoError
    from meso_cli.profile import load_profile
    from meso_cli.screening import screen as run_screen

    if json and fmt not in (None, ScreenFormat.json):
        raise MesoError(f"--json and --format {fmt.value} ask for two outputs; give one")

    quick = quick_options(
        patient_id=patient_id,
        age=age,
        birth_date=birth_date,
        sex=sex,
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        fever=fever,
        condition=condition,
        medication=medication,
        allergy=allergy,
    )
    settings = load_profile(profile)
    data = load(data_dir)
    chosen = chosen_protocol(data, protocol, settings)
    day = reference_date(on)
    person, notes = the_patient(patient, quick, day, save=save, force=force)
    result = run_screen(person, chosen, data, on=day, clear=clear or [])
    if fmt is ScreenFormat.cds_hooks or json or fmt is ScreenFormat.json:
        if fmt is ScreenFormat.cds_hooks:
            from meso_cli.render.fhir import screening_to_cds

            out(screening_to_cds(result, data))
        else:
            from meso_cli.render.json import to_json

            out(to_json(result))
        # stdout holds JSON only; what the options changed goes to stderr.
        from meso_cli.cli.app import note

        for change in notes:
            note(f"note: from the command line: {change}")
    else:
        from meso_cli.cli.app import show
        from meso_cli.render.human import screening_view

        show(screening_view(result, titles=data.sources))
        if notes:
            out("\n" + _wrap(f"From the command line, over {patient}:"))
            out("".join(_wrap(f"• {n}", indent="  ") for n in notes))
    raise typer.Exit(VERDICT_EXIT[result.verdict])


def _wrap(text: str, indent: str = "") -> str:
    import shutil
    import textwrap

    width = max(20, shutil.get_terminal_size().columns)
    return textwrap.fill(text, width, subsequent_indent=indent, break_on_hyphens=False) + "\n"
