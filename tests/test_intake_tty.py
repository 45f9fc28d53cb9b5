"""`meso intake` driven end to end in a real pseudo-terminal, as a practitioner would type it."""

from __future__ import annotations

import json
import os
import re
import select
import signal
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

        def controlling_terminal() -> None:
            # A session of its own whose controlling terminal is the pty, as a shell gives:
            # Ctrl-C typed there then sends SIGINT to the program.
            # Ctrl-C as at an interactive shell, even where this run ignores SIGINT (a
            # background job), which the program would inherit.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            preexec_fn=controlling_terminal,
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

    def expect(self, text: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.pos :]:
            if time.monotonic() > deadline or not self._pump(0.2):
                self.proc.kill()
                self.proc.wait()
                os.close(self.fd)
                raise AssertionError(f"never saw {text!r}; screen so far:\n{self.seen}")
        self.pos = self.seen.index(text, self.pos) + len(text)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def press(self, key: bytes) -> None:
        """A control key at the prompt just seen. A signal that lands between the prompt
        being written and the read starting is only seen at the next key (a limit of
        Python's input()), so Ctrl-C is pressed again until the program answers."""
        for _ in range(20):
            os.write(self.fd, key)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                if not self._pump(0.1) or "cancelled" in self.seen[self.pos :]:
                    return
        raise AssertionError(f"no answer to {key!r}; screen so far:\n{self.seen}")

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
        ("Sex", "f"),
        ("Patient id", "P-0099"),
        ("Name", "Ayşe Yılmaz"),
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
        ("Protocol", "hiar"),  # a typo: told, and asked again
        ("did you mean hair", None),
        ("Protocol", "hair"),
        ("DEFERRED", None),
        ("save p.yaml", ""),
        ("Wrote p.yaml", None),
    ]
    term.answer(answers)
    code = term.finish()
    assert code == 4, term.seen  # deferred, like `meso screen`

    written = load_patient(str(tmp_path / "p.yaml"))
    assert (written.id, written.name, written.sex) == ("P-0099", "Ayşe Yılmaz", "female")
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
    ("Sex", "f"),
    ("Patient id", ""),
    ("Name", ""),
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
            ("to save", ""),
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
            ("to save", ""),
        ]
    )
    assert term.finish() == 3, term.seen
    assert [c.name for c in load_patient(str(tmp_path / "r.yaml")).conditions] == ["lupus"]


# --- sex first ---------------------------------------------------------------------------------


