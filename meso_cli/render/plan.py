"""The plan for people: screening, session table, month grids, key dates, aftercare, warnings."""

from __future__ import annotations

import calendar as stdcal
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rich import box
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from meso_cli.models import Note, NoteCode, Plan, Session
from meso_cli.render.human import (
    ACTION_LOOK,
    Hanging,
    cleared_by,
    screening_view,
    verdict_line,
)

if TYPE_CHECKING:
    from meso_cli.clinic import Clinic

DAY_HEADER = " Mo  Tu  We  Th  Fr  Sa  Su"
LEGEND = "[n] session to come   (n) session done"

# Each kind of warning in a few words, for the line under the verdict.
_SHORT = {
    NoteCode.START_MOVED: "start moved",
    NoteCode.LATE_FIRST_SESSION: "late first session",
    NoteCode.RESCREENED: "screened again on the first open day",
    NoteCode.INTERVAL_ABOVE_MAXIMUM: "interval above its maximum",
    NoteCode.INTERVAL_BELOW_MINIMUM: "interval below its minimum",
    NoteCode.COURSE_COMPLETE: "course already complete",
    NoteCode.ABOVE_USUAL_COUNT: "more sessions than usual",
    NoteCode.SUN_OVERLAP: "sun exposure during the course",
    NoteCode.STOP_NSAIDS_PASSED: "NSAID stop day passed",
    NoteCode.AGE_LIMIT_IN_COURSE: "age limit reached during the course",
    NoteCode.COURSE_PROPOSED: "another course proposed",
}


def warnings_summary(warnings: list[Note]) -> str | None:
    """The plan's warnings in one line, for under the verdict: `! 3 warnings below: sun
    exposure during the course; interval above its maximum (2)`. The no-plan warning is the
    verdict's own and is not repeated."""
    counts: dict[str, int] = {}
    for w in warnings:
        if w.code is not NoteCode.NO_PLAN:
            label = _SHORT.get(w.code, w.code.value)
            counts[label] = counts.get(label, 0) + 1
    if not counts:
        return None
    total = sum(counts.values())
    shown = "; ".join(f"{label} ({n})" if n > 1 else label for label, n in counts.items())
    return f"! {total} warning{'s' if total > 1 else ''} below: {shown}"


def plan_view(
    p: Plan, clinic: Clinic | None = None, *, titles: Mapping[str, str]
) -> RenderableType:
    """The whole plan; with the clinic's calendar, the month grids mark its closed days."""
    summary = warnings_summary(p.warnings)
    under = Text(summary, style="yellow") if summary else None
    parts: list[RenderableType] = [
        screening_view(p.screening, titles=titles, under_verdict=under),
        Text(),
    ]
    if not p.sessions:
        parts.append(Text(f"No plan for {p.protocol}.", style="bold"))
    else:
        parts.extend(_course(p, clinic))
    if p.warnings:
        parts.append(Text())
        parts.append(Text(f"Warnings ({len(p.warnings)})", style="bold underline"))
        parts.append(_hanging([("!", w.text) for w in p.warnings], style="yellow"))
    return Group(*parts)


def _course(p: Plan, clinic: Clinic | None) -> list[RenderableType]:
    done = sum(s.done for s in p.sessions)
    head = f"Plan: {p.protocol}" + (f" ({p.course})" if p.course else "")
    head += f", {len(p.sessions)} sessions"
    if done:
        head += f" ({done} done, {len(p.sessions) - done} to come)"
    parts: list[RenderableType] = [Text(head, style="bold underline"), session_table(p.sessions)]
    # Moves off the clinic's closed weekdays are routine: one line; closures and holidays
    # are news: one line each, with the reason.
    routine = [s for s in p.sessions if s.note and s.note.endswith(", not an open day)")]
    news = [s for s in p.sessions if s.note and s not in routine]
    if news or routine:
        moved = [(f"{s.number}:", s.note or "") for s in news]
        if routine:
            numbers = ", ".join(str(s.number) for s in routine)
            which = "sessions" if len(routine) > 1 else "session"
            moved.append(("", f"{which} {numbers} moved off a weekday the clinic is closed"))
        parts.append(Text("Moved", style="bold"))
        parts.append(_hanging(moved))
    parts.append(Text())
    parts.append(month_grids(p.sessions, clinic))
    marks = _marks(p.sessions, clinic)
    legend = LEGEND + "".join(
        f"   n{mark} {word}" for mark, word in MARKS.items() if mark in marks.values()
    )
    parts.append(Text(legend, style="dim"))
    parts.append(Text())
    parts.append(Text("Key dates", style="bold underline"))
    k = p.key_dates
    rows = [
        ("Stop NSAIDs by", k.stop_nsaids_by),
        ("First session", k.first_session),
        ("Last session", k.last_session),
        ("No sun until", k.sun_avoid_until),
    ]
    for label, day in rows:
        if day is not None:
            parts.append(Text(f"  {label:<15}{_day(day)}"))
        if label == "Stop NSAIDs by" and day is not None:
            # No blood thinner is ever to be stopped on the plan's word (aspirin is one).
            parts.append(Text(f"  {'':<15}painkillers only: never a prescribed blood thinner"))
    if k.stop_nsaids_by is None and k.first_session is not None:
        parts.append(Text(f"  {'Stop NSAIDs by':<15}not needed for {p.protocol}"))
    if p.aftercare:
        parts.append(Text())
        parts.append(Text("Aftercare", style="bold underline"))
        parts.append(_hanging([("•", line) for line in p.aftercare]))
    return parts


