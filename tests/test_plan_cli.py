"""`meso plan` end to end: JSON, exit codes, clinic options, human output, --ics."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import vobject
from rich.console import Console
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.clinic import Clinic, parse_closure, parse_open_days
from meso_cli.models import Dataset, Patient
from meso_cli.planning import screen_and_plan
from meso_cli.render.plan import month_grids, session_table
from meso_cli.screening import Screener

runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "60", "TERM": "dumb"}


def warnings(plan: dict[str, Any]) -> list[str]:
    """A plan's warnings as people read them (JSON carries each with its code)."""
    return [w["text"] for w in plan["warnings"]]


def write_patient(tmp_path: Path, **fields: Any) -> str:
    body = {"id": "P-0042", "birth_date": "1988-03-14", "sex": "male", **fields}
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(body))
    return str(path)


def run(*args: str) -> Any:
    return runner.invoke(app, ["plan", *args], env=ENV)


def plan_json(result: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_acceptance_hair_course_in_json(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    result = run(who, "--protocol", "hair", "--start", "2026-12-01", "--on", "2026-11-22", "--json")
    assert result.exit_code == 0, result.output
    p = plan_json(result)
    sessions = p["sessions"]
    assert len(sessions) == 10
    assert [s["date"] for s in sessions[:8]] == [
        str(date.fromordinal(date(2026, 12, 1).toordinal() + 7 * i)) for i in range(8)
    ]
    # a month apart: 30 days, the second moved off a Saturday to Friday (29, within 28-35)
    assert [s["days_since_previous"] for s in sessions[8:]] == [30, 29]
    assert [s["phase"] for s in sessions] == ["weekly"] * 8 + ["monthly"] * 2
    assert p["key_dates"] == {
        "stop_nsaids_by": "2026-11-24",
        "first_session": "2026-12-01",
        "last_session": sessions[-1]["date"],
        "sun_avoid_until": "2027-04-08",
    }
    assert sessions[-1]["date"] == "2027-03-19"
    assert p["screening"]["verdict"] == "eligible"
    assert set(sessions[0]) >= {"number", "date", "phase", "days_since_previous", "done"}


def test_the_installed_command_prints_json_only(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "plan", who, "-p", "hair", "--on", "2026-11-22",
         "--start", "2026-12-01", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key_dates"]["first_session"] == "2026-12-01"
    assert done.stderr == ""


@pytest.mark.parametrize(
    "clinic",
    [
        ["--open-days", "mon,wed,fri"],
        ["--closed", "2026-12-21..2026-12-31"],
        ["--holidays", "TR"],
        ["--open-days", "mon,wed,fri", "--closed", "2026-12-21..2026-12-31", "--holidays", "TR"],
    ],
)
@pytest.mark.parametrize("protocol", ["hair", "cellulite", "face-rejuvenation"])
def test_no_session_on_a_closed_day_and_intervals_kept_or_warned(
    tmp_path: Path, data: Dataset, clinic: list[str], protocol: str
) -> None:
    who = write_patient(tmp_path)
    args = [who, "-p", protocol, "--on", "2026-11-22", "--start", "2026-12-01", "--json", *clinic]
    result = run(*args)
    assert result.exit_code == 0, result.output
    p = plan_json(result)
    closed = {date(2026, 12, d) for d in range(21, 32)} if "--closed" in clinic else set()
    open_days = {0, 2, 4} if "--open-days" in clinic else {0, 1, 2, 3, 4}
    import holidays

    tr = holidays.country_holidays("TR", years=[2026, 2027]) if "--holidays" in clinic else {}
    chosen = data.protocol(protocol)
    assert chosen is not None
    limits = {ph.id: ph.interval_days for ph in chosen.phases}
    for s in p["sessions"]:
        day = date.fromisoformat(s["date"])
        assert day.weekday() in open_days and day not in closed and day not in tr, s
        gap = s["days_since_previous"]
        iv = limits[s["phase"]]
        assert iv is not None  # only a one-session course has no interval
        if gap is not None and not iv.min <= gap <= iv.max:
            assert any(w.startswith(f"session {s['number']}: {gap} days") for w in warnings(p))


def test_holiday_names_appear_on_moved_sessions(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    result = run(who, "-p", "hair", "--on", "2026-10-01", "--start", "2026-10-01",
                 "--holidays", "TR", "--json")  # fmt: skip
    p = plan_json(result)
    # 2026-10-29 (Thursday) is Republic Day in Türkiye: session 5 moves to Friday
    assert p["sessions"][4]["date"] == "2026-10-30"
    assert (
        p["sessions"][4]["note"] == "moved from Thu 2026-10-29 (public holiday (TR): Republic Day)"
    )


def test_a_known_deferral_moves_the_start_and_says_so(tmp_path: Path) -> None:
    who = write_patient(tmp_path, medications=[{"name": "ibuprofen", "last_dose": "2026-11-20"}])
    result = run(who, "-p", "hair", "--on", "2026-11-22", "--json")
    assert result.exit_code == 0, result.output
    p = plan_json(result)
    assert p["sessions"][0]["date"] == "2026-11-27"
    assert p["start_moved_from"] == "2026-11-22"
    assert warnings(p)[0].startswith("start moved from 2026-11-22 to 2026-11-27: deferred by ")
    assert p["screening"]["earliest_start"] == "2026-11-27"
    # The stop day is the last dose itself: the start was set from it, nothing to ask.
    assert not any("that day has passed" in w for w in warnings(p))


def test_a_start_pushed_past_the_76th_birthday_by_closures_gets_no_plan(tmp_path: Path) -> None:
    # 75 on the start date, 76 on the first open day: the age is counted on the session day.
    who = write_patient(tmp_path, birth_date="1950-11-26")
    result = run(
        who,
        "-p",
        "hair",
        "--on",
        "2026-11-23",
        "--start",
        "2026-11-25",
        "--closed",
        "2026-11-25..2026-11-30",
        "--json",
    )
    assert result.exit_code == 3, result.output
    p = plan_json(result)
    assert p["sessions"] == []
    assert p["screening"]["verdict"] == "review"
    assert [f["rule"] for f in p["screening"]["findings"]] == ["age-over-75"]
    assert "first open day is 2026-12-01" in warnings(p)[0]
    cleared = run(
        who,
        "-p",
        "hair",
        "--on",
        "2026-11-23",
        "--start",
        "2026-11-25",
        "--closed",
        "2026-11-25..2026-11-30",
        "--clear",
        "age-over-75",
        "--json",
    )
    assert cleared.exit_code == 0, cleared.output
    assert plan_json(cleared)["sessions"][0]["date"] == "2026-12-01"


def test_a_first_session_long_after_the_start_is_called_out(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    result = run(
        who, "-p", "hair", "--on", "2026-11-23", "--closed", "2026-11-23..2027-01-31", "--json"
    )
    assert result.exit_code == 0, result.output
    p = plan_json(result)
    assert p["sessions"][0]["date"] == "2027-02-01"
    assert warnings(p)[0] == (
        "first session 2027-02-01, 70 days after the start 2026-11-23: the clinic is closed "
        "until then"
    )


@pytest.mark.parametrize(
    ("fields", "code", "verdict"),
    [
        ({"pregnant": True}, 5, "not_eligible"),
        ({"medications": ["warfarin"]}, 3, "review"),
        ({"fever": True}, 4, "deferred"),
    ],
)
def test_no_plan_exits_with_the_screening_code(
    tmp_path: Path, fields: dict[str, Any], code: int, verdict: str
) -> None:
    who = write_patient(tmp_path, **fields)
    ics = tmp_path / "plan.ics"
    result = run(who, "-p", "hair", "--on", "2026-11-22", "--json", "--ics", str(ics))
    assert result.exit_code == code, result.output
    p = plan_json(result)
    assert p["screening"]["verdict"] == verdict
    assert p["sessions"] == []
    assert set(p["key_dates"].values()) == {None}
    assert warnings(p)[-1].startswith("no plan: ")
    assert not ics.exists()
    human = run(who, "-p", "hair", "--on", "2026-11-22")
    assert human.exit_code == code
    assert "No plan for hair." in human.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-11-01"], "--start 2026-11-01 is before the reference date 2026-11-22"),
        (["--start", "2026-13-01"], "--start '2026-13-01': expected a date as YYYY-MM-DD"),
        (["--open-days", "mon,wensday"], "unknown weekday 'wensday' (did you mean 'wednesday'"),
        (["--closed", "2026-12-31..2026-12-01"], "the range ends before it begins"),
        (["--holidays", "XX"], "unknown country 'XX'"),
        (["--sessions", "11"], "--sessions 11: the hair course takes 1 to 10 sessions"),
        (["--per-week", "2"], "protocol hair has no choice of sessions per week"),
        (["--ics", "x.ics", "--time", "25:00"], "--time '25:00': expected HH:MM"),
        (["--time", "10:00"], "--time only applies to --ics FILE"),
        (["-p", "hiar"], "unknown protocol 'hiar' (did you mean 'hair'"),
        # Click's own checks of an option read the same way as ours (their wording changes
        # with typer's version: typer 0.29 words the range as pydantic does).
        (["--per-week", "0"], "Invalid value for '--per-week': "),
        (["--ics", "."], "cannot write .: is a directory; give a file name"),
        (["--ics", ""], "--ics: empty file name"),
        (["--ics", "-", "--json"], "both write to standard output"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    who = write_patient(tmp_path)
    result = run(who, "-p", "hair", "--on", "2026-11-22", *args)
    assert result.exit_code == 2, result.output
    assert message.lower() in result.stderr.lower()
    assert result.stderr.startswith("meso: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_ics_file_holds_the_sessions_to_come(tmp_path: Path) -> None:
    who = write_patient(tmp_path, sessions_done=["2026-11-16"])
    ics = tmp_path / "cal" / "plan.ics"
    ics.parent.mkdir()
    args = [who, "-p", "hair", "--on", "2026-11-22", "--json", "--ics", str(ics)]
    result = run(*args)
    assert result.exit_code == 0, result.output
    p = plan_json(result)
    cal = vobject.readOne(ics.read_text(encoding="utf-8"))
    expected = [date.fromisoformat(s["date"]) for s in p["sessions"] if not s["done"]]
    assert [e.dtstart.value for e in cal.vevent_list] == expected
    assert f"wrote 9 sessions to {ics}" in result.stderr
    first = ics.read_bytes()
    assert run(*args).exit_code == 0
    again = ics.read_bytes()
    # Only DTSTAMP may change between exports.
    strip = [ln for ln in first.splitlines() if not ln.startswith(b"DTSTAMP")]
    assert strip == [ln for ln in again.splitlines() if not ln.startswith(b"DTSTAMP")]
    assert sorted(x.name for x in ics.parent.iterdir()) == ["plan.ics"]


def test_timed_ics_for_a_protocol_without_a_length_says_so(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    ics = tmp_path / "c.ics"
    result = run(who, "-p", "cellulite", "--on", "2026-11-22", "--ics", str(ics), "--time", "9:15")
    assert result.exit_code == 0, result.output
    assert "protocol cellulite gives no session length: calendar events last 30 minutes" in (
        result.stderr
    )


def test_human_output_fits_60_columns_and_marks_sessions_without_colour(tmp_path: Path) -> None:
    who = write_patient(tmp_path, sun_exposure=[{"from": "2027-03-01", "to": "2027-03-07"}])
    result = run(who, "-p", "hair", "--on", "2026-11-22", "--start", "2026-12-01",
                 "--closed", "2026-12-21..2026-12-31")  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "✓ ELIGIBLE" in text
    assert "[ 1]" in text and "December 2026" in text and "March 2027" in text
    assert "Stop NSAIDs by 2026-11-24 (Tue)" in text
    assert "No sun until" in text
    flat = " ".join(text.split())
    # Closed 21-31 December: session 3 waits until Friday so that session 4 can follow on
    # 1 January, 14 days later, rather than 17 days after a session on the 15th.
    assert "3: moved from Tue 2026-12-15: the sessions after it would not keep" in flat
    assert "4: moved from Fri 2026-12-25 (clinic closed 2026-12-21..2026-12-31)" in flat
    assert "above the" not in flat
    assert "! planned sun exposure 2027-03-01..2027-03-07" in flat


def render(renderable: Any, width: int = 60) -> str:
    console = Console(width=width, no_color=True, color_system=None, record=True)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def test_session_table_and_month_grid_render_exactly(data: Dataset) -> None:
    who = Patient.model_validate(
        {"birth_date": "1980-01-01", "sex": "male", "sessions_done": ["2026-11-16"]}
    )
    clinic = Clinic(
        open_days=parse_open_days("mon,wed,fri"), closures=(parse_closure("2026-11-30"),)
    )
    face = data.protocol("face-rejuvenation")
    assert face is not None
    p = screen_and_plan(who, face, Screener(data), clinic, on=date(2026, 11, 20), sessions=3)
    table = render(session_table(p.sessions))
    assert [line.rstrip() for line in table.splitlines()] == [
        "#   date         day   phase     days   status",
        "──────────────────────────────────────────────",
        "1   2026-11-16   Mon   initial      —   ✓ done",
        "2   2026-11-23   Mon   initial      7",
        "3   2026-12-02   Wed   initial      9   moved",
    ]
    grid = render(month_grids(p.sessions))
    assert [line.rstrip() for line in grid.splitlines()] == [
        "       November 2026                December 2026",
        " Mo  Tu  We  Th  Fr  Sa  Su   Mo  Tu  We  Th  Fr  Sa  Su",
        "                          1        1 [ 2]  3   4   5   6",
        "  2   3   4   5   6   7   8    7   8   9  10  11  12  13",
        "  9  10  11  12  13  14  15   14  15  16  17  18  19  20",
        "(16) 17  18  19  20  21  22   21  22  23  24  25  26  27",
        "[23] 24  25  26  27  28  29   28  29  30  31",
        " 30",
    ]


def test_ics_through_a_link_writes_the_file_it_names_and_keeps_the_link(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    real, link = tmp_path / "real.ics", tmp_path / "link.ics"
    real.write_text("old")
    link.symlink_to(real)
    result = run(who, "-p", "hair", "--on", "2026-11-23", "--ics", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text().startswith("BEGIN:VCALENDAR")


def test_ics_to_a_fifo_that_nothing_reads_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    who = write_patient(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = run(who, "-p", "hair", "--on", "2026-11-23", "--ics", str(fifo))
    assert result.exit_code == 2, result.output
    assert "a FIFO that nothing reads" in result.stderr
    assert fifo.exists() and not fifo.is_file()
    assert not (tmp_path / "-").exists()


def test_a_stop_nsaids_day_already_past_is_called_out(tmp_path: Path) -> None:
    who = write_patient(tmp_path)
    p = plan_json(run(who, "-p", "hair", "--on", "2026-11-23", "--json"))
    assert p["key_dates"]["stop_nsaids_by"] == "2026-11-16"
    past = "stop NSAIDs by 2026-11-16: that day has passed"
    assert any(w.startswith(past) for w in warnings(p))


def test_routine_moves_off_closed_weekdays_are_one_line_naming_the_sessions(
    tmp_path: Path,
) -> None:
    who = write_patient(tmp_path)
    result = run(who, "-p", "hair", "--on", "2026-11-22", "--open-days", "mon,wed,fri")
    assert result.exit_code == 0, result.output
    # 22 November is a Sunday: the first session waits for Monday, and the rest fit.
    # On Tuesdays and Thursdays the 10th (a month after the 9th) moves too.
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert " session 1 moved off a weekday the clinic is closed" in lines
    result = run(who, "-p", "hair", "--on", "2026-11-22", "--open-days", "tue,thu")
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert " sessions 1, 10 moved off a weekday the clinic is closed" in lines


def test_twice_a_week_from_a_wednesday_starts_thursday_instead_of_running_over() -> None:
    """The issue's command, on a Wednesday: Saturday and Sunday are the only days 3-4 days
    later, so the course starts on Thursday rather than putting session 2 five days on."""
    example = str(Path(__file__).resolve().parent.parent / "examples" / "patient.yaml")
    result = run(example, "-p", "cellulite", "--per-week", "2", "--holidays", "TR",
                 "--on", "2026-12-02", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    p = plan_json(result)
    first, second = p["sessions"][:2]
    assert (first["date"], second["date"]) == ("2026-12-03", "2026-12-07")
    assert first["note"] == (
        "moved from Wed 2026-12-02: the sessions after it would not keep within their intervals"
    )
    assert [w for w in p["warnings"] if w["code"].startswith("interval")] == []


def test_brief_gives_the_verdict_the_findings_and_the_dates_only() -> None:
    example = str(Path(__file__).resolve().parent.parent / "examples" / "patient.yaml")
    result = run(example, "-p", "hair", "--on", "2026-11-22", "--brief")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "… DEFERRED — nsaid-washout: first session from 2026-11-27\n"
        "… DEFER [nsaid-washout] last dose of ibuprofen (an\n"
        "    NSAID) 2026-11-20: first session from 2026-11-27\n"
        "Sessions: hair, 10\n"
        "   1  Fri 2026-11-27\n"
        "   2  Fri 2026-12-04\n"
        "   3  Fri 2026-12-11\n"
        "   4  Fri 2026-12-18\n"
        "   5  Fri 2026-12-25\n"
        "   6  Fri 2027-01-01\n"
        "   7  Fri 2027-01-08\n"
        "   8  Fri 2027-01-15\n"
        "   9  Mon 2027-02-15  moved\n"
        "  10  Wed 2027-03-17\n"
        "! start moved from 2026-11-22 to 2026-11-27: deferred by\n"
        "  nsaid-washout (ibuprofen) until 2026-11-27\n"
    )
    full = run(example, "-p", "hair", "--on", "2026-11-22")
    assert len(full.stdout.splitlines()) > 3 * len(result.stdout.splitlines())


def test_brief_without_a_plan_names_every_rule_to_clear_in_one_line(tmp_path: Path) -> None:
    who = write_patient(
        tmp_path, birth_date="1946-01-01", medications=["warfarin"], conditions=["lupus"]
    )
    result = run(who, "-p", "hair", "--on", "2026-11-22", "--brief")
    assert result.exit_code == 3, result.output
    flat = " ".join(result.stdout.split())
    assert "No plan for hair." in flat
    assert (
        "! no plan: review required (age-over-75, anticoagulant, unrecognized-term); once a "
        "practitioner has assessed each, run again with --clear age-over-75 --clear "
        "anticoagulant --clear unrecognized-term" in flat
    )
    # the full view says the same in one message
    full = " ".join(run(who, "-p", "hair", "--on", "2026-11-22").stdout.split())
    assert "--clear age-over-75 --clear anticoagulant --clear unrecognized-term" in full


def test_brief_is_for_people_only(tmp_path: Path) -> None:
    result = run(write_patient(tmp_path), "-p", "hair", "--brief", "--json")
    assert result.exit_code == 2
    assert "--brief is a view for people" in result.output
