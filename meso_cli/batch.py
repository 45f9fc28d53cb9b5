"""Batch screening: one JSON Lines input line in, one JSON line out (the same engine as screen)."""

from __future__ import annotations

import json
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import to_json

from meso_cli import __version__
from meso_cli.documents import (
    MAX_DEPTH,
    Document,
    reject_nulls,
    reject_raw,
    reject_surrogates,
    validation_problems,
    whole_number,
)
from meso_cli.errors import FileProblems, MesoError, Problem, unknown
from meso_cli.models import BatchLine, ErrorLine, Patient, Protocol
from meso_cli.patients import patient_from
from meso_cli.screening import Screener

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

ERROR = "error"  # the count key for lines that could not be screened
MAX_LINE_BYTES = 1 << 20  # the patient file limit applies to each line too
# Lines sent to a worker at a time: each hand-out costs the parent some of its own time, so a
# chunk is large; a chunk of long lines is cut at CHUNK_BYTES so that the chunks in flight
# stay a few megabytes whatever the lines hold.
CHUNK_LINES = 1000
CHUNK_BYTES = 1 << 20
IN_FLIGHT = 2  # chunks handed out per worker and not yet written: one to do, one waiting
# A run that ends within this many lines is screened in-process: starting the workers costs
# more than they save (benchmarks/bench.py measures the break-even, README "Speed").
POOL_MIN_LINES = 2000

Chunk = tuple[bytes, list[str]]  # output lines (UTF-8, each ended by a newline); their kinds


def default_jobs() -> int:
    """The CPUs this process may run on (a container or `taskset` may allow fewer than the
    machine has), or the machine's count where the system cannot say."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def refuse_file_wide_clear(rules: Sequence[str]) -> None:
    """Clearing a review is a practitioner's decision about one patient, never about a whole
    file: a batch takes clearances from each line, not from `--clear`."""
    if rules:
        raise MesoError(
            f"--clear {rules[0]}: a batch does not clear a rule for every patient in a file; "
            "record each patient's clearance in that line's \"clearances\""
        )


@dataclass(frozen=True)
class Job:
    """What every line is screened (or planned) against; built once per run."""

    screener: Screener
    protocol: Protocol | None  # --protocol: for the lines that name none
    on: date
    plan: bool = False
    course: str | None = None  # --course, with --plan: a named course of every protocol

    def __post_init__(self) -> None:
        if self.course is not None and not self.plan:
            raise MesoError("--course needs --plan: a course is planned, not screened")


@dataclass
class Tally:
    """Counts by verdict (and errors) over a run, for the closing summary on stderr."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: int = 0

    def add_all(self, kinds: Sequence[str]) -> None:
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


# --- one line ------------------------------------------------------------------------------


class LineError(MesoError):
    """A line that cannot be screened; `patient_id` when the line named its patient."""

    def __init__(self, message: str, patient_id: str | None = None) -> None:
        super().__init__(message)
        self.patient_id = patient_id


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(items)
    if len(out) != len(items):
        seen: set[str] = set()
        dupe = next(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {dupe!r}")
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this tool accepts")


# The C scanner of the standard library, with a hook per object that refuses duplicate keys,
# and a whole number of thousands of digits refused in the words a file gets.
_decode = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_int=whole_number
).decode
_KINDS = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}


