"""Failure modes seen from outside, in real processes: a bug exits 1 with one line and no patient
data, a closed pipe ends quietly, a failed write leaves the old file, JSON names its data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meso_cli import __version__
from meso_cli.cli import app
from meso_cli.files import packaged_data_dir

ON = "2026-11-22"
SECRET = "P-SECRET-4711"
PATIENT = f"id: {SECRET}\nbirth_date: 1980-05-02\nconditions: [Confidential Syndrome]\n"
runner = CliRunner()


def meso(
    *args: str,
    env: dict[str, str] | None = None,
    stdout: int | None = subprocess.PIPE,
    input: bytes | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("MESO_DEBUG", "MESO_DATA_DIR")}
    full_env = {**inherited, "NO_COLOR": "1", "COLUMNS": "100", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        input=input,
        env=full_env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


# --- a real bug -------------------------------------------------------------------------------

# Loaded by the child interpreter only (a sitecustomize on its PYTHONPATH): the screening
# engine raises an exception that carries patient data, as a real bug might.
BUGGY = """
import meso_cli.screening as screening

def screen(patient, *args, **kwargs):
    words = [c.name for c in patient.conditions]
    raise KeyError(f"{patient.id} {words}")

screening.screen = screen
"""


@pytest.fixture
def buggy(tmp_path: Path) -> dict[str, str]:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(BUGGY)
    (tmp_path / "p.yaml").write_text(PATIENT)
    return {"PYTHONPATH": str(hook)}


def test_bug_exits_1_with_one_line_and_no_patient_data(
    tmp_path: Path, buggy: dict[str, str]
) -> None:
    result = meso("screen", str(tmp_path / "p.yaml"), "--on", ON, "--json", env=buggy)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert result.stdout == b""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "bug" in lines[0] and "--debug" in lines[0] and "MESO_DEBUG=1" in lines[0]
    assert "Traceback" not in err
    assert SECRET not in err and "Confidential" not in err


@pytest.mark.parametrize("how", ["--debug", "MESO_DEBUG=1"])
def test_debug_shows_the_traceback(tmp_path: Path, buggy: dict[str, str], how: str) -> None:
    args = ["screen", str(tmp_path / "p.yaml"), "--on", ON]
    if how == "--debug":
        args.insert(0, "--debug")
    else:
        buggy["MESO_DEBUG"] = "1"
    result = meso(*args, env=buggy)
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "Traceback" in err and "KeyError" in err


def test_usage_errors_are_not_reported_as_bugs(tmp_path: Path, buggy: dict[str, str]) -> None:
    result = meso("screen", str(tmp_path / "missing.yaml"), env=buggy)
    assert result.returncode == 2
    assert "bug" not in result.stderr.decode()


# --- closed pipes --------------------------------------------------------------------------


def closed_pipe(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run with stdout a pipe whose reader is already gone: every write fails with EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return meso(*args, stdout=write, input=input)
    finally:
        os.close(write)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["rules"], 0),
        (["rules", "--json"], 0),
        (["protocols", "hair"], 0),
        (["--help"], 0),
        (["screen", "{p}", "--on", ON], 3),  # the verdict's exit code is kept
        (["screen", "{p}", "--on", ON, "--json"], 3),
    ],
)
def test_closed_pipe_ends_quietly(tmp_path: Path, args: list[str], code: int) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 40\nsex: male\nmedications: [warfarin]\n")
    result = closed_pipe(*[a.replace("{p}", str(patient)) for a in args])
    assert result.returncode == code
    assert result.stderr == b"", result.stderr.decode()


def test_a_batch_cut_short_by_its_reader_does_not_claim_success() -> None:
    result = closed_pipe("batch", "-", "--on", ON, input=b'{"age": 40, "sex": "male"}\n' * 10)
    assert result.returncode == 141  # 128 + SIGPIPE: the run did not finish
    assert result.stderr == b"", result.stderr.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file descriptors")
@pytest.mark.parametrize("args", [["screen", "{p}"], ["rules"], ["--version"], ["batch", "-"]])
def test_a_closed_standard_output_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 40\nsex: male\n")
    command = [sys.executable, "-m", "meso_cli", *[a.replace("{p}", str(patient)) for a in args]]
    result = subprocess.run(
        ["sh", "-c", '"$@" >&-', "sh", *command],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == b"meso: error: standard output is closed; nothing could be written\n"


def test_shell_pipe_into_head_ends_quietly(tmp_path: Path) -> None:
    """`meso batch … | head -1` with far more output than a pipe buffer holds."""
    if shutil.which("sh") is None or shutil.which("head") is None:
        pytest.skip("needs sh and head")
    lines = tmp_path / "many.jsonl"
    lines.write_text('{"age": 40, "medications": ["warfarin"]}\n' * 1500)
    command = (
        f'"{sys.executable}" -m meso_cli batch "{lines}" --on {ON} | head -1; '
        f'"{sys.executable}" -m meso_cli rules --json | head -c 10'
    )
    result = subprocess.run(["sh", "-c", command], capture_output=True, timeout=120, check=False)
    err = result.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err and "Broken pipe" not in err
    first = result.stdout.decode().splitlines()[0]
    assert json.loads(first)["verdict"] == "review"


@pytest.mark.parametrize(
    "args",
    [
        ["rules", "--json"],
        ["batch", "examples/patient.yaml", "--on", ON, "--jobs", "1"],
        ["batch", "examples/patient.yaml", "--on", ON, "--jobs", "2"],
    ],
)
def test_full_disk_is_an_error_not_a_bug(args: list[str]) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:
        result = meso(*args, stdout=full.fileno())
    err = result.stderr.decode()
    assert result.returncode == 2
    assert "cannot write the output" in err and "Traceback" not in err
    assert "Exception ignored" not in err


# --- nothing half-written ------------------------------------------------------------------


def _plan_ics(
    tmp_path: Path, target: Path, *, preexec: Callable[[], object] | None = None
) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "p.yaml").write_text("age: 40\nsex: male\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "meso_cli",
            "plan",
            str(tmp_path / "p.yaml"),
            "-p",
            "hair",
            "--on",
            ON,
            "--ics",
            str(target),
            "--json",
        ],
        capture_output=True,
        timeout=60,
        check=False,
        preexec_fn=preexec,
    )


def _small_file_limit() -> None:
    import resource

    # Any write past 300 bytes fails with EFBIG (Python ignores SIGXFSZ), half-way through
    # the calendar: exactly the moment a non-atomic writer would leave a truncated file.
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX resource limits")
def test_failed_ics_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "course.ics"
    target.write_bytes(b"OLD CALENDAR\n")
    result = _plan_ics(tmp_path, target, preexec=_small_file_limit)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "cannot write" in err and "course.ics" in err and "Traceback" not in err
    assert target.read_bytes() == b"OLD CALENDAR\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["course.ics"]


def test_ics_onto_a_directory_leaves_it_and_no_temp_file(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    (out_dir / "course.ics").mkdir(parents=True)
    result = _plan_ics(tmp_path, out_dir / "course.ics")
    assert result.returncode == 2
    assert "is a directory" in result.stderr.decode()
    assert sorted(p.name for p in out_dir.iterdir()) == ["course.ics"]
    assert (out_dir / "course.ics").is_dir()


def test_ics_whose_parent_is_a_file_leaves_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "notadir"
    blocker.write_bytes(b"keep me")
    result = _plan_ics(tmp_path, blocker / "course.ics")
    assert result.returncode == 2
    assert "Not a directory" in result.stderr.decode() or "cannot write" in result.stderr.decode()
    assert blocker.read_bytes() == b"keep me"


# --- traceability: data_version and the tool version in every JSON output ------------------


def _screen_json(patient: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(app, ["screen", str(patient), "--on", ON, "--json", *extra])
    assert result.exit_code in (0, 3, 4, 5), result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_json_names_the_data_and_tool_versions_and_data_dir_changes_it(tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 40\nsex: male\n")
    shipped = _screen_json(patient)
    assert shipped["meso_version"] == __version__
    assert len(str(shipped["data_version"])) == 64

    same = tmp_path / "same"
    shutil.copytree(packaged_data_dir(), same)
    assert (
        _screen_json(patient, "--data-dir", str(same))["data_version"] == shipped["data_version"]
    ), "the hash is of the contents, not of where the files live"

    edited = tmp_path / "edited"
    shutil.copytree(packaged_data_dir(), edited)
    with (edited / "protocols.yaml").open("a", encoding="utf-8") as f:
        f.write("# a clinic's local note\n")
    changed = _screen_json(patient, "--data-dir", str(edited))
    assert changed["data_version"] != shipped["data_version"]
    env_run = runner.invoke(
        app, ["screen", str(patient), "--on", ON, "--json"], env={"MESO_DATA_DIR": str(edited)}
    )
    assert json.loads(env_run.stdout)["data_version"] == changed["data_version"]


def test_plan_and_batch_json_carry_both_versions(tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 40\nsex: male\n")
    planned = runner.invoke(app, ["plan", str(patient), "-p", "hair", "--on", ON, "--json"])
    assert planned.exit_code == 0, planned.output
    document = json.loads(planned.stdout)
    assert document["meso_version"] == __version__
    assert document["screening"]["data_version"] == _screen_json(patient)["data_version"]
    batch = runner.invoke(app, ["batch", "-", "--on", ON], input='{"age": 40, "sex": "male"}\n')
    line = json.loads(batch.stdout.splitlines()[0])
    assert line["meso_version"] == __version__ and len(line["data_version"]) == 64


def test_ctrl_c_is_not_reported_as_a_bug(tmp_path: Path) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import meso_cli.screening as s\n"
        "def screen(*a, **k):\n    raise KeyboardInterrupt\n"
        "s.screen = screen\n"
    )
    (tmp_path / "p.yaml").write_text(PATIENT)
    result = meso("screen", str(tmp_path / "p.yaml"), env={"PYTHONPATH": str(hook)})
    assert result.returncode == 130
    assert result.stderr.decode() == "meso: interrupted\n"


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
@pytest.mark.parametrize("args", [["--json"], []], ids=["json", "human"])
def test_a_locale_that_cannot_spell_the_id_changes_nothing_in_a_pipe(
    tmp_path: Path, encoding: str, args: list[str]
) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text('id: "P-€ü"\nage: 40\nsex: male\n', encoding="utf-8")
    result = meso("screen", str(patient), "--on", ON, *args, env={"PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode("utf-8")  # UTF-8 whatever the locale: JSON must be
    assert "P-€ü" in text
    if args:
        assert json.loads(text)["patient_id"] == "P-€ü"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("signal_name", "whole_group", "code", "message"),
    [
        # A terminal's Ctrl-C reaches every process of the group, the workers too.
        ("SIGINT", True, 130, "meso: batch: interrupted after 3000 lines\n"),
        ("SIGTERM", False, 143, "meso: batch: terminated after 3000 lines\n"),
    ],
)
def test_a_stopped_batch_with_workers_ends_at_once_with_one_line(
    tmp_path: Path, signal_name: str, whole_group: bool, code: int, message: str
) -> None:
    import signal
    import time

    out = tmp_path / "out.jsonl"
    err = tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "meso_cli", "batch", "-", "--on", ON, "--jobs", "2"],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    assert proc.stdin is not None
    with proc.stdin:
        # Six chunks of 1,000 lines, and the input stays open: with two workers, four chunks
        # are in flight, so three have been written when the batch waits for more input.
        proc.stdin.write(b'{"age": 40, "sex": "male"}\n' * 6000)
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while out.read_bytes().count(b"\n") < 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        sig = getattr(signal, signal_name)
        if whole_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        finally:
            proc.kill()
    assert proc.returncode == code
    assert err.read_text() == message
    assert out.read_bytes().count(b"\n") == 3000  # whole lines only


# --- batch under faults ---------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("signal_name", "jobs", "code", "what"),
    [
        ("SIGTERM", "1", 143, "terminated"),
        ("SIGTERM", "2", 143, "terminated"),
        ("SIGINT", "2", 130, "interrupted"),
    ],
)
def test_a_batch_stopped_while_writing_to_a_slow_reader_delivers_whole_lines_and_counts_them(
    tmp_path: Path, signal_name: str, jobs: str, code: int, what: str
) -> None:
    """A reader taking 64 KiB every 50 ms; the signal comes after 2 s, mid-write. The output
    ends with a whole line, and the count on stderr is the lines the reader got."""
    import signal
    import time

    lines = tmp_path / "many.jsonl"
    patient = '{"id": "P-1", "age": 52, "medications": ["warfarin", "ibuprofen"]}\n'
    lines.write_text(patient * 20_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "meso_cli", "batch", str(lines), "--on", ON, "--jobs", jobs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    got = bytearray()
    started = time.monotonic()
    sent = False
    try:
        while chunk := os.read(proc.stdout.fileno(), 64 * 1024):
            got += chunk
            if not sent and time.monotonic() - started > 2:
                sig = getattr(signal, signal_name)
                if sig == signal.SIGINT:  # a terminal sends it to the whole group
                    os.killpg(proc.pid, sig)
                else:
                    proc.send_signal(sig)
                sent = True
            time.sleep(0.05)
        assert proc.wait(timeout=30) == code
        err = proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert sent and got.endswith(b"\n")
    delivered = got.count(b"\n")
    assert 0 < delivered < 20_000
    assert err == f"meso: batch: {what} after {delivered} lines\n"
    assert all(json.loads(line)["line"] == n for n, line in enumerate(got.splitlines(), 1))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc")
def test_a_batch_whose_worker_is_killed_stops_at_once_with_one_line(tmp_path: Path) -> None:
    """SIGKILL one worker of a --jobs 2 run over 1,000,000 lines, as the out-of-memory
    killer would: the run ends with exit 137 and one line, the output with a whole line."""
    import signal
    import time

    lines = tmp_path / "million.jsonl"
    with lines.open("w") as f:
        for n in range(1_000_000):
            f.write(f'{{"id": "P-{n}", "age": {18 + n % 60}}}\n')
    out = tmp_path / "out.jsonl"
    with out.open("wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "meso_cli", "batch", str(lines), "--on", ON, "--jobs", "2"],
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
    assert proc.stderr is not None
    try:
        deadline = time.monotonic() + 60
        while out.stat().st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        code = proc.wait(timeout=20)  # the old pool waited for ever
        err = proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert code == 137
    assert err.count("\n") == 1, err
    assert err.startswith("meso: batch: a worker process was killed by SIGKILL")
    written = out.read_bytes()
    delivered = written.count(b"\n")
    assert written.endswith(b"\n")
    assert err.endswith(f"; stopped after {delivered} lines\n")
    assert 0 < delivered < 1_000_000
