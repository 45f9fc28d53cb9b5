"""Pydantic v2 models: the clinical data, the patient, and every result the tool returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
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

from meso_cli.codes import ATC_SUBSTANCE, SHOWN, System, code_problem, entry_problem, normalise
from meso_cli.dates import ISO_DAY, age_on, weekday_number, year_problem
from meso_cli.text import unsafe_character

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
    # assumptions: how a FHIR Bundle was read
    NOT_READ = "not-read"  # resources of a kind the reader does not use ("1 Immunization")
    RECORD_IGNORED = "record-ignored"  # refuted, entered in error, not taken, resolved allergy
    READ_AS = "read-as"  # a record read one way of several (a stop with no date: taken now)
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
    AGE_LIMIT_IN_COURSE = "age-limit-in-course"  # an age rule starts to apply mid-course
    COURSE_PROPOSED = "course-proposed"  # a named course the sources give for a condition listed


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


def _one_line(value: str) -> str:
    problem = unsafe_character(value)
    if problem is not None:
        raise ValueError(f"{problem} is not allowed")
    return value


def _prose(value: str) -> str:
    problem = unsafe_character(value, single_line=False)
    if problem is not None:
        raise ValueError(f"{problem} is not allowed")
    return value


# Every text the tool reads, from a patient, a profile or a data file, is one of these two, so
# that a control or bidirectional character (meso_cli.text) is refused where it comes in,
# naming the field and the code point: `id: control character U+001B is not allowed`.
# One line of text: a name, an id, a title; never empty. Tab and line breaks are refused too.
Line = Annotated[StrictStr, Field(min_length=1), AfterValidator(_one_line)]
# Running text from a data file (a rule's rationale, a care item): line breaks are allowed.
Prose = Annotated[StrictStr, AfterValidator(_prose)]


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


def _code_text(value: Any) -> Any:
    # A SNOMED CT id written without quotes is read by YAML and JSON as a number.
    return str(value) if type(value) is int else value


def _entry_of(system: System, *, substance: bool = False, group: bool = False) -> Any:
    def check(value: str) -> str:
        value = normalise(system, value)
        problem = entry_problem(system, value)
        if problem is not None:
            raise ValueError(problem)
        if substance and len(value) != ATC_SUBSTANCE:
            raise ValueError(f"{value!r}: a term carries full ATC codes of 7 characters")
        if group and len(value) >= ATC_SUBSTANCE:
            raise ValueError(f"{value!r} is one substance; name a class (such as B01 or M01A)")
        return value

    return AfterValidator(check)


AtcSubstance = Annotated[StrictStr, _entry_of("atc", substance=True)]
AtcClass = Annotated[StrictStr, _entry_of("atc", group=True)]
Icd10Entry = Annotated[StrictStr, _entry_of("icd10")]
Icd10CmEntry = Annotated[StrictStr, _entry_of("icd10cm")]
SnomedId = Annotated[StrictStr, BeforeValidator(_code_text), _entry_of("snomed")]


class TermCodes(Strict):
    """A term's codes in each system. ICD entries may be categories or ranges (`E10-E14`);
    a code in a patient's record matches the entry it begins with or falls inside."""

    atc: list[AtcSubstance] = Field(default_factory=list, description="WHO ATC, 7 characters.")
    icd10: list[Icd10Entry] = Field(default_factory=list, description="WHO ICD-10 (2019).")
    icd10cm: list[Icd10CmEntry] = Field(default_factory=list, description="ICD-10-CM.")
    snomed: list[SnomedId] = Field(default_factory=list, description="SNOMED CT concept ids.")

    def entries(self) -> Iterator[tuple[System, str]]:
        for system in ("atc", "icd10", "icd10cm", "snomed"):
            for entry in getattr(self, system):
                yield system, entry


