"""Pydantic v2 models: the clinical data, the patient, and every result the tool returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from meso_cli.dates import ISO_DAY, age_on, year_problem

SCHEMA_VERSION: Final = "1"
# The same version as a type, so that every output schema states it as a `const`.
SchemaVersion = Literal["1"]
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


class NoteCode(StrEnum):
    """What a warning or an assumption is about: stable, for scripts (the text is for people)."""

    # assumptions: what the screening took as given
    NOT_STATED = "not-stated"  # a flag left out of the file, taken as no
    AGE_WITHOUT_BIRTH_DATE = "age-without-birth-date"
    RESOLVED = "resolved"  # a condition resolved by the day the rules were applied
    TAKEN_NOW = "taken-now"  # a medication with no last dose
    LAPSED_BY_START = "lapsed-by-start"  # ruled out on the reference date, not on the start
    # warnings: what a plan calls out
    NO_PLAN = "no-plan"
    START_MOVED = "start-moved"
    LATE_FIRST_SESSION = "late-first-session"
    RESCREENED = "rescreened"  # screened again on the first open day, which ruled it out
    INTERVAL_ABOVE_MAXIMUM = "interval-above-maximum"
    INTERVAL_BELOW_MINIMUM = "interval-below-minimum"
    COURSE_COMPLETE = "course-complete"
    ABOVE_USUAL_COUNT = "above-usual-count"
    SUN_OVERLAP = "sun-overlap"
    STOP_NSAIDS_PASSED = "stop-nsaids-passed"


class TermKind(StrEnum):
    CONDITION = "condition"
    MEDICATION = "medication"
    INGREDIENT = "ingredient"


def _iso_date(value: Any) -> date:
    # Only a real calendar date or a YYYY-MM-DD string: pydantic's lax mode would read an
    # integer as a Unix timestamp (`birth_date: 1988` -> 1970-01-01), which must not pass.
    # A year outside 1900-2100 is a typo (1086 for 1986), refused like a date that is not real.
    if type(value) is date:
        day = value
    elif isinstance(value, str) and ISO_DAY.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date") from exc
    else:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    problem = year_problem(day)
    if problem is not None:
        raise ValueError(problem)
    return day


# A date a person wrote (a file, a batch line, an option): YYYY-MM-DD, in 1900-2100.
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def _reference_date(info: ValidationInfo) -> date | None:
    """The reference date a patient is read for (`context={"on": day}`), if one was given."""
    context = info.context
    on = context.get("on") if isinstance(context, dict) else None
    return on if isinstance(on, date) else None


class Strict(BaseModel):
    # defer_build: a model's validator is built the first time it is used, not when the class
    # is created, so a command pays only for the models it touches.
    # Every field of an output is always written, defaults included: the output schemas say so.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        json_schema_serialization_defaults_required=True,
    )


# --- clinical data -------------------------------------------------------------------------


class Term(Strict):
    """A name a practitioner may type, with its synonyms and brand names."""

    id: StrictStr = Field(description="Stable id used by rules and protocols.")
    names: list[StrictStr] = Field(
        min_length=1, description="Display name first, then synonyms, brand names, spellings."
    )
    note: StrictStr | None = Field(default=None, description="Why this term is known.")
    sources: list[StrictStr] = Field(default_factory=list)


class AgeBelow(Strict):
    age_below: StrictInt = Field(description="Fires when the age on the start date is below this.")


class AgeAbove(Strict):
    age_above: StrictInt = Field(description="Fires when the age on the start date is above this.")


class Flag(Strict):
    flag: Literal["pregnant", "breastfeeding", "fever"]


class HasCondition(Strict):
    conditions: list[StrictStr] = Field(
        min_length=1, description="Condition term ids; any active one fires the rule."
    )


class TakesMedication(Strict):
    medications: list[StrictStr] = Field(
        min_length=1, description="Medication term ids; any one listed fires the rule."
    )
    washout_days: StrictInt | None = Field(
        default=None,
        ge=1,
        description="With a washout, the rule fires only if the last dose is fewer than this "
        "many days before the start, and lasts until last dose + washout.",
    )


class MedicationCount(Strict):
    medication_count_at_least: StrictInt = Field(
        ge=1, description="Fires when the patient lists at least this many medications."
    )


class IngredientAllergy(Strict):
    ingredient_allergy: Literal[True] = Field(
        description="Fires on an allergy to an ingredient of the chosen protocol."
    )


class UnrecognizedTerm(Strict):
    unrecognized_term: Literal[True] = Field(
        description="Fires on a condition, medication or allergy that matches no known term."
    )


class AnyOf(Strict):
    any: list[Trigger] = Field(min_length=2, description="Fires when any of these holds.")


_TRIGGERS: dict[str, type[Strict]] = {
    "age_below": AgeBelow,
    "age_above": AgeAbove,
    "flag": Flag,
    "conditions": HasCondition,
    "medications": TakesMedication,
    "medication_count_at_least": MedicationCount,
    "ingredient_allergy": IngredientAllergy,
    "unrecognized_term": UnrecognizedTerm,
    "any": AnyOf,
}


def _trigger_tag(value: Any) -> str | None:
    # Pick the trigger type by its defining key, so an error names one type, not eight.
    if isinstance(value, dict):
        for key, model in _TRIGGERS.items():
            if key in value:
                return model.__name__
        return None
    return type(value).__name__


Trigger = Annotated[
    Annotated[AgeBelow, Tag("AgeBelow")]
    | Annotated[AgeAbove, Tag("AgeAbove")]
    | Annotated[Flag, Tag("Flag")]
    | Annotated[HasCondition, Tag("HasCondition")]
    | Annotated[TakesMedication, Tag("TakesMedication")]
    | Annotated[MedicationCount, Tag("MedicationCount")]
    | Annotated[IngredientAllergy, Tag("IngredientAllergy")]
    | Annotated[UnrecognizedTerm, Tag("UnrecognizedTerm")]
    | Annotated[AnyOf, Tag("AnyOf")],
    Discriminator(
        _trigger_tag,
        custom_error_type="trigger",
        custom_error_message="a trigger needs one of the keys " + ", ".join(_TRIGGERS),
    ),
]


def flat(triggers: Sequence[Trigger]) -> Iterator[Trigger]:
    """Every trigger, the options of an `any:` in place of the `any:` itself."""
    for trigger in triggers:
        if isinstance(trigger, AnyOf):
            yield from flat(trigger.any)
        else:
            yield trigger


class Rule(Strict):
    """A contraindication: when it fires, what it does, why, and who says so."""

    id: StrictStr
    action: Action
    title: StrictStr
    when: list[Trigger] = Field(
        min_length=1,
        description="Every trigger must hold; findings are reported per match of the first.",
    )
    rationale: StrictStr = Field(description="What the sources say, quoted or paraphrased.")
    advice: StrictStr = Field(description="What the practitioner should do.")
    sources: list[StrictStr] = Field(min_length=1)


class Interval(Strict):
    """Days between consecutive sessions."""

    min: StrictInt = Field(ge=1)
    target: StrictInt
    max: StrictInt

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if not self.min <= self.target <= self.max:
            raise ValueError(f"need min <= target <= max, got {self.min}/{self.target}/{self.max}")
        return self


class Cadence(Interval):
    per_week: StrictInt = Field(ge=1, le=7, description="Sessions per week (--per-week).")


class SessionCount(Strict):
    min: StrictInt = Field(ge=0)
    default: StrictInt
    max: StrictInt
    usual_max: StrictInt | None = Field(
        default=None, description="The usual upper end when the sources allow more in some cases."
    )

    @model_validator(mode="after")
    def _ordered(self) -> SessionCount:
        if not self.min <= self.default <= self.max:
            got = f"{self.min}/{self.default}/{self.max}"
            raise ValueError(f"need min <= default <= max, got {got}")
        if self.usual_max is not None and not self.default <= self.usual_max <= self.max:
            raise ValueError("usual_max must lie between default and max")
        return self


class Phase(Strict):
    id: StrictStr
    name: StrictStr
    sessions: SessionCount
    interval_days: Interval
    per_week: list[Cadence] = Field(
        default_factory=list,
        description="Cadences the sources allow, by sessions per week (--per-week).",
    )
    maintenance: StrictBool = Field(
        default=False, description="A maintenance series after the course proper."
    )
    sources: list[StrictStr] = Field(min_length=1)


class CareItem(Strict):
    """Something the patient does before or after sessions; durations give dated lines."""

    id: StrictStr
    text: StrictStr
    days_before_first: StrictInt | None = None
    days_after_each: StrictInt | None = None
    hours_after_each: StrictInt | None = None
    days_after_last: StrictInt | None = None
    rule: StrictStr | None = Field(
        default=None, description="The rule this item serves; dropped where the rule is exempt."
    )
    injections_only: StrictBool = Field(
        default=False, description="About injections: dropped for a protocol that injects nothing."
    )
    sources: list[StrictStr] = Field(min_length=1)


class Range(Strict):
    min: float
    max: float


class Protocol(Strict):
    id: StrictStr
    name: StrictStr
    indications: list[StrictStr] = Field(min_length=1)
    injects: StrictBool = Field(description="False for no-needle: nothing is injected.")
    session_minutes: StrictInt | None = None
    needle_depth_mm: Range | None = None
    ingredients: list[StrictStr] = Field(description="Ingredient term ids, for the allergy rule.")
    exempt_rules: list[StrictStr] = Field(
        default_factory=list, description="Rules that do not apply to this protocol."
    )
    exempt_reason: StrictStr | None = None
    phases: list[Phase] = Field(min_length=1)
    precare: list[CareItem] = Field(default_factory=list)
    aftercare: list[CareItem] = Field(default_factory=list)
    results: StrictStr
    maintenance: StrictStr | None = None
    sources: list[StrictStr] = Field(min_length=1)

    def course_phases(self) -> list[Phase]:
        return [p for p in self.phases if not p.maintenance]


class Dataset(Strict):
    """Everything loaded from a data directory, indexed, with the hash of the files used."""

    terms: dict[TermKind, list[Term]]
    rules: list[Rule]
    protocols: list[Protocol]
    common_precare: list[CareItem]
    common_aftercare: list[CareItem]
    version: str = Field(description="sha256 of the data files.")

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def protocol(self, protocol_id: str) -> Protocol | None:
        return next((p for p in self.protocols if p.id == protocol_id), None)


# The two data files as they are written; `data.load_dataset` turns them into a Dataset.


class TermsSection(Strict):
    conditions: list[Term]
    medications: list[Term]


class ContraindicationsFile(Strict):
    sources: dict[str, str]
    terms: TermsSection
    rules: list[Rule]


class CommonCare(Strict):
    precare: list[CareItem]
    aftercare: list[CareItem]


class ProtocolsFile(Strict):
    ingredients: list[Term]
    common: CommonCare
    protocols: list[Protocol]


# --- the patient ---------------------------------------------------------------------------


def _named(value: Any) -> Any:
    # `- warfarin` is shorthand for `- {name: warfarin}`.
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict | BaseModel):
        return value
    raise ValueError(f"expected a name or a mapping with name:, got {value!r}")


# What the schema says of a name; the length limit itself is checked by Patient._short, which
# words it better than pydantic would.
_NAME_SCHEMA: JsonDict = {"maxLength": MAX_NAME}
SchemaName = Annotated[str, Field(min_length=1, json_schema_extra=_NAME_SCHEMA)]


class ConditionEntry(Strict):
    name: StrictStr = Field(min_length=1, json_schema_extra=_NAME_SCHEMA)
    resolved_on: IsoDate | None = Field(
        default=None, description="First day on which the condition no longer applies."
    )


class MedicationEntry(Strict):
    name: StrictStr = Field(min_length=1, json_schema_extra=_NAME_SCHEMA)
    last_dose: IsoDate | None = Field(
        default=None, description="Date of the last dose; absent means it is being taken now."
    )


class SunPeriod(Strict):
    model_config = ConfigDict(populate_by_name=True)

    start: IsoDate = Field(alias="from")
    end: IsoDate = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> SunPeriod:
        if self.end < self.start:
            raise ValueError(f"'to' {self.end} is before 'from' {self.start}")
        return self


Condition = Annotated[
    ConditionEntry, BeforeValidator(_named, json_schema_input_type=SchemaName | ConditionEntry)
]
Medication = Annotated[
    MedicationEntry, BeforeValidator(_named, json_schema_input_type=SchemaName | MedicationEntry)
]


def _given_by_then(day: date, info: ValidationInfo) -> date:
    on = _reference_date(info)
    if on is not None and day > on:
        raise ValueError(
            f"{day} is after the reference date {on}; list only sessions already given"
        )
    return day


SessionDone = Annotated[IsoDate, AfterValidator(_given_by_then)]

_FEW: JsonDict = {"maxItems": MAX_ENTRIES}  # checked by Patient._few


class Patient(Strict):
    """One patient file. Flags left out are taken as false and reported as assumptions."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["birth_date"]}, {"required": ["age"]}]}
    )

    id: StrictStr | None = Field(
        default=None,
        min_length=1,
        json_schema_extra=_NAME_SCHEMA,
        description="The clinic's patient id.",
    )
    birth_date: IsoDate | None = None
    age: StrictInt | None = Field(
        default=None, ge=0, le=130, description="Whole years at the reference date."
    )
    sex: Literal["female", "male", "other"] | None = None
    pregnant: StrictBool | None = Field(default=None, description="Default false (assumed).")
    breastfeeding: StrictBool | None = Field(default=None, description="Default false (assumed).")
    fever: StrictBool | None = Field(default=None, description="Default false (assumed).")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="A name, or {name, resolved_on}.",
        json_schema_extra=_FEW,
    )
    medications: list[Medication] = Field(
        default_factory=list,
        description="A name, or {name, last_dose}.",
        json_schema_extra=_FEW,
    )
    allergies: list[Annotated[StrictStr, Field(min_length=1, json_schema_extra=_NAME_SCHEMA)]] = (
        Field(default_factory=list, json_schema_extra=_FEW)
    )
    sun_exposure: list[SunPeriod] = Field(
        default_factory=list,
        description="Planned sun or solarium periods.",
        json_schema_extra=_FEW,
    )
    sessions_done: list[SessionDone] = Field(
        default_factory=list,
        description="Dates of sessions of this course already given.",
        json_schema_extra={**_FEW, "uniqueItems": True},
    )

    @field_validator(
        "conditions", "medications", "allergies", "sun_exposure", "sessions_done", mode="before"
    )
    @classmethod
    def _few(cls, value: Any) -> Any:
        # A real record lists a handful; thousands mean the wrong file, and would make the
        # suggestions for unknown names slow.
        if isinstance(value, list) and len(value) > MAX_ENTRIES:
            raise ValueError(f"{len(value)} entries; at most {MAX_ENTRIES} (the right file?)")
        return value

    @field_validator("id", "conditions", "medications", "allergies")
    @classmethod
    def _short(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            text = item if isinstance(item, str) or item is None else item.name
            if text is not None and len(text) > MAX_NAME:
                raise ValueError(f"{text[:20]!r}… is {len(text)} characters; at most {MAX_NAME}")
        return value

    @field_validator("birth_date")
    @classmethod
    def _born_by_then(cls, value: date | None, info: ValidationInfo) -> date | None:
        on = _reference_date(info)
        if value is not None and on is not None and value > on:
            raise ValueError(f"{value} is after the reference date {on}; check the year")
        return value

    @field_validator("age")
    @classmethod
    def _fits_birth_date(cls, value: int | None, info: ValidationInfo) -> int | None:
        on, born = _reference_date(info), info.data.get("birth_date")
        if value is not None and on is not None and isinstance(born, date) and born <= on:
            if age_on(born, on) != value:
                raise ValueError(
                    f"{value} does not match birth_date {born} (age {age_on(born, on)} on {on}); "
                    "give one of them"
                )
        return value

    @model_validator(mode="after")
    def _has_age(self) -> Patient:
        if self.birth_date is None and self.age is None:
            raise ValueError("give birth_date or age")
        return self

    @field_validator("sessions_done")
    @classmethod
    def _distinct(cls, value: list[date]) -> list[date]:
        if len(set(value)) != len(value):
            raise ValueError("the same date is listed twice")
        return sorted(value)


class BatchLine(Patient):
    """One line of a `meso batch` input: a patient, and the protocol to screen it for. A
    patient file has no `protocol` key: there `--protocol` decides."""

    protocol: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        description="Protocol id for this line; overrides --protocol.",
    )


