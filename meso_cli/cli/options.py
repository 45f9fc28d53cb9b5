"""Options shared by the commands that plan a course (`plan`, `handout`), and the plan itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import load, parse_date, protocol_named, reference_date

if TYPE_CHECKING:
    from pathlib import Path

    from meso_cli.models import Dataset, Patient, Plan, Protocol

PlanProtocol = Annotated[
    str,
    typer.Option(
        "--protocol",
        "-p",
        help="Protocol id (see `meso protocols`).",
        autocompletion=complete.protocols,
    ),
]
Start = Annotated[
    str | None,
    typer.Option(
        "--start",
        help="First possible day YYYY-MM-DD (default: the reference date).",
        show_default=False,
    ),
]
Sessions = Annotated[
    int | None,
    typer.Option(
        "--sessions",
        min=1,
        show_default=False,
        help="Sessions in the course (maintenance not counted), within the protocol's min-max.",
    ),
]
PerWeek = Annotated[
    int | None,
    typer.Option(
        "--per-week",
        min=1,
        max=7,
        show_default=False,
        help="Sessions per week, where the protocol offers a choice (cellulite: 1 or 2).",
    ),
]
OpenDays = Annotated[
    str,
    typer.Option("--open-days", help="Weekdays the clinic works, e.g. mon,wed,fri."),
]
Closed = Annotated[
    list[str] | None,
    typer.Option(
        "--closed",
        show_default=False,
        help="A closed day YYYY-MM-DD or range FROM..TO, both ends included (repeatable).",
    ),
]
Holidays = Annotated[
    str | None,
    typer.Option(
        "--holidays",
        show_default=False,
        help="Also closed on the public holidays of this country (ISO code, e.g. TR, DE).",
    ),
]
CourseName = Annotated[
    str | None,
    typer.Option(
        "--course",
        show_default=False,
        help="One of the protocol's named courses (see `meso protocols ID`); default: its first.",
    ),
]
WEEKDAYS = "mon,tue,wed,thu,fri"


def plan_from_options(
    patient: str,
    protocol: str,
    *,
    data_dir: Path | None,
    on: str | None,
    start: str | None,
    sessions: int | None,
    per_week: int | None,
    open_days: str,
    closed: list[str] | None,
    holidays: str | None,
    clear: list[str] | None,
    course: str | None = None,
) -> tuple[Plan, Protocol, Patient, Dataset]:
    """Parse the clinic options, load data and patient, screen and plan: one path for all."""
    from meso_cli.clinic import Clinic, parse_closure, parse_open_days, public_holidays
    from meso_cli.patients import load_patient
    from meso_cli.planning import screen_and_plan
    from meso_cli.screening import Screener

    ref = reference_date(on)
    begin = parse_date(start, "--start") if start else None
    days = parse_open_days(open_days)
    closures = tuple(parse_closure(c) for c in closed or [])
    data = load(data_dir)
    chosen = protocol_named(data, protocol)
    assert chosen is not None  # --protocol is required
    person = load_patient(patient, ref)
    clinic = Clinic(
        open_days=days,
        closures=closures,
        # `--holidays ''` is a mistake to report, not a way to ask for no holidays.
        holidays=public_holidays(holidays) if holidays is not None else {},
        country=holidays.strip().upper() if holidays is not None else None,
    )
    result = screen_and_plan(
        person,
        chosen,
        Screener(data),
        clinic,
        on=ref,
        start=begin,
        clear=clear or [],
        sessions=sessions,
        per_week=per_week,
        course=course,
    )
    # The handout and the calendar name the phases of the course planned.
    from meso_cli.planning import with_course

    return result, with_course(chosen, course)[0], person, data
