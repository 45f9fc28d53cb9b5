"""Hostile files and streams at the real command line: outputs that resolve to a stream are
written to it, never renamed over; a regular file is replaced atomically; closed standard
streams; temporary files left by a killed write; calendar UIDs that cannot collide."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import icalendar
import pytest
from test_hostile import invoke

ON = "2026-11-22"
ROOT = Path(__file__).resolve().parent.parent
PATIENT = "id: P-1\nbirth_date: 1980-05-02\nsex: male\n"
MESO = f"{shlex.quote(sys.executable)} -m meso_cli"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX streams and devices")


def env() -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("MESO_DATA_DIR", "MESO_DEBUG")}
    return {**inherited, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"}


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """`script` run by sh, with `meso` standing for this checkout's command."""
    return subprocess.run(
        ["sh", "-c", script.replace("meso ", MESO + " ")],
        cwd=cwd,
        capture_output=True,
        env=env(),
        timeout=60,
        check=False,
    )


def meso(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        cwd=cwd,
        capture_output=True,
        env=env(),
        timeout=60,
        check=False,
    )


@pytest.fixture
def here(tmp_path: Path) -> Path:
    (tmp_path / "p.yaml").write_text(PATIENT)
    return tmp_path


def one_line(done: subprocess.CompletedProcess[bytes], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meso: error: "), lines
    for word in words:
        assert word in lines[0], lines[0]


# --- outputs that are streams ----------------------------------------------------------------


def test_ics_dash_and_handout_dash_write_to_standard_output(here: Path) -> None:
    done = meso("plan", "p.yaml", "-p", "hair", "--on", ON, "--ics", "-", cwd=here)
    assert done.returncode == 0, done.stderr
    calendar = icalendar.Calendar.from_ical(done.stdout)  # stdout is the calendar, and only it
    assert len(calendar.walk("VEVENT")) == 10
    assert done.stderr.decode() == "meso: wrote 10 sessions to standard output\n"
    assert not (here / "-").exists()

    done = meso("handout", "p.yaml", "-p", "hair", "--on", ON, "-o", "-", cwd=here)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"# Your mesotherapy course") and done.stderr == b""
    assert not (here / "-").exists()


def test_ics_dash_with_no_plan_says_why_and_writes_nothing(here: Path) -> None:
    (here / "q.yaml").write_text("age: 40\nsex: male\nmedications: [warfarin]\n")
    done = meso("plan", "q.yaml", "-p", "hair", "--on", ON, "--ics", "-", cwd=here)
    assert done.returncode == 3, done.stderr
    assert done.stdout == b""
    line = done.stderr.decode()
    assert line.count("\n") == 1 and "review required (anticoagulant)" in line


def test_dev_stdout_inside_a_redirected_group_appends_to_the_log(here: Path) -> None:
    log = here / "log.txt"
    log.write_text("earlier lines of the log\n")
    before = log.stat().st_ino
    done = shell(
        "( echo start; meso plan p.yaml -p hair --on 2026-11-22 --ics /dev/stdout ) >> log.txt",
        here,
    )
    assert done.returncode == 0, done.stderr
    text = log.read_text()
    assert text.startswith("earlier lines of the log\nstart\nBEGIN:VCALENDAR")
    assert log.stat().st_ino == before  # written into, never renamed over
    assert not [p for p in here.iterdir() if p.name.endswith(".tmp")]
    # the report is not mixed into the calendar: with --ics to stdout it is not printed
    assert "Key dates" not in text

    done = shell("( meso plan p.yaml -p hair --ics /dev/stdout --json ) > log2.txt", here)
    assert done.returncode == 2 and b"both write to standard output" in done.stderr


def test_handout_to_dev_stdout_in_a_redirect_keeps_the_file(here: Path) -> None:
    log = here / "out.md"
    log.write_text("kept\n")
    before = log.stat().st_ino
    done = shell("meso handout p.yaml -p hair --on 2026-11-22 -o /dev/stdout >> out.md", here)
    assert done.returncode == 0, done.stderr
    assert log.read_text().startswith("kept\n# Your mesotherapy course")
    assert log.stat().st_ino == before


def test_a_terminal_is_written_directly(here: Path) -> None:
    master, slave = os.openpty()
    try:
        name = os.ttyname(slave)
        done = meso("plan", "p.yaml", "-p", "hair", "--on", ON, "--ics", name, cwd=here)
        assert done.returncode == 0, done.stderr
        os.set_blocking(master, False)
        seen = b""
        deadline = time.monotonic() + 10
        while b"END:VCALENDAR" not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(master, 65536)
            except BlockingIOError:
                time.sleep(0.05)
        assert b"BEGIN:VCALENDAR" in seen and b"END:VCALENDAR" in seen
        assert os.path.exists(name) and not os.path.isfile(name)
    finally:
        os.close(master)
        os.close(slave)


