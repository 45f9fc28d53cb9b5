"""`meso batch`: one output line per input line, in order; bad lines reported, the run goes on."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from meso_cli import __version__
from meso_cli.cli import app
from meso_cli.models import PlanLine

ROOT = Path(__file__).resolve().parent.parent
ON = "2026-11-22"

runner = CliRunner()

PATIENTS: list[dict[str, Any]] = [
    {
        "id": "P-1",
        "birth_date": "1988-03-14",
        "sex": "female",
        "pregnant": False,
        "breastfeeding": False,
        "conditions": ["thinning hair"],
    },
    {"id": "P-2", "age": 52, "medications": ["Coumadin"], "allergies": ["lidocaine"]},
    {
        "id": "P-3",
        "age": 30,
        "sex": "male",
        "medications": [{"name": "ibuprofen", "last_dose": "2026-11-20"}],
    },
    {"id": "P-4", "age": 16, "pregnant": False},
    {"id": "P-5", "age": 44, "conditions": ["Type 2 diabetes", "zorblaxitis"]},
    {
        "id": "P-6",
        "age": 61,
        "sex": "male",
        "conditions": [{"name": "eczema", "resolved_on": "2026-12-10"}],
    },
    {"id": "P-7", "birth_date": "1950-01-01", "fever": True},
    {
        "id": "P-8",
        "age": 35,
        "sex": "male",
        "sun_exposure": [{"from": "2027-02-01", "to": "2027-02-14"}],
    },
]
BAD_LINES = [
    "",
    "   ",
    '{"id": "cut", "age": 4',
    "[1, 2]",
    '"a string"',
    "null",
    '{"age": 40, "age": 41}',
    '{"age": NaN}',
    '{"age": 40, "colour": "blue"}',
    '{"id": "no-age"}',
    '{"age": "forty"}',
    '{"birth_date": 1988, "age": 3}',
]


def compact(text: str) -> str:
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


def numbered(line: str) -> tuple[int, dict[str, Any]]:
    """An output line's `line`, and the rest of it."""
    record = json.loads(line)
    return record.pop("line"), record


def error_of(line: str) -> str:
    record = json.loads(line)
    assert set(record) == ERROR_KEYS, record
    message: str = record["error"]
    return message


ERROR_KEYS = {"line", "patient_id", "error", "data_version", "schema_version", "meso_version"}


def batch(path: Path, *args: str) -> tuple[int, list[str], str]:
    result = runner.invoke(app, ["batch", str(path), "--on", ON, *args])
    # JSON Lines ends a line at "\n" only: str.splitlines would also break at U+2028 or U+0085
    # inside a JSON string and make a good output line look cut in two.
    return result.exit_code, result.stdout.split("\n")[:-1], result.stderr


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    found = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(found)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """10,000 lines, good patients with bad lines scattered through them."""
    rng = random.Random(5)
    lines: list[str] = []
    bad: dict[int, str] = {}
    for number in range(1, 10_001):
        if rng.random() < 0.03 or number in (1, 10_000):
            text = rng.choice(BAD_LINES)
            bad[number] = text
        else:
            patient = dict(rng.choice(PATIENTS), id=f"P-{number}")
            text = json.dumps(patient)
        lines.append(text)
    path = write_lines(tmp_path_factory.mktemp("batch") / "big.jsonl", lines)
    return path, bad


def test_ten_thousand_lines_give_ten_thousand_in_order_with_errors_in_place(
    big_file: tuple[Path, dict[int, str]],
) -> None:
    path, bad = big_file
    code, out, err = batch(path, "--protocol", "hair", "--jobs", "2")
    assert code == 6, err
    assert len(out) == 10_000
    for number, line in enumerate(out, start=1):
        record = json.loads(line)
        if number in bad:
            assert record["line"] == number and record["error"], (number, bad[number], record)
        else:
            assert "error" not in record, (number, record)
            assert record["patient_id"] == f"P-{number}"
    assert f"{len(bad)} errors" in err
    assert "10000 lines" in err


