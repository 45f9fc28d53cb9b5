"""screen(patient, protocol, data, *, on) -> Screening: pure, no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, assert_never

from meso_cli import __version__
from meso_cli.codes import atc_in
from meso_cli.dates import age_on, birthday
from meso_cli.errors import MesoError, unknown
from meso_cli.matching import Match, Vocabularies, Vocabulary, tokens
from meso_cli.models import (
    Action,
    AgeAbove,
    AgeBelow,
    AnyOf,
    Clearance,
    Code,
    Dataset,
    Finding,
    Flag,
    HasCondition,
    IngredientAllergy,
    MedicationCount,
    Note,
    NoteCode,
    Patient,
    Protocol,
    Rule,
    Screening,
    TakesMedication,
    Trigger,
    UnrecognizedTerm,
    Verdict,
)


@dataclass(frozen=True)
class _Hit:
    matched: str | None
    detail: str
    until: date | None = None
    suggestions: tuple[str, ...] = ()
    action: Action | None = None  # overrides the rule's action (an allergy to review)
    partial: bool = False  # unknown words beside a known term in one entry
    final: bool = False  # a review --clear cannot settle (an allergy with no protocol chosen)


@dataclass
class _Entry:
    kind: str  # condition | medication | allergy
    name: str  # the patient's name for it, or its codes where no name is given
    matches: tuple[Match, ...]
    leftover: tuple[str, ...]
    active: bool = True
    resolved_on: date | None = None
    last_dose: date | None = None
    text: str | None = None  # the name as written, when one is given
    via: str | None = None  # the codes that matched a term, as shown ("ATC B01AA03")
    atc: tuple[str, ...] = ()  # its ATC codes, given or of the terms it matched
    unknown: tuple[Code, ...] = ()  # codes given that no term carries and no rule's class holds
    classed: bool = False  # known through a rule's ATC class alone

    @property
    def known(self) -> bool:
        return bool(self.matches) or self.classed


@dataclass
class _Facts:
    """What the engine knows about the patient on the evaluation day."""

    patient: Patient
    day: date
    on: date
    age_low: int
    age_high: int
    age_text: str
    entries: list[_Entry]
    protocol: Protocol | None
    vocab: Vocabularies


# A rule that applies to a protocol, with the terms it cannot fire without (None: it can).
_Applicable = list[tuple[Rule, frozenset[str] | None]]


class Screener:
    """One data set's rules, ready to apply to one patient after another.

    It holds what every screening of the data set reads and is worth working out once: the
    vocabularies the patient's names are read with, and per protocol the rules that apply.
    A batch keeps one for the whole run; `screen()` makes one for a single patient.
    """

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.vocab = Vocabularies.of(data)
        self._rank = {r.id: i for i, r in enumerate(data.rules)}
        self._applicable: dict[tuple[str, ...], _Applicable] = {}

    def screen(
        self,
        patient: Patient,
        protocol: Protocol | None,
        *,
        on: date,
        start: date | None = None,
        clear: Iterable[str] = (),
    ) -> Screening:
        """Apply every rule to the patient on `start` (default: the reference date `on`).

        A deferral moves the first possible session to its end; the rules are applied on that
        day too, and what newly fires there (an age limit crossed in the meantime) is added.
        The patient is taken as read for `on` (`Patient.model_validate(..., context={"on":
        on})`): born by then, with an age that fits the birth date.
        """
        cleared = _check_clear(list(clear), self.data)
        _check_recorded(patient, self.data)
        day = start or on
        findings, facts = self._findings(patient, protocol, on=on, day=day, cleared=cleared)
        lapsed: list[str] = []
        if day > on:
            now, _ = self._findings(patient, protocol, on=on, day=on, cleared=cleared)
            findings, lapsed = _from_reference_date(findings, now, day, self._rank)
        verdict = verdict_of(findings)
        earliest = _earliest_start(verdict, findings, on)
        if lapsed and earliest is not None:
            earliest = max(earliest, day)
        if verdict is Verdict.DEFERRED and earliest is not None and earliest > day:
            later, _ = self._findings(patient, protocol, on=on, day=earliest, cleared=cleared)
            fired = {f.rule for f in findings}
            for f in later:
                if f.rule not in fired and f.action is not Action.DEFER:
                    detail = f"on {earliest}, when the deferral ends: {f.detail}"
                    findings.append(f.model_copy(update={"detail": detail}))
            verdict = verdict_of(findings)
            earliest = _earliest_start(verdict, findings, on)
        exempt = sorted(protocol.exempt_rules) if protocol else []
        return Screening(
            patient_id=patient.id,
            protocol=protocol.id if protocol else None,
            reference_date=on,
            verdict=verdict,
            earliest_start=earliest,
            findings=findings,
            data_version=self.data.version,
            evaluated_on=day,
            assumed=[
                *patient.record_notes,
                *_assumptions(facts),
                *(
                    Note(
                        code=NoteCode.LAPSED_BY_START,
                        text=f"{rule} applies on the reference date {on}, not on the start "
                        f"{day}: the start is the earliest day checked",
                    )
                    for rule in lapsed
                ),
            ],
            cleared=cleared,
            not_applicable=exempt,
            meso_version=__version__,
        )

    def _findings(
        self,
        patient: Patient,
        protocol: Protocol | None,
        *,
        on: date,
        day: date,
        cleared: list[str],
    ) -> tuple[list[Finding], _Facts]:
        """One finding per rule and matched entry that fires on `day`."""
        facts = _facts(patient, protocol, self.vocab, on=on, day=day)
        findings: list[Finding] = []
        recorded = sorted(
            (c for c in patient.clearances if c.on <= on), key=lambda c: c.on, reverse=True
        )
        partial: set[int] = set()  # ids of findings on words left over beside a known term
        seen: set[tuple[str, str, date | None]] = set()
        known = {m.term for e in facts.entries for m in e.matches}
        known.update(f"atc:{c[:n]}" for e in facts.entries for c in e.atc for n in _ATC_LEVELS)
        for rule, needs in self._rules_for(protocol):
            if needs is not None and known.isdisjoint(needs):
                continue
            for hit in _fire(rule.when, facts):
                # The same name listed twice ("eczema", "Eczema") is one finding.
                key = (rule.id, " ".join(tokens(hit.matched or "")), hit.until)
                if key in seen:
                    continue
                seen.add(key)
                action = hit.action or rule.action
                detail = hit.detail
                if action is Action.DEFER and hit.until is None:
                    detail += "; no end date is known"
                reviewed = action is Action.REVIEW and not hit.final
                record = _covering(recorded, rule, hit.matched) if reviewed else None
                finding = Finding(
                    rule=rule.id,
                    action=action,
                    title=rule.title,
                    detail=detail,
                    matched=hit.matched,
                    until=hit.until if action is Action.DEFER else None,
                    sources=rule.sources,
                    cleared=reviewed and (rule.id in cleared or record is not None),
                    clearance=record,
                    advice=rule.advice,
                    suggestions=list(hit.suggestions),
                )
                findings.append(finding)
                if hit.partial:
                    partial.add(id(finding))
        # Unknown words beside a term that already excludes the patient ("breast" in "breast
        # cancer") cannot change the verdict; listing them would only bury the reason.
        excluded = {f.matched for f in findings if f.action is Action.EXCLUDE}
        return [f for f in findings if not (id(f) in partial and f.matched in excluded)], facts

    def _rules_for(self, protocol: Protocol | None) -> _Applicable:
        """Each rule that applies to the protocol, with the terms it cannot fire without
        (None: it can), worked out once per protocol.

        A rule of conditions or medications cannot fire for a patient none of whose entries
        match one of its terms, so most rules are passed over without evaluating a trigger.
        """
        exempt = tuple(protocol.exempt_rules) if protocol else ()
        found = self._applicable.get(exempt)
        if found is None:
            found = []
            for rule in self.data.rules:
                if rule.id in exempt:
                    continue
                needs = [n for n in map(_needs, rule.when) if n is not None]
                found.append((rule, min(needs, key=len) if needs else None))
            self._applicable[exempt] = found
        return found


def screen(
    patient: Patient,
    protocol: Protocol | None,
    data: Dataset,
    *,
    on: date,
    start: date | None = None,
    clear: Iterable[str] = (),
) -> Screening:
    """One patient's screening (see `Screener.screen`); for many, keep one Screener."""
    return Screener(data).screen(patient, protocol, on=on, start=start, clear=clear)


