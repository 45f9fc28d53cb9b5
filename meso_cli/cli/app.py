"""The Typer app, the options every command shares, and the one place errors become exits."""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from meso_cli import __version__
from meso_cli.errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_USAGE, MesoError, is_text
from meso_cli.text import printable, printable_line

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from meso_cli.models import Dataset, Protocol


class MesoGroup(TyperGroup):
    """Turns every error into one message on stderr and its exit code; never a traceback."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        # `meso --help | head -1`: the help is written while the options are parsed.
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            _quiet_pipe()
            raise typer.Exit(0) from None
        except typer.TyperException as exc:  # Click's errors: `meso scren`, `meso --bogus`
            _usage(exc)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Every argument is checked once here, before the command parses it: the one place
        # where text from the command line comes in (cli/arguments.py).
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            from meso_cli.cli.arguments import check_arguments

            check_arguments(command, rest, ctx)
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as exc:  # a command's options: `--per-week 0`
            _usage(exc)
        except MesoError as exc:
            for line in str(exc).split("\n"):  # several problems: each its own line
                _stderr(f"meso: error: {line}")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # Only a command that writes stdout itself (batch) gets here: the reader is gone,
            # so stop quietly, with the shell's code for it: the run did not finish. out() and
            # show() absorb it and keep the command's exit code.
            _quiet_pipe()
            raise typer.Exit(EXIT_PIPE) from None
        except KeyboardInterrupt:
            # Ctrl-C is the user's choice, not a bug: the shell's 128 + SIGINT, one line.
            _stderr("meso: interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _debug(ctx):
                traceback.print_exc()
            elif not _is_click_exception(exc):
                _stderr(
                    f"meso: internal error ({type(exc).__name__}); this is a bug. "
                    "Run again with --debug or MESO_DEBUG=1 for details."
                )
            if _is_click_exception(exc):
                raise
            raise typer.Exit(EXIT_BUG) from None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Click cuts each summary to fit one line ("Screen a patient: verdict,..."); a
        # summary is one sentence, shown whole and wrapped when the terminal is narrow.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class MesoCommand(TyperCommand):
    """A command whose usage line names its arguments as people write them (`PATIENT`, not
    `{patient}`), and whose examples are printed line for line, never re-wrapped: pasting
    the first line of an example must run the whole example."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = keep_examples(self.help)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [_usage_name(piece) for piece in super().collect_usage_pieces(ctx)]


def summary(command: Any) -> str:
    """A command's one-line summary: its short help, or the first paragraph of its help."""
    text = command.short_help or (command.help or "").split("\n\n")[0]
    return " ".join(text.replace("\b", "").split())


_ARGUMENT = re.compile(r"([{\[])([a-z][a-z0-9_-]*)[}\]](?::<[^>]*>)?")


def _usage_name(piece: str) -> str:
    """`{patient}` -> `PATIENT`, `[patient]` -> `[PATIENT]`, `{name}:<a|b>` -> `NAME` (the
    Arguments section lists the choices); `[OPTIONS]` stays."""

    def shown(found: re.Match[str]) -> str:
        name = found.group(2).upper().replace("-", "_")
        return name if found.group(1) == "{" else f"[{name}]"

    return _ARGUMENT.sub(shown, piece)


def keep_examples(text: str | None) -> str | None:
    """The help with each paragraph after `Examples:` marked for Click to print as written
    (`\b`), so that no example is broken across lines."""
    if text is None or "Examples:" not in text:
        return text
    head, _, examples = text.partition("Examples:")
    paragraphs = [p.strip("\n") for p in examples.split("\n\n") if p.strip()]
    kept = [p if p.lstrip().startswith("\b") else "\b\n" + p for p in paragraphs]
    return head + "Examples:\n\n" + "\n\n".join(kept)


