"""A FHIR R4 Bundle as a Patient: the same model a patient file gives, with what the reader
noted about the record (resources not read, entries ignored) for the screening's `assumed`.

The Bundle is validated with fhir.resources' R4B models (imported here, and only when the input
is FHIR); the values are then read from the validated JSON, so that every problem names its
JSON path (`entry[2].resource.status`) and its line. fhir.resources does not check code values,
so the status codes read here are checked against the R4 value sets below.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from meso_cli.codes import SYSTEM_OF_URI, normalise
from meso_cli.documents import Document, Loc, describe, validation_problems
from meso_cli.errors import FileProblems, Problem
from meso_cli.models import Note, NoteCode, Patient

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
# LOINC observation codes (the IPS and US Core pregnancy status profiles; the ISiK breastfeeding
# status profile) and their answers; IPS 2.0.1 prefers SNOMED CT answers for pregnancy.
PREGNANCY_STATUS = "82810-3"
BREASTFEEDING_STATUS = "63895-7"
_ANSWERS: dict[str, dict[tuple[str, str], bool | None]] = {
    PREGNANCY_STATUS: {
        (LOINC, "LA15173-0"): True,  # Pregnant
        (LOINC, "LA26683-5"): False,  # Not pregnant
        (LOINC, "LA4489-6"): None,  # Unknown
        (SNOMED, "77386006"): True,  # Pregnancy
        (SNOMED, "60001007"): False,  # Not pregnant
        (SNOMED, "146799005"): None,  # Possible pregnancy
        (SNOMED, "152231000119106"): None,  # Pregnancy not yet confirmed
    },
    BREASTFEEDING_STATUS: {
        (LOINC, "LA29252-6"): True,  # Currently breastfeeding
        (LOINC, "LA29253-4"): False,  # Not currently breastfeeding
        (LOINC, "LA4489-6"): None,  # Unknown
    },
}
_STATUS_FLAG = {PREGNANCY_STATUS: "pregnant", BREASTFEEDING_STATUS: "breastfeeding"}

# There is no standard code for a mesotherapy session (none in SNOMED CT): meso's own outputs
# code it so, and a record is read as a session when it carries this coding, or when its
# code's text or a coding's display names mesotherapy.
MESO_CODES = "urn:meso:codes"
MESO_SESSION = "mesotherapy-session"
_MESOTHERAPY = re.compile(r"\bmesotherap(?:y|ies)\b", re.IGNORECASE)

# R4 value sets (hl7.org/fhir/R4): fhir.resources accepts any code, so each is checked here.
CONDITION_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
CONDITION_VERIFICATION = {
    "unconfirmed",
    "provisional",
    "differential",
    "confirmed",
    "refuted",
    "entered-in-error",
}
ALLERGY_CLINICAL = {"active", "inactive", "resolved"}
ALLERGY_VERIFICATION = {"unconfirmed", "confirmed", "refuted", "entered-in-error"}
STATUS: dict[str, set[str]] = {
    "MedicationStatement": {
        "active",
        "completed",
        "entered-in-error",
        "intended",
        "stopped",
        "on-hold",
        "unknown",
        "not-taken",
    },
    "MedicationRequest": {
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    },
    "Observation": {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "Procedure": {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    },
    "Encounter": {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
}
REQUEST_INTENT = {
    "proposal",
    "plan",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
}
_NOT_TAKEN = {
    "MedicationStatement": {"entered-in-error", "not-taken", "intended"},
    "MedicationRequest": {"entered-in-error", "cancelled", "draft"},
}
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def is_bundle(value: Any) -> bool:
    """Whether a parsed document is FHIR (it names its resourceType) rather than a patient file."""
    return isinstance(value, dict) and "resourceType" in value


def patient_from_bundle(doc: Document, on: date | None = None) -> Patient:
    """The patient a FHIR R4 Bundle describes, read for the reference date `on` (default:
    today), with what the reader noted in `Patient.record_notes`."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    kind = doc.value.get("resourceType")
    if kind != "Bundle":
        raise _problem(
            doc,
            ("resourceType",),
            f"a FHIR {kind!r} resource; meso reads a Bundle holding a Patient and the records "
            "about them",
        )
    entries = doc.value.get("entry")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if resource is not None and not _resource_type(kind, get_fhir_model_class):
            loc: Loc = ("entry", i, "resource", "resourceType")
            raise _problem(doc, loc, f"{kind!r} is not a FHIR R4 resource type")
    try:
        Bundle.model_validate(doc.value)
    except ValidationError as exc:
        problems = validation_problems(exc, doc, Bundle)
        raise FileProblems("invalid FHIR Bundle", problems=problems[:10]) from None
    except (KeyError, TypeError) as exc:  # fhir.resources meeting a resourceType it lacks
        raise _problem(doc, (), f"not a valid FHIR R4 Bundle ({exc})") from None
    reader = _Reader(doc, on or date.today())
    return reader.patient()


