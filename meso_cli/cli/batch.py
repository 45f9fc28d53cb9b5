"""`meso batch`: JSON Lines of patients in, one JSON line out per input line, in order."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import DataDir, On, app, load, protocol_named, reference_date
from meso_cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_INVALID_LINES,
    EXIT_TERMINATED,
    EXIT_WORKER_LOST,
    MesoError,
)

if TYPE_CHECKING:
    from meso_cli.batch import Tally


@app.command()
def batch(
    file: Annotated[
        str,
        typer.Argument(help="JSON Lines file, one patient object a line, or - for stdin."),
    ],
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            help='Protocol id (see `meso protocols`) for the lines that give no "protocol".',
            autocompletion=complete.protocols,
        ),
    ] = None,
    on: On = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="Output each patient's plan instead of the screening.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Worker processes (default: the CPUs this process may use). Output stays in "
            "input order.",
            show_default=False,
        ),
    ] = None,
    flush: Annotated[
        bool,
        typer.Option(
            "--flush",
            help="Write each answer as soon as its line is read (one line in, one line out), "
            "for a program that waits for it.",
        ),
    ] = False,
    course: Annotated[
        str | None,
        typer.Option(
            "--course",
            show_default=False,
            help="With --plan: one of the protocol's named courses (default: its first).",
        ),
    ] = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(
            "--clear",
            hidden=True,
            help="Refused: a batch takes each patient's clearances from its line.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Screen (or plan) every patient of a JSON Lines file: one JSON line out per line in.

    Each output line is what `meso screen --json` (or `meso plan --json` with --plan) prints
    for that patient, on one line, with "line" (the input line's number) first. A line may
    name its own "protocol", which overrides --protocol for that line. A line that is blank,
    cut short, not an object or not a valid patient becomes {"line": N, "patient_id": ...,
    "error": "...", ...} and the run goes on. Counts by verdict go to stderr at the end.
    `meso schema batch-line` describes every line it writes.

    Exit 0 when every line was read, 6 when some line was invalid. The exit code does not
    reflect the verdicts: read them from the output. Stopped by Ctrl-C (130) or kill (143),
    or a worker lost (137), it ends with a whole line and says how many lines were written.

    Examples:

      meso batch patients.jsonl --protocol hair --on 2026-11-22 > verdicts.jsonl

      meso batch patients.jsonl --protocol hair --plan --jobs 4 > plans.jsonl

      cat patients.jsonl | meso batch - | jq -c 'select(.error)'

      meso batch - --flush -p hair   # one line in, its answer out
    """
    from meso_cli.batch import Job, Tally, WorkerLost, default_jobs, refuse_file_wide_clear, run
    from meso_cli.screening import Screener

    refuse_file_wide_clear(clear or [])
    if flush and jobs is not None and jobs > 1:
        raise MesoError(
            f"--flush --jobs {jobs}: --flush answers each line as it comes, in one process; "
            "leave out --jobs"
        )
    data = load(data_dir)
    job = Job(
        screener=Screener(data),
        protocol=protocol_named(data, protocol),
        on=reference_date(on),
        plan=plan,
        course=course,
    )
    if plan and job.protocol is not None:
        from meso_cli.planning import with_course

        with_course(job.protocol, course)  # a course the protocol lacks fails before any line
    tally = Tally()
    output = _Output(tally)
    source: IO[bytes] | None = None
    progress: _Progress | None = None
    try:
        with _stopping(output):
            source, size = _open(file)  # a FIFO waits here for its writer: kill ends it
            progress = _Progress(size) if sys.stderr.isatty() and not flush else None
            lines = _lines(source, progress)
            for text, kinds in run(
                lines, job, jobs=1 if flush else jobs or default_jobs(), flush=flush
            ):
                output.write(text, kinds)
                if progress is not None:
                    progress.show(tally.lines)
    except _Stopped as stop:  # Ctrl-C or `kill`: the workers are stopped, then one line
        ctrl_c = stop.signum == signal.SIGINT
        what = "interrupted" if ctrl_c else "terminated"
        sys.stderr.write(f"meso: batch: {what} after {tally.lines} lines\n")
        raise typer.Exit(EXIT_INTERRUPTED if ctrl_c else EXIT_TERMINATED) from None
    except WorkerLost as lost:
        sys.stderr.write(
            f"meso: batch: a worker process {lost.how}; stopped after {tally.lines} lines\n"
        )
        # The pool's own thread may be waiting for ever on what the lost worker left half
        # handed back, and an ordinary exit would wait for that thread: end here, the output
        # written and flushed.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(EXIT_WORKER_LOST)
    finally:
        if progress is not None:
            progress.done()
        if source is not None and source is not sys.stdin.buffer:
            source.close()
    sys.stderr.write(f"meso: batch: {tally.summary()}\n")
    if tally.errors:
        raise typer.Exit(EXIT_INVALID_LINES)


