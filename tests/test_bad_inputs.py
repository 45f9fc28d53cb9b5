"""A corpus of bad patient files, data and options through the real CLI: each ends with exit 2,
one message on stderr naming the problem (and the line where there is one), no traceback, and
nothing on stdout (so `--json` output is never polluted)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.files import MAX_BYTES, packaged_data_dir

ON = "2026-11-22"
OK = b"id: P-1\nbirth_date: 1980-05-02\n"
runner = CliRunner()


@dataclass
class Case:
    id: str
    args: list[str]  # "{f}" is the file below, "{dir}" the test's temporary directory
    words: list[str]  # every one must appear in stderr
    content: bytes | None = None  # written to `name`; None: no file is written
    name: str = "patient.yaml"
    line: int | None = None  # stderr must say name:line:
    stdin: bytes | None = None
    extra: dict[str, bytes] = field(default_factory=dict)


def screen(
    content: bytes,
    words: list[str],
    line: int | None = None,
    *,
    id: str,
    name: str = "patient.yaml",
    json_out: bool = False,
) -> Case:
    args = ["screen", "{f}", "--on", ON] + (["--json"] if json_out else [])
    return Case(id, args, words, content, name, line)


def plan(*options: str, words: list[str], id: str) -> Case:
    return Case(id, ["plan", "{f}", "-p", "hair", "--on", ON, *options], words, OK)


CASES = [
    # --- the file itself ---
    Case("missing-file", ["screen", "{dir}/nope.yaml", "--on", ON], ["nope.yaml", "no such file"]),
    Case("directory", ["screen", "{dir}", "--on", ON], ["is a directory"]),
    Case("name-too-long", ["screen", "{dir}/" + "a" * 5000, "--on", ON], ["cannot read"]),
    screen(b"", ["empty"], id="empty-file"),
    screen(
        b'{"age": 30,\n "id": "P\\ud800"}',
        ["id:", "half a character"],
        2,
        id="json-lone-surrogate",
        name="patient.json",
        json_out=True,
    ),
    screen(
        b'{"age": 30,\n "\\ud800x": 1}',
        ["top level", "half a character"],
        2,
        id="json-lone-surrogate-in-a-key",
        name="patient.json",
    ),
    screen(
        b'age: 30\nconditions:\n  - {name: "eczema \\udc00"}\n',
        ["invalid Unicode"],
        3,
        id="yaml-lone-surrogate",
    ),
    screen(b"  \n\n   \n", ["empty"], id="whitespace-only"),
    screen(b"age: 30\nid: P\xe9\n", ["not UTF-8", "save the file as UTF-8"], 2, id="latin-1"),
    screen(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary"], id="binary-png"),
    screen("age: 30\n".encode("utf-16"), ["UTF-16", "UTF-8"], id="utf-16-bom"),
    screen(b"x" * (MAX_BYTES + 10), ["limit", str(MAX_BYTES)], id="very-large-file"),
    Case("empty-stdin", ["screen", "-", "--on", ON], ["<stdin>", "empty"], stdin=b""),
    # --- syntax ---
    screen(b"age: 30\nconditions: [eczema\n", ["invalid YAML"], 3, id="yaml-unclosed"),
    screen(b"age: 30\n  fever: true\n", ["invalid YAML"], 2, id="yaml-bad-indent"),
    screen(
        b'{"age": 30,\n "fever": }\n',
        ["invalid JSON", "Expecting value"],
        2,
        id="json-malformed",
        name="p.json",
    ),
    screen(
        b'{"age": 30} trailing',
        ["invalid JSON", "Extra data"],
        1,
        id="json-trailing",
        name="p.json",
    ),
    screen(
        b"age: 30\n---\nage: 31\n",
        ["more than one YAML document", "holds one"],
        2,
        id="yaml-two-documents",
    ),
    screen(
        b"---\nage: 40\n...\n---\npregnant: true\n",
        ["more than one YAML document; a file holds one"],
        4,
        id="yaml-two-explicit-documents",
    ),
    screen(
        b"# intake\n---\nage: 40\n---\n",
        ["more than one YAML document"],
        4,
        id="yaml-empty-second-document",
    ),
    screen(
        b"age: 40\n...\npregnant: true\n",
        ["more than one YAML document"],
        3,
        id="yaml-content-after-document-end",
    ),
    screen(b"age: 30\nconditions:\n\t- eczema\n", ["tab", "spaces"], 3, id="tab-indent"),
    # --- shape ---
    screen(b"eczema\n", ["expected a mapping", "got text"], 1, id="top-level-scalar"),
    screen(b"- age: 30\n", ["expected a mapping", "got a list"], 1, id="top-level-list"),
    screen(
        b'[{"age": 30}]', ["expected a mapping", "list"], id="json-top-level-array", name="p.json"
    ),
    screen(
        b"age: 30\nconditions: eczema\n",
        ["conditions", "expected a list", "[eczema]"],
        2,
        id="conditions-as-string",
    ),
    screen(
        b"age: 30\nallergies: lidocaine\n",
        ["allergies", "expected a list"],
        2,
        id="allergies-as-string",
    ),
    screen(
        b"age: 30\nmedications:\n  - [warfarin]\n",
        ["medications[0]", "expected a name"],
        3,
        id="medication-as-list",
    ),
    screen(
        b"age: 30\nsun_exposure: {from: 2027-02-01, to: 2027-02-14}\n",
        ["sun_exposure", "expected a list"],
        2,
        id="sun-exposure-mapping",
    ),
    screen(
        b"age: 30\nallergies: [1, 2]\n",
        ["allergies[0]", "expected a name"],
        2,
        id="allergies-numbers",
    ),
    # --- keys ---
    screen(
        b"age: 30\nconditons: [eczema]\n",
        ["unknown key 'conditons'", "'conditions'"],
        2,
        id="misspelled-key",
    ),
    screen(b"Age: 30\n", ["unknown key 'Age'", "did you mean 'age'"], 1, id="capitalised-key"),
    screen(
        b"age: 30\nmedications:\n  - {name: ibuprofen, last_dos: 2026-11-20}\n",
        ["medications[0]", "unknown key 'last_dos'", "'last_dose'"],
        3,
        id="misspelled-nested-key",
    ),
    screen(b"age: 30\ncolour: blue\n", ["unknown key 'colour'"], 2, id="unknown-key"),
    screen(b"age: 30\nfever: false\nage: 31\n", ["duplicate key 'age'"], 3, id="yaml-dup-key"),
    screen(
        b'{"age": 30,\n "fever": false,\n "age": 31}',
        ["duplicate key 'age'"],
        3,
        id="json-dup-key",
        name="p.json",
    ),
    screen(b"yes: 30\n", ["key yes", "quotes"], 1, id="yaml-boolean-key"),
    # --- YAML features that are refused ---
    screen(
        b"age: 30\nid: !!python/object/apply:os.system [ls]\n",
        ["tag", "not allowed"],
        2,
        id="python-tag",
    ),
    screen(b"age: !!python/name:os.system\n", ["tag", "not allowed"], 1, id="python-name-tag"),
    screen(
        b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\nage: 30\n",
        ["aliases", "not allowed"],
        2,
        id="billion-laughs",
    ),
    screen(b"base: &b {age: 30}\n<<: *b\n", ["aliases"], 2, id="merge-key"),
    screen(b"[" * 100_000, ["nested more than"], 1, id="deep-yaml-flow"),
    screen(b"- " * 100_000 + b"x\n", ["nested more than"], 1, id="deep-yaml-block"),
    screen(b"[" * 100_000, ["nested more than"], 1, id="deep-json", name="p.json"),
    # --- values ---
    screen(b"birth_date: 2026-02-30\n", ["birth_date", "not a real date"], 1, id="feb-30"),
    screen(
        b"age: 30\nconditions:\n  - {name: eczema, resolved_on: 2026-13-01}\n",
        ["conditions[0].resolved_on", "not a real date"],
        3,
        id="nested-bad-date",
    ),
    screen(
        b'{"birth_date": "1988-3-14"}',
        ["birth_date", "YYYY-MM-DD"],
        1,
        id="json-short-date",
        name="p.json",
    ),
    screen(b"birth_date: 1988\n", ["birth_date", "YYYY-MM-DD"], 1, id="year-only"),
    screen(
        b"birth_date: 1988-03-14 10:30:00\n", ["birth_date", "date only"], 1, id="date-and-time"
    ),
    screen(
        b"birth_date: 2030-01-01\n",
        ["birth_date", "after the reference date"],
        1,
        id="future-birth-date",
    ),
    screen(
        b"id: P-1\nage: 30\nbirth_date: 2000-01-01\n",
        ["age", "does not match"],
        2,
        id="age-contradicts-birth-date",
    ),
    Case(
        "plan-future-birth-date",
        ["plan", "{f}", "-p", "hair", "--on", ON],
        ["birth_date", "after the reference date"],
        b"id: P\nbirth_date: 2027-01-01\n",
        line=2,
    ),
    screen(b"birth_date: 1086-03-14\n", ["birth_date", "before 1900"], 1, id="birth-year-typo"),
    screen(b"age: 200\n", ["age", "130"], 1, id="age-too-high"),
    screen(b"age: -1\n", ["age", "0"], 1, id="age-negative"),
    screen(b"age: 30.5\n", ["age", "whole number"], 1, id="age-fraction"),
    screen(b'{"age": "30"}', ["age", "whole number"], 1, id="json-age-string", name="p.json"),
    screen(b"sex: female\n", ["birth_date or age"], 1, id="no-age"),
    screen(b"age: 30\nsex: femal\n", ["sex", "did you mean 'female'"], 2, id="sex-typo"),
    screen(
        b'{"age": 30, "pregnant": "yes"}',
        ["pregnant", "true or false"],
        1,
        id="json-yes-string",
        name="p.json",
    ),
    screen(
        b'{"age": 30,\n "pregnant": 1}',
        ["pregnant", "true or false"],
        2,
        id="json-flag-one",
        name="p.json",
    ),
    screen(b'age: 30\nfever: "no"\n', ["fever", "true or false"], 2, id="yaml-quoted-no"),
    screen(b"age: 30\nbreastfeeding: n\n", ["breastfeeding", "true or false"], 2, id="yaml-n-flag"),
    screen(b"age: 30\npregnant:\n", ["pregnant", "empty value"], 2, id="empty-flag"),
    screen(
        b'{"age": 30, "fever": null}',
        ["fever", "empty value"],
        1,
        id="json-null-flag",
        name="p.json",
    ),
    screen(b'{"age": NaN}', ["NaN"], 1, id="json-nan", name="p.json"),
    screen(b'{"age": 30,\n "id": Infinity}', ["Infinity"], 2, id="json-infinity", name="p.json"),
    screen(b'{"age": 1e999}', ["too large"], 1, id="json-huge-number", name="p.json"),
    screen(b"age: .nan\n", ["NaN and infinity"], 1, id="yaml-nan"),
    screen(
        b"age: 30\nconditions: [no]\n",
        ["conditions[0]", "unquoted no", "false"],
        2,
        id="yaml-condition-no",
    ),
    screen(
        b"age: 30\nallergies: [yes]\n",
        ["allergies[0]", "unquoted yes", "true"],
        2,
        id="yaml-allergy-yes",
    ),
    screen(
        b"age: 30\nmedications: [off]\n",
        ["medications[0]", "unquoted off"],
        2,
        id="yaml-medication-off",
    ),
    screen(b"id: 0042\nage: 30\n", ["id", "octal", "34", '"0042"'], 1, id="yaml-octal-id"),
    screen(b"age: 036\n", ["age", "octal", "30"], 1, id="yaml-octal-age"),
    screen(b"age: 30\nid: 12:30\n", ["id", "base-60"], 2, id="yaml-sexagesimal"),
    screen(b"age: 30\nid: 2026-01-01\n", ["id", "expected text", "quotes"], 2, id="yaml-id-date"),
    screen(
        b"age: 30\nsun_exposure:\n  - {from: 2027-02-14, to: 2027-02-01}\n",
        ["sun_exposure[0]", "before"],
        3,
        id="sun-reversed",
    ),
    screen(
        b"age: 30\nconditions:\n" + b"  - zorblax\n" * 201,
        ["conditions", "at most 200"],
        2,
        id="too-many-conditions",
    ),
    screen(
        b"age: 30\nallergies: [" + b"x" * 300 + b"]\n",
        ["allergies", "300 characters"],
        2,
        id="name-too-long",
    ),
    screen(
        b"age: 30\nsessions_done: [2026-11-03, 2026-11-03]\n",
        ["sessions_done", "twice"],
        2,
        id="sessions-done-twice",
    ),
    screen(b"age: 30\nconditons: [x]\n", ["unknown key"], 2, id="json-out-bad-file", json_out=True),
    # --- dates the reference date or the calendar rule out ---
    screen(
        b"age: 40\nsessions_done: [2026-11-30]\n",
        [
            "sessions_done[0]: 2026-11-30 is after the reference date 2026-11-22; "
            "list only sessions already given"
        ],
        2,
        id="session-done-after-on",
    ),
    screen(
        b"age: 40\nsessions_done:\n  - 2026-11-30\n  - 2026-11-02\n",
        ["sessions_done[0]: 2026-11-30 is after the reference date"],
        3,
        id="session-done-after-on-unsorted",
    ),
    Case(
        "plan-session-done-after-on",
        ["plan", "{f}", "-p", "hair", "--on", "2026-11-23"],
        [
            "sessions_done[0]: 2026-11-30 is after the reference date 2026-11-23; "
            "list only sessions already given"
        ],
        b"age: 40\nsessions_done: [2026-11-30]\n",
        line=2,
    ),
    screen(
        b"age: 40\nmedications:\n  - {name: ibuprofen, last_dose: 9999-12-31}\n",
        ["medications[0].last_dose: 9999-12-31 is after 2100; check the year"],
        3,
        id="last-dose-year-9999",
    ),
    screen(
        b"age: 40\nconditions: [{name: eczema, resolved_on: 1026-10-01}]\n",
        ["conditions[0].resolved_on: 1026-10-01 is before 1900; check the year"],
        2,
        id="resolved-on-year-typo",
    ),
    screen(
        b"age: 40\nsun_exposure:\n  - {from: 2027-07-01, to: 9027-07-14}\n",
        ["sun_exposure[0].to", "after 2100"],
        3,
        id="sun-exposure-year-typo",
    ),
    screen(
        b"age: 40\nsessions_done: [0001-01-01]\n",
        ["sessions_done", "before 1900"],
        2,
        id="session-done-year-1",
    ),
    # --- options ---
    Case("on-impossible", ["screen", "{f}", "--on", "2026-02-30"], ["--on", "not a real date"], OK),
    Case("on-words", ["screen", "{f}", "--on", "tomorrow", "--json"], ["--on", "YYYY-MM-DD"], OK),
    Case(
        "protocol-typo",
        ["screen", "{f}", "-p", "hiar", "--on", ON, "--json"],
        ["unknown protocol 'hiar'", "did you mean 'hair'"],
        OK,
    ),
    Case(
        "clear-typo",
        ["screen", "{f}", "--on", ON, "--clear", "anticoagulnt"],
        ["unknown rule 'anticoagulnt'", "did you mean 'anticoagulant'"],
        OK,
    ),
    Case(
        "clear-exclude-rule",
        ["screen", "{f}", "--on", ON, "--clear", "pregnancy"],
        ["--clear", "only review findings"],
        OK,
    ),
    Case("quick-age", ["screen", "--age", "200", "--on", ON], ["age", "130"]),
    Case(
        "quick-birth-date",
        ["screen", "--birth-date", "1990-02-30", "--on", ON],
        ["--birth-date", "not a real date"],
    ),
    Case(
        "quick-birth-date-year",
        ["screen", "--birth-date", "1899-12-31", "--on", ON],
        ["--birth-date '1899-12-31': 1899-12-31 is before 1900; check the year"],
    ),
    Case(
        "on-year-9999",
        ["screen", "{f}", "--on", "9999-12-20"],
        ["--on '9999-12-20': 9999-12-20 is after 2100; check the year"],
        OK,
    ),
    Case(
        "on-compact",
        ["screen", "{f}", "--on", "20261122", "--json"],
        ["--on '20261122': expected a date as YYYY-MM-DD"],
        OK,
    ),
    Case("on-week-date", ["screen", "{f}", "--on", "2026-W48-1"], ["--on", "YYYY-MM-DD"], OK),
    Case(
        "quick-medication-two-at",
        [
            "screen",
            "--age",
            "40",
            "--medication",
            "ibuprofen@2026-11-20@2026-01-01",
            "--on",
            ON,
            "--json",
        ],
        ["--medication 'ibuprofen@2026-11-20@2026-01-01'", "more than one @"],
    ),
    Case(
        "quick-medication-two-at-over-file",
        ["screen", "{f}", "--medication", "ibuprofen@@2026-11-20", "--on", ON],
        ["--medication 'ibuprofen@@2026-11-20'", "more than one @"],
        OK,
    ),
    Case(
        "quick-medication-blank",
        ["screen", "--age", "40", "--medication", "  ", "--on", ON],
        ["meso: error: --medication: empty name"],
    ),
    Case(
        "quick-medication-no-name",
        ["screen", "--age", "40", "--medication", " @2026-11-20", "--on", ON],
        ["--medication ' @2026-11-20'", "a name is needed before @"],
    ),
    Case(
        "quick-condition-no-date",
        ["screen", "--age", "40", "--condition", "eczema@", "--on", ON],
        ["--condition 'eczema@'", "a date is needed after @"],
    ),
    Case(
        "quick-medication-only-at",
        ["screen", "--age", "40", "--medication", "@", "--on", ON],
        ["--medication '@'", "a name is needed before @"],
    ),
    Case(
        "quick-medication-year",
        ["screen", "--age", "40", "--medication", "ibuprofen@9999-11-20", "--on", ON],
        ["--medication 'ibuprofen@9999-11-20'", "after 2100; check the year"],
    ),
    Case(
        "quick-medication-bad-date",
        ["screen", "--age", "40", "--medication", "ibuprofen@2026-02-30", "--on", ON],
        ["--medication 'ibuprofen@2026-02-30'", "not a real date"],
    ),
    Case(
        "quick-allergy-blank",
        ["screen", "--age", "40", "--allergy", "", "--on", ON],
        ["meso: error: --allergy: empty name"],
    ),
    Case("rules-typo", ["rules", "anticoagulnt"], ["unknown rule", "did you mean"]),
    Case("protocols-typo", ["protocols", "cellulit", "--json"], ["did you mean 'cellulite'"]),
    Case("data-dir-missing", ["rules", "--data-dir", "{dir}/nowhere"], ["nowhere", "not found"]),
    Case("data-check-missing", ["data", "check", "{dir}/nowhere"], ["not found"]),
    Case(
        "data-dir-empty",
        ["screen", "{f}", "--data-dir", "{dir}"],
        ["contraindications.yaml", "no such file"],
        OK,
    ),
    plan("--start", "2026-13-01", words=["--start", "not a real date"], id="plan-start-bad"),
    plan(
        "--start",
        "2026-11-01",
        words=["--start", "before the reference date"],
        id="plan-start-before-on",
    ),
    plan(
        "--closed",
        "2026-12-10..2026-12-01",
        words=["--closed", "ends before it begins"],
        id="plan-closed-reversed",
    ),
    plan("--closed", "2026-12-xx", words=["--closed", "YYYY-MM-DD"], id="plan-closed-bad"),
    Case(
        "plan-on-year-9999",
        ["plan", "{f}", "-p", "hair", "--on", "9999-12-20"],
        ["--on '9999-12-20': 9999-12-20 is after 2100; check the year"],
        OK,
    ),
    plan(
        "--start",
        "2101-01-04",
        words=["--start", "after 2100; check the year"],
        id="plan-start-year",
    ),
    plan(
        "--closed",
        "2026-11-23..9999-12-31",
        words=["--closed '2026-11-23..9999-12-31': 9999-12-31 is after 2100; check the year"],
        id="plan-closed-year-9999",
    ),
    plan(
        "--closed",
        "1026-11-23",
        words=["--closed", "before 1900; check the year"],
        id="plan-closed-year-typo",
    ),
    plan(
        "--closed",
        "2026-11-23..2100-12-31",
        words=[
            "no open day between 2026-11-22 and 2029-11-24",
            "the clinic is closed throughout (check --closed and --open-days)",
        ],
        id="plan-closed-throughout",
    ),
    plan(
        "--open-days",
        "sun",
        "--holidays",
        "TR",
        "--closed",
        "2026-11-22..2030-01-01",
        words=["no open day between", "closed throughout"],
        id="plan-closed-past-horizon",
    ),
    plan(
        "--open-days",
        "mon,mon",
        words=["--open-days 'mon,mon': Monday is named twice"],
        id="plan-open-days-twice",
    ),
    plan(
        "--open-days",
        "fri,tue,Friday",
        words=["Friday is named twice"],
        id="plan-open-days-twice-spelled-out",
    ),
    plan(
        "--holidays",
        "",
        words=["meso: error: --holidays: give a country code such as TR or FR"],
        id="plan-holidays-empty",
    ),
    plan("--holidays", " ", words=["--holidays: give a country code"], id="plan-holidays-blank"),
    plan(
        "--open-days",
        "mon,wdn",
        words=["weekday 'wdn'", "did you mean 'wed'"],
        id="plan-weekday-typo",
    ),
    plan("--open-days", "", words=["--open-days", "weekday"], id="plan-no-open-days"),
    plan("--holidays", "XX", words=["country 'XX'"], id="plan-holiday-country"),
    plan(
        "--clear",
        "anticoagulnt",
        "--json",
        words=["did you mean 'anticoagulant'"],
        id="plan-clear-typo",
    ),
    plan("--ics", "{f}/cal.ics", words=["cannot write", "cal.ics"], id="plan-ics-parent-file"),
    Case(
        "plan-protocol-typo",
        ["plan", "{f}", "-p", "pian", "--on", ON],
        ["unknown protocol 'pian'", "did you mean 'pain'"],
        OK,
    ),
    Case("batch-missing", ["batch", "{dir}/nope.jsonl"], ["nope.jsonl", "no such file"]),
    Case("batch-directory", ["batch", "{dir}"], ["is a directory"]),
    Case(
        "batch-protocol-typo",
        ["batch", "-", "-p", "hiar"],
        ["did you mean 'hair'"],
        stdin=b'{"age": 30}\n',
    ),
    Case(
        "batch-on-bad",
        ["batch", "-", "--on", "2026-02-30"],
        ["--on", "not a real date"],
        stdin=b'{"age": 30}\n',
    ),
    Case(
        "batch-on-year-9999",
        ["batch", "-", "--on", "9999-02-01"],
        ["--on '9999-02-01'", "after 2100; check the year"],
        stdin=b'{"age": 30}\n',
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_with_a_clear_message(case: Case, tmp_path: Path) -> None:
    target = tmp_path / case.name
    if case.content is not None:
        target.write_bytes(case.content)
    args = [a.replace("{f}", str(target)).replace("{dir}", str(tmp_path)) for a in case.args]
    result = runner.invoke(app, args, input=case.stdin, env={"NO_COLOR": "1", "COLUMNS": "100"})
    err = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.stdout, err)
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert result.stdout == "", "an error must leave stdout empty (it may be piped into jq)"
    for word in case.words:
        assert word in err, (word, err)
    if case.line is not None:
        assert f"{case.name}:{case.line}:" in err, err
    assert err.startswith("meso: error: "), err


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40


def test_bom_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark (Notepad) is dropped: the file reads as if it had none."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + OK)
    result = runner.invoke(app, ["screen", str(path), "--on", ON, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["patient_id"] == "P-1"


@pytest.mark.parametrize(
    ("text", "flag"),
    [("yes", True), ("no", False), ("on", True), ("off", False), ("True", True), ("NO", False)],
)
def test_yaml_11_yes_no_on_off_are_booleans_for_flags(
    tmp_path: Path, text: str, flag: bool
) -> None:
    """Documented: an unquoted yes/no/on/off is a boolean where a flag is expected."""
    path = tmp_path / "p.yaml"
    path.write_text(f"age: 30\npregnant: {text}\n")
    result = runner.invoke(app, ["screen", str(path), "--on", ON, "--json"])
    assert result.exit_code == (5 if flag else 0), result.output
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict == ("not_eligible" if flag else "eligible")


def test_quoted_no_as_a_condition_name_is_just_unrecognized(tmp_path: Path) -> None:
    """Quoting turns the word back into text: "no" is a name that matches nothing (review)."""
    path = tmp_path / "p.yaml"
    path.write_text('age: 30\nconditions: ["no"]\n')
    result = runner.invoke(app, ["screen", str(path), "--on", ON, "--json"])
    assert result.exit_code == 3, result.output
    finding = json.loads(result.stdout)["findings"][0]
    assert (finding["rule"], finding["matched"]) == ("unrecognized-term", "no")


def test_quoted_octal_looking_id_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text('id: "0042"\nage: 30\n')
    result = runner.invoke(app, ["screen", str(path), "--on", ON, "--json"])
    assert json.loads(result.stdout)["patient_id"] == "0042"


def test_every_problem_in_a_file_is_listed_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("age: 300\nconditons: [x]\nallergies: [yes]\n")
    result = runner.invoke(app, ["screen", str(path), "--on", ON])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("p.yaml:1: age" in line for line in lines), lines
    assert any("p.yaml:2: top level: unknown key 'conditons'" in line for line in lines), lines
    assert any("p.yaml:3: allergies[0]" in line for line in lines), lines


@pytest.mark.parametrize(
    "text",
    [
        "---\nage: 40\n",
        "---\nage: 40\n...\n",
        "%YAML 1.1\n---\nage: 40\n",
        "# intake form\n---\nage: 40\n",
        "age: 40\nfever: false\n",
    ],
)
def test_one_document_with_its_markers_is_accepted(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["screen", str(path), "--on", ON, "--json"])
    assert result.exit_code == 0, result.output


def test_two_documents_on_stdin_are_named_as_such() -> None:
    result = runner.invoke(
        app, ["plan", "-", "-p", "hair", "--on", ON], input=b"---\nage: 40\n...\n---\nfever: true\n"
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "meso: error: <stdin>:4: more than one YAML document; a file holds one\n"
    )


def test_every_date_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "age: 40\nsessions_done:\n  - 2026-11-02\n  - 2026-12-01\n"
        "medications:\n  - {name: ibuprofen, last_dose: 9999-01-01}\n"
    )
    result = runner.invoke(app, ["plan", str(path), "-p", "hair", "--on", ON])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"meso: error: {path}:4: sessions_done[1]: 2026-12-01 is after the reference date {ON}; "
        "list only sessions already given",
        f"meso: error: {path}:6: medications[0].last_dose: 9999-01-01 is after 2100; "
        "check the year",
    ]


def test_problems_found_by_different_checks_come_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("age: 30\nfoo: 1\nsex: x\nfever: maybe\n")
    result = runner.invoke(app, ["screen", str(path), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    prefix = f"meso: error: {path}:"
    assert all(line.startswith(prefix) for line in lines), lines
    assert [line.removeprefix(prefix).split(":")[0] for line in lines] == ["2", "3", "4"]


def test_sessions_done_on_or_before_the_reference_date_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"age: 40\nsessions_done: [2026-11-16, {ON}]\n")
    result = runner.invoke(app, ["plan", str(path), "-p", "hair", "--on", ON, "--json"])
    assert result.exit_code == 0, result.output
    done = [s["date"] for s in json.loads(result.stdout)["sessions"] if s["done"]]
    assert done == ["2026-11-16", ON]


def test_a_dev_zero_patient_is_refused_without_reading_forever() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    result = runner.invoke(app, ["screen", "/dev/zero", "--on", ON])
    assert result.exit_code == 2
    assert result.stderr == "meso: error: /dev/zero: is a device, expected a YAML or JSON file\n"


# --- a broken clinic data directory stops every command before any screening -------------


def _broken_data(tmp_path: Path) -> tuple[Path, int]:
    """The shipped data with one rule's action misspelled; returns the dir and that line."""
    data = tmp_path / "clinic"
    shutil.copytree(packaged_data_dir(), data)
    path = data / "contraindications.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "action: exclude")
    lines[at] = lines[at].replace("exclude", "exclud")
    path.write_text("".join(lines), encoding="utf-8")
    return data, at + 1


