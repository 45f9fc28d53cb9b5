"""Patients: a patient file (YAML or JSON, a path or `-`), or the quick-screen options
(`--age 52 --medication warfarin`), alone or over a file, as a validated Patient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from meso_cli.dates import parse_day
from meso_cli.documents import Document, parse, reject_nulls, validate
from meso_cli.errors import MesoError
from meso_cli.files import read_text
from meso_cli.matching import tokens
from meso_cli.models import AGE_RANGE, Patient, first_error


def load_patient(path: str, on: date | None = None) -> Patient:
    """The patient in `path`: a patient file, or a FHIR R4 Bundle. With the reference date
    `on`, a birth date after that day, an age that does not fit the birth date, or a session
    listed as done after it is refused here, with the file and line."""
    shown = "<stdin>" if path == "-" else path
    return patient_from_text(read_text(path), shown, on=on)


def patient_from_text(text: str, shown: str, *, on: date | None = None) -> Patient:
    """The patient in the text of a file named `shown`, read as `load_patient` reads it."""
    doc = parse(text, shown)
    if isinstance(doc.value, dict):
        reject_nulls(doc)
    return patient_from(doc, on)


def patient_from(doc: Document, on: date | None = None) -> Patient:
    """A parsed document as a Patient: a FHIR R4 Bundle when it names its `resourceType`
    (read by fhir_in, which alone imports fhir.resources), else a patient file."""
    if isinstance(doc.value, dict) and "resourceType" in doc.value:
        from meso_cli.fhir_in import patient_from_bundle

        return patient_from_bundle(doc, on)
    return validate(doc, Patient, context={"on": on} if on is not None else None)


# --- quick-screen options ------------------------------------------------------------------


def parse_age(text: str, option: str = "--age") -> int:
    """`--age 52`: a whole number 0-130, in the words a file's `age` is refused with (a
    number of thousands of digits too, which Python would refuse with a hint of its own)."""
    value = text.strip()
    digits = value.removeprefix("-")
    if digits.isascii() and digits.isdigit():
        if len(digits) <= 3 and 0 <= int(value) <= 130:
            return int(value)
        if len(digits) > 12:
            raise MesoError(f"{option}: a {len(digits)}-digit number is not {AGE_RANGE}")
    raise MesoError(f"{option}: {text!r} is not {AGE_RANGE}")


SEPARATOR = "@"


@dataclass(frozen=True)
class QuickOptions:
    """What the practitioner typed on the command line; None or empty means 'not given'."""

    id: str | None = None
    age: int | None = None
    birth_date: date | None = None
    sex: str | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    fever: bool | None = None
    conditions: Sequence[str] = ()
    medications: Sequence[str] = ()
    allergies: Sequence[str] = ()

    def given(self) -> bool:
        return any(
            v not in (None, (), [])
            for v in (
                self.id,
                self.age,
                self.birth_date,
                self.sex,
                self.pregnant,
                self.breastfeeding,
                self.fever,
                self.conditions,
                self.medications,
                self.allergies,
            )
        )


def split_dated(text: str, option: str, date_key: str) -> dict[str, Any]:
    """`ibuprofen@2026-11-20` -> {name: ibuprofen, last_dose: 2026-11-20}; a bare name stays.

    Exactly one @, a name before it and a real date after it: anything else is refused, never
    read some other way (`a@2026-11-20@2026-01-01` is not a medication named `a@2026-11-20`).
    """
    name, *rest = (part.strip() for part in text.split(SEPARATOR))
    what = f"{option} {text!r}"
    shape = f"NAME or NAME{SEPARATOR}YYYY-MM-DD ({date_key.replace('_', ' ')})"
    if not rest:
        if not name:
            raise MesoError(f"{option}: empty name")
        return {"name": name}
    if len(rest) > 1:
        raise MesoError(f"{what}: more than one {SEPARATOR}; expected {shape}")
    if not name:
        raise MesoError(f"{what}: a name is needed before {SEPARATOR}; expected {shape}")
    if not rest[0]:
        raise MesoError(f"{what}: a date is needed after {SEPARATOR}; expected {shape}")
    return {"name": name, date_key: parse_day(rest[0], what, expected=shape)}


def _bare_name(text: str, option: str) -> dict[str, Any]:
    """An allergy: a name alone, with no date to give."""
    name = text.strip()
    if not name:
        raise MesoError(f"{option}: empty name")
    return {"name": name}


def _key(name: str) -> str:
    return " ".join(tokens(name))


def _merge_named(
    old: list[dict[str, Any]], new: list[dict[str, Any]], what: str, notes: list[str]
) -> list[dict[str, Any]]:
    """Options add to the file's list; an entry with the same name replaces the file's entry."""
    merged = list(old)
    for entry in new:
        at = next(
            (i for i, e in enumerate(merged) if _key(e.get("name", "")) == _key(entry["name"])),
            None,
        )
        if at is None:
            merged.append(entry)
            notes.append(f"{what} {_show(entry)} added")
        elif merged[at] != entry:
            notes.append(f"{what} {_show(merged[at])} replaced by {_show(entry)}")
            merged[at] = entry
    return merged


def _show(entry: dict[str, Any]) -> str:
    extra = [
        f"{k.replace('_', ' ')} {v}" for k, v in entry.items() if k not in ("name", "code") and v
    ]
    codes = ", ".join(f"{c['system']} {c['value']}" for c in entry.get("code") or [])
    return str(entry.get("name") or codes) + (f" ({', '.join(extra)})" if extra else "")


def quick_patient(
    opts: QuickOptions, base: Patient | None = None, *, on: date | None = None
) -> tuple[Patient, list[str]]:
    """The patient the options describe, over `base` when a file was given, read for the
    reference date `on` as a file is.

    Returns the patient and one note per value of the file the options changed. Scalars
    (id, age, birth date, flags) replace the file's; list entries are added, and an entry
    naming a condition, medication or allergy already in the file replaces that entry.
    """
    if base is None and opts.age is None and opts.birth_date is None:
        raise MesoError(
            "give a patient file, or --age or --birth-date for a quick screen "
            "(e.g. meso screen --age 52 --medication warfarin --protocol hair)"
        )
    fields: dict[str, Any] = base.model_dump(by_alias=True, exclude_none=True) if base else {}
    notes: list[str] = []

    def put(key: str, value: Any, shown: str) -> None:
        if value is None:
            return
        old = fields.get(key)
        if base is not None and old != value:
            was = f" (the file says {_word(old)})" if old is not None else ""
            notes.append(f"{shown}: {_word(value)}{was}")
        fields[key] = value

    put("id", opts.id, "id")
    if opts.age is not None or opts.birth_date is not None:
        # A new age or birth date replaces both: the file's other one could contradict it.
        ours = {"age": opts.age, "birth_date": opts.birth_date}
        theirs = {k: fields.pop(k) for k in ("age", "birth_date") if k in fields}
        fields.update({k: v for k, v in ours.items() if v is not None})
        if base is not None and theirs != {k: v for k, v in ours.items() if v is not None}:
            new = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in ours.items() if v is not None)
            was = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in theirs.items())
            notes.append(new + (f" (the file says {was})" if was else ""))
    put("sex", opts.sex.strip().lower() if opts.sex is not None else None, "sex")
    for flag in ("pregnant", "breastfeeding", "fever"):
        put(flag, getattr(opts, flag), flag)

    conditions = [split_dated(c, "--condition", "resolved_on") for c in opts.conditions]
    medications = [split_dated(m, "--medication", "last_dose") for m in opts.medications]
    allergies = [_bare_name(a, "--allergy") for a in opts.allergies]
    fields["conditions"] = _merge_named(
        fields.get("conditions", []), conditions, "condition", notes
    )
    fields["medications"] = _merge_named(
        fields.get("medications", []), medications, "medication", notes
    )
    fields["allergies"] = _merge_named(fields.get("allergies", []), allergies, "allergy", notes)
    if base is None:
        notes = []
    context = {"on": on} if on is not None else None
    try:
        patient = Patient.model_validate(_compact(fields), context=context)
        return patient.noting(base.record_notes if base is not None else ()), notes
    except ValidationError as exc:
        raise MesoError(f"quick screen: {first_error(exc)}") from None


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Bare names where there is no date, as a hand-written file would have them."""
    out = dict(fields)
    for key in ("conditions", "medications", "allergies"):
        out[key] = [e["name"] if list(e) == ["name"] else e for e in out.get(key, [])]
    return out
