"""Batch screening: one JSON Lines input line in, one JSON line out (the same engine as screen)."""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from meso_cli.documents import (
    MAX_DEPTH,
    Document,
    reject_nulls,
    reject_raw,
    reject_surrogates,
    whole_number,
)
from meso_cli.errors import FileProblems, MesoError
from meso_cli.models import Patient, Protocol
from meso_cli.patients import patient_from
from meso_cli.screening import Screener

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

ERROR = "error"  # the count key for lines that could not be screened
MAX_LINE_BYTES = 1 << 20  # the patient file limit applies to each line too
# Lines sent to a worker at a time: each hand-out costs the parent about half a millisecond
# of its own time (benchmarks/bench.py), so a chunk is large; a chunk of long lines is cut at
# CHUNK_BYTES so that the chunks in flight stay a few megabytes whatever the lines hold.
CHUNK_LINES = 1000
CHUNK_BYTES = 1 << 20
IN_FLIGHT = 2  # chunks handed out per worker and not yet written: one to do, one waiting

Chunk = tuple[bytes, list[str]]  # output lines (UTF-8, each ended by a newline); their kinds


@dataclass(frozen=True)
class Job:
    """What every line is screened (or planned) against; built once per run."""

    screener: Screener
    protocol: Protocol | None
    on: date
    clear: tuple[str, ...] = ()
    plan: bool = False
    course: str | None = None  # one of the protocol's named courses, for --plan

    def __post_init__(self) -> None:
        if self.plan and self.protocol is None:
            raise MesoError("--plan needs --protocol: a plan is made for one protocol")
        if self.course is not None and not self.plan:
            raise MesoError("--course needs --plan: a course is planned, not screened")


@dataclass
class Tally:
    """Counts by verdict (and errors) over a run, for the closing summary on stderr."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: int = 0

    def add_all(self, kinds: list[str]) -> None:
        self.counts.update(kinds)
        self.lines += len(kinds)

    @property
    def errors(self) -> int:
        return self.counts[ERROR]

    def summary(self) -> str:
        order = ("eligible", "review", "deferred", "not_eligible", ERROR)
        names = {ERROR: "error" if self.errors == 1 else "errors"}
        parts = [f"{self.counts[k]} {names.get(k, k)}" for k in order]
        return f"{self.lines} lines: " + ", ".join(parts)


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(items)
    if len(out) != len(items):
        seen: set[str] = set()
        dupe = next(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {dupe!r}")
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this tool accepts")


_decode = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_int=whole_number
).decode


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _error(number: int, message: str) -> str:
    return _compact({"line": number, "error": message})  # compact, like the other lines


def read_patient(raw: bytes, number: int, on: date) -> Patient:
    """One line as a Patient read for the reference date `on`, as strictly as a patient file
    is read (JSON only)."""
    if len(raw) > MAX_LINE_BYTES:
        raise MesoError(f"line is over {MAX_LINE_BYTES} bytes, the limit for a patient")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MesoError("not UTF-8 text") from None
    if not text.strip():
        raise MesoError("blank line, expected a JSON object")
    if "\x00" in text:
        raise MesoError("NUL byte, expected JSON text")
    if text.startswith("\ufeff"):  # only a file's first line may carry one (cli.batch)
        raise MesoError(
            "a byte-order mark (BOM, U+FEFF) starts the line; only the first line of a file "
            "may have one (were files joined?)"
        )
    try:
        reject_raw(text, f"line {number}")  # JSON would say only "invalid control character"
    except FileProblems as exc:
        raise MesoError("; ".join(p.message for p in exc.problems)) from None
    try:
        value = _decode(text)
    except json.JSONDecodeError as exc:
        raise MesoError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:
        raise MesoError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise MesoError("invalid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        kinds = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
        raise MesoError(
            f"expected a JSON object (a patient), got {kinds.get(type(value), 'a number')}"
        )
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise MesoError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep")  # as a file
    try:
        doc = Document(f"line {number}", value)
        if "null" in text:  # as in a file: null is not "not stated", a left-out key is
            reject_nulls(doc)
        if "\\u" in text:
            reject_surrogates(doc)
        return patient_from(doc, on)
    except FileProblems as exc:
        raise MesoError("; ".join(p.message for p in exc.problems) or exc.message) from None


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (without recursion: it may be deep)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        here, depth = stack.pop()
        if isinstance(here, dict | list):
            deepest = max(deepest, depth)
            children = here.values() if isinstance(here, dict) else here
            stack.extend((child, depth + 1) for child in children)
    return deepest


def screen_line(raw: bytes, number: int, job: Job) -> tuple[str, str]:
    """The output line for one input line (without newline) and what to count it as."""
    try:
        patient = read_patient(raw, number, job.on)
        if job.plan:
            return _plan_line(patient, job)
        result = job.screener.screen(patient, job.protocol, on=job.on, clear=job.clear)
    except MesoError as exc:
        return _error(number, str(exc)), ERROR
    return result.model_dump_json(), result.verdict.value


def _plan_line(patient: Patient, job: Job) -> tuple[str, str]:
    from meso_cli.clinic import Clinic
    from meso_cli.planning import screen_and_plan

    assert job.protocol is not None  # Job refuses --plan without a protocol
    made = screen_and_plan(
        patient, job.protocol, job.screener, Clinic(), on=job.on, clear=job.clear, course=job.course
    )
    return made.model_dump_json(), made.screening.verdict.value


def check_job(job: Job) -> None:
    """Fail once, before any line, on what would fail every line (e.g. a bad --clear or
    --course)."""
    job.screener.screen(Patient(age=30), job.protocol, on=job.on, clear=job.clear)
    if job.plan and job.protocol is not None:
        from meso_cli.planning import with_course

        with_course(job.protocol, job.course)


# --- running over a stream -------------------------------------------------------------------

_worker_job: Job | None = None


def _init_worker(job: Job) -> None:
    """Ctrl-C and `kill` are the parent's to handle: a worker ignores SIGINT (a terminal sends
    it to the whole group) and dies quietly on the SIGTERM of the parent's Pool.terminate."""
    import signal
    import threading

    global _worker_job
    _worker_job = job
    if threading.current_thread() is threading.main_thread():  # a process, not a thread pool
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work(first: int, lines: Sequence[bytes]) -> Chunk:
    assert _worker_job is not None
    return _screen_chunk(first, lines, _worker_job)


