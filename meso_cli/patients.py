"""Reads a patient file (YAML or JSON, a path or `-`) into a validated Patient."""

from __future__ import annotations

import sys
from datetime import date

from meso_cli.clinic import year_problem
from meso_cli.data import MAX_BYTES, Document, parse, read_text, reject_nulls, validate
from meso_cli.errors import FileProblems, Problem
from meso_cli.models import Patient

Loc = tuple[str | int, ...]


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
    patient = validate(doc, Patient)
    problems = [
        Problem(shown, _line(doc, patient, loc), message)
        for loc, message in date_problems(patient, on)
    ]
    if on is not None and patient.birth_date is not None:
        from meso_cli.screening import age_on

        line = doc.line_of(("birth_date",))
        if patient.birth_date > on:
            problems.append(Problem(
                shown, line,
                f"birth_date: {patient.birth_date} is after the reference date {on}; "
                "check the year",
            ))
        elif patient.age is not None and age_on(patient.birth_date, on) != patient.age:
            problems.append(Problem(
                shown, doc.line_of(("age",)),
                f"age: {patient.age} does not match birth_date {patient.birth_date} "
                f"(age {age_on(patient.birth_date, on)} on {on}); give one of them",
            ))
    if problems:
        problems.sort(key=lambda p: p.line or 0)  # as they come in the file
        raise FileProblems(problems[0].message, problems=problems)
    return patient


def date_problems(patient: Patient, on: date | None) -> list[tuple[Loc, str]]:
    """Dates that cannot be meant: a year outside 1900-2100 (a typo, and date arithmetic on
    9999 overflows), or, with the reference date `on`, a session done after it.

    Each comes with where it is in the patient, for a file's line; a batch line says it alone.
    """
    dated: list[tuple[Loc, str, date | None]] = []
    for i, c in enumerate(patient.conditions):
        dated.append((("conditions", i, "resolved_on"), f"conditions[{i}].resolved_on",
                      c.resolved_on))
    for i, m in enumerate(patient.medications):
        dated.append((("medications", i, "last_dose"), f"medications[{i}].last_dose",
                      m.last_dose))
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
            problems.append((
                loc,
                f"sessions_done: {day} is after the reference date {on}; "
                "list only sessions already given",
            ))
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