def test_jobs_one_and_two_give_identical_output(tmp_path: Path) -> None:
    rng = random.Random(7)
    lines = [
        rng.choice(BAD_LINES) if i % 37 == 0 else json.dumps(dict(rng.choice(PATIENTS), id=str(i)))
        for i in range(1, 1201)
    ]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    one = batch(path, "--protocol", "hair", "--jobs", "1")
    two = batch(path, "--protocol", "hair", "--jobs", "2")
    assert one[0] == two[0] == 6
    assert one[1] == two[1]
    assert len(one[1]) == 1200


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_chunks_spread_over_workers_come_back_in_input_order(jobs: int) -> None:
    # Threads stand in for worker processes: the same hand-out of chunks, without forking.
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date

    from meso_cli import batch as engine
    from meso_cli.data import load_dataset
    from meso_cli.files import packaged_data_dir
    from meso_cli.screening import Screener

    data = load_dataset(packaged_data_dir())
    job = engine.Job(Screener(data), data.protocol("hair"), date(2026, 11, 22))
    lines = [json.dumps({"id": str(i), "age": 18 + i % 70}).encode() for i in range(4_345)]

    def threads(n: int, job: engine.Job) -> Any:
        assert n == jobs
        return ThreadPoolExecutor(n, initializer=engine._init_worker, initargs=(job,))

    serial = list(engine.run(iter(lines), job, jobs=1))
    shared = list(engine.run(iter(lines), job, jobs=jobs, pool_factory=threads))
    assert shared == serial
    written = b"".join(text for text, _ in shared).decode().split("\n")
    assert written[-1] == ""  # every line ends with a newline
    assert [json.loads(out)["patient_id"] for out in written[:-1]] == [str(i) for i in range(4_345)]
    assert [json.loads(out)["line"] for out in written[:-1]] == list(range(1, 4_346))
    assert sum(len(kinds) for _, kinds in shared) == 4_345


def test_a_null_flag_is_an_error_as_in_a_file(tmp_path: Path) -> None:
    # null is not "not stated" (a left-out key is): an export's unknown must not read as no.
    path = write_lines(
        tmp_path / "nulls.jsonl",
        [
            '{"age": 40, "pregnant": null}',
            '{"age": 40, "id": null}',
            '{"age": 40, "sex": "male"}',
        ],
    )
    code, out, _ = batch(path, "--jobs", "1")
    assert code == 6
    first, second, third = (json.loads(line) for line in out)
    assert first["line"] == 1 and set(first) == ERROR_KEYS
    assert "pregnant: empty value (null)" in first["error"]
    assert "id: empty value (null)" in second["error"] and second["patient_id"] is None
    assert third["verdict"] == "eligible"


def test_an_error_line_is_compact_and_a_single_error_is_counted_in_the_singular(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "one.jsonl", ["[1]", '{"age": 40, "sex": "male"}'])
    code, out, err = batch(path, "--jobs", "1")
    assert code == 6
    assert out[0].startswith(
        '{"line":1,"patient_id":null,"error":"expected a JSON object (a patient), got an array",'
        '"data_version":"'
    )
    assert out[0] == compact(out[0])
    assert err.endswith("2 lines: 1 eligible, 0 review, 0 deferred, 0 not_eligible, 1 error\n")


def test_half_a_character_is_that_lines_error_and_a_whole_one_passes(tmp_path: Path) -> None:
    # "\ud800" alone is not a character: it could not be written out, so it is refused.
    path = write_lines(
        tmp_path / "escapes.jsonl",
        [
            '{"age": 40, "id": "P\\ud800"}',
            '{"age": 40, "id": "\\ud83d\\ude00"}',
        ],
    )
    code, out, _ = batch(path, "--jobs", "1")
    assert code == 6
    first, second = (json.loads(line) for line in out)
    assert first["line"] == 1 and "half a character" in first["error"]
    assert second["patient_id"] == "\U0001f600"


