"""`meso handout`: the patient's printable page for a planned course (Markdown or HTML)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath
from typing import Annotated

import typer

from meso_cli.cli.app import Clear, DataDir, On, app, note, write_document
from meso_cli.cli.options import (
    WEEKDAYS,
    Age,
    Allergies,
    BirthDate,
    Breastfeeding,
    Closed,
    Conditions,
    CourseName,
    Fever,
    Force,
    Holidays,
    Medications,
    OpenDays,
    PatientId,
    PerWeek,
    PlanProtocol,
    Pregnant,
    ProfileOption,
    Save,
    Sessions,
    Sex,
    Start,
    parse_time,
    plan_from_options,
    quick_options,
)
from meso_cli.errors import VERDICT_EXIT, MesoError
from meso_cli.render.catalogue import DEFAULT_LANG, Lang


class Format(StrEnum):
    md = "md"
    html = "html"


_BY_SUFFIX = {".md": Format.md, ".markdown": Format.md, ".html": Format.html, ".htm": Format.html}


def handout_language(given: Lang | None, profile: str | None) -> Lang:
    """The one place the handout's language is decided: --lang, else the clinic profile's,
    else English."""
    if given is not None:
        return given
    return Lang(profile) if profile is not None else DEFAULT_LANG


@app.command()
def handout(
    patient: Annotated[
        str | None,
        typer.Argument(
            help="Patient file (YAML or JSON), or - for stdin. Optional with --age/--birth-date.",
            show_default=False,
        ),
    ] = None,
    protocol: PlanProtocol = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            show_default=False,
            help="Write to FILE.md or FILE.html, or - for stdout (default: Markdown on stdout).",
        ),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", show_default=False, help="md or html (default: from -o)."),
    ] = None,
    start: Start = None,
    on: On = None,
    sessions: Sessions = None,
    per_week: PerWeek = None,
    course: CourseName = None,
    open_days: OpenDays = WEEKDAYS,
    closed: Closed = None,
    holidays: Holidays = None,
    clinic_name: Annotated[
        str | None,
        typer.Option("--clinic", show_default=False, help="Clinic name (default: the profile's)."),
    ] = None,
    phone: Annotated[
        str | None,
        typer.Option("--phone", show_default=False, help="Clinic phone (default: the profile's)."),
    ] = None,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            show_default=False,
            help="Language of the handout: en or tr (default: the clinic profile's, else en).",
        ),
    ] = None,
    practitioner: Annotated[
        str | None,
        typer.Option(
            "--practitioner",
            show_default=False,
            help="Practitioner's name to print (default: the profile's).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--time",
            show_default=False,
            help="Session time HH:MM to print (default: the profile's).",
        ),
    ] = None,
    clear: Clear = None,
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
    """Write the patient's printable page (English or Turkish): dates, NSAIDs, aftercare, sun.

    Plans the course as `meso plan` does. When no plan can be made it writes nothing and
    exits with the screening's code (3 review, 4 deferred, 5 not eligible).

    Examples:

    \b
      meso handout patient.yaml --protocol hair -o handout.html
      meso handout patient.yaml -p hair --start 2026-12-01 --clinic "Clinic Ada" -o p.md
      meso handout patient.yaml -p cellulite --per-week 2 --holidays TR --format html > p.html
      meso handout patient.yaml -p hair --lang tr --practitioner "Dr. Ada Kaya" --time 10:30
      meso handout --age 44 --sex female --not-pregnant --not-breastfeeding -p hair -o p.md
    """
    from meso_cli.files import is_stream
    from meso_cli.planning import plan_made
    from meso_cli.profile import load_profile
    from meso_cli.render.handout import build, to_html, to_markdown

    session_time = parse_time(at) if at is not None else None
    if output == "":
        raise MesoError("-o: empty file name")
    target = output or "-"
    chosen_format = fmt
    if chosen_format is None and not is_stream(target):  # a stream: Markdown
        chosen_format = _BY_SUFFIX.get(PurePath(target).suffix.lower())
        if chosen_format is None:
            raise MesoError(f"-o {target}: name a .md or .html file, or give --format md|html")
    settings = load_profile(profile)
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
    result, chosen, person, data = plan_from_options(
        patient,
        protocol,
        profile=settings,
        quick=quick,
        save=save,
        force=force,
        data_dir=data_dir,
        on=on,
        start=start,
        sessions=sessions,
        per_week=per_week,
        open_days=open_days,
        closed=closed,
        holidays=holidays,
        clear=clear,
        course=course,
    )
    if not plan_made(result):
        why = result.warnings[-1].text if result.warnings else "no plan"
        note(f"{why}; no handout written")
        raise typer.Exit(VERDICT_EXIT[result.screening.verdict])
    clinic = settings.profile.clinic
    page = build(
        result,
        person,
        chosen,
        data,
        lang=handout_language(lang, settings.profile.handout.language),
        clinic_name=clinic_name if clinic_name is not None else clinic.name,
        clinic_phone=phone if phone is not None else clinic.phone,
        practitioner=practitioner if practitioner is not None else clinic.practitioner,
        session_time=(
            session_time if session_time is not None else settings.profile.calendar.session_time
        ),
    )
    for key in page.untranslated:
        note(
            f"note: the catalogue has no {page.lang.value} text for {key!r} of the data; "
            "the data's own words are printed"
        )
    text = to_html(page) if chosen_format is Format.html else to_markdown(page)
    write_document(target, text)
    if target != "-":
        note(f"wrote the handout to {target}")