def _from_reference_date(
    findings: list[Finding], now: list[Finding], day: date, rank: dict[str, int]
) -> tuple[list[Finding], list[str]]:
    """The findings on a later start `day`, given those on the reference date (`now`).

    A deferral running now that ends by the start still holds the patient back until it
    ends: it is kept, so the earliest start is its end and the reason is shown (ibuprofen
    taken now must be stopped). The rules other than deferrals that fire now but have lapsed
    by the start (an 18th birthday in between) are the second value: the start is then the
    earliest day known to be safe.
    """
    fired = {(f.rule, f.matched) for f in findings}
    rules_fired = {f.rule for f in findings}
    ended = [
        f
        for f in now
        if f.action is Action.DEFER
        and f.until is not None
        and f.until <= day
        and (f.rule, f.matched) not in fired
    ]
    lapsed = list(
        dict.fromkeys(
            f.rule for f in now if f.action is not Action.DEFER and f.rule not in rules_fired
        )
    )
    if not ended:
        return findings, lapsed
    return sorted([*findings, *ended], key=lambda f: rank[f.rule]), lapsed


def verdict_of(findings: Sequence[Finding]) -> Verdict:
    """The strongest uncleared finding: not_eligible > review > deferred > eligible."""
    actions = {f.action for f in findings if not f.cleared}
    if Action.EXCLUDE in actions:
        return Verdict.NOT_ELIGIBLE
    if Action.REVIEW in actions:
        return Verdict.REVIEW
    if Action.DEFER in actions:
        return Verdict.DEFERRED
    return Verdict.ELIGIBLE