COMMANDS = {
    "screen": ["screen", "{p}", "--on", ON, "--json"],
    "screen-quick": ["screen", "--age", "40", "--on", ON],
    "rules": ["rules", "--json"],
    "rule": ["rules", "pregnancy"],
    "protocols": ["protocols"],
    "protocol": ["protocols", "hair", "--json"],
    "plan": ["plan", "{p}", "-p", "hair", "--on", ON, "--json"],
    "batch": ["batch", "-", "--on", ON],
    "data-check": ["data", "check", "{d}"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_broken_data_dir_stops_every_command(tmp_path: Path, command: str) -> None:
    data, line = _broken_data(tmp_path)
    patient = tmp_path / "p.yaml"
    patient.write_bytes(OK)
    args = [a.replace("{p}", str(patient)).replace("{d}", str(data)) for a in COMMANDS[command]]
    if command != "data-check":
        args += ["--data-dir", str(data)]
    result = runner.invoke(app, args, input='{"age": 30}\n')
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # nothing screened, nothing printed
    assert f"contraindications.yaml:{line}:" in result.stderr, result.stderr
    assert "action" in result.stderr and "Traceback" not in result.stderr


def test_broken_cross_reference_names_file_line_and_suggestion(tmp_path: Path) -> None:
    data = tmp_path / "clinic"
    shutil.copytree(packaged_data_dir(), data)
    path = data / "protocols.yaml"
    text = path.read_text(encoding="utf-8")
    needle = "exempt_rules: [bleeding-disorder"
    assert needle in text
    line = text[: text.index(needle)].count("\n") + 1
    path.write_text(text.replace(needle, needle[:-1], 1), "utf-8")
    result = runner.invoke(app, ["data", "check", str(data)])
    assert result.exit_code == 2
    assert f"protocols.yaml:{line}:" in result.stderr
    assert "did you mean 'bleeding-disorder'" in result.stderr
