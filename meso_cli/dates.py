"""Dates: the YYYY-MM-DD form, the years a date may have, ages and birthdays."""

from __future__ import annotations

import re
from datetime import date

from meso_cli.errors import MesoError

# Dates typed by hand outside these years are typos (9999 for 2026, 1026 for 2026): refused,
# rather than planned around or carried into date arithmetic that overflows.
FIRST_YEAR = 1900
LAST_YEAR = 2100
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, unlike \d


def year_problem(day: date) -> str | None:
    """Why `day` cannot be a date meant for this tool, or None when its year is plausible."""
    if day.year < FIRST_YEAR:
        return f"{day} is before {FIRST_YEAR}; check the year"
    if day.year > LAST_YEAR:
        return f"{day} is after {LAST_YEAR}; check the year"
    return None


def parse_day(text: str, what: str, *, expected: str = "a date as YYYY-MM-DD") -> date:
    """A date typed on the command line: exactly YYYY-MM-DD, a real day, in a sane year.

    `what` opens the message (`--on '9999-12-20'`); `expected` says what the option takes.
    Python's fromisoformat alone would also take 20261122 and 2026-W48-1.
    """
    value = text.strip()
    if not ISO_DAY.fullmatch(value):
        raise MesoError(f"{what}: expected {expected}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise MesoError(f"{what}: expected {expected}; {value} is not a real date") from None
    problem = year_problem(day)
    if problem is not None:
        raise MesoError(f"{what}: {problem}")
    return day


def age_on(birth: date, day: date) -> int:
    """Whole years on `day`. A 29 February birthday comes round on 1 March in other years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth: date, years: int) -> date:
    """The day someone born on `birth` turns `years` old."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        return date(birth.year + years, 3, 1)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_number(word: str) -> int | None:
    """Monday 0 for `mon`, `monday` or a prefix of three letters or more (`tues`, `thur`);
    None for anything else."""
    word = word.strip().lower()
    for i, (short, name) in enumerate(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)):
        if word in (short, name.lower()) or (len(word) >= 3 and name.lower().startswith(word)):
            return i
    return None
