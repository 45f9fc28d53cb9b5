"""The pure planner: course shape, placement on open days, courses under way, key dates."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest

from meso_cli.clinic import Clinic, Closure
from meso_cli.errors import MesoError
from meso_cli.models import Dataset, Note, Patient, Plan, Verdict
from meso_cli.planning import (
    course_slots,
    phase_counts,
    plan_made,
    screen_and_plan,
)
from meso_cli.screening import Screener


def texts(notes: list[Note]) -> list[str]:
    """The words of warnings or assumptions, as people read them."""
    return [n.text for n in notes]


EVERY_DAY = Clinic(open_days=frozenset(range(7)))
ON = date(2026, 11, 22)


def patient(**fields: Any) -> Patient:
    return Patient.model_validate({"id": "P-1", "birth_date": "1988-03-14", **fields})


def make(
    data: Dataset,
    protocol: str = "hair",
    clinic: Clinic = EVERY_DAY,
    *,
    who: Patient | None = None,
    on: date = ON,
    start: date | None = date(2026, 12, 1),
    **options: Any,
) -> Plan:
    chosen = data.protocol(protocol)
    assert chosen is not None
    return screen_and_plan(
        who or patient(), chosen, Screener(data), clinic, on=on, start=start, **options
    )


def dates(p: Plan) -> list[str]:
    return [str(s.date) for s in p.sessions]


def gaps(p: Plan) -> list[int | None]:
    return [s.days_since_previous for s in p.sessions]


# --- the course -------------------------------------------------------------------------------


def test_hair_default_course_is_eight_weekly_then_two_monthly(data: Dataset) -> None:
    p = make(data)
    assert dates(p) == [
        "2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22", "2026-12-29",
        "2027-01-05", "2027-01-12", "2027-01-19", "2027-02-18", "2027-03-20",
    ]  # fmt: skip
    assert [s.phase for s in p.sessions] == ["weekly"] * 8 + ["monthly"] * 2
    assert gaps(p) == [None, 7, 7, 7, 7, 7, 7, 7, 30, 30]
    assert p.key_dates.stop_nsaids_by == date(2026, 11, 24)
    assert p.key_dates.first_session == date(2026, 12, 1)
    assert p.key_dates.last_session == date(2027, 3, 20)
    assert p.key_dates.sun_avoid_until == date(2027, 4, 9)
    assert p.warnings == []
    assert plan_made(p)


@pytest.mark.parametrize(
    ("n", "weekly", "monthly"),
    [(1, 1, 0), (5, 5, 0), (8, 8, 0), (9, 8, 1), (10, 8, 2)],
)
def test_sessions_fill_in_order_and_empty_in_reverse(
    data: Dataset, n: int, weekly: int, monthly: int
) -> None:
    hair = data.protocol("hair")
    assert hair is not None
    assert phase_counts(hair, n) == {"weekly": weekly, "monthly": monthly}
    p = make(data, sessions=n)
    assert [s.phase for s in p.sessions] == ["weekly"] * weekly + ["monthly"] * monthly


@pytest.mark.parametrize("n", [0, 11, 40])
def test_sessions_outside_the_range_name_the_range(data: Dataset, n: int) -> None:
    # No source gives a hair course of more than 10 sessions in all (001, 002).
    with pytest.raises(MesoError, match=r"--sessions .*hair course takes 1 to 10 sessions"):
        make(data, sessions=n)


def test_cellulite_lists_its_maintenance_series(data: Dataset) -> None:
    p = make(data, "cellulite")
    phases = [s.phase for s in p.sessions]
    assert phases == ["treatment"] * 10 + ["maintenance"] * 6
    # Maintenance keeps its default when --sessions changes the course proper.
    q = make(data, "cellulite", sessions=14)
    assert [s.phase for s in q.sessions].count("treatment") == 14
    assert [s.phase for s in q.sessions].count("maintenance") == 6
    assert q.warnings == []
    with pytest.raises(MesoError, match="8 to 20 sessions .maintenance not counted"):
        make(data, "cellulite", sessions=21)


def test_more_than_the_usual_count_is_warned(data: Dataset) -> None:
    p = make(data, "cellulite", sessions=16)
    assert (
        "16 sessions of phase treatment: more than the usual 14 (up to 20" in texts(p.warnings)[0]
    )


def test_twice_a_week_alternates_four_and_three_days(data: Dataset) -> None:
    p = make(data, "cellulite", per_week=2, start=date(2026, 11, 30))  # a Monday
    treatment = [s for s in p.sessions if s.phase == "treatment"]
    assert [s.days_since_previous for s in treatment] == [None, 4, 3, 4, 3, 4, 3, 4, 3, 4]
    weeks = [s.date.isocalendar()[1] for s in treatment]
    assert all(weeks.count(w) == 2 for w in set(weeks))
    assert p.warnings == []


def test_once_a_week_is_seven_days(data: Dataset) -> None:
    p = make(data, "cellulite", per_week=1)
    treatment = [s for s in p.sessions if s.phase == "treatment"]
    assert {s.days_since_previous for s in treatment[1:]} == {7}


def test_per_week_only_where_the_protocol_offers_it(data: Dataset) -> None:
    with pytest.raises(MesoError, match="--per-week 3: protocol cellulite allows 1 or 2"):
        make(data, "cellulite", per_week=3)
    with pytest.raises(MesoError, match="protocol hair has no choice of sessions per week"):
        make(data, "hair", per_week=2)


def test_intervals_come_from_the_data(data: Dataset) -> None:
    face = data.protocol("face-rejuvenation")
    assert face is not None
    slots = course_slots(face)
    assert [s.target for s in slots[1:]] == [7, 7, 14, 14]
    assert [s.phase.id for s in slots] == ["initial"] * 3 + ["spaced"] * 2


# --- placement on the clinic calendar --------------------------------------------------------


def test_first_session_on_the_first_open_day_from_the_start(data: Dataset) -> None:
    p = make(data, clinic=Clinic(), start=date(2026, 12, 5))  # a Saturday
    assert p.sessions[0].date == date(2026, 12, 7)
    assert p.sessions[0].note == "moved from Sat 2026-12-05 (Saturday, not an open day)"


def test_closed_target_moves_to_the_nearest_open_day_in_range_preferring_later(
    data: Dataset,
) -> None:
    # Monthly target Saturday 2027-02-13 (30 days after 2027-01-14): Friday is nearer.
    p = make(data, clinic=Clinic(), start=date(2026, 11, 26))
    assert p.sessions[8].date == date(2027, 2, 12)
    assert p.sessions[8].days_since_previous == 29
    # A Wednesday closure with Tuesday and Thursday both in range: the later day wins.
    wed = Clinic(closures=(Closure(date(2027, 2, 10), date(2027, 2, 10)),))
    q = make(data, clinic=wed, start=date(2026, 11, 23))
    assert q.sessions[7].date == date(2027, 1, 11)
    assert q.sessions[8].date == date(2027, 2, 11)
    assert q.sessions[8].note == "moved from Wed 2027-02-10 (clinic closed 2027-02-10)"


def test_weekly_sessions_can_only_move_later(data: Dataset) -> None:
    closed = Clinic(closures=(Closure(date(2026, 12, 8), date(2026, 12, 8)),))
    p = make(data, clinic=closed)
    assert p.sessions[1].date == date(2026, 12, 9)
    assert p.sessions[1].days_since_previous == 8
    assert p.sessions[2].date == date(2026, 12, 16)


def test_an_earlier_session_moves_inside_its_limits_so_a_later_one_keeps_its_interval(
    data: Dataset,
) -> None:
    # Session 8 on 2027-01-19 would leave the monthly window 2027-02-16..2027-02-23 all closed;
    # weekly sessions may be 7-14 days apart, so session 8 waits three days and session 9
    # lands on the first open day, 28 days later: no interval runs over.
    shut = Clinic(
        open_days=frozenset(range(7)),
        closures=(Closure(date(2027, 2, 16), date(2027, 2, 25)),),
    )
    p = make(data, clinic=shut)
    assert p.sessions[7].date == date(2027, 1, 22)
    assert p.sessions[7].note == (
        "moved from Tue 2027-01-19: the sessions after it would not keep within their intervals"
    )
    assert p.sessions[8].date == date(2027, 2, 26)
    assert p.sessions[8].days_since_previous == 35
    assert p.warnings == []


def test_no_layout_inside_the_limits_stretches_the_interval_and_says_so(data: Dataset) -> None:
    # Closed from 2027-01-20 to the end of March: whatever the weekly sessions do, one interval
    # crosses the closure. The sessions keep their targets and session 9 says why it is late.
    shut = Clinic(
        open_days=frozenset(range(7)),
        closures=(Closure(date(2027, 1, 20), date(2027, 3, 31)),),
    )
    p = make(data, clinic=shut)
    assert dates(p)[:8] == [str(date(2026, 12, 1) + timedelta(days=7 * i)) for i in range(8)]
    assert p.sessions[8].date == date(2027, 4, 1)
    assert p.sessions[8].note == (
        "moved from Thu 2027-02-18 (clinic closed 2027-01-20..2027-03-31); "
        "none open by Tue 2027-02-23 (clinic closed 2027-01-20..2027-03-31)"
    )
    assert texts(p.warnings) == [
        "session 9: 72 days after session 8, above the 35-day maximum of phase monthly"
    ]


def test_holiday_names_show_when_a_session_moves(data: Dataset) -> None:
    christmas = Clinic(holidays={date(2026, 12, 25): "Christmas Day"}, country="DE")
    p = make(data, clinic=christmas, start=date(2026, 12, 4))
    moved = [s for s in p.sessions if s.note]
    assert moved[0].date == date(2026, 12, 28)
    assert moved[0].note == "moved from Fri 2026-12-25 (public holiday (DE): Christmas Day)"
    assert moved[0].days_since_previous == 10
    assert p.warnings == []


# --- a course under way ----------------------------------------------------------------------


def test_done_sessions_count_and_the_plan_continues_after_the_last(data: Dataset) -> None:
    who = patient(sessions_done=["2026-11-10", "2026-11-03"])
    p = make(data, who=who, start=None, on=ON)
    assert [s.done for s in p.sessions] == [True, True] + [False] * 8
    assert dates(p)[:3] == ["2026-11-03", "2026-11-10", "2026-11-22"]
    assert p.sessions[2].days_since_previous == 12
    assert p.key_dates.first_session == date(2026, 11, 22)
    assert p.key_dates.stop_nsaids_by == date(2026, 11, 15)
    assert p.warnings == []


def test_gaps_above_the_maximum_are_warned_for_done_and_next(data: Dataset) -> None:
    who = patient(sessions_done=["2026-09-01", "2026-09-20"])
    p = make(data, who=who, start=None)
    assert texts(p.warnings) == [
        "session 2 (done): 19 days after session 1, above the 14-day maximum of phase weekly",
        "session 3: 63 days after session 2, above the 14-day maximum of phase weekly",
    ]
    assert p.sessions[2].date == ON


def test_a_completed_course_has_only_done_sessions(data: Dataset) -> None:
    done = [str(date(2026, 1, 5) + timedelta(days=7 * i)) for i in range(8)]
    done += ["2026-03-25", "2026-04-24"]
    p = make(data, who=patient(sessions_done=done), start=None)
    assert all(s.done for s in p.sessions) and len(p.sessions) == 10
    assert p.key_dates.first_session is None and p.key_dates.stop_nsaids_by is None
    assert p.key_dates.sun_avoid_until == date(2026, 5, 14)
    assert "course complete: 10 sessions already done; nothing left to plan" in texts(p.warnings)
    assert plan_made(p)


# --- key dates, aftercare, sun --------------------------------------------------------------


def test_no_needle_has_no_nsaid_date(data: Dataset) -> None:
    p = make(data, "no-needle")
    assert p.key_dates.stop_nsaids_by is None
    assert p.key_dates.first_session == date(2026, 12, 1)


def test_aftercare_is_dated_where_it_has_a_duration(data: Dataset) -> None:
    p = make(data)
    assert (
        "No sun and no solarium during the course and for 20 days after the last session "
        "— until 2027-04-09"
    ) in p.aftercare
    assert "Wait 6 hours after a session before taking a bath." in p.aftercare
    assert any(line.startswith("Do not wash or wet the hair") for line in p.aftercare)


def test_sun_exposure_overlapping_the_course_or_its_tail_is_warned(data: Dataset) -> None:
    who = patient(
        sun_exposure=[
            {"from": "2027-04-05", "to": "2027-04-12"},  # in the 20-day tail
            {"from": "2027-04-10", "to": "2027-04-20"},  # after sun_avoid_until
            {"from": "2026-11-01", "to": "2026-11-10"},  # before the course
        ]
    )
    p = make(data, who=who)
    assert texts(p.warnings) == [
        "planned sun exposure 2027-04-05..2027-04-12 overlaps the course or its sun-free "
        "days after it (2026-12-01 to 2027-04-09): no sun or solarium until 2027-04-09",
    ]


# --- screening first ---------------------------------------------------------------------------


def test_a_deferral_with_a_known_end_moves_the_start(data: Dataset) -> None:
    who = patient(medications=[{"name": "ibuprofen", "last_dose": "2026-11-20"}])
    p = make(data, who=who, start=None)
    assert p.start_moved_from == ON
    assert p.sessions[0].date == date(2026, 11, 27)
    assert p.screening.verdict is Verdict.DEFERRED
    assert p.screening.earliest_start == date(2026, 11, 27)
    assert texts(p.warnings)[0] == (
        "start moved from 2026-11-22 to 2026-11-27: deferred by nsaid-washout (ibuprofen) "
        "until 2026-11-27"
    )
    assert plan_made(p)


def test_a_start_after_a_deferral_ends_plans_from_the_start_and_shows_the_deferral(
    data: Dataset,
) -> None:
    who = patient(medications=["ibuprofen"])  # taken now: washout to 2026-11-29
    p = make(data, who=who, start=date(2026, 12, 14))
    assert plan_made(p)
    assert p.sessions[0].date == date(2026, 12, 14)
    assert p.start_moved_from is None
    assert p.screening.verdict is Verdict.DEFERRED
    assert p.screening.earliest_start == date(2026, 11, 29)
    assert [f.rule for f in p.screening.findings] == ["nsaid-washout"]


def test_a_start_on_a_closed_day_after_a_deferral_ends_still_plans(data: Dataset) -> None:
    # 13 December 2026 is a Sunday: the patient is screened again on Monday the 14th, where
    # the ended washout is still in view; that must not stop the plan.
    who = patient(medications=["ibuprofen"])
    weekdays = Clinic(open_days=frozenset(range(5)))
    p = make(data, clinic=weekdays, who=who, start=date(2026, 12, 13))
    assert plan_made(p)
    assert p.sessions[0].date == date(2026, 12, 14)
    assert p.screening.earliest_start == date(2026, 11, 29)


def test_the_start_moved_note_names_only_the_deferrals_that_moved_it(data: Dataset) -> None:
    who = patient(
        medications=["ibuprofen"],  # ends 2026-11-29, before the start asked for
        conditions=[{"name": "herpes zoster", "resolved_on": "2026-12-15"}],
    )
    p = make(data, who=who, start=date(2026, 12, 10))
    assert p.start_moved_from == date(2026, 12, 10)
    assert texts(p.warnings)[0] == (
        "start moved from 2026-12-10 to 2026-12-15: deferred by skin-disease-at-site "
        "(herpes zoster) until 2026-12-15"
    )


@pytest.mark.parametrize(
    ("fields", "verdict", "why"),
    [
        ({"pregnant": True}, Verdict.NOT_ELIGIBLE, "no plan: not eligible (pregnancy)"),
        ({"medications": ["warfarin"]}, Verdict.REVIEW, "no plan: review required (anticoagulant)"),
        (
            {"fever": True},
            Verdict.DEFERRED,
            "no plan: deferred with no known end (acute-infection)",
        ),
    ],
)
def test_no_plan_without_a_treatable_start(
    data: Dataset, fields: dict[str, Any], verdict: Verdict, why: str
) -> None:

    p = make(data, who=patient(**fields))
    assert p.screening.verdict is verdict
    assert p.sessions == []
    assert p.key_dates.first_session is None and p.key_dates.sun_avoid_until is None
    assert texts(p.warnings)[-1].startswith(why)
    assert not plan_made(p)


def test_a_cleared_review_plans(data: Dataset) -> None:
    p = make(data, who=patient(medications=["warfarin"]), clear=["anticoagulant"])
    assert p.screening.verdict is Verdict.ELIGIBLE
    assert len(p.sessions) == 10


def test_start_before_the_reference_date_is_refused(data: Dataset) -> None:
    with pytest.raises(MesoError, match="--start 2026-11-01 is before the reference date"):
        make(data, start=date(2026, 11, 1))


def test_the_planner_loads_no_ui_or_calendar_library() -> None:
    # Start-up speed and layering: holidays and icalendar load only when asked for.
    code = (
        "import sys, meso_cli.planning, meso_cli.clinic, meso_cli.files, meso_cli.render.ics;"
        "print(sorted(m for m in ('typer', 'rich', 'holidays', 'icalendar') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