def test_half_a_character_in_a_key_or_a_line_nested_too_deep_is_only_that_lines_error(
    tmp_path: Path,
) -> None:
    deep = '{"age": 40, "x": ' + "[" * 400 + "null" + "]" * 400 + "}"
    path = write_lines(
        tmp_path / "odd.jsonl",
        [
            '{"age": 40, "\\ud800": "\\udc00"}',
            deep,
            '{"age": 40, "sex": "male"}',
        ],
    )
    for jobs in ("1", "2"):
        code, out, _ = batch(path, "--jobs", jobs)
        assert code == 6
        first, second, third = (json.loads(line) for line in out)
        assert first["line"] == 1 and "half a character" in first["error"]
        assert second["line"] == 2 and "nested more than 32 levels" in second["error"]
        assert third["verdict"] == "eligible"


def test_clean_file_exits_zero_whatever_the_verdicts(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "clean.jsonl", [json.dumps(p) for p in PATIENTS])
    code, out, err = batch(path, "--protocol", "hair", "--jobs", "1")
    assert code == 0, err
    verdicts = [json.loads(line)["verdict"] for line in out]
    assert {"eligible", "review", "deferred", "not_eligible"} <= set(verdicts)
    counts = {v: verdicts.count(v) for v in set(verdicts)}
    assert f"{counts['review']} review" in err and "0 errors" in err
    check = schema_validator("screening")
    for line in out:
        check.validate(numbered(line)[1])


@pytest.mark.parametrize("protocol", ["hair", None])
def test_batch_line_equals_screen_json_for_the_same_patient(
    tmp_path: Path, protocol: str | None
) -> None:
    chosen = ["--protocol", protocol] if protocol else []
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(p) for p in PATIENTS])
    code, out, _ = batch(path, *chosen, "--jobs", "1")
    assert code == 0
    for number, (patient, line) in enumerate(zip(PATIENTS, out, strict=True), start=1):
        single = tmp_path / "one.json"
        single.write_text(json.dumps(patient), encoding="utf-8")
        args = ["screen", str(single), *chosen, "--on", ON, "--json"]
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 3, 4, 5), result.output
        assert line == f'{{"line":{number},' + compact(result.stdout)[1:]


def test_batch_plan_line_equals_plan_json_for_the_same_patient(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(p) for p in PATIENTS])
    code, out, err = batch(path, "--protocol", "hair", "--plan", "--jobs", "2")
    assert code == 0, err
    check = schema_validator("plan")
    for number, (patient, line) in enumerate(zip(PATIENTS, out, strict=True), start=1):
        assert PlanLine.model_validate_json(line).model_dump_json() == line  # the model's bytes
        record = json.loads(line)
        assert (record.pop("line"), record.pop("patient_id")) == (number, patient["id"])
        check.validate(record)
        single = tmp_path / "one.json"
        single.write_text(json.dumps(patient), encoding="utf-8")
        args = ["plan", str(single), "--protocol", "hair", "--on", ON, "--json"]
        result = runner.invoke(app, args)
        assert compact(json.dumps(record)) == compact(result.stdout)


def test_error_lines_name_the_problem(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", BAD_LINES)
    code, out, _ = batch(path, "--jobs", "1")
    assert code == 6
    errors = [json.loads(line) for line in out]
    assert [e["line"] for e in errors] == list(range(1, len(BAD_LINES) + 1))
    by_line = {e["line"]: e["error"] for e in errors}
    assert "blank" in by_line[1] and "blank" in by_line[2]
    assert "invalid JSON" in by_line[3]
    assert "got an array" in by_line[4]
    assert "duplicate key 'age'" in by_line[7]
    assert "NaN" in by_line[8]
    assert "unknown key 'colour'" in by_line[9]
    assert "birth_date or age" in by_line[10]


def test_plan_without_protocol_plans_the_lines_that_name_one(tmp_path: Path) -> None:
    lines = [json.dumps(PATIENTS[0]), json.dumps({**PATIENTS[0], "protocol": "pain"})]
    path = write_lines(tmp_path / "p.jsonl", lines)
    code, out, _ = batch(path, "--plan")
    assert code == 6
    assert "no protocol" in error_of(out[0]) and json.loads(out[0])["patient_id"] == "P-1"
    assert json.loads(out[1])["protocol"] == "pain" and json.loads(out[1])["sessions"]


@pytest.mark.parametrize("rule", ["anticoagulant", "pregnancy"])
def test_a_file_wide_clear_is_refused_with_a_pointer_to_each_lines_clearances(
    tmp_path: Path, rule: str
) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(PATIENTS[1])])
    code, out, err = batch(path, "-p", "hair", "--clear", rule)
    assert code == 2
    assert out == []
    assert err.startswith(f"meso: error: --clear {rule}: a batch does not clear a rule")
    assert '"clearances"' in err and err.count("\n") == 1


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = batch(tmp_path / "nope.jsonl")
    assert code == 2
    assert "no such file" in err


