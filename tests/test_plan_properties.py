"""Calendar invariants over random protocols, starts, clinic calendars and courses under way."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meso_cli.clinic import Clinic, Closure
from meso_cli.data import load_dataset
from meso_cli.files import packaged_data_dir
from meso_cli.models import Cadence, Interval, Note, Patient, Phase, Protocol, SessionCount
from meso_cli.planning import course_range, course_slots, phase_counts, plan, plan_made
from meso_cli.screening import screen


def texts(notes: list[Note]) -> list[str]:
    """The words of warnings or assumptions, as people read them."""
    return [n.text for n in notes]


DATA = load_dataset(packaged_data_dir())
SRC = ["000_83a82c1e611c96ee.txt"]
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Leap days, year ends and month ends are where calendar arithmetic goes wrong.
TRICKY = [
    date(2024, 2, 29), date(2028, 2, 29), date(2025, 12, 31), date(2026, 12, 31),
    date(2027, 12, 30), date(2028, 1, 31), date(2100, 2, 28), date(2099, 12, 31),
]  # fmt: skip
starts = st.one_of(st.sampled_from(TRICKY), st.dates(date(2000, 1, 1), date(2099, 6, 30)))


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    low = draw(st.integers(1, 30))
    high = draw(st.integers(low, low + 30))
    return Interval(min=low, target=draw(st.integers(low, high)), max=high)


@st.composite
def phases(draw: st.DrawFn, index: int, maintenance: bool) -> Phase:
    low = draw(st.integers(0, 4))
    high = draw(st.integers(max(low, 1), low + 6))
    cadences = []
    if draw(st.booleans()):
        for k in draw(st.sets(st.integers(1, 4), min_size=1, max_size=3)):
            lo = draw(st.integers(1, 7))
            hi = draw(st.integers(lo, 8))
            cadences.append(Cadence(per_week=k, min=lo, target=draw(st.integers(lo, hi)), max=hi))
    return Phase(
        id=f"p{index}",
        name=f"Phase {index}",
        sessions=SessionCount(min=low, default=draw(st.integers(low, high)), max=high),
        interval_days=draw(intervals()),
        per_week=cadences,
        maintenance=maintenance,
        sources=SRC,
    )


@st.composite
def synthetic(draw: st.DrawFn) -> Protocol:
    count = draw(st.integers(1, 3))
    has_maintenance = count > 1 and draw(st.booleans())
    drawn = [draw(phases(i, has_maintenance and i == count - 1)) for i in range(count)]
    if sum(p.sessions.default for p in drawn if not p.maintenance) == 0:
        first = drawn[0]
        counts = SessionCount(min=first.sessions.min, default=1, max=max(1, first.sessions.max))
        drawn[0] = first.model_copy(update={"sessions": counts})
    return Protocol(
        id="synthetic",
        name="Synthetic",
        indications=["testing"],
        injects=True,
        ingredients=[],
        phases=drawn,
        results="-",
        sources=SRC,
    )


protocols = st.one_of(st.sampled_from(DATA.protocols), synthetic())


@st.composite
def clinics(draw: st.DrawFn, start: date) -> Clinic:
    open_days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    closures = []
    for _ in range(draw(st.integers(0, 4))):
        first = start + timedelta(days=draw(st.integers(-30, 300)))
        closures.append(Closure(first, first + timedelta(days=draw(st.integers(0, 25)))))
    offsets = draw(st.lists(st.integers(0, 400), max_size=12))
    holidays = {start + timedelta(days=o): f"Holiday {o}" for o in offsets}
    return Clinic(open_days=open_days, closures=tuple(closures), holidays=holidays)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    protocol = draw(protocols)
    start = draw(starts)
    low, high = course_range(protocol)
    sessions = draw(st.one_of(st.none(), st.integers(low, high)))
    allowed = sorted({c.per_week for p in protocol.phases for c in p.per_week})
    per_week = draw(st.one_of(st.none(), st.sampled_from(allowed))) if allowed else None
    back = draw(st.lists(st.integers(1, 200), unique=True, max_size=12))
    done = sorted(start - timedelta(days=b) for b in back)
    return {
        "protocol": protocol,
        "start": start,
        "clinic": draw(clinics(start)),
        "sessions": sessions,
        "per_week": per_week,
        "done": done,
    }


def run(case: dict[str, Any]) -> Any:
    protocol: Protocol = case["protocol"]
    patient = Patient(age=40, sessions_done=case["done"])
    screening = screen(patient, protocol, DATA, on=case["start"])
    return plan(
        screening,
        patient,
        protocol,
        DATA,
        case["clinic"],
        start=case["start"],
        sessions=case["sessions"],
        per_week=case["per_week"],
    )


@PROPERTY
@given(cases())
def test_sessions_sorted_numbered_and_never_on_a_closed_day(case: dict[str, Any]) -> None:
    result = run(case)
    days = [s.date for s in result.sessions]
    assert days == sorted(days) and len(set(days)) == len(days)
    assert [s.number for s in result.sessions] == list(range(1, len(days) + 1))
    clinic: Clinic = case["clinic"]
    for s in result.sessions:
        if not s.done:
            assert clinic.is_open(s.date), (s, clinic.closed_because(s.date))
            assert s.date >= case["start"]
    assert [s.date for s in result.sessions if s.done] == case["done"]
    assert plan_made(result)


@PROPERTY
@given(cases())
def test_counts_stay_within_each_phase_min_max(case: dict[str, Any]) -> None:
    protocol: Protocol = case["protocol"]
    result = run(case)
    counts = phase_counts(protocol, case["sessions"])
    slots = course_slots(protocol, sessions=case["sessions"], per_week=case["per_week"])
    for phase in protocol.phases:
        assert phase.sessions.min <= counts[phase.id] <= phase.sessions.max
    course = sum(counts[p.id] for p in protocol.course_phases())
    if case["sessions"] is not None:
        assert course == case["sessions"]
    assert len(result.sessions) == max(len(slots), len(case["done"]))
    # phases come in order
    order = [p.id for p in protocol.phases]
    seen = [s.phase for s in result.sessions[: len(slots)]]
    assert seen == sorted(seen, key=order.index)


@PROPERTY
@given(cases())
def test_every_interval_is_within_its_phase_or_warned(case: dict[str, Any]) -> None:
    protocol: Protocol = case["protocol"]
    result = run(case)
    slots = course_slots(protocol, sessions=case["sessions"], per_week=case["per_week"])
    for s, slot in zip(result.sessions, slots, strict=False):
        gap = s.days_since_previous
        if gap is None or slot.bounds.min <= gap <= slot.bounds.max:
            continue
        which = f"session {s.number}" + (" (done)" if s.done else "")
        assert any(w.startswith(f"{which}: {gap} days after") for w in texts(result.warnings)), (
            s,
            texts(result.warnings),
        )


@PROPERTY
@given(cases())
def test_key_dates_follow_the_sessions(case: dict[str, Any]) -> None:
    result = run(case)
    k = result.key_dates
    pending = [s.date for s in result.sessions if not s.done]
    assert k.first_session == (pending[0] if pending else None)
    assert k.last_session == result.sessions[-1].date
    assert k.sun_avoid_until == k.last_session + timedelta(days=20)
    protocol: Protocol = case["protocol"]
    if pending and "nsaid-washout" not in protocol.exempt_rules:
        assert k.stop_nsaids_by == pending[0] - timedelta(days=7)
    else:
        assert k.stop_nsaids_by is None


def _legal_layout_exists(case: dict[str, Any]) -> bool:
    """Whether the sessions to come can all keep within their phases' min-max: a plain search
    of every open day each session may take (the first within a week of the first open day),
    written apart from the planner to check it."""
    protocol: Protocol = case["protocol"]
    clinic: Clinic = case["clinic"]
    start: date = case["start"]
    slots = course_slots(protocol, sessions=case["sessions"], per_week=case["per_week"])
    done: list[date] = case["done"]
    pending = slots[len(done) :]
    failed: set[tuple[int, date]] = set()

    def fits(index: int, prev: date | None) -> bool:
        if index == len(pending):
            return True
        if prev is None:
            first = clinic.next_open(start)
            days = [first + timedelta(days=n) for n in range(8)]
        else:
            if (index, prev) in failed:
                return False
            low = max(prev + timedelta(days=pending[index].bounds.min), start)
            high = prev + timedelta(days=pending[index].bounds.max)
            days = [low + timedelta(days=n) for n in range((high - low).days + 1)]
        if any(clinic.is_open(d) and fits(index + 1, d) for d in days):
            return True
        if prev is not None:
            failed.add((index, prev))
        return False

    return fits(0, done[-1] if done else None)


@PROPERTY
@given(cases())
def test_an_interval_runs_over_only_when_no_layout_keeps_them_all(case: dict[str, Any]) -> None:
    result = run(case)
    over = [
        w.text
        for w in result.warnings
        if w.code.value == "interval-above-maximum" and "(done)" not in w.text
    ]
    if _legal_layout_exists(case):
        assert over == [], over
    else:
        assert over, "no layout keeps every interval, yet none is reported over"


def test_twice_a_week_with_turkish_holidays_from_every_start_of_a_year() -> None:
    """A table of real calendars: cellulite at two a week, Monday to Friday, Turkey's public
    holidays, from each of 365 starts. An interval runs over only where no layout keeps them
    all (a four-day religious holiday can close every day 3-4 days after a session), and a
    course never begins on a Wednesday: Saturday and Sunday are the only days 3-4 days after
    it."""
    from meso_cli.clinic import public_holidays

    cellulite = DATA.protocol("cellulite")
    assert cellulite is not None
    turkey = Clinic(holidays=public_holidays("TR"), country="TR")
    unavoidable = 0
    for offset in range(365):
        day = date(2026, 11, 23) + timedelta(days=offset)
        case = {
            "protocol": cellulite,
            "start": day,
            "clinic": turkey,
            "sessions": None,
            "per_week": 2,
            "done": [],
        }
        result = run(case)
        over = [w.text for w in result.warnings if w.code.value == "interval-above-maximum"]
        if not _legal_layout_exists(case):
            unavoidable += 1
            assert over, day
            continue
        assert over == [], (day, over)
        if day.weekday() == 2:  # the case: never Wednesday, then Monday 5 days on
            assert result.sessions[0].date != day, day
    # Most starts fit; the few that cannot are the ones a long holiday cuts across.
    print(f"{unavoidable} of 365 starts cannot keep every interval")
    assert unavoidable < 60, unavoidable
