"""`meso_cli.record.Record` as its users see it: a frozen, keyword-only dataclass by default."""

from __future__ import annotations

import pickle
from datetime import date
from typing import Any

import pytest

from meso_cli import core
from meso_cli.record import Record, field, replace


class Point(Record):
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


class Spot(Record):  # the same fields as Point, another class
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


class Pair(Record, kw_only=False, frozen=False):
    left: str
    right: str = "-"


class Checked(Record):
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"{self.low} > {self.high}")


class Counted(Record, frozen=False):
    items: list[int] = field(default_factory=list)
    size: int = -1

    def __post_init__(self) -> None:
        self.size = len(self.items)


def test_fields_are_keyword_only_by_default() -> None:
    assert Point(x=1, y=2) == Point(y=2, x=1)
    make: Any = Point
    with pytest.raises(TypeError):
        make(1, 2)
    with pytest.raises(TypeError):
        make(1)


def test_kw_only_false_allows_positional_arguments() -> None:
    pair = Pair("a", "b")
    assert (pair.left, pair.right) == ("a", "b")
    assert Pair("a") == Pair(left="a", right="-")
    assert Pair("a", right="c").right == "c"
    make: Any = Pair
    with pytest.raises(TypeError):
        make("a", "b", "c")


def test_a_missing_required_field_or_an_unknown_one_is_a_type_error() -> None:
    make: Any = Point
    with pytest.raises(TypeError):
        make(y=2)
    with pytest.raises(TypeError):
        make(x=1, z=3)
    with pytest.raises(TypeError):
        core.Interval(min=1, target=2)  # type: ignore[call-arg]


def test_defaults_and_a_fresh_list_per_instance() -> None:
    first, second = Point(x=1), Point(x=2)
    assert first.y == 0 and first.tags == []
    first.tags.append("a")
    assert second.tags == []
    assert Point(x=3).tags == []
    assert first.tags is not second.tags
    given = ["b"]
    assert Point(x=1, tags=given).tags is given