def test_stdin_in_a_real_process_with_two_jobs_and_no_progress_bar() -> None:
    lines = [json.dumps(p) for p in PATIENTS] + ["{oops"]
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "batch", "-", "--on", ON, "--jobs", "2"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 6, done.stderr
    out = done.stdout.splitlines()
    assert len(out) == len(lines)
    last = json.loads(out[-1])
    assert last["line"] == len(lines) and last["error"].startswith("invalid JSON")
    assert "\r" not in done.stderr  # stderr is not a terminal: no progress bar
    assert done.stderr.startswith("meso: batch: 9 lines:")


# Line separators that are not "\n": U+2028, U+2029. A JSON string may hold them raw or
# escaped; either way the id must come back unchanged, on the line it went in on. (NEL, U+0085,
# is a C1 control character and refused in every text field: tests/test_hostile.py.)
ODD_IDS = ["A\u2028B", "C\u2029D", "E\u2029F", "G\u2028\u2029H"]


def test_ids_with_unicode_line_separators_round_trip_byte_for_byte(tmp_path: Path) -> None:
    """Input is split on b"\\n" only and output keeps every character: a reader that splits
    the output with str.splitlines sees extra lines, but the bytes are right."""
    raw = [json.dumps({"id": i, "age": 40}, ensure_ascii=False) for i in ODD_IDS]
    escaped = [json.dumps({"id": i, "age": 40}) for i in ODD_IDS]
    assert "\\u2028" in escaped[0] and "\u2028" in raw[0]  # escaped, and raw
    path = tmp_path / "odd.jsonl"
    path.write_bytes("".join(line + "\n" for line in raw + escaped).encode("utf-8"))
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "batch", str(path), "--on", ON, "--jobs", "1"],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == 2 * len(ODD_IDS), done.stdout
    ids = [json.loads(line)["patient_id"] for line in lines[:-1]]
    assert ids == ODD_IDS + ODD_IDS
    for odd in ODD_IDS:  # written as the raw characters, in UTF-8, not dropped or replaced
        assert json.dumps(odd, ensure_ascii=False).encode("utf-8") in done.stdout
    # What the reviewer saw: splitlines breaks these lines apart; the tool did not.
    assert len(done.stdout.decode("utf-8").splitlines()) > 2 * len(ODD_IDS)


def test_ids_with_unicode_line_separators_round_trip_from_stdin_with_workers() -> None:
    """Through workers too, and in UTF-8 even where the locale's encoding is ASCII."""
    lines = [json.dumps({"id": i, "age": 40}, ensure_ascii=False) for i in ODD_IDS] * 300
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "batch", "-", "--on", ON, "--jobs", "2"],
        input="".join(line + "\n" for line in lines).encode("utf-8"),
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.split(b"\n")[:-1]
    assert [json.loads(line)["patient_id"] for line in out] == ODD_IDS * 300


