"""Names a practitioner types -> known terms: synonyms, phrases, and close suggestions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from meso_cli.codes import Span, span
from meso_cli.models import Code, Dataset, TakesMedication, Term, TermKind, flat

_TOKEN = re.compile(r"[^\W_]+")

# Words that may stand around a known term without naming anything of their own: "history of
# breast cancer", "type 2 diabetes", "eczema on the scalp", "warfarin 5 mg twice daily"
# (qualifiers, amounts and body sites). Any other word left over
# beside a known term ("asthma and lupus") is reported, never dropped.
_QUALIFIERS = frozenset(
    """a an and or with without of in on the for since from to at by due per as also plus
    history hx past previous prior former recent old new known diagnosed suspected
    possible type stage grade mild moderate severe chronic acute sudden controlled uncontrolled
    treated untreated well poorly left right bilateral both upper lower daily once twice
    times weekly monthly nightly morning evening night day days week weeks month months
    year years ago needed prn bid tid qid qd od tablet tablets tab tabs capsule capsules
    cap caps pill pills dose doses supplement supplements injection injections cream gel
    mg mcg ug µg μg g ml iu unit units i ii iii iv after before during post pre scalp
    face facial forehead cheek cheeks chin neck arm arms hand hands leg legs thigh
    thighs knee knees hip hips abdomen abdominal belly back chest breast breasts buttock
    buttocks foot feet eye eyes eyelid eyelids lip lips skin hair nail nails site sites
    area areas body""".split()
)
# Not qualifiers, on purpose: organs (liver, kidney, heart, lung...) and "disease", "disorder",
# "syndrome", "condition": "asthma, disease of the liver" must not read as asthma alone.
_AMOUNT = re.compile(r"\d+(?:mg|mcg|ug|µg|μg|g|ml|iu|u|units?|x|h|d|st|nd|rd|th)?")


def _qualifier(word: str) -> bool:
    return word in _QUALIFIERS or _AMOUNT.fullmatch(word) is not None


def tokens(text: str) -> list[str]:
    """Lower-case words; hyphens, underscores, punctuation and extra spaces fall away."""
    return _TOKEN.findall(text.casefold())


@dataclass(frozen=True, slots=True)
class Match:
    """A known term found in a name: its id, and its display name."""

    term: str
    name: str


@dataclass
class Vocabulary:
    """Every name of a set of terms, indexed by its letters and digits alone (`index`) and
    by its words (`phrases`). What it has read and suggested is remembered, for a batch that
    meets the same names again and again; the memory takes no part in equality."""

    index: dict[str, Match]
    longest: int
    phrases: dict[str, Match] = field(default_factory=dict)
    codes: dict[tuple[str, str], Match] = field(default_factory=dict)  # ATC, SNOMED CT
    spans: dict[str, list[tuple[Span, Match]]] = field(default_factory=dict)  # ICD-10, -CM
    atc_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # term id -> its ATC codes
    _cache: dict[str, tuple[tuple[Match, ...], tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _suggested: dict[tuple[str, int], list[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, terms: Iterable[Term]) -> Vocabulary:
        index: dict[str, Match] = {}
        phrases: dict[str, Match] = {}
        codes: dict[tuple[str, str], Match] = {}
        spans: dict[str, list[tuple[Span, Match]]] = {}
        atc_of: dict[str, tuple[str, ...]] = {}
        for term in terms:
            match = Match(term.id, term.names[0])
            for name in term.names:
                index.setdefault("".join(tokens(name)), match)
                phrases.setdefault(" ".join(tokens(name)), match)
            for system, entry in term.codes.entries():
                if system in ("icd10", "icd10cm"):
                    spans.setdefault(system, []).append((span(entry), match))
                else:
                    codes.setdefault((system, entry), match)
            atc_of.setdefault(term.id, tuple(term.codes.atc))
        longest = max((len(k) for k in index), default=0)
        return cls(index, longest, phrases, codes, spans, atc_of)

    def code(self, code: Code) -> Match | None:
        """The term a code belongs to: an ATC or SNOMED CT code exactly, an ICD-10 code by the
        category or range it falls in (E11.9 in E10-E14); None for a code no term carries."""
        found = self.codes.get((code.system, code.value))
        if found is not None:
            return found
        for entry, match in self.spans.get(code.system, ()):
            if entry.covers_code(code.value):
                return match
        return None

    def match(self, text: str) -> tuple[Match, ...]:
        """Every known term in `text`; a term inside a longer matched phrase is dropped.

        "Type 2 diabetes" and "type-2 Diabetes" both find diabetes; "anti-coagulant" finds
        anticoagulant because runs of adjacent words are also tried joined together, but only
        runs of words of two letters or more: "as a" is not "asa" (aspirin).
        """
        return self.read(text)[0]

    def read(self, text: str) -> tuple[tuple[Match, ...], tuple[str, ...]]:
        """The known terms in `text` (as `match` gives them) and the words left over beside
        them that are not mere qualifiers (of, type, 2, mg, daily...): in "asthma and lupus",
        ("lupus",)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        words = tokens(text)
        hits: list[tuple[int, int, Match]] = []
        for i in range(len(words)):
            key = ""
            joinable = True
            for j in range(i, len(words)):
                key += words[j]
                if len(key) > self.longest:
                    break
                joinable = joinable and len(words[j]) > 1
                if j == i or joinable:
                    found = self.index.get(key)
                else:  # a one-letter word joins only as the term's own word ("vitamin d")
                    found = self.phrases.get(" ".join(words[i : j + 1]))
                if found is not None:
                    hits.append((i, j + 1, found))
        kept: list[Match] = []
        for i, j, m in hits:
            inside = any(a <= i and j <= b and (a, b) != (i, j) for a, b, _ in hits)
            if not inside and all(k.term != m.term for k in kept):
                kept.append(m)
        covered = {k for i, j, _ in hits for k in range(i, j)}
        left = tuple(w for k, w in enumerate(words) if k not in covered and not _qualifier(w))
        result = (tuple(kept), left)
        if len(self._cache) < 100_000:
            self._cache[text] = result
        return result

    def suggest(self, text: str, n: int = 3) -> list[str]:
        """Up to `n` known names that look like `text` (or like one of its words)."""
        # difflib is slow and a batch meets the same unknown words again and again.
        cached = self._suggested.get((text, n))
        if cached is None:
            cached = self._suggest(text, n)
            if len(self._suggested) < 100_000:
                self._suggested[(text, n)] = cached
        return list(cached)

    def _suggest(self, text: str, n: int) -> list[str]:
        names = {key: m.name for key, m in self.index.items()}
        squashed = "".join(tokens(text))
        found = difflib.get_close_matches(squashed, list(names), n=n, cutoff=0.6)
        for word in tokens(text):
            if len(word) >= 4:
                found += difflib.get_close_matches(word, list(names), n=n, cutoff=0.75)
        out: list[str] = []
        for key in found:
            shown = names[key]
            if shown not in out:
                out.append(shown)
        return out[:n]