def test_frozen_by_default() -> None:
    point = Point(x=1)
    with pytest.raises(AttributeError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        point.z = 2
    with pytest.raises(AttributeError):
        del point.x
    assert point.x == 1
    interval = core.Interval(min=1, target=2, max=3)
    with pytest.raises(AttributeError):
        interval.min = 0  # type: ignore[misc]


def test_frozen_false_allows_assignment() -> None:
    pair = Pair("a", "b")
    pair.left = "c"
    assert pair == Pair("c", "b")
    assert repr(pair) == "Pair(left='c', right='b')"


def test_equality_by_type_and_values() -> None:
    assert Point(x=1, tags=["a"]) == Point(x=1, y=0, tags=["a"])
    assert Point(x=1) != Point(x=2)
    assert Point(x=1) != Point(x=1, tags=["a"])
    # The same fields and values in another class are not equal, nor is a subclass.
    assert Point(x=1) != Spot(x=1)
    assert Spot(x=1) != Point(x=1)
    assert core.Interval(min=1, target=2, max=3) != core.Cadence(min=1, target=2, max=3, per_week=1)
    assert Point(x=1) != (1, 0, [])
    assert Point(x=1) != {"x": 1, "y": 0, "tags": []}


def test_frozen_records_hash_by_value_and_mutable_ones_do_not_hash() -> None:
    a = core.Interval(min=1, target=2, max=3)
    b = core.Interval(min=1, target=2, max=3)
    assert a is not b and hash(a) == hash(b)
    assert len({a, b, core.Interval(min=1, target=2, max=4)}) == 2
    assert {a: "x"}[b] == "x"
    with pytest.raises(TypeError):
        hash(Pair("a", "b"))
    with pytest.raises(TypeError):
        hash(Counted())


def test_repr_shows_the_fields_in_order() -> None:
    assert repr(Point(x=1, tags=["a"])) == "Point(x=1, y=0, tags=['a'])"
    assert repr(core.Cadence(min=2, target=3, max=4, per_week=2)) == (
        "Cadence(min=2, target=3, max=4, per_week=2)"
    )
    assert repr(core.SunPeriod(start=date(2027, 7, 1), end=date(2027, 7, 14))) == (
        "SunPeriod(start=datetime.date(2027, 7, 1), end=datetime.date(2027, 7, 14))"
    )


def test_replace_returns_a_changed_copy_and_leaves_the_original() -> None:
    original = core.Interval(min=1, target=2, max=3)
    changed = replace(original, target=3)
    assert changed == core.Interval(min=1, target=3, max=3)
    assert type(changed) is core.Interval
    assert original == core.Interval(min=1, target=2, max=3)
    assert replace(original) == original and replace(original) is not original
    cadence = replace(core.Cadence(min=1, target=2, max=3, per_week=1), per_week=2)
    assert type(cadence) is core.Cadence and cadence.per_week == 2
    with pytest.raises(TypeError):
        replace(original, nope=1)
    pair = Pair("a", "b")
    assert replace(pair, right="c") == Pair("a", "c")
    assert pair.right == "b"


def test_a_subclass_inherits_the_parent_fields_in_order() -> None:
    cadence = core.Cadence(min=1, target=2, max=3, per_week=2)
    assert core.Cadence._fields == ("min", "target", "max", "per_week")
    assert core.Interval._fields == ("min", "target", "max")
    assert (cadence.min, cadence.target, cadence.max, cadence.per_week) == (1, 2, 3, 2)
    assert isinstance(cadence, core.Interval)
    with pytest.raises(TypeError):
        core.Cadence(min=1, target=2, max=3)  # type: ignore[call-arg]

    class Tagged(Point):
        label: str = ""

    tagged = Tagged(x=1, label="t")
    assert Tagged._fields == ("x", "y", "tags", "label")
    assert (tagged.x, tagged.y, tagged.tags, tagged.label) == (1, 0, [], "t")
    assert repr(tagged) == "Tagged(x=1, y=0, tags=[], label='t')"
    assert Point._fields == ("x", "y", "tags")  # the parent is unchanged
    with pytest.raises(AttributeError):
        tagged.label = "u"  # type: ignore[misc]


def test_post_init_runs_after_the_fields_are_set() -> None:
    assert Checked(low=1, high=2).high == 2
    with pytest.raises(ValueError, match="3 > 2"):
        Checked(low=3, high=2)
    assert Counted(items=[1, 2, 3]).size == 3
    assert Counted().size == 0

    class Child(Checked):
        extra: int = 0

    with pytest.raises(ValueError):
        Child(low=3, high=2)


@pytest.mark.parametrize(
    "value",
    [
        core.Interval(min=1, target=2, max=3),
        core.Cadence(min=2, target=3, max=4, per_week=2),
        core.SunPeriod(start=date(2027, 7, 1), end=date(2027, 7, 14)),
        core.Patient(
            id="P-1",
            birth_date=date(1988, 3, 14),
            sex="female",
            conditions=[core.ConditionEntry(name="eczema", resolved_on=date(2026, 10, 1))],
            medications=[core.MedicationEntry(name="aspirin")],
            allergies=["latex"],
            sun_exposure=[core.SunPeriod(start=date(2027, 7, 1), end=date(2027, 7, 14))],
            sessions_done=[date(2026, 11, 3)],
        ),
    ],
    ids=lambda v: type(v).__name__,
)
def test_pickle_round_trip(value: Record) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(value, protocol=protocol))
        assert back == value
        assert type(back) is type(value)
        assert repr(back) == repr(value)
    back = pickle.loads(pickle.dumps(value))
    with pytest.raises(AttributeError):
        back.id = "other"  # still frozen after the round trip


def test_a_required_field_after_a_default_one_is_refused_when_positional() -> None:
    with pytest.raises(TypeError, match="without a default follows one with"):

        class Bad(Record, kw_only=False):
            a: int = 0
            b: int  # type: ignore[misc]

    # Keyword-only, the same order is fine, as with a kw_only dataclass.
    class Fine(Record):
        a: int = 0
        b: int

    assert Fine(b=2) == Fine(a=0, b=2)
    # And a positional subclass may not add a required field after the parent's default.
    with pytest.raises(TypeError):

        class BadChild(Pair, kw_only=False, frozen=False):
            extra: int  # type: ignore[misc]


def test_a_subclass_keeps_its_parents_settings_unless_it_says_otherwise() -> None:
    class Triple(Pair):
        third: str = "c"

    t = Triple("a", "b")  # positional, as its parent
    t.third = "z"  # mutable, as its parent
    assert (t.left, t.right, t.third) == ("a", "b", "z")

    class Fixed(Pair, frozen=True):
        pass

    f = Fixed("a", "b")
    with pytest.raises(AttributeError, match="frozen"):
        f.left = "x"  # type: ignore[misc]
    assert hash(f) == hash(Fixed("a", "b"))


def test_a_mutable_plain_default_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="default_factory"):

        class Shared(Record):
            items: list[int] = []  # noqa: RUF012
