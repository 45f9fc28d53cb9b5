"""The direct reading of a patient (`patients.from_plain`) against the pydantic model.

It may leave any value to the model (None), but whatever it reads itself must be a value the
model accepts, read into exactly the Patient the model gives (`models.to_core`). And it must
actually be used: ordinary patients, as the benchmark writes them and as the example is
written, are read directly.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from meso_cli import core, models, patients
from meso_cli.documents import parse, read_text
from meso_cli.models import Patient, to_core
from meso_cli.patients import from_plain

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "patient.yaml"
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies --------------------------------------------------------------------------
# Each key gets a good value most of the time and a near miss now and then, so that values
# the direct reading takes, values it leaves to the model and values both refuse all come up.

real_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
# A date as a file gives it: the date YAML reads, or the YYYY-MM-DD text JSON carries.
good_dates = real_dates | real_dates.map(date.isoformat)
# Whitespace around a good date: the model strips it.
padded_dates = st.tuples(st.sampled_from([" ", "\t", "\n", "  "]), real_dates, st.booleans()).map(
    lambda t: f"{t[0]}{t[1]}" if t[2] else f"{t[1]}{t[0]}"
)
near_dates: st.SearchStrategy[Any] = st.one_of(
    padded_dates,
    st.sampled_from(
        [
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "0000-01-01",
            "2026-1-1",
            "20260101",
            "2026/01/01",
            "2026-01-01T00:00",
            "2026-W01-1",
            "1899-12-31",
            "",
            "today",
            "２０２６-01-01",
            "٢٠٢٦-٠١-٠١",
            "2026-０1-01",
            date(1899, 12, 31),
            date(1, 1, 1),
            1988,
            20260101,
            1988.0,
            True,
            None,
            [],
            {},
        ]
    ),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.dates(max_value=date(1899, 12, 31)) | st.dates(max_value=date(1899, 12, 31)).map(str),
    st.text(alphabet="0123456789-０１٢ ", min_size=8, max_size=12),
)
any_dates = st.one_of(good_dates, good_dates, near_dates)

good_names = st.text(min_size=1, max_size=30) | st.sampled_from(["x" * 200, "é" * 200])
near_names = st.sampled_from(["", "x" * 201, 7, 1.5, True, None, ["warfarin"], {"a": 1}])
any_names = st.one_of(good_names, good_names, near_names)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    real_dates,
    st.datetimes(),
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def good_lists(entry: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """A few entries, now and then exactly the limit of 200."""
    return st.lists(entry, max_size=4) | st.builds(lambda e: [e] * 200, entry)


def near_lists(
    entry: st.SearchStrategy[Any], good: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Entries with near misses, good ones but one over the limit, a tuple, null or anything."""
    return st.one_of(
        st.lists(entry, max_size=4),
        st.lists(entry, max_size=4),
        st.builds(lambda e, n: [e] * n, good, st.sampled_from([201, 202, 200])),
        st.lists(entry, max_size=3).map(tuple),
        st.none(),
        junk,
    )


def good_entries(key: str) -> st.SearchStrategy[Any]:
    named = st.fixed_dictionaries({"name": good_names}, optional={key: good_dates | st.none()})
    return good_names | named


def near_entries(key: str) -> st.SearchStrategy[Any]:
    """A name or {name, key} with near misses: another entry's key, no name, an extra key."""
    other = "resolved_on" if key == "last_dose" else "last_dose"
    mapping = st.fixed_dictionaries(
        {"name": any_names},
        optional={
            key: any_dates,
            other: good_dates,
            "note": st.text(max_size=5),
            "Name": good_names,
        },
    )
    nameless = st.fixed_dictionaries({}, optional={key: good_dates, "note": st.text(max_size=5)})
    return st.one_of(good_entries(key), mapping, mapping, nameless, junk)