def _hanging(rows: list[tuple[str, str]], style: str | None = None) -> Table:
    """Marked lines whose continuation lines wrap under the text, not under the mark."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column(style=style)
    for mark, text in rows:
        grid.add_row(mark, text)
    return grid


def session_table(sessions: list[Session]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right")
    table.add_column("date")
    table.add_column("day")
    table.add_column("phase")
    table.add_column("days", justify="right")
    table.add_column("status")
    for s in sessions:
        since = "—" if s.days_since_previous is None else str(s.days_since_previous)
        status = "✓ done" if s.done else ("moved" if s.note else "")
        table.add_row(
            str(s.number),
            str(s.date),
            f"{s.date:%a}",
            s.phase,
            since,
            status,
            style="dim" if s.done else None,
        )
    return table


# A day with no session that the clinic is closed on, besides its usual closed weekdays.
MARKS = {"*": "public holiday", "×": "clinic closed"}


def _marks(sessions: list[Session], clinic: Clinic | None) -> dict[date, str]:
    """The holidays and closed days in the months the sessions fall in, by their mark."""
    if clinic is None or not sessions:
        return {}
    first = min(s.date for s in sessions).replace(day=1)
    last = max(s.date for s in sessions)
    marks: dict[date, str] = {}
    day = first
    while day.year < last.year or (day.year == last.year and day.month <= last.month):
        if day.weekday() in clinic.open_days:
            if any(c.first <= day <= c.last for c in clinic.closures):
                marks[day] = "×"
            elif clinic.holidays.get(day):
                marks[day] = "*"
        day += timedelta(days=1)
    return marks


def month_grids(sessions: list[Session], clinic: Clinic | None = None) -> RenderableType:
    """One small calendar per month that has a session; sessions in brackets, not by colour;
    with the clinic's calendar, its holidays (n*) and closed days (n×)."""
    by_day = {s.date: s for s in sessions}
    marks = _marks(sessions, clinic)
    months = sorted({(s.date.year, s.date.month) for s in sessions})
    return Columns([_month(y, m, by_day, marks) for y, m in months], padding=(0, 2))


def _month(
    year: int, month: int, by_day: dict[date, Session], marks: dict[date, str] | None = None
) -> Text:
    text = Text()
    text.append(f"{stdcal.month_name[month]} {year}".center(len(DAY_HEADER)), style="bold")
    text.append("\n" + DAY_HEADER)
    for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month):
        text.append("\n")
        cells: list[tuple[str, str | None]] = []
        for day in week:
            session = by_day.get(day) if day.month == month else None
            if day.month != month:
                cells.append(("    ", None))
            elif session is None and marks and day in marks:
                cells.append((f" {day.day:>2}{marks[day]}", "dim"))
            elif session is None:
                cells.append((f" {day.day:>2} ", None))
            elif session.done:
                cells.append((f"({day.day:>2})", "dim"))
            else:
                cells.append((f"[{day.day:>2}]", "bold reverse"))
        for i, (cell, style) in enumerate(cells):
            text.append(cell if i < 6 else cell.rstrip(), style=style)
    return text


def _day(d: date) -> str:
    return f"{d} ({d:%a})"


def brief_view(p: Plan) -> RenderableType:
    """`meso plan --brief`: the verdict, one line per finding, the session dates, and the
    warnings (a plan that cannot be made says why there)."""
    s = p.screening
    parts: list[RenderableType] = [Hanging(verdict_line(s), rest="  ")]
    for f in s.findings:
        symbol, word, style = ACTION_LOOK[f.action]
        line = Text()
        line.append(f"{symbol} {word}", style=style)
        line.append(f" [{f.rule}] {f.detail}")
        if f.cleared:
            line.append(" — CLEARED", style="bold green")
            line.append(cleared_by(f))
        parts.append(Hanging(line, rest="    "))
    if p.sessions:
        done = sum(s.done for s in p.sessions)
        head = f"Sessions: {p.protocol}, {len(p.sessions)}"
        head += f" ({done} done, {len(p.sessions) - done} to come)" if done else ""
        parts.append(Text(head, style="bold"))
        width = len(str(len(p.sessions)))
        for session in p.sessions:
            mark = "  ✓ done" if session.done else ("  moved" if session.note else "")
            parts.append(
                Text(
                    f"  {session.number:>{width}}  {session.date:%a} {session.date}{mark}",
                    style="dim" if session.done else "",
                )
            )
    else:
        parts.append(Text(f"No plan for {p.protocol}.", style="bold"))
    parts.extend(Hanging(Text(f"! {w.text}", style="yellow"), rest="  ") for w in p.warnings)
    return Group(*parts)