class _Stopped(Exception):
    """SIGINT or SIGTERM, raised where the run may stop: never inside a write."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Output:
    """Standard output, written a chunk at a time with whole lines only: a signal that comes
    while a chunk is being written (to a slow reader, say) lets the line under way finish and
    then stops. `tally` counts exactly the lines delivered."""

    def __init__(self, tally: Tally) -> None:
        sys.stdout.flush()
        self.tally = tally
        self.busy = False
        self.stop: int | None = None
        try:
            self.fd: int | None = sys.stdout.fileno()
        except (OSError, ValueError):  # not a real file (a test's capture)
            self.fd = None

    def write(self, text: bytes, kinds: list[str]) -> None:
        self.busy = True
        try:
            delivered = self._send(text, len(kinds))
            self.tally.add_all(kinds[:delivered])
        finally:
            self.busy = False
        if self.stop is not None:
            raise _Stopped(self.stop)

    def _send(self, text: bytes, lines: int) -> int:
        """Write `text`; the number of its lines written in full."""
        from meso_cli.cli.app import output_failed

        try:
            if self.fd is None:
                sys.stdout.buffer.write(text)
                sys.stdout.buffer.flush()
                return lines
            view = memoryview(text)
            done = 0
            while done < len(text):
                end = len(text)
                if self.stop is not None:
                    if done == 0 or text[done - 1] == 0x0A:  # at a line's end: stop here
                        break
                    end = text.index(b"\n", done) + 1  # finish the line under way
                done += os.write(self.fd, view[done:end])
            return lines if done == len(text) else text.count(b"\n", 0, done)
        except BrokenPipeError:  # the reader went away: the app ends quietly, exit 141
            raise
        except OSError as exc:
            raise output_failed(exc) from None


@contextmanager
def _stopping(output: _Output) -> Iterator[None]:
    """Ctrl-C and `kill` stop the run between writes, never inside one."""
    parent = os.getpid()

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != parent:  # a worker, before it set its own: just stop
            os._exit(128 + signum)
        if output.busy:
            output.stop = signum
            return
        raise _Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, action in previous.items():
            signal.signal(s, action)


def _open(file: str) -> tuple[IO[bytes], int | None]:
    from meso_cli.errors import file_error

    if file == "-":
        stdin = sys.stdin.buffer  # a closed stdin is one line here (cli.app._ClosedInput)
        with contextlib.suppress(OSError, ValueError):
            info = os.fstat(stdin.fileno())
            if _endless(info) and not stdin.isatty():  # `< /dev/zero`: read for ever
                raise file_error("<stdin>", None, "is a device, expected a JSON Lines file")
        return stdin, None
    if os.path.isdir(file):
        raise file_error(file, None, "is a directory, expected a JSON Lines file")
    # A regular file, or a pipe (`meso batch <(zcat p.jsonl.gz)`); never a device such as
    # /dev/zero, which would be read for ever, nor a socket.
    with contextlib.suppress(OSError):
        info = os.stat(file)
        if _endless(info) or stat.S_ISSOCK(info.st_mode):
            what = "a socket" if stat.S_ISSOCK(info.st_mode) else "a device"
            raise file_error(file, None, f"is {what}, expected a JSON Lines file")
    try:
        handle = open(file, "rb")  # noqa: SIM115  (closed by the caller)
        return handle, os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise file_error(file, None, "no such file") from None
    except OSError as exc:
        raise file_error(file, None, f"cannot read: {exc.strerror}") from None


def _endless(info: os.stat_result) -> bool:
    """A device (/dev/zero, /dev/urandom, a disk), which may never end; /dev/null, empty, is
    the usual way to give no input at all and is read as such."""
    if not (stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)):
        return False
    try:
        return info.st_rdev != os.stat(os.devnull).st_rdev
    except OSError:
        return True


def _lines(source: IO[bytes], progress: _Progress | None) -> Iterator[bytes]:
    """Each line without its line ending. A line is read only just past the line limit and
    the rest of it skipped: one endless line (a binary file, a missing newline) cannot fill
    the memory, and its output line says it was too long."""
    from meso_cli.batch import MAX_LINE_BYTES

    most = MAX_LINE_BYTES + 3  # one byte over the limit, and room for "\r\n"
    first = True
    while True:
        raw = source.readline(most)
        if not raw:
            return
        if progress is not None:
            progress.read += len(raw)
        if len(raw) == most and not raw.endswith(b"\n"):
            while rest := source.readline(1 << 20):  # skip to the end of the line
                if progress is not None:
                    progress.read += len(rest)
                if rest.endswith(b"\n"):
                    break
        if first:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM from a Windows editor
            first = False
        yield raw.rstrip(b"\r\n")


class _Progress:
    """A one-line progress bar on a terminal's stderr; redrawn at most ten times a second."""

    def __init__(self, size: int | None) -> None:
        self.size = size or None
        self.read = 0
        self.last = 0.0

    def show(self, lines: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        if self.size:
            share = min(self.read / self.size, 1.0)
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {share:4.0%} read, {lines:,} lines written"
        else:
            text = f"{lines:,} lines written"
        sys.stderr.write(f"\rmeso: batch: {text}")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
