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

from meso_cli.cli import app

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
    from datetime import date
    from multiprocessing.pool import ThreadPool

    from meso_cli import batch as engine
    from meso_cli.data import load_dataset
    from meso_cli.files import packaged_data_dir
    from meso_cli.screening import Screener

    data = load_dataset(packaged_data_dir())
    job = engine.Job(Screener(data), data.protocol("hair"), date(2026, 11, 22))
    lines = [json.dumps({"id": str(i), "age": 18 + i % 70}).encode() for i in range(2_345)]

    def threads(n: int, job: engine.Job) -> Any:
        assert n == jobs
        return ThreadPool(n, initializer=engine._init_worker, initargs=(job,))

    serial = list(engine.run(iter(lines), job, jobs=1))
    shared = list(engine.run(iter(lines), job, jobs=jobs, pool_factory=threads))
    assert shared == serial
    written = b"".join(text for text, _ in shared).decode().split("\n")
    assert written[-1] == ""  # every line ends with a newline
    assert [json.loads(out)["patient_id"] for out in written[:-1]] == [str(i) for i in range(2_345)]
    assert sum(len(kinds) for _, kinds in shared) == 2_345


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
    assert first == {"line": 1, "error": first["error"]}
    assert "pregnant: empty value (null)" in first["error"]
    assert "id: empty value (null)" in second["error"]
    assert third["verdict"] == "eligible"


def test_an_error_line_is_compact_and_a_single_error_is_counted_in_the_singular(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "one.jsonl", ["[1]", '{"age": 40, "sex": "male"}'])
    code, out, err = batch(path, "--jobs", "1")
    assert code == 6
    assert out[0] == '{"line":1,"error":"expected a JSON object (a patient), got an array"}'
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
        check.validate(json.loads(line))


@pytest.mark.parametrize("protocol", ["hair", None])
def test_batch_line_equals_screen_json_for_the_same_patient(
    tmp_path: Path, protocol: str | None
) -> None:
    chosen = ["--protocol", protocol] if protocol else []
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(p) for p in PATIENTS])
    code, out, _ = batch(path, *chosen, "--clear", "anticoagulant", "--jobs", "1")
    assert code == 0
    for patient, line in zip(PATIENTS, out, strict=True):
        single = tmp_path / "one.json"
        single.write_text(json.dumps(patient), encoding="utf-8")
        args = ["screen", str(single), *chosen, "--on", ON, "--clear", "anticoagulant", "--json"]
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 3, 4, 5), result.output
        assert line == compact(result.stdout)


def test_batch_plan_line_equals_plan_json_for_the_same_patient(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(p) for p in PATIENTS])
    code, out, err = batch(path, "--protocol", "hair", "--plan", "--jobs", "2")
    assert code == 0, err
    check = schema_validator("plan")
    for patient, line in zip(PATIENTS, out, strict=True):
        check.validate(json.loads(line))
        single = tmp_path / "one.json"
        single.write_text(json.dumps(patient), encoding="utf-8")
        args = ["plan", str(single), "--protocol", "hair", "--on", ON, "--json"]
        result = runner.invoke(app, args)
        assert line == compact(result.stdout)


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


def test_plan_without_protocol_is_a_usage_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(PATIENTS[0])])
    code, out, err = batch(path, "--plan")
    assert code == 2
    assert out == []
    assert "--plan needs --protocol" in err


def test_a_bad_clear_fails_once_before_any_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(PATIENTS[0])])
    code, out, err = batch(path, "--clear", "age-under-18")
    assert code == 2
    assert out == []
    assert "only review findings can be cleared" in err


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
        assert json.loads(out[0]) == {
            "line": 1,
            "error": "sessions_done[0]: 2026-11-30 is after the reference date 2026-11-22; "
            "list only sessions already given",
        }
        assert "error" not in json.loads(out[1])
        assert json.loads(out[2]) == {
            "line": 3,
            "error": "medications[0].last_dose: 9999-12-31 is after 2100; check the year",
        }
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
    assert results[1] == {"line": 2, "error": results[1]["error"]}
    assert f"over {MAX_LINE_BYTES} bytes" in results[1]["error"]
    assert results[2]["verdict"] == "eligible"  # just under the limit: screened
    assert results[3]["line"] == 4 and "over" in results[3]["error"]  # no final newline
