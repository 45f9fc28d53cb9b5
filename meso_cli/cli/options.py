"""Options shared by the commands that plan a course (`plan`, `handout`), and the plan itself."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import load, parse_date, protocol_named, reference_date
from meso_cli.errors import MesoError

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from meso_cli.clinic import Clinic
    from meso_cli.models import Dataset, Patient, Plan, Protocol
    from meso_cli.patients import QuickOptions
    from meso_cli.profile import Loaded

PlanProtocol = Annotated[
    str | None,
    typer.Option(
        "--protocol",
        "-p",
        help="Protocol id (see `meso protocols`); default: the profile's.",
        autocompletion=complete.protocols,
        show_default=False,
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
    str | None,
    typer.Option(
        "--open-days",
        show_default=False,
        help="Weekdays the clinic works, e.g. mon,wed,fri (default: the profile's, else mon-fri).",
    ),
]
Closed = Annotated[
    list[str] | None,
    typer.Option(
        "--closed",
        show_default=False,
        help="A closed day YYYY-MM-DD or range FROM..TO, both ends included (repeatable); "
        "added to the profile's.",
    ),
]
Holidays = Annotated[
    str | None,
    typer.Option(
        "--holidays",
        show_default=False,
        help="Also closed on the public holidays of this country (ISO code, e.g. TR, DE); "
        "default: the profile's.",
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
WEEKDAYS = None  # the profile's open days, else Monday to Friday
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        show_default=False,
        help="The clinic profile (TOML) to use; default: MESO_PROFILE, else profile.toml in "
        "the user config directory (`meso profile show`). `none` for no profile.",
    ),
]

QUICK = "Quick screen (instead of, or over, a file)"

Age = Annotated[
    str | None,
    typer.Option(
        "--age",
        help="Age in whole years, 0-130.",
        metavar="YEARS",
        rich_help_panel=QUICK,
        show_default=False,
    ),
]
BirthDate = Annotated[
    str | None,
    typer.Option(
        "--birth-date", help="Birth date YYYY-MM-DD.", rich_help_panel=QUICK, show_default=False
    ),
]
Sex = Annotated[
    str | None,
    typer.Option(
        "--sex",
        help="female, male or other: pregnancy and breastfeeding are asked unless male.",
        rich_help_panel=QUICK,
        show_default=False,
    ),
]
Pregnant = Annotated[
    bool | None,
    typer.Option("--pregnant/--not-pregnant", rich_help_panel=QUICK, show_default=False),
]
Breastfeeding = Annotated[
    bool | None,
    typer.Option("--breastfeeding/--not-breastfeeding", rich_help_panel=QUICK, show_default=False),
]
Fever = Annotated[
    bool | None,
    typer.Option(
        "--fever/--no-fever",
        help="Fever or an acute infection now.",
        rich_help_panel=QUICK,
        show_default=False,
    ),
]
Conditions = Annotated[
    list[str] | None,
    typer.Option(
        "--condition",
        help="NAME or NAME@RESOLVED_ON (repeatable).",
        rich_help_panel=QUICK,
        show_default=False,
    ),
]
Medications = Annotated[
    list[str] | None,
    typer.Option(
        "--medication",
        help="NAME or NAME@LAST_DOSE (repeatable); no date: taken now.",
        rich_help_panel=QUICK,
        show_default=False,
    ),
]
Allergies = Annotated[
    list[str] | None,
    typer.Option("--allergy", help="NAME (repeatable).", rich_help_panel=QUICK, show_default=False),
]
PatientId = Annotated[
    str | None,
    typer.Option("--id", help="The clinic's patient id.", rich_help_panel=QUICK),
]
Save = Annotated[
    str | None,
    typer.Option(
        "--save",
        show_default=False,
        rich_help_panel=QUICK,
        help="Write the patient these options describe to FILE (.yaml or .json); an existing "
        "file only with --force.",
    ),
]
Force = Annotated[
    bool,
    typer.Option("--force", rich_help_panel=QUICK, help="Let --save replace an existing file."),
]


def quick_options(
    *,
    patient_id: str | None,
    age: str | None,
    birth_date: str | None,
    sex: str | None,
    pregnant: bool | None,
    breastfeeding: bool | None,
    fever: bool | None,
    condition: list[str] | None,
    medication: list[str] | None,
    allergy: list[str] | None,
) -> QuickOptions:
    from meso_cli.patients import QuickOptions, parse_age

    return QuickOptions(
        id=patient_id,
        age=parse_age(age) if age is not None else None,
        birth_date=parse_date(birth_date, "--birth-date") if birth_date else None,
        sex=sex,
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        fever=fever,
        conditions=condition or (),
        medications=medication or (),
        allergies=allergy or (),
    )


def the_patient(
    path: str | None, quick: QuickOptions, on: date, *, save: str | None = None, force: bool = False
) -> tuple[Patient, list[str]]:
    """The patient of a file, of the quick options, or of both (the options over the file),
    with one note per value of the file the options changed; with `save`, written there."""
    from meso_cli.patients import load_patient, quick_patient

    notes: list[str] = []
    if path is None or quick.given():
        base = load_patient(path, on) if path else None
        person, notes = quick_patient(quick, base, on=on)
    else:
        person = load_patient(path, on)
    if save is not None:
        from meso_cli.edit import save_new_patient

        save_new_patient(save, person, read_from=path, force=force)
        from meso_cli.cli.app import note

        note(f"wrote the patient file {save}")
    return person, notes


def chosen_protocol(data: Dataset, option: str | None, profile: Loaded) -> Protocol | None:
    """--protocol, else the profile's default protocol, else none."""
    if option is not None:
        return protocol_named(data, option)
    default = profile.profile.defaults.protocol
    if default is None:
        return None
    try:
        return protocol_named(data, default)
    except MesoError as exc:
        raise profile.problem(("defaults", "protocol"), str(exc)) from None


