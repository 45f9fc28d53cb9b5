"""Validates the clinical data files with the pydantic models and checks them against each
other and, for a clinic's copy, against the shipped data. Every problem names file and line."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from meso_cli.data import DATA_FILES, data_version, packaged_data_dir, require_directory
from meso_cli.documents import Document, Loc, _describe, _yaml_kind, parse, read_text
from meso_cli.errors import FileProblems, Problem, close_matches, file_error
from meso_cli.models import (
    AgeAbove,
    AgeBelow,
    AnyOf,
    CareItem,
    Dataset,
    Flag,
    HasCondition,
    MedicationCount,
    Protocol,
    Rule,
    TakesMedication,
    Term,
    TermKind,
    Trigger,
)
from meso_cli.models import Strict as _Strict

M = TypeVar("M", bound=BaseModel)


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _keys_of(model: type[BaseModel], into: set[str]) -> set[str]:
    """Every key the model accepts at any depth, for 'did you mean' on a misspelled key."""
    for name, info in model.model_fields.items():
        into.add(info.alias or name)
        for sub in _models_in(info.annotation):
            if sub is not model:
                _keys_of(sub, into)
    return into


_EXPECTED = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
}


def _doc_loc(loc: Sequence[str | int], value: Any) -> Loc:
    """Pydantic's error location as a path in the file, without its union and model tags."""
    out: list[str | int] = []
    here = value
    for part in loc:
        if isinstance(here, dict) and isinstance(part, str) and part in here:
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            here = here[part]
        elif isinstance(part, str) and (part[:1].isupper() or "[" in part):
            continue  # a tag such as 'ConditionEntry' or 'function-after[...]'
        else:
            here = None
        out.append(part)
    return tuple(out)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_problems(
    exc: ValidationError, doc: Document, model: type[BaseModel], drop: int = 0
) -> list[Problem]:
    """Pydantic errors as `file:line: field: what is wrong` with a close key for typos."""
    known = _keys_of(model, set())
    problems = []
    for err in exc.errors(include_url=False):
        loc = _doc_loc(err["loc"][drop:], doc.value)
        line = doc.line_of(loc)
        where = _describe(loc) or "top level"
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            hint = close_matches(key, known)
            msg = f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            where = _describe(loc[:-1]) or "top level"
        elif kind == "missing":
            msg = "required, but missing"
        else:
            msg = _EXPECTED.get(kind) or err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            if kind not in ("value_error", "assertion_error") and "input" in err:
                msg += f", got {doc.plain.get(loc) or _shown(got)}"
            if kind == "literal_error" and isinstance(got, str):
                choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
                hint = close_matches(got, choices)
                msg += f" (did you mean {hint[0]!r}?)" if hint else ""
            elif kind == "list_type" and isinstance(got, str | int | float):
                msg += f"; write a list even for one item: [{got}]"
            elif isinstance(got, datetime.datetime):
                msg += " — write the date only, as YYYY-MM-DD"
            elif loc in doc.plain and (kind == "string_type" or isinstance(got, bool)):
                raw = doc.plain[loc]
                msg += (
                    f" — YAML reads the unquoted {raw} as {_yaml_kind(got)}; "
                    f'put it in quotes ("{raw}") if it is text'
                )
        problems.append(Problem(doc.path, line, f"{where}: {msg}"))
    return problems


def validate(doc: Document, model: type[M]) -> M:
    if not isinstance(doc.value, dict):
        kinds = {list: "a list", str: "text", bool: "true or false", type(None): "nothing"}
        got = kinds.get(type(doc.value), f"a {type(doc.value).__name__}")
        raise file_error(
            doc.path, doc.line_of(()), f"expected a mapping of keys (key: value), got {got}"
        )
    try:
        return model.model_validate(doc.value)
    except ValidationError as exc:
        raise FileProblems("invalid file", problems=validation_problems(exc, doc, model)) from None


# --- the clinical data ---------------------------------------------------------------------


class _TermsSection(_Strict):
    conditions: list[Term]
    medications: list[Term]


class ContraindicationsFile(_Strict):
    sources: dict[str, str]
    terms: _TermsSection
    rules: list[Rule]


class _Common(_Strict):
    precare: list[CareItem]
    aftercare: list[CareItem]