def read_line(raw: bytes, number: int, on: date) -> tuple[Patient, str | None]:
    """One input line read for the reference date `on`, as strictly as a patient file is read
    (JSON only): the patient and the protocol the line names. The one place a batch line is
    read: every check a patient file gets, a line gets here. A line may be a FHIR R4 Bundle,
    read as a Bundle file is.

    A valid line costs the standard library's decoder and the model's own validation; the
    problems are worded as a file's are (paths, close keys) only for a line that fails.
    """
    if len(raw) > MAX_LINE_BYTES:
        raise LineError(f"line is over {MAX_LINE_BYTES} bytes, the limit for a patient")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LineError("not UTF-8 text") from None
    if not text.strip():
        raise LineError("blank line, expected a JSON object")
    if "\x00" in text:
        raise LineError("NUL byte, expected JSON text")
    if text.startswith("\ufeff"):  # the file's own, before line 1, is taken off as it is read
        raise LineError(
            "byte-order mark (BOM, U+FEFF) at the start of a line; only a file may begin with "
            "one (were files joined?)"
        )
    try:
        reject_raw(text, f"line {number}")  # JSON would say only "invalid control character"
    except FileProblems as exc:
        raise LineError(_messages(exc.problems)) from None
    try:
        value = _decode(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:
        raise LineError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise LineError("invalid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        got = _KINDS.get(type(value), "a number")
        raise LineError(f"expected a JSON object (a patient), got {got}")
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise LineError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep")  # as a file
    try:
        if "null" in text:  # as in a file: null is not "not stated", a left-out key is
            reject_nulls(Document(f"line {number}", value))
        if "\\u" in text:
            reject_surrogates(Document(f"line {number}", value))
    except FileProblems as exc:
        raise LineError(_messages(exc.problems), _named(value, exc.problems)) from None
    if "resourceType" in value:  # a FHIR R4 Bundle: the protocol is --protocol
        try:
            return patient_from(Document(f"line {number}", value), on), None
        except FileProblems as exc:
            raise LineError(_messages(exc.problems)) from None
    try:
        line = BatchLine.model_validate(value, context={"on": on})
    except ValidationError as exc:
        problems = validation_problems(exc, Document(f"line {number}", value), BatchLine)
        raise LineError(_messages(problems), _named(value, problems)) from None
    return line, line.protocol


def _messages(problems: Sequence[Problem]) -> str:
    return "; ".join(p.message for p in problems)


def _named(value: dict[str, Any], problems: Sequence[Problem]) -> str | None:
    """The line's id, for its error line, unless the id itself is one of the problems."""
    named = value.get("id")
    if not isinstance(named, str) or any(p.message.startswith("id:") for p in problems):
        return None
    return named


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


def _protocol_of(named: str | None, job: Job) -> Protocol | None:
    """The line's own protocol, else --protocol."""
    if named is None:
        return job.protocol
    data = job.screener.data
    found = data.protocol(named.strip().lower())
    if found is None:
        problem = unknown("protocol", named, (p.id for p in data.protocols))
        raise MesoError(f"protocol: {problem}")
    return found


def answer_line(raw: bytes, number: int, job: Job) -> tuple[str, str]:
    """The output line for one input line (JSON, without newline) and what to count it as."""
    try:
        patient, named = read_line(raw, number, job.on)
    except LineError as exc:
        return error_line(number, str(exc), job, exc.patient_id), ERROR
    try:
        protocol = _protocol_of(named, job)
        if job.plan:
            return _plan_line(patient, protocol, number, job)
        result = job.screener.screen(patient, protocol, on=job.on)
    except MesoError as exc:  # a protocol the data does not have, say
        return error_line(number, str(exc), job, patient.id), ERROR
    # The ScreeningLine's JSON: `line`, then the screening's fields (tests/test_batch.py
    # checks each line against the model's own serialization).
    return f'{{"line":{number},{result.model_dump_json()[1:]}', result.verdict.value


def _plan_line(
    patient: Patient, protocol: Protocol | None, number: int, job: Job
) -> tuple[str, str]:
    from meso_cli.clinic import Clinic
    from meso_cli.planning import screen_and_plan

    if protocol is None:
        raise MesoError(
            "no protocol: a plan is made for one protocol; "
            'give --protocol, or "protocol" in the line'
        )
    made = screen_and_plan(patient, protocol, job.screener, Clinic(), on=job.on, course=job.course)
    # The PlanLine's JSON: `line`, `patient_id`, then the plan's fields.
    named = to_json(patient.id).decode()
    return (
        f'{{"line":{number},"patient_id":{named},{made.model_dump_json()[1:]}',
        made.screening.verdict.value,
    )


def error_line(number: int, message: str, job: Job, patient_id: str | None = None) -> str:
    return ErrorLine(
        line=number,
        patient_id=patient_id,
        error=message,
        data_version=job.screener.data.version,
        meso_version=__version__,
    ).model_dump_json()


# --- running over a stream -------------------------------------------------------------------


def _screen_chunk(first: int, chunk: Sequence[bytes], job: Job) -> Chunk:
    # One text per chunk, not a string per line: a worker's result crosses the pipe as one
    # object, which costs the parent (that only writes it out) next to nothing.
    done = [answer_line(raw, first + i, job) for i, raw in enumerate(chunk)]
    # backslashreplace: should half a character ever get through, it must not lose the chunk.
    text = "".join(line + "\n" for line, _ in done).encode("utf-8", "backslashreplace")
    return text, [kind for _, kind in done]


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


class WorkerLost(Exception):
    """A worker process died (the out-of-memory killer, or a `kill -9`): the run cannot go
    on, since its lines would be missing from the output."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


PoolFactory = Callable[[int, Job], "Executor"]


def run(
    lines: Iterable[bytes],
    job: Job,
    *,
    jobs: int = 1,
    flush: bool = False,
    pool_factory: PoolFactory | None = None,
) -> Iterator[Chunk]:
    """Output in input order, a chunk at a time: the chunk's lines as one UTF-8 text (each
    ended by a newline) and what to count each as. Memory stays flat however long the input.

    With `flush`, each line is answered as soon as it is read (one line in, one out). A run
    whose input ends within POOL_MIN_LINES lines is screened in-process whatever `jobs` says.
    With several jobs, at most a few chunks per worker are in flight.
    """
    if flush:
        for number, raw in enumerate(lines, start=1):
            yield _screen_chunk(number, [raw], job)
        return
    source = iter(lines)
    ahead = list(islice(source, POOL_MIN_LINES)) if jobs > 1 else []
    if jobs <= 1 or len(ahead) < POOL_MIN_LINES:
        for first, chunk in _chunks(chain(ahead, source), CHUNK_LINES):
            yield _screen_chunk(first, chunk, job)
        return
    yield from _over_workers(chain(ahead, source), job, jobs, pool_factory or _pool)


def _over_workers(
    lines: Iterable[bytes], job: Job, jobs: int, pool_factory: PoolFactory
) -> Iterator[Chunk]:
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    pool: Executor | None = None
    workers: list[Any] = []
    pending: deque[Future[Chunk]] = deque()
    lost = False
    try:
        for first, chunk in _chunks(lines, CHUNK_LINES):
            blob = b"\n".join(chunk)  # one object to send; no line holds a newline
            if pool is None:
                pool = _started(pool_factory, jobs, job, first, blob, pending)
                workers = multiprocessing.active_children()
            else:
                pending.append(pool.submit(_work, first, blob))
            if len(pending) >= jobs * IN_FLIGHT:
                yield _result(pending.popleft(), workers)
        while pending:
            yield _result(pending.popleft(), workers)
    except BrokenProcessPool:
        lost = True
        raise WorkerLost(_how_they_died(workers)) from None
    except WorkerLost:
        lost = True
        raise
    finally:
        if pool is not None and lost:
            # A worker died, perhaps while handing a chunk back: the pool's own thread may
            # wait for the rest of it for ever. The others are ended, and nothing waits.
            for worker in workers:
                if worker.is_alive():
                    worker.kill()
            pool.shutdown(wait=False, cancel_futures=True)
        elif pool is not None:
            # Done, or stopped (Ctrl-C, kill, a reader gone): the chunks under way finish and
            # come back whole, the others are cancelled. A worker is never killed in the
            # middle of handing a chunk back.
            pool.shutdown(wait=True, cancel_futures=True)


def _result(future: Future[Chunk], workers: list[Any]) -> Chunk:
    """A chunk's lines. A worker that has died is noticed within half a second, even where
    the pool cannot tell (one killed while handing its chunk back)."""
    while True:
        try:
            return future.result(timeout=0.5)
        except TimeoutError:
            if any(worker.exitcode is not None for worker in workers):
                raise WorkerLost(_how_they_died(workers)) from None


def _started(
    pool_factory: PoolFactory,
    jobs: int,
    job: Job,
    first: int,
    blob: bytes,
    pending: deque[Future[Chunk]],
) -> Executor:
    """The pool, with the first chunk handed out: the workers are forked on that first
    hand-out, with Ctrl-C ignored and kill's default action from the start, so that a signal
    between the fork and _init_worker never reaches a handler of the parent's."""
    import signal

    sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
    sigterm = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        pool = pool_factory(jobs, job)
        pending.append(pool.submit(_work, first, blob))
        return pool
    finally:
        signal.signal(signal.SIGINT, sigint)
        signal.signal(signal.SIGTERM, sigterm)


def _how_they_died(workers: list[Any]) -> str:
    """How the lost worker ended. The pool ends the others with SIGTERM once one is lost,
    so any other ending is the one to name."""
    import signal

    codes = []
    for worker in workers:
        worker.join(timeout=1)
        codes.append(worker.exitcode)
    ended = sorted((c for c in codes if c), key=lambda c: c == -signal.SIGTERM)
    if not ended:
        return "ended unexpectedly"
    code = ended[0]
    if code > 0:
        return f"ended with exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = " (as the out-of-memory killer does: try fewer --jobs)" if name == "SIGKILL" else ""
    return f"was killed by {name}{hint}"


_worker_job: Job | None = None


def _init_worker(job: Job) -> None:
    """Ctrl-C and `kill` are the parent's to handle: a worker ignores SIGINT (a terminal sends
    it to the whole group) and dies quietly on SIGTERM."""
    import signal
    import threading

    global _worker_job
    _worker_job = job
    if threading.current_thread() is threading.main_thread():  # a process, not a thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work(first: int, blob: bytes) -> Chunk:
    assert _worker_job is not None
    return _screen_chunk(first, blob.split(b"\n"), _worker_job)


def _pool(jobs: int, job: Job) -> Executor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(job,))
