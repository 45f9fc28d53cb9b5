"""A clinic's copy of the data may be stricter than the shipped data, never weaker: every
place where a copy would screen less strictly, as `file:line: what is wrong`."""

from __future__ import annotations

from collections.abc import Iterable

from meso_cli.codes import SHOWN, atc_in, span
from meso_cli.documents import Document, Loc, describe
from meso_cli.errors import Problem
from meso_cli.matching import Vocabulary, tokens
from meso_cli.models import (
    AgeAbove,
    AgeBelow,
    AnyOf,
    CareItem,
    ContraindicationsFile,
    Dataset,
    Flag,
    HasCondition,
    MedicationCount,
    NotStated,
    Protocol,
    ProtocolsFile,
    Rule,
    TakesMedication,
    Term,
    TermKind,
    Trigger,
    flat,
)

# The contract's rules (SPEC section 1) with their actions, its protocols, and the care items
# a plan reads its key dates from: a data directory, shipped or a clinic's copy, has them all.
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
    "status-not-stated": "review",
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
# The rules about bleeding from a needle (SPEC section 1): the only ones a protocol may be
# exempt from, and only a protocol that injects nothing.
BLEEDING_RULES = ("bleeding-disorder", "anticoagulant", "nsaid-washout")


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
    - no protocol, shipped or new, is exempt from a shipped rule, except a protocol that
      injects nothing from the bleeding rules; `injects: false` only where the shipped
      protocol of that id says so, or on a new protocol with no needle depth and no care
      about injections; a shipped protocol lists every shipped ingredient (`_protocol_gaps`);
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
    return Problem(doc.path, doc.line_of(loc), f"{describe(loc)}: {msg}")