def test_sessions_done_after_the_reference_date_is_that_lines_error(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "p.jsonl",
        [
            json.dumps({"id": "late", "age": 40, "sessions_done": ["2026-11-30"]}),
            json.dumps({"id": "ok", "age": 40, "sessions_done": ["2026-11-16"]}),
            json.dumps({"age": 40, "medications": [{"name": "x", "last_dose": "9999-12-31"}]}),
            json.dumps({"age": 40, "sessions_done": ["2026-11-23", "2026-11-02"]}),
        ],
    )
    for args in ([], ["--protocol", "hair", "--plan"]):
        code, out, err = batch(path, *args)
        assert code == 6, err
        assert (json.loads(out[0])["line"], json.loads(out[0])["patient_id"]) == (1, "late")
        assert error_of(out[0]) == (
            "sessions_done[0]: 2026-11-30 is after the reference date 2026-11-22; "
            "list only sessions already given"
        )
        assert "error" not in json.loads(out[1])
        assert error_of(out[2]) == (
            "medications[0].last_dose: 9999-12-31 is after 2100; check the year"
        )
        assert json.loads(out[3])["error"].startswith("sessions_done[0]: 2026-11-23 is after")
        assert "Traceback" not in err and "internal error" not in err


def test_chunks_of_long_lines_are_cut_by_size_and_keep_their_line_numbers() -> None:
    from meso_cli.batch import CHUNK_BYTES, _chunks

    long = b"x" * (CHUNK_BYTES // 2)
    lines = [b"{}"] * 3 + [long] * 5 + [b"{}"] * 2
    chunks = list(_chunks(iter(lines), 1000))
    assert [first for first, _ in chunks] == [1, 6, 8]
    assert [len(chunk) for _, chunk in chunks] == [5, 2, 3]
    assert [line for _, chunk in chunks for line in chunk] == lines


def test_a_line_over_the_limit_is_read_only_so_far_and_is_that_lines_error(
    tmp_path: Path,
) -> None:
    from meso_cli.batch import MAX_LINE_BYTES

    huge = '{"age": 40, "id": "' + "x" * (3 * MAX_LINE_BYTES) + '"}'
    # a patient, padded to the limit
    just = '{"age": 40, "sex": "male"' + " " * (MAX_LINE_BYTES - 35) + "}"
    path = tmp_path / "long.jsonl"
    lines = ['{"age": 41, "sex": "male"}', huge, just, "z" * (2 * MAX_LINE_BYTES)]
    path.write_text("\n".join(lines), "utf-8")
    code, out, _ = batch(path, "--jobs", "1")
    assert code == 6
    results = [json.loads(line) for line in out]
    assert len(results) == 4
    assert results[0]["verdict"] == "eligible"
    assert results[1]["line"] == 2 and set(results[1]) == ERROR_KEYS
    assert f"over {MAX_LINE_BYTES} bytes" in results[1]["error"]
    assert results[2]["verdict"] == "eligible"  # just under the limit: screened
    assert results[3]["line"] == 4 and "over" in results[3]["error"]  # no final newline


# --- pipelines: a protocol per line, `line` on every line, one schema for every line ----------

PROTOCOLS = ["hair", "cellulite", "no-needle", "pain", None]
MIXED_BAD = [*BAD_LINES, '{"age": 40, "protocol": "hiar"}', '{"age": 40, "protocol": 7}']


def test_a_mixed_protocol_file_of_ten_thousand_lines_answers_each_line_in_place(
    tmp_path: Path,
) -> None:
    """Acceptance: one output line per input line, each with its number; the errors at the
    right lines; every line valid against `meso schema batch-line`; exit 6."""
    rng = random.Random(19)
    lines: list[str] = []
    expected: dict[int, str | None] = {}  # line -> the protocol it is screened for; None: error
    for number in range(1, 10_001):
        if rng.random() < 0.02 or number in (1, 5_000, 10_000):
            lines.append(rng.choice(MIXED_BAD))
            expected[number] = None
            continue
        patient: dict[str, Any] = dict(rng.choice(PATIENTS), id=f"P-{number}")
        own = rng.choice(PROTOCOLS)
        if own is not None:
            patient["protocol"] = own
        lines.append(json.dumps(patient))
        expected[number] = own or "face-rejuvenation"  # --protocol, for lines naming none
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    result = runner.invoke(
        app, ["schema", "batch-line"]
    )  # the schema as the command prints it, not only the committed file
    check = jsonschema.Draft202012Validator(json.loads(result.stdout))
    code, out, err = batch(path, "-p", "face-rejuvenation", "--jobs", "2")
    assert code == 6, err
    assert len(out) == 10_000
    for number, text in enumerate(out, start=1):
        record = json.loads(text)
        check.validate(record)
        assert record["line"] == number
        if expected[number] is None:
            assert set(record) == ERROR_KEYS and record["error"], (number, record)
        else:
            assert record["protocol"] == expected[number], (number, record)
            assert record["patient_id"] == f"P-{number}"
    errors = sum(1 for v in expected.values() if v is None)
    assert err.endswith(f" {errors} errors\n") and err.startswith("meso: batch: 10000 lines:")


def test_every_kind_of_line_validates_against_the_batch_line_schema_and_only_its_own(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(PATIENTS[0]), "[1]"])
    check = schema_validator("batch-line")
    screened = [json.loads(line) for line in batch(path, "-p", "hair")[1]]
    planned = [json.loads(line) for line in batch(path, "-p", "hair", "--plan")[1]]
    for record in screened + planned:
        check.validate(record)
    line, error = screened
    assert list(check.iter_errors({**line, "error": "x"}))  # neither a screening nor an error
    assert list(check.iter_errors({k: v for k, v in error.items() if k != "line"}))
    assert planned[0]["patient_id"] == "P-1" and planned[0]["screening"]["patient_id"] == "P-1"


