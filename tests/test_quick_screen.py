"""Quick screens: `meso screen --age 52 --medication warfarin …` with no file, or over one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.errors import MesoError
from meso_cli.models import Patient
from meso_cli.patients import QuickOptions, quick_patient, split_dated

ON = "2026-11-22"
runner = CliRunner()


def meso(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "100"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("options", "file_text", "code"),
    [
        (
            ["--age", "52", "--medication", "warfarin", "--condition", "type 2 diabetes"],
            "age: 52\nmedications: [warfarin]\nconditions: [type 2 diabetes]\n",
            5,
        ),
        (
            [
                "--id",
                "P-1",
                "--birth-date",
                "1980-05-02",
                "--not-pregnant",
                "--not-breastfeeding",
                "--no-fever",
                "--medication",
                "ibuprofen@2026-11-20",
                "--condition",
                "herpes zoster@2026-12-10",
                "--allergy",
                "minoxidil",
            ],
            "id: P-1\nbirth_date: 1980-05-02\npregnant: false\nbreastfeeding: false\n"
            "fever: false\nmedications: [{name: ibuprofen, last_dose: 2026-11-20}]\n"
            "conditions: [{name: herpes zoster, resolved_on: 2026-12-10}]\n"
            "allergies: [minoxidil]\n",
            5,  # minoxidil is in the hair solution (000)
        ),
        (["--age", "17", "--pregnant", "--fever"], "age: 17\npregnant: true\nfever: true\n", 5),
        (["--age", "40", "--sex", "male"], "age: 40\nsex: male\n", 0),
        # A woman's pregnancy and breastfeeding left out are asked: a review.
        (["--age", "40", "--sex", "female"], "age: 40\nsex: female\n", 3),
    ],
)
def test_quick_options_give_the_same_json_as_the_equivalent_file(
    tmp_path: Path, options: list[str], file_text: str, code: int
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(file_text, encoding="utf-8")
    common = ["--protocol", "hair", "--on", ON, "--json"]
    from_file = meso("screen", str(path), *common)
    quick = meso("screen", *options, *common)
    assert from_file[0] == quick[0] == code, (from_file, quick)
    assert json.loads(quick[1]) == json.loads(from_file[1])
    assert quick[2] == ""  # nothing overridden, nothing to say


def test_no_file_and_no_age_is_a_usage_error() -> None:
    code, out, err = meso("screen", "--medication", "warfarin", "--protocol", "hair")
    assert code == 2
    assert out == ""
    assert "give a patient file, or --age or --birth-date" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--medication", "ibuprofen@last week"], "expected NAME or NAME@YYYY-MM-DD"),
        (["--condition", "@2026-12-10"], "a name is needed"),
        (["--birth-date", "02/05/1980"], "expected a date as YYYY-MM-DD"),
        (
            ["--medication", "ibuprofen@2026-11-20@2026-01-01"],
            "--medication 'ibuprofen@2026-11-20@2026-01-01': more than one @; "
            "expected NAME or NAME@YYYY-MM-DD (last dose)",
        ),
        (["--medication", "  "], "--medication: empty name"),
        (["--condition", ""], "--condition: empty name"),
        (["--allergy", " "], "--allergy: empty name"),
        (["--medication", "@"], "--medication '@': a name is needed before @"),
        (["--medication", "ibuprofen@ "], "--medication 'ibuprofen@ ': a date is needed after @"),
        (
            ["--condition", "eczema@2026-02-30"],
            "--condition 'eczema@2026-02-30': expected NAME or NAME@YYYY-MM-DD (resolved on); "
            "2026-02-30 is not a real date",
        ),
        (
            ["--medication", "ibuprofen@20261120"],
            "--medication 'ibuprofen@20261120': expected NAME or NAME@YYYY-MM-DD",
        ),
        (
            ["--medication", "ibuprofen@9999-11-20"],
            "--medication 'ibuprofen@9999-11-20': 9999-11-20 is after 2100; check the year",
        ),
        (
            ["--condition", "eczema@1026-10-01"],
            "--condition 'eczema@1026-10-01': 1026-10-01 is before 1900; check the year",
        ),
        (["--birth-date", "2101-01-01"], "--birth-date '2101-01-01': 2101-01-01 is after 2100"),
    ],
)
def test_bad_quick_options_say_what_to_type(args: list[str], message: str) -> None:
    code, out, err = meso("screen", "--age", "50", *args, "--on", ON, "--json")
    assert code == 2, err
    assert out == ""
    assert message in err, err
    assert err.startswith("meso: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("ibuprofen", {"name": "ibuprofen"}),
        (" ibuprofen @ 2026-11-20 ", {"name": "ibuprofen", "last_dose": date(2026, 11, 20)}),
        ("vitamin D@2100-12-31", {"name": "vitamin D", "last_dose": date(2100, 12, 31)}),
    ],
)
def test_name_at_date_takes_one_at_a_name_and_a_real_date(
    text: str, entry: dict[str, object]
) -> None:
    assert split_dated(text, "--medication", "last_dose") == entry


def test_a_medication_with_two_dates_is_never_dropped_as_eligible() -> None:
    """The reviewer's case: the option used to become a medication named
    'ibuprofen@2026-11-20' and the patient came out eligible."""
    code, out, err = meso(
        "screen", "--age", "40", "--medication", "ibuprofen@2026-11-20@2026-01-01", "--json"
    )
    assert (code, out) == (2, ""), err
    assert "--medication 'ibuprofen@2026-11-20@2026-01-01'" in err


def test_file_with_options_overrides_and_says_so_on_stderr_for_json(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "id: P-9\nbirth_date: 1988-03-14\nsex: male\nfever: false\n"
        "medications: [{name: ibuprofen, last_dose: 2026-11-10}, vitamin D]\n",
        encoding="utf-8",
    )
    code, out, err = meso(
        "screen", str(path), "--age", "52", "--fever", "--medication", "Ibuprofen@2026-11-20",
        "--medication", "warfarin", "--protocol", "hair", "--on", ON, "--json",
    )  # fmt: skip
    result = json.loads(out)  # stdout is JSON only
    assert code == 3  # warfarin: review outranks the deferrals
    assert result["patient_id"] == "P-9"
    assert {f["rule"] for f in result["findings"]} == {
        "anticoagulant", "nsaid-washout", "acute-infection",
    }  # fmt: skip
    washout = next(f for f in result["findings"] if f["rule"] == "nsaid-washout")
    assert washout["until"] == "2026-11-27"  # the option's last dose, not the file's
    assert err.splitlines() == [
        "meso: note: from the command line: age: 52 (the file says birth date 1988-03-14)",
        "meso: note: from the command line: fever: yes (the file says no)",
        "meso: note: from the command line: medication ibuprofen (last dose 2026-11-10) "
        "replaced by Ibuprofen (last dose 2026-11-20)",
        "meso: note: from the command line: medication warfarin added",
    ]


def test_file_with_options_says_so_in_the_human_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short path, so that the line does not wrap
    Path("p.yaml").write_text("age: 40\npregnant: false\n", encoding="utf-8")
    code, out, err = meso("screen", "p.yaml", "--pregnant", "--protocol", "hair", "--on", ON)
    assert code == 5
    assert "From the command line, over p.yaml:\n• pregnant: yes (the file says no)\n" in out
    assert "NOT ELIGIBLE" in out


def test_merge_rules() -> None:
    base = Patient.model_validate(
        {
            "age": 30,
            "conditions": ["eczema"],
            "medications": ["aspirin"],
            "allergies": ["lidocaine"],
            "sun_exposure": [{"from": "2027-01-01", "to": "2027-01-02"}],
        }
    )
    merged, notes = quick_patient(
        QuickOptions(
            birth_date=date(1990, 1, 1),
            conditions=["ECZEMA@2026-12-01", "hair loss"],
            allergies=["lidocaine"],
        ),
        base,
    )
    assert merged.age is None and merged.birth_date == date(1990, 1, 1)
    assert [(c.name, c.resolved_on) for c in merged.conditions] == [
        ("ECZEMA", date(2026, 12, 1)),
        ("hair loss", None),
    ]
    assert [m.name for m in merged.medications] == ["aspirin"]  # kept from the file
    assert [a.name for a in merged.allergies] == ["lidocaine"]  # same name: once, no note
    assert merged.sun_exposure == base.sun_exposure  # what options cannot say is kept
    assert notes == [
        "birth date: 1990-01-01 (the file says age 30)",
        "condition eczema replaced by ECZEMA (resolved on 2026-12-01)",
        "condition hair loss added",
    ]
    same, none = quick_patient(QuickOptions(age=30, allergies=["lidocaine"]), base)
    assert same == base and none == []


def test_quick_patient_refuses_what_a_file_would() -> None:
    with pytest.raises(MesoError, match="age"):
        quick_patient(QuickOptions(age=131))
    with pytest.raises(MesoError, match="give a patient file"):
        quick_patient(QuickOptions(fever=True))
