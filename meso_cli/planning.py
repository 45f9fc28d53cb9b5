"""plan(): screen, then lay a protocol's course on the clinic's calendar (pure, no clock)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import assert_never

from meso_cli import __version__
from meso_cli.clinic import Clinic
from meso_cli.errors import MesoError
from meso_cli.models import (
    Action,
    Cadence,
    CareItem,
    Dataset,
    Finding,
    Interval,
    KeyDates,
    Note,
    NoteCode,
    Patient,
    Phase,
    Plan,
    Protocol,
    Screening,
    Session,
    TakesMedication,
    Verdict,
    flat,
)
from meso_cli.screening import Screener

# A deferral that ends may reveal another behind it (re-screened at the new start); each round
# moves the start strictly later, and the data has only a handful of defer rules.
_MAX_MOVES = 10
_LATE_START_DAYS = 14  # a first session later than this after the start is called out

STOP_NSAIDS_ITEM = "stop-nsaids"
SUN_ITEM = "sun"


@dataclass(frozen=True)
class Slot:
    """One session of the course: its phase and the days allowed since the previous session."""

    phase: Phase
    bounds: Interval
    target: int
    label: str  # how warnings name the phase: "weekly", "treatment at 2 a week"


def course_slots(
    protocol: Protocol, *, sessions: int | None = None, per_week: int | None = None
) -> list[Slot]:
    """Every session of the course in order, maintenance included. Checks the options."""
    counts = phase_counts(protocol, sessions)
    if not any(counts.values()):
        raise MesoError(f"protocol {protocol.id} has no sessions to plan (check its data)")
    cadences = _cadences(protocol, per_week)
    slots: list[Slot] = []
    for phase in protocol.phases:
        cadence = cadences.get(phase.id)
        bounds: Interval = cadence or phase.interval_days
        label = phase.id if cadence is None else f"{phase.id} at {cadence.per_week} a week"
        # The interval into a phase's first session belongs to that phase; the very first
        # session of the course has none, so its phase's intervals start counting after it.
        intervals = 0
        for _ in range(counts[phase.id]):
            if slots or intervals:
                target = _target(bounds, cadence.per_week if cadence else 1, intervals)
                intervals += 1
            else:
                target = bounds.target
            slots.append(Slot(phase, bounds, target, label))
    return slots


def course_range(protocol: Protocol) -> tuple[int, int]:
    """The fewest and most sessions --sessions may ask for (maintenance not counted)."""
    course = protocol.course_phases()
    low = max(1, sum(p.sessions.min for p in course))
    return low, sum(p.sessions.max for p in course)


def phase_counts(protocol: Protocol, sessions: int | None) -> dict[str, int]:
    """Sessions per phase: the defaults, or `sessions` spread over the course phases.

    More than the defaults fills phases in order up to each maximum; fewer empties them in
    reverse order down to each minimum. Maintenance phases keep their default.
    """
    counts = {p.id: p.sessions.default for p in protocol.phases}
    if sessions is None:
        return counts
    low, high = course_range(protocol)
    if not low <= sessions <= high:
        raise MesoError(
            f"--sessions {sessions}: the {protocol.id} course takes {low} to {high} sessions"
            + (
                " (maintenance not counted)"
                if len(protocol.course_phases()) < len(protocol.phases)
                else ""
            )
        )
    course = protocol.course_phases()
    extra = sessions - sum(counts[p.id] for p in course)
    for phase in course if extra > 0 else reversed(course):
        if extra > 0:
            step = min(extra, phase.sessions.max - counts[phase.id])
        else:
            step = max(extra, phase.sessions.min - counts[phase.id])
        counts[phase.id] += step
        extra -= step
    return counts


def _cadences(protocol: Protocol, per_week: int | None) -> dict[str, Cadence]:
    if per_week is None:
        return {}
    allowed = sorted({c.per_week for p in protocol.phases for c in p.per_week})
    if not allowed:
        raise MesoError(
            f"--per-week {per_week}: protocol {protocol.id} has no choice of sessions per week "
            "(its phases fix the days between sessions)"
        )
    if per_week not in allowed:
        raise MesoError(
            f"--per-week {per_week}: protocol {protocol.id} allows "
            + " or ".join(str(n) for n in allowed)
        )
    return {p.id: c for p in protocol.phases for c in p.per_week if c.per_week == per_week}


def _target(bounds: Interval, per_week: int, index: int) -> int:
    """Days into interval `index` of a phase; with K a week, spread K sessions over 7 days."""
    if per_week <= 1:
        return bounds.target

    def half_up(n: int) -> int:  # round(7 * n / K) with halves up: 2 a week -> 4, 3, 4, 3
        return (14 * n + per_week) // (2 * per_week)

    days = half_up(index + 1) - half_up(index)
    return min(max(days, bounds.min), bounds.max)


# --- laying out the sessions ----------------------------------------------------------------


# How many days past the first open day the first session may wait so that the sessions after
# it keep within their intervals (cellulite twice a week from a Wednesday: Saturday and Sunday
# closed, so the course starts on Thursday). A week tries every weekday.
FIRST_SESSION_SLACK_DAYS = 7


def lay_out(
    slots: Sequence[Slot], clinic: Clinic, *, start: date, done: Sequence[date] = ()
) -> tuple[list[Session], list[Note]]:
    """Done sessions fill the first slots; the rest go on open days from `start` on.

    The sessions to come are laid out together (`_choose_days`): each on its target day or
    the nearest open day within its phase's min-max, and when the clinic's calendar leaves a
    later session no open day within its interval, earlier sessions move inside their own
    limits so that it has one. An interval runs over its maximum only when no layout avoids it.
    """
    sessions: list[Session] = []
    warnings: list[Note] = []
    prev: date | None = None
    fallback_phase = slots[-1].phase.id if slots else "course"
    for index, day in enumerate(sorted(done)):
        slot = slots[index] if index < len(slots) else None
        gap = (day - prev).days if prev is not None else None
        if slot is not None and gap is not None:
            warnings.extend(_gap_warnings(index + 1, gap, slot, done=True))
        sessions.append(
            Session(
                number=index + 1,
                date=day,
                phase=slot.phase.id if slot else fallback_phase,
                days_since_previous=gap,
                done=True,
            )
        )
        prev = day
    if done and len(done) >= len(slots):
        more = f", more than the {len(slots)} this course has" if len(done) > len(slots) else ""
        text = f"course complete: {len(done)} sessions already done{more}; nothing left to plan"
        warnings.append(Note(code=NoteCode.COURSE_COMPLETE, text=text))
    pending = list(slots[len(done) :])
    chosen = _choose_days(pending, clinic, start=start, prev=prev)
    for offset, (slot, day) in enumerate(zip(pending, chosen, strict=True)):
        number = len(done) + offset + 1
        target, options = _options(slot, clinic, start=start, prev=prev)
        gap = (day - prev).days if prev is not None else None
        if gap is not None:
            warnings.extend(_gap_warnings(number, gap, slot, done=False))
        sessions.append(
            Session(
                number=number,
                date=day,
                phase=slot.phase.id,
                days_since_previous=gap,
                done=False,
                note=_move_note(clinic, slot, prev, target, day, nearest=options[0][0]),
            )
        )
        prev = day
    return sessions, warnings


def _options(
    slot: Slot, clinic: Clinic, *, start: date, prev: date | None
) -> tuple[date, list[tuple[date, bool]]]:
    """A session's target day and the days it may take, best first, each with whether it
    keeps the interval inside the phase's min-max.

    The first session: the first open day on or after the start, then the open days of the
    week after it. A later session: the target if open, else the open days within min-max
    nearest the target first (on a tie the later day), never before the start; last, the
    first open day after the maximum, which stretches the interval.
    """
    if prev is None:
        first = clinic.next_open(start)
        week = (first + timedelta(days=n) for n in range(FIRST_SESSION_SLACK_DAYS + 1))
        return start, [(day, True) for day in week if clinic.is_open(day)]
    target = max(prev + timedelta(days=slot.target), start)
    floor = max(prev + timedelta(days=slot.bounds.min), start)
    ceiling = prev + timedelta(days=slot.bounds.max)
    inside = [
        floor + timedelta(days=n)
        for n in range((ceiling - floor).days + 1)
        if clinic.is_open(floor + timedelta(days=n))
    ]
    inside.sort(key=lambda day: (abs((day - target).days), -day.toordinal()))
    stretched = clinic.next_open(max(target, ceiling + timedelta(days=1)))
    return target, [*((day, True) for day in inside), (stretched, False)]


def _choose_days(
    slots: Sequence[Slot], clinic: Clinic, *, start: date, prev: date | None
) -> list[date]:
    """The days of the sessions to come: the layout with the fewest intervals over their
    maximum and, among those, the one that keeps each session, first to last, on its most
    preferred day (`_options`). With every interval inside its limits that is the layout
    placing each session in turn on its best day, which is tried first."""
    best: dict[tuple[int, date | None], tuple[int, tuple[date, ...]]] = {}

    def rest(index: int, after: date | None) -> tuple[int, tuple[date, ...]]:
        if index == len(slots):
            return 0, ()
        known = best.get((index, after))
        if known is not None:
            return known
        found: tuple[int, tuple[date, ...]] | None = None
        for day, keeps in _options(slots[index], clinic, start=start, prev=after)[1]:
            over, days = rest(index + 1, day)
            over += 0 if keeps else 1
            if found is None or over < found[0]:
                found = (over, (day, *days))
                if over == 0:
                    break  # nothing is better than every interval inside its limits
        assert found is not None  # every session has at least one day it may take
        best[(index, after)] = found
        return found

    return list(rest(0, prev)[1])


def _move_note(
    clinic: Clinic, slot: Slot, prev: date | None, target: date, day: date, *, nearest: date
) -> str | None:
    """Why a session is not on its target day: the target's closure; when it is not on the
    nearest day it could take either, that the sessions after it needed the move."""
    if day == target:
        return None
    closed = clinic.closed_because(target)
    note = f"moved from {_day(target)}" + (f" ({closed})" if closed else "")
    if day != nearest:
        why = "the sessions after it would not keep within their intervals"
        note += f": {why}" if nearest == target else f"; not {_day(nearest)}: {why}"
    elif prev is not None and day > (last := prev + timedelta(days=slot.bounds.max)):
        if last != target:
            note += f"; none open by {_day(last)} ({clinic.closed_because(last)})"
    return note


def _gap_warnings(number: int, gap: int, slot: Slot, *, done: bool) -> list[Note]:
    which = f"session {number}" + (" (done)" if done else "")
    if gap > slot.bounds.max:
        text = (
            f"{which}: {gap} days after session {number - 1}, above the "
            f"{slot.bounds.max}-day maximum of phase {slot.label}"
        )
        return [Note(code=NoteCode.INTERVAL_ABOVE_MAXIMUM, text=text)]
    if gap < slot.bounds.min:
        text = (
            f"{which}: {gap} days after session {number - 1}, below the "
            f"{slot.bounds.min}-day minimum of phase {slot.label}"
        )
        return [Note(code=NoteCode.INTERVAL_BELOW_MINIMUM, text=text)]
    return []


def _day(d: date) -> str:
    return f"{d:%a} {d}"


# --- the plan -------------------------------------------------------------------------------


def plan(
    screening: Screening,
    patient: Patient,
    protocol: Protocol,
    data: Dataset,
    clinic: Clinic,
    *,
    start: date,
    sessions: int | None = None,
    per_week: int | None = None,
    start_moved_from: date | None = None,
    warnings: Iterable[Note] = (),
) -> Plan:
    """The course for a patient the screening allows to treat from `start`."""
    slots = course_slots(protocol, sessions=sessions, per_week=per_week)
    laid, laid_warnings = lay_out(slots, clinic, start=start, done=patient.sessions_done)
    notes = [*warnings, *laid_warnings]
    counts = phase_counts(protocol, sessions)
    for phase in protocol.phases:
        usual = phase.sessions.usual_max
        if usual is not None and counts[phase.id] > usual:
            text = (
                f"{counts[phase.id]} sessions of phase {phase.id}: more than the usual {usual} "
                f"(up to {phase.sessions.max} in some cases)"
            )
            notes.append(Note(code=NoteCode.ABOVE_USUAL_COUNT, text=text))
    pending = [s for s in laid if not s.done]
    first = pending[0].date if pending else None
    last = laid[-1].date if laid else None
    washout = _washout_days(protocol, data)
    sun_days = _sun_days(protocol, data)
    key = KeyDates(
        stop_nsaids_by=first - timedelta(days=washout) if first and washout else None,
        first_session=first,
        last_session=last,
        sun_avoid_until=last + timedelta(days=sun_days) if last and sun_days is not None else None,
    )
    if laid and key.last_session is not None:
        notes.extend(_sun_warnings(patient, laid[0].date, key.sun_avoid_until or key.last_session))
    today = screening.reference_date
    # Where the screening already dated an NSAID's last dose, the start was set from it.
    stop = _stop_nsaids_item(protocol, data)
    dated = stop is not None and any(f.rule == stop.rule for f in screening.findings)
    if (
        key.stop_nsaids_by is not None
        and key.stop_nsaids_by < today
        and not dated
        and not patient.sessions_done
    ):
        text = (
            f"stop NSAIDs by {key.stop_nsaids_by}: that day has passed; ask whether any NSAID "
            "was taken since, and list it with its last dose"
        )
        notes.append(Note(code=NoteCode.STOP_NSAIDS_PASSED, text=text))
    return Plan(
        screening=screening,
        protocol=protocol.id,
        sessions=laid,
        key_dates=key,
        aftercare=aftercare_lines(protocol, data, last) if laid else [],
        warnings=notes,
        start_moved_from=start_moved_from,
        meso_version=__version__,
    )


def screen_and_plan(
    patient: Patient,
    protocol: Protocol,
    screener: Screener,
    clinic: Clinic,
    *,
    on: date,
    start: date | None = None,
    clear: Iterable[str] = (),
    sessions: int | None = None,
    per_week: int | None = None,
) -> Plan:
    """Screen on the start date, move the start past a deferral with a known end, then plan.

    No sessions are planned for not_eligible, an uncleared review, or a deferral with no known
    end: the result then carries the screening, no sessions, and a warning saying why.
    """
    requested = start or on
    if requested < on:
        raise MesoError(f"--start {requested} is before the reference date {on}")
    course_slots(protocol, sessions=sessions, per_week=per_week)  # bad options fail first
    cleared = list(clear)
    begin = requested
    first = screener.screen(patient, protocol, on=on, start=begin, clear=cleared)
    result = first
    deferrals: list[Finding] = []
    for _ in range(_MAX_MOVES):
        earliest = result.earliest_start
        if result.verdict is not Verdict.DEFERRED or earliest is None or earliest <= begin:
            break
        # The deferrals that hold the start back: not those ended by it (kept in view only).
        deferrals.extend(
            f
            for f in result.findings
            if f.action is Action.DEFER
            and not f.cleared
            and (f.until is None or f.until > begin)
            and f not in deferrals
        )
        begin = earliest
        # Screened again on the new start: ages, resolved conditions and washouts change.
        result = screener.screen(patient, protocol, on=on, start=begin, clear=cleared)
    moved_from = requested if begin != requested else None
    notes = []
    if moved_from is not None:
        why = "; ".join(
            f"{f.rule} ({f.matched}) until {f.until}" if f.matched else f"{f.rule} until {f.until}"
            for f in deferrals
        )
        text = f"start moved from {requested} to {begin}: deferred by {why}"
        notes.append(Note(code=NoteCode.START_MOVED, text=text))
    if not may_start(result, begin):
        return no_plan(result, protocol, start_moved_from=moved_from, warnings=notes)
    # When the start moved, the plan carries the first screening (the deferral and its end,
    # as `meso screen` reports it); the second one only confirmed the new start.
    made = plan(
        first,
        patient,
        protocol,
        screener.data,
        clinic,
        start=begin,
        sessions=sessions,
        per_week=per_week,
        start_moved_from=moved_from,
        warnings=notes,
    )
    opens = made.key_dates.first_session
    if opens is None or opens <= begin:
        return made
    # Closed days pushed the first session past the start: the patient is screened again on
    # the day itself (an age limit may be crossed in between).
    again = screener.screen(patient, protocol, on=on, start=opens, clear=cleared)
    if not may_start(again, opens):
        # no_plan adds why in words ("no plan: review required (age-over-75); ...").
        moved = Note(
            code=NoteCode.RESCREENED,
            text=f"the first open day is {opens}; the patient was screened again on that day",
        )
        return no_plan(again, protocol, start_moved_from=moved_from, warnings=[*notes, moved])
    gap = (opens - begin).days
    if gap > _LATE_START_DAYS and not patient.sessions_done:
        late = Note(
            code=NoteCode.LATE_FIRST_SESSION,
            text=f"first session {opens}, {gap} days after the start {begin}: the clinic is "
            "closed until then",
        )
        made = made.model_copy(update={"warnings": [late, *made.warnings]})
    return made


def may_start(screening: Screening, day: date) -> bool:
    """Whether sessions may begin on `day`: eligible, or deferred to no later than `day` (a
    deferral running on the reference date that ends by the start)."""
    if screening.verdict is Verdict.ELIGIBLE:
        return True
    end = screening.earliest_start
    return screening.verdict is Verdict.DEFERRED and end is not None and end <= day


def no_plan(
    screening: Screening,
    protocol: Protocol,
    *,
    start_moved_from: date | None = None,
    warnings: Iterable[Note] = (),
) -> Plan:
    """A Plan-shaped result with no sessions, saying why none could be made."""
    return Plan(
        screening=screening,
        protocol=protocol.id,
        sessions=[],
        key_dates=KeyDates(
            stop_nsaids_by=None, first_session=None, last_session=None, sun_avoid_until=None
        ),
        aftercare=[],
        warnings=[*warnings, why_no_plan(screening)],
        start_moved_from=start_moved_from,
        meso_version=__version__,
    )


def why_no_plan(s: Screening) -> Note:
    """Why a screening allows no plan, naming every rule behind it; for a review, every rule
    to clear, so that one run with them all makes the plan."""

    def rules(action: Action) -> list[str]:
        found = (f.rule for f in s.findings if f.action is action and not f.cleared)
        return list(dict.fromkeys(found))

    match s.verdict:
        case Verdict.NOT_ELIGIBLE:
            text = f"no plan: not eligible ({', '.join(rules(Action.EXCLUDE))})"
            return Note(code=NoteCode.NO_PLAN, text=text)
        case Verdict.REVIEW:
            named = rules(Action.REVIEW)
            flags = " ".join(f"--clear {r}" for r in named)
            text = (
                f"no plan: review required ({', '.join(named)}); once a practitioner has "
                f"assessed {'it' if len(named) == 1 else 'each'}, run again with {flags}"
            )
            return Note(code=NoteCode.NO_PLAN, text=text, clearable=named)
        case Verdict.DEFERRED:
            open_ended = list(
                dict.fromkeys(
                    f.rule
                    for f in s.findings
                    if f.action is Action.DEFER and f.until is None and not f.cleared
                )
            )
            text = (
                f"no plan: deferred with no known end "
                f"({', '.join(open_ended or rules(Action.DEFER))}); screen again once it has ended"
            )
            return Note(code=NoteCode.NO_PLAN, text=text)
        case Verdict.ELIGIBLE:
            return Note(code=NoteCode.NO_PLAN, text="no plan")
        case _:
            assert_never(s.verdict)


def plan_made(p: Plan) -> bool:
    """Whether a plan was made (exit 0): only a plan has sessions, done or to come."""
    return bool(p.sessions)


# --- key dates and aftercare -----------------------------------------------------------------


def care_items(protocol: Protocol, items: Iterable[CareItem]) -> list[CareItem]:
    return [
        c
        for c in items
        if (c.rule is None or c.rule not in protocol.exempt_rules)
        and (protocol.injects or not c.injections_only)
    ]


def _washout_days(protocol: Protocol, data: Dataset) -> int | None:
    """Days before the first session to stop NSAIDs: from the washout of the rule that the
    'stop-nsaids' precare item serves; None when the protocol is exempt from that rule."""
    item = _stop_nsaids_item(protocol, data)
    if item is None:
        return None
    if item.days_before_first is not None:
        return item.days_before_first
    rule = data.rule(item.rule) if item.rule else None
    if rule is None:
        return None
    return next(
        (
            t.washout_days
            for t in flat(rule.when)
            if isinstance(t, TakesMedication) and t.washout_days
        ),
        None,
    )


def _stop_nsaids_item(protocol: Protocol, data: Dataset) -> CareItem | None:
    care = care_items(protocol, [*data.common_precare, *protocol.precare])
    return next((c for c in care if c.id == STOP_NSAIDS_ITEM), None)


def _sun_days(protocol: Protocol, data: Dataset) -> int | None:
    care = care_items(protocol, [*data.common_aftercare, *protocol.aftercare])
    item = next((c for c in care if c.id == SUN_ITEM), None)
    return item.days_after_last if item is not None else None


def aftercare_lines(protocol: Protocol, data: Dataset, last: date | None) -> list[str]:
    """Common and protocol aftercare, dated where the item has a duration."""
    lines = []
    for item in care_items(protocol, [*data.common_aftercare, *protocol.aftercare]):
        text = item.text.strip()
        if last is not None and item.days_after_last is not None:
            text = f"{text.rstrip('.')} — until {last + timedelta(days=item.days_after_last)}"
        elif last is not None and item.days_after_each is not None:
            n = item.days_after_each
            text = (
                f"{text.rstrip('.')} — for {n} day{'s' if n != 1 else ''} after each session "
                f"(after the last: until {last + timedelta(days=n)})"
            )
        lines.append(text)
    return lines


def _sun_warnings(patient: Patient, first: date, until: date) -> list[Note]:
    return [
        Note(
            code=NoteCode.SUN_OVERLAP,
            text=f"planned sun exposure {p.start}..{p.end} overlaps the course or its sun-free "
            f"days after it ({first} to {until}): no sun or solarium until {until}",
        )
        for p in patient.sun_exposure
        if p.start <= until and p.end >= first
    ]