def test_sex_is_asked_first_and_a_male_patient_is_not_asked_about_pregnancy(
    tmp_path: Path,
) -> None:
    term = Terminal([*MESO, "intake", "-o", "m.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.expect("Ctrl-C cancels.")
    term.expect("Dates are typed YYYY-MM-DD.")
    term.answer([("Sex", "m"), ("Patient id", ""), ("Name", ""), ("birth date", "45")])
    term.answer([("Fever", "n"), *AFTER_CONDITIONS, ("ELIGIBLE", None)])
    term.expect("Your answers:")
    start = term.pos
    term.expect("to save")
    summary = term.seen[start : term.pos]
    term.type("")
    term.expect("Wrote m.yaml")
    assert term.finish() == 0, term.seen
    # The first question of all is the sex; no pregnancy question, nor a line in the summary.
    questions = term.seen.split("Dates are typed YYYY-MM-DD.")[1]
    assert questions.strip().startswith("Sex: f (female), m (male) or o (other)")
    assert "Pregnant" not in term.seen and "Breastfeeding" not in term.seen
    assert "Sex" in summary and "male" in summary
    written = load_patient(str(tmp_path / "m.yaml"))
    assert written.sex == "male"
    assert written.pregnant is None and written.breastfeeding is None  # not asked, not written


def test_other_or_unstated_sex_is_asked_about_pregnancy(tmp_path: Path) -> None:
    for answer in ("o", ""):
        term = Terminal(
            [*MESO, "intake", "-o", "o.yaml", "--on", ON, "--protocol", "hair", "--force"],
            tmp_path,
        )
        term.answer([("Sex", answer), ("Patient id", ""), ("Name", ""), ("birth date", "45")])
        term.answer([("Pregnant", "n"), ("Breastfeeding", "n"), ("Fever", "n")])
        term.answer([*AFTER_CONDITIONS, ("to save", ""), ("Wrote o.yaml", None)])
        assert term.finish() == 0, term.seen
        written = load_patient(str(tmp_path / "o.yaml"))
        assert written.sex == ("other" if answer else None)
        assert written.pregnant is False and written.breastfeeding is False


def test_changing_the_sex_in_the_summary_drops_or_asks_the_pregnancy_questions(
    tmp_path: Path,
) -> None:
    term = Terminal([*MESO, "intake", "-o", "s.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer([*BEFORE_CONDITIONS, *AFTER_CONDITIONS])
    term.answer([("6  Breastfeeding", None), ("to save", "1"), ("Sex", "m")])
    term.expect("Your answers:")
    assert "Pregnant" not in term.seen[term.pos :].split("to save")[0]
    term.answer([("to save", "1"), ("Sex", "f")])
    # Female again: the two questions are asked anew, not taken from before.
    term.answer([("Pregnant", "y"), ("Breastfeeding", "n"), ("NOT ELIGIBLE", None)])
    term.answer([("to save", ""), ("Wrote s.yaml", None)])
    assert term.finish() == 5, term.seen
    written = load_patient(str(tmp_path / "s.yaml"))
    assert (written.sex, written.pregnant, written.breastfeeding) == ("female", True, False)


# --- the summary, and going back ---------------------------------------------------------------


def test_answers_are_corrected_by_number_before_saving(tmp_path: Path) -> None:
    term = Terminal([*MESO, "intake", "-o", "e.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer(
        [
            *BEFORE_CONDITIONS,
            ("condition:", "eczema"),
            ("no longer applies", ""),
            ("condition:", "lupus"),
            ("retype it", "k"),
            ("no longer applies", ""),
            *AFTER_CONDITIONS,
            ("REVIEW REQUIRED", None),  # eczema defers; lupus needs review
            ("4  Age", None),
            ("age 45", None),
            ("to save", "99"),  # no such number: told, and asked again
            ("type a number from 1 to 12", None),
            ("to save", "4"),
            ("Age in years, or birth date [now age 45; Enter keeps it]", "1980-05-02"),
            ("born 1980-05-02", None),
            ("to save", "8"),
            ("1) eczema", None),
            ("2) lupus", None),
            ("-N to remove number N", None),
        ]
    )
    term.type("-2")
    term.answer([("removed lupus", None), ("condition:", ""), ("eczema", None)])
    term.answer([("to save", ""), ("Wrote e.yaml", None)])
    assert term.finish() == 4, term.seen  # eczema alone: deferred, no review left
    written = load_patient(str(tmp_path / "e.yaml"))
    assert str(written.birth_date) == "1980-05-02" and written.age is None
    assert [c.name for c in written.conditions] == ["eczema"]


def test_back_returns_to_the_question_before_with_its_answer_kept(tmp_path: Path) -> None:
    term = Terminal([*MESO, "intake", "-o", "b.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer(
        [
            ("Sex", "<"),
            ("(this is the first question)", None),
            ("Sex", "f"),
            ("Patient id", "P-1"),
            ("Name", ""),
            ("birth date", "45"),
            ("Pregnant", "<"),
            ("birth date [now age 45; Enter keeps it]", "<"),
            ("Name", "<"),
            ("Patient id (optional) [now P-1; Enter keeps it, - removes", "-"),
            ("Name", ""),
            ("birth date [now age 45", ""),
            ("Pregnant", "n"),
            ("Breastfeeding", "n"),
            ("Fever", "n"),
            *AFTER_CONDITIONS,
            ("to save", "<"),  # at the summary: the last question again
            ("period:", "2027-07-01..2027-07-02"),
            ("period:", ""),
            ("to save", ""),
            ("Wrote b.yaml", None),
        ]
    )
    assert term.finish() == 0, term.seen
    written = load_patient(str(tmp_path / "b.yaml"))
    assert written.id is None and written.age == 45 and len(written.sun_exposure) == 1


# --- never over an existing file ------------------------------------------------------------


def test_an_existing_file_is_never_replaced_without_asking(tmp_path: Path) -> None:
    first = tmp_path / "p.yaml"
    first.write_text("id: first\nage: 30\n", encoding="utf-8")
    term = Terminal([*MESO, "intake", "-o", "p.yaml", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer(
        [
            ("p.yaml already exists. Replace it with this patient? (y/n)", "n"),
            ("Save as another file instead", "q.yaml"),
            *BEFORE_CONDITIONS,
            *AFTER_CONDITIONS,
            ("to save q.yaml", ""),
            ("Wrote q.yaml", None),
        ]
    )
    assert term.finish() == 0, term.seen
    assert first.read_text(encoding="utf-8") == "id: first\nage: 30\n"
    assert load_patient(str(tmp_path / "q.yaml")).age == 45


def test_the_file_name_asked_at_the_end_is_not_replaced_without_asking(tmp_path: Path) -> None:
    first = tmp_path / "p.yaml"
    first.write_text("id: first\nage: 30\n", encoding="utf-8")
    term = Terminal([*MESO, "intake", "--on", ON, "--protocol", "hair"], tmp_path)
    term.answer(
        [
            *BEFORE_CONDITIONS,
            *AFTER_CONDITIONS,
            ("to save the patient file", ""),
            ("Save the patient file as", "p.yaml"),
            ("p.yaml exists. Replace it? (y/n)", "n"),
            ("Save the patient file as", "p2.yaml"),
            ("Wrote p2.yaml", None),
        ]
    )
    assert term.finish() == 0, term.seen
    assert first.read_text(encoding="utf-8") == "id: first\nage: 30\n"
    assert (tmp_path / "p2.yaml").exists()


def test_force_or_a_yes_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    for extra, exchange in (
        (["--force"], []),
        ([], [("already exists. Replace it with this patient? (y/n)", "y")]),
    ):
        target.write_text("id: first\nage: 30\n", encoding="utf-8")
        term = Terminal(
            [*MESO, "intake", "-o", "p.yaml", "--on", ON, "-p", "hair", *extra], tmp_path
        )
        term.answer([*exchange, *BEFORE_CONDITIONS, *AFTER_CONDITIONS, ("to save", "")])
        term.expect("Wrote p.yaml")
        assert term.finish() == 0, term.seen
        assert "already exists" not in term.seen or not extra
        assert load_patient(str(target)).age == 45


# --- the terminal -----------------------------------------------------------------------------


def test_every_line_fits_60_columns_and_no_word_is_cut(tmp_path: Path) -> None:
    term = Terminal([*MESO, "intake", "-o", "w.yaml", "--on", ON], tmp_path)
    term.answer(
        [
            *BEFORE_CONDITIONS,
            ("condition:", "moonblight"),
            ("retype it", "k"),
            ("no longer applies", ""),
            *AFTER_CONDITIONS,
            ("Protocol", "hair"),
            ("to save", ""),
            ("Wrote w.yaml", None),
        ]
    )
    assert term.finish() == 3, term.seen
    lines = re.sub(r"\x1b\[[0-9;]*m", "", term.seen).splitlines()  # styles take no column
    assert max(len(line) for line in lines) <= 60, max(lines, key=len)
    # The prompts that used to break mid-word at 60 columns come through whole.
    screen = " ".join(term.seen.split())
    for whole in (
        "Ctrl-C cancels.",
        "Type k to keep it as typed (needs review), - to leave it out, or retype it:",
        "date it no longer applies, or Enter if it still does:",
        "Sun holidays or solarium planned, as FROM..TO (Enter when done):",
    ):
        assert whole in screen, whole


def test_no_file_is_named_before_one_exists(tmp_path: Path) -> None:
    term = Terminal([*MESO, "intake", "-o", "f.yaml", "--on", ON, "-p", "hair"], tmp_path)
    term.answer([("Sex", "f"), ("Patient id", ""), ("Name", ""), ("birth date", "45")])
    term.answer([("Pregnant", "y"), ("Breastfeeding", "n"), ("Fever", "y"), *AFTER_CONDITIONS])
    term.answer([("NOT ELIGIBLE", None), ("to save", ""), ("Wrote f.yaml", None)])
    assert term.finish() == 5, term.seen
    before = term.seen.split("Wrote f.yaml")[0]
    assert "pregnant: true, as stated" in before
    assert "patient file" not in before.split("Your answers:")[0]


@pytest.mark.parametrize(
    ("key", "where"),
    [
        (b"\x04", "Sex"),  # Ctrl-D at the first question
        (b"\x03", "Sex"),  # Ctrl-C
        (b"\x03", "condition:"),
        (b"\x04", "to save"),  # at the summary, all answers given
        (b"\x03", "to save"),
    ],
)
def test_ctrl_c_or_ctrl_d_cancels_with_130_and_writes_nothing(
    tmp_path: Path, key: bytes, where: str
) -> None:
    kept = tmp_path / "p.yaml"
    kept.write_text("id: first\nage: 30\n", encoding="utf-8")
    term = Terminal([*MESO, "intake", "-o", "p.yaml", "--protocol", "hair", "--force"], tmp_path)
    script = [*BEFORE_CONDITIONS, *AFTER_CONDITIONS]
    for prompt, answer in script:
        if prompt == where:
            break
        term.answer([(prompt, answer)])
    term.expect(where)
    term.press(key)
    assert term.finish() == 130, term.seen
    assert "intake cancelled; nothing was written" in term.seen
    assert "error" not in term.seen and "Traceback" not in term.seen
    assert kept.read_text(encoding="utf-8") == "id: first\nage: 30\n"  # --force, yet untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


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


def test_intake_takes_the_profiles_protocol_and_names_the_sources(tmp_path: Path) -> None:
    profile = tmp_path / "clinic.toml"
    profile.write_text('[defaults]\nprotocol = "hair"\n', encoding="utf-8")
    term = Terminal(
        [*MESO, "intake", "-o", "p.yaml", "--on", ON, "--profile", str(profile)], tmp_path
    )
    term.answer(
        [
            ("Sex", "m"),
            ("Patient id", ""),
            ("Name", ""),
            ("birth date", "52"),
            ("Fever", "n"),
            ("condition:", ""),
            ("medication:", "warfarin"),
            ("last dose", ""),
            ("medication:", ""),
            ("allergy:", ""),
            ("period:", ""),
            # The profile's default protocol is taken, as --protocol would be, and not asked.
            ("REVIEW REQUIRED", None),
            ("protocol hair", None),
            ("001 — Untitled", None),  # sources by title, as `meso screen` names them
            ("Protocol", None),  # in the answers, to change like any other
            ("hair", None),
            ("save p.yaml", ""),
            ("Wrote p.yaml", None),
        ]
    )
    assert term.finish() == 3, term.seen
    assert "--protocol hair" in term.seen
