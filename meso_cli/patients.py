"""Reads a patient file (YAML or JSON, a path or `-`) into a validated Patient."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any, Literal

from meso_cli.clinic import FIRST_YEAR, ISO_DAY, year_problem
from meso_cli.core import (
    MAX_ENTRIES,
    MAX_NAME,
    ConditionEntry,
    MedicationEntry,
    Patient,
    SunPeriod,
)
from meso_cli.documents import MAX_BYTES, Document, Loc, parse, read_text, reject_nulls
from meso_cli.errors import FileProblems, Problem


def _stdin() -> bytes:
    # One byte over the limit is enough to refuse it; never read an endless stream whole.
    return sys.stdin.buffer.read(MAX_BYTES + 1)


def load_patient(path: str, on: date | None = None) -> Patient:
    """The patient in `path`; with `on`, a birth date after that day (or an age that does not
    fit the birth date) is refused here, with the file and line, rather than by the engine,
    and so is a session listed as done after it."""
    shown = "<stdin>" if path == "-" else path
    text = read_text(path, _stdin)
    doc = parse(text, shown)
    if isinstance(doc.value, dict):
        reject_nulls(doc)
    patient = validated(doc)
    problems = [
        Problem(shown, _line(doc, patient, loc), message)
        for loc, message in date_problems(patient, on)
    ]
    if on is not None and patient.birth_date is not None:
        from meso_cli.screening import age_on

        line = doc.line_of(("birth_date",))
        if patient.birth_date > on:
            problems.append(
                Problem(
                    shown,
                    line,
                    f"birth_date: {patient.birth_date} is after the reference date {on}; "
                    "check the year",
                )
            )
        elif patient.age is not None and age_on(patient.birth_date, on) != patient.age:
            problems.append(
                Problem(
                    shown,
                    doc.line_of(("age",)),
                    f"age: {patient.age} does not match birth_date {patient.birth_date} "
                    f"(age {age_on(patient.birth_date, on)} on {on}); give one of them",
                )
            )
    if problems:
        problems.sort(key=lambda p: p.line or 0)  # as they come in the file
        raise FileProblems(problems[0].message, problems=problems)
    return patient


def validated(doc: Document) -> Patient:
    """The patient in a parsed file: read directly when it is plainly well formed, else by
    the pydantic model, which also words the errors. Both give the same Patient
    (tests/test_patients_fast.py); the direct reading spares a screen the import of pydantic."""
    plain = from_plain(doc.value)
    if plain is not None:
        return plain
    from meso_cli.models import Patient as PatientModel
    from meso_cli.models import to_core
    from meso_cli.validation import validate

    patient: Patient = to_core(validate(doc, PatientModel))
    return patient


# --- the direct reading ----------------------------------------------------------------------
# It accepts only what the model accepts, and builds what the model builds; anything it is not
# sure of (a wrong type, an unknown key, a date written another way) it leaves to the model by
# returning None. It never words an error: the model does.

_KEYS = frozenset(Patient._fields)
_SEXES: dict[Any, Literal["female", "male", "other"]] = {
    "female": "female",
    "male": "male",
    "other": "other",
}


class _Unsure(Exception):
    pass


def _day(value: Any) -> date:
    if type(value) is date:
        return value
    if type(value) is str and ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Unsure


def _name(value: Any) -> str:
    if type(value) is str and 0 < len(value) <= MAX_NAME:
        return value
    raise _Unsure


def _entries(value: Any) -> list[Any]:
    if type(value) is list and len(value) <= MAX_ENTRIES:
        return value
    raise _Unsure


def _dated(value: Any, key: str) -> tuple[str, date | None]:
    if type(value) is str:
        return _name(value), None
    if type(value) is not dict or not value.keys() <= {"name", key} or "name" not in value:
        raise _Unsure
    when = value.get(key)
    return _name(value["name"]), None if when is None else _day(when)


def _flag(value: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise _Unsure


def from_plain(value: Any) -> Patient | None:
    """The Patient of a plainly well-formed mapping, or None to leave it to the model."""
    if type(value) is not dict or not value.keys() <= _KEYS:
        return None
    try:
        get = value.get
        pid = get("id")
        if pid is not None and not (type(pid) is str and 0 < len(pid) <= MAX_NAME):
            raise _Unsure
        birth = get("birth_date")
        if birth is not None:
            birth = _day(birth)
            if birth.year < FIRST_YEAR:
                raise _Unsure
        age = get("age")
        if age is not None and not (type(age) is int and 0 <= age <= 130):
            raise _Unsure
        if birth is None and age is None:
            raise _Unsure
        sex = get("sex")
        if sex is not None and (type(sex) is not str or sex not in _SEXES):
            raise _Unsure
        conditions = [
            ConditionEntry(name=n, resolved_on=d)
            for n, d in (_dated(c, "resolved_on") for c in _entries(get("conditions", [])))
        ]
        medications = [
            MedicationEntry(name=n, last_dose=d)
            for n, d in (_dated(m, "last_dose") for m in _entries(get("medications", [])))
        ]
        allergies = [_name(a) for a in _entries(get("allergies", []))]
        sun = []
        for period in _entries(get("sun_exposure", [])):
            if type(period) is not dict or period.keys() != {"from", "to"}:
                raise _Unsure
            start, end = _day(period["from"]), _day(period["to"])
            if end < start:
                raise _Unsure
            sun.append(SunPeriod(start=start, end=end))
        done = [_day(d) for d in _entries(get("sessions_done", []))]
        if len(set(done)) != len(done):
            raise _Unsure
        return Patient(
            id=pid,
            birth_date=birth,
            age=age,
            sex=None if sex is None else _SEXES[sex],
            pregnant=_flag(get("pregnant")),
            breastfeeding=_flag(get("breastfeeding")),
            fever=_flag(get("fever")),
            conditions=conditions,
            medications=medications,
            allergies=allergies,
            sun_exposure=sun,
            sessions_done=sorted(done),
        )
    except _Unsure:
        return None


def date_problems(patient: Patient, on: date | None) -> list[tuple[Loc, str]]:
    """Dates that cannot be meant: a year outside 1900-2100 (a typo, and date arithmetic on
    9999 overflows), or, with the reference date `on`, a session done after it.

    Each comes with where it is in the patient, for a file's line; a batch line says it alone.
    """
    dated: list[tuple[Loc, str, date | None]] = []
    for i, c in enumerate(patient.conditions):
        dated.append(
            (("conditions", i, "resolved_on"), f"conditions[{i}].resolved_on", c.resolved_on)
        )
    for i, m in enumerate(patient.medications):
        dated.append((("medications", i, "last_dose"), f"medications[{i}].last_dose", m.last_dose))
    for i, s in enumerate(patient.sun_exposure):
        dated.append((("sun_exposure", i, "from"), f"sun_exposure[{i}].from", s.start))
        dated.append((("sun_exposure", i, "to"), f"sun_exposure[{i}].to", s.end))
    for i, given in enumerate(patient.sessions_done):
        dated.append((("sessions_done", i), "sessions_done", given))
    problems: list[tuple[Loc, str]] = []
    for loc, label, day in dated:
        if day is None:
            continue
        wrong = year_problem(day)
        if wrong is not None:
            problems.append((loc, f"{label}: {wrong}"))
        elif loc[0] == "sessions_done" and on is not None and day > on:
            problems.append(
                (
                    loc,
                    f"sessions_done: {day} is after the reference date {on}; "
                    "list only sessions already given",
                )
            )
    return problems


def _line(doc: Document, patient: Patient, loc: Loc) -> int | None:
    if loc[0] == "sessions_done" and len(loc) == 2:
        # The model sorts sessions_done: find the entry where the file wrote it.
        day = patient.sessions_done[int(loc[1])]
        written = doc.value.get("sessions_done") if isinstance(doc.value, dict) else None
        if isinstance(written, list):
            at = next((i for i, v in enumerate(written) if str(v) == str(day)), None)
            if at is not None:
                return doc.line_of(("sessions_done", at))
        return doc.line_of(("sessions_done",))
    return doc.line_of(loc)
