"""Every exit code, and one error base for everything the user can get wrong."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

# --- exit codes: the contract with scripts (README "Exit codes") ----------------------------

EXIT_OK = 0  # eligible, or a plan was made
EXIT_BUG = 1  # an internal error: a bug
EXIT_USAGE = 2  # a usage error, or an invalid patient or data file
EXIT_REVIEW = 3
EXIT_DEFERRED = 4  # deferred (screen), or no plan because the deferral has no known end
EXIT_NOT_ELIGIBLE = 5
EXIT_INVALID_LINES = 6  # batch: some lines could not be screened
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
EXIT_WORKER_LOST = 137  # 128 + SIGKILL: a batch worker was killed (the out-of-memory killer)
EXIT_PIPE = 141  # 128 + SIGPIPE: the reader went away before the run finished
EXIT_TERMINATED = 143  # 128 + SIGTERM: `kill`

# A screening's verdict (its value) -> the exit code of screen, plan and handout.
VERDICT_EXIT: dict[str, int] = {
    "eligible": EXIT_OK,
    "review": EXIT_REVIEW,
    "deferred": EXIT_DEFERRED,
    "not_eligible": EXIT_NOT_ELIGIBLE,
}


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` candidates that look like `word`, best first."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def is_text(value: str) -> bool:
    """False for a string holding bytes that were not UTF-8 (an argument or an answer typed
    in another encoding arrives with them escaped as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _did_you_mean(suggestions: list[str]) -> str:
    if not suggestions:
        return ""
    return " (did you mean " + " or ".join(repr(s) for s in suggestions) + "?)"


class MesoError(Exception):
    """Something the user (or a data file) got wrong: exit 2 with one clear line."""

    def __init__(self, message: str, *, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class FileExists(MesoError):
    """A file that was to be created new exists already (nothing was written over it)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, with the line when there is one (a field of FileProblems)."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


class FileProblems(MesoError):
    """A file (patient or data) that cannot be used; every problem names file and line."""

    def __init__(
        self, message: str, *, problems: list[Problem] | None = None, exit_code: int = EXIT_USAGE
    ) -> None:
        super().__init__(message, exit_code=exit_code)
        self.problems = problems if problems is not None else []

    def __str__(self) -> str:
        # In file and line order, whatever order the checks found them in.
        ordered = sorted(self.problems, key=lambda p: (p.path, p.line is None, p.line or 0))
        return "\n".join(str(p) for p in ordered) or self.message


def file_error(path: str, line: int | None, message: str) -> FileProblems:
    return FileProblems(message, problems=[Problem(path, line, message)])


class UnknownName(MesoError):
    """A protocol, rule, weekday or country that does not exist, with close suggestions."""

    def __init__(self, kind: str, name: str, *, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(str(self))

    def __str__(self) -> str:
        hint = _did_you_mean(close_matches(self.name, self.known))
        if not hint and len(self.known) <= 12:
            hint = f" (known: {', '.join(self.known)})"
        return f"unknown {self.kind} {self.name!r}{hint}"


def unknown(kind: str, name: str, known: Iterable[str]) -> UnknownName:
    return UnknownName(kind, name, known=sorted(known))