def _earliest_start(verdict: Verdict, findings: Sequence[Finding], on: date) -> date | None:
    if verdict is Verdict.NOT_ELIGIBLE:
        return None
    ends = [f.until for f in findings if f.action is Action.DEFER and not f.cleared]
    if any(end is None for end in ends):
        return None
    return max([on, *(e for e in ends if e is not None)])


def _check_clear(ids: list[str], data: Dataset) -> list[str]:
    ids = list(dict.fromkeys(i.strip().lower() for i in ids))
    for rule_id in ids:
        rule = data.rule(rule_id)
        if rule is None:
            raise unknown("rule", rule_id, (r.id for r in data.rules))
        if not clearable(rule):
            raise MesoError(
                f"--clear {rule_id}: only review findings can be cleared; "
                f"{rule_id!r} is {'an' if rule.action is Action.EXCLUDE else 'a'} "
                f"{rule.action.value} rule"
            )
    return ids


def _check_recorded(patient: Patient, data: Dataset) -> None:
    """A clearance in the patient file names a rule that exists and can be cleared."""
    for c in patient.clearances:
        rule = data.rule(c.rule)
        if rule is None:
            found = unknown("rule", c.rule, (r.id for r in data.rules))
            raise MesoError(f"the patient file's clearances: {found}")
        if not clearable(rule):
            article = "an" if rule.action is Action.EXCLUDE else "a"
            raise MesoError(
                f"the patient file's clearances: {c.rule} is {article} {rule.action.value} "
                "rule and cannot be cleared; remove that clearance"
            )


def _entry_key(text: str | None) -> str:
    return " ".join(tokens(text or ""))


def _covering(recorded: Sequence[Clearance], rule: Rule, matched: str | None) -> Clearance | None:
    """The latest recorded clearance of `rule` for the entry a finding names: the same
    medicine, condition or allergy (ignoring case, spaces and hyphens), so a new entry fires
    the rule again. An age rule has one entry, the patient's age, whose words change with
    the date ("age 76 on 2026-11-22"): a clearance of it covers it whatever the day."""
    by_age = isinstance(rule.when[0], AgeAbove | AgeBelow)
    for c in recorded:
        if c.rule == rule.id and (by_age or _entry_key(c.matched) == _entry_key(matched)):
            return c
    return None


def clearable(rule: Rule) -> bool:
    """Whether --clear may name the rule: a review rule, or ingredient-allergy, whose finding
    is a review when the allergen is not listed for the protocol. Clearing never lifts an
    exclusion: only findings with the review action are marked cleared."""
    return rule.action is Action.REVIEW or any(_allergy_trigger(t) for t in rule.when)


def _allergy_trigger(trigger: Trigger) -> bool:
    if isinstance(trigger, AnyOf):
        return any(_allergy_trigger(option) for option in trigger.any)
    return isinstance(trigger, IngredientAllergy)


_ATC_LEVELS = (1, 3, 4, 5, 7)  # the lengths of an ATC code's classes and of the code itself