@st.composite
def good_periods(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(real_dates)
    end = date.fromordinal(start.toordinal() + draw(st.integers(0, 40)))
    if draw(st.booleans()):
        return {"from": start, "to": end}
    return {"from": str(start), "to": str(end)}


@st.composite
def near_periods(draw: st.DrawFn) -> Any:
    """{from, to} in order or not; the start/end aliases, mixed, missing or extra keys."""
    if draw(st.integers(0, 9)) == 0:
        return draw(junk)
    first: Any
    second: Any
    if draw(st.booleans()):
        # A real pair of dates, now and then with the end before the start.
        start = draw(real_dates)
        end = date.fromordinal(start.toordinal() + draw(st.integers(-3, 40)))
        first, second = (start, end) if draw(st.booleans()) else (str(start), str(end))
    else:
        first, second = draw(any_dates), draw(any_dates)
    names = draw(
        st.sampled_from(
            [
                ("from", "to"),
                ("from", "to"),
                ("start", "end"),
                ("from", "end"),
                ("start", "to"),
                ("to", "from"),
            ]
        )
    )
    period: dict[str, Any] = {names[0]: first, names[1]: second}
    for extra in draw(
        st.lists(st.sampled_from(["from", "to", "start", "end", "note"]), max_size=2)
    ):
        period.setdefault(extra, draw(any_dates))
    if draw(st.integers(0, 5)) == 0:
        period.pop(draw(st.sampled_from(["from", "to"])), None)
    return period


@st.composite
def good_sessions(draw: st.DrawFn) -> list[Any]:
    days = draw(st.lists(real_dates, unique=True, max_size=5))
    return [d if draw(st.booleans()) else str(d) for d in days]


@st.composite
def near_sessions(draw: st.DrawFn) -> Any:
    done = draw(near_lists(any_dates, good_dates))
    if isinstance(done, list) and done and draw(st.booleans()):
        # The same day twice, as written or once as a date and once as text.
        day = done[draw(st.integers(0, len(done) - 1))]
        twin = day.isoformat() if type(day) is date and draw(st.booleans()) else day
        done = [*done, twin]
    return done


flags = st.booleans() | st.none()
near_flags = st.sampled_from([0, 1, 1.0, "true", "no", "yes", "false", "", []])
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "id": st.none() | st.text(max_size=12) | st.just("i" * 200),
    "birth_date": good_dates | st.none(),
    "age": st.integers(0, 130) | st.none(),
    "sex": st.sampled_from(["female", "male", "other", None]),
    "pregnant": flags,
    "breastfeeding": flags,
    "fever": flags,
    "conditions": good_lists(good_entries("resolved_on")),
    "medications": good_lists(good_entries("last_dose")),
    "allergies": good_lists(good_names),
    "sun_exposure": good_lists(good_periods()),
    "sessions_done": good_sessions(),
}
NEAR: dict[str, st.SearchStrategy[Any]] = {
    "id": st.sampled_from(["", "i" * 201]) | st.integers() | junk,
    "birth_date": near_dates,
    "age": st.sampled_from([-1, 131, True, False, 40.0, "40", 40.5, 10**20]) | junk,
    "sex": st.sampled_from(["Female", " male", "f", "", "FEMALE"]) | junk,
    "pregnant": near_flags | junk,
    "breastfeeding": near_flags | junk,
    "fever": near_flags | junk,
    "conditions": near_lists(near_entries("resolved_on"), good_entries("resolved_on")),
    "medications": near_lists(near_entries("last_dose"), good_entries("last_dose")),
    "allergies": near_lists(any_names, good_names),
    "sun_exposure": near_lists(near_periods(), good_periods()),
    "sessions_done": near_sessions(),
}
# Forms the model reads that are not written as plainly: the direct reading may leave them.
OTHER_FORMS: dict[str, st.SearchStrategy[Any]] = {
    "birth_date": padded_dates,
    "conditions": st.one_of(
        st.lists(good_entries("resolved_on"), max_size=3).map(tuple),
        st.lists(
            st.fixed_dictionaries({"name": good_names, "resolved_on": padded_dates}),
            min_size=1,
            max_size=2,
        ),
    ),
    "medications": st.one_of(
        st.lists(good_entries("last_dose"), max_size=3).map(tuple),
        st.lists(
            st.fixed_dictionaries({"name": good_names, "last_dose": padded_dates}),
            min_size=1,
            max_size=2,
        ),
    ),
    "allergies": st.lists(good_names, max_size=3).map(tuple),
    "sun_exposure": st.lists(
        good_periods().map(lambda p: {"start": p["from"], "end": p["to"]}),
        min_size=1,
        max_size=2,
    ),
    "sessions_done": st.lists(padded_dates, min_size=1, max_size=1) | good_sessions().map(tuple),
}
KEYS = list(Patient.model_fields)
assert sorted(GOOD) == sorted(NEAR) == sorted(KEYS)


def rarely(odds: int) -> st.SearchStrategy[bool]:
    """True about once in odds + 1 draws (st.integers would favour its bounds)."""
    return st.sampled_from([False] * odds + [True])


@st.composite
def patient_values(draw: st.DrawFn) -> Any:
    """A mapping with birth_date or age (or both, or neither) and any of the other keys, good
    but for up to two near misses; now and then an unknown key; sometimes not a mapping."""
    if draw(rarely(24)):
        return draw(junk)
    value: dict[Any, Any] = {}
    anchors = draw(st.sampled_from([["birth_date"], ["age"], ["birth_date", "age"], []]))
    others = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS)))
    keys = list(dict.fromkeys(anchors + others))
    # One or two near misses at most, so that a single one decides the outcome.
    near = draw(st.sampled_from([0, 1, 1, 2])) if keys else 0
    missed = set(
        draw(st.lists(st.sampled_from(keys), min_size=near, max_size=near)) if near else []
    )
    for key in keys:
        if key not in missed:
            value[key] = draw(GOOD[key])
        elif key in OTHER_FORMS and draw(st.booleans()):
            value[key] = draw(OTHER_FORMS[key])
        else:
            value[key] = draw(NEAR[key])
    if draw(rarely(7)):
        unknown = st.sampled_from(["colour", "Age", "birthdate", "from", "name", 1, None])
        value[draw(unknown | st.text(max_size=8))] = draw(junk)
    return value


