"""Hostile input through every command: text that would rewrite the screen is refused where it
comes in, naming the field and the code point, and no output for people ever carries a control
or bidirectional character. A table of hostile inputs, then every refused code point through
every text field and every command."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.files import packaged_data_dir
from meso_cli.text import unsafe_character

ON = "2026-11-22"
OK_PATIENT = "id: P-1\nbirth_date: 1980-05-02\nsex: male\n"
runner = CliRunner()
COMMAND = get_command(app)  # built once: building it is most of an invocation's time

# Every character refused in any text (meso_cli.text), and the two refused only in one line.
REFUSED = [
    chr(c)
    for c in [
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
]
LINE_ONLY = ["\t", "\n"]
ALL = REFUSED + LINE_ONLY


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def invoke(
    args: list[str], *, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """The CLI in-process, as CliRunner runs it, without rebuilding the command each time."""
    code: int = 0
    environment = {"NO_COLOR": "1", "COLUMNS": "100", "MESO_DATA_DIR": "", **(env or {})}
    with runner.isolation(input=input, env=environment) as (out, err, _):
        try:
            COMMAND.main(args=args, prog_name="meso")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(
            code,
            out.getvalue().decode("utf-8", "replace"),
            err.getvalue().decode("utf-8", "replace"),
        )


def clean(text: str) -> bool:
    """No refused character; the CRLF line ends of a calendar are its layout."""
    return unsafe_character(text.replace("\r\n", "\n"), single_line=False) is None


def assert_clean(result: Outcome) -> None:
    assert clean(result.stdout), repr(result.stdout[:400])
    assert clean(result.stderr), repr(result.stderr[:400])


def one_error(result: Outcome, *words: str) -> str:
    """Exit 2, one line on stderr, nothing on stdout, every word in the line."""
    assert result.code == 2, (result.code, result.stdout[:300], result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("meso: error: "), result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert_clean(result)
    return lines[0]


def yaml_text(text: str) -> str:
    """`text` as a YAML double-quoted scalar, every character spelt as an escape: a JSON
    string is one."""
    return json.dumps(text)


def copy_data(root: Path, name: str = "data") -> Path:
    target = root / name
    shutil.copytree(packaged_data_dir(), target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def hostile_copy(root: Path, char: str, name: str = "data") -> Path:
    """A clinic's copy with `char` in a rule's title, a term's name and a protocol's name
    (one-line fields) and in a rule's rationale (running text)."""
    directory = copy_data(root, name)
    contra, protos = directory / "contraindications.yaml", directory / "protocols.yaml"
    edit(contra, "title: Under 18 years of age\n", f"title: {yaml_text('Under 18' + char)}\n")
    edit(
        contra, "names: [ibuprofen, advil,", f"names: [ibuprofen, {yaml_text('ib' + char)}, advil,"
    )
    edit(protos, "    name: Hair loss\n", f"    name: {yaml_text('Hair' + char)}\n")
    text = contra.read_text(encoding="utf-8")
    at = text.index("    rationale:", text.index("id: age-over-75"))
    end = text.index("\n    advice:", at)
    contra.write_text(
        text[:at] + f"    rationale: {yaml_text('Older' + char + 'skin')}" + text[end:],
        encoding="utf-8",
    )
    return directory


# --- a table of hostile inputs, across every command --------------------------------------


@dataclass
class Case:
    id: str
    args: list[str]  # "{f}" the file below, "{dir}" the test's directory, "{data}" a data copy
    file: bytes | None = None
    words: list[str] = field(default_factory=list)  # for an error: each is in the one line
    codes: tuple[int, ...] = ()  # a correct result: one of these exit codes (else: exit 2)
    stdin: bytes | None = None
    check: Callable[[Outcome], None] | None = None  # more to check of a correct result
    setup: Callable[[Path], None] | None = None


def yaml_patient(**fields: str) -> bytes:
    body = {**fields, "birth_date": "1980-05-02", "sex": "male"}
    return "".join(f"{k}: {v}\n" for k, v in body.items()).encode("utf-8")


