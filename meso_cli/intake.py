"""The intake questionnaire's answers: each checked as typed, known terms suggested; no I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from meso_cli.dates import parse_day
from meso_cli.errors import MesoError
from meso_cli.matching import Vocabulary
from meso_cli.models import Patient, SunPeriod

YES = {"y", "yes", "j", "ja", "oui", "si", "true"}
NO = {"n", "no", "nein", "non", "false"}
DONE = {"", "none", "no", "n", "-"}


class BadAnswer(ValueError):
    """An answer that cannot be used: the message says what to type instead."""


def yes_no(text: str) -> bool:
    word = text.strip().casefold()
    if word in YES:
        return True
    if word in NO:
        return False
    raise BadAnswer("please answer y (yes) or n (no)")


SEXES = {
    "f": "female",
    "female": "female",
    "m": "male",
    "male": "male",
    "o": "other",
    "other": "other",
}


def sex(text: str) -> str:
    """`f`, `m`, `o` or the words: the patient file's `sex`."""
    word = text.strip().casefold()
    if word in SEXES:
        return SEXES[word]
    raise BadAnswer("please answer f (female), m (male) or o (other)")


def asks_pregnancy(sex: str | None) -> bool:
    """Whether pregnancy and breastfeeding apply: for every patient but a male one (the
    status-not-stated rule reviews them when left out for anyone else)."""
    return sex != "male"


def _date(text: str, what: str) -> date:
    """As a date option is read (YYYY-MM-DD, a real day, 1900-2100), with an example."""
    try:
        return parse_day(text, what, expected="a date as YYYY-MM-DD, e.g. 2026-11-20")
    except MesoError as exc:
        raise BadAnswer(str(exc)) from None


def age_or_birth_date(text: str, *, on: date) -> dict[str, Any]:
    """`52` -> {age: 52}; `1974-05-02` -> {birth_date: 1974-05-02}."""
    value = text.strip()
    if re.fullmatch(r"\d{1,3}", value):
        age = int(value)
        if age > 130:
            raise BadAnswer(f"{age} years? Type the age in whole years (0–130)")
        return {"age": age}
    if not value:
        raise BadAnswer("the age (e.g. 52) or the birth date (e.g. 1974-05-02) is needed")
    born = _date(value, "birth date")
    if born > on:
        raise BadAnswer(f"a birth date cannot be after {on}")
    return {"birth_date": born}


def past_date_or_none(text: str, *, on: date, what: str) -> date | None:
    """Enter means none; a date after the reference day is refused (a last dose to come?)."""
    if not text.strip():
        return None
    day = _date(text, what)
    if day > on:
        raise BadAnswer(f"{what} {day} is after {on}; leave it empty if still taking it")
    return day


def date_or_none(text: str, *, what: str) -> date | None:
    return None if not text.strip() else _date(text, what)


@dataclass(frozen=True)
class TermAnswer:
    """A name as typed, the known terms it was read as, and close known names if none."""

    name: str
    read_as: list[str]
    suggestions: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.read_as)


def term(text: str, vocabulary: Vocabulary) -> TermAnswer:
    name = " ".join(text.split())
    found = vocabulary.match(name)
    if found:
        return TermAnswer(name, [m.name for m in found])
    return TermAnswer(name, [], vocabulary.suggest(name))


def choice(text: str, answer: TermAnswer) -> str | None:
    """After an unknown term: a number picks a suggestion, `k` keeps it; else None (retype)."""
    word = text.strip().casefold()
    if word in ("k", "keep"):
        return answer.name
    if word.isdigit() and 1 <= int(word) <= len(answer.suggestions):
        return answer.suggestions[int(word) - 1]
    return None


def sun_period(text: str) -> SunPeriod:
    """`2027-02-01..2027-02-14` or `2027-02-01 to 2027-02-14`; one day alone is that day."""
    parts = [p for p in re.split(r"\s*(?:\.\.|\bto\b|–|—|\s)\s*", text.strip()) if p]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise BadAnswer("type the dates as FROM..TO, e.g. 2027-02-01..2027-02-14")
    start, end = _date(parts[0], "from"), _date(parts[1], "to")
    if end < start:
        raise BadAnswer(f"the holiday ends ({end}) before it starts ({start})")
    return SunPeriod(start=start, end=end)


# --- the patient file ----------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | date):
        return str(value) if not isinstance(value, date) else value.isoformat()
    # A JSON string is a valid YAML double-quoted scalar: no quoting surprises ("no", "1e3").
    return json.dumps(str(value), ensure_ascii=False)


def _mapping(entry: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in entry.items() if v is not None) + "}"


def patient_yaml(patient: Patient, *, header: str = "") -> str:
    """The patient as a YAML file `meso screen` reads back, in the order of the spec."""
    lines = [f"# {line}" for line in header.splitlines()]
    for key in ("id", "name", "birth_date", "age", "sex", "pregnant", "breastfeeding", "fever"):
        value = getattr(patient, key)
        if value is not None:
            lines.append(f"{key}: {_scalar(value)}")
    lists: dict[str, list[str]] = {
        "conditions": [
            _mapping({"name": c.name, "resolved_on": c.resolved_on})
            if c.resolved_on
            else _scalar(c.name)
            for c in patient.conditions
        ],
        "medications": [
            _mapping({"name": m.name, "last_dose": m.last_dose}) if m.last_dose else _scalar(m.name)
            for m in patient.medications
        ],
        "allergies": [_scalar(a.name) for a in patient.allergies],
        "sun_exposure": [_mapping({"from": s.start, "to": s.end}) for s in patient.sun_exposure],
        "sessions_done": [_scalar(d) for d in patient.sessions_done],
    }
    for key, items in lists.items():
        if not items:
            lines.append(f"{key}: []")
            continue
        lines.append(f"{key}:")
        lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines) + "\n"
