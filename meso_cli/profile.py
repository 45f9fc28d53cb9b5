"""The clinic profile: the clinic's settings in a TOML file, so that no command needs them
retyped. Found through `--profile FILE`, MESO_PROFILE, or the user's config directory, in
that order; the options of a command override what it says."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from meso_cli.clinic import Clinic, Closure, parse_closure, parse_open_days, public_holidays
from meso_cli.documents import Document, Loc, describe, validate
from meso_cli.errors import MesoError, file_error
from meso_cli.files import decode, read_bytes, write_new
from meso_cli.models import Profile

ENV = "MESO_PROFILE"
FILE_NAME = "profile.toml"
NONE = "none"  # `--profile none` or MESO_PROFILE=none: no profile, the built-in defaults
DEFAULT_OPEN_DAYS = "mon,tue,wed,thu,fri"


def default_path() -> Path:
    """profile.toml in the platform's user config directory (~/.config/meso on Linux)."""
    from platformdirs import user_config_path

    return user_config_path("meso") / FILE_NAME


@dataclass(frozen=True)
class Loaded:
    """The profile in force, the file it came from and how that file was chosen, and the
    line of each value in the file."""

    profile: Profile = field(default_factory=Profile)
    path: Path | None = None
    chosen_by: str = "no profile file"
    lines: dict[Loc, int] = field(default_factory=dict)

    def where(self, *loc: str) -> str | None:
        """`profile.toml:7` for a value set in the file, None for one it leaves out."""
        line = self.lines.get(tuple(loc))
        return f"{self.path}:{line}" if self.path is not None and line is not None else None

    def problem(self, loc: tuple[str, ...], message: str) -> MesoError:
        if self.path is None:
            return MesoError(message)
        return file_error(str(self.path), self.lines.get(loc), f"{describe(loc)}: {message}")


def find(option: str | None) -> tuple[Path | None, str]:
    """The profile file to read and what chose it; (None, why) when there is none."""
    env = os.environ.get(ENV)
    if option is not None:
        chosen, by = option, "--profile"
    elif env:
        chosen, by = env, ENV
    else:
        path = default_path()
        if path.is_file():
            return path, "the user config directory"
        return None, f"no profile file ({path} does not exist)"
    if chosen.strip().lower() == NONE:
        return None, f"no profile file ({by} {NONE})"
    if not chosen.strip():
        raise MesoError(f"{by}: empty file name; give a profile file, or {NONE} for none")
    return Path(chosen), by


def load_profile(option: str | None) -> Loaded:
    path, by = find(option)
    if path is None:
        return Loaded(chosen_by=by)
    profile, lines = read_profile(path)
    loaded = Loaded(profile, path, by, lines)
    _check_holidays(loaded)
    return loaded


def read_profile(path: Path) -> tuple[Profile, dict[Loc, int]]:
    """The profile in a TOML file, refused like a patient file: every problem as
    file:line: what is wrong (tomllib gives no positions, so the lines are found in the
    text by `_lines`)."""
    import tomllib

    shown = str(path)
    text = decode(read_bytes(shown, expected="a TOML file"), shown)
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        line = int(found.group(1)) if found else None
        raise file_error(shown, line, f"invalid TOML: {message}") from None
    doc = Document(shown, value, _lines(text))
    return validate(doc, Profile), doc.lines


_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(
        p.strip().strip("\"'")
        for p in re.split(r"\.(?=(?:[^\"']*[\"'][^\"']*[\"'])*[^\"']*$)", dotted)
    )


def _lines(text: str) -> dict[Loc, int]:
    """The line of each table, key and (in an array written one item a line) array item."""
    lines: dict[Loc, int] = {(): 1}
    table: tuple[str, ...] = ()
    array: tuple[tuple[str, ...], int] | None = None  # an array still open, and items seen
    quote: str | None = None  # inside a multi-line string
    for number, line in enumerate(text.splitlines(), 1):
        if quote is not None:
            if line.count(quote) % 2:
                quote = None
            continue
        stripped = line.split("#", 1)[0].strip()
        if array is not None:
            loc, count = array
            if stripped.startswith("]"):
                array = None
            elif stripped:
                lines[(*loc, count)] = number
                array = (loc, count + 1) if not stripped.endswith("]") else None
            continue
        if (match := _TABLE.match(line)) is not None:
            table = _parts(match.group(1))
            lines[table] = number
            continue
        if (key := _KEY.match(line)) is None:
            continue
        loc = (*table, *_parts(key.group(1)))
        lines[loc] = number
        rest = line[key.end() :].split("#", 1)[0].strip()
        for mark in ('"""', "'''"):
            if rest.count(mark) % 2:
                quote = mark
        if rest.startswith("[") and not rest.endswith("]"):
            items = [i for i in rest[1:].split(",") if i.strip()]
            array = (loc, len(items))
    return lines


def _check_holidays(loaded: Loaded) -> None:
    calendar = loaded.profile.calendar
    if calendar.subdivision is not None and calendar.holidays is None:
        raise loaded.problem(
            ("calendar", "subdivision"), "a subdivision needs the country: set holidays too"
        )
    if calendar.holidays is None:
        return
    try:
        public_holidays(calendar.holidays, subdivision=calendar.subdivision)
    except MesoError as exc:
        which = "subdivision" if "subdivision" in str(exc) else "holidays"
        raise loaded.problem(("calendar", which), str(exc)) from None