class ProtocolsFile(_Strict):
    ingredients: list[Term]
    common: _Common
    protocols: list[Protocol]


REQUIRED_RULES = {
    "age-under-18": "exclude",
    "age-over-75": "review",
    "pregnancy": "exclude",
    "breastfeeding": "exclude",
    "bleeding-disorder": "exclude",
    "anticoagulant": "review",
    "nsaid-washout": "defer",
    "ingredient-allergy": "exclude",
    "acute-infection": "defer",
    "liver-disease": "exclude",
    "kidney-disease": "exclude",
    "cancer": "exclude",
    "diabetes": "exclude",
    "cardiac-arrhythmia": "exclude",
    "cardiac-polypharmacy": "exclude",
    "skin-disease-at-site": "defer",
    "unrecognized-term": "review",
}
REQUIRED_PROTOCOLS = (
    "hair",
    "cellulite",
    "face-rejuvenation",
    "localized-fat",
    "pigmentation",
    "stretch-marks",
    "dark-circles",
    "pain",
    "no-needle",
)
REQUIRED_CARE = {"precare": "stop-nsaids", "aftercare": "sun"}


@cache
def validated(directory: Path) -> Dataset:
    """Load, validate and cross-check a data directory; every problem names file and line.

    A clinic's copy is held against the shipped data; the shipped data needs no comparison.
    `data.load_dataset` is the way in: it keeps what passes in the cache.
    """
    require_directory(directory)
    shipped = packaged_data_dir()
    compare = directory.resolve() != shipped.resolve()
    docs: dict[str, Document] = {}
    problems: list[Problem] = []
    for name in DATA_FILES:
        path = directory / name
        try:
            docs[name] = parse(read_text(str(path)), str(path))
        except FileProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise FileProblems("invalid data", problems=problems)
    contra = _validate_part(docs["contraindications.yaml"], ContraindicationsFile, problems)
    protos = _validate_part(docs["protocols.yaml"], ProtocolsFile, problems)
    if contra is None or protos is None:
        raise FileProblems("invalid data", problems=problems)
    problems += _cross_check(contra, protos, docs)
    if compare:
        problems += against_shipped(contra, protos, docs, validated(shipped))
    if problems:
        raise FileProblems("invalid data", problems=problems)
    return Dataset(
        terms={
            TermKind.CONDITION: contra.terms.conditions,
            TermKind.MEDICATION: contra.terms.medications,
            TermKind.INGREDIENT: protos.ingredients,
        },
        rules=contra.rules,
        protocols=protos.protocols,
        common_precare=protos.common.precare,
        common_aftercare=protos.common.aftercare,
        version=data_version(directory),
    )


def _validate_part(doc: Document, model: type[M], problems: list[Problem]) -> M | None:
    try:
        return validate(doc, model)
    except FileProblems as exc:
        problems.extend(exc.problems)
        return None


