"""The human screening output, compared whole at 80 and 60 columns under NO_COLOR."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.models import Dataset, Patient, Screening, Verdict
from meso_cli.render.human import screening_view
from meso_cli.screening import screen

ON = date(2026, 11, 22)
PATIENT = """\
id: P-0042
birth_date: 1988-03-14
medications:
  - {name: ibuprofen, last_dose: 2026-11-20}
  - Coumadin
  - warfarine
conditions:
  - {name: herpes zoster, resolved_on: 2026-12-10}
"""


def rendered(s: Screening, width: int) -> str:
    sink = StringIO()
    console = Console(width=width, no_color=True, force_terminal=False, file=sink, highlight=False)
    console.print(screening_view(s))
    return sink.getvalue()


def mixed(data: Dataset) -> Screening:
    import yaml

    who = Patient.model_validate(yaml.safe_load(PATIENT))
    return screen(who, data.protocol("hair"), data, on=ON, clear=["unrecognized-term"])


AT_80 = """\
? REVIEW REQUIRED — a practitioner must decide, then --clear RULE; first
  session from 2026-12-10
patient P-0042 · protocol hair · reference date 2026-11-22

Findings (4)
? REVIEW  Takes a blood thinner  [anticoagulant]
    Coumadin (warfarin), taken now
    → Do not stop a prescribed blood thinner for this treatment; consult the
    prescriber, expect more bruising, and clear with --clear anticoagulant once
    decided.
    sources: 001_8b0821896358e5d6.txt

… DEFER  NSAID taken within the last 7 days  [nsaid-washout]
    last dose of ibuprofen 2026-11-20: first session from 2026-11-27
    → Start no earlier than 7 days after the last dose. Aspirin prescribed to
    protect the heart is a blood thinner: the prescriber decides, not the
    patient.
    sources: 000_83a82c1e611c96ee.txt, 001_8b0821896358e5d6.txt

… DEFER  Eczema or herpes zoster  [skin-disease-at-site]
    herpes zoster; resolves on 2026-12-10
    → Wait until the skin has healed; give resolved_on to date the start.
    sources: 001_8b0821896358e5d6.txt

? REVIEW  Unrecognized condition, medication or allergy  [unrecognized-term]
    CLEARED by the practitioner
    medication 'warfarine' matches no known term; did you mean warfarin,
    ivabradine, minoxidil?
    → Check it against the contraindications, or correct the spelling; clear
    with --clear unrecognized-term once checked.
    sources: 001_8b0821896358e5d6.txt, 002_a3c4d37e6271a984.txt

Assumed — confirm with the patient
• pregnant: not stated, taken as no
• breastfeeding: not stated, taken as no
• fever: not stated, taken as no
• Coumadin: no last_dose given, taken as being taken now

Cleared by the practitioner: unrecognized-term
"""

AT_60 = """\
? REVIEW REQUIRED — a practitioner must decide, then
  --clear RULE; first session from 2026-12-10
patient P-0042 · protocol hair · reference date 2026-11-22

Findings (4)
? REVIEW  Takes a blood thinner  [anticoagulant]
    Coumadin (warfarin), taken now
    → Do not stop a prescribed blood thinner for this
    treatment; consult the prescriber, expect more bruising,
    and clear with --clear anticoagulant once decided.
    sources: 001_8b0821896358e5d6.txt

… DEFER  NSAID taken within the last 7 days
    [nsaid-washout]
    last dose of ibuprofen 2026-11-20: first session from
    2026-11-27
    → Start no earlier than 7 days after the last dose.
    Aspirin prescribed to protect the heart is a blood
    thinner: the prescriber decides, not the patient.
    sources: 000_83a82c1e611c96ee.txt,
    001_8b0821896358e5d6.txt

… DEFER  Eczema or herpes zoster  [skin-disease-at-site]
    herpes zoster; resolves on 2026-12-10
    → Wait until the skin has healed; give resolved_on to
    date the start.
    sources: 001_8b0821896358e5d6.txt

? REVIEW  Unrecognized condition, medication or allergy
    [unrecognized-term]  CLEARED by the practitioner
    medication 'warfarine' matches no known term; did you
    mean warfarin, ivabradine, minoxidil?
    → Check it against the contraindications, or correct the
    spelling; clear with --clear unrecognized-term once
    checked.
    sources: 001_8b0821896358e5d6.txt,
    002_a3c4d37e6271a984.txt

