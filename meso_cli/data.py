"""The clinical data: where it lives, reading and validating it, and checking its parts
against each other (and a clinic's copy against the shipped data). Every problem names file
and line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from meso_cli.codes import SHOWN, span
from meso_cli.documents import Document, Loc, describe, parse, validate
from meso_cli.errors import FileProblems, Problem, close_matches, file_error
from meso_cli.files import DATA_FILES, decode, packaged_data_dir, read_bytes
from meso_cli.models import (
    AnyOf,
    CareItem,
    ContraindicationsFile,
    Dataset,
    HasCondition,
    Phase,
    ProtocolsFile,
    TakesMedication,
    Term,
    TermKind,
    Trigger,
)
from meso_cli.shipped import REQUIRED_CARE, REQUIRED_PROTOCOLS, REQUIRED_RULES, against_shipped

M = TypeVar("M", bound=BaseModel)


def data_version(files: dict[str, bytes]) -> str:
    """The sha256 of the data files' names and bytes: the `data_version` of every output."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(name.encode() + b"\0")
        digest.update(files.get(name, b""))
    return digest.hexdigest()


def require_directory(directory: Path) -> None:
    """Refuse what is not a data directory, saying what it is instead."""
    if directory.is_dir():
        return
    what = (
        "is a file, not a data directory (give the directory holding contraindications.yaml "
        "and protocols.yaml)"
        if directory.exists()
        else "data directory not found"
    )
    raise file_error(str(directory), None, what)


@cache
def load_dataset(directory: Path) -> Dataset:
    """Load, validate and cross-check a data directory; every problem names file and line.

    A clinic's copy is also held against the shipped data (`shipped.against_shipped`); the
    shipped data needs no comparison.
    """
    require_directory(directory)
    shipped = packaged_data_dir()
    compare = directory.resolve() != shipped.resolve()
    docs: dict[str, Document] = {}
    read: dict[str, bytes] = {}
    problems: list[Problem] = []
    for name in DATA_FILES:
        path = str(directory / name)
        try:
            read[name] = read_bytes(path)
            docs[name] = parse(decode(read[name], path), path)
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
        problems += against_shipped(contra, protos, docs, load_dataset(shipped))
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
        atc_classes=dict(contra.atc_classes),
        version=data_version(read),
        sources=contra.sources,
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


def _placed_triggers(triggers: Sequence[Trigger], loc: Loc) -> Iterable[tuple[Loc, Trigger]]:
    """Every trigger with where it is written: the options of an `any:` in its place."""
    for j, trig in enumerate(triggers):
        if isinstance(trig, AnyOf):
            yield from _placed_triggers(trig.any, loc + (j, "any"))
        else:
            yield loc + (j,), trig


