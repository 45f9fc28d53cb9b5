"""`meso plan`: screen, then lay the course on the clinic's calendar (and write an .ics)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Annotated

import typer

from meso_cli.cli.app import Clear, DataDir, Json, On, app, note, out
from meso_cli.cli.options import (
    WEEKDAYS,
    Closed,
    Holidays,
    OpenDays,
    PerWeek,
    PlanProtocol,
    Sessions,
    Start,
    plan_from_options,
)
from meso_cli.errors import EXIT_OK, VERDICT_EXIT, MesoError

if TYPE_CHECKING:
    from meso_cli.models import Patient, Plan, Protocol


@app.command()
def plan(
    patient: Annotated[str, typer.Argument(help="Patient file (YAML or JSON), or - for stdin.")],
    protocol: PlanProtocol,
    start: Start = None,
    on: On = None,
    sessions: Sessions = None,
    per_week: PerWeek = None,
    open_days: OpenDays = WEEKDAYS,
    closed: Closed = None,
    holidays: Holidays = None,
    clear: Clear = None,
    json: Json = False,
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
            help="Session start time HH:MM for --ics (default: all-day events).",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Screen the patient, then plan the course of sessions on open clinic days.

    Exit 0 plan made; 3 review, 4 deferred with no known end, 5 not eligible (no plan);
    2 bad input. A deferral with a known end moves the start and says so.

    Examples:

      meso plan patient.yaml --protocol hair --start 2026-12-01

      meso plan patient.yaml -p cellulite --per-week 2 --open-days mon,wed,fri --holidays TR

      meso plan patient.yaml -p hair --closed 2026-12-21..2026-12-31 --ics hair.ics --time 10:30
    """
    from meso_cli.files import is_standard_output
    from meso_cli.planning import plan_made

    session_time = _parse_time(at) if at is not None else None
    if at is not None and ics is None:
        raise MesoError("--time only applies to --ics FILE")
    if ics == "":
        raise MesoError("--ics: empty file name")
    # `--ics -` (or /dev/stdout): the calendar is the output, and the report is not printed.
    calendar_out = ics is not None and is_standard_output(ics)
    if calendar_out and json:
        raise MesoError(
            f"--ics {ics} and --json both write to standard output; give --ics a file name"
        )
    result, chosen, person, _ = plan_from_options(
        patient,
        protocol,
        data_dir=data_dir,
        on=on,
        start=start,
        sessions=sessions,
        per_week=per_week,
        open_days=open_days,
        closed=closed,
        holidays=holidays,
        clear=clear,
    )
    if ics is not None:
        _write_ics(result, chosen, person, "-" if calendar_out else ics, session_time)
    if json:
        from meso_cli.render.json import to_json

        out(to_json(result))
    elif not calendar_out:
        from meso_cli.cli.app import show
        from meso_cli.render.plan import plan_view

        show(plan_view(result))
    raise typer.Exit(EXIT_OK if plan_made(result) else VERDICT_EXIT[result.screening.verdict])


def _parse_time(value: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        if len(hours) > 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise MesoError(f"--time {value!r}: expected HH:MM, e.g. 09:30") from None


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
