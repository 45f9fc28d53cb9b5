"""`meso intake` driven end to end in a real pseudo-terminal, as a practitioner would type it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meso_cli.intake import BadAnswer, age_or_birth_date, patient_yaml, sun_period, yes_no
from meso_cli.models import Patient
from meso_cli.patients import load_patient

MESO = [sys.executable, "-m", "meso_cli"]
ON = "2026-11-22"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


class Terminal:
    """The program on the far side of a pty: wait for text, type a line (stdlib only)."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        # A narrow terminal: 60 columns must stay legible.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 60, 0, 0))
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "60", "TERM": "xterm"}
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True
        )
        os.close(slave)
        self.fd = master
        self.seen = ""
        self.pos = 0

    def _pump(self, wait: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the program exited and closed the terminal
            return False
        if not chunk:
            return False
        self.seen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.pos :]:
            if time.monotonic() > deadline or not self._pump(0.2):
                raise AssertionError(f"never saw {text!r}; screen so far:\n{self.seen}")
        self.pos = self.seen.index(text, self.pos) + len(text)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def answer(self, exchange: list[tuple[str, str | None]]) -> None:
        """Wait for each prompt in turn and type its answer (None: only wait for the text)."""
        for prompt, answer in exchange:
            self.expect(prompt)
            if answer is not None:
                self.type(answer)

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self._pump(0.2) and time.monotonic() < deadline:
            pass
        os.close(self.fd)
        return self.proc.wait(timeout=timeout)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MESO, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_intake_for_a_patient_on_ibuprofen_writes_a_file_that_screens_the_same(
    tmp_path: Path,
) -> None:
    term = Terminal([*MESO, "intake", "-o", "p.yaml", "--on", ON], tmp_path)
    answers = [
        ("Protocol", "hiar"),  # a typo: told, and asked again
        ("did you mean hair", None),
        ("Protocol", "hair"),
        ("Patient id", "P-0099"),
        ("birth date", "sometime"),  # not a date: told what to type
        ("YYYY-MM-DD", None),
        ("birth date", "1980-05-02"),
        ("Pregnant", "perhaps"),
        ("answer y (yes) or n (no)", None),
        ("Pregnant", "n"),
        ("Breastfeeding", "no"),
        ("Fever", "n"),
        ("condition:", ""),
        ("medication:", "ibuprofn"),  # misspelt: a suggestion is offered and picked
        ("1) ibuprofen", None),
        ("retype it", "1"),
        ("read as ibuprofen", None),
        ("last dose", "2026-12-01"),  # after the reference date: refused
        ("after 2026-11-22", None),
        ("last dose", "2026-11-20"),
        ("medication:", ""),
        ("allergy:", ""),
        ("period:", "2027-07-01..2027-07-14"),
        ("period:", ""),
        ("DEFERRED", None),
        ("Wrote p.yaml", None),
    ]
    term.answer(answers)
    code = term.finish()
    assert code == 4, term.seen  # deferred, like `meso screen`

    written = load_patient(str(tmp_path / "p.yaml"))
    assert written.id == "P-0099"
    assert [(m.name, str(m.last_dose)) for m in written.medications] == [
        ("ibuprofen", "2026-11-20")
    ]
    assert written.pregnant is False and written.sun_exposure[0].end.isoformat() == "2027-07-14"

    again = run("screen", "p.yaml", "--protocol", "hair", "--on", ON, "--json", cwd=tmp_path)
    assert again.returncode == 4, again.stderr
    result = json.loads(again.stdout)
    assert result["verdict"] == "deferred"
    assert result["earliest_start"] == "2026-11-27"
    assert [f["rule"] for f in result["findings"]] == ["nsaid-washout"]
    assert result["assumed"] == []  # every question was answered: nothing taken as given


# An adult with no flags, up to the conditions; and no more answers after them.
BEFORE_CONDITIONS = [
    ("Patient id", ""),
    ("birth date", "45"),
    ("Pregnant", "n"),
    ("Breastfeeding", "n"),
    ("Fever", "n"),
]
AFTER_CONDITIONS = [("condition:", ""), ("medication:", ""), ("allergy:", ""), ("period:", "")]