def _cross_check(
    contra: ContraindicationsFile, protos: ProtocolsFile, docs: dict[str, Document]
) -> list[Problem]:
    cdoc, pdoc = docs["contraindications.yaml"], docs["protocols.yaml"]
    out: list[Problem] = []

    def bad(doc: Document, loc: Loc, msg: str) -> None:
        out.append(Problem(doc.path, doc.line_of(loc), f"{describe(loc)}: {msg}"))

    def known(doc: Document, loc: Loc, name: str, ids: Iterable[str], what: str) -> None:
        """A reference to an id that must exist: `no rule 'x' (did you mean 'y'?)`."""
        if name not in ids:
            hint = close_matches(name, ids)
            bad(doc, loc, f"{what} {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))

    known_sources = set(contra.sources)
    conditions = {t.id for t in contra.terms.conditions}
    medications = {t.id for t in contra.terms.medications}
    ingredients = {t.id for t in protos.ingredients}
    rules = {r.id: r for r in contra.rules}

    def check_sources(doc: Document, loc: Loc, sources: list[str]) -> None:
        for i, source in enumerate(sources):
            known(doc, loc + ("sources", i), source, known_sources, "unknown source")

    for section, terms in (
        ("conditions", contra.terms.conditions),
        ("medications", contra.terms.medications),
    ):
        for dup in _dupes(t.id for t in terms):
            bad(cdoc, ("terms", section), f"duplicate term id {dup!r}")
        for i, t in enumerate(terms):
            check_sources(cdoc, ("terms", section, i), t.sources)
            tloc: Loc = ("terms", section, i)
            # A term read as another (in the past, or beside one) is a condition read as a
            # condition; numbing-like `optional` is for ingredients.
            if section != "conditions" and (t.past is not None or t.beside):
                bad(cdoc, tloc, f"term {t.id!r}: past and beside are for conditions only")
            if t.optional is not None:
                bad(cdoc, tloc + ("optional",), f"term {t.id!r}: optional is for ingredients only")
            if t.past is not None:
                known(cdoc, tloc + ("past",), t.past, conditions, "no condition term")
            for key, to in t.beside.items():
                known(cdoc, tloc + ("beside", key), key, conditions, "no condition term")
                known(cdoc, tloc + ("beside", key), to, conditions, "no condition term")
        for where, msg in shared_codes(terms, ("terms", section)):
            bad(cdoc, where, msg)
    for dup in _dupes(r.id for r in contra.rules):
        bad(cdoc, ("rules",), f"duplicate rule id {dup!r}")
    for i, rule in enumerate(contra.rules):
        loc: Loc = ("rules", i)
        check_sources(cdoc, loc, rule.sources)
        if rule.covered_by is not None:
            known(cdoc, loc + ("covered_by",), rule.covered_by, rules, "no rule")
        for tloc, trig in _placed_triggers(rule.when, loc + ("when",)):
            if isinstance(trig, HasCondition):
                for k, term in enumerate(trig.conditions):
                    known(cdoc, tloc + ("conditions", k), term, conditions, "no condition term")
            elif isinstance(trig, TakesMedication):
                for k, term in enumerate(trig.medications):
                    known(cdoc, tloc + ("medications", k), term, medications, "no medication term")
                for k, group in enumerate(trig.atc):
                    known(
                        cdoc,
                        tloc + ("atc", k),
                        group,
                        contra.atc_classes,
                        "no ATC class in atc_classes named",
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
    for where, msg in shared_codes(protos.ingredients, ("ingredients",)):
        bad(pdoc, where, msg)
    for i, t in enumerate(protos.ingredients):
        check_sources(pdoc, ("ingredients", i), t.sources)
        if t.past is not None or t.beside:
            bad(
                pdoc, ("ingredients", i), f"ingredient {t.id!r}: past and beside are for conditions"
            )
    for section in ("precare", "aftercare"):
        items: list[CareItem] = getattr(protos.common, section)
        for i, item in enumerate(items):
            check_sources(pdoc, ("common", section, i), item.sources)
            if item.rule is not None:
                known(pdoc, ("common", section, i, "rule"), item.rule, rules, "no rule")
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
            known(pdoc, loc + ("ingredients", k), ing, ingredients, "no ingredient")
        for k, rid in enumerate(proto.exempt_rules):
            known(pdoc, loc + ("exempt_rules", k), rid, rules, "no rule")
        courses: list[tuple[Loc, list[Phase]]] = [(loc, proto.phases)]
        for dup in _dupes(c.id for c in proto.courses):
            bad(pdoc, loc + ("courses",), f"duplicate course id {dup!r}")
        for k, course in enumerate(proto.courses):
            cloc = loc + ("courses", k)
            check_sources(pdoc, cloc, course.sources)
            for n, term in enumerate(course.proposed_for):
                known(pdoc, cloc + ("proposed_for", n), term, conditions, "no condition term")
            if k == 0 and course.phases:
                bad(
                    pdoc,
                    cloc + ("phases",),
                    "the first course is the protocol's own phases: leave its phases out",
                )
            elif k > 0:
                courses.append((cloc, course.phases))
        for where, phases in courses:
            for dup in _dupes(ph.id for ph in phases):
                bad(pdoc, where + ("phases",), f"duplicate phase id {dup!r}")
            for k, phase in enumerate(phases):
                check_sources(pdoc, where + ("phases", k), phase.sources)
                for dup in _dupes(str(c.per_week) for c in phase.per_week):
                    bad(pdoc, where + ("phases", k, "per_week"), f"per_week {dup} listed twice")
                if phase.interval_days is None and len(phases) > 1:
                    bad(
                        pdoc,
                        where + ("phases", k),
                        f"phase {phase.id!r} needs interval_days: only a course's only phase "
                        "may leave it out",
                    )
            if not [p for p in phases if not p.maintenance]:
                bad(pdoc, where + ("phases",), "needs at least one phase that is not maintenance")
        for section in ("precare", "aftercare"):
            for k, item in enumerate(getattr(proto, section)):
                check_sources(pdoc, loc + (section, k), item.sources)
                if item.rule is not None:
                    known(pdoc, loc + (section, k, "rule"), item.rule, rules, "no rule")
    return out


def shared_codes(terms: Sequence[Term], section: Loc) -> list[tuple[Loc, str]]:
    """Every code entry that another term of the same kind also covers: a code belongs to one
    term, so that a code in a record is read one way. ICD ranges and categories that overlap
    (`E10-E14` and `E11.9`) are shared too."""
    out: list[tuple[Loc, str]] = []
    seen: list[tuple[str, str, str]] = []  # system, entry, term id
    for i, term in enumerate(terms):
        positions: dict[str, int] = {}
        for system, entry in term.codes.entries():
            k = positions.get(system, 0)
            positions[system] = k + 1
            for other_system, other, owner in seen:
                if other_system != system:
                    continue
                if system in ("icd10", "icd10cm"):
                    clash = span(entry).overlaps(span(other))
                else:
                    clash = entry == other
                if clash and owner != term.id:
                    out.append(
                        (
                            section + (i, "codes", system, k),
                            f"{SHOWN[system]} {entry} is shared with term {owner!r} "
                            f"({other}); a code belongs to one term",
                        )
                    )
                    break
                if clash:
                    out.append(
                        (
                            section + (i, "codes", system, k),
                            f"{SHOWN[system]} {entry} is listed twice on term {term.id!r}",
                        )
                    )
                    break
            seen.append((system, entry, term.id))
    return out