# --- helpers -----------------------------------------------------------------------------

DIRECT, LEFT, REFUSED = "read directly", "left to the model", "refused"


def by_model(value: Any) -> core.Patient | None:
    """The Patient the model reads from `value`, or None when the model refuses it."""
    try:
        model = Patient.model_validate(value)
    except ValidationError:
        return None
    patient: core.Patient = to_core(model)
    return patient


def assert_same(fast: core.Patient, slow: core.Patient, value: Any) -> None:
    # Equality alone would take True or 1.0 for 1; the repr and the JSON tell them apart.
    assert type(fast) is core.Patient, value
    assert fast == slow, f"{value!r}\nfast:  {fast!r}\nmodel: {slow!r}"
    assert repr(fast) == repr(slow), value
    assert core.to_json(fast) == core.to_json(slow), value


def outcome(value: Any) -> str:
    fast = from_plain(value)
    slow = by_model(value)
    if fast is None:
        return LEFT if slow is not None else REFUSED
    assert slow is not None, f"read directly, but the model refuses it: {value!r} -> {fast!r}"
    assert_same(fast, slow, value)
    return DIRECT


# --- properties --------------------------------------------------------------------------


@SETTINGS
@given(value=patient_values())
def test_what_is_read_directly_is_what_the_model_reads(value: Any) -> None:
    outcome(value)


@SETTINGS
@given(value=st.dictionaries(st.sampled_from(KEYS), junk, max_size=6))
def test_mappings_of_anything_are_read_as_the_model_reads_them(value: Any) -> None:
    outcome(value)


def test_the_generated_values_reach_every_outcome() -> None:
    """The property above could pass by never reading anything directly; it does not."""
    seen: Counter[str] = Counter()

    @settings(SETTINGS, max_examples=600, derandomize=True, database=None)
    @given(value=patient_values())
    def run(value: Any) -> None:
        seen[outcome(value)] += 1

    run()
    assert seen[DIRECT] >= 60, seen
    assert seen[LEFT] >= 30, seen
    assert seen[REFUSED] >= 60, seen


# --- examples at the edges ---------------------------------------------------------------