# --- the values in force -------------------------------------------------------------------


def clinic_calendar(
    loaded: Loaded,
    *,
    open_days: str | None,
    closed: Iterable[str] | None,
    holidays: str | None,
) -> Clinic:
    """The clinic's calendar: each option given on the command line replaces the profile's
    value, but `--closed` adds to the profile's closed periods. The profile's subdivision
    applies while the country is the profile's."""
    calendar = loaded.profile.calendar
    if open_days is not None:
        days = parse_open_days(open_days)
    elif calendar.open_days is not None:
        try:
            days = parse_open_days(",".join(calendar.open_days))
        except MesoError as exc:
            raise loaded.problem(("calendar", "open_days"), str(exc).split(": ", 1)[-1]) from None
    else:
        days = parse_open_days(DEFAULT_OPEN_DAYS)
    closures = tuple(Closure(c.first, c.last) for c in calendar.closed) + tuple(
        parse_closure(c) for c in closed or []
    )
    country = holidays if holidays is not None else calendar.holidays
    subdivision = calendar.subdivision
    if holidays is not None and (
        calendar.holidays is None or holidays.strip().lower() != calendar.holidays.strip().lower()
    ):
        subdivision = None
    return Clinic(
        open_days=days,
        closures=closures,
        # `--holidays ''` is a mistake to report, not a way to ask for no holidays.
        holidays=public_holidays(country, subdivision=subdivision) if country is not None else {},
        country=country.strip().upper() if country is not None else None,
    )


def shown_values(loaded: Loaded) -> list[tuple[str, str, str]]:
    """(key, value, where it came from) for `meso profile show`, every key in file order."""
    p = loaded.profile

    def text(value: Any) -> str:
        if value is None or value == []:
            return "(not set)"
        if isinstance(value, list):
            return ", ".join(text(v) for v in value)
        if isinstance(value, time):
            return f"{value:%H:%M}"
        if hasattr(value, "first"):
            return str(value.first) if value.first == value.last else f"{value.first}..{value.last}"
        return str(value)

    defaults: dict[tuple[str, str], str] = {
        ("calendar", "open_days"): DEFAULT_OPEN_DAYS.replace(",", ", "),
        ("handout", "language"): "en",
    }
    rows = []
    for section in ("clinic", "calendar", "handout", "defaults"):
        part = getattr(p, section)
        for key in type(part).model_fields:
            value = getattr(part, key)
            where = loaded.where(section, key)
            if where is not None:
                rows.append((f"{section}.{key}", text(value), where))
            else:
                rows.append(
                    (f"{section}.{key}", defaults.get((section, key), "(not set)"), "default")
                )
    return rows


# --- a starter file ------------------------------------------------------------------------

STARTER = """\
# The clinic profile of meso: the settings every command uses, so that none is retyped.
# Options given on the command line override these (--closed adds to the closed periods).
# `meso profile show` prints the values in force and where each came from.
# A line that starts with # is a comment: remove the # to use the setting.

[clinic]
{name}
{phone}
{address}
{practitioner}

[calendar]
# Weekdays the clinic works (mon, tue, wed, thu, fri, sat, sun).
{open_days}
# The usual start of a session (calendar files from `meso plan --ics`).
{session_time}
# Closed days and periods, both ends included, e.g. a summer break.
{closed}
# Public holidays of a country (ISO code) close the clinic too; without them a course can
# land on Christmas Day or New Year's Day.
{holidays}
# A state or province with holidays of its own, e.g. holidays = "DE" with "BY" (Bavaria).
{subdivision}

[handout]
# The language of handouts: en or tr.
{language}

[defaults]
# The protocol when a command is given none (see `meso protocols`).
{protocol}
"""

_EXAMPLES: dict[str, str] = {
    "name": '"Clinic Ada"',
    "phone": '"+90 212 555 01 00"',
    "address": '"Bagdat Caddesi 1, Kadikoy, Istanbul"',
    "practitioner": '"Dr. Ada Yilmaz"',
    "open_days": '["mon", "tue", "wed", "thu", "fri"]',
    "session_time": '"10:30"',
    "closed": '["2026-12-24", "2027-08-02..2027-08-13"]',
    "holidays": '"TR"',
    "subdivision": '"BY"',
    "language": '"en"',
    "protocol": '"hair"',
}


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def starter(values: dict[str, Any]) -> str:
    """The commented starter file, with the given values set and the rest as examples."""
    lines = {
        key: f"{key} = {_toml_value(values[key])}"
        if values.get(key) not in (None, [])
        else f"# {key} = {example}"
        for key, example in _EXAMPLES.items()
    }
    return STARTER.format(**lines)


def write_starter(path: Path, values: dict[str, Any]) -> str:
    """Write the starter file at `path`, never over an existing file; the text is read back
    as a profile first, so that a bad value given for it is refused before anything is
    written. Returns the text."""
    import tomllib

    text = starter(values)
    # Checked as a profile, naming the settings given (the file does not exist yet).
    doc = Document("meso profile init", tomllib.loads(text))
    _check_holidays(Loaded(validate(doc, Profile)))
    if path.exists() or path.is_symlink():
        raise MesoError(f"{path} exists; meso profile init never replaces a profile")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_new(path, text)
    return text
