"""Codes from the classifications meso reads beside names: their systems, their written forms,
and how a code in a patient's record is matched against the codes in the data.

- ATC (WHO Anatomical Therapeutic Chemical classification): `B01AA03` (warfarin). A term
  carries full 7-character substance codes; a rule may name a class (`B01`, `M01A`), which
  every code beginning with it belongs to.
- ICD-10 (WHO, `icd10`) and ICD-10-CM (the United States' clinical modification, `icd10cm`):
  `E11.9`. A term carries categories, codes or ranges of them (`E10-E14`); a code matches
  an entry when it begins with it, or when its first characters fall inside the range.
- SNOMED CT concept ids: `73211009`, matched exactly; the last digit is a Verhoeff check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

System = Literal["atc", "icd10", "icd10cm", "snomed"]
SYSTEMS: tuple[System, ...] = ("atc", "icd10", "icd10cm", "snomed")

# How each system is named to people, and its canonical URI in FHIR R4
# (hl7.org/fhir/R4/namingsystem-terminologies.html; HL7 Terminology CodeSystems icd10,
# icd10CM and v3-WC for ATC).
SHOWN: dict[System, str] = {
    "atc": "ATC",
    "icd10": "ICD-10",
    "icd10cm": "ICD-10-CM",
    "snomed": "SNOMED CT",
}
FHIR_URI: dict[System, str] = {
    "atc": "http://www.whocc.no/atc",
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "snomed": "http://snomed.info/sct",
}
SYSTEM_OF_URI: dict[str, System] = {uri: system for system, uri in FHIR_URI.items()}

# ATC: the 14 anatomical main groups, then 2 digits, a letter, a letter, 2 digits (levels 1-5).
_ATC = re.compile(r"[ABCDGHJLMNPRSV](?:\d\d(?:[A-Z](?:[A-Z](?:\d\d)?)?)?)?")
# WHO ICD-10: a letter, two digits, and up to two more digits after a point.
_ICD10 = re.compile(r"[A-Z]\d\d(?:\.\d{1,2})?")
# ICD-10-CM: a letter, a digit, a digit or letter (O9A, C7A, Z3A), and up to four characters.
_ICD10CM = re.compile(r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?")
_SNOMED = re.compile(r"[1-9]\d{5,17}")

ATC_SUBSTANCE = 7  # a level-5 code names one chemical substance


def normalise(system: System, value: str) -> str:
    """The code as it is compared: upper case for ATC and ICD, and an ICD code written without
    its point (`E119`, as claims files often have it) given one (`E11.9`)."""
    text = value.strip()
    if system == "snomed":
        return text
    text = text.upper()
    if system in ("icd10", "icd10cm") and "." not in text and len(text) > 3 and "-" not in text:
        text = f"{text[:3]}.{text[3:]}"
    return text


def code_problem(system: System, value: str) -> str | None:
    """What is wrong with a single code written in `system`, or None."""
    shown = SHOWN[system]
    match system:
        case "atc":
            if not _ATC.fullmatch(value):
                return (
                    f"{value!r} is not an ATC code (a letter of the 14 main groups, then digits "
                    "and letters as in B01AA03)"
                )
        case "icd10":
            if not _ICD10.fullmatch(value):
                hint = "; that looks like ICD-10-CM: use system icd10cm" if _cm_only(value) else ""
                return f"{value!r} is not a WHO ICD-10 code (such as E11 or E11.9){hint}"
        case "icd10cm":
            if not _ICD10CM.fullmatch(value):
                return f"{value!r} is not an ICD-10-CM code (such as E11.9 or O9A.1)"
        case "snomed":
            if not _SNOMED.fullmatch(value):
                return f"{value!r} is not a {shown} concept id (6 to 18 digits)"
            if not verhoeff_valid(value):
                return f"{value!r} is not a {shown} id: its check digit is wrong"
            if value[-3:-1] not in ("00", "10"):
                return f"{value!r} is a {shown} id, but not of a concept (of a description?)"
    return None


def _cm_only(value: str) -> bool:
    return _ICD10CM.fullmatch(value) is not None


# --- Verhoeff check digit (SNOMED CT identifiers) --------------------------------------------

_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
# The position permutations: each row applies the first one once more.
_P = [list(range(10)), [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]]
while len(_P) < 8:
    _P.append([_P[1][x] for x in _P[-1]])


def verhoeff_valid(digits: str) -> bool:
    """Whether the last digit of `digits` is its Verhoeff check digit (SNOMED CT ids carry one;
    a typo of one digit or a swap of two neighbours is always caught)."""
    check = 0
    for i, char in enumerate(reversed(digits)):
        check = _D[check][_P[i % 8][int(char)]]
    return check == 0


# --- entries in the data: a code, a category, or a range --------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """An ICD entry of the data as the codes it covers: every code whose first `len(low)`
    characters lie between `low` and `high` (a single code or category has low == high)."""

    low: str
    high: str

    @property
    def width(self) -> int:
        return len(self.low)

    def covers_code(self, code: str) -> bool:
        head = code[: self.width]
        return len(code) >= self.width and self.low <= head <= self.high

    def overlaps(self, other: Span) -> bool:
        """Whether some code falls in both: the longer entry's ends, cut to the shorter
        entry's width, form a range that meets the shorter one."""
        short, long = (self, other) if self.width <= other.width else (other, self)
        low, high = long.low[: short.width], long.high[: short.width]
        return not (high < short.low or low > short.high)

    def covers(self, other: Span) -> bool:
        """Whether every code `other` covers, this covers too."""
        if self.width > other.width:
            return False
        return self.low <= other.low[: self.width] and other.high[: self.width] <= self.high


def span(entry: str) -> Span:
    """`E10-E14` -> Span(E10, E14); `Z39.1` -> Span(Z39.1, Z39.1)."""
    low, _, high = entry.partition("-")
    return Span(low, high or low)


def entry_problem(system: System, entry: str) -> str | None:
    """What is wrong with a code entry of the data (ICD entries may be ranges), or None."""
    if system not in ("icd10", "icd10cm") or "-" not in entry:
        return code_problem(system, entry)
    low, _, high = entry.partition("-")
    for end in (low, high):
        problem = code_problem(system, end)
        if problem is not None:
            return problem
    if len(low) != len(high):
        return f"{entry!r}: both ends of a range are written to the same length ({low}, {high})"
    if low >= high:
        return f"{entry!r}: the range must run from the lower code to the higher"
    return None


def atc_in(code: str, group: str) -> bool:
    """Whether the ATC code belongs to the class `group` (B01AA03 is in B01, B01A, B01AA)."""
    return code.startswith(group)
