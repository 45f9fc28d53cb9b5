"""The plan as an RFC 5545 calendar: one VEVENT per session to come, key dates as VTODOs."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from meso_cli.models import Patient, Plan, Protocol
from meso_cli.text import printable, printable_line

PRODID = "-//meso//mesotherapy session planner//EN"
DEFAULT_MINUTES = 30


def patient_key(patient: Patient) -> str:
    """What UIDs are built on: the patient's id, else a hash of who the patient is.

    The id is percent-encoded with nothing left safe, which is one-to-one: two ids give two
    keys, and no key holds a `/` (the separator of a UID's parts) or a `=`. A patient without
    an id gets `anon=` and a hash, which no id can spell. (Not `:`: icalendar 6.0 reads a
    `%3A` back as `:`, so an id `anon:…` would have read the same.) Only the birth date (or
    age) and sex are hashed: a medication, a sun holiday or a session done changes nothing, so
    a re-export replaces its events.
    """
    if patient.id:
        return quote(patient.id, safe="")
    content = patient.model_dump_json(include={"birth_date", "age", "sex"})
    return "anon=" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def uid(key: str, protocol: Protocol, item: int | str) -> str:
    """`P-0042/hair/3@meso`: the parts joined by a `/` that none of them holds, so two
    patients (or two protocols) can never share a UID."""
    return f"{key}/{quote(protocol.id, safe='')}/{item}@meso"


def session_minutes(protocol: Protocol) -> int:
    return protocol.session_minutes or DEFAULT_MINUTES


def plan_to_ics(
    plan: Plan,
    protocol: Protocol,
    *,
    key: str,
    stamp: datetime,
    at: time | None = None,
) -> bytes:
    """The calendar for the sessions still to come.

    Events are all-day unless `at` gives a (floating, local) start time; a timed event lasts
    the protocol's session_minutes, or DEFAULT_MINUTES when the protocol does not say.
    `stamp` is DTSTAMP (UTC), passed in so the output depends on nothing but the arguments.
    """
    from icalendar import Alarm, Calendar, Event, Todo

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # Text from the data and the patient goes through the sanitizer: icalendar escapes what
    # RFC 5545 asks (commas, semicolons, line breaks) but passes control characters on.
    cal.add("x-wr-calname", printable_line(f"Mesotherapy: {protocol.name}"))
    who = f" ({plan.screening.patient_id})" if plan.screening.patient_id else ""
    total = len(plan.sessions)
    for s in plan.sessions:
        if s.done:
            continue
        event = Event()
        event.add("uid", uid(key, protocol, s.number))
        event.add("dtstamp", stamp)
        summary = f"Mesotherapy {protocol.id}: session {s.number} of {total}{who}"
        event.add("summary", printable_line(summary))
        length = session_minutes(protocol)
        lines = [f"Protocol: {protocol.name}", f"Phase: {s.phase}"]
        if at is None:
            event.add("dtstart", s.date)
            event.add("dtend", s.date + timedelta(days=1))
            event.add("transp", "TRANSPARENT")
        else:
            begin = datetime.combine(s.date, at)
            event.add("dtstart", begin)
            event.add("dtend", begin + timedelta(minutes=length))
            if protocol.session_minutes is None:
                lines.append(f"Length not given by the protocol: {length} minutes assumed.")
        if s.note:
            lines.append(f"Note: {s.note}")
        event.add("description", printable("\n".join(lines)))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Mesotherapy session {s.number} tomorrow")
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
        cal.add_component(event)
    k = plan.key_dates
    if k.first_session is not None:
        todos: list[tuple[str, str, date | None, str]] = []
        if k.stop_nsaids_by is not None:
            days = (k.first_session - k.stop_nsaids_by).days
            todos.append(
                (
                    "stop-nsaids",
                    # No blood thinner is named as one to stop: aspirin is one (001).
                    f"Stop NSAID painkillers (ibuprofen, naproxen…): {days} days before the "
                    "first session",
                    k.stop_nsaids_by,
                    f"The first session is on {k.first_session}. A medicine prescribed to thin "
                    "the blood is never stopped without its prescriber.",
                )
            )
        todos.append(
            (
                "sun-avoid",
                "No sun and no solarium until this day",
                k.sun_avoid_until,
                f"During the course and after it: from {k.first_session} to {k.sun_avoid_until}.",
            )
        )
        for slug, summary, due, description in todos:
            if due is None:
                continue
            todo = Todo()
            todo.add("uid", uid(key, protocol, slug))
            todo.add("dtstamp", stamp)
            todo.add("summary", printable_line(summary))
            todo.add("description", printable(description))
            todo.add("due", due)
            cal.add_component(todo)
    data: bytes = cal.to_ical()
    return data