def needed_protocol(data: Dataset, option: str | None, profile: Loaded) -> Protocol:
    found = chosen_protocol(data, option, profile)
    if found is None:
        raise MesoError(
            "give --protocol (see `meso protocols`), or set a default protocol in the clinic "
            "profile (`meso profile init --protocol hair`)"
        )
    return found


def parse_time(value: str) -> time:
    """`--time HH:MM`: a session's start time."""
    from meso_cli.errors import MesoError

    try:
        hours, minutes = value.strip().split(":")
        if len(hours) > 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise MesoError(f"--time {value!r}: expected HH:MM, e.g. 09:30") from None


def plan_from_options(
    patient: str | None,
    protocol: str | None,
    *,
    profile: Loaded,
    data_dir: Path | None,
    on: str | None,
    start: str | None,
    sessions: int | None,
    per_week: int | None,
    open_days: str | None,
    closed: list[str] | None,
    holidays: str | None,
    clear: list[str] | None,
    quick: QuickOptions | None = None,
    save: str | None = None,
    force: bool = False,
    clinic: Clinic | None = None,
    course: str | None = None,
) -> tuple[Plan, Protocol, Patient, Dataset]:
    """Parse the clinic options over the profile, load data and patient, screen and plan:
    one path for all. What the quick options changed in a file goes to stderr."""
    from meso_cli.cli.app import note
    from meso_cli.patients import QuickOptions
    from meso_cli.planning import screen_and_plan
    from meso_cli.profile import clinic_calendar
    from meso_cli.screening import Screener

    ref = reference_date(on)
    begin = parse_date(start, "--start") if start else None
    if clinic is None:
        clinic = clinic_calendar(profile, open_days=open_days, closed=closed, holidays=holidays)
    data = load(data_dir)
    chosen = needed_protocol(data, protocol, profile)
    person, notes = the_patient(patient, quick or QuickOptions(), ref, save=save, force=force)
    for change in notes:
        note(f"note: from the command line: {change}")
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
