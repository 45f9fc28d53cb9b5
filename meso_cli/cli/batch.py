"""`meso batch`: JSON Lines of patients in, one JSON line out per input line, in order."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import stat
import sys
import time
from collections.abc import Iterator
from typing import IO, Annotated

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import Clear, DataDir, On, app, load, protocol_named, reference_date
from meso_cli.errors import EXIT_INVALID_LINES, EXIT_TERMINATED


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
            help="Protocol id (see `meso protocols`); needed with --plan.",
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
            help="Worker processes (default: the number of cores). Output stays in input order.",
            show_default=False,
        ),
    ] = None,
    clear: Clear = None,
    course: Annotated[
        str | None,
        typer.Option(
            "--course",
            show_default=False,
            help="With --plan: one of the protocol's named courses (default: its first).",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Screen (or plan) every patient of a JSON Lines file: one JSON line out per line in.

    Each output line is what `meso screen --json` (or `meso plan --json` with --plan) prints
    for that patient, on one line. A line that is blank, cut short, not an object or not a
    valid patient becomes {"line": N, "error": "..."} and the run goes on. Counts by verdict
    go to stderr at the end.

    Exit 0 when every line was read, 6 when some line was invalid. The exit code does not
    reflect the verdicts: read them from the output.

    Examples:

      meso batch patients.jsonl --protocol hair --on 2026-11-22 > verdicts.jsonl

      meso batch patients.jsonl --protocol hair --plan --jobs 4 > plans.jsonl

      cat patients.jsonl | meso batch - | jq -c 'select(.error)'
    """
    from meso_cli.batch import Job, Tally, check_job, run
    from meso_cli.screening import Screener

    data = load(data_dir)
    job = Job(
        screener=Screener(data),
        protocol=protocol_named(data, protocol),
        on=reference_date(on),
        clear=tuple(dict.fromkeys(clear or ())),
        plan=plan,
        course=course,
    )
    check_job(job)
    signal.signal(signal.SIGTERM, functools.partial(_terminate, os.getpid()))
    try:
        source, size = _open(file)  # a FIFO waits here for its writer
    except _Terminated:
        sys.stderr.write("meso: batch: terminated after 0 lines\n")
        raise typer.Exit(EXIT_TERMINATED) from None
    progress = _Progress(size) if sys.stderr.isatty() else None
    tally = Tally()
    # The lines come UTF-8 encoded, so every character of an id (U+2028 and U+0085 included)
    # goes out as it came in, whatever the locale, and "\n" ends each line.
    sys.stdout.flush()
    stdout = sys.stdout.buffer
    try:
        for text, kinds in run(_lines(source, progress), job, jobs=jobs or os.cpu_count() or 1):
            _write(stdout, text)
            tally.add_all(kinds)
            if progress is not None:
                progress.show(tally.lines)
        _write(stdout, b"", flush=True)
    except _Terminated:  # `kill`: the workers are stopped (run's finally), then one line
        sys.stderr.write(f"meso: batch: terminated after {tally.lines} lines\n")
        raise typer.Exit(EXIT_TERMINATED) from None
    finally:
        if progress is not None:
            progress.done()
        if source is not sys.stdin.buffer:
            source.close()
    sys.stderr.write(f"meso: batch: {tally.summary()}\n")
    if tally.errors:
        raise typer.Exit(EXIT_INVALID_LINES)


class _Terminated(Exception):
    pass


def _terminate(parent: int, signum: int, frame: object) -> None:
    if os.getpid() != parent:  # a worker the pool started again later: just stop
        os._exit(128 + signum)
    raise _Terminated


def _write(stdout: IO[bytes], text: bytes, *, flush: bool = False) -> None:
    """A reader that went away ends the run quietly (the app handles BrokenPipeError); a
    full disk or a closed output is a usage error, as for the other commands."""
    from meso_cli.cli.app import output_failed

    try:
        stdout.write(text)
        if flush:
            stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise output_failed(exc) from None


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