def _read(
    kind: str, name: str | None, codes: Sequence[Code], vocab: Vocabulary, classes: dict[str, str]
) -> dict[str, Any]:
    """How one entry of the patient reads: a known code decides (the name is then only shown);
    without one, the name is read, and the codes given are unknown (a review)."""
    known: tuple[Match, ...] = tuple(
        dict.fromkeys(m for c in codes if (m := vocab.code(c)) is not None)
    )
    leftover: tuple[str, ...] = ()
    unknown: tuple[Code, ...] = ()
    given = [c.value for c in codes if c.system == "atc"]
    classed = kind == "medication" and any(atc_in(c, g) for c in given for g in classes)
    shown = ", ".join(c.shown for c in codes if vocab.code(c) is not None or c.system == "atc")
    if known or classed:
        matches = known
    else:
        matches, leftover = vocab.read(name) if name is not None else ((), ())
        unknown, shown = tuple(codes), ""
    atc = [*given, *(c for m in matches for c in vocab.atc_of.get(m.term, ()))]
    return {
        "matches": matches,
        "leftover": leftover,
        "text": name,
        "via": shown or None,
        "atc": tuple(dict.fromkeys(atc)),
        "unknown": unknown,
        "classed": classed and not known,
    }


def _facts(
    patient: Patient,
    protocol: Protocol | None,
    vocab: Vocabularies,
    *,
    on: date,
    day: date,
) -> _Facts:
    low, high, text = _age_range(patient, on=on, day=day)
    entries: list[_Entry] = []
    classes = vocab.classes
    for c in patient.conditions:
        active = c.resolved_on is None or c.resolved_on > day
        read = _read("condition", c.name, c.code or (), vocab.conditions, classes)
        entries.append(
            _Entry("condition", c.label, active=active, resolved_on=c.resolved_on, **read)
        )
    for m in patient.medications:
        read = _read("medication", m.name, m.code or (), vocab.medications, classes)
        entries.append(_Entry("medication", m.label, last_dose=m.last_dose, **read))
    for a in patient.allergies:
        read = _read("allergy", a.name, a.code or (), vocab.allergens, classes)
        entries.append(_Entry("allergy", a.label, **read))
    return _Facts(patient, day, on, low, high, text, entries, protocol, vocab)


def _age_range(patient: Patient, *, on: date, day: date) -> tuple[int, int, str]:
    """Youngest and oldest the patient can be on `day`, and how that was worked out."""
    if patient.birth_date is not None:
        age = age_on(patient.birth_date, day)
        return age, age, f"age {age} on {day}"
    assert patient.age is not None  # the model requires one of the two
    if day <= on:
        return patient.age, patient.age, f"age {patient.age}"
    # Without a birth date a birthday may fall between the reference date and the start.
    low = patient.age + age_on(on, day)
    high = low + (1 if (day - birthday(on, age_on(on, day))).days > 0 else 0)
    shown = f"age {low}" if low == high else f"age {low} or {high}"
    return low, high, f"{shown} on {day} (age {patient.age} on {on}, birth date not given)"


def _needs(trigger: Trigger) -> frozenset[str] | None:
    """The term ids one of which must match for `trigger` to hold; None if it can hold without."""
    match trigger:
        case HasCondition(conditions=ids):
            return frozenset(ids)
        case TakesMedication(medications=ids, atc=groups):
            return frozenset(ids) | {f"atc:{g}" for g in groups}
        case AnyOf(any=options):
            sets = [_needs(option) for option in options]
            if any(n is None for n in sets):
                return None
            return frozenset().union(*(n for n in sets if n is not None))
        case _:
            return None


def _fire(triggers: Sequence[Trigger], facts: _Facts) -> list[_Hit]:
    """Hits of the first trigger, provided every other trigger holds too.

    A compound rule (several triggers) gives one hit: "angina" and "heart failure" with two
    medications are one reason not to treat, not two.
    """
    first, *rest = triggers
    hits = _hits(first, facts)
    if not hits:
        return []
    if not rest:
        return hits
    others = [_hits(t, facts) for t in rest]
    if not all(others):
        return []
    matched = [h.matched for h in hits if h.matched]
    details = [h.detail for h in hits] + [found[0].detail for found in others]
    ends = [h.until for h in hits]
    until = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return [
        _Hit(
            ", ".join(dict.fromkeys(matched)) or None,
            "; ".join(dict.fromkeys(details)),
            until,
            tuple(dict.fromkeys(s for h in hits for s in h.suggestions)),
            hits[0].action,
        )
    ]


