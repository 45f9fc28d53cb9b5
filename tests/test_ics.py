"""The .ics export read back by two independent parsers: icalendar and vobject."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import vobject

from meso_cli.clinic import Clinic
from meso_cli.models import Dataset, Patient, Plan, Protocol
from meso_cli.planning import screen_and_plan
from meso_cli.render.ics import patient_key, plan_to_ics
from meso_cli.screening import Screener

ON = date(2026, 11, 22)
STAMP = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def patient(**fields: Any) -> Patient:
    base = {"birth_date": "1988-03-14", "pregnant": False, "breastfeeding": False}
    return Patient.model_validate({**base, **fields})


def plan_for(data: Dataset, who: Patient, protocol: str = "hair") -> tuple[Plan, Protocol]:
    chosen = data.protocol(protocol)
    assert chosen is not None
    return screen_and_plan(who, chosen, Screener(data), Clinic(), on=ON), chosen


def export(data: Dataset, who: Patient, protocol: str = "hair", **kw: Any) -> bytes:
    p, chosen = plan_for(data, who, protocol)
    return plan_to_ics(p, chosen, key=patient_key(who), stamp=kw.pop("stamp", STAMP), **kw)


def pending(p: Plan) -> list[date]:
    return [s.date for s in p.sessions if not s.done]


def test_both_readers_see_exactly_the_sessions_to_come(data: Dataset) -> None:
    who = patient(id="P-0042", sessions_done=["2026-11-10", "2026-11-17"])
    p, chosen = plan_for(data, who)
    raw = plan_to_ics(p, chosen, key=patient_key(who), stamp=STAMP)

    cal = icalendar.Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    assert [e.decoded("dtstart") for e in events] == pending(p)
    assert len(events) == 8
    assert [str(e["uid"]) for e in events] == [f"P-0042/hair/{n}@meso" for n in range(3, 11)]

    vcal = vobject.readOne(raw.decode("utf-8"))
    assert [e.dtstart.value for e in vcal.vevent_list] == pending(p)
    assert [e.dtend.value - e.dtstart.value for e in vcal.vevent_list] == [timedelta(days=1)] * 8
    assert all(e.dtstamp.value == STAMP for e in vcal.vevent_list)


def test_key_dates_are_todos_not_events(data: Dataset) -> None:
    who = patient(id="P-0042")
    p, _ = plan_for(data, who)
    vcal = vobject.readOne(export(data, who).decode("utf-8"))
    assert len(vcal.vevent_list) == 10
    dues = {t.uid.value: t.due.value for t in vcal.vtodo_list}
    assert dues == {
        "P-0042/hair/stop-nsaids@meso": p.key_dates.stop_nsaids_by,
        "P-0042/hair/sun-avoid@meso": p.key_dates.sun_avoid_until,
    }
    # no-needle has no NSAID stop date, so no such todo
    vcal = vobject.readOne(export(data, who, "no-needle").decode("utf-8"))
    assert [t.uid.value for t in vcal.vtodo_list] == ["P-0042/no-needle/sun-avoid@meso"]


def test_each_event_reminds_the_day_before(data: Dataset) -> None:
    cal = icalendar.Calendar.from_ical(export(data, patient(id="P-1")))
    for event in cal.walk("VEVENT"):
        alarms = event.walk("VALARM")
        assert len(alarms) == 1
        assert str(alarms[0]["action"]) == "DISPLAY"
        assert alarms[0].decoded("trigger") == timedelta(days=-1)


def test_re_export_keeps_the_uids_so_importing_twice_does_not_duplicate(data: Dataset) -> None:
    who = patient(id="P-0042")
    first = icalendar.Calendar.from_ical(export(data, who))
    later = icalendar.Calendar.from_ical(export(data, who, stamp=STAMP + timedelta(days=3)))
    uids = [str(c["uid"]) for c in first.walk() if "uid" in c]
    assert uids == [str(c["uid"]) for c in later.walk() if "uid" in c]
    assert len(set(uids)) == len(uids)


def test_patients_without_id_get_a_content_hash_that_survives_done_sessions(
    data: Dataset,
) -> None:
    a = patient(sex="female")
    b = patient(sex="female", sessions_done=["2026-11-17"])
    c = patient(sex="male")
    assert patient_key(a) == patient_key(b)
    assert patient_key(a) != patient_key(c)
    # What changes over a course (medicines, holidays) leaves the key, and so the UIDs, alone.
    d = patient(
        sex="female",
        medications=[{"name": "ibuprofen", "last_dose": "2026-11-01"}],
        sun_exposure=[{"from": "2027-02-01", "to": "2027-02-14"}],
    )
    assert patient_key(a) == patient_key(d)
    assert patient_key(a).startswith("anon=")
    assert patient_key(patient(id="P 1/x")) == "P%201%2Fx"
    # session 2 of the course keeps its UID once session 1 is done
    uids_a = {
        str(e["uid"]): e.decoded("dtstart")
        for e in icalendar.Calendar.from_ical(export(data, a)).walk("VEVENT")
    }
    uids_b = [str(e["uid"]) for e in icalendar.Calendar.from_ical(export(data, b)).walk("VEVENT")]
    assert set(uids_b) < set(uids_a)


def test_timed_events_last_the_protocol_session_length(data: Dataset) -> None:
    cal = vobject.readOne(export(data, patient(id="P-1"), at=time(10, 30)).decode("utf-8"))
    first = cal.vevent_list[0]
    assert first.dtstart.value == datetime(2026, 11, 23, 10, 30)
    assert first.dtend.value - first.dtstart.value == timedelta(minutes=20)


def test_timed_events_fall_back_to_thirty_minutes_and_say_so(data: Dataset) -> None:
    raw = export(data, patient(id="P-1"), "cellulite", at=time(9, 0))
    cal = icalendar.Calendar.from_ical(raw)
    event = cal.walk("VEVENT")[0]
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=30)
    assert "30 minutes assumed" in str(event["description"])
    # maintenance sessions are sessions to come too
    assert len(cal.walk("VEVENT")) == 16