def _show(trigger: Trigger) -> str:
    """A trigger as it is written in the file, on one line: `age_below: 18`."""
    if isinstance(trigger, AnyOf):
        return "any: [" + "; ".join(_show(t) for t in trigger.any) + "]"
    parts = []
    for key, value in trigger.model_dump(exclude_none=True).items():
        if value == []:
            continue
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
        if rule.covered_by is not None and rule.covered_by != before.covered_by:
            was = f"covered_by: {before.covered_by}" if before.covered_by else "no covered_by"
            out.append(
                _problem(
                    doc,
                    ("rules", i, "covered_by"),
                    f"rule {rule.id!r}: covered_by: {rule.covered_by} folds its findings into "
                    f"another rule's; the shipped data has {was}",
                )
            )
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
        gaps = _ids_gap("conditions", mine.conditions, shipped.conditions)
        if mine.flag_decides is not None and mine.flag_decides != shipped.flag_decides:
            before = f"flag_decides: {shipped.flag_decides}" if shipped.flag_decides else "none"
            gaps.append(
                (
                    "flag_decides",
                    f"flag_decides: {mine.flag_decides} lets a flag overrule the conditions; "
                    f"the shipped data has {before}",
                )
            )
        return gaps
    elif isinstance(mine, NotStated) and isinstance(shipped, NotStated):
        gaps = _ids_gap("not_stated", list(mine.not_stated), list(shipped.not_stated))
        spared = [s for s in mine.except_sex if s not in shipped.except_sex]
        if spared:
            gaps.append(
                (
                    "except_sex",
                    f"except_sex spares {_listed(spared)}; the shipped data has except_sex: "
                    f"[{', '.join(shipped.except_sex)}]",
                )
            )
        return gaps
    elif isinstance(mine, TakesMedication) and isinstance(shipped, TakesMedication):
        return [
            *_ids_gap("medications", mine.medications, shipped.medications),
            *_classes_gap(mine.atc, shipped.atc),
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


def _classes_gap(mine: list[str], shipped: list[str]) -> list[tuple[str, str]]:
    """Each shipped ATC class is kept, or widened (M01 for M01A); never dropped or narrowed."""
    missing = [g for g in shipped if not any(atc_in(g, m) for m in mine)]
    if not missing:
        return []
    return [
        (
            "atc",
            f"atc leaves out {_listed(missing)}, so medicines in it no longer fire the rule; "
            f"the shipped data has atc: [{', '.join(shipped)}]",
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
        out += _codes_kept(placed[kind], shipped.terms[kind], docs[name], section)
    # The vocabularies screening reads names with (matching.vocabularies): allergies are read
    # against the ingredients first, then the medications.
    meds, ings = TermKind.MEDICATION, TermKind.INGREDIENT
    # The terms a rule can fire on: conditions and medications its triggers name; for
    # allergies, the ingredients (the allergy rule reads them).
    used = _rule_terms(contra.rules, contra.terms.medications) | _rule_terms(
        shipped.rules, shipped.terms[meds]
    )
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
    for kind in (TermKind.CONDITION, meds):
        out += _new_codes(placed[kind], shipped.terms[kind], used)
    return out


def _rule_terms(rules: Iterable[Rule], medications: Iterable[Term] = ()) -> set[str]:
    """The terms a rule fires on: those its triggers name, and the medications whose ATC
    codes lie in a class a rule names."""
    found: set[str] = set()
    groups: set[str] = set()
    for rule in rules:
        for trig in flat(rule.when):
            if isinstance(trig, HasCondition):
                found.update(trig.conditions)
            elif isinstance(trig, TakesMedication):
                found.update(trig.medications)
                groups.update(trig.atc)
    for term in medications:
        if any(atc_in(code, group) for code in term.codes.atc for group in groups):
            found.add(term.id)
    return found


def _covered(system: str, entry: str, entries: Iterable[tuple[str, str]]) -> bool:
    """Whether every code `entry` stands for is among `entries` (ICD entries by range)."""
    if system in ("icd10", "icd10cm"):
        return any(s == system and span(e).covers(span(entry)) for s, e in entries)
    return (system, entry) in set(entries)


def _codes_kept(
    placed: list[_Placed], shipped: list[Term], doc: Document, section: Loc
) -> list[Problem]:
    """Every shipped term keeps each of its codes (an ICD range may widen, never narrow)."""
    mine = {term.id: (term, loc) for term, _, loc in reversed(placed)}
    out = []
    for was in shipped:
        if was.id not in mine:
            continue  # reported by _names_kept
        term, loc = mine[was.id]
        have = list(term.codes.entries())
        lost = [(s, e) for s, e in was.codes.entries() if not _covered(s, e, have)]
        if lost:
            listed = ", ".join(f"{SHOWN[s]} {e}" for s, e in lost)
            out.append(
                _problem(
                    doc,
                    loc + ("codes",),
                    f"term {was.id!r} leaves out {listed}, so a record coded so is no longer "
                    "read as it; the shipped data has these codes on it",
                )
            )
    return out


def _new_codes(placed: list[_Placed], shipped: list[Term], used: set[str]) -> list[Problem]:
    """A code the shipped data does not know (an unrecognized-term review there) may only go
    on a term a rule uses: on a harmless term it would turn that review into eligible."""
    known = [entry for term in shipped for entry in term.codes.entries()]
    out = []
    for term, doc, loc in placed:
        if term.id in used:
            continue
        positions: dict[str, int] = {}
        for system, entry in term.codes.entries():
            k = positions.get(system, 0)
            positions[system] = k + 1
            if not _covered(system, entry, known):
                out.append(
                    _problem(
                        doc,
                        loc + ("codes", system, k),
                        f"{SHOWN[system]} {entry} is not known to the shipped data, which asks "
                        f"for review of it; on term {term.id!r}, which no rule uses, it would "
                        "pass unseen: add it to a term a rule uses, or leave it out",
                    )
                )
    return out


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
        out += _rewrite_gaps(term, was, doc, loc)
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


def _rewrite_gaps(term: Term, was: Term, doc: Document, loc: Loc) -> list[Problem]:
    """A shipped term is read as another term no more often than the shipped data reads it:
    `past` and `beside` may be dropped (the term then stays itself), never added or changed;
    nor may an ingredient become `optional` (its allergy would no longer exclude)."""
    out = []
    if term.past is not None and term.past != was.past:
        shown = f"past: {was.past}" if was.past else "no past"
        out.append(
            _problem(
                doc,
                loc + ("past",),
                f"term {term.id!r}: past: {term.past} reads it as another term when written "
                f"as past; the shipped data has {shown}",
            )
        )
    for key, to in term.beside.items():
        if was.beside.get(key) != to:
            out.append(
                _problem(
                    doc,
                    loc + ("beside", key),
                    f"term {term.id!r}: beside {key}: {to} reads it as another term; the "
                    f"shipped data has beside: {dict(was.beside) or 'none'}",
                )
            )
    if term.optional is not None and was.optional is None:
        out.append(
            _problem(
                doc,
                loc + ("optional",),
                f"ingredient {term.id!r}: optional turns an allergy to it into a review; the "
                "shipped data has it not optional",
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
    """Every protocol, the shipped ones and those a clinic adds: no exemption from a shipped
    rule, except the bleeding rules on a protocol that injects nothing; `injects: false` only
    where it is true; and a shipped protocol loses no ingredient. Exempting a protocol from a
    rule the clinic added itself is allowed: that rule is extra."""
    shipped_rules = {r.id for r in shipped.rules}
    out = []
    for i, proto in enumerate(protos.protocols):
        was = shipped.protocol(proto.id)
        loc: Loc = ("protocols", i)
        out += _injects_gaps(proto, was, doc, loc)
        needle_free = not proto.injects and (was is None or not was.injects)
        for k, rid in enumerate(proto.exempt_rules):
            if rid not in shipped_rules or (was is not None and rid in was.exempt_rules):
                continue
            if needle_free and rid in BLEEDING_RULES:
                continue
            had = f"the shipped data exempts it from {_listed(was.exempt_rules)}" if was else ""
            out.append(
                _problem(
                    doc,
                    loc + ("exempt_rules", k),
                    f"protocol {proto.id!r} may not be exempt from rule {rid!r}; "
                    + (had + "; " if had else "")
                    + "a protocol may be exempt only from rules the clinic added, and, if it "
                    f"injects nothing, from {', '.join(BLEEDING_RULES)}",
                )
            )
        if was is None:
            continue
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


def _injects_gaps(proto: Protocol, was: Protocol | None, doc: Document, loc: Loc) -> list[Problem]:
    """`injects: false` drops the bleeding rules' care and says "Nothing is injected" on the
    handout: only where the shipped protocol of that id says so, or on a new protocol that
    shows it uses no needle: no `needle_depth_mm`, and no care item of its own about
    injections (`injections_only: true`)."""
    if proto.injects:
        return []
    if was is not None:
        if not was.injects:
            return []
        return [
            _problem(
                doc,
                loc + ("injects",),
                f"protocol {proto.id!r} has injects: false; the shipped data has injects: true",
            )
        ]
    needles = ["needle_depth_mm"] if proto.needle_depth_mm is not None else []
    needles += [
        f"{section} item {c.id!r} (injections_only)"
        for section in ("precare", "aftercare")
        for c in getattr(proto, section)
        if c.injections_only
    ]
    if not needles:
        return []
    return [
        _problem(
            doc,
            loc + ("injects",),
            f"protocol {proto.id!r} has injects: false but gives {', '.join(needles)}; a "
            "protocol without needles has no needle depth and no care about injections",
        )
    ]


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
        if item.injections_only and not was.injections_only:
            out.append(
                _problem(
                    doc,
                    loc + ("injections_only",),
                    f"item {cid!r} would be dropped for a protocol that injects nothing; "
                    "the shipped item holds for every protocol",
                )
            )
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
        for t in flat(rule.when if rule else [])
        if isinstance(t, TakesMedication) and t.washout_days
    ]
    return washouts[0] if washouts else None