def _resource_type(kind: Any, lookup: Any) -> bool:
    if not isinstance(kind, str):
        return False
    try:
        lookup(kind)
    except (KeyError, ValueError):
        return False
    return True


def _problem(doc: Document, loc: Loc, message: str) -> FileProblems:
    where = describe(loc) or "top level"
    return FileProblems(
        message, problems=[Problem(doc.path, doc.line_of(loc), f"{where}: {message}")]
    )


@dataclass
class _Entry:
    """One entry of the patient's lists, and where in the Bundle each of its parts came from."""

    fields: dict[str, Any]
    loc: Loc
    parts: dict[str, Loc] = field(default_factory=dict)
    codes: list[Loc] = field(default_factory=list)


class _Reader:
    def __init__(self, doc: Document, on: date) -> None:
        self.doc = doc
        self.on = on
        self.notes: list[Note] = []
        self.lists: dict[str, list[_Entry]] = {"conditions": [], "medications": [], "allergies": []}
        self.flags: dict[str, tuple[date | None, bool | None, Loc]] = {}
        self.sessions: list[tuple[date, Loc]] = []
        self.unread: Counter[str] = Counter()
        self.why_unread: dict[str, str] = {}
        self.entries: list[tuple[Loc, dict[str, Any]]] = [
            (("entry", i, "resource"), e["resource"])
            for i, e in enumerate(doc.value.get("entry") or [])
            if isinstance(e.get("resource"), dict)
        ]
        self.medications: dict[str, tuple[Loc, dict[str, Any]]] = {}
        for i, e in enumerate(doc.value.get("entry") or []):
            resource = e.get("resource")
            if isinstance(resource, dict) and resource.get("resourceType") == "Medication":
                loc: Loc = ("entry", i, "resource")
                for key in _keys(e.get("fullUrl"), "Medication", resource.get("id")):
                    self.medications[key] = (loc, resource)
        self.used: set[Loc] = set()
        self.me: set[str] = set()
        self.person_loc: Loc = ()
        self.person_parts: dict[str, Loc] = {}
        self._session_locs: list[Loc] = []

    # --- the whole Bundle ------------------------------------------------------------------

    def patient(self) -> Patient:
        people = [(loc, r) for loc, r in self.entries if r["resourceType"] == "Patient"]
        if not people:
            raise _problem(self.doc, ("entry",), "the Bundle holds no Patient resource")
        if len(people) > 1:
            raise _problem(
                self.doc, people[1][0], "a second Patient: a Bundle holds one patient's records"
            )
        loc, person = people[0]
        self.me = set(_keys(self._full_url(loc), "Patient", person.get("id")))
        fields = self._person(loc, person)
        readers = {
            "Condition": self._condition,
            "MedicationStatement": self._medication,
            "MedicationRequest": self._medication,
            "AllergyIntolerance": self._allergy,
            "Observation": self._observation,
            "Procedure": self._session,
            "Encounter": self._session,
        }
        for where, resource in self.entries:
            kind = resource["resourceType"]
            read = readers.get(kind)
            if read is not None:
                self._same_patient(where, resource)
                read(where, resource)
            elif kind == "Medication":
                continue  # counted below unless a medication statement or request used it
            elif kind != "Patient":
                self.unread[kind] += 1
        for key, (where, _) in self.medications.items():
            if where not in self.used and key.startswith("Medication/"):
                self.unread["Medication"] += 1
        fields["conditions"] = [e.fields for e in self.lists["conditions"]]
        fields["medications"] = [e.fields for e in self.lists["medications"]]
        fields["allergies"] = [e.fields for e in self.lists["allergies"]]
        for flag, (_, value, _) in self.flags.items():
            if value is not None:
                fields[flag] = value
        fields["sessions_done"] = self._session_dates()
        for kind, count in sorted(self.unread.items()):
            why = self.why_unread.get(kind, "")
            self.notes.append(Note(code=NoteCode.NOT_READ, text=f"{count} {kind} not read{why}"))
        try:
            patient = Patient.model_validate(fields, context={"on": self.on})
        except ValidationError as exc:
            raise FileProblems("invalid FHIR Bundle", problems=self._problems(exc)) from None
        return patient.noting(self.notes)

    def _full_url(self, loc: Loc) -> Any:
        return self.doc.value["entry"][loc[1]].get("fullUrl")

    def _same_patient(self, loc: Loc, resource: dict[str, Any]) -> None:
        key = "patient" if resource["resourceType"] == "AllergyIntolerance" else "subject"
        reference = (resource.get(key) or {}).get("reference")
        if not isinstance(reference, str):
            return  # by identifier or display only: nothing to compare
        if reference in self.me or any(reference.endswith("/" + k) for k in self.me if "/" in k):
            return
        raise _problem(
            self.doc,
            loc + (key, "reference"),
            f"refers to {reference!r}, not to the Bundle's Patient; a Bundle holds one "
            "patient's records",
        )

    def _note(self, code: NoteCode, text: str) -> None:
        self.notes.append(Note(code=code, text=text))

    def _problems(self, exc: ValidationError) -> list[Problem]:
        """The patient model's errors at the places in the Bundle the values came from."""
        out = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
            where = self._origin(loc)
            message = err["msg"].removeprefix("Value error, ")
            line = self.doc.line_of(where)
            out.append(Problem(self.doc.path, line, f"{describe(where) or 'top level'}: {message}"))
        return out

    def _origin(self, loc: Loc) -> Loc:
        if not loc:
            return ()
        head = loc[0]
        if head in self.lists and len(loc) > 1 and isinstance(loc[1], int):
            entry = self.lists[str(head)][loc[1]]
            if len(loc) > 3 and loc[2] == "code" and isinstance(loc[3], int):
                return entry.codes[loc[3]]
            if len(loc) > 2 and str(loc[2]) in entry.parts:
                return entry.parts[str(loc[2])]
            return entry.loc
        if head == "sessions_done" and len(loc) > 1 and isinstance(loc[1], int):
            return self._session_locs[loc[1]]
        return self.person_parts.get(str(head), self.person_loc)

    # --- Patient ---------------------------------------------------------------------------

    def _person(self, loc: Loc, person: dict[str, Any]) -> dict[str, Any]:
        self.person_loc = loc
        self.person_parts = {
            "birth_date": loc + ("birthDate",),
            "id": loc + ("identifier",),
            "sex": loc + ("gender",),
        }
        born = person.get("birthDate")
        if born is None:
            raise _problem(self.doc, loc, "the Patient has no birthDate, which meso needs")
        if _DATE.fullmatch(born) is None or len(born) != 10:
            raise _problem(
                self.doc,
                loc + ("birthDate",),
                f"{born!r}: meso needs the full birth date (YYYY-MM-DD) to count the age",
            )
        fields: dict[str, Any] = {"birth_date": born}
        patient_id = _identifier(person.get("identifier") or []) or person.get("id")
        if patient_id:
            fields["id"] = patient_id
        gender = person.get("gender")
        if gender in ("female", "male", "other"):
            fields["sex"] = gender
        elif gender is not None and gender != "unknown":
            raise _problem(
                self.doc,
                loc + ("gender",),
                f"{gender!r} is not a FHIR gender (male, female, other, unknown)",
            )
        return fields

    # --- Condition -------------------------------------------------------------------------

    def _condition(self, loc: Loc, res: dict[str, Any]) -> None:
        name, entry = self._coded(loc + ("code",), res.get("code"), "condition")
        verification = self._status_code(
            loc + ("verificationStatus",), res.get("verificationStatus"), CONDITION_VERIFICATION
        )
        if verification in ("refuted", "entered-in-error"):
            self._note(NoteCode.RECORD_IGNORED, f"condition {name}: {verification}, not read")
            return
        clinical = self._status_code(
            loc + ("clinicalStatus",), res.get("clinicalStatus"), CONDITION_CLINICAL
        )
        abated = res.get("abatementDateTime") or (res.get("abatementPeriod") or {}).get("end")
        at = loc + (
            ("abatementDateTime",) if "abatementDateTime" in res else ("abatementPeriod", "end")
        )
        if abated is not None:
            entry.fields["resolved_on"] = self._day(at, abated, f"condition {name} abated")
            entry.parts["resolved_on"] = at
        elif clinical in ("inactive", "remission", "resolved"):
            entry.fields["resolved_on"] = self.on
            self._note(
                NoteCode.READ_AS,
                f"condition {name}: {clinical} with no date of abatement, read as resolved by "
                f"{self.on}",
            )
        if verification in ("unconfirmed", "provisional", "differential"):
            self._note(NoteCode.READ_AS, f"condition {name}: {verification}, read as present")
        self.lists["conditions"].append(entry)

    # --- MedicationStatement, MedicationRequest --------------------------------------------

    def _medication(self, loc: Loc, res: dict[str, Any]) -> None:
        kind = res["resourceType"]
        concept_loc, concept = self._medicine(loc, res)
        name, entry = self._coded(concept_loc, concept, "medication")
        status = self._status(loc, res, kind)
        if kind == "MedicationRequest":
            intent = res.get("intent")
            if intent not in REQUEST_INTENT:
                raise _problem(
                    self.doc,
                    loc + ("intent",),
                    _not_in(intent, "MedicationRequest intent", REQUEST_INTENT),
                )
            if intent in ("proposal", "plan", "option"):
                self._note(
                    NoteCode.RECORD_IGNORED,
                    f"medication {name}: a {intent}, not a prescription; not read",
                )
                return
        if status in _NOT_TAKEN[kind]:
            self._note(NoteCode.RECORD_IGNORED, f"medication {name}: {status}, not read")
            return
        period_end = (res.get("effectivePeriod") or {}).get("end")
        when_loc, when = (
            (loc + ("effectivePeriod", "end"), period_end)
            if period_end is not None
            else (loc + ("effectiveDateTime",), res.get("effectiveDateTime"))
        )
        if status in ("stopped", "completed"):
            if when is not None:
                entry.fields["last_dose"] = self._day(when_loc, when, f"medication {name} stopped")
                entry.parts["last_dose"] = when_loc
            elif res.get("dateAsserted") is not None:
                at = loc + ("dateAsserted",)
                entry.fields["last_dose"] = self._day(at, res["dateAsserted"], "asserted")
                entry.parts["last_dose"] = at
                self._note(
                    NoteCode.READ_AS,
                    f"medication {name}: {status} with no date; the date it was recorded, "
                    f"{entry.fields['last_dose']}, is taken as the last dose",
                )
            else:
                self._note(
                    NoteCode.READ_AS,
                    f"medication {name}: {status} with no date, read as taken now",
                )
        elif period_end is not None:
            # Taken now, with a planned end: that end is the last dose.
            entry.fields["last_dose"] = self._day(when_loc, period_end, f"medication {name} ends")
            entry.parts["last_dose"] = when_loc
        elif status in ("on-hold", "unknown"):
            self._note(NoteCode.READ_AS, f"medication {name}: {status}, read as taken now")
        self.lists["medications"].append(entry)

    def _medicine(self, loc: Loc, res: dict[str, Any]) -> tuple[Loc, Any]:
        """The medication's code: the CodeableConcept, or the Medication it references."""
        if "medicationCodeableConcept" in res:
            return loc + ("medicationCodeableConcept",), res["medicationCodeableConcept"]
        reference = res.get("medicationReference") or {}
        target = reference.get("reference")
        if isinstance(target, str) and target.startswith("#"):
            for k, contained in enumerate(res.get("contained") or []):
                if (
                    contained.get("id") == target[1:]
                    and contained.get("resourceType") == "Medication"
                ):
                    return loc + ("contained", k, "code"), contained.get("code")
        found = self.medications.get(target) if isinstance(target, str) else None
        if found is None and isinstance(target, str):
            found = next((m for k, m in self.medications.items() if target.endswith("/" + k)), None)
        if found is not None:
            self.used.add(found[0])
            return found[0] + ("code",), found[1].get("code")
        display = reference.get("display")
        return loc + ("medicationReference",), {"text": display} if display else None

    # --- AllergyIntolerance ----------------------------------------------------------------

    def _allergy(self, loc: Loc, res: dict[str, Any]) -> None:
        verification = self._status_code(
            loc + ("verificationStatus",), res.get("verificationStatus"), ALLERGY_VERIFICATION
        )
        clinical = self._status_code(
            loc + ("clinicalStatus",), res.get("clinicalStatus"), ALLERGY_CLINICAL
        )
        concepts: list[tuple[Loc, Any]] = []
        if res.get("code") is not None:
            concepts.append((loc + ("code",), res["code"]))
        for k, reaction in enumerate(res.get("reaction") or []):
            if reaction.get("substance") is not None:
                concepts.append((loc + ("reaction", k, "substance"), reaction["substance"]))
        if not concepts:
            concepts.append((loc + ("code",), None))
        seen: list[dict[str, Any]] = []
        for where, concept in concepts:
            name, entry = self._coded(where, concept, "allergy")
            if verification in ("refuted", "entered-in-error") or clinical in (
                "inactive",
                "resolved",
            ):
                why = verification if verification in ("refuted", "entered-in-error") else clinical
                self._note(NoteCode.RECORD_IGNORED, f"allergy to {name}: {why}, not read")
                continue
            if entry.fields in seen:
                continue  # the reaction's substance is the allergy's own code again
            seen.append(entry.fields)
            self.lists["allergies"].append(entry)

    # --- Observation: pregnancy and breastfeeding status -----------------------------------

    def _observation(self, loc: Loc, res: dict[str, Any]) -> None:
        codes = {
            (c.get("system"), c.get("code")) for c in (res.get("code") or {}).get("coding") or []
        }
        which = next((k for k in _ANSWERS if (LOINC, k) in codes), None)
        if which is None:
            self.unread["Observation"] += 1
            self.why_unread["Observation"] = " (only pregnancy and breastfeeding status are)"
            return
        status = self._status(loc, res, "Observation")
        what = {PREGNANCY_STATUS: "pregnancy status", BREASTFEEDING_STATUS: "breastfeeding status"}[
            which
        ]
        if status in ("registered", "cancelled", "entered-in-error"):
            self._note(NoteCode.RECORD_IGNORED, f"{what}: {status}, not read")
            return
        when = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("end")
        when = when or res.get("issued")
        day = self._day(loc, when, what) if when is not None else None
        answer = res.get("valueCodeableConcept") or {}
        found = [
            _ANSWERS[which][(c.get("system"), c.get("code"))]
            for c in answer.get("coding") or []
            if (c.get("system"), c.get("code")) in _ANSWERS[which]
        ]
        shown = _label(answer) or "no answer"
        value = found[0] if found else None
        flag = _STATUS_FLAG[which]
        before = self.flags.get(flag)
        if before is not None and (day is None or (before[0] is not None and before[0] > day)):
            self._note(NoteCode.RECORD_IGNORED, f"{what}: {shown} on {day}, an earlier one")
            return
        self.flags[flag] = (day, value, loc)
        dated = f" on {day}" if day else ", undated"
        if value is None:
            self._note(
                NoteCode.READ_AS,
                f"{what}: {shown}{dated}; {flag} is not stated, not taken as no",
            )
        else:
            word = "true" if value else "false"
            self._note(NoteCode.READ_AS, f"{what}: {shown}{dated}, read as {flag}: {word}")

    # --- Procedure, Encounter: sessions already given --------------------------------------

    def _session(self, loc: Loc, res: dict[str, Any]) -> None:
        kind = res["resourceType"]
        concepts = [res.get("code")] if kind == "Procedure" else [*(res.get("type") or [])]
        if kind == "Encounter":
            concepts.append(res.get("serviceType"))
        if not any(_is_mesotherapy(c) for c in concepts if c):
            self.unread[kind] += 1
            self.why_unread[kind] = " (not a mesotherapy session)"
            return
        status = self._status(loc, res, kind)
        done = "completed" if kind == "Procedure" else "finished"
        if status != done:
            self._note(NoteCode.RECORD_IGNORED, f"mesotherapy {kind}: {status}, not a session done")
            return
        if kind == "Procedure":
            at = (
                loc + ("performedDateTime",)
                if "performedDateTime" in res
                else loc + ("performedPeriod", "start")
            )
            when = res.get("performedDateTime") or (res.get("performedPeriod") or {}).get("start")
        else:
            at, when = loc + ("period", "start"), (res.get("period") or {}).get("start")
        if not isinstance(when, str) or len(when) < 10:
            raise _problem(
                self.doc,
                at,
                f"a mesotherapy session needs its full date, got {when!r}",
            )
        self.sessions.append((date.fromisoformat(when[:10]), at))

    def _session_dates(self) -> list[str]:
        by_day: dict[date, Loc] = {}
        for day, loc in sorted(self.sessions, key=lambda s: s[0]):
            if day in by_day:
                self._note(
                    NoteCode.READ_AS, f"mesotherapy on {day}: recorded twice, read as one session"
                )
                continue
            by_day[day] = loc
        self._session_locs = list(by_day.values())
        return [d.isoformat() for d in by_day]

    # --- parts -------------------------------------------------------------------------------

    def _coded(self, loc: Loc, concept: Any, kind: str) -> tuple[str, _Entry]:
        """A CodeableConcept as an entry: its text (or a coding's display) as the name, and the
        codings in the systems meso reads as codes."""
        entry = _Entry({}, loc)
        concept = concept or {}
        codes = []
        for j, coding in enumerate(concept.get("coding") or []):
            system = SYSTEM_OF_URI.get(coding.get("system"))
            if system is not None and isinstance(coding.get("code"), str):
                codes.append({"system": system, "value": normalise(system, coding["code"])})
                entry.codes.append(loc + ("coding", j))
        name = _label(concept)
        if name is None and not codes:
            raw = [c for c in concept.get("coding") or [] if c.get("code")]
            name = (
                f"{raw[0].get('system', 'code')} {raw[0]['code']}"
                if raw
                else f"{kind} with no code"
            )
        if name is not None:
            entry.fields["name"] = name
        if codes:
            entry.fields["code"] = codes
        shown = name or ", ".join(f"{c['system']} {c['value']}" for c in codes)
        return shown, entry

    def _status_code(self, loc: Loc, concept: Any, allowed: set[str]) -> str | None:
        for j, coding in enumerate((concept or {}).get("coding") or []):
            code = coding.get("code")
            if code is None:
                continue
            if code not in allowed:
                raise _problem(
                    self.doc, loc + ("coding", j, "code"), _not_in(code, "status", allowed)
                )
            return str(code)
        return None

    def _status(self, loc: Loc, res: dict[str, Any], kind: str) -> str:
        status = res.get("status")
        if status not in STATUS[kind]:
            raise _problem(
                self.doc, loc + ("status",), _not_in(status, f"{kind} status", STATUS[kind])
            )
        return str(status)

    def _day(self, loc: Loc, value: Any, what: str) -> date:
        """A FHIR date or dateTime as the day it names, as written (no time zone shift). A
        partial date ("2026-11") is read as its last day, and said so."""
        found = _DATE.match(value) if isinstance(value, str) else None
        if found is None:
            raise _problem(self.doc, loc, f"{value!r} is not a FHIR date")
        year, month, day = found.groups()
        if day is not None:
            return date(int(year), int(month), int(day))
        last_month = int(month) if month else 12
        last = date(int(year), last_month, calendar.monthrange(int(year), last_month)[1])
        self._note(NoteCode.READ_AS, f"{what}: {value} read as {last}, its last day")
        return last