class Term(Strict):
    """A name a practitioner may type, with its synonyms and brand names, and its codes."""

    id: Line = Field(description="Stable id used by rules and protocols.")
    names: list[Line] = Field(
        min_length=1, description="Display name first, then synonyms, brand names, spellings."
    )
    codes: TermCodes = Field(
        default_factory=TermCodes, description="Codes a patient's record may give instead."
    )
    what: Line | None = Field(
        default=None,
        description="What it is, in a few words, shown beside the name a patient gave: "
        "'a diabetes medicine' (Ozempic (semaglutide, a diabetes medicine)).",
    )
    past: Line | None = Field(
        default=None,
        description="A condition term that this one reads as when the patient writes it as past "
        "('after pregnancy', 'stopped breastfeeding'): the flags decide the present.",
    )
    beside: dict[Line, Line] = Field(
        default_factory=dict,
        description="In one entry with a term of a key's id, this term reads as the value's "
        "('flu with tachycardia': tachycardia beside an infection).",
    )
    optional: Prose | None = Field(
        default=None,
        description="For an ingredient a session may do without (numbing): what to do instead "
        "for a patient allergic to it. Such an allergy is a review, never an exclusion.",
    )
    note: Prose | None = Field(default=None, description="Why this term is known.")
    sources: list[Line] = Field(default_factory=list)


class AgeBelow(Strict):
    age_below: StrictInt = Field(description="Fires when the age on the start date is below this.")


class AgeAbove(Strict):
    age_above: StrictInt = Field(description="Fires when the age on the start date is above this.")


class Flag(Strict):
    flag: Literal["pregnant", "breastfeeding", "fever"]


class HasCondition(Strict):
    conditions: list[Line] = Field(
        min_length=1, description="Condition term ids; any active one fires the rule."
    )
    flag_decides: Literal["pregnant", "breastfeeding", "fever"] | None = Field(
        default=None,
        description="The flag that says whether the condition holds now: when the file states "
        "it false, a condition that reads as current is a contradiction, reviewed.",
    )


class TakesMedication(Strict):
    medications: list[Line] = Field(
        default_factory=list, description="Medication term ids; any one listed fires the rule."
    )
    atc: list[AtcClass] = Field(
        default_factory=list,
        description="ATC classes (B01, M01A): any medication whose code lies in one fires the "
        "rule, whether or not a term names it.",
    )
    washout_days: StrictInt | None = Field(
        default=None,
        ge=1,
        description="With a washout, the rule fires only if the last dose is fewer than this "
        "many days before the start, and lasts until last dose + washout.",
    )

    @model_validator(mode="after")
    def _names_something(self) -> TakesMedication:
        if not self.medications and not self.atc:
            raise ValueError("give medications (term ids), atc (classes), or both")
        return self