def test_a_fifo_with_a_reader_is_written_directly(here: Path) -> None:
    fifo = here / "cal.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            got.append(handle.read())

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.2)  # the reader is waiting on the FIFO before meso opens it
    done = meso("plan", "p.yaml", "-p", "hair", "--on", ON, "--ics", str(fifo), cwd=here)
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert got and got[0].startswith(b"BEGIN:VCALENDAR")
    assert fifo.exists() and not fifo.is_file()


def test_a_socket_is_refused(here: Path) -> None:
    path = here / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        done = meso("plan", "p.yaml", "-p", "hair", "--on", ON, "--ics", str(path), cwd=here)
        one_line(done, "is a socket")
    finally:
        server.close()
    assert path.exists() and not path.is_file()


def test_a_regular_file_is_replaced_atomically(here: Path) -> None:
    target = here / "cal.ics"
    target.write_text("old")
    before = target.stat().st_ino
    done = meso("plan", "p.yaml", "-p", "hair", "--on", ON, "--ics", str(target), cwd=here)
    assert done.returncode == 0, done.stderr
    assert target.read_text().startswith("BEGIN:VCALENDAR")
    assert target.stat().st_ino != before  # a new file renamed into place


# --- closed standard streams -----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "meso screen - <&-",
        "meso batch - <&-",
        "meso handout - -p hair <&-",
        "meso intake -o x.yaml <&-",
        "meso batch - -j 2 <&-",
    ],
)
def test_a_closed_stdin_is_one_line_exit_2(here: Path, command: str) -> None:
    done = shell(command, here)
    one_line(done, "standard input")
    assert done.stdout == b""
    assert not (here / "x.yaml").exists()


def test_a_closed_stdin_does_not_matter_when_it_is_not_read(here: Path) -> None:
    done = shell("meso screen p.yaml --on 2026-11-22 --json <&-", here)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["patient_id"] == "P-1"


