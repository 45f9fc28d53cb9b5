"""Names a practitioner types -> known terms: synonyms, phrases, how each is meant (now,
in the past, or denied), and close suggestions for a name that matches nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from meso_cli.codes import Span, span
from meso_cli.models import Code, Dataset, TakesMedication, Term, TermKind, flat

_TOKEN = re.compile(r"[^\W_]+")
_CLAUSE = re.compile(r"[,;:/()\[\]]")  # what ends a clause between two words

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
    area areas body my her his their any january february march april may june july august
    september october november december""".split()
)
# Not qualifiers, on purpose: organs (liver, kidney, heart, lung...) and "disease", "disorder",
# "syndrome", "condition": "asthma, disease of the liver" must not read as asthma alone.
_AMOUNT = re.compile(r"\d+(?:mg|mcg|ug|µg|μg|g|ml|iu|u|units?|x|h|d|st|nd|rd|th)?")

# How a term is meant, from the words around it (they are read, not left over).
# Before the term, with qualifiers between ("no history of breast cancer"):
_DENIED_BEFORE = frozenset("no not non never without denies denied deny nil negative free".split())
_PAST_BEFORE = frozenset(
    "history hx previous previously prior former formerly past recovered resolved cured "
    "survived ex had".split()
)
# Before the term with at most an article between ("after pregnancy", "since my pregnancy",
# "stopped breastfeeding"): "since 2010 diabetic" is diabetes now.
_PAST_JUST_BEFORE = frozenset("after post since stopped ended finished".split())
_ARTICLES = frozenset("a an the my her his their last recent first second third".split())
# After the term ("cancer-free", "hepatitis A as a child", "cancer in remission"):
_DENIED_AFTER = frozenset("free negative excluded absent ruled".split())
_PAST_AFTER = frozenset(
    "ago resolved cured remission survivor survived recovered healed child childhood kid "
    "teenager previously formerly anymore history stopped ended finished".split()
)
# After the term, these keep the rest of the clause current: "diabetes diagnosed 5 years ago".
_CURRENT_AFTER = frozenset("diagnosed since onset started began".split())
# After "not" or "no", these make the negation about the term's state, not the term.
_STATES = frozenset("well controlled treated stable fully adequately properly".split())
_MARKERS = (
    _DENIED_BEFORE
    | _PAST_BEFORE
    | _PAST_JUST_BEFORE
    | _DENIED_AFTER
    | _PAST_AFTER
    | _ARTICLES
    | _CURRENT_AFTER
    | _STATES
) | frozenset(["longer", "out", "now"])
_NON = "non"  # "nondiabetic": the negation written as one word


def _qualifier(word: str) -> bool:
    return word in _QUALIFIERS or word in _MARKERS or _AMOUNT.fullmatch(word) is not None


def tokens(text: str) -> list[str]:
    """Lower-case words; hyphens, underscores, punctuation and extra spaces fall away."""
    return _TOKEN.findall(text.casefold())


class Reading(StrEnum):
    """How a name in an entry is meant, from the words around it."""

    CURRENT = "current"
    PAST = "past"  # "history of cancer", "after pregnancy", "hepatitis A as a child"
    DENIED = "denied"  # "no diabetes", "non-diabetic", "cancer-free": negation is not read


@dataclass(frozen=True, slots=True)
class Match:
    """A known term found in a name: its id, its display name, what it is (a few words, or
    None), and how the entry means it."""

    term: str
    name: str
    what: str | None = None
    reading: Reading = Reading.CURRENT


_BEFORE = _DENIED_BEFORE | _PAST_BEFORE | _PAST_JUST_BEFORE
_AFTER = _DENIED_AFTER | _PAST_AFTER
_LINKS = ("of", "for")  # "history of", "free of", "negative for": about the term that follows