def test_unknown_term_can_be_kept_and_then_needs_review(tmp_path: Path) -> None:
    term = Terminal([*MESO, "intake", "-o", "q.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer(
        [
            *BEFORE_CONDITIONS,
            ("condition:", "moonblight"),
            ("not a known condition", None),
            ("retype it", "k"),
            ("kept, unrecognised", None),
            ("no longer applies", ""),
            *AFTER_CONDITIONS,
            ("REVIEW", None),
        ]
    )
    assert term.finish() == 3, term.seen
    assert load_patient(str(tmp_path / "q.yaml")).conditions[0].name == "moonblight"


def test_enter_at_did_you_mean_asks_again_and_only_a_dash_leaves_a_name_out(
    tmp_path: Path,
) -> None:
    term = Terminal([*MESO, "intake", "-o", "r.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer(
        [
            *BEFORE_CONDITIONS,
            ("condition:", "lupus"),
            ("retype it", ""),  # a stray Enter: neither kept nor dropped
            ("nothing typed", None),
            ("retype it", "k"),
            ("kept, unrecognised", None),
            ("no longer applies", ""),
            ("condition:", "moonblight"),
            ("retype it", "-"),
            ("(left out)", None),
            *AFTER_CONDITIONS,
            ("REVIEW", None),
        ]
    )
    assert term.finish() == 3, term.seen
    assert [c.name for c in load_patient(str(tmp_path / "r.yaml")).conditions] == ["lupus"]


def test_ctrl_d_cancels_and_writes_nothing(tmp_path: Path) -> None:
    term = Terminal([*MESO, "intake", "-o", "p.yaml", "--protocol", "hair"], tmp_path)
    term.expect("Patient id")
    os.write(term.fd, b"\x04")  # Ctrl-D at an empty prompt
    assert term.finish() == 2
    assert "nothing was written" in term.seen
    assert not (tmp_path / "p.yaml").exists()


def test_never_prompts_when_stdin_is_not_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [*MESO, "intake", "-o", "p.yaml"],
        cwd=tmp_path,
        input="52\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "p.yaml").exists()


# --- the answers, without a terminal ---------------------------------------------------------


def test_answers_are_checked_as_typed() -> None:
    from datetime import date

    on = date(2026, 11, 22)
    assert age_or_birth_date("52", on=on) == {"age": 52}
    assert age_or_birth_date(" 1974-05-02 ", on=on) == {"birth_date": date(1974, 5, 2)}
    for bad in ("", "abc", "2030-01-01", "400", "1974-02-30"):
        with pytest.raises(BadAnswer):
            age_or_birth_date(bad, on=on)
    assert yes_no("Y") is True and yes_no("no") is False
    with pytest.raises(BadAnswer):
        yes_no("maybe")
    period = sun_period("2027-02-01 to 2027-02-14")
    assert (period.start, period.end) == (date(2027, 2, 1), date(2027, 2, 14))
    with pytest.raises(BadAnswer):
        sun_period("2027-02-14..2027-02-01")


def test_written_yaml_reads_back_identically(tmp_path: Path) -> None:
    patient = Patient.model_validate(
        {
            "id": "no",  # would be read as false if written unquoted
            "birth_date": "1980-05-02",
            "pregnant": False,
            "conditions": [
                "eczema: old",
                {"name": "herpes zoster", "resolved_on": "2026-12-10"},
            ],
            "medications": [{"name": 'a "quoted" pill', "last_dose": "2026-11-20"}, "1e3"],
            "allergies": ["lidocaine"],
            "sun_exposure": [{"from": "2027-02-01", "to": "2027-02-14"}],
            "sessions_done": ["2026-11-03"],
        }
    )
    path = tmp_path / "p.yaml"
    path.write_text(patient_yaml(patient, header="a header"), encoding="utf-8")
    assert load_patient(str(path)) == patient
