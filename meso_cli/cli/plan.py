"""`meso plan`: screen, then lay the course on the clinic's calendar (and write an .ics)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from meso_cli.cli.app import Clear, DataDir, Json, On, app, note, out
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
from meso_cli.errors import EXIT_OK, VERDICT_EXIT, MesoError


class PlanFormat(StrEnum):
    text = "text"
    json = "json"
    fhir = "fhir"


if TYPE_CHECKING:
    from meso_cli.models import Patient, Plan, Protocol


@app.command()
def plan(
    patient: Annotated[
        str | None,
        typer.Argument(
            help="Patient file (YAML or JSON), or - for stdin. Optional with --age/--birth-date.",
            show_default=False,
        ),
    ] = None,
    protocol: PlanProtocol = None,
    start: Start = None,
    on: On = None,
    sessions: Sessions = None,
    per_week: PerWeek = None,
    course: CourseName = None,
    open_days: OpenDays = WEEKDAYS,
    closed: Closed = None,
    holidays: Holidays = None,
    clear: Clear = None,
    json: Json = False,
    fmt: Annotated[
        PlanFormat | None,
        typer.Option(
            "--format",
            show_default=False,
            help="text (default), json (as --json), or fhir: a FHIR R4 Bundle with a CarePlan "
            "and a DetectedIssue per finding.",
        ),
    ] = None,
    brief: Annotated[
        bool,
        typer.Option(
            "--brief", help="Only the verdict, the findings and the session dates (and warnings)."
        ),
    ] = False,
    ics: Annotated[
        str | None,
        typer.Option(
            "--ics",
            show_default=False,
            help="Write the sessions still to come to this iCalendar file (- for stdout).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--time",
            show_default=False,
            help="Session start time HH:MM for --ics (default: the profile's, else all-day "
            "events).",
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
    """Screen the patient, then plan the course of sessions on open clinic days.

    Exit 0 plan made; 3 review, 4 deferred with no known end, 5 not eligible (no plan);
    2 bad input. A deferral with a known end moves the start and says so.

    Examples:

      meso plan patient.yaml --protocol hair --start 2026-12-01

      meso plan patient.yaml -p cellulite --per-week 2 --open-days mon,wed,fri --holidays TR

      meso plan patient.yaml -p hair --closed 2026-12-21..2026-12-31 --ics hair.ics --time 10:30

      meso plan patient.yaml -p hair --brief

      meso plan --age 44 --sex female --medication ibuprofen@2026-11-30 -p hair --save p.yaml

      meso plan record.fhir.json -p hair --format fhir > careplan.json
    """
    from meso_cli.files import is_standard_output
    from meso_cli.planning import plan_made
    from meso_cli.profile import load_profile

    if json and fmt not in (None, PlanFormat.json):
        raise MesoError(f"--json and --format {fmt} ask for two outputs; give one")
    if brief and (json or fmt not in (None, PlanFormat.text)):
        raise MesoError("--brief is a view for people; --json gives the whole plan")
    session_time = parse_time(at) if at is not None else None
    if at is not None and ics is None:
        raise MesoError("--time only applies to --ics FILE")
    if ics == "":
        raise MesoError("--ics: empty file name")
    # `--ics -` (or /dev/stdout): the calendar is the output, and the report is not printed.
    calendar_out = ics is not None and is_standard_output(ics)
    if calendar_out and (json or fmt in (PlanFormat.json, PlanFormat.fhir)):
        wanted = "--json" if json else f"--format {fmt}"
        raise MesoError(
            f"--ics {ics} and {wanted} both write to standard output; give --ics a file name"
        )
    settings = load_profile(profile)
    if session_time is None:
        session_time = settings.profile.calendar.session_time
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
    from meso_cli.profile import clinic_calendar

    clinic = clinic_calendar(settings, open_days=open_days, closed=closed, holidays=holidays)
    result, chosen, person, data = plan_from_options(
        patient,
        protocol,
        clinic=clinic,
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
    if ics is not None:
        _write_ics(result, chosen, person, "-" if calendar_out else ics, session_time)
    if fmt is PlanFormat.fhir:
        from meso_cli.render.fhir import plan_to_fhir

        out(plan_to_fhir(result, chosen))
    elif json or fmt is PlanFormat.json:
        from meso_cli.render.json import to_json

        out(to_json(result))
    elif not calendar_out:
        from meso_cli.cli.app import show
        from meso_cli.render.plan import brief_view, plan_view

        show(brief_view(result) if brief else plan_view(result, clinic, titles=data.sources))
    raise typer.Exit(EXIT_OK if plan_made(result) else VERDICT_EXIT[result.screening.verdict])


def _write_ics(
    result: Plan, protocol: Protocol, person: Patient, path: str, at: time | None
) -> None:
    from meso_cli.cli.app import write_document
    from meso_cli.planning import plan_made
    from meso_cli.render.ics import DEFAULT_MINUTES, patient_key, plan_to_ics

    shown = "standard output" if path == "-" else path
    pending = [s for s in result.sessions if not s.done]
    if not pending:
        why = result.warnings[-1].text if path == "-" and not plan_made(result) else ""
        note(f"{why + '; ' if why else ''}no sessions to come: {shown} not written")
        return
    if at is not None and protocol.session_minutes is None:
        note(
            f"protocol {protocol.id} gives no session length: "
            f"calendar events last {DEFAULT_MINUTES} minutes"
        )
    stamp = datetime.now(UTC).replace(microsecond=0)
    calendar = plan_to_ics(result, protocol, key=patient_key(person), stamp=stamp, at=at)
    write_document(path, calendar)
    note(f"wrote {len(pending)} sessions to {shown}")