def _reading(
    words: list[str], start: int, end: int, covered: set[int], breaks: frozenset[int]
) -> Reading:
    """How the words around `words[start:end]` (a known term) mean it.

    Only the run of qualifiers and marker words next to the term counts, up to the nearest
    other word. A word that may stand before or after a term ("history", "free", "resolved")
    between two terms counts for neither, unless "of" or "for" ties it to the one after it:
    "diabetes, history of cancer" is cancer in the past and diabetes now; in "cancer free,
    diabetes" neither is read as denied (the stricter reading of both).

    A past marker may also stand a few words off, within the clause (`breaks`: the words a
    comma, semicolon, colon, slash or bracket comes before): "history of thyroid cancer",
    "lymphoma treated in 2010, now in remission". "Diagnosed", "since" or "onset" after the
    term keeps what follows in its clause current: "diabetes diagnosed 5 years ago".
    """
    first = start
    while first > 0 and first - 1 not in covered and _qualifier(words[first - 1]):
        first -= 1
    after_term = first - 1 in covered  # the run is bounded by another term before it
    last = end
    while last < len(words) and last not in covered and _qualifier(words[last]):
        last += 1
    before_term = last in covered  # ... or after it

    def tied(k: int) -> bool:
        return k + 1 < len(words) and words[k + 1] in _LINKS

    denied = past = False
    only_articles = True
    k = start - 1
    while k >= first:
        word = words[k]
        if word == "longer" and k > first and words[k - 1] in ("no", "not"):
            past = True  # "no longer breastfeeding"
            k -= 2
            only_articles = False
            continue
        if word in _BEFORE and (word not in _AFTER or tied(k) or not after_term):
            if word in _DENIED_BEFORE:
                # "not well controlled diabetes" denies the control, not the diabetes
                denied = denied or words[k + 1] not in _STATES
            elif word in _PAST_BEFORE or only_articles:
                past = True
        if word not in _ARTICLES:
            only_articles = False
        k -= 1
    if not (past or denied):  # "history of thyroid cancer": "thyroid" is not known
        found = _further(words, first - 1, -1, covered, breaks)
        denied = found is Reading.DENIED
        past = found is Reading.PAST
    current_clause = False
    for k in range(end, last):
        word = words[k]
        if k in breaks:
            current_clause = False
        if word in _CURRENT_AFTER:
            current_clause = True
        elif word in _AFTER and (word not in _BEFORE or not (tied(k) or before_term)):
            if word in _DENIED_AFTER:
                denied = True
            elif not current_clause:
                past = True
        elif word == "past" and words[k - 2 : k] == ["in", "the"] and not current_clause:
            past = True
    if not (past or denied) and not current_clause:
        past = _further(words, last, 1, covered, breaks) is Reading.PAST
    return Reading.DENIED if denied else Reading.PAST if past else Reading.CURRENT


_FURTHEST = 3  # words the tool does not know, between a term and a past marker


def _further(
    words: list[str], k: int, step: int, covered: set[int], breaks: frozenset[int]
) -> Reading:
    """A past marker (or, before the term, a denial) a few unknown words off, within the
    clause: from `words[k]` on, moving by `step` (-1: before the term, 1: after it)."""
    unknown = 0
    found = Reading.CURRENT
    while 0 <= k < len(words) and k not in covered:
        boundary = k + 1 if step < 0 else k  # the break between this word and the last
        if boundary in breaks:
            break
        word = words[k]
        if not _qualifier(word):
            unknown += 1
            if unknown > _FURTHEST:
                break
        elif word in _CURRENT_AFTER and step > 0:
            break
        elif step < 0 and word in _DENIED_BEFORE and words[k + 1] not in _STATES:
            return Reading.DENIED
        elif (step < 0 and word in _PAST_BEFORE) or (step > 0 and word in _PAST_AFTER):
            found = Reading.PAST
            if step > 0:
                break
        k += step
    return found if unknown else Reading.CURRENT


def _worst(a: Reading, b: Reading) -> Reading:
    """Of two mentions of one term, the one to act on: now over past over denied."""
    order = (Reading.CURRENT, Reading.PAST, Reading.DENIED)
    return min(a, b, key=order.index)


