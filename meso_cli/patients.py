"""Reads a patient file (YAML or JSON, a path or `-`) into a validated Patient."""

from __future__ import annotations

import sys
from datetime import date

from meso_cli.data import MAX_BYTES, parse, read_text, reject_nulls, validate
from meso_cli.errors import file_error
from meso_cli.models import Patient


def _stdin() -> bytes:
    # One byte over the limit is enough to refuse it; never read an endless stream whole.
    return sys.stdin.buffer.read(MAX_BYTES + 1)


def load_patient(path: str, on: date | None = None) -> Patient:
    """The patient in `path`; with `on`, a birth date after that day (or an age that does not
    fit the birth date) is refused here, with the file and line, rather than by the engine."""
    shown = "<stdin>" if path == "-" else path
    doc = parse(read_text(path, _stdin), shown)
    if isinstance(doc.value, dict):
        reject_nulls(doc)
    patient = validate(doc, Patient)
    if on is not None and patient.birth_date is not None:
        from meso_cli.screening import age_on

        line = doc.line_of(("birth_date",))
        if patient.birth_date > on:
            raise file_error(
                shown, line,
                f"birth_date: {patient.birth_date} is after the reference date {on}; "
                "check the year",
            )
        if patient.age is not None and age_on(patient.birth_date, on) != patient.age:
            raise file_error(
                shown, doc.line_of(("age",)),
                f"age: {patient.age} does not match birth_date {patient.birth_date} "
                f"(age {age_on(patient.birth_date, on)} on {on}); give one of them",
            )
    return patient