def _keys(full_url: Any, kind: str, resource_id: Any) -> Iterable[str]:
    if isinstance(full_url, str):
        yield full_url
    if isinstance(resource_id, str):
        yield f"{kind}/{resource_id}"


def _identifier(identifiers: Sequence[dict[str, Any]]) -> str | None:
    """The patient's identifier: the usual one, else the official one, else the first."""
    for use in ("usual", "official", None):
        for identifier in identifiers:
            if (use is None or identifier.get("use") == use) and identifier.get("value"):
                return str(identifier["value"])
    return None


def _label(concept: dict[str, Any]) -> str | None:
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in concept.get("coding") or []:
        display = coding.get("display")
        if isinstance(display, str) and display.strip():
            return display.strip()
    return None


def _is_mesotherapy(concept: dict[str, Any]) -> bool:
    for coding in concept.get("coding") or []:
        if (coding.get("system"), coding.get("code")) == (MESO_CODES, MESO_SESSION):
            return True
        if _MESOTHERAPY.search(str(coding.get("display") or "")):
            return True
    return bool(_MESOTHERAPY.search(str(concept.get("text") or "")))


def _not_in(value: Any, what: str, allowed: Iterable[str]) -> str:
    return f"{value!r} is not a FHIR R4 {what} ({', '.join(sorted(allowed))})"
