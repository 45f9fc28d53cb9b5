"""The clinic's calendar: open weekdays, closures and public holidays (pure lookups)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from meso_cli.dates import WEEKDAY_NAMES, WEEKDAYS, parse_day, weekday_number
from meso_cli.errors import MesoError, close_matches, unknown

DEFAULT_OPEN_DAYS = frozenset(range(5))  # Monday to Friday

# How far ahead to look for an open day. Nothing a clinic closes for lasts this long, so a
# calendar with no open day within it is a mistake in --closed or --open-days, not a plan.
HORIZON_YEARS = 3


@dataclass(frozen=True)
class Closure:
    """Days the clinic is shut, both ends included."""

    first: date
    last: date

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


@dataclass(frozen=True)
class Clinic:
    """Which days sessions can be given on. `holidays` maps a date to its holiday's name."""

    open_days: frozenset[int] = DEFAULT_OPEN_DAYS
    closures: tuple[Closure, ...] = ()
    holidays: Mapping[date, str] = field(default_factory=dict)
    country: str | None = None

    def __post_init__(self) -> None:
        if not self.open_days:
            raise MesoError("--open-days: the clinic needs at least one open weekday")

    def closed_because(self, day: date) -> str | None:
        """Why no session can be given on `day`, or None when the clinic is open."""
        if day.weekday() not in self.open_days:
            return f"{WEEKDAY_NAMES[day.weekday()]}, not an open day"
        for c in self.closures:
            if c.first <= day <= c.last:
                return f"clinic closed {c}"
        name = self.holidays.get(day)
        if name:
            where = f" ({self.country})" if self.country else ""
            return f"public holiday{where}: {name}"
        return None

    def is_open(self, day: date) -> bool:
        return self.closed_because(day) is None

    def next_open(self, day: date) -> date:
        """The first open day on or after `day`, looking at most HORIZON_YEARS ahead."""
        limit = day + timedelta(days=min(HORIZON_YEARS * 366, (date.max - day).days))
        probe = day
        while True:
            if self.is_open(probe):
                return probe
            if probe >= limit:
                break
            probe += timedelta(days=1)
        raise MesoError(
            f"no open day between {day} and {limit}: the clinic is closed throughout "
            "(check --closed and --open-days)"
        )


def parse_open_days(text: str) -> frozenset[int]:
    """'mon,wed,fri' (or full names, any case, spaces allowed) -> weekday numbers, Monday 0.

    A day named twice (`mon,mon`, `mon,monday`) is refused: it is most often a typo for
    another day, and a silent set would hide it."""
    days: set[int] = set()
    for raw in text.split(","):
        word = raw.strip().lower()
        if not word:
            continue
        index = _weekday(word)
        if index is None:
            raise unknown("weekday", raw.strip(), [*WEEKDAYS, *(n.lower() for n in WEEKDAY_NAMES)])
        if index in days:
            raise MesoError(
                f"--open-days {text!r}: {WEEKDAY_NAMES[index]} is named twice; "
                "name each open weekday once"
            )
        days.add(index)
    if not days:
        raise MesoError(f"--open-days {text!r}: name at least one weekday, e.g. mon,wed,fri")
    return frozenset(days)


def _weekday(word: str) -> int | None:
    return weekday_number(word)


def parse_closure(text: str) -> Closure:
    """'2026-12-24' or '2026-12-21..2026-12-31' (both ends included)."""
    first_text, sep, last_text = text.strip().partition("..")
    what, expected = f"--closed {text!r}", "YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
    first = parse_day(first_text, what, expected=expected)
    last = parse_day(last_text, what, expected=expected) if sep else first
    if last < first:
        raise MesoError(f"{what}: the range ends before it begins")
    return Closure(first, last)


def public_holidays(
    country: str, years: Iterable[int] = (), subdivision: str | None = None
) -> Mapping[date, str]:
    """Public holidays of `country` (ISO code or English name) with English names, and of
    one of its subdivisions (a state, a province: `DE` with `BY`) when one is given.

    The `holidays` package is imported here, only when asked: it costs a noticeable part of
    the start-up time. The mapping it returns fills in further years as they are looked up.
    """
    wanted = country.strip()
    if not wanted:
        raise MesoError("--holidays: give a country code such as TR or FR")

    import holidays as hol
    from holidays.registry import COUNTRIES

    codes = set(hol.list_supported_countries())
    by_name = {module.replace("_", " "): names[1] for module, names in COUNTRIES.items()}
    code = wanted.upper() if wanted.upper() in codes else by_name.get(wanted.lower())
    if code is None:
        known = sorted(codes | set(by_name))
        if close_matches(wanted, known):
            raise unknown("country", wanted, known)
        raise MesoError(
            f"unknown country {wanted!r} for --holidays: give an ISO 3166 code or English "
            f"name, e.g. TR, DE, US, GB or Turkey ({len(COUNTRIES)} countries known)"
        )
    probe = hol.country_holidays(code)
    subdiv = None
    if subdivision is not None:
        known = [str(s) for s in probe.subdivisions]
        subdiv = next((s for s in known if s.lower() == subdivision.strip().lower()), None)
        if subdiv is None:
            if not known:
                raise MesoError(f"the holidays of {code} have no subdivisions; leave it out")
            raise unknown(f"subdivision of {code}", subdivision, known)
    languages = probe.supported_languages
    language = (
        "en_US"
        if "en_US" in languages
        else next((lang for lang in languages if lang.startswith("en")), None)
    )
    result: Mapping[date, str] = hol.country_holidays(
        code, subdiv=subdiv, years=sorted(set(years)), language=language
    )
    return result