def test_protocol_is_a_batch_lines_key_only_never_a_patient_files(tmp_path: Path) -> None:
    patient = tmp_path / "p.json"
    patient.write_text('{"age": 40, "protocol": "hair"}', encoding="utf-8")
    result = runner.invoke(app, ["screen", str(patient), "--on", ON, "--json"])
    assert result.exit_code == 2
    assert "unknown key 'protocol'" in result.stderr


def test_a_lines_protocol_overrides_the_option_and_a_wrong_one_is_that_lines_error(
    tmp_path: Path,
) -> None:
    lines = [
        '{"id": "a", "age": 40, "sex": "male", "medications": ["warfarin"], '
        '"protocol": "no-needle"}',
        '{"id": "b", "age": 40, "medications": ["warfarin"]}',
        '{"id": "c", "age": 40, "protocol": "HAIR "}',
        '{"id": "d", "age": 40, "protocol": "nonedle"}',
        '{"id": "e", "age": 40, "protocol": ""}',
    ]
    code, out, _ = batch(write_lines(tmp_path / "p.jsonl", lines), "-p", "pain")
    assert code == 6
    a, b, c, d, e = (json.loads(line) for line in out)
    assert (a["protocol"], a["verdict"]) == ("no-needle", "eligible")
    assert (b["protocol"], b["verdict"]) == ("pain", "review")
    assert c["protocol"] == "hair"
    assert d["patient_id"] == "d"
    assert d["error"] == "protocol: unknown protocol 'nonedle' (did you mean 'no-needle'?)"
    assert e["patient_id"] == "e" and e["error"].startswith("protocol: ")


def test_an_error_line_names_the_patient_unless_the_id_is_the_problem(tmp_path: Path) -> None:
    lines = [
        '{"id": "P-9", "age": "forty"}',
        '{"id": "' + "x" * 201 + '", "age": 40}',
        '{"id": 42, "age": 40}',
        '{"id": "P-10", "age": 40, "colour": "blue"}',
    ]
    code, out, _ = batch(write_lines(tmp_path / "p.jsonl", lines))
    assert code == 6
    assert [json.loads(line)["patient_id"] for line in out] == ["P-9", None, None, "P-10"]


# --- --flush: one line in, one line out ---------------------------------------------------------