def _dupes(ids: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    return {i for i in ids if i in seen or seen.add(i)}  # type: ignore[func-returns-value]


def _flat_triggers(triggers: Sequence[Trigger], loc: Loc) -> Iterable[tuple[Loc, Trigger]]:
    for j, trig in enumerate(triggers):
        if isinstance(trig, AnyOf):
            yield from _flat_triggers(trig.any, loc + (j, "any"))
        else:
            yield loc + (j,), trig


def _cross_check(
    contra: ContraindicationsFile, protos: ProtocolsFile, docs: dict[str, Document]
) -> list[Problem]:
    cdoc, pdoc = docs["contraindications.yaml"], docs["protocols.yaml"]
    out: list[Problem] = []

    def bad(doc: Document, loc: Loc, msg: str) -> None:
        out.append(Problem(doc.path, doc.line_of(loc), f"{_describe(loc)}: {msg}"))

    known_sources = set(contra.sources)
    conditions = {t.id for t in contra.terms.conditions}
    medications = {t.id for t in contra.terms.medications}
    ingredients = {t.id for t in protos.ingredients}
    rules = {r.id: r for r in contra.rules}

    def check_sources(doc: Document, loc: Loc, sources: list[str]) -> None:
        for i, s in enumerate(sources):
            if s not in known_sources:
                hint = close_matches(s, known_sources)
                bad(
                    doc,
                    loc + ("sources", i),
                    f"unknown source {s!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                )

    for section, terms in (
        ("conditions", contra.terms.conditions),
        ("medications", contra.terms.medications),
    ):
        for dup in _dupes(t.id for t in terms):
            bad(cdoc, ("terms", section), f"duplicate term id {dup!r}")
        for i, t in enumerate(terms):
            check_sources(cdoc, ("terms", section, i), t.sources)
    for dup in _dupes(r.id for r in contra.rules):
        bad(cdoc, ("rules",), f"duplicate rule id {dup!r}")
    for i, rule in enumerate(contra.rules):
        loc: Loc = ("rules", i)
        check_sources(cdoc, loc, rule.sources)
        for tloc, trig in _flat_triggers(rule.when, loc + ("when",)):
            ids, known, kind = [], set(), ""
            if isinstance(trig, HasCondition):
                ids, known, kind = trig.conditions, conditions, "condition"
            elif isinstance(trig, TakesMedication):
                ids, known, kind = trig.medications, medications, "medication"
            for k, term in enumerate(ids):
                if term not in known:
                    hint = close_matches(term, known)
                    bad(
                        cdoc,
                        tloc + (kind + "s", k),
                        f"no {kind} term {term!r}"
                        + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                    )
    for rid, action in REQUIRED_RULES.items():
        if rid not in rules:
            bad(cdoc, ("rules",), f"required rule {rid!r} is missing")
        elif rules[rid].action.value not in (action, "exclude"):
            # Not an order: a review can be cleared and a deferral ends by itself, so neither
            # may stand in for the other. Only exclude is stricter than both.
            idx = list(rules).index(rid)
            bad(
                cdoc,
                ("rules", idx, "action"),
                f"rule {rid!r} must stay {action!r} (or become 'exclude'), not "
                f"{rules[rid].action.value!r}",
            )

    for dup in _dupes(t.id for t in protos.ingredients):
        bad(pdoc, ("ingredients",), f"duplicate ingredient id {dup!r}")
    for i, t in enumerate(protos.ingredients):
        check_sources(pdoc, ("ingredients", i), t.sources)
    for section in ("precare", "aftercare"):
        items: list[CareItem] = getattr(protos.common, section)
        for i, item in enumerate(items):
            check_sources(pdoc, ("common", section, i), item.sources)
            if item.rule is not None and item.rule not in rules:
                bad(pdoc, ("common", section, i, "rule"), f"no rule {item.rule!r}")
        if REQUIRED_CARE[section] not in {c.id for c in items}:
            bad(pdoc, ("common", section), f"item {REQUIRED_CARE[section]!r} is missing")
    for dup in _dupes(p.id for p in protos.protocols):
        bad(pdoc, ("protocols",), f"duplicate protocol id {dup!r}")
    present = {p.id for p in protos.protocols}
    for pid in REQUIRED_PROTOCOLS:
        if pid not in present:
            bad(pdoc, ("protocols",), f"required protocol {pid!r} is missing")
    for i, proto in enumerate(protos.protocols):
        loc = ("protocols", i)
        check_sources(pdoc, loc, proto.sources)
        for k, ing in enumerate(proto.ingredients):
            if ing not in ingredients:
                hint = close_matches(ing, ingredients)
                bad(
                    pdoc,
                    loc + ("ingredients", k),
                    f"no ingredient {ing!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                )
        for k, rid in enumerate(proto.exempt_rules):
            if rid not in rules:
                hint = close_matches(rid, rules)
                bad(
                    pdoc,
                    loc + ("exempt_rules", k),
                    f"no rule {rid!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                )
        for dup in _dupes(ph.id for ph in proto.phases):
            bad(pdoc, loc + ("phases",), f"duplicate phase id {dup!r}")
        for k, phase in enumerate(proto.phases):
            check_sources(pdoc, loc + ("phases", k), phase.sources)
            for dup in _dupes(str(c.per_week) for c in phase.per_week):
                bad(pdoc, loc + ("phases", k, "per_week"), f"per_week {dup} listed twice")
        if not proto.course_phases():
            bad(pdoc, loc + ("phases",), "needs at least one phase that is not maintenance")
        for section in ("precare", "aftercare"):
            for k, item in enumerate(getattr(proto, section)):
                check_sources(pdoc, loc + (section, k), item.sources)
                if item.rule is not None and item.rule not in rules:
                    bad(pdoc, loc + (section, k, "rule"), f"no rule {item.rule!r}")
    return out


# --- a clinic's copy against the shipped data ----------------------------------------------


def against_shipped(
    contra: ContraindicationsFile,
    protos: ProtocolsFile,
    docs: dict[str, Document],
    shipped: Dataset,
) -> list[Problem]:
    """Everything in a clinic's copy that would screen less strictly than the shipped data.

    Stricter is always allowed. What "no weaker" means, part by part:

    - a required rule fires at least wherever the shipped rule fires (`_trigger_gaps`);
    - every shipped term keeps its id and all its names, and every name in the copy is read
      as at least the terms the shipped data reads it as (`_term_gaps`, `_reading_gaps`);
    - a shipped protocol is exempt from no shipped rule it was not exempt from, and lists
      every shipped ingredient (`_protocol_gaps`);
    - the required care items keep their durations, no shorter (`_care_gaps`).
    """
    cdoc, pdoc = docs["contraindications.yaml"], docs["protocols.yaml"]
    found = [
        *_rule_gaps(contra, cdoc, shipped),
        *_term_gaps(contra, protos, docs, shipped),
        *_protocol_gaps(protos, pdoc, shipped),
        *_care_gaps(contra, protos, pdoc, shipped),
    ]
    # A medication's name is read in two vocabularies (medications, allergies): say it once.
    return list({str(p): p for p in found}.values())


def _problem(doc: Document, loc: Loc, msg: str) -> Problem:
    return Problem(doc.path, doc.line_of(loc), f"{_describe(loc)}: {msg}")


def _show(trigger: Trigger) -> str:
    """A trigger as it is written in the file, on one line: `age_below: 18`."""
    if isinstance(trigger, AnyOf):
        return "any: [" + "; ".join(_show(t) for t in trigger.any) + "]"
    parts = []
    for key, value in trigger.model_dump(exclude_none=True).items():
        shown = f"[{', '.join(value)}]" if isinstance(value, list) else str(value).lower()
        parts.append(f"{key}: {shown}")
    return ", ".join(parts)


def _listed(ids: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in ids) or "none"


def _rule_gaps(contra: ContraindicationsFile, doc: Document, shipped: Dataset) -> list[Problem]:
    out = []
    for i, rule in enumerate(contra.rules):
        before = shipped.rule(rule.id)
        if rule.id not in REQUIRED_RULES or before is None:
            continue
        for j, trigger in enumerate(rule.when):
            for loc, msg in _conjunct_gaps(trigger, before.when, ("rules", i, "when", j)):
                out.append(_problem(doc, loc, f"rule {rule.id!r}: {msg}"))
    return out


def _conjunct_gaps(trigger: Trigger, shipped: list[Trigger], loc: Loc) -> list[tuple[Loc, str]]:
    """`when` is a conjunction, so the copy's rule fires wherever the shipped one does when
    each of its triggers covers some shipped trigger. Leaving a trigger out only widens the
    rule; adding one narrows it, and is reported."""
    tries = [_trigger_gaps(trigger, s, loc) for s in shipped]
    if any(not gaps for gaps in tries):
        return []
    akin = [gaps for gaps, s in zip(tries, shipped, strict=True) if _akin(trigger, s)]
    if akin:
        return akin[0]
    was = "; ".join(_show(s) for s in shipped)
    return [
        (
            loc,
            f"{_show(trigger)} is an added condition that must also hold, so the rule "
            f"fires less often; the shipped rule has {was}",
        )
    ]


def _akin(a: Trigger, b: Trigger) -> bool:
    """Of one kind, or one an `any:` with an option of the other's kind: the trigger to
    compare with when none covers it, so that the message names the limit that was weakened."""
    return type(a) is type(b) or bool(_kinds(a) & _kinds(b))


def _kinds(trigger: Trigger) -> set[type]:
    return {type(t) for t in trigger.any} if isinstance(trigger, AnyOf) else {type(trigger)}


def _trigger_gaps(mine: Trigger, shipped: Trigger, loc: Loc) -> list[tuple[Loc, str]]:
    """Where `mine` fails to fire although `shipped` fires, compared structurally.

    A shipped `any:` is covered when each of its options is covered; `mine` as an `any:` covers
    a trigger when one of its options does (so options may be added, never taken away). Two
    plain triggers must be of one kind with limits no weaker (`_limit_gaps`).
    """
    if isinstance(shipped, AnyOf):
        return [gap for option in shipped.any for gap in _trigger_gaps(mine, option, loc)]
    if isinstance(mine, AnyOf):
        tries = [_trigger_gaps(o, shipped, loc + ("any", k)) for k, o in enumerate(mine.any)]
        if any(not gaps for gaps in tries):
            return []
        same = [gaps for gaps, o in zip(tries, mine.any, strict=True) if type(o) is type(shipped)]
        return (
            same[0]
            if same
            else [(loc + ("any",), f"no option fires where the shipped {_show(shipped)} does")]
        )
    if type(mine) is not type(shipped):
        return [(loc, f"{_show(mine)} does not fire where the shipped {_show(shipped)} does")]
    return [(loc + (key,), msg) for key, msg in _limit_gaps(mine, shipped)]


def _limit_gaps(mine: Trigger, shipped: Trigger) -> list[tuple[str, str]]:
    """Each key of two triggers of one kind where `mine` is weaker, and what shipped has."""
    if isinstance(mine, AgeBelow) and isinstance(shipped, AgeBelow):
        if mine.age_below < shipped.age_below:
            return [
                (
                    "age_below",
                    f"age_below: {mine.age_below} lets younger patients through; "
                    f"the shipped data has age_below: {shipped.age_below}",
                )
            ]
    elif isinstance(mine, AgeAbove) and isinstance(shipped, AgeAbove):
        if mine.age_above > shipped.age_above:
            return [
                (
                    "age_above",
                    f"age_above: {mine.age_above} lets older patients through; "
                    f"the shipped data has age_above: {shipped.age_above}",
                )
            ]
    elif isinstance(mine, Flag) and isinstance(shipped, Flag):
        if mine.flag != shipped.flag:
            return [
                (
                    "flag",
                    f"flag: {mine.flag} fires on another flag; "
                    f"the shipped data has flag: {shipped.flag}",
                )
            ]
    elif isinstance(mine, HasCondition) and isinstance(shipped, HasCondition):
        return _ids_gap("conditions", mine.conditions, shipped.conditions)
    elif isinstance(mine, TakesMedication) and isinstance(shipped, TakesMedication):
        return [
            *_ids_gap("medications", mine.medications, shipped.medications),
            *_washout_gap(mine.washout_days, shipped.washout_days),
        ]
    elif isinstance(mine, MedicationCount) and isinstance(shipped, MedicationCount):
        n, was = mine.medication_count_at_least, shipped.medication_count_at_least
        if n > was:
            return [
                (
                    "medication_count_at_least",
                    f"medication_count_at_least: {n} needs more "
                    f"medications; the shipped data has medication_count_at_least: {was}",
                )
            ]
    return []  # ingredient_allergy and unrecognized_term have no limit to weaken


def _ids_gap(key: str, mine: list[str], shipped: list[str]) -> list[tuple[str, str]]:
    missing = [i for i in shipped if i not in mine]
    if not missing:
        return []
    return [
        (
            key,
            f"{key} leaves out {_listed(missing)}; "
            f"the shipped data has {key}: [{', '.join(shipped)}]",
        )
    ]


def _washout_gap(mine: int | None, shipped: int | None) -> list[tuple[str, str]]:
    # No washout at all is the strictest: the rule fires whenever the medication is listed.
    if mine is None or (shipped is not None and mine >= shipped):
        return []
    was = f"washout_days: {shipped}" if shipped else "no washout_days (it fires on any dose)"
    return [
        ("washout_days", f"washout_days: {mine} ends the wait sooner; the shipped data has {was}")
    ]


# Where each kind of term lives in the files.
_TERM_PLACES: dict[TermKind, tuple[str, Loc]] = {
    TermKind.CONDITION: ("contraindications.yaml", ("terms", "conditions")),
    TermKind.MEDICATION: ("contraindications.yaml", ("terms", "medications")),
    TermKind.INGREDIENT: ("protocols.yaml", ("ingredients",)),
}
_Placed = tuple[Term, Document, Loc]


def _name_key(name: str) -> str:
    from meso_cli.matching import tokens

    return "".join(tokens(name))


def _term_gaps(
    contra: ContraindicationsFile,
    protos: ProtocolsFile,
    docs: dict[str, Document],
    shipped: Dataset,
) -> list[Problem]:
    lists = {
        TermKind.CONDITION: contra.terms.conditions,
        TermKind.MEDICATION: contra.terms.medications,
        TermKind.INGREDIENT: protos.ingredients,
    }
    placed: dict[TermKind, list[_Placed]] = {}
    out: list[Problem] = []
    for kind, terms in lists.items():
        name, section = _TERM_PLACES[kind]
        placed[kind] = [(t, docs[name], section + (i,)) for i, t in enumerate(terms)]
        out += _names_kept(placed[kind], shipped.terms[kind], docs[name], section)
    # The vocabularies screening reads names with (matching.vocabularies): allergies are read
    # against the ingredients first, then the medications.
    meds, ings = TermKind.MEDICATION, TermKind.INGREDIENT
    # The terms a rule can fire on: conditions and medications its triggers name; for
    # allergies, the ingredients (the allergy rule reads them).
    used = _rule_terms(contra.rules) | _rule_terms(shipped.rules)
    ingredients = {t.id for t in protos.ingredients} | {t.id for t in shipped.terms[ings]}
    out += _reading_gaps(placed[TermKind.CONDITION], shipped.terms[TermKind.CONDITION], used)
    out += _reading_gaps(placed[meds], shipped.terms[meds], used)
    # A new medicine's name is judged in the medications above; here only the ingredients
    # an allergy must still find.
    out += _reading_gaps(
        [*placed[ings], *placed[meds]],
        [*shipped.terms[ings], *shipped.terms[meds]],
        ingredients,
        new_names=False,
    )
    return out


def _rule_terms(rules: Iterable[Rule]) -> set[str]:
    found: set[str] = set()
    for rule in rules:
        for _, trig in _flat_triggers(rule.when, ()):
            if isinstance(trig, HasCondition):
                found.update(trig.conditions)
            elif isinstance(trig, TakesMedication):
                found.update(trig.medications)
    return found


def _names_kept(
    placed: list[_Placed], shipped: list[Term], doc: Document, section: Loc
) -> list[Problem]:
    """Every shipped term is still there, under its id, with all its names."""
    mine = {term.id: (term, loc) for term, _, loc in reversed(placed)}  # the first of an id
    out = []
    for was in shipped:
        if was.id not in mine:
            out.append(
                _problem(
                    doc,
                    section,
                    f"term {was.id!r} is missing; the shipped data "
                    f"has it, named {', '.join(was.names)}",
                )
            )
            continue
        term, loc = mine[was.id]
        have = {_name_key(n) for n in term.names}
        lost = [n for n in was.names if _name_key(n) not in have]
        if lost:
            out.append(
                _problem(
                    doc,
                    loc + ("names",),
                    f"term {was.id!r} leaves out "
                    f"{_listed(lost)}; the shipped data has names: "
                    f"[{', '.join(was.names)}]",
                )
            )
    return out


def _reading_gaps(
    placed: list[_Placed], shipped: list[Term], used: set[str], *, new_names: bool = True
) -> list[Problem]:
    """Every name in the copy still finds the terms a rule uses (`used`) that the shipped data
    finds in it: another term that claims 'ibuprofen' first, or a longer name that swallows
    'liver disease', is refused. And a name the shipped data does not know (an
    unrecognized-term review there) may only go on a term a rule uses: on a harmless term it
    would turn that review into eligible."""
    from meso_cli.matching import Vocabulary

    before, after = Vocabulary.of(shipped), Vocabulary.of(t for t, _, _ in placed)
    out = []
    for term, doc, loc in placed:
        for n, name in enumerate(term.names):
            key = _name_key(name)
            owner = after.index.get(key)
            if owner is None or owner.term != term.id:
                continue  # a name an earlier term already holds; that term is checked instead
            known, rest = before.read(name)
            was = {m.term: None for m in known}
            now = {m.term: None for m in after.match(name)}
            lost = [t for t in was if t in used and t not in now]
            if lost:
                why = (
                    "the first term to list a name keeps it"
                    if key in before.index
                    else "a longer name hides the names inside it"
                )
                out.append(
                    _problem(
                        doc,
                        loc + ("names", n),
                        f"{name!r} is read as "
                        f"{_listed(now)} ({why}); the shipped data reads it as "
                        f"{_listed(was)}",
                    )
                )
            elif new_names and (not known or rest) and not any(t in used for t in now):
                out.append(
                    _problem(
                        doc,
                        loc + ("names", n),
                        f"{name!r} is not known to the "
                        f"shipped data, which asks for review of it; on term "
                        f"{term.id!r}, which no rule uses, it would pass unseen: "
                        "add it to a term a rule uses, or leave it out",
                    )
                )
    return out


def _protocol_gaps(protos: ProtocolsFile, doc: Document, shipped: Dataset) -> list[Problem]:
    """A shipped protocol gains no exemption from a shipped rule and loses no ingredient.
    Exempting it from a rule the clinic added itself is allowed: that rule is extra."""
    shipped_rules = {r.id for r in shipped.rules}
    out = []
    for i, proto in enumerate(protos.protocols):
        was = shipped.protocol(proto.id)
        if was is None:
            continue
        loc: Loc = ("protocols", i)
        for k, rid in enumerate(proto.exempt_rules):
            if rid in shipped_rules and rid not in was.exempt_rules:
                out.append(
                    _problem(
                        doc,
                        loc + ("exempt_rules", k),
                        f"protocol {proto.id!r} "
                        f"may not be exempt from rule {rid!r}; the shipped data "
                        f"exempts it from {_listed(was.exempt_rules)}",
                    )
                )
        lost = [x for x in was.ingredients if x not in proto.ingredients]
        if lost:
            out.append(
                _problem(
                    doc,
                    loc + ("ingredients",),
                    f"protocol {proto.id!r} leaves "
                    f"out {_listed(lost)}, so an allergy to these goes unseen; the "
                    f"shipped data has ingredients: [{', '.join(was.ingredients)}]",
                )
            )
    return out


_DURATIONS = ("days_before_first", "days_after_each", "hours_after_each", "days_after_last")


def _care_gaps(
    contra: ContraindicationsFile, protos: ProtocolsFile, doc: Document, shipped: Dataset
) -> list[Problem]:
    """The required care items keep every shipped duration, no shorter, and serve no rule
    the shipped item does not (a protocol exempt from that rule would drop the item)."""
    out = []
    for section, cid in REQUIRED_CARE.items():
        before = getattr(shipped, f"common_{section}")
        was = next((c for c in before if c.id == cid), None)
        items: list[CareItem] = getattr(protos.common, section)
        k = next((k for k, c in enumerate(items) if c.id == cid), None)
        if was is None or k is None:
            continue
        item, loc = items[k], ("common", section, k)
        if item.rule is not None and item.rule != was.rule:
            shown = f"rule: {was.rule}" if was.rule else "no rule"
            out.append(
                _problem(
                    doc,
                    loc + ("rule",),
                    f"item {cid!r} would be dropped wherever "
                    f"rule {item.rule!r} is exempt; the shipped item has {shown}",
                )
            )
        for key in _DURATIONS:
            want = _care_duration(was, key, shipped.rules)
            have = _care_duration(item, key, contra.rules)
            if want is not None and (have is None or have < want):
                at = loc + (key,) if getattr(item, key) is not None else loc
                got = f"{key}: {have}, shorter than shipped" if have is not None else f"no {key}"
                out.append(
                    _problem(
                        doc,
                        at,
                        f"item {cid!r} has {got}; the shipped data has "
                        f"{key}: {want}{_from_rule(was, key)}",
                    )
                )
    return out


def _from_rule(item: CareItem, key: str) -> str:
    if getattr(item, key) is None and item.rule is not None:
        return f" (the washout of rule {item.rule!r})"
    return ""


def _care_duration(item: CareItem, key: str, rules: list[Rule]) -> int | None:
    """A duration as planning uses it: days before the first session default to the washout
    of the rule the item serves (stop NSAIDs as long as the NSAID rule defers)."""
    value: int | None = getattr(item, key)
    if value is not None or key != "days_before_first" or item.rule is None:
        return value
    rule = next((r for r in rules if r.id == item.rule), None)
    washouts = [
        t.washout_days
        for _, t in _flat_triggers(rule.when if rule else [], ())
        if isinstance(t, TakesMedication) and t.washout_days
    ]
    return washouts[0] if washouts else None
