"""Names a practitioner types -> known terms: case, spacing, hyphens, phrases, suggestions."""

from __future__ import annotations

import pytest

from meso_cli.matching import Vocabularies, Vocabulary, tokens
from meso_cli.models import Dataset, Term


def vocab(*terms: tuple[str, list[str]]) -> Vocabulary:
    return Vocabulary.of(Term(id=i, names=names) for i, names in terms)


SMALL = vocab(
    ("aspirin", ["aspirin", "acetylsalicylic acid", "asa"]),
    ("warfarin", ["warfarin", "coumadin"]),
    ("diabetes", ["diabetes", "type 2 diabetes"]),
    ("blood-thinner", ["anticoagulant", "blood thinner"]),
    ("cancer", ["cancer"]),
)


def terms(text: str, v: Vocabulary = SMALL) -> list[str]:
    return [m.term for m in v.match(text)]


def test_tokens_drop_case_hyphens_and_extra_spaces() -> None:
    assert tokens("  Type-2   DIABETES ") == ["type", "2", "diabetes"]
    assert tokens("anti_coagulant, (daily)") == ["anti", "coagulant", "daily"]


@pytest.mark.parametrize(
    "typed",
    ["Coumadin", "COUMADIN", "  coumadin  ", "Cou-madin", "cou madin", "WARFARIN"],
)
def test_case_spaces_and_hyphens_are_ignored(typed: str) -> None:
    assert terms(typed) == ["warfarin"]


@pytest.mark.parametrize(
    "typed",
    ["Type 2 diabetes", "type-2 Diabetes", "TYPE2 DIABETES", "diabetes type 2", "(diabetes)"],
)
def test_a_known_name_inside_a_longer_phrase_counts(typed: str) -> None:
    assert terms(typed) == ["diabetes"]


def test_the_matched_name_is_the_display_name() -> None:
    (m,) = SMALL.match("Coumadin 5 mg")
    assert (m.term, m.name) == ("warfarin", "warfarin")


def test_several_terms_in_one_entry_are_all_found() -> None:
    assert terms("warfarin and aspirin") == ["warfarin", "aspirin"]
    assert terms("breast cancer, type 2 diabetes") == ["cancer", "diabetes"]


def test_adjacent_words_are_joined_so_a_split_name_still_matches() -> None:
    assert terms("anti-coagulant") == ["blood-thinner"]
    assert terms("Blood-Thinner") == ["blood-thinner"]


@pytest.mark.parametrize(
    "typed", ["vasa", "Nasal spray", "asap", "casanova", "cancerous-looking mole? no", "aspirins"]
)
def test_no_match_on_letters_inside_a_longer_word(typed: str) -> None:
    # "asa" is a name for aspirin; it must not be found inside "vasa" or "nasal".
    # "cancerous" is not "cancer": a whole word must match.
    assert terms(typed) == []


def test_a_short_name_matches_as_its_own_word() -> None:
    assert terms("ASA 100 mg") == ["aspirin"]
    assert terms("low-dose asa") == ["aspirin"]


def test_nothing_known_gives_no_match() -> None:
    assert terms("") == []
    assert terms("zzz") == []


def test_suggestions_are_close_known_names_at_most_three() -> None:
    assert SMALL.suggest("warfarine")[0] == "warfarin"
    assert SMALL.suggest("diabetis") == ["diabetes"]
    assert SMALL.suggest("qqqqqqq") == []
    many = vocab(*((f"t{i}", [f"medication{i}"]) for i in range(10)))
    assert len(many.suggest("medication")) == 3


def test_suggestions_also_look_at_each_word_of_a_phrase() -> None:
    assert "coumadin" not in SMALL.suggest("x")
    # The name suggested is the one the typing was close to, as the data writes it.
    assert SMALL.suggest("my coumadinn tablets") == ["coumadin"]


def test_shipped_vocabularies(data: Dataset) -> None:
    v = Vocabularies.of(data)
    assert [m.term for m in v.medications.match("Coumadin")] == ["warfarin"]
    assert [m.term for m in v.conditions.match("renal failure")] == ["kidney-disease"]
    assert [m.term for m in v.conditions.match("Atrial Fibrillation")] == ["arrhythmia"]
    assert [m.term for m in v.conditions.match("breast cancer")] == ["cancer"]
    assert [m.term for m in v.allergens.match("Lidocaine")] == ["local-anaesthetic"]
    assert v.medications.match("vasa") == ()
    assert v.medications.suggest("warfarine")[0] == "warfarin"


@pytest.mark.parametrize(
    ("typed", "left"),
    [
        ("cancer and lupus", ("lupus",)),
        ("warfarin, methotrexate", ("methotrexate",)),
        ("history of breast cancer", ()),
        ("Type-2 diabetes, poorly controlled", ()),
        ("warfarin 5 mg twice daily", ()),
        ("aspirin 75mg", ()),
        ("lupus", ("lupus",)),
        ("cancer of the liver", ("liver",)),
        ("warfarin, heart disease", ("heart", "disease")),
    ],
)
def test_words_beside_a_known_term_are_kept_unless_they_only_qualify_it(
    typed: str, left: tuple[str, ...]
) -> None:
    assert SMALL.read(typed)[1] == left


@pytest.mark.parametrize("typed", ["iron as a supplement", "vitamin d, as a tablet", "a s a"])
def test_one_letter_words_are_not_joined_into_a_term(typed: str) -> None:
    assert "aspirin" not in terms(typed)


@pytest.mark.parametrize("typed", ["ASA 100 mg", "asa", "acetylsalicylic-acid"])
def test_aspirin_by_its_abbreviation_is_still_found(typed: str) -> None:
    assert terms(typed) == ["aspirin"]
