"""The clinic calendar: open weekdays, closures, public holidays, and the write_atomic helper."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from meso_cli.clinic import (
    DEFAULT_OPEN_DAYS,
    HORIZON_YEARS,
    Clinic,
    Closure,
    parse_closure,
    parse_open_days,
    public_holidays,
)
from meso_cli.dates import FIRST_YEAR, LAST_YEAR, parse_day, year_problem
from meso_cli.errors import MesoError
from meso_cli.files import write_atomic


def test_default_open_days_are_weekdays() -> None:
    clinic = Clinic()
    assert clinic.open_days == DEFAULT_OPEN_DAYS == parse_open_days("mon,tue,wed,thu,fri")
    assert clinic.is_open(date(2026, 12, 4))  # Friday
    assert clinic.closed_because(date(2026, 12, 5)) == "Saturday, not an open day"


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon,wed,fri", {0, 2, 4}),
        ("Monday, Wednesday ,FRIDAY", {0, 2, 4}),
        ("sat,sun,", {5, 6}),
        ("thur,tues", {1, 3}),
    ],
)
def test_open_days_parse(text: str, days: set[int]) -> None:
    assert parse_open_days(text) == frozenset(days)


def test_misspelled_weekday_gets_a_suggestion() -> None:
    with pytest.raises(MesoError) as err:
        parse_open_days("mon,wendesday")
    assert str(err.value).startswith("unknown weekday 'wendesday' (did you mean 'wednesday'")
    assert err.value.exit_code == 2


@pytest.mark.parametrize("text", ["mon,mon", "mon,wed,Monday", "thur,thursday"])
def test_a_weekday_named_twice_is_refused(text: str) -> None:
    """`mon,mon` is most often a typo for another day: refused rather than read as a set."""
    with pytest.raises(MesoError, match=r"--open-days .*: \w+day is named twice") as err:
        parse_open_days(text)
    assert err.value.exit_code == 2


def test_no_open_day_is_an_error() -> None:
    with pytest.raises(MesoError, match="at least one weekday"):
        parse_open_days(" , ")


def test_closures_parse_single_days_and_ranges() -> None:
    assert parse_closure("2026-12-24") == Closure(date(2026, 12, 24), date(2026, 12, 24))
    span = parse_closure("2026-12-21..2026-12-31")
    assert span == Closure(date(2026, 12, 21), date(2026, 12, 31))
    clinic = Clinic(closures=(span,))
    assert clinic.closed_because(date(2026, 12, 31)) == "clinic closed 2026-12-21..2026-12-31"
    assert clinic.is_open(date(2027, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-12-31..2026-12-21", "ends before it begins"),
        ("2026-02-30", "expected YYYY-MM-DD"),
        ("next week", "expected YYYY-MM-DD"),
        ("2026-12-21..", "expected YYYY-MM-DD"),
        ("20261221", "expected YYYY-MM-DD"),
        ("2026-W52-1", "expected YYYY-MM-DD"),
        ("2026-11-23..9999-12-31", "9999-12-31 is after 2100; check the year"),
        ("1026-12-21", "1026-12-21 is before 1900; check the year"),
    ],
)
def test_bad_closures_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(MesoError, match=message) as err:
        parse_closure(text)
    assert err.value.exit_code == 2


def test_next_open_skips_closures_and_holidays() -> None:
    clinic = Clinic(
        closures=(Closure(date(2026, 12, 21), date(2026, 12, 31)),),
        holidays={date(2027, 1, 1): "New Year's Day"},
    )
    assert clinic.next_open(date(2026, 12, 19)) == date(2027, 1, 4)
    assert clinic.closed_because(date(2027, 1, 1)) == "public holiday: New Year's Day"


def test_a_long_closure_is_skipped_but_a_calendar_with_no_open_day_is_an_error() -> None:
    year = Closure(date(2026, 1, 1), date(2027, 1, 1))
    clinic = Clinic(open_days=frozenset({6}), closures=(year,))
    assert clinic.next_open(date(2026, 6, 1)) == date(2027, 1, 3)
    every_day = {date.fromordinal(date(2026, 1, 1).toordinal() + i): "Feast" for i in range(1200)}
    with pytest.raises(MesoError, match="no open day between 2026-01-01 and 2029-01-0") as err:
        Clinic(holidays=every_day).next_open(date(2026, 1, 1))
    assert "closed throughout (check --closed and --open-days)" in str(err.value)


@pytest.mark.parametrize(
    "last", [date(2030, 1, 1), date(2100, 12, 31), date(9999, 12, 31), date.max]
)
def test_the_search_for_an_open_day_stops_after_the_horizon(last: date) -> None:
    """However long the closure, the search gives up HORIZON_YEARS on, never overflowing."""
    clinic = Clinic(closures=(Closure(date(2026, 11, 23), last),))
    with pytest.raises(MesoError, match="no open day between 2026-11-23 and 2029-11-2"):
        clinic.next_open(date(2026, 11, 23))
    assert HORIZON_YEARS == 3


def test_the_search_near_the_end_of_the_calendar_does_not_overflow() -> None:
    clinic = Clinic(closures=(Closure(date(9999, 12, 1), date.max),))
    with pytest.raises(MesoError, match=f"no open day between 9999-12-20 and {date.max}"):
        clinic.next_open(date(9999, 12, 20))
    assert Clinic().next_open(date(9999, 12, 31)) == date(9999, 12, 31)  # a Friday


def test_a_closure_just_inside_the_horizon_is_skipped() -> None:
    clinic = Clinic(closures=(Closure(date(2026, 11, 23), date(2029, 11, 1)),))
    assert clinic.next_open(date(2026, 11, 23)) == date(2029, 11, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11-23", None),
        (" 1900-01-01 ", None),
        ("2100-12-31", None),
        ("2101-01-01", "--on '2101-01-01': 2101-01-01 is after 2100; check the year"),
        ("9999-12-20", "--on '9999-12-20': 9999-12-20 is after 2100; check the year"),
        ("1899-12-31", "--on '1899-12-31': 1899-12-31 is before 1900; check the year"),
        ("2026-02-30", "--on '2026-02-30': expected a date as YYYY-MM-DD; 2026-02-30 is not a"),
        ("20261123", "--on '20261123': expected a date as YYYY-MM-DD"),
        ("2026-W48-1", "--on '2026-W48-1': expected a date as YYYY-MM-DD"),
        # Full-width digits: fromisoformat refuses them, and so must the pattern before it.
        ("\uff12\uff10\uff12\uff16-11-23", "--on '\uff12\uff10\uff12\uff16-11-23': expected"),
    ],
)
def test_parse_day_takes_real_dates_in_sane_years(text: str, message: str | None) -> None:
    if message is None:
        assert parse_day(text, f"--on {text!r}").isoformat() == text.strip()
        return
    with pytest.raises(MesoError) as err:
        parse_day(text, f"--on {text!r}")
    assert str(err.value).startswith(message), err.value
    assert err.value.exit_code == 2


def test_year_problem_bounds() -> None:
    assert year_problem(date(FIRST_YEAR, 1, 1)) is None
    assert year_problem(date(LAST_YEAR, 12, 31)) is None
    assert year_problem(date(1, 1, 1)) == "0001-01-01 is before 1900; check the year"


def test_public_holidays_have_english_names() -> None:
    tr = public_holidays("tr", years=[2026])
    assert tr[date(2026, 10, 29)] == "Republic Day"
    # Further years fill in when looked up.
    assert Clinic(holidays=tr, country="TR").closed_because(date(2030, 1, 1)) == (
        "public holiday (TR): New Year's Day"
    )
    de = public_holidays("Germany")
    assert de.get(date(2026, 12, 25)) == "Christmas Day"


@pytest.mark.parametrize("text", ["", "  "])
def test_an_empty_country_is_a_usage_error(text: str) -> None:
    with pytest.raises(MesoError, match="^--holidays: give a country code such as TR or FR$"):
        public_holidays(text)


def test_unknown_country_is_a_usage_error_with_suggestions() -> None:
    with pytest.raises(MesoError) as err:
        public_holidays("Turkei")
    assert "unknown country 'Turkei'" in str(err.value)
    assert "'turkey'" in str(err.value)
    assert err.value.exit_code == 2
    with pytest.raises(MesoError, match="unknown country 'XX' for --holidays: give an ISO 3166"):
        public_holidays("XX")


# --- write_atomic ----------------------------------------------------------------------------


def test_write_atomic_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert target.stat().st_mode & 0o777 == 0o640
    write_atomic(str(target), b"bytes")
    assert target.read_bytes() == b"bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.ics"]


def test_write_atomic_failure_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_text("keep")
    with pytest.raises(MesoError, match="cannot write .*taken"):
        write_atomic(target, "data")
    assert (target / "inside").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    with pytest.raises(MesoError, match="cannot write"):
        write_atomic(tmp_path / "missing" / "x.ics", "data")


def test_write_atomic_without_replace_never_writes_over_a_file(tmp_path: Path) -> None:
    from meso_cli.errors import FileExists

    target = tmp_path / "p.yaml"
    write_atomic(target, "first", replace=False)  # a new file is written as usual
    assert target.read_text(encoding="utf-8") == "first"
    with pytest.raises(FileExists, match="exists; nothing was written over it"):
        write_atomic(target, "second", replace=False)
    assert target.read_text(encoding="utf-8") == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["p.yaml"]  # no temporary file left