def screen(file: bytes, *words: str, id: str, name: str = "p.yaml") -> Case:
    return Case(id, ["screen", "{dir}/" + name, "--on", ON], file, list(words))


Check = Callable[[Outcome], None] | None


def quick(*args: str, words: list[str] | None = None, codes: tuple[int, ...] = (), id: str) -> Case:
    return Case(id, ["screen", "--on", ON, *args], words=words or [], codes=codes)


def plan(
    *args: str,
    words: list[str] | None = None,
    codes: tuple[int, ...] = (),
    id: str,
    check: Check = None,
) -> Case:
    command = ["plan", "{f}", "-p", "hair", "--on", ON, *args]
    return Case(id, command, OK_PATIENT.encode(), words or [], codes, check=check)


def handout(
    *args: str,
    words: list[str] | None = None,
    codes: tuple[int, ...] = (),
    id: str,
    check: Check = None,
) -> Case:
    command = ["handout", "{f}", "-p", "hair", "--on", ON, *args]
    return Case(id, command, OK_PATIENT.encode(), words or [], codes, check=check)


def batch(lines: bytes, *words: str, id: str, args: tuple[str, ...] = ()) -> Case:
    def each_line_has_its_answer(result: Outcome) -> None:
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(out) == lines.count(b"\n")
        errors = " ".join(str(line.get("error", "")) for line in out)
        for word in words:
            assert word in errors, (word, errors)
        assert len(result.stderr.splitlines()) == 1  # the counts

    return Case(
        id,
        ["batch", "{f}", "--on", ON, *args],
        lines,
        codes=(6,),
        check=each_line_has_its_answer,
    )


def json_of(key: str, value: object) -> Callable[[Outcome], None]:
    def check(result: Outcome) -> None:
        assert json.loads(result.stdout)[key] == value

    return check


def starts(text: str) -> Callable[[Outcome], None]:
    def check(result: Outcome) -> None:
        assert result.stdout.startswith(text), result.stdout[:200]

    return check


def shows(*texts: str) -> Callable[[Outcome], None]:
    """Each text appears as it was written: Rich read no markup or emoji code in it."""

    def check(result: Outcome) -> None:
        flat = " ".join(result.stdout.split())
        for text in texts:
            assert text in flat, (text, result.stdout[:2000])

    return check


def fifo(name: str) -> Callable[[Path], None]:
    return lambda d: os.mkfifo(d / name)


def symlink(name: str, to: str) -> Callable[[Path], None]:
    return lambda d: (d / name).symlink_to(to)


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        with open(d / name, "wb") as handle:
            handle.truncate(size)

    return make