def _hits(trigger: Trigger, facts: _Facts) -> list[_Hit]:
    match trigger:
        case AgeBelow(age_below=limit):
            if facts.age_low >= limit:
                return []
            turns = ""
            if facts.patient.birth_date is not None:
                turns = f"; turns {limit} on {birthday(facts.patient.birth_date, limit)}"
            return [_Hit(facts.age_text, f"{facts.age_text}, under {limit}{turns}")]
        case AgeAbove(age_above=limit):
            if facts.age_high <= limit:
                return []
            return [_Hit(facts.age_text, f"{facts.age_text}, over {limit}")]
        case Flag(flag=name):
            if getattr(facts.patient, name) is not True:
                return []
            return [_Hit(f"{name}: true", f"{name}: true, as stated")]
        case HasCondition(conditions=ids):
            return [
                _Hit(e.name, _condition_detail(e, m), e.resolved_on)
                for e in facts.entries
                if e.kind == "condition" and e.active
                for m in _matching(e, ids)
            ]
        case TakesMedication(medications=ids, atc=groups, washout_days=washout):
            return [
                hit
                for e in facts.entries
                if e.kind == "medication"
                for m in _matching(e, ids) or _in_class(e, groups, facts.vocab)
                for hit in _medication_hit(e, m, washout, facts)
            ]
        case MedicationCount(medication_count_at_least=n):
            taken = [e for e in facts.entries if e.kind == "medication"]
            # "levothyroxine and vitamin D" or "bisoprolol, ramipril" in one entry is two
            # medicines, not one: the known terms in it, or its parts, whichever is more.
            count = sum(max(len(e.matches), _parts(e.text) if e.text else 1) for e in taken)
            if count < n:
                return []
            names = ", ".join(e.name for e in taken)
            return [_Hit(names, f"{count} medications: {names}")]
        case IngredientAllergy():
            return _allergy_hits(facts)
        case UnrecognizedTerm():
            return [
                _unrecognized(e, facts.vocab)
                for e in facts.entries
                if not e.known or e.leftover or e.unknown
            ]
        case AnyOf(any=options):
            return [hit for option in options for hit in _hits(option, facts)]
        case _:
            assert_never(trigger)


_SEPARATORS = re.compile(r"[,;/+&]|\b(?:and|with|plus)\b", re.IGNORECASE)


def _parts(name: str) -> int:
    """How many things a name lists: "bisoprolol and ramipril" is 2, "slow release
    nifedipine" 1."""
    return max(1, sum(1 for part in _SEPARATORS.split(name) if part.strip()))


def _matching(entry: _Entry, ids: Sequence[str]) -> list[Match]:
    return [m for m in entry.matches if m.term in ids]


def _in_class(entry: _Entry, groups: Sequence[str], vocab: Vocabularies) -> list[Match]:
    """The first of a rule's ATC classes the entry's codes lie in, as a match to show."""
    for group in groups:
        for code in entry.atc:
            if atc_in(code, group):
                name = vocab.classes.get(group, group)
                return [Match(f"atc:{group}", f"ATC {code}, in {group} {name}")]
    return []


def _read_as(entry: _Entry, match: Match, word: str = "") -> str:
    """How the entry was read, beside its name: " (Coumadin)", " (ATC B01AA03: warfarin)"."""
    if match.term.startswith("atc:"):
        return f" ({match.name})"
    if entry.via is not None:
        same = entry.name.casefold() == match.name.casefold()
        return f" ({entry.via})" if same else f" ({entry.via}: {match.name})"
    if entry.name.casefold() == match.name.casefold():
        return ""
    return f" ({word}{match.name})"


def _condition_detail(entry: _Entry, match: Match) -> str:
    known = _read_as(entry, match, "read as ")
    if entry.resolved_on is not None:
        return f"{entry.name}{known}; resolves on {entry.resolved_on}"
    return f"{entry.name}{known}"