def _usage(exc: typer.TyperException) -> NoReturn:
    """Click's own errors (an unknown option, a value out of range) as one line, like ours."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `meso` or `meso data` alone: the help
        raise exc
    ctx = getattr(exc, "ctx", None)
    hint = f" (see {ctx.command_path} -h)" if ctx is not None else ""
    message = getattr(exc, "format_message", lambda: str(exc))()
    _stderr(f"meso: error: {message}{hint}")
    raise typer.Exit(EXIT_USAGE)


def _is_click_exception(exc: Exception) -> bool:
    return type(exc).__module__.startswith(("click", "typer"))


def _debug(ctx: Any) -> bool:
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    return bool(obj.get("debug")) or os.environ.get("MESO_DEBUG", "") not in ("", "0")


def _stderr(message: str) -> None:
    # An error may quote what was typed: through the sanitizer, as one line.
    sys.stderr.write(printable_line(message) + "\n")
    sys.stderr.flush()


def note(message: str) -> None:
    """A line for people on stderr, `meso: MESSAGE` (what was written where, what moved)."""
    _stderr(f"meso: {message}")


def _quiet_pipe() -> None:
    # The reader went away (`meso rules | head -1`): send the rest of stdout, and the flush
    # at exit, to /dev/null so Python prints no "Exception ignored" on the way out.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


app = typer.Typer(
    cls=MesoGroup,
    name="meso",
    help="Screen a patient for mesotherapy and lay out the course of sessions.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    # Help fills a terminal up to 100 columns, so that a summary fits on one line there.
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="With --version: the tool's, the schemas' and the data's versions as JSON.",
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error.")
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}
    if version:
        out(_versions() if json else f"meso {__version__}\n")
        raise typer.Exit(0)
    if json:
        raise MesoError("--json before a command goes with --version; put it after the command")
    if ctx.invoked_subcommand is None:
        ctx.fail("Missing command.")


def _versions() -> str:
    """`meso --version --json`: what every JSON output carries, for the data in use (the
    shipped data, or MESO_DATA_DIR's)."""
    from meso_cli.models import Versions
    from meso_cli.render.json import to_json

    data = load(None)
    return to_json(Versions(meso_version=__version__, data_version=data.version))


# Each command's module, imported only when that command runs: building every command's
# options costs a fifth of a `meso screen`. Help, completion and a mistyped command get all.
COMMAND_MODULES = {
    "screen": "screen",
    "plan": "plan",
    "batch": "batch",
    "handout": "handout",
    "intake": "intake",
    "rules": "browse",
    "protocols": "browse",
    "data": "browse",
    "schema": "browse",
    "profile": "profile",
    "session": "chart",
    "clear": "chart",
}


def register(args: Sequence[str] | None = None) -> None:
    """Register the command that `args` name (the first word not an option), or every one."""
    from importlib import import_module

    first = next((a for a in args or () if not a.startswith("-")), None)
    wanted = [COMMAND_MODULES[first]] if first in COMMAND_MODULES else COMMAND_MODULES.values()
    for module in dict.fromkeys(wanted):
        import_module(f"meso_cli.cli.{module}")
    _adopt(app)


def _completed_words() -> list[str] | None:
    """The words the shell has finished when it asks for completion (bash: COMP_WORDS up to
    COMP_CWORD; zsh, fish, PowerShell: _TYPER_COMPLETE_ARGS less the word being typed), so
    that `meso plan -p <TAB>` builds the plan command alone. None, and every command, when
    they cannot be read."""
    import shlex

    try:
        if "COMP_WORDS" in os.environ:
            return shlex.split(os.environ["COMP_WORDS"])[1 : int(os.environ["COMP_CWORD"])]
        line = os.environ.get("_TYPER_COMPLETE_ARGS", "")
        words = shlex.split(line)[1:]
        return words if line.endswith(" ") else words[:-1]
    except ValueError:  # an open quote, or COMP_CWORD not a number
        return None


def _adopt(typer_app: typer.Typer) -> None:
    """Every command built as a MesoCommand and every group as a MesoGroup (usage names,
    examples kept whole, summaries not cut), however its module declared it."""
    for command in typer_app.registered_commands:
        if not isinstance(command.cls, type) or command.cls is TyperCommand:
            command.cls = MesoCommand
    for group in typer_app.registered_groups:
        if not isinstance(group.cls, type) or group.cls is TyperGroup:
            group.cls = MesoGroup
        if group.typer_instance is not None:
            _adopt(group.typer_instance)


def main() -> NoReturn:
    _closed_streams()
    if sys.stdout is None:  # `meso screen p.yaml >&-`
        _stderr("meso: error: standard output is closed; nothing could be written")
        sys.exit(EXIT_USAGE)
    _utf8_streams()

    for arg in sys.argv[1:]:
        if not is_text(arg):
            raw = arg.encode("utf-8", "surrogateescape")
            _stderr(f"meso: error: an argument is not UTF-8 text: {raw!r}; retype it")
            sys.exit(EXIT_USAGE)
    register(_completed_words() if "_MESO_COMPLETE" in os.environ else sys.argv[1:])
    try:
        app(prog_name="meso")
    except BrokenPipeError:
        _quiet_pipe()
        sys.exit(0)
    sys.exit(0)


class _ClosedInput:
    """Standard input when it was closed (`meso screen - <&-`): reading it is a usage error
    with one line, and it is never a terminal, so `meso intake` refuses to start."""

    closed = True
    encoding = "utf-8"

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def fileno(self) -> int:
        raise OSError(9, "standard input is closed")

    @staticmethod
    def _refuse(*args: Any) -> NoReturn:
        raise MesoError("standard input is closed (<&-); give a file name, or open it")

    buffer = property(_refuse)
    read = readline = readlines = __iter__ = _refuse


def _closed_streams() -> None:
    """A closed standard stream's descriptor is pointed at /dev/null, so that no file the tool
    opens takes its number (an --ics file as descriptor 2 would receive the error messages).
    A closed stdin reads as _ClosedInput; a closed stderr throws its messages away and the
    command runs as usual; a closed stdout stays None for main to refuse."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = _ClosedInput()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # open for the whole run


def _utf8_streams() -> None:
    """Pipes and files get UTF-8 whatever the locale says (JSON is UTF-8); a terminal whose
    encoding cannot show a character gets a replacement mark, never a crash."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding == "utf8" or not hasattr(stream, "reconfigure"):
            continue
        if stream.isatty():
            stream.reconfigure(errors="replace")
        elif stream is sys.stderr:
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        else:
            stream.reconfigure(encoding="utf-8")


# --- shared options ------------------------------------------------------------------------

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="MESO_DATA_DIR",
        help="Use a clinic's own data files instead of the shipped ones.",
        show_default=False,
    ),
]
On = Annotated[
    str | None,
    typer.Option("--on", help="Reference date YYYY-MM-DD (default: today).", show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON, and nothing else, on stdout.")]


def complete_review_rules(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    from meso_cli.cli.complete import review_rules

    return review_rules(ctx, incomplete)


Clear = Annotated[
    list[str] | None,
    typer.Option(
        "--clear",
        help="Clear a review rule after assessing it (repeatable); recorded in the output.",
        show_default=False,
        autocompletion=complete_review_rules,
    ),
]


def parse_date(value: str, option: str) -> date:
    """A date option (--on, --start, --birth-date): YYYY-MM-DD, a real day, years 1900-2100."""
    from meso_cli.dates import parse_day

    return parse_day(value, f"{option} {value!r}")


def reference_date(value: str | None) -> date:
    return parse_date(value, "--on") if value else date.today()


def load(data_dir: Path | None) -> Dataset:
    from meso_cli.data import load_dataset
    from meso_cli.files import resolve_data_dir

    return load_dataset(resolve_data_dir(str(data_dir) if data_dir else None))


def protocol_named(data: Dataset, name: str | None) -> Protocol | None:
    from meso_cli.errors import unknown

    if name is None:
        return None
    found = data.protocol(name.strip().lower())
    if found is None:
        raise unknown("protocol", name, (p.id for p in data.protocols))
    return found


def out(text: str) -> None:
    """Write to stdout; a reader that went away is not an error, a full disk is.

    Through the sanitizer, like all output: for JSON this changes nothing (a control
    character in a JSON string is already an escape, and the escape of a bidirectional one
    reads back as the same text)."""
    _write(printable(text))


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    except OSError as exc:
        raise output_failed(exc) from None


def output_failed(exc: OSError) -> MesoError:
    """A full disk or a closed output: the usage error to raise, with the rest of stdout (and
    the flush at exit) sent nowhere so that the one line is all the user sees."""
    _quiet_pipe()
    return MesoError(f"cannot write the output: {exc.strerror or exc}")


def console() -> Console:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit 1 here; keep the command's own exit code (a verdict) instead.
            _quiet_pipe()

        def render(
            self, renderable: RenderableType, options: ConsoleOptions | None = None
        ) -> Iterator[Segment]:
            # Everything Rich prints passes here: the text of each segment goes through the
            # sanitizer, Rich's own control segments (cursor moves) and styles do not.
            for segment in super().render(renderable, options):
                if segment.control is None and segment.text:
                    shown = printable(segment.text)
                    if shown != segment.text:
                        segment = Segment(shown, segment.style)
                yield segment

    # No markup and no emoji codes: a "[link=...]" or ":pill:" in a name is text, not a
    # hyperlink or a picture (Rich would read them in a table cell given as a str).
    return _Console(highlight=False, soft_wrap=False, markup=False, emoji=False)


def write_document(target: str, data: str | bytes) -> None:
    """A document for people (a handout, a calendar) to a file, or to stdout for `-`
    (files.write_output: a stream is written directly, a regular file replaced atomically).
    Text goes through the sanitizer first; a calendar arrives as bytes already sanitized
    value by value (render/ics.py), since its line ends are CRLF."""
    from meso_cli.files import write_output

    try:
        write_output(target, printable(data) if isinstance(data, str) else data)
    except BrokenPipeError:
        _quiet_pipe()


# Spaces at the end of a line, before any closing colour codes: Rich pads table cells and
# columns to their width, which a pasted note or a file carries along.
_TRAILING = re.compile(r"[ \t]+(?=(?:\x1b\[[0-9;]*m)*$)", re.MULTILINE)


def show(renderable: RenderableType) -> None:
    """Print for people: rendered whole, then written with no trailing spaces on any line."""
    target = console()
    try:
        with target.capture() as captured:
            target.print(renderable)
    except BrokenPipeError:
        _quiet_pipe()
        return
    except OSError as exc:  # Rich flushes stdout as the capture ends: `> /dev/full`
        raise output_failed(exc) from None
    # The console sanitized the text of every segment; what remains are Rich's own styles.
    _write(_TRAILING.sub("", captured.get()))