Assumed — confirm with the patient
• pregnant: not stated, taken as no
• breastfeeding: not stated, taken as no
• fever: not stated, taken as no
• Coumadin: no last_dose given, taken as being taken now

Cleared by the practitioner: unrecognized-term
"""


def test_review_with_deferrals_and_a_cleared_rule_at_80_columns(data: Dataset) -> None:
    assert rendered(mixed(data), 80) == AT_80


def test_review_with_deferrals_and_a_cleared_rule_at_60_columns(data: Dataset) -> None:
    assert rendered(mixed(data), 60) == AT_60


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_no_line_is_padded_or_wider_than_the_terminal(data: Dataset, width: int) -> None:
    for line in rendered(mixed(data), width).splitlines():
        assert line == line.rstrip(), repr(line)
        assert len(line) <= width, repr(line)


def test_the_cli_prints_the_same_text_under_no_color_and_columns(
    data: Dataset, tmp_path: Path
) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(PATIENT, encoding="utf-8")
    args = ["screen", str(path), "-p", "hair", "--on", "2026-11-22", "--clear", "unrecognized-term"]
    for columns, expected in (("80", AT_80), ("60", AT_60)):
        result = CliRunner().invoke(app, args, env={"NO_COLOR": "1", "COLUMNS": columns})
        assert result.exit_code == 3, result.output
        assert result.stdout == expected
        assert "\x1b[" not in result.stdout
        assert result.stderr == ""


def test_eligible_with_rules_not_applicable_at_60_columns() -> None:
    patient = (
        "age: 40\npregnant: false\nbreastfeeding: false\nfever: false\n"
        "medications: [warfarin, {name: naproxen, last_dose: 2026-11-21}]\n"
        "conditions: [thinning hair]\n"
    )
    result = CliRunner().invoke(
        app,
        ["screen", "-", "-p", "no-needle", "--on", "2026-11-22"],
        input=patient,
        env={"NO_COLOR": "1", "COLUMNS": "60"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "✓ ELIGIBLE — may treat from 2026-11-22\n"
        "patient (no id) · protocol no-needle\n"
        "reference date 2026-11-22\n"
        "\n"
        "No contraindication found.\n"
        "\n"
        "Not applicable to no-needle: anticoagulant,\n"
        "  bleeding-disorder, nsaid-washout\n"
        "\n"
        "Assumed — confirm with the patient\n"
        "• birth date not given: age 40\n"
        "• warfarin: no last_dose given, taken as being taken now\n"
    )


@pytest.mark.parametrize(
    ("fields", "verdict", "first_line"),
    [
        ({}, Verdict.ELIGIBLE, "✓ ELIGIBLE — may treat from 2026-11-22"),
        (
            {"fever": True},
            Verdict.DEFERRED,
            "… DEFERRED — no start date until the deferral has an end",
        ),
        (
            {"medications": [{"name": "naproxen", "last_dose": "2026-11-20"}]},
            Verdict.DEFERRED,
            "… DEFERRED — first session from 2026-11-27",
        ),
        (
            {"medications": ["heparin"]},
            Verdict.REVIEW,
            "? REVIEW REQUIRED — a practitioner must decide, then --clear RULE",
        ),
        ({"pregnant": True}, Verdict.NOT_ELIGIBLE, "✗ NOT ELIGIBLE — do not treat"),
    ],
)
def test_every_verdict_reads_in_words_and_a_symbol_without_colour(
    data: Dataset, fields: dict[str, object], verdict: Verdict, first_line: str
) -> None:
    who = Patient.model_validate({"birth_date": "1980-01-01", **fields})
    s = screen(who, None, data, on=ON)
    assert s.verdict is verdict
    assert rendered(s, 80).splitlines()[0] == first_line


def test_each_finding_shows_action_rule_term_advice_and_sources(data: Dataset) -> None:
    who = Patient.model_validate({"birth_date": "1980-01-01", "allergies": ["Lidocaine"]})
    text = rendered(screen(who, data.protocol("hair"), data, on=ON), 80)
    assert text.splitlines()[4:7] == [
        "✗ EXCLUDE  Allergy to an ingredient of the solution  [ingredient-allergy]",
        "    allergy to Lidocaine (local anaesthetic), an ingredient of hair",
        "    → Do not use a solution that contains it; check the label of the clinic's",
    ]
    assert ("    sources: 000_83a82c1e611c96ee.txt, 001_8b0821896358e5d6.txt,") in text.splitlines()