def _read_line_within(stream: Any, seconds: float) -> bytes:
    import select

    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, "no answer came for the line written"
    line: bytes = stream.readline()
    return line


@pytest.mark.skipif(sys.platform == "win32", reason="select on pipes")
def test_flush_answers_each_line_before_the_next_is_written() -> None:
    """Acceptance: batch as a co-process, one line in and its answer out, then the next."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "meso_cli", "batch", "-", "--on", ON, "-p", "hair", "--flush"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for number, patient in enumerate([*PATIENTS, "{oops"], start=1):
            text = patient if isinstance(patient, str) else json.dumps(patient)
            proc.stdin.write(text.encode() + b"\n")
            proc.stdin.flush()
            answer = json.loads(_read_line_within(proc.stdout, 30))
            assert answer["line"] == number
            if isinstance(patient, dict):
                assert answer["patient_id"] == patient["id"]
            else:
                assert answer["error"].startswith("invalid JSON")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 6
        assert proc.stdout.read() == b""
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_flush_with_several_jobs_is_refused(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(PATIENTS[0])])
    code, out, err = batch(path, "--flush", "--jobs", "2")
    assert code == 2 and out == []
    assert "--flush answers each line as it comes, in one process" in err


# --- the quick way and the plain way give the same bytes ------------------------------------


def _mutations(rng: random.Random, patient: dict[str, Any]) -> list[str]:
    """Valid patients made slightly wrong in the ways files are: each kind of problem."""
    text = json.dumps(patient)
    out = [text, json.dumps(patient, ensure_ascii=False, indent=None, separators=(",", ":"))]
    key = rng.choice(list(patient))
    out += [
        json.dumps({k: v for k, v in patient.items() if k != key}),  # a key left out
        json.dumps({**patient, key: None}),  # null
        json.dumps({**patient, rng.choice(["colour", "pregnent", "Age"]): 1}),  # unknown key
        json.dumps({**patient, key: rng.choice([[], {}, "x", 3, 2.5, True, "2026-02-30"])}),
        text[:-1] + f', "{key}": 1}}',  # duplicate key
        text.replace('"age": ', '"age": NaN, "x": ', 1),
        json.dumps({**patient, "conditions": ["\ud800"]}),  # half a character, escaped
        json.dumps({**patient, "id": "P\u2028\u202e"}, ensure_ascii=rng.random() < 0.5),
        json.dumps({**patient, "medications": [{"name": "ibuprofen", "last_dose": 20261120}]}),
        json.dumps({**patient, "sessions_done": ["2026-11-02", "2026-11-02"]}),
        json.dumps({**patient, "protocol": rng.choice(["hair", "pain", "hiar", "", 1])}),
        json.dumps({**patient, "allergies": ["x"] * 201}),
        "\ufeff" + text,
        text[: rng.randrange(1, len(text))],
    ]
    return out


def _plain_answer(raw: bytes, number: int, job: Any) -> str:
    """The straightforward way: the line read as a patient file is (documents.parse), then
    the models' own JSON. What batch.answer_line writes must be byte for byte the same."""
    from meso_cli.batch import LineError, answer_line, read_line
    from meso_cli.documents import parse, reject_nulls, validate
    from meso_cli.errors import FileProblems, MesoError
    from meso_cli.models import BatchLine, ErrorLine, ScreeningLine

    def error(message: str, patient_id: str | None) -> str:
        return ErrorLine(
            line=number,
            patient_id=patient_id,
            error=message,
            data_version=job.screener.data.version,
            meso_version=__version__,
        ).model_dump_json()

    if raw.startswith(b"\xef\xbb\xbf"):  # a file may begin with one; a line may not
        return answer_line(raw, number, job)[0]
    try:
        # Named as JSON: the reader is chosen by the name, and a batch line is JSON.
        doc = parse(raw.decode("utf-8"), f"line {number}.json")
        if isinstance(doc.value, dict):
            reject_nulls(doc)
        line = validate(doc, BatchLine, context={"on": job.on})
    except FileProblems as exc:
        try:  # the wording of decoding errors differs (a column, not a line): take batch's
            read_line(raw, number, job.on)
        except LineError as expected:
            messages = "; ".join(p.message for p in exc.problems)
            if not messages.startswith(("invalid JSON", "expected a mapping")):
                assert str(expected) == messages, raw
            return error(str(expected), expected.patient_id)
        raise AssertionError(f"batch read what a file cannot: {raw!r}") from None
    except UnicodeDecodeError:
        return error("not UTF-8 text", None)
    try:
        protocol = job.protocol
        if line.protocol is not None:
            protocol = job.screener.data.protocol(line.protocol.strip().lower())
            if protocol is None:
                raise MesoError("unknown protocol")
        result = job.screener.screen(line, protocol, on=job.on)
    except MesoError:
        return answer_line(raw, number, job)[0]  # the wording is checked elsewhere
    return ScreeningLine(line=number, **dict(result)).model_dump_json()