AGE: dict[str, Any] = {"age": 40}
DAYS = [str(date(2020, 1, 1) + timedelta(days=i)) for i in range(201)]
EDGES: list[tuple[Any, str]] = [
    (AGE, DIRECT),
    ({"age": 0}, DIRECT),
    ({"age": 130, "birth_date": None}, DIRECT),
    ({"age": 131}, REFUSED),
    ({"age": True}, REFUSED),
    ({"age": 40.0}, REFUSED),
    ({}, REFUSED),
    ({"id": "P-1"}, REFUSED),
    ({"birth_date": "1900-01-01"}, DIRECT),
    ({"birth_date": date(1988, 3, 14)}, DIRECT),
    ({"birth_date": "1899-12-31"}, REFUSED),
    ({"birth_date": date(1899, 12, 31)}, REFUSED),
    ({"birth_date": " 1988-03-14"}, LEFT),
    ({"birth_date": "1988-03-14\n"}, LEFT),
    ({"birth_date": "\uff11\uff19\uff18\uff18-03-14"}, REFUSED),  # full-width digits
    ({"birth_date": "2026-02-30"}, REFUSED),
    ({"birth_date": "19880314"}, REFUSED),
    ({"birth_date": datetime(1988, 3, 14)}, REFUSED),
    ({"birth_date": 1988}, REFUSED),
    ({"id": "", **AGE}, REFUSED),  # like an empty name
    ({"id": "i" * 200, **AGE}, DIRECT),
    ({"id": "i" * 201, **AGE}, REFUSED),
    ({"id": 42, **AGE}, REFUSED),
    ({"sex": "female", **AGE}, DIRECT),
    ({"sex": "Female", **AGE}, REFUSED),
    ({"pregnant": None, "fever": False, **AGE}, DIRECT),
    ({"pregnant": 0, **AGE}, REFUSED),
    ({"pregnant": "no", **AGE}, REFUSED),
    ({"conditions": ["x" * 200], **AGE}, DIRECT),
    ({"conditions": ["x" * 201], **AGE}, REFUSED),
    ({"conditions": [""], **AGE}, REFUSED),
    ({"conditions": [{"name": "eczema"}], **AGE}, DIRECT),
    ({"conditions": [{"name": "eczema", "resolved_on": None}], **AGE}, DIRECT),
    ({"conditions": [{"name": "eczema", "resolved_on": "2026-10-01", "x": 1}], **AGE}, REFUSED),
    ({"conditions": [{"name": "eczema", "last_dose": "2026-10-01"}], **AGE}, REFUSED),
    ({"conditions": [{"resolved_on": "2026-10-01"}], **AGE}, REFUSED),
    ({"conditions": [{"name": "x" * 201}], **AGE}, REFUSED),
    ({"conditions": ("eczema",), **AGE}, LEFT),
    ({"conditions": None, **AGE}, REFUSED),
    ({"medications": [{"name": "aspirin", "last_dose": date(2026, 11, 1)}], **AGE}, DIRECT),
    ({"medications": [{"name": "aspirin", "last_dose": " 2026-11-01"}], **AGE}, LEFT),
    ({"medications": ["aspirin"] * 200, **AGE}, DIRECT),
    ({"medications": ["aspirin"] * 201, **AGE}, REFUSED),
    ({"allergies": ["latex"] * 200, **AGE}, DIRECT),
    ({"allergies": ["latex"] * 201, **AGE}, REFUSED),
    ({"allergies": [""], **AGE}, REFUSED),
    ({"allergies": [{"name": "latex"}], **AGE}, REFUSED),
    ({"sun_exposure": [{"from": "2027-07-01", "to": "2027-07-01"}], **AGE}, DIRECT),
    ({"sun_exposure": [{"from": "2027-07-02", "to": "2027-07-01"}], **AGE}, REFUSED),
    ({"sun_exposure": [{"start": "2027-07-01", "end": "2027-07-14"}], **AGE}, LEFT),
    ({"sun_exposure": [{"from": "2027-07-01", "end": "2027-07-14"}], **AGE}, LEFT),
    ({"sun_exposure": [{"from": "2027-07-01", "to": "2027-07-14", "x": 1}], **AGE}, REFUSED),
    ({"sun_exposure": [{"from": "2027-07-01"}], **AGE}, REFUSED),
    ({"sessions_done": ["2026-11-10", "2026-11-03"], **AGE}, DIRECT),
    ({"sessions_done": ["2026-11-03", "2026-11-03"], **AGE}, REFUSED),
    ({"sessions_done": ["2026-11-03", date(2026, 11, 3)], **AGE}, REFUSED),
    ({"sessions_done": DAYS[:200], **AGE}, DIRECT),
    ({"sessions_done": DAYS, **AGE}, REFUSED),
    ({"colour": "blue", **AGE}, REFUSED),
    ([AGE], REFUSED),
    ("age: 40", REFUSED),
]


@pytest.mark.parametrize(("value", "expected"), EDGES, ids=[str(i) for i in range(len(EDGES))])
def test_edge_cases(value: Any, expected: str) -> None:
    assert outcome(value) == expected


def test_sessions_done_come_sorted_as_dates() -> None:
    fast = from_plain({"sessions_done": ["2026-11-10", date(2026, 11, 3)], **AGE})
    assert fast is not None
    assert fast.sessions_done == [date(2026, 11, 3), date(2026, 11, 10)]
    assert all(type(d) is date for d in fast.sessions_done)


# --- the direct reading is used ----------------------------------------------------------


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("meso_bench", ROOT / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_patients_are_read_directly(tmp_path: Path) -> None:
    path = tmp_path / "patients.jsonl"
    _bench().generate(path, 3000)
    accepted = direct = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        slow = by_model(value)
        fast = from_plain(value)
        if slow is None:
            assert fast is None, line
            continue
        accepted += 1
        if fast is not None:
            direct += 1
            assert_same(fast, slow, value)
    assert accepted >= 2900
    assert direct >= 0.95 * accepted, f"{direct} of {accepted} read directly"


def test_the_example_is_read_directly() -> None:
    doc = parse(read_text(str(EXAMPLE)), str(EXAMPLE))
    fast = from_plain(doc.value)
    assert fast is not None
    slow = by_model(doc.value)
    assert slow is not None
    assert_same(fast, slow, doc.value)
    assert fast.birth_date == date(1988, 3, 14)
    assert [c.name for c in fast.conditions] == ["thinning hair", "eczema"]
    assert fast.sun_exposure == [core.SunPeriod(start=date(2027, 7, 1), end=date(2027, 7, 14))]


def test_the_limits_are_the_models() -> None:
    assert patients.MAX_ENTRIES == models.MAX_ENTRIES
    assert patients.MAX_NAME == models.MAX_NAME