def _medication_hit(entry: _Entry, match: Match, washout: int | None, facts: _Facts) -> list[_Hit]:
    known = _read_as(entry, match)
    if washout is None:
        when = f", last dose {entry.last_dose}" if entry.last_dose else ", taken now"
        return [_Hit(entry.name, f"{entry.name}{known}{when}")]
    last = entry.last_dose or facts.on
    until = last + timedelta(days=washout)
    if until <= facts.day:
        return []
    if entry.last_dose is None:
        # Not "stop it": aspirin taken for the heart is the prescriber's decision (the advice).
        detail = (
            f"{entry.name}{known} taken now (no last_dose): "
            f"first session from {until} if the last dose is on {facts.on}"
        )
    else:
        detail = f"last dose of {entry.name}{known} {last}: first session from {until}"
    return [_Hit(entry.name, detail, until)]


def _allergy_hits(facts: _Facts) -> list[_Hit]:
    """An allergy to an ingredient of the chosen protocol excludes. An allergy to another
    ingredient is reviewed: there is no standard formula (000, 002), so the clinic's own
    solution may hold it. A medicine no solution holds (aspirin) is no concern here."""
    hits = []
    protocol = facts.protocol
    for e in facts.entries:
        if e.kind != "allergy":
            continue
        for m in e.matches:
            used_in = facts.vocab.ingredient_of.get(m.term)
            if used_in is None:
                continue
            what = f"{e.name}{_read_as(e, m)}"
            listed = f"an ingredient of {', '.join(used_in)}" if used_in else "an ingredient"
            if protocol is None:
                # No protocol chosen: the allergy cannot be ruled in or out, so it is reviewed.
                # No label to check, so --clear cannot settle it: a protocol must be chosen.
                detail = (
                    f"allergy to {what}, {listed}; choose a protocol with --protocol to check it"
                )
                hits.append(_Hit(e.name, detail, action=Action.REVIEW, final=True))
            elif m.term in protocol.ingredients:
                hits.append(_Hit(e.name, f"allergy to {what}, an ingredient of {protocol.id}"))
            else:
                detail = (
                    f"allergy to {what}, {listed}: not listed for {protocol.id}, but solutions "
                    "vary; check the label of the clinic's solution"
                )
                hits.append(_Hit(e.name, detail, action=Action.REVIEW))
    return hits


def _unrecognized(entry: _Entry, vocab: Vocabularies) -> _Hit:
    """The whole name when nothing in it is known, else the words left over beside a term."""
    by_kind: dict[str, Vocabulary] = {
        "condition": vocab.conditions,
        "medication": vocab.medications,
    }
    if entry.unknown:
        # A code is exact: no suggestions for it. The name, if any, was read instead.
        codes = ", ".join(c.shown for c in entry.unknown)
        said = f"{entry.kind} {entry.name!r}" if entry.text else entry.kind
        detail = f"{said}: {codes} matches no known code"
        if entry.text and entry.matches:
            names = ", ".join(m.name for m in entry.matches)
            detail += f"; the name reads as {names}"
        elif entry.text and not entry.leftover:
            detail += "; the name matches no known term either"
        if not entry.leftover:
            return _Hit(entry.name, detail)
        return _Hit(entry.name, f"{detail}; {' '.join(entry.leftover)!r} in the name is unknown")
    unknown_part = " ".join(entry.leftover) if entry.matches else entry.name
    near = by_kind.get(entry.kind, vocab.allergens).suggest(unknown_part)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    where = f": {unknown_part!r} in it" if entry.matches else ""
    detail = f"{entry.kind} {entry.name!r}{where} matches no known term{hint}"
    return _Hit(entry.name, detail, suggestions=tuple(near), partial=bool(entry.matches))


def _assumptions(facts: _Facts) -> list[Note]:
    p = facts.patient
    out = []
    for flag in ("pregnant", "breastfeeding", "fever"):
        if getattr(p, flag) is None:
            out.append(Note(code=NoteCode.NOT_STATED, text=f"{flag}: not stated, taken as no"))
    if p.birth_date is None:
        text = f"birth date not given: {facts.age_text}"
        out.append(Note(code=NoteCode.AGE_WITHOUT_BIRTH_DATE, text=text))
    for e in facts.entries:
        if e.kind == "condition" and not e.active:
            text = f"{e.name}: resolved on {e.resolved_on}, not counted"
            out.append(Note(code=NoteCode.RESOLVED, text=text))
        if e.kind == "medication" and e.last_dose is None and e.known:
            text = f"{e.name}: no last_dose given, taken as being taken now"
            out.append(Note(code=NoteCode.TAKEN_NOW, text=text))
    return out