def test_a_closed_stderr_runs_normally(here: Path) -> None:
    done = shell('meso screen p.yaml --on 2026-11-22 --json 2>&-; echo "rc=$?"', here)
    out = done.stdout.decode()
    assert out.endswith("rc=0\n"), out
    assert json.loads(out[: out.rindex("rc=")])["verdict"] == "eligible"
    # and a message it would have written goes nowhere, not into a file the command writes
    done = shell('meso plan p.yaml -p hair --on 2026-11-22 --ics cal.ics 2>&-; echo "rc=$?"', here)
    assert done.stdout.decode().endswith("rc=0\n"), done.stdout
    assert (here / "cal.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert b"meso:" not in (here / "cal.ics").read_bytes()


# --- temporary files left by a killed write --------------------------------------------------


def test_stale_temporary_files_of_ours_are_removed_on_the_next_write(here: Path) -> None:
    old, fresh, foreign = (
        here / ".cal.ics.0123456789ab.tmp",
        here / ".cal.ics.ba9876543210.tmp",
        here / ".notes.tmp",
    )
    for path in (old, fresh, foreign):
        path.write_text("P-1 patient data")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(foreign, (two_hours_ago, two_hours_ago))
    done = meso("plan", "p.yaml", "-p", "hair", "--on", ON, "--ics", "cal.ics", cwd=here)
    assert done.returncode == 0, done.stderr
    assert not old.exists()  # ours, and older than an hour: left by a write that was killed
    assert fresh.exists()  # ours, but recent: another write may be under way
    assert foreign.exists()  # not of our naming


# --- ids and calendar UIDs -------------------------------------------------------------------


def uids(here: Path, patient: str, *args: str) -> set[str]:
    (here / "u.yaml").write_text(patient)
    done = invoke(["plan", str(here / "u.yaml"), "--on", ON, "--ics", "-", *args])
    assert done.code == 0, done.stderr
    calendar = icalendar.Calendar.from_ical(done.stdout)
    return {str(c["uid"]) for c in calendar.walk() if "uid" in c}


def test_two_patients_can_never_share_a_uid(here: Path) -> None:
    import shutil

    from meso_cli.files import packaged_data_dir

    # A clinic protocol `needle` beside the shipped `no-needle`: patient "X-no" on the one and
    # patient "X" on the other once both got "X-no-needle-1@meso".
    data = here / "data"
    shutil.copytree(packaged_data_dir(), data)
    protos = data / "protocols.yaml"
    text = protos.read_text()
    start = text.index("  - id: no-needle")
    block = text[start:].replace("  - id: no-needle", "  - id: needle", 1)
    block = block.replace("injects: false", "injects: true").replace(
        "    exempt_rules: [bleeding-disorder, anticoagulant, nsaid-washout]\n", ""
    )
    cut = block.index("    exempt_reason:")
    block = block[:cut] + block[block.index("    phases:", cut) :]
    protos.write_text(text + block)
    person = "birth_date: 1980-05-02\nsex: male\n"
    a = uids(here, f"id: X-no\n{person}", "-p", "needle", "--data-dir", str(data))
    b = uids(here, f"id: X\n{person}", "-p", "no-needle", "--data-dir", str(data))
    assert a and b and not a & b

    # A patient without an id, and one whose id spells that patient's key.
    anonymous = uids(here, person, "-p", "hair")
    key = next(iter(anonymous)).split("/")[0]
    assert key.startswith("anon=")
    for spelled in (key, key.replace("=", ":")):  # icalendar 6.0 reads %3A back as ':'
        assert not anonymous & uids(here, f"id: {json.dumps(spelled)}\n{person}", "-p", "hair")


def test_an_id_is_stripped_and_one_of_spaces_is_refused(here: Path) -> None:
    person = "birth_date: 1980-05-02\nsex: male\n"
    assert uids(here, f'id: "  P-1 "\n{person}', "-p", "hair") == uids(
        here, f"id: P-1\n{person}", "-p", "hair"
    )
    assert "P-1/hair/1@meso" in uids(here, f'id: " P-1"\n{person}', "-p", "hair")
    for blank in ('" "', '"  "', '"\\u3000"'):
        (here / "b.yaml").write_text(f"id: {blank}\n{person}")
        done = invoke(["plan", str(here / "b.yaml"), "-p", "hair", "--ics", "-"])
        assert done.code == 2 and done.stdout == "", done
        assert "id: an id of spaces only" in done.stderr and done.stderr.count("\n") == 1


# --- intake: an answer typed at the terminal -------------------------------------------------


def test_intake_refuses_a_control_character_as_it_is_typed(tmp_path: Path) -> None:
    from test_intake_tty import MESO as INTAKE
    from test_intake_tty import Terminal

    term = Terminal([*INTAKE, "intake", "-o", "p.yaml", "--on", ON, "-p", "hair"], tmp_path)
    term.answer(
        [
            ("Sex", "m"),
            ("Patient id", "P-\x1b[2J1"),  # an arrow key or a pasted escape
            ("! control character U+001B is not allowed", None),
            ("Patient id", "P-\u202e1"),
            ("! bidirectional control U+202E is not allowed", None),
            ("Patient id", None),
        ]
    )
    os.write(term.fd, b"\x04")  # Ctrl-D at an empty prompt: cancelled, nothing is written
    assert term.finish() == 130, term.seen
    assert not (tmp_path / "p.yaml").exists()


# --- batch input that never ends ------------------------------------------------------------


def test_batch_refuses_an_endless_device_but_reads_dev_null(here: Path) -> None:
    one_line(shell("meso batch - < /dev/zero", here), "<stdin>: is a device")
    one_line(shell("meso batch /dev/urandom", here), "is a device")
    done = shell("meso batch - < /dev/null", here)
    assert done.returncode == 0 and done.stdout == b"", done.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_batch_killed_while_waiting_for_a_fifo_writer_says_so(here: Path) -> None:
    fifo = here / "in.fifo"
    os.mkfifo(fifo)
    child = subprocess.Popen(
        [sys.executable, "-m", "meso_cli", "batch", str(fifo)],
        cwd=here,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Wait until meso handles SIGTERM (then it goes straight to the FIFO and waits there).
    status = Path(f"/proc/{child.pid}/status")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        caught = next(
            (line for line in status.read_text().splitlines() if line.startswith("SigCgt:")), ""
        )
        if caught and int(caught.split()[1], 16) & (1 << (15 - 1)):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    child.terminate()
    out, err = child.communicate(timeout=30)
    assert child.returncode == 143, err
    assert err.decode() == "meso: batch: terminated after 0 lines\n" and out == b""


def test_a_stream_needs_no_suffix_and_a_missing_terminal_is_named(here: Path) -> None:
    done = shell("meso handout p.yaml -p hair --on 2026-11-22 -o /dev/stderr 2>&1 >/dev/null", here)
    assert done.returncode == 0 and done.stdout.startswith(b"# Your mesotherapy course")
    # no controlling terminal: /dev/tty cannot be opened, and that is what the message says
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "plan", "p.yaml", "-p", "hair", "--ics", "/dev/tty"],
        cwd=here,
        env=env(),
        capture_output=True,
        start_new_session=True,
        timeout=60,
    )
    one_line(done, "cannot write /dev/tty: No such device or address")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command",
    [
        "meso screen p.yaml --on 2026-11-22 > /dev/full",
        "meso plan p.yaml -p hair --on 2026-11-22 > /dev/full",
        "meso rules > /dev/full",
        "meso plan p.yaml -p hair --on 2026-11-22 --ics /dev/full",
    ],
)
def test_a_full_disk_under_the_report_is_one_line(here: Path, command: str) -> None:
    one_line(shell(command, here), "No space left on device")