# --- results -------------------------------------------------------------------------------

DataVersion = Annotated[
    str, Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the data files used.")
]


class Note(Strict):
    """A warning or an assumption: a stable code for scripts and the words for people."""

    code: NoteCode
    text: str
    clearable: list[str] = Field(
        default_factory=list,
        description="For `no-plan` on a review: every rule to clear (--clear) before a plan.",
    )


class Finding(Strict):
    rule: str = Field(description="The rule id.")
    action: Action
    title: str
    detail: str = Field(description="What was found and what it means for this patient.")
    matched: str | None = Field(description="The patient's own words that fired the rule.")
    until: dt.date | None = Field(description="For a deferral: the first day it no longer holds.")
    sources: list[str]
    cleared: bool = Field(description="Cleared by the practitioner with --clear.")
    advice: str = Field(description="What to do.")
    suggestions: list[str] = Field(
        default_factory=list, description="Close known terms, for an unrecognized one."
    )


class Screening(Strict):
    patient_id: str | None
    protocol: str | None
    reference_date: dt.date
    verdict: Verdict
    earliest_start: dt.date | None = Field(
        description="Latest of the reference date and every deferral's end; null when not "
        "eligible or a deferral has no known end."
    )
    findings: list[Finding]
    data_version: DataVersion
    evaluated_on: dt.date = Field(description="The date the rules were applied to (the start).")
    assumed: list[Note] = Field(description="Facts taken as given because the file was silent.")
    cleared: list[str] = Field(description="Rule ids cleared with --clear.")
    not_applicable: list[str] = Field(
        default_factory=list, description="Rules that do not apply to the chosen protocol."
    )
    schema_version: SchemaVersion = SCHEMA_VERSION
    meso_version: str


