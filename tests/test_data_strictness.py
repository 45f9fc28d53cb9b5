"""A clinic's copy of the data may be stricter than the shipped data, never weaker; and no
YAML tag is accepted in any file, not even a standard one such as `!!bool`."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_data_check import CONTRA, PROTOS, break_file, copy_data, meso, runner

from meso_cli.cli import app

# Each: file, text replaced, its replacement, a marker on the line to be named, and what the
# message must say (the weakened value and what the shipped data has).
NO_NEEDLE_EXEMPT = "exempt_rules: [bleeding-disorder, anticoagulant, nsaid-washout]"
WEAKENINGS = {
    "no-needle exempt from pregnancy": (
        PROTOS,
        NO_NEEDLE_EXEMPT,
        NO_NEEDLE_EXEMPT[:-1] + ", pregnancy]",
        "pregnancy]",
        ["may not be exempt from rule 'pregnancy'", "exempts it from 'bleeding-disorder'"],
    ),
    "no-needle exempt from diabetes": (
        PROTOS,
        NO_NEEDLE_EXEMPT,
        NO_NEEDLE_EXEMPT[:-1] + ", diabetes]",
        "diabetes]",
        ["may not be exempt from rule 'diabetes'"],
    ),
    "nsaid washout of 2 days": (
        CONTRA,
        "        washout_days: 7\n",
        "        washout_days: 2\n",
        "washout_days: 2",
        ["rule 'nsaid-washout'", "washout_days: 2", "shipped data has washout_days: 7"],
    ),
    "adult from 16": (
        CONTRA,
        "      - age_below: 18\n",
        "      - age_below: 16\n",
        "age_below: 16",
        ["rule 'age-under-18'", "age_below: 16", "shipped data has age_below: 18"],
    ),
    "review from 90": (
        CONTRA,
        "      - age_above: 75\n",
        "      - age_above: 90\n",
        "age_above: 90",
        ["rule 'age-over-75'", "age_above: 90", "shipped data has age_above: 75"],
    ),
    "liver rule pointed at the kidneys": (
        CONTRA,
        "      - conditions: [liver-disease, hepatitis-a]\n",
        "      - conditions: [kidney-disease]  # was liver\n",
        "# was liver",
        [
            "rule 'liver-disease'",
            "leaves out 'liver-disease', 'hepatitis-a'",
            "conditions: [liver-disease, hepatitis-a]",
        ],
    ),
    "another term claims ibuprofen": (
        CONTRA,
        "names: [warfarin, coumadin, jantoven, marevan]",
        "names: [warfarin, coumadin, jantoven, marevan, ibuprofen]",
        "marevan, ibuprofen",
        ["'ibuprofen' is read as 'warfarin'", "shipped data reads it as 'ibuprofen'"],
    ),
    "a protocol without ingredients": (
        PROTOS,
        "    ingredients: [hyaluronic-acid, vitamins, amino-acids, minerals, antioxidants]\n",
        "    ingredients: []  # was face\n",
        "# was face",
        ["protocol 'face-rejuvenation' leaves out", "'hyaluronic-acid'"],
    ),
    "sun avoided for 2 days": (
        PROTOS,
        "      days_after_last: 20\n",
        "      days_after_last: 2\n",
        "days_after_last: 2",
        ["item 'sun'", "days_after_last: 2", "shipped data has days_after_last: 20"],
    ),
    "polypharmacy from 5 medications": (
        CONTRA,
        "      - medication_count_at_least: 2\n",
        "      - medication_count_at_least: 5\n",
        "medication_count_at_least: 5",
        [
            "rule 'cardiac-polypharmacy'",
            "at_least: 5",
            "shipped data has medication_count_at_least: 2",
        ],
    ),
    "NSAIDs stopped 2 days before": (
        PROTOS,
        "      rule: nsaid-washout\n",
        "      rule: nsaid-washout\n      days_before_first: 2\n",
        "days_before_first: 2",
        ["item 'stop-nsaids'", "days_before_first: 7 (the washout of rule 'nsaid-washout')"],
    ),
    "a brand name dropped": (
        CONTRA,
        "names: [ibuprofen, advil,",
        "names: [ibuprofen,",
        "names: [ibuprofen,",
        ["term 'ibuprofen' leaves out 'advil'"],
    ),
    "a longer name hides liver disease": (
        CONTRA,
        "names: [thyroid disease,",
        "names: [fatty liver disease, thyroid disease,",
        "fatty liver disease",
        ["'fatty liver disease' is read as 'other-named'", "reads it as 'liver-disease'"],
    ),
    "pregnancy rule fires on fever": (
        CONTRA,
        "          - flag: pregnant\n",
        "          - flag: fever  # was pregnant\n",
        "# was pregnant",
        ["rule 'pregnancy'", "flag: fever", "shipped data has flag: pregnant"],
    ),
    "an any: narrowed to one option": (
        CONTRA,
        "      - any:\n          - flag: pregnant\n          - conditions: [pregnancy]\n"
        "            flag_decides: pregnant\n",
        "      - flag: pregnant  # was any\n",
        "# was any",
        [
            "rule 'pregnancy'",
            "does not fire where the shipped conditions: [pregnancy], flag_decides: pregnant does",
        ],
    ),
    "a deferral made a review (clearable)": (
        CONTRA,
        "  - id: nsaid-washout\n    action: defer\n",
        "  - id: nsaid-washout\n    action: review  # was defer\n",
        "# was defer",
        ["rule 'nsaid-washout' must stay 'defer'", "not 'review'"],
    ),
    "a harmless term takes an unknown name": (
        CONTRA,
        "names: [thyroid disease,",
        "names: [thyroid disease, lupus,",
        "disease, lupus,",
        ["'lupus' is not known to the shipped data", "'other-named', which no rule uses"],
    ),
    "an added condition narrows a rule": (
        CONTRA,
        "      - age_below: 18\n",
        "      - age_below: 18\n      - flag: fever  # added\n",
        "# added",
        ["rule 'age-under-18'", "added condition", "shipped rule has age_below: 18"],
    ),
}


@pytest.mark.parametrize("case", list(WEAKENINGS))
def test_a_weaker_copy_is_refused_naming_file_line_and_shipped_value(
    tmp_path: Path, case: str
) -> None:
    name, old, new, marker, said = WEAKENINGS[case]
    directory = copy_data(tmp_path)
    line = break_file(directory, name, old, new, marker)
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    named = [row for row in result.stderr.splitlines() if f"{directory / name}:{line}: " in row]
    assert len(named) == 1, result.stderr
    for words in said:
        assert words in named[0], result.stderr


def test_every_weakening_is_listed_at_once(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    cases = ("nsaid washout of 2 days", "review from 90", "sun avoided for 2 days")
    lines = [(WEAKENINGS[c][0], break_file(directory, *WEAKENINGS[c][:4])) for c in cases]
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    for name, line in lines:
        assert f"{directory / name}:{line}: " in result.stderr


def test_a_weaker_copy_stops_screening(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    case = "no-needle exempt from pregnancy"
    line = break_file(directory, *WEAKENINGS[case][:4])
    result = runner.invoke(
        app,
        ["screen", "-", "--protocol", "no-needle", "--data-dir", str(directory)],
        input="age: 30\npregnant: true\n",
        env={"NO_COLOR": "1"},
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"{directory / PROTOS}:{line}: " in result.stderr


STRICTER = [
    (CONTRA, "      - age_above: 75\n", "      - age_above: 70\n"),
    (CONTRA, "        washout_days: 7\n", "        washout_days: 10\n"),
    (CONTRA, "      - medication_count_at_least: 2\n", "      - medication_count_at_least: 1\n"),
    (CONTRA, "names: [ibuprofen, advil,", "names: [ibuprofen, ibuprofene, advil,"),
    # A longer name that hides only a term no rule uses ("stress") is fine.
    (
        CONTRA,
        "      names: [cancer, carcinoma,",
        "      names: [cancer, stress from cancer, carcinoma,",
    ),
    # An option added to an `any:`, and a rule widened into one.
    (
        CONTRA,
        "          - conditions: [pregnancy]\n",
        "          - conditions: [pregnancy]\n          - conditions: [breastfeeding]\n",
    ),
    (
        CONTRA,
        "      - conditions: [liver-disease, hepatitis-a]\n",
        "      - any:\n          - conditions: [liver-disease, hepatitis-a]\n"
        "          - medications: [aspirin]\n",
    ),
    # A later term listing a known name does not take it: the first term keeps it.
    (
        CONTRA,
        "\nrules:\n",
        "    - id: painkiller\n      names: [ibuprofen]\n"
        "      sources: [000_83a82c1e611c96ee.txt]\n\nrules:\n",
    ),
    (PROTOS, NO_NEEDLE_EXEMPT, "exempt_rules: [bleeding-disorder, anticoagulant]"),
    (
        PROTOS,
        "    ingredients: []  # 002 names no product for the device\n",
        "    ingredients: [hyaluronic-acid, vitamins]\n",
    ),
    (PROTOS, "      days_after_last: 20\n", "      days_after_last: 30\n"),
    (
        PROTOS,
        "      rule: nsaid-washout\n",
        "      rule: nsaid-washout\n      days_before_first: 14\n",
    ),
]


def test_a_stricter_copy_passes_and_screens_with_its_own_limits(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    for name, old, new in STRICTER:
        path = directory / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    checked = meso("data", "check", str(directory))
    assert checked.exit_code == 0, checked.output
    screened = runner.invoke(
        app,
        ["screen", "-", "--protocol", "hair", "--data-dir", str(directory), "--on", "2026-03-02"],
        input="age: 72\nmedications: [{name: ibuprofene, last_dose: 2026-02-24}]\n",
        env={"NO_COLOR": "1", "COLUMNS": "200"},
    )
    assert "age-over-75" in screened.stdout, screened.output
    assert "nsaid-washout" in screened.stdout, screened.output
    assert "2026-03-06" in screened.stdout, screened.output  # last dose + 10 days


# --- YAML tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("age: 30\npregnant: !!bool true\n", "!!bool"),
        ("age: 30\nid: !!str 42\n", "!!str"),
        ("age: 30\nconditions: !!seq [asthma]\n", "!!seq"),
        ("age: 30\nconditions:\n  - !custom asthma\n", "!custom"),
    ],
)
def test_a_tag_in_a_patient_file_is_refused(tmp_path: Path, text: str, tag: str) -> None:
    patient = tmp_path / "patient.yaml"
    patient.write_text(text, encoding="utf-8")
    result = meso("screen", str(patient))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    line = len(text.splitlines()) if tag != "!!bool" else 2
    expected = f"{patient}:{line}: YAML tag {tag} is not allowed; write the value plainly"
    assert expected in result.stderr


def test_a_tag_in_a_data_file_is_refused(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    line = break_file(
        directory, CONTRA, "      - age_below: 18\n", "      - age_below: !!int 18\n", "!!int"
    )
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert f"{directory / CONTRA}:{line}: YAML tag !!int is not allowed" in result.stderr