def _chunks(
    lines: Iterable[bytes], size: int, most: int = CHUNK_BYTES
) -> Iterator[tuple[int, list[bytes]]]:
    """Runs of `size` lines, or fewer when they reach `most` bytes (long lines)."""
    chunk: list[bytes] = []
    first = 1
    held = 0
    for number, raw in enumerate(lines, start=1):
        if not chunk:
            first = number
        chunk.append(raw)
        held += len(raw)
        if len(chunk) >= size or held >= most:
            yield first, chunk
            chunk = []
            held = 0
    if chunk:
        yield first, chunk


def run(
    lines: Iterable[bytes],
    job: Job,
    *,
    jobs: int = 1,
    pool_factory: Callable[[int, Job], Pool] | None = None,
) -> Iterator[Chunk]:
    """Output in input order, a chunk at a time: the chunk's lines as one UTF-8 text (each
    ended by a newline) and what to count each as. Memory stays flat however long the input.

    With several jobs, at most a few chunks per worker are in flight: a plain `Pool.imap`
    would read the whole input ahead of the workers and hold it in memory.
    """
    if jobs <= 1:
        for first, chunk in _chunks(lines, CHUNK_LINES):
            yield _screen_chunk(first, chunk, job)
        return
    pool = (pool_factory or _pool)(jobs, job)
    try:
        pending: deque[Any] = deque()
        for first, chunk in _chunks(lines, CHUNK_LINES):
            pending.append(pool.apply_async(_work, (first, chunk)))
            if len(pending) >= jobs * IN_FLIGHT:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()


def _screen_chunk(first: int, chunk: Sequence[bytes], job: Job) -> Chunk:
    # One text per chunk, not a string per line: a worker's result crosses the pipe as one
    # object, which costs the parent (that only writes it out) next to nothing.
    done = [screen_line(raw, first + i, job) for i, raw in enumerate(chunk)]
    # backslashreplace: should half a character ever get through, it must not lose the chunk.
    text = "".join(line + "\n" for line, _ in done).encode("utf-8", "backslashreplace")
    return text, [kind for _, kind in done]


def _pool(jobs: int, job: Job) -> Pool:
    import multiprocessing
    import signal

    # The workers are forked with Ctrl-C ignored and kill's default action from the start: a
    # signal between the fork and _init_worker must not reach a handler of the parent's.
    sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
    sigterm = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        return multiprocessing.get_context().Pool(jobs, initializer=_init_worker, initargs=(job,))
    finally:
        signal.signal(signal.SIGINT, sigint)
        signal.signal(signal.SIGTERM, sigterm)
