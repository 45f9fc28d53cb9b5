"""One error base for everything the user can get wrong; each knows its exit code and message."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

EXIT_USAGE = 2


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` candidates that look like `word`, best first."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def _did_you_mean(suggestions: list[str]) -> str:
    if not suggestions:
        return ""
    return " (did you mean " + " or ".join(repr(s) for s in suggestions) + "?)"


@dataclass
class MesoError(Exception):
    """Something the user (or a data file) got wrong: exit 2 with one clear line."""

    message: str
    exit_code: int = field(default=EXIT_USAGE, kw_only=True)

    def __str__(self) -> str:
        return self.message


@dataclass
class Problem:
    """One thing wrong in a file, with the line when there is one."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass
class FileProblems(MesoError):
    """A file (patient or data) that cannot be used; every problem names file and line."""

    problems: list[Problem] = field(default_factory=list, kw_only=True)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or self.message


def file_error(path: str, line: int | None, message: str) -> FileProblems:
    return FileProblems(message, problems=[Problem(path, line, message)])


@dataclass
class UnknownName(MesoError):
    """A protocol, rule, weekday or country that does not exist, with close suggestions."""

    kind: str = ""
    name: str = ""
    known: list[str] = field(default_factory=list, kw_only=True)

    def __str__(self) -> str:
        hint = _did_you_mean(close_matches(self.name, self.known))
        if not hint and len(self.known) <= 12:
            hint = f" (known: {', '.join(self.known)})"
        return f"unknown {self.kind} {self.name!r}{hint}"


def unknown(kind: str, name: str, known: Iterable[str]) -> UnknownName:
    return UnknownName("", kind, name, known=sorted(known))