class Session(Strict):
    number: int
    date: dt.date
    phase: str
    days_since_previous: int | None
    done: bool
    note: str | None = Field(
        default=None,
        description="Why the session is not on its target day, e.g. the holiday it was moved from.",
    )


class KeyDates(Strict):
    stop_nsaids_by: dt.date | None
    first_session: dt.date | None = Field(description="The first session still to come.")
    last_session: dt.date | None
    sun_avoid_until: dt.date | None = Field(description="Last session + the sun-avoidance days.")


class Plan(Strict):
    screening: Screening
    protocol: str
    sessions: list[Session]
    key_dates: KeyDates
    aftercare: list[str]
    warnings: list[Note]
    start_moved_from: dt.date | None = Field(
        default=None, description="The requested start, when a deferral moved it."
    )
    schema_version: SchemaVersion = SCHEMA_VERSION
    meso_version: str


# --- batch output lines --------------------------------------------------------------------


class _Numbered(Strict):
    line: int = Field(ge=1, description="The input line this output line answers (1-based).")


class _Identified(Strict):
    patient_id: str | None = Field(description="The input line's `id`, when it had one.")


class ScreeningLine(Screening, _Numbered):
    """A `meso batch` output line: the screening of one input line."""


class PlanLine(Plan, _Identified, _Numbered):
    """A `meso batch --plan` output line: the plan for one input line."""