class NotStated(Strict):
    not_stated: list[Literal["pregnant", "breastfeeding", "fever"]] = Field(
        min_length=1, description="Fires when any of these flags is left out of the file."
    )
    except_sex: list[Literal["female", "male", "other"]] = Field(
        default_factory=list,
        description="Not for a patient whose sex is one of these (a sex not given fires).",
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
    "not_stated": NotStated,
    "conditions": HasCondition,
    "medications": TakesMedication,
    "atc": TakesMedication,
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
    | Annotated[NotStated, Tag("NotStated")]
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

    id: Line
    action: Action
    title: Line
    when: list[Trigger] = Field(
        min_length=1,
        description="Every trigger must hold; findings are reported per match of the first.",
    )
    rationale: Prose = Field(description="What the sources say, quoted or paraphrased.")
    advice: Prose = Field(description="What the practitioner should do.")
    covered_by: Line | None = Field(
        default=None,
        description="A rule whose finding on the same entry includes this one: the entry gives "
        "no finding of this rule of its own (aspirin's washout is the blood thinner's "
        "prescriber's decision).",
    )
    sources: list[Line] = Field(min_length=1)


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
    id: Line
    name: Line
    sessions: SessionCount
    interval_days: Interval | None = Field(
        default=None,
        description="Days between its sessions; left out only for a phase of one session that "
        "is its course's only phase (no interval leads into it or out of it).",
    )
    per_week: list[Cadence] = Field(
        default_factory=list,
        description="Cadences the sources allow, by sessions per week (--per-week).",
    )
    maintenance: StrictBool = Field(
        default=False, description="A maintenance series after the course proper."
    )
    sources: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_interval(self) -> Phase:
        if self.interval_days is None and self.sessions.max > 1:
            raise ValueError(
                f"phase {self.id!r} of {self.sessions.max} sessions needs interval_days"
            )
        return self


class CareItem(Strict):
    """Something the patient does before or after sessions; durations give dated lines."""

    id: Line
    text: Prose
    days_before_first: StrictInt | None = None
    days_after_each: StrictInt | None = None
    hours_after_each: StrictInt | None = None
    days_after_last: StrictInt | None = None
    rule: Line | None = Field(
        default=None, description="The rule this item serves; dropped where the rule is exempt."
    )
    injections_only: StrictBool = Field(
        default=False, description="About injections: dropped for a protocol that injects nothing."
    )
    sources: list[Line] = Field(min_length=1)


class Range(Strict):
    min: float
    max: float


class Course(Strict):
    """A named course of sessions a source gives for a protocol (`--course ID`)."""

    id: Line
    name: Line
    phases: list[Phase] = Field(
        default_factory=list,
        description="The course's phases; the first course leaves them out: it is the "
        "protocol's own `phases`, the default.",
    )
    proposed_for: list[Line] = Field(
        default_factory=list,
        description="Condition term ids: a plan for a patient listing one proposes this course.",
    )
    reason: Prose | None = Field(
        default=None, description="Why the course is proposed, quoting the source."
    )
    sources: list[Line] = Field(min_length=1)


class Protocol(Strict):
    id: Line
    name: Line
    indications: list[Line] = Field(min_length=1)
    injects: StrictBool = Field(description="False for no-needle: nothing is injected.")
    session_minutes: StrictInt | None = None
    needle_depth_mm: Range | None = None
    ingredients: list[Line] = Field(description="Ingredient term ids, for the allergy rule.")
    exempt_rules: list[Line] = Field(
        default_factory=list, description="Rules that do not apply to this protocol."
    )
    exempt_reason: Prose | None = None
    phases: list[Phase] = Field(min_length=1)
    precare: list[CareItem] = Field(default_factory=list)
    aftercare: list[CareItem] = Field(default_factory=list)
    results: Prose
    maintenance: Prose | None = None
    courses: list[Course] = Field(
        default_factory=list,
        description="Named courses (--course); the first is the default, the protocol's phases.",
    )
    sources: list[Line] = Field(min_length=1)

    def course_phases(self) -> list[Phase]:
        return [p for p in self.phases if not p.maintenance]


class Dataset(Strict):
    """Everything loaded from a data directory, indexed, with the hash of the files used."""

    terms: dict[TermKind, list[Term]]
    rules: list[Rule]
    protocols: list[Protocol]
    common_precare: list[CareItem]
    common_aftercare: list[CareItem]
    atc_classes: dict[str, str] = Field(
        default_factory=dict, description="The ATC classes rules name, with their WHO names."
    )
    version: str = Field(description="sha256 of the data files.")
    sources: dict[str, str] = Field(
        default_factory=dict, description="Source file name -> the article's title."
    )

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def protocol(self, protocol_id: str) -> Protocol | None:
        return next((p for p in self.protocols if p.id == protocol_id), None)


# The two data files as they are written; `data.load_dataset` turns them into a Dataset.


class TermsSection(Strict):
    conditions: list[Term]
    medications: list[Term]


class ContraindicationsFile(Strict):
    sources: dict[Line, Prose]
    atc_classes: dict[AtcClass, Line] = Field(
        default_factory=dict, description="ATC classes a rule may name, with their WHO names."
    )
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


class Code(Strict):
    """A code from a classification (ATC, WHO ICD-10, ICD-10-CM, SNOMED CT)."""

    system: System = Field(description="atc, icd10 (WHO), icd10cm or snomed.")
    value: Annotated[StrictStr, BeforeValidator(_code_text), AfterValidator(_one_line)] = Field(
        min_length=1, max_length=40, description="The code as the classification writes it."
    )

    @model_validator(mode="before")
    @classmethod
    def _normalised(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("system") in SHOWN:
            value = _code_text(data.get("value"))
            if isinstance(value, str):
                return {**data, "value": normalise(data["system"], value)}
        return data

    @model_validator(mode="after")
    def _well_formed(self) -> Code:
        problem = code_problem(self.system, self.value)
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def shown(self) -> str:
        return f"{SHOWN[self.system]} {self.value}"


def _codes(value: Any) -> Any:
    # `code: {system: atc, value: B01AA03}` is one code; a list gives every code of one entry.
    return [value] if isinstance(value, dict | BaseModel) else value


Codes = Annotated[
    list[Code],
    BeforeValidator(_codes, json_schema_input_type=Code | list[Code]),
    Field(min_length=1, max_length=20),
]


class _Coded(Strict):
    """An entry given by name, by code, or both: a known code is matched exactly."""

    name: Line | None = Field(default=None, min_length=1, json_schema_extra=_NAME_SCHEMA)
    code: Codes | None = Field(
        default=None,
        description="A code, or the codes of one record entry, beside or instead of the name.",
    )

    _SYSTEMS: ClassVar[dict[str, str]] = {}  # systems this kind of entry may not use, and why

    @model_validator(mode="after")
    def _named_or_coded(self) -> Self:
        if self.name is None and not self.code:
            raise ValueError("give a name, a code, or both")
        for code in self.code or []:
            why = self._SYSTEMS.get(code.system)
            if why is not None:
                raise ValueError(f"{code.shown}: {why}")
        return self

    @property
    def label(self) -> str:
        """The name, or the codes where no name is given: how findings show the entry."""
        return self.name or ", ".join(c.shown for c in self.code or [])


_NOT_A_MEDICINE = "an ICD-10 code names a condition, not a medicine; give an ATC or SNOMED CT code"


class ConditionEntry(_Coded):
    _SYSTEMS: ClassVar[dict[str, str]] = {
        "atc": "an ATC code names a medicine, not a condition; give ICD-10 or SNOMED CT"
    }

    resolved_on: IsoDate | None = Field(
        default=None, description="First day on which the condition no longer applies."
    )


class MedicationEntry(_Coded):
    _SYSTEMS: ClassVar[dict[str, str]] = {"icd10": _NOT_A_MEDICINE, "icd10cm": _NOT_A_MEDICINE}

    last_dose: IsoDate | None = Field(
        default=None, description="Date of the last dose; absent means it is being taken now."
    )


class AllergyEntry(_Coded):
    _SYSTEMS: ClassVar[dict[str, str]] = {"icd10": _NOT_A_MEDICINE, "icd10cm": _NOT_A_MEDICINE}


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
Allergy = Annotated[
    AllergyEntry, BeforeValidator(_named, json_schema_input_type=SchemaName | AllergyEntry)
]


def _given_by_then(day: date, info: ValidationInfo) -> date:
    on = _reference_date(info)
    if on is not None and day > on:
        raise ValueError(
            f"{day} is after the reference date {on}; list only sessions already given"
        )
    born = info.data.get("birth_date")
    if isinstance(born, date) and day < born:
        raise ValueError(f"{day} is before the birth date {born}; check the year")
    return day


SessionDone = Annotated[IsoDate, AfterValidator(_given_by_then)]

MAX_REASON = 1000  # characters in a clearance's reason


class Clearance(Strict):
    """A review the practitioner assessed and cleared, recorded in the patient file
    (`meso clear`): later screenings honour it for the entry it names only."""

    model_config = ConfigDict(populate_by_name=True)

    rule: Line = Field(json_schema_extra=_NAME_SCHEMA, description="The review rule cleared.")
    matched: Line | None = Field(
        default=None,
        json_schema_extra=_NAME_SCHEMA,
        description="The entry the clearance covers, as the finding named it (a medicine, a "
        "condition, an allergy); a new entry fires the rule again.",
    )
    by: Line = Field(json_schema_extra=_NAME_SCHEMA, description="Who assessed and cleared it.")
    on: IsoDate = Field(description="The day it was cleared; not in force before that day.")
    reason: Line = Field(json_schema_extra={"maxLength": MAX_REASON}, description="Why.")

    @field_validator("rule", "matched", "by")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_NAME:
            raise ValueError(f"{len(value)} characters; at most {MAX_NAME}")
        return value

    @field_validator("reason")
    @classmethod
    def _not_too_long(cls, value: str) -> str:
        if len(value) > MAX_REASON:
            raise ValueError(f"{len(value)} characters; at most {MAX_REASON}")
        return value


_FEW: JsonDict = {"maxItems": MAX_ENTRIES}  # checked by Patient._few


def _stripped(value: str) -> str:
    # " P-1 " is P-1: two spellings of one id must not make two patients (or one UID twice).
    stripped = value.strip()
    if not stripped:
        raise ValueError("an id of spaces only; give the id, or leave the key out")
    return stripped


# The clinic's patient id: one line, without the spaces around it, never blank.
PatientId = Annotated[Line, AfterValidator(_stripped)]

AGE_RANGE = "a whole number 0–130"


def _age(value: Any) -> Any:
    # One message for every age that is not a whole number 0-130: -1, 131, 30.0, "30", true,
    # and a number of thousands of digits (documents.TooLong), which Python will not even print.
    if type(value) is int and 0 <= value <= 130:
        return value
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    if type(value) is int and len(shown) > 12:
        shown = f"a {len(shown.lstrip('-'))}-digit number"
    raise ValueError(f"{shown} is not {AGE_RANGE}")


# Whole years, 0-130; the schema keeps its minimum and maximum.
Age = Annotated[StrictInt, Field(ge=0, le=130), BeforeValidator(_age)]


class Patient(Strict):
    """One patient file. Flags left out are taken as false and reported as assumptions."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["birth_date"]}, {"required": ["age"]}]}
    )

    id: PatientId | None = Field(
        default=None,
        json_schema_extra=_NAME_SCHEMA,
        description="The clinic's patient id.",
    )
    name: Line | None = Field(
        default=None,
        json_schema_extra=_NAME_SCHEMA,
        description="The patient's name, for the handout; never in batch output.",
    )
    birth_date: IsoDate | None = None
    age: Age | None = Field(default=None, description="Whole years at the reference date.")
    sex: Literal["female", "male", "other"] | None = None
    pregnant: StrictBool | None = Field(default=None, description="Default false (assumed).")
    breastfeeding: StrictBool | None = Field(default=None, description="Default false (assumed).")
    fever: StrictBool | None = Field(default=None, description="Default false (assumed).")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="A name, or {name, code, resolved_on}.",
        json_schema_extra=_FEW,
    )
    medications: list[Medication] = Field(
        default_factory=list,
        description="A name, or {name, code, last_dose}.",
        json_schema_extra=_FEW,
    )
    allergies: list[Allergy] = Field(
        default_factory=list, description="A name, or {name, code}.", json_schema_extra=_FEW
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
    clearances: list[Clearance] = Field(
        default_factory=list,
        description="Reviews the practitioner cleared (meso clear), each for one entry.",
        json_schema_extra=_FEW,
    )

    @field_validator(
        "conditions",
        "medications",
        "allergies",
        "sun_exposure",
        "sessions_done",
        "clearances",
        mode="before",
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

    @field_validator("name")
    @classmethod
    def _short_name(cls, value: str | None) -> str | None:
        # The name itself is never repeated in a message: it may reach a batch error line.
        if value is not None and len(value) > MAX_NAME:
            raise ValueError(f"{len(value)} characters; at most {MAX_NAME}")
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

    # What a reader noted while turning a record into this patient (a FHIR Bundle: the
    # resources it did not read, the entries it ignored); the screening lists them under
    # `assumed`. Not a field: a patient file cannot write it.
    _record_notes: tuple[Note, ...] = PrivateAttr(default=())

    @property
    def record_notes(self) -> tuple[Note, ...]:
        return self._record_notes

    def noting(self, notes: Sequence[Note]) -> Patient:
        """This patient with what its reader noted about the record."""
        copy = self.model_copy()
        copy._record_notes = tuple(notes)
        return copy

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

    protocol: Line | None = Field(
        default=None,
        max_length=MAX_NAME,
        description="Protocol id for this line; overrides --protocol.",
    )


# --- the clinic profile --------------------------------------------------------------------


def _weekday(value: Any) -> Any:
    if isinstance(value, str) and weekday_number(value) is None:
        raise ValueError(f"{value!r} is not a weekday (mon, tue, ... or monday, tuesday, ...)")
    return value


def _closed_period(value: Any) -> Any:
    # "2026-12-24", "2026-12-21..2026-12-31" (as --closed takes them) or a TOML date.
    if isinstance(value, date) and not isinstance(value, dt.datetime):
        return {"first": value, "last": value}
    if isinstance(value, str):
        first, sep, last = value.strip().partition("..")
        return {"first": first, "last": last if sep else first}
    raise ValueError(f"expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, got {value!r}")


def _clock(value: Any) -> Any:
    # "10:30", or a TOML local time 10:30:00.
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str):
        hours, sep, minutes = value.strip().partition(":")
        if sep and hours.isdigit() and len(hours) <= 2 and minutes.isdigit() and len(minutes) == 2:
            try:
                return dt.time(int(hours), int(minutes))
            except ValueError:
                pass
    raise ValueError(f"expected a time HH:MM such as 10:30, got {value!r}")


class ClosedPeriod(Strict):
    """Days the clinic is shut, both ends included."""

    first: IsoDate
    last: IsoDate

    @model_validator(mode="after")
    def _ordered(self) -> ClosedPeriod:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it begins ({self.first})")
        return self


class ProfileClinic(Strict):
    name: Line | None = Field(default=None, description="Printed on handouts (--clinic).")
    phone: Line | None = Field(default=None, description="Printed on handouts (--phone).")
    address: Line | None = None
    practitioner: Line | None = Field(
        default=None, description="The practitioner's name: handouts, and `meso clear --by`."
    )


class ProfileCalendar(Strict):
    open_days: list[Annotated[StrictStr, AfterValidator(_weekday)]] | None = Field(
        default=None, min_length=1, description="Weekdays the clinic works (--open-days)."
    )
    session_time: Annotated[dt.time, BeforeValidator(_clock)] | None = Field(
        default=None, description="The usual start of a session, HH:MM (--time)."
    )
    closed: list[Annotated[ClosedPeriod, BeforeValidator(_closed_period)]] = Field(
        default_factory=list, description="Closed days or periods (--closed)."
    )
    holidays: Line | None = Field(
        default=None, description="Closed on this country's public holidays (--holidays)."
    )
    subdivision: Line | None = Field(
        default=None, description="A state or province of that country, for its own holidays."
    )


class ProfileHandout(Strict):
    language: Literal["en", "tr"] | None = Field(
        default=None, description="The language of handouts (--lang)."
    )


class ProfileDefaults(Strict):
    protocol: Line | None = Field(default=None, description="The protocol (--protocol).")


class Profile(Strict):
    """The clinic's settings (`profile.toml`); command-line options override them."""

    clinic: ProfileClinic = Field(default_factory=ProfileClinic)
    calendar: ProfileCalendar = Field(default_factory=ProfileCalendar)
    handout: ProfileHandout = Field(default_factory=ProfileHandout)
    defaults: ProfileDefaults = Field(default_factory=ProfileDefaults)


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
    cleared: bool = Field(
        description="Cleared by the practitioner: with --clear, or recorded (`clearance`)."
    )
    clearance: Clearance | None = Field(
        default=None,
        description="The clearance recorded in the patient file that covers this finding: "
        "who cleared it, when and why.",
    )
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
    course: str | None = Field(
        default=None,
        description="The named course planned (--course), for a protocol that has several.",
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
    """`meso rules --json`: the data's rules, with the titles of the sources they cite and
    the versions."""

    rules: list[Rule]
    sources: dict[str, str] = Field(description="Source file name -> the article's title.")
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
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"