def _bench() -> Any:
    """benchmarks/bench.py, for its realistic patients."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quick_way_and_the_plain_way_give_the_same_bytes_on_varied_and_mutated_lines() -> None:
    from datetime import date

    from meso_cli import batch as engine
    from meso_cli.data import load_dataset
    from meso_cli.files import packaged_data_dir
    from meso_cli.screening import Screener

    data = load_dataset(packaged_data_dir())
    job = engine.Job(Screener(data), data.protocol("hair"), date(2026, 11, 22))
    rng = random.Random(2026)
    realistic = _bench().patient
    lines = [t for n in range(400) for t in _mutations(rng, realistic(rng, n))]
    assert len(lines) > 6_000
    kinds: set[str] = set()
    for number, text in enumerate(lines, start=1):
        raw = text.encode("utf-8", "surrogatepass")
        quick, kind = engine.answer_line(raw, number, job)
        assert quick == _plain_answer(raw, number, job), text
        kinds.add(kind)
    assert kinds == {"eligible", "review", "deferred", "not_eligible", "error"}


# --- workers: the CPUs the process may use; no pool for a small file ----------------------------

FORK_PROBE = """
import os
os.register_at_fork(before=lambda: open(os.environ["MESO_TEST_FORKS"], "a").write("fork\\n"))
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux CPU affinity")
@pytest.mark.parametrize(
    ("lines", "cpus", "jobs", "forks"),
    [
        (3, 2, ["--jobs", "2"], False),  # a 3-line file pays for no pool
        (5_000, 1, [], False),  # allowed one CPU: the default is one job, in-process
        (5_000, 2, [], True),
    ],
)
def test_workers_are_forked_only_when_they_can_pay(
    tmp_path: Path, lines: int, cpus: int, jobs: list[str], forks: bool
) -> None:
    allowed = sorted(os.sched_getaffinity(0))[:cpus]
    if len(allowed) < cpus:
        pytest.skip(f"needs {cpus} CPUs")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FORK_PROBE)
    marker = tmp_path / "forks.txt"
    path = write_lines(tmp_path / "p.jsonl", ['{"age": 40}'] * lines)
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "batch", str(path), "--on", ON, *jobs],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(hook), "MESO_TEST_FORKS": str(marker)},
        preexec_fn=lambda: os.sched_setaffinity(0, allowed),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"\n") == lines
    assert marker.exists() == forks


def test_the_default_worker_count_is_the_cpus_the_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from meso_cli.batch import default_jobs

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert default_jobs() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert default_jobs() == 64


def test_a_byte_order_mark_inside_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"age": 40, "sex": "male"}\n{"age": 41, "sex": "male"}\n'
        b'\xef\xbb\xbf{"age": 42, "sex": "male"}\n'
    )
    code, out, _ = batch(path)
    assert code == 6
    assert [json.loads(line).get("verdict") for line in out[:2]] == ["eligible", "eligible"]
    assert error_of(out[2]).startswith("byte-order mark (BOM, U+FEFF) at the start of a line")
