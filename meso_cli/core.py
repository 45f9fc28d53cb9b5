"""The objects the engine and the planner work on: plain records, no pydantic.

`meso_cli.models` holds the pydantic models that validate the files and generate the JSON
Schemas; what passes validation is turned into these (`models.to_core`), field for field.
A command that only screens or plans never imports pydantic, so it starts as fast as the
import of its own stack allows. tests/test_core.py fails if a class here and its model
disagree on a field, its order or its default.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any, Literal

from meso_cli.record import Record, field

SCHEMA_VERSION = "1"
MAX_ENTRIES = 200  # per list in a patient record
MAX_NAME = 200  # characters in a name or id


class Action(StrEnum):
    EXCLUDE = "exclude"
    REVIEW = "review"
    DEFER = "defer"


class Verdict(StrEnum):
    ELIGIBLE = "eligible"
    DEFERRED = "deferred"
    REVIEW = "review"
    NOT_ELIGIBLE = "not_eligible"


class TermKind(StrEnum):
    CONDITION = "condition"
    MEDICATION = "medication"
    INGREDIENT = "ingredient"


# --- clinical data -------------------------------------------------------------------------


class Term(Record):
    id: str
    names: list[str]
    note: str | None = None
    sources: list[str] = field(default_factory=list)


class AgeBelow(Record):
    age_below: int


class AgeAbove(Record):
    age_above: int


class Flag(Record):
    flag: Literal["pregnant", "breastfeeding", "fever"]


class HasCondition(Record):
    conditions: list[str]


class TakesMedication(Record):
    medications: list[str]
    washout_days: int | None = None


class MedicationCount(Record):
    medication_count_at_least: int


class IngredientAllergy(Record):
    ingredient_allergy: Literal[True]


class UnrecognizedTerm(Record):
    unrecognized_term: Literal[True]


class AnyOf(Record):
    any: list[Trigger]


Trigger = (
    AgeBelow
    | AgeAbove
    | Flag
    | HasCondition
    | TakesMedication
    | MedicationCount
    | IngredientAllergy
    | UnrecognizedTerm
    | AnyOf
)


class Rule(Record):
    id: str
    action: Action
    title: str
    when: list[Trigger]
    rationale: str
    advice: str
    sources: list[str]


class Interval(Record):
    min: int
    target: int
    max: int


class Cadence(Interval):
    per_week: int


class SessionCount(Record):
    min: int
    default: int
    max: int
    usual_max: int | None = None


class Phase(Record):
    id: str
    name: str
    sessions: SessionCount
    interval_days: Interval
    per_week: list[Cadence] = field(default_factory=list)
    maintenance: bool = False
    sources: list[str]


class CareItem(Record):
    id: str
    text: str
    days_before_first: int | None = None
    days_after_each: int | None = None
    hours_after_each: int | None = None
    days_after_last: int | None = None
    rule: str | None = None
    injections_only: bool = False
    sources: list[str]


class Range(Record):
    min: float
    max: float


class Protocol(Record):
    id: str
    name: str
    indications: list[str]
    injects: bool
    session_minutes: int | None = None
    needle_depth_mm: Range | None = None
    ingredients: list[str]
    exempt_rules: list[str] = field(default_factory=list)
    exempt_reason: str | None = None
    phases: list[Phase]
    precare: list[CareItem] = field(default_factory=list)
    aftercare: list[CareItem] = field(default_factory=list)
    results: str
    maintenance: str | None = None
    sources: list[str]

    def course_phases(self) -> list[Phase]:
        return [p for p in self.phases if not p.maintenance]


class Dataset(Record):
    """Everything loaded from a data directory, with the sha256 of the files used."""

    terms: dict[TermKind, list[Term]]
    rules: list[Rule]
    protocols: list[Protocol]
    common_precare: list[CareItem]
    common_aftercare: list[CareItem]
    version: str

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def protocol(self, protocol_id: str) -> Protocol | None:
        return next((p for p in self.protocols if p.id == protocol_id), None)


# --- the patient ---------------------------------------------------------------------------


class ConditionEntry(Record):
    name: str
    resolved_on: dt.date | None = None


class MedicationEntry(Record):
    name: str
    last_dose: dt.date | None = None


class SunPeriod(Record):
    start: dt.date  # "from" in a file
    end: dt.date  # "to" in a file


class Patient(Record):
    id: str | None = None
    birth_date: dt.date | None = None
    age: int | None = None
    sex: Literal["female", "male", "other"] | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    fever: bool | None = None
    conditions: list[ConditionEntry] = field(default_factory=list)
    medications: list[MedicationEntry] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    sun_exposure: list[SunPeriod] = field(default_factory=list)
    sessions_done: list[dt.date] = field(default_factory=list)


# --- results -------------------------------------------------------------------------------


class Finding(Record):
    rule: str
    action: Action
    title: str
    detail: str
    matched: str | None
    until: dt.date | None
    sources: list[str]
    cleared: bool
    advice: str
    suggestions: list[str] = field(default_factory=list)


class Screening(Record):
    patient_id: str | None
    protocol: str | None
    reference_date: dt.date
    verdict: Verdict
    earliest_start: dt.date | None
    findings: list[Finding]
    data_version: str
    evaluated_on: dt.date
    assumed: list[str]
    cleared: list[str]
    not_applicable: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION
    meso_version: str


class Session(Record):
    number: int
    date: dt.date
    phase: str
    days_since_previous: int | None
    done: bool
    note: str | None = None


class KeyDates(Record):
    stop_nsaids_by: dt.date | None
    first_session: dt.date | None
    last_session: dt.date | None
    sun_avoid_until: dt.date | None


class Plan(Record):
    screening: Screening
    protocol: str
    sessions: list[Session]
    key_dates: KeyDates
    aftercare: list[str]
    warnings: list[str]
    start_moved_from: dt.date | None = None
    schema_version: str = SCHEMA_VERSION
    meso_version: str


# --- JSON ----------------------------------------------------------------------------------


def _as_json(value: Any) -> Any:
    # Called by the C encoder only for what JSON has no type for: a record's __dict__ holds
    # its fields in order (its __init__ sets them so), a date is written YYYY-MM-DD.
    if isinstance(value, Record):
        held = value.__dict__
        if len(held) == len(value._fields):
            return held
        return {name: held[name] for name in value._fields}  # something else was set on it
    if type(value) is dt.date:
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_compact = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, default=_as_json
).encode


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text, compact (one line) unless `indent` is given; non-ASCII written as is."""
    if indent is None:
        return _compact(value)
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_as_json)