@dataclass
class Vocabularies:
    """The names of a data set's terms, as screening reads a patient's entries."""

    conditions: Vocabulary
    medications: Vocabulary
    allergens: Vocabulary  # an allergy is read against the ingredients, then the medications
    ingredient_of: dict[str, list[str]]
    """Every ingredient id -> the protocols whose solution lists it (none, for some)."""
    classes: dict[str, str] = field(default_factory=dict)
    """The ATC classes the rules name, with their names: a medicine coded in one is known."""

    @classmethod
    def of(cls, data: Dataset) -> Vocabularies:
        ingredient_of: dict[str, list[str]] = {t.id: [] for t in data.terms[TermKind.INGREDIENT]}
        for protocol in data.protocols:
            for ingredient in protocol.ingredients:
                ingredient_of.setdefault(ingredient, []).append(protocol.id)
        return cls(
            conditions=Vocabulary.of(data.terms[TermKind.CONDITION]),
            medications=Vocabulary.of(data.terms[TermKind.MEDICATION]),
            allergens=Vocabulary.of(
                [*data.terms[TermKind.INGREDIENT], *data.terms[TermKind.MEDICATION]]
            ),
            ingredient_of=ingredient_of,
            classes={
                group: data.atc_classes.get(group, group)
                for rule in data.rules
                for trigger in flat(rule.when)
                if isinstance(trigger, TakesMedication)
                for group in trigger.atc
            },
        )
