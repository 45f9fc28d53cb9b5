"""Record: a dataclass-like base for the objects every command creates, at a fraction of the cost.

`dataclasses` builds six methods per class with `exec` and re-creates slotted classes; for the
forty-odd classes a `meso screen` defines that is more than the rest of its own code takes to
load (benchmarks/bench.py measures the command against the bare import of its stack). A
Record subclass gets one generated `__init__`; equality, hashing, repr and immutability come
from this base, and `__post_init__` runs after it when the class has one. Type checkers see
a frozen dataclass (PEP 681). Unlike a dataclass, the class itself keeps no defaults
(`Point.y` is an AttributeError): every instance holds every field.

    class Point(Record):             # keyword-only, frozen
        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)

    class Pair(Record, kw_only=False, frozen=False):   # positional, mutable
        left: str
        right: str
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar, dataclass_transform

R = TypeVar("R", bound="Record")


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Any]) -> Any:
    """A default made afresh for each instance (`field(default_factory=list)`)."""
    return _Factory(default_factory)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Record:
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _frozen: ClassVar[bool] = True
    _kw_only: ClassVar[bool] = True

    def __init_subclass__(cls, *, kw_only: bool | None = None, frozen: bool | None = None) -> None:
        # A subclass keeps its parent's settings unless it says otherwise.
        for own in ("__init__", "__eq__", "__hash__"):
            if own in cls.__dict__:
                raise TypeError(f"{cls.__name__}: a record makes its own {own}")
        kw_only = cls._kw_only if kw_only is None else kw_only
        frozen = cls._frozen if frozen is None else frozen
        names = list(cls._fields)
        defaults = dict(cls._defaults)
        # The class's own annotations, as strings: every module that defines records starts
        # with `from __future__ import annotations`.
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if "ClassVar" in str(annotation).split("[")[0]:
                continue
            if name not in names:
                names.append(name)
            if name in cls.__dict__:
                default = cls.__dict__[name]
                if isinstance(default, list | dict | set):
                    raise TypeError(
                        f"{cls.__name__}.{name}: a mutable default would be shared by every "
                        "instance; use field(default_factory=...)"
                    )
                defaults[name] = default
                delattr(cls, name)  # the instance always holds the value
        if not kw_only:
            required = [n for n in names if n not in defaults]
            if names[: len(required)] != required:
                raise TypeError(f"{cls.__name__}: a field without a default follows one with")
        cls._fields = tuple(names)
        cls._defaults = defaults
        cls._frozen = frozen
        cls._kw_only = kw_only
        cls.__init__ = _lazy_init(cls)  # type: ignore[method-assign]
        # Hashable when frozen, by value; a mutable record is not, as a mutable dataclass.
        cls.__hash__ = Record.__hash__ if frozen else None  # type: ignore[assignment]

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name}")
        object.__delattr__(self, name)

    def _values(self) -> Iterator[Any]:
        return (getattr(self, n) for n in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple(self._values()) == tuple(other._values())

    def __hash__(self) -> int:
        return hash((type(self), *self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({shown})"


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with some fields changed."""
    values = {n: getattr(record, n) for n in record._fields}
    values.update(changes)
    return type(record)(**values)


def _lazy_init(cls: type[Record]) -> Callable[..., None]:
    """An __init__ that makes the real one on first use: most classes a command defines are
    never built by it (results of other commands; data sets come out of the cache whole)."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        real = _make_init(cls)
        cls.__init__ = real  # type: ignore[method-assign]
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _make_init(cls: type[Record]) -> Callable[..., None]:
    names, defaults = cls._fields, cls._defaults
    params, body = [], []
    for name in names:
        default = defaults.get(name, _NONE)
        if default is _NONE:
            params.append(name)
        elif isinstance(default, _Factory):
            params.append(f"{name}=_NONE")
            body.append(f"    if {name} is _NONE: {name} = _d[{name!r}].make()")
        else:
            params.append(f"{name}=_d[{name!r}]")
    body += [f"    _s[{name!r}] = {name}" for name in names]
    if hasattr(cls, "__post_init__"):  # checks, as a dataclass's
        body.append("    self.__post_init__()")
    star = "*, " if cls._kw_only and params else ""
    source = (
        f"def __init__(self, {star}{', '.join(params)}):\n"
        "    _s = self.__dict__\n" + ("\n".join(body) or "    pass") + "\n"
    )
    scope: dict[str, Any] = {"_d": defaults, "_NONE": _NONE}
    exec(source, scope)  # noqa: S102 - the source is built above from the field names only
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


_NONE: Any = object()
