"""Coded terms: codes in the data, codes in a patient file, ATC classes in the rules, and the
check of a clinic's copy that keeps every shipped code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from meso_cli.cli import app
from meso_cli.codes import code_problem, span, verhoeff_valid
from meso_cli.files import packaged_data_dir
from meso_cli.models import Dataset, TakesMedication, TermKind, flat

ON = "2026-11-22"
BASE = "id: P-1\nbirth_date: 1980-05-02\nsex: female\npregnant: false\nbreastfeeding: false\n"
runner = CliRunner()


def meso(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, env={"NO_COLOR": "1", "COLUMNS": "80"})


def screen(tmp_path: Path, body: str, *extra: str, code: int) -> dict[str, Any]:
    path = tmp_path / "patient.yaml"
    path.write_text(BASE + body, encoding="utf-8")
    result = meso("screen", str(path), "--on", ON, "--json", *extra)
    assert result.exit_code == code, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, dict)
    return out


def rules_of(out: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in out["findings"]]


# --- the data --------------------------------------------------------------------------------


def test_every_condition_carries_icd10_codes_and_every_medication_atc(data: Dataset) -> None:
    for term in data.terms[TermKind.CONDITION]:
        assert term.codes.icd10 and term.codes.icd10cm, term.id
    for term in data.terms[TermKind.MEDICATION]:
        assert term.codes.atc, term.id


def test_the_rules_name_the_atc_classes_the_issue_asks_for(data: Dataset) -> None:
    named = {
        rule.id: group
        for rule in data.rules
        for trigger in flat(rule.when)
        if isinstance(trigger, TakesMedication)
        for group in trigger.atc
    }
    assert named == {
        "anticoagulant": "B01",
        "nsaid-washout": "M01A",
        "diabetes": "A10",
        "cancer": "L01",
        "cardiac-polypharmacy": "C01",
    }


def test_code_formats() -> None:
    assert code_problem("atc", "B01AA03") is None
    assert code_problem("atc", "B01") is None
    assert code_problem("atc", "E01AA03") is not None  # no main group E
    assert code_problem("icd10", "E11.9") is None
    assert code_problem("icd10", "O9A") is not None  # ICD-10-CM only
    assert code_problem("icd10cm", "O9A.11") is None
    assert code_problem("snomed", "73211009") is None
    assert code_problem("snomed", "73211008") is not None  # check digit
    assert verhoeff_valid("138875005")  # the SNOMED CT root concept


def test_icd_ranges_cover_by_their_first_characters() -> None:
    assert span("E10-E14").covers_code("E11.65")
    assert not span("E10-E14").covers_code("E15")
    assert span("O00-O9A").covers_code("O9A.111")  # 'A' sorts after the digits
    assert span("E10-E14").overlaps(span("E11.9"))
    assert not span("I44-I45").overlaps(span("I46"))
    assert span("E08-E14").covers(span("E10-E13"))


# --- codes in a patient file ------------------------------------------------------------------


def test_a_known_code_matches_exactly_whatever_the_name(tmp_path: Path) -> None:
    body = "medications:\n  - {name: Coumadin, code: {system: atc, value: B01AA03}}\n"
    out = screen(tmp_path, body, code=3)
    (finding,) = out["findings"]
    assert finding["rule"] == "anticoagulant"
    assert finding["matched"] == "Coumadin"
    assert "ATC B01AA03: warfarin" in finding["detail"]


def test_a_code_instead_of_a_name(tmp_path: Path) -> None:
    body = "conditions:\n  - {code: {system: icd10cm, value: E11.65}}\n"
    out = screen(tmp_path, body, code=5)
    assert rules_of(out) == ["diabetes"]
    assert out["findings"][0]["matched"] == "ICD-10-CM E11.65"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("B01AC05", "anticoagulant"),  # ticlopidine: no term names it
        ("A10BX16", "diabetes"),  # tirzepatide
        ("L01BA01", "cancer"),  # methotrexate
    ],
)
def test_an_atc_code_no_name_lists_fires_its_class_rule(
    tmp_path: Path, code: str, rule: str
) -> None:
    body = f"medications:\n  - {{code: {{system: atc, value: {code}}}}}\n"
    out = screen(tmp_path, body, code=3 if rule == "anticoagulant" else 5)
    assert rules_of(out) == [rule]  # and no unrecognized-term: the class knows it
    assert f"ATC {code}, in {code[:3]}" in out["findings"][0]["detail"]


def test_an_nsaid_by_class_defers_for_its_washout(tmp_path: Path) -> None:
    body = "medications:\n  - {code: {system: atc, value: M01AE11}, last_dose: 2026-11-20}\n"
    out = screen(tmp_path, body, code=4)
    assert rules_of(out) == ["nsaid-washout"]
    assert out["earliest_start"] == "2026-11-27"


def test_an_unknown_code_is_a_review_like_an_unknown_name(tmp_path: Path) -> None:
    body = "conditions:\n  - {name: lupus, code: {system: snomed, value: 200936003}}\n"
    out = screen(tmp_path, body, code=3)
    (finding,) = out["findings"]
    assert finding["rule"] == "unrecognized-term"
    assert "SNOMED CT 200936003 matches no known code" in finding["detail"]


def test_an_unknown_code_beside_a_known_name_is_read_by_the_name_and_reviewed(
    tmp_path: Path,
) -> None:
    body = "medications:\n  - {name: warfarin, code: {system: snomed, value: 200936003}}\n"
    out = screen(tmp_path, body, code=3)
    assert sorted(rules_of(out)) == ["anticoagulant", "unrecognized-term"]


def test_codes_in_icd10_who_and_cm_and_snomed(tmp_path: Path) -> None:
    body = (
        "conditions:\n"
        "  - {code: {system: icd10, value: B02.9}}\n"  # zoster
        "  - {code: [{system: snomed, value: 44054006}, {system: icd10, value: E11.9}]}\n"
    )
    out = screen(tmp_path, body, code=5)
    assert rules_of(out) == ["diabetes", "skin-disease-at-site"]


def test_an_allergy_by_code_reads_as_the_ingredient(tmp_path: Path) -> None:
    body = "allergies:\n  - {code: {system: atc, value: N01BB02}}\n"  # lidocaine
    out = screen(tmp_path, body, "-p", "dark-circles", code=5)
    assert rules_of(out) == ["ingredient-allergy"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{code: {system: atc, value: B1AA03}}", "not an ATC code"),
        ("{code: {system: icd10, value: O9A}}", "use system icd10cm"),
        ("{code: {system: snomed, value: 73211008}}", "check digit"),
        ("{code: {system: rxnorm, value: '11289'}}", "system"),
        ("{name: warfarin, code: {system: icd10, value: E11}}", "not a medicine"),
        ("{last_dose: 2026-11-01}", "give a name, a code, or both"),
    ],
)
def test_a_malformed_code_is_exit_2_with_its_line(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(BASE + f"medications:\n  - {entry}\n", encoding="utf-8")
    result = meso("screen", str(path), "--on", ON)
    assert result.exit_code == 2
    assert "patient.yaml:7: medications[0]" in result.stderr
    assert message in result.stderr


# --- the common medicines ---------------------------------------------------------------------


def test_amlodipine_metoprolol_and_digoxin_raise_no_review(tmp_path: Path) -> None:
    for name in ("amlodipine", "metoprolol", "digoxin", "atorvastatin", "sertraline"):
        out = screen(tmp_path, f"medications: [{name}]\n", "-p", "hair", code=0)
        assert out["findings"] == [], name


def test_digoxin_is_cardiac_therapy_for_cardiac_polypharmacy(tmp_path: Path) -> None:
    out = screen(tmp_path, "medications: [digoxin, amlodipine]\n", code=5)
    (finding,) = out["findings"]
    assert finding["rule"] == "cardiac-polypharmacy"
    assert "C01 cardiac therapy" in finding["detail"]
    # Amlodipine is for blood pressure (C08), not cardiac therapy: no heart condition.
    assert screen(tmp_path, "medications: [amlodipine, atorvastatin]\n", code=0)["findings"] == []


def test_an_allergy_to_an_antibiotic_reads_as_the_antibiotics_ingredient(tmp_path: Path) -> None:
    out = screen(tmp_path, "allergies: [amoxicillin]\n", "-p", "hair", code=3)
    (finding,) = out["findings"]
    assert finding["rule"] == "ingredient-allergy"


# --- a clinic's copy ----------------------------------------------------------------------------


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(packaged_data_dir(), target)
    return target


def edit(directory: Path, old: str, new: str, name: str = "contraindications.yaml") -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("atc: [B01AA03]", "atc: [B01AA3]", "is not an ATC code"),
        ("icd10: [D66, D67, D68.1]", "icd10: [D66, D67, D68.1, E11]", "shared with term"),
        ("icd10: [B02]", "icd10: [B02, B02.9]", "listed twice"),
        ("icd10: [L63-L66]", "icd10: [L66-L63]", "from the lower code to the higher"),
        ("        atc: [B01]\n", "        atc: [B1]\n", "is not an ATC code"),
        ("        atc: [M01A]\n", "        atc: [M01B]\n", "no ATC class in atc_classes"),
        ("atc: [H03AA01]  # levothyroxine sodium", "atc: [H03AA1]", "not an ATC code"),
        ("snomed: [4740000]", "snomed: [4740001]", "check digit"),
    ],
)
def test_data_check_refuses_bad_or_shared_codes(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    directory = copy_data(tmp_path)
    edit(directory, old, new)
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "contraindications.yaml:" in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("atc: [B01AA03]", "atc: [B01AA07]", "shared with term"),
        ("atc: [C01AA05]", "atc: [C01AA04]", "shared with term"),
        ("icd10: [E10-E14]", "icd10: [E10-E11]", "leaves out ICD-10 E10-E14"),
        ("atc: [B01AC04]", "atc: []", "leaves out ATC B01AC04"),
        ("        atc: [B01]\n", "", "atc leaves out 'B01'"),
        ("        atc: [M01A]\n", "        atc: [A10]\n", "atc leaves out 'M01A'"),
        (
            "codes: {atc: [C10AX09]}",
            "codes: {atc: [C10AX09, C10AX12]}",
            "would pass unseen",
        ),
    ],
)
def test_a_copy_may_not_drop_a_shipped_code_or_class(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    directory = copy_data(tmp_path)
    edit(directory, old, new)
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr


def test_a_copy_may_widen_a_class_or_a_range(tmp_path: Path) -> None:
    directory = copy_data(tmp_path)
    edit(directory, "        atc: [M01A]\n", "        atc: [M01]\n")
    edit(
        directory,
        "  M01A: anti-inflammatory",
        "  M01: anti-inflammatory and antirheumatic\n  M01A: anti-inflammatory",
    )
    edit(directory, "icd10: [E10-E14]", "icd10: [E10-E14, R73.0]")
    result = meso("data", "check", str(directory))
    assert result.exit_code == 0, result.output