@dataclass
class Vocabulary:
    """Every name of a set of terms, indexed by its letters and digits alone (`index`) and
    by its words (`phrases`). What it has read and suggested is remembered, for a batch that
    meets the same names again and again; the memory takes no part in equality."""

    index: dict[str, Match]
    longest: int
    phrases: dict[str, Match] = field(default_factory=dict)
    # A term read as another: as past ("after pregnancy"), or beside a term ("flu with
    # tachycardia"): term id -> (past term, {beside id: term}).
    rewrites: dict[str, tuple[str | None, dict[str, str]]] = field(default_factory=dict)
    shown: dict[str, Match] = field(default_factory=dict)  # term id -> its display Match
    spelled: dict[str, str] = field(default_factory=dict)  # index key -> the name as written
    codes: dict[tuple[str, str], Match] = field(default_factory=dict)  # ATC, SNOMED CT
    spans: dict[str, list[tuple[Span, Match]]] = field(default_factory=dict)  # ICD-10, -CM
    atc_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # term id -> its ATC codes
    _cache: dict[str, tuple[tuple[Match, ...], tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _suggested: dict[tuple[str, int], list[str]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _by_length: dict[int, list[str]] = field(default_factory=dict, compare=False, repr=False)
    _windows: dict[int, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, terms: Iterable[Term]) -> Vocabulary:
        index: dict[str, Match] = {}
        phrases: dict[str, Match] = {}
        rewrites: dict[str, tuple[str | None, dict[str, str]]] = {}
        shown: dict[str, Match] = {}
        spelled: dict[str, str] = {}
        codes: dict[tuple[str, str], Match] = {}
        spans: dict[str, list[tuple[Span, Match]]] = {}
        atc_of: dict[str, tuple[str, ...]] = {}
        for term in terms:
            match = Match(term.id, term.names[0], term.what)
            shown.setdefault(term.id, match)
            if term.past is not None or term.beside:
                rewrites.setdefault(term.id, (term.past, dict(term.beside)))
            for name in term.names:
                key = "".join(tokens(name))
                index.setdefault(key, match)
                spelled.setdefault(key, name)
                phrases.setdefault(" ".join(tokens(name)), match)
            for system, entry in term.codes.entries():
                if system in ("icd10", "icd10cm"):
                    spans.setdefault(system, []).append((span(entry), match))
                else:
                    codes.setdefault((system, entry), match)
            atc_of.setdefault(term.id, tuple(term.codes.atc))
        longest = max((len(k) for k in index), default=0)
        return cls(index, longest, phrases, rewrites, shown, spelled, codes, spans, atc_of)

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
        runs of words of two letters or more: "as a" is not "asa" (aspirin). Each match says
        how it is meant (`Match.reading`): "no diabetes" is diabetes denied, "history of
        cancer" cancer in the past; a term the data reads otherwise in the past ("after
        pregnancy") or beside another ("flu with tachycardia") is given as that term.
        """
        return self.read(text)[0]

    def read(self, text: str) -> tuple[tuple[Match, ...], tuple[str, ...]]:
        """The known terms in `text` (as `match` gives them) and the words left over beside
        them that are not mere qualifiers (of, type, 2, mg, daily...): in "asthma and lupus",
        ("lupus",)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        folded = text.casefold()
        if _CLAUSE.search(folded) is None:
            words = _TOKEN.findall(folded)
            breaks: frozenset[int] = frozenset()
        else:
            marks = list(_TOKEN.finditer(folded))
            words = [m.group() for m in marks]
            breaks = frozenset(
                k
                for k in range(1, len(marks))
                if _CLAUSE.search(folded, marks[k - 1].end(), marks[k].start())
            )
        hits: list[tuple[int, int, Match]] = []
        glued: set[int] = set()  # "nondiabetic": a word that is "non" and a known name
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
            word = words[i]
            if word.startswith(_NON) and len(word) > len(_NON) + 3:
                found = self.index.get(word[len(_NON) :])
                if found is not None and self.index.get(word) is None:
                    hits.append((i, i + 1, found))
                    glued.add(i)
        spans = [
            (i, j, m)
            for i, j, m in hits
            if not any(a <= i and j <= b and (a, b) != (i, j) for a, b, _ in hits)
        ]
        covered = {k for i, j, _ in hits for k in range(i, j)}
        meant: dict[str, tuple[Match, Reading]] = {}
        for i, j, m in spans:
            reading = _reading(words, i, j, covered - set(range(i, j)), breaks)
            if i in glued:
                reading = Reading.DENIED
            before = meant.get(m.term)
            meant[m.term] = (m, reading if before is None else _worst(before[1], reading))
        kept = self._rewritten(list(meant.values()))
        left = tuple(w for k, w in enumerate(words) if k not in covered and not _qualifier(w))
        result = (tuple(kept), left)
        if len(self._cache) < 100_000:
            self._cache[text] = result
        return result

    def _rewritten(self, found: list[tuple[Match, Reading]]) -> list[Match]:
        """The terms found, each as it is meant: a term with a past reading of its own
        ("pregnancy" -> "after pregnancy") or a reading beside another term becomes that
        term."""
        present = {m.term for m, r in found if r is not Reading.DENIED}
        out: list[Match] = []
        for m, reading in found:
            past, beside = self.rewrites.get(m.term, (None, {}))
            term = m.term
            if reading is Reading.PAST and past is not None:
                term, reading = past, Reading.CURRENT
            elif reading is not Reading.DENIED:
                term = next((to for key, to in beside.items() if key in present), term)
            shown = self.shown.get(term, m) if term != m.term else m
            if all(k.term != term for k in out):
                out.append(Match(shown.term, shown.name, shown.what, reading))
        return out

    def suggest(self, text: str, n: int = 3) -> list[str]:
        """Up to `n` known names that `text` (or one of its words) could be a typo of."""
        cached = self._suggested.get((text, n))
        if cached is None:
            cached = self._suggest(text, n)
            if len(self._suggested) < 100_000:
                self._suggested[(text, n)] = cached
        return list(cached)

    def _suggest(self, text: str, n: int) -> list[str]:
        """Names within a few typing slips (insertions, deletions, substitutions, swapped
        neighbours: optimal string alignment distance) of the whole name squashed, then of
        each word of four letters or more: 1 slip up to 5 letters, 2 up to 9, 3 beyond. A
        name that only looks alike ("acne" and "cancer", "heart" and "heparin") is not
        offered: a suggestion that misleads is worse than none.

        The work is bounded per entry: at most `_MAX_QUERIES` lookups, each against only the
        names of a length within reach; rapidfuzz is imported here, when a name is unknown.
        """
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        # Qualifiers and amounts are no part of a name: "warfarine 5 mg" is "warfarine".
        words = [w for w in tokens(text) if not _qualifier(w)] or tokens(text)
        queries = ["".join(words)]
        for word in words:
            if len(word) >= 4 and word not in queries:
                queries.append(word)
        ranked: list[tuple[int, int, str]] = []  # (slips, order, key)
        for order, query in enumerate(queries[:_MAX_QUERIES]):
            reach = _reach(len(query))
            if not reach or len(query) > self.longest + reach:
                continue
            choices = self._within(len(query), reach)
            found = process.extract(
                query, choices, scorer=OSA.distance, score_cutoff=reach, limit=n
            )
            ranked += [(int(slips), order, key) for key, slips, _ in found]
        out: list[str] = []
        for _, _, key in sorted(ranked):  # fewest slips first, the whole name before a word
            shown = self.spelled.get(key, self.index[key].name)  # "ozempic", as written
            if shown not in out:
                out.append(shown)
        return out[:n]

    def _within(self, length: int, reach: int) -> list[str]:
        """The index's keys whose length is within `reach` of `length` (each window built
        once; `reach` follows from `length`)."""
        window = self._windows.get(length)
        if window is None:
            if not self._by_length:
                for key in self.index:
                    self._by_length.setdefault(len(key), []).append(key)
            window = [
                key
                for size in range(length - reach, length + reach + 1)
                for key in self._by_length.get(size, ())
            ]
            self._windows[length] = window
        return window


_MAX_QUERIES = 6  # the whole name and five of its words


def _reach(length: int) -> int:
    """How many typing slips a name of `length` letters may hold and still be suggested."""
    if length < 4:
        return 0
    return 1 if length <= 5 else 2 if length <= 9 else 3


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
    optional: dict[str, str] = field(default_factory=dict)
    """Ingredient id -> what to do instead, for one a session can do without (numbing)."""

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
            optional={
                t.id: t.optional for t in data.terms[TermKind.INGREDIENT] if t.optional is not None
            },
        )
