"""The clinic profile through the command line: where it is found, what it sets, `profile
show` and `profile init`, and the files it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "patient.yaml")

PROFILE = """\
# Clinic Ada's settings
[clinic]
name = "Clinic Ada"
phone = "+90 212 555 01 00"
practitioner = "Dr. Ada Yilmaz"

[calendar]
open_days = ["mon", "wed", "fri"]
session_time = "10:30"
closed = [
  "2026-12-28..2027-01-08",
]
holidays = "TR"

[defaults]
protocol = "hair"
"""


def meso(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **(env or {})},
    )


def plan_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = meso("plan", EXAMPLE, "--on", "2026-11-22", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An empty user config directory, and no MESO_PROFILE."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "MESO_PROFILE": ""}


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_profile_sets_the_calendar_the_protocol_and_the_time(
    tmp_path: Path, home: dict[str, str]
) -> None:
    clinic = write(tmp_path / "clinic.toml", PROFILE)
    plan = plan_json("--profile", clinic, env=home)
    assert plan["protocol"] == "hair"  # the default protocol
    days = [s["date"] for s in plan["sessions"]]
    from datetime import date

    assert {date.fromisoformat(d).weekday() for d in days} <= {0, 2, 4}  # mon, wed, fri
    assert not any("2026-12-28" <= d <= "2027-01-08" for d in days)  # closed
    moved = [s["note"] for s in plan["sessions"] if s["note"]]
    assert any("clinic closed 2026-12-28..2027-01-08" in n for n in moved), moved
    ics = tmp_path / "p.ics"
    done = meso("plan", EXAMPLE, "--on", "2026-11-22", "--profile", clinic, "--ics", str(ics),
                env=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "DTSTART;TZID" in ics.read_text() or "T103000" in ics.read_text()


def test_command_line_options_override_the_profile_and_closed_adds(
    tmp_path: Path, home: dict[str, str]
) -> None:
    clinic = write(tmp_path / "clinic.toml", PROFILE)
    plan = plan_json("--profile", clinic, "-p", "face-rejuvenation", "--open-days",
                     "tue,thu", "--closed", "2026-12-01", env=home)  # fmt: skip
    assert plan["protocol"] == "face-rejuvenation"
    days = [s["date"] for s in plan["sessions"]]
    from datetime import date

    assert {date.fromisoformat(d).weekday() for d in days} <= {1, 3}
    assert "2026-12-01" not in days  # --closed
    assert not any("2026-12-28" <= d <= "2027-01-08" for d in days)  # and the profile's


def test_found_through_the_option_then_the_variable_then_the_config_directory(
    tmp_path: Path, home: dict[str, str]
) -> None:
    user = write(
        Path(home["XDG_CONFIG_HOME"]) / "meso" / "profile.toml", '[defaults]\nprotocol = "hair"\n'
    )
    env_file = write(tmp_path / "env.toml", '[defaults]\nprotocol = "cellulite"\n')
    option = write(tmp_path / "option.toml", '[defaults]\nprotocol = "pain"\n')
    assert plan_json(env=home)["protocol"] == "hair"
    with_env = {**home, "MESO_PROFILE": env_file}
    assert plan_json(env=with_env)["protocol"] == "cellulite"
    assert plan_json("--profile", option, env=with_env)["protocol"] == "pain"
    assert plan_json("-p", "no-needle", "--profile", option, env=with_env)["protocol"] == (
        "no-needle"
    )
    shown = meso("profile", "show", env=with_env)
    assert f"profile: {env_file} (from MESO_PROFILE)" in shown.stdout
    assert "defaults.protocol" in shown.stdout and f"{env_file}:2" in shown.stdout
    assert user  # the user's own profile is read when nothing else is named
    none = meso("plan", EXAMPLE, "--on", "2026-11-22", "--profile", "none", env=with_env)
    assert none.returncode == 2 and "give --protocol" in none.stderr


def test_show_prints_each_value_in_force_and_where_it_came_from(
    tmp_path: Path, home: dict[str, str]
) -> None:
    clinic = write(tmp_path / "clinic.toml", PROFILE)
    done = meso("profile", "show", "--profile", clinic, env=home)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[2:]}

    def row(key: str) -> list[str]:
        return rows[key].split("  ")[0:1] + [p.strip() for p in rows[key].split("  ")[1:] if p]

    assert row("clinic.name") == ["clinic.name", "Clinic Ada", f"{clinic}:3"]
    assert row("calendar.open_days") == ["calendar.open_days", "mon, wed, fri", f"{clinic}:8"]
    assert row("calendar.closed")[1:] == ["2026-12-28..2027-01-08", f"{clinic}:10"]
    assert row("calendar.session_time")[1:] == ["10:30", f"{clinic}:9"]
    assert row("handout.language")[1:] == ["en", "default"]
    as_json = json.loads(meso("profile", "show", "--profile", clinic, "--json", env=home).stdout)
    assert as_json["values"]["calendar.holidays"] == {"value": "TR", "from": f"{clinic}:13"}
    assert as_json["chosen_by"] == "--profile"


def test_init_writes_a_commented_starter_and_never_over_a_file(
    tmp_path: Path, home: dict[str, str]
) -> None:
    done = meso("profile", "init", "--clinic", "Klinik Ada", "--holidays", "TR", "-p", "hair",
                "--open-days", "mon,tue,wed,thu,fri,sat", env=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    path = Path(home["XDG_CONFIG_HOME"]) / "meso" / "profile.toml"
    text = path.read_text()
    assert 'name = "Klinik Ada"' in text and '# phone = "' in text
    assert "land on Christmas Day" in text  # why a country matters
    shown = meso("profile", "show", env=home)
    assert f"{path}:" in shown.stdout and "Klinik Ada" in shown.stdout
    plan = plan_json(env=home)
    assert plan["protocol"] == "hair"
    again = meso("profile", "init", "--clinic", "Other", env=home)
    assert again.returncode == 2 and "exists; meso profile init never replaces" in again.stderr
    assert path.read_text() == text
    bad = meso("profile", "init", str(tmp_path / "bad.toml"), "--time", "25:00", env=home)
    assert bad.returncode == 2 and "calendar.session_time" in bad.stderr
    assert not (tmp_path / "bad.toml").exists()


BAD = [
    ('[clinic]\nname = "A"\nfone = "1"\n', ":3: clinic: unknown key 'fone' (did you mean 'phone'"),
    ('[calendar]\nopen_days = ["mon", "thurday"]\n', ":2: calendar.open_days[1]: 'thurday' is not"),
    ('[calendar]\nsession_time = "9.30"\n', ":2: calendar.session_time: expected a time HH:MM"),
    (
        '[calendar]\nclosed = [\n  "2026-12-24",\n  "2026-12-31..2026-12-30",\n]\n',
        ":4: calendar.closed[1]: the period ends (2026-12-30) before it begins",
    ),
    ('[calendar]\nholidays = "Narnia"\n', ":2: calendar.holidays: unknown country 'Narnia'"),
    (
        '[calendar]\nholidays = "TR"\nsubdivision = "34"\n',
        ":3: calendar.subdivision: the holidays of TR have no subdivisions",
    ),
    ('[handout]\nlanguage = "de"\n', ":2: handout.language: "),
    ('[defaults]\nprotocol = "hiar"\n', ":2: defaults.protocol: unknown protocol 'hiar' (did you"),
    ('[clinic\nname = "A"\n', ":1: invalid TOML"),
    ("[surprise]\n", ":1: top level: unknown key 'surprise'"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_profile_is_refused_with_file_and_line(
    tmp_path: Path, home: dict[str, str], text: str, message: str
) -> None:
    clinic = write(tmp_path / "clinic.toml", text)
    for command in (["plan", EXAMPLE, "--on", "2026-11-22"], ["profile", "show"]):
        done = meso(*command, "--profile", clinic, env=home)
        assert done.returncode == 2, done.stdout
        assert f"meso: error: {clinic}{message}" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_missing_profile_named_on_purpose_is_an_error(
    tmp_path: Path, home: dict[str, str]
) -> None:
    done = meso("screen", EXAMPLE, "--profile", str(tmp_path / "nope.toml"), env=home)
    assert done.returncode == 2 and "no such file" in done.stderr


def test_the_month_grid_marks_holidays_and_closed_days(
    tmp_path: Path, home: dict[str, str]
) -> None:
    clinic = write(tmp_path / "clinic.toml", PROFILE)
    done = meso("plan", EXAMPLE, "--on", "2026-11-22", "--profile", clinic, env=home)
    assert done.returncode == 0, done.stderr
    assert " 10*" in done.stdout  # 10 March 2027, a Wednesday of the Ramadan Feast
    assert " 30×" in done.stdout  # 30 December 2026, a Wednesday in the closed period
    assert " 31×" not in done.stdout  # a Thursday: closed every week anyway, not marked
    assert "n* public holiday   n× clinic closed" in done.stdout