class ErrorLine(_Identified, _Numbered):
    """A `meso batch` output line for an input line that could not be screened or planned."""

    error: str = Field(description="What is wrong with the input line.")
    data_version: DataVersion
    schema_version: SchemaVersion = SCHEMA_VERSION
    meso_version: str


# What each line `meso batch` writes is (`meso schema batch-line`).
BatchOutputLine = ScreeningLine | PlanLine | ErrorLine


class Versions(Strict):
    """What `meso --version --json` prints: the versions every JSON output carries."""

    meso_version: str
    schema_version: SchemaVersion = SCHEMA_VERSION
    data_version: DataVersion


class RuleListing(Strict):
    """`meso rules --json`: the data's rules, with the versions."""

    rules: list[Rule]
    data_version: DataVersion
    schema_version: SchemaVersion = SCHEMA_VERSION
    meso_version: str


class ProtocolListing(Strict):
    """`meso protocols --json`: the data's protocols, with the versions."""

    protocols: list[Protocol]
    data_version: DataVersion
    schema_version: SchemaVersion = SCHEMA_VERSION
    meso_version: str


# --- errors ---------------------------------------------------------------------------------


def first_error(exc: ValidationError) -> str:
    """The first problem pydantic found, as `where: what` (for values typed, not read from a
    file: a file's errors name its lines, through validation.validation_problems)."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "patient"
    return f"{where}: {first['msg']}"