def in_copy(name: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
    """The data copy's file `name` replaced by what `make` puts at its path."""

    def replace(d: Path) -> None:
        path = d / "data" / name
        path.unlink()
        make(path)

    return replace


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def copy_edit(name: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda d: edit(d / "data" / name, old, new)


BIG = "9" * 5000
HAIR_LITE = """  - id: hair-lite
    name: Hair light
    indications: [hair loss]
    injects: true
    needle_depth_mm: {min: 1, max: 4}
    ingredients: [vitamins]
    exempt_rules: [pregnancy]
    phases:
      - id: weekly
        name: Weekly sessions
        sessions: {min: 1, default: 8, max: 8}
        interval_days: {min: 7, target: 7, max: 14}
        sources: [001_8b0821896358e5d6.txt]
    results: Thicker hair.
    sources: [001_8b0821896358e5d6.txt]
"""

CASES = [
    # --- screen: a patient file -------------------------------------------------------------
    screen(yaml_patient(id='"P-\\e[2J"'), "p.yaml:1: id: control character U+001B", id="esc-id"),
    screen(
        yaml_patient(id='"P-\\u202eELBIGILE\\u202c"'),
        "id: bidirectional control U+202E",
        id="rlo-id",
    ),
    screen(
        yaml_patient(conditions='["diabetes\\e[5A\\e[1G\\e[2K\\e[32m✓ ELIGIBLE\\e[0m"]'),
        "conditions[0].name: control character U+001B",
        id="fake-verdict",
    ),
    screen(yaml_patient(conditions='["eczema\\x9b2J"]'), "control character U+009B", id="csi-c1"),
    screen(yaml_patient(medications='["warfarin\\x7f"]'), "U+007F", id="del-medication"),
    screen(
        yaml_patient(allergies='["latex\\0"]'),
        "allergies[0].name: control character U+0000",
        id="nul",
    ),
    screen(yaml_patient(id='"P\\n1"'), "id: line break U+000A", id="newline-id"),
    screen(yaml_patient(conditions='["a\\tb"]'), "tab U+0009", id="tab-name"),
    screen(yaml_patient(medications='[{name: "x\\u2066y"}]'), "U+2066", id="isolate"),
    screen(yaml_patient(conditions='["a\\b\\b\\bb"]'), "U+0008", id="backspace"),
    screen(yaml_patient(id='"\\e]0;owned\\a"'), "U+001B", id="window-title"),
    screen(yaml_patient(id='"P\\r1"'), "carriage return U+000D", id="cr"),
    screen(yaml_patient(id='"P\\u0085"'), "U+0085", id="nel"),
    screen(b"id: P-\x1b[2J1\nage: 40\n", "p.yaml:1: id: control character U+001B", id="raw-esc"),
    screen(b"age: 40\n# \x1b[2J\n", "p.yaml:2: control character U+001B", id="raw-esc-comment"),
    screen(b"age: 40\nconditions: [a\xc2\x9bb]\n", "p.yaml:2:", "U+009B", id="raw-c1"),
    screen(b'{"age": 40,\n "id": "a\x1bb"}', "p.json:2: id: control", id="raw-json", name="p.json"),
    screen(yaml_patient(id='" "'), "id: an id of spaces only", id="blank-id"),
    screen(yaml_patient(id='""'), "id:", id="empty-id"),
    Case(
        "padded-id",
        ["screen", "{f}", "--on", ON, "--json"],
        yaml_patient(id='"  P-1  "'),
        codes=(0,),
        check=json_of("patient_id", "P-1"),
    ),
    Case(
        "line-separator-id",
        ["screen", "{f}", "--on", ON, "--json"],
        yaml_patient(id='"A\\u2028B"'),
        codes=(0,),
        check=json_of("patient_id", "A\u2028B"),
    ),
    screen(
        f"age: {BIG}\n".encode(),
        "age: a 5000-digit number is not a whole number 0–130",
        id="age-digits-yaml",
    ),
    screen(
        f'{{"age": {BIG}}}'.encode(),
        "not a whole number 0–130",
        id="age-digits-json",
        name="p.json",
    ),
    screen(b"age: -1\n", "age: -1 is not a whole number 0–130", id="age-negative"),
    screen(b"age: 131\n", "not a whole number 0–130", id="age-131"),
    screen(b"age: 30.0\n", "not a whole number 0–130", id="age-float"),
    screen(b'age: "30"\n', "not a whole number 0–130", id="age-text"),
    screen(b"age: true\n", "not a whole number 0–130", id="age-bool"),
    screen(
        b"birth_date: 1990-01-01\nsessions_done: [1985-06-01]\n",
        "p.yaml:2: sessions_done[0]: 1985-06-01 is before the birth date 1990-01-01",
        id="session-before-birth",
    ),
    screen("age: 40\n".encode("utf-32"), "UTF-32", id="utf-32"),
    screen(
        "age: 40\n".encode("utf-32-be").join([b"\x00\x00\xfe\xff", b""]), "UTF-32", id="utf-32-be"
    ),
    screen("age: 40\n".encode("utf-16"), "UTF-16", id="utf-16"),
    Case("fifo", ["screen", "{dir}/pipe", "--on", ON], words=["FIFO"], setup=fifo("pipe")),
    Case("dev-zero", ["screen", "/dev/zero", "--on", ON], words=["is a device"]),
    Case(
        "link-zero",
        ["screen", "{dir}/z.yaml", "--on", ON],
        words=["is a device"],
        setup=symlink("z.yaml", "/dev/zero"),
    ),
    Case(
        "sparse-3g",
        ["screen", "{dir}/big.yaml", "--on", ON],
        words=["file is 3221225472 bytes; the limit is 1048576"],
        setup=sparse("big.yaml", 3 << 30),
    ),
    Case(
        "stdin-esc",
        ["screen", "-", "--on", ON],
        stdin=b'age: 40\nid: "\\e"\n',
        words=["<stdin>:2: id:"],
    ),
    # --- screen: quick-screen options and arguments ----------------------------------------
    quick("--age", "40", "--id", "\x1b[2J", words=["--id: control character U+001B"], id="opt-id"),
    quick(
        "--age",
        "40",
        "--condition",
        "a\u202eb",
        words=["--condition: bidirectional"],
        id="opt-cond",
    ),
    quick("--age", "40", "--medication=war\x9bfarin", words=["--medication: control"], id="opt-eq"),
    quick(
        "--age",
        "40",
        "--allergy",
        "latex\x7f",
        words=["--allergy: control character U+007F"],
        id="opt-allergy",
    ),
    quick("--age", "40", "--id", "   ", words=["id: an id of spaces only"], id="opt-blank-id"),
    quick(
        "--age",
        BIG,
        words=["--age: a 5000-digit number is not a whole number 0–130"],
        id="opt-age-digits",
    ),
    quick("--age", "-1", words=["not a whole number 0–130"], id="opt-age-negative"),
    quick("--age", "forty", words=["not a whole number 0–130"], id="opt-age-word"),
    quick(
        "--age",
        "40",
        "--pregnant",
        "--not-pregnant",
        words=["--pregnant and --not-pregnant contradict"],
        id="pregnant-both",
    ),
    quick(
        "--age",
        "40",
        "--not-breastfeeding",
        "--breastfeeding",
        words=["contradict"],
        id="breastfeeding-both",
    ),
    quick(
        "--age", "40", "--fever", "--no-fever", words=["--fever and --no-fever"], id="fever-both"
    ),
    quick("--age", "40", "--pregnant", "--pregnant", codes=(5,), id="pregnant-twice"),
    quick("--age", "40", "-p", "ha\x1bir", words=["-p: control character"], id="opt-protocol"),
    quick("--age", "40", "-pha\x1bir", words=["-p: control character"], id="opt-protocol-attached"),
    quick(
        "--age", "40", "--clear", "anticoagulant\n", words=["--clear: line break"], id="opt-clear"
    ),
    quick("--age", "40", "--on", "2026-11-22\t", words=["--on: tab"], id="opt-on"),
    Case("path-newline", ["screen", "{dir}/p\nq.yaml"], words=["PATIENT: line break U+000A"]),
    Case("path-esc", ["screen", "--", "{dir}/\x1b[2J.yaml"], words=["PATIENT: control character"]),
    Case(
        "data-dir-esc",
        ["screen", "--age", "40", "--data-dir", "/tmp/\x1b]0;x"],
        words=["--data-dir:"],
    ),
    # --- plan --------------------------------------------------------------------------------
    plan("--ics", "", words=["--ics: empty file name"], id="ics-empty"),
    plan("--ics", "-", "--json", words=["both write to standard output"], id="ics-dash-json"),
    plan("--ics", "-", codes=(0,), id="ics-dash", check=starts("BEGIN:VCALENDAR\r\n")),
    plan("--ics", "{dir}", words=["is a directory"], id="ics-directory"),
    plan("--ics", "{dir}/\x1b[2J.ics", words=["--ics: control character"], id="ics-name-esc"),
    plan("--open-days", "mon,\x1bwed", words=["--open-days: control"], id="open-days"),
    plan("--closed", "2026-12-01\u2067", words=["--closed: bidirectional"], id="closed"),
    plan("--holidays", "T\x9bR", words=["--holidays: control"], id="holidays"),
    plan("--ics", "x.ics", "--time", "10:\x1b30", words=["--time: control"], id="time"),
    plan("--start", "2026-12-01\t", words=["--start: tab"], id="start"),
    Case(
        "plan-hostile-file",
        ["plan", "{f}", "-p", "hair"],
        yaml_patient(id='"\\e[31m"'),
        ["id: control"],
    ),
    # --- handout -----------------------------------------------------------------------------
    handout(
        "--clinic", "Ada\x1b[8m", words=["--clinic: control character U+001B"], id="clinic-esc"
    ),
    handout(
        "--phone",
        "555\n\n1. Stop your blood thinner",
        words=["--phone: line break"],
        id="phone-newline",
    ),
    handout("--clinic", "Clinic \u202eadA", words=["--clinic: bidirectional"], id="clinic-rlo"),
    handout("-o", "", words=["-o: empty file name"], id="handout-empty-name"),
    handout("-o", "-", codes=(0,), id="handout-dash", check=starts("# Your mesotherapy course")),
    handout(
        "-o",
        "-",
        "--format",
        "html",
        codes=(0,),
        id="handout-dash-html",
        check=starts("<!DOCTYPE html>"),
    ),
    handout("-o", "{dir}/x.txt", words=["name a .md or .html file"], id="handout-suffix"),
    handout("--clinic", "A & B <b>x</b>", "-o", "-", codes=(0,), id="handout-markup"),
    Case(
        "handout-hostile-file",
        ["handout", "{f}", "-p", "hair"],
        yaml_patient(id='"\\u202e"'),
        ["U+202E"],
    ),
    # --- batch -------------------------------------------------------------------------------
    batch(b'{"age": 40, "id": "P\\u001b"}\n', "id: control character U+001B", id="batch-esc"),
    batch(b'{"age": 40, "id": "P\x1b"}\n', "id: control character U+001B", id="batch-raw-esc"),
    batch(
        b'{"age": 40}\n{"age": 41}\n\xef\xbb\xbf{"age": 42}\n',
        "byte-order mark (BOM, U+FEFF)",
        id="batch-bom-line-3",
    ),
    batch(f'{{"age": {BIG}}}\n'.encode(), "not a whole number 0–130", id="batch-age-digits"),
    batch(b'{"age": 40, "id": "  "}\n', "an id of spaces only", id="batch-blank-id"),
    batch(
        b'{"age": 40, "allergies": ["a\\u202db"]}\n',
        "allergies[0].name: bidirectional",
        id="batch-bidi",
    ),
    batch(b'{"age": 40, "conditions": ["a\\tb"]}\n', "tab U+0009", id="batch-tab"),
    batch(
        b'{"birth_date": "1990-01-01", "sessions_done": ["1980-01-01"]}\n',
        "before the birth date",
        id="batch-session-before-birth",
    ),
    Case("batch-dev-zero", ["batch", "/dev/zero"], words=["/dev/zero: is a device"]),
    Case("batch-name", ["batch", "{dir}/\x1b.jsonl"], words=["FILE: control character"]),
    Case(
        "batch-protocol", ["batch", "-", "-p", "\u2066hair"], words=["-p: bidirectional"], stdin=b""
    ),
    # --- intake ------------------------------------------------------------------------------
    Case("intake-empty-name", ["intake", "-o", ""]),  # one line, whatever comes first
    Case("intake-dash", ["intake", "-o", "-"], words=["give a file name"]),
    Case("intake-name-esc", ["intake", "-o", "p\x1b.yaml"], words=["-o: control character"]),
    Case(
        "intake-no-terminal",
        ["intake", "-o", "{dir}/p.yaml"],
        words=["needs a terminal"],
        stdin=b"y\n",
    ),
    # --- rules, protocols, data check, schema ------------------------------------------------
    Case("rules-esc", ["rules", "anti\x1bcoagulant"], words=["RULE_ID: control character"]),
    Case("rules-bidi", ["rules", "\u202eanticoagulant"], words=["RULE_ID: bidirectional"]),
    Case(
        "rules-hostile-copy",
        ["rules", "--data-dir", "{data}"],
        words=["rules[0].title: control character U+001B"],
        setup=copy_edit(
            "contraindications.yaml", "title: Under 18 years of age\n", 'title: "Under\\e[2J"\n'
        ),
    ),
    Case(
        "rules-markup-copy",
        ["rules", "--data-dir", "{data}"],
        codes=(0,),
        setup=copy_edit(
            "contraindications.yaml",
            "title: Over 75 years of age\n",
            'title: "[link=https://x.example]Over 75[/link] :pill:"\n',
        ),
        check=shows("[link=https://x.example]", ":pill:"),
    ),
    Case(
        "markup-in-a-name",
        ["screen", "{f}", "--on", ON],
        yaml_patient(id='"[bold]P-1[/bold]"', conditions='["acne [link=https://x.example]x"]'),
        codes=(3,),
        check=shows("[bold]P-1[/bold]", "acne [link=https://x.example]x"),
    ),
    Case("protocols-esc", ["protocols", "ha\x1bir"], words=["PROTOCOL_ID: control"]),
    Case(
        "protocols-hostile-copy",
        ["protocols", "--data-dir", "{data}"],
        words=["protocols[0].name: bidirectional control U+202E"],
        setup=copy_edit("protocols.yaml", "    name: Hair loss\n", '    name: "\\u202eHair"\n'),
    ),
    Case(
        "copy-raw-esc",
        ["data", "check", "{data}"],
        words=["contraindications.yaml:", "rules[0].title: control character U+001B"],
        setup=copy_edit(
            "contraindications.yaml", "title: Under 18 years of age\n", "title: Under \x1b[2J18\n"
        ),
    ),
    Case(
        "copy-advice-tab",
        ["data", "check", "{data}"],
        codes=(0,),
        setup=copy_edit(
            "contraindications.yaml",
            "advice: Do not treat before the 18th birthday.\n",
            'advice: "Do not treat\\tbefore the 18th birthday.\\nAsk again then."\n',
        ),
    ),
    Case(
        "copy-term-newline",
        ["data", "check", "{data}"],
        words=["names[1]: line break U+000A"],
        setup=copy_edit(
            "contraindications.yaml",
            "names: [ibuprofen, advil,",
            'names: [ibuprofen, "a\\nb", advil,',
        ),
    ),
    Case(
        "copy-hair-lite",
        ["data", "check", "{data}"],
        words=["protocol 'hair-lite' may not be exempt from rule 'pregnancy'"],
        setup=lambda d: append(d / "data" / "protocols.yaml", HAIR_LITE),
    ),
    Case(
        "copy-fifo",
        ["data", "check", "{data}"],
        words=["protocols.yaml: is a FIFO"],
        setup=in_copy("protocols.yaml", os.mkfifo),
    ),
    Case(
        "copy-dev-zero",
        ["data", "check", "{data}"],
        words=["protocols.yaml: is a device"],
        setup=in_copy("protocols.yaml", lambda p: p.symlink_to("/dev/zero")),
    ),
    Case(
        "copy-sparse-3g",
        ["data", "check", "{data}"],
        words=["protocols.yaml: file is 3221225472 bytes; the limit is 1048576"],
        setup=in_copy("protocols.yaml", lambda p: sparse(p.name, 3 << 30)(p.parent)),
    ),
    Case("data-check-name", ["data", "check", "{dir}/a\nb"], words=["DIRECTORY: line break"]),
    Case("schema-esc", ["schema", "patient\x1b"], words=["NAME: control character"]),
    Case("schema-bidi", ["schema", "\u202epatient"], words=["NAME: bidirectional"]),
    Case("schema-ok", ["schema", "patient"], codes=(0,)),
    # --- clear, session, profile, and the fields they write -----------------------------------
    screen(yaml_patient(name='"Ada\\e[2J"'), "name: control character U+001B", id="name-esc"),
    screen(
        yaml_patient(
            clearances='[{rule: anticoagulant, by: "Dr\\u202eX", "on": 2026-11-01, reason: ok}]'
        ),
        "clearances[0].by: bidirectional control U+202E",
        id="clearance-by",
    ),
    screen(
        yaml_patient(conditions='[{code: {system: icd10, value: "E11\\e"}}]'),
        "U+001B",
        id="code-value",
    ),
    Case(
        "clear-by",
        ["clear", "{f}", "anticoagulant", "--by", "Dr\x1b[8m", "--reason", "ok"],
        OK_PATIENT.encode(),
        ["--by: control character U+001B"],
    ),
    Case(
        "clear-reason",
        ["clear", "{f}", "anticoagulant", "--reason", "ok\n\n1. Stop"],
        OK_PATIENT.encode(),
        ["--reason: line break U+000A"],
    ),
    Case(
        "session-date",
        ["session", "add", "{f}", "2026-11-20\u202e"],
        OK_PATIENT.encode(),
        ["DAY: bidirectional control U+202E"],
    ),
    quick("--age", "40", "--save", "-", words=["--save '-': give a file name"], id="save-dash"),
    quick("--age", "40", "--save", "", words=["--save '': give a file name"], id="save-empty"),
    Case(
        "profile-init",
        ["profile", "init", "{dir}/c.toml", "--clinic", "Ada\x9b"],
        words=["--clinic:"],
    ),
    Case(
        "profile-file",
        ["screen", "{f}", "--on", ON, "--profile", "{dir}/c.toml"],
        OK_PATIENT.encode(),
        ["c.toml", "U+001B"],
        setup=lambda d: append(d / "c.toml", '[clinic]\nname = "Ada\\u001b[2J"\n'),
    ),
    # --- the command line itself -------------------------------------------------------------
    Case("unknown-command", ["scr\x1b[2Jeen"], words=["No such command"]),
    Case(
        "unknown-option",
        ["screen", "--age", "40", "--bo\u202egus"],
        words=["option: bidirectional"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_in_one_line_or_handled(case: Case, tmp_path: Path) -> None:
    if any("{data}" in a for a in case.args) or (case.setup and case.id.startswith("copy-")):
        copy_data(tmp_path)
    if case.setup is not None:
        case.setup(tmp_path)
    name = case.args[1] if len(case.args) > 1 and "{dir}/" in case.args[1] else ""
    target = tmp_path / (
        Path(name).name if name else ("p.json" if case.file and case.file[:1] == b"{" else "p.yaml")
    )
    if case.file is not None:
        target.write_bytes(case.file)
    args = [
        a.replace("{f}", str(target))
        .replace("{dir}", str(tmp_path))
        .replace("{data}", str(tmp_path / "data"))
        for a in case.args
    ]
    result = invoke(args, input=case.stdin)
    if case.codes:
        assert result.code in case.codes, (result.code, result.stdout[:300], result.stderr)
        assert_clean(result)
        if case.check is not None:
            case.check(result)
    else:
        one_error(result, *case.words)


def test_the_table_covers_every_command_with_eighty_inputs() -> None:
    assert len(CASES) >= 80
    commands = {c.args[0] for c in CASES}
    assert {
        "screen",
        "plan",
        "handout",
        "batch",
        "intake",
        "rules",
        "protocols",
        "data",
        "schema",
    } <= commands


# --- every refused code point, through every text field and every command ---------------


def _named(result: Outcome, char: str, *fields: str) -> None:
    """Exit 2; each field is named with the code point; nothing raw anywhere."""
    assert result.code == 2, (result.code, result.stdout[:200], result.stderr)
    point = f"U+{ord(char):04X}"
    for name in fields:
        assert any(name in line and point in line for line in result.stderr.splitlines()), (
            name,
            result.stderr,
        )
    assert_clean(result)


@pytest.mark.parametrize("char", ALL, ids=[f"U+{ord(c):04X}" for c in ALL])
def test_every_refused_character_in_every_field_of_every_command(char: str, tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    x = yaml_text
    patient.write_text(
        f"id: {x('P' + char + '1')}\nbirth_date: 1980-05-02\nsex: male\n"
        f"conditions: [{x('eczema' + char)}, {{name: {x('acne' + char)}}}]\n"
        f"medications: [{x('warfarin' + char)}, {{name: {x(char + 'x')}, last_dose: 2026-11-01}}]\n"
        f"allergies: [{x('latex' + char)}]\nname: {x('Ada' + char)}\n"
        f"clearances: [{{rule: anticoagulant, by: {x('Dr' + char)}, 'on': 2026-11-01, "
        f"reason: {x('ok' + char)}}}]\n",
        encoding="utf-8",
    )
    fields = (
        "name:",
        "clearances[0].by",
        "clearances[0].reason",
        "id:",
        "conditions[0]",
        "conditions[1].name",
        "medications[0]",
        "medications[1].name",
        "allergies[0]",
    )
    for command in (["screen"], ["plan", "-p", "hair"], ["handout", "-p", "hair"]):
        _named(invoke([*command, str(patient), "--on", ON]), char, *fields)

    # batch: each field on its own line, each line its own error naming it
    lines = [
        {"age": 40, "id": "P" + char},
        {"age": 40, "conditions": ["a" + char]},
        {"age": 40, "conditions": [{"name": "a" + char}]},
        {"age": 40, "medications": [{"name": "a" + char}]},
        {"age": 40, "allergies": [char]},
    ]
    result = invoke(["batch", "-", "--on", ON], input="".join(json.dumps(v) + "\n" for v in lines))
    assert result.code == 6, result.stderr
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()]
    assert len(errors) == len(lines) and all(f"U+{ord(char):04X}" in e for e in errors), errors
    assert_clean(result)

    # every text option and argument, as one line each
    options = [
        ["screen", "--age", "40", "--id", "P" + char],
        ["screen", "--age", "40", "--condition", "a" + char],
        ["screen", "--age", "40", "--medication", "a" + char],
        ["screen", "--age", "40", "--allergy", char],
        ["screen", str(tmp_path / ("p" + char + ".yaml"))],
        ["handout", str(patient), "-p", "hair", "--clinic", "Ada" + char],
        ["handout", str(patient), "-p", "hair", "--phone", "555" + char],
        ["plan", str(patient), "-p", "hair", "--open-days", "mon" + char],
        ["plan", str(patient), "-p", "hair", "--ics", "c" + char + ".ics"],
        ["batch", "-", "-p", "hair" + char],
        ["intake", "-o", "p" + char + ".yaml"],
        ["rules", "anticoagulant" + char],
        ["protocols", "hair" + char],
        ["data", "check", "d" + char],
        ["schema", "patient" + char],
        ["clear", str(patient), "anticoagulant", "--by", "Dr" + char, "--reason", "ok"],
        ["session", "add", str(patient), "--on", ON + char],
        ["profile", "init", str(tmp_path / "c.toml"), "--phone", "555" + char],
    ]
    for args in options:
        one_error(invoke(args), f"U+{ord(char):04X}")

    # a clinic's data copy: one-line fields refuse it; running text allows tab and line breaks
    directory = hostile_copy(tmp_path, char)
    result = invoke(["data", "check", str(directory)])
    named = ["rules[0].title", "names[1]", "protocols[0].name"]
    if char not in LINE_ONLY:
        named.append("rationale")
    _named(result, char, *named)
    if char in LINE_ONLY:
        assert "rationale" not in result.stderr
