"""Help that teaches: every command has a purpose and real examples; completion; plain output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from meso_cli import __version__
from meso_cli.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "patient.yaml"


def _commands() -> Iterator[tuple[list[str], bool]]:
    """Every command path (sub-groups walked), and whether it is a group."""
    root = typer.main.get_command(app)

    def walk(cmd: object, path: list[str]) -> Iterator[tuple[list[str], bool]]:
        subs = getattr(cmd, "commands", None)
        yield path, subs is not None
        for name, sub in sorted((subs or {}).items()):
            if not getattr(sub, "hidden", False):
                yield from walk(sub, [*path, name])

    yield from walk(root, [])


COMMANDS = list(_commands())


def test_the_walk_finds_the_known_commands() -> None:
    found = {" ".join(p) for p, _ in COMMANDS}
    assert {"screen", "intake", "rules", "protocols", "schema", "data", "data check"} <= found


@pytest.mark.parametrize(
    ("path", "group"), COMMANDS, ids=[" ".join(p) or "meso" for p, _ in COMMANDS]
)
def test_every_command_has_a_purpose_and_examples(path: list[str], group: bool) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    paragraphs = text.split("\n\n")
    assert paragraphs[0].startswith("Usage: meso"), text
    purpose = paragraphs[1].strip()
    assert purpose and not purpose.startswith(("Options", "Arguments")), text
    assert purpose.endswith("."), f"purpose line should be a sentence: {purpose!r}"
    if group:
        return  # a group lists its commands; each of them carries the examples
    assert re.search(r"^\s*Examples:\s*$", text, re.M), f"{path}: no Examples section\n{text}"
    examples = text.split("Examples:", 1)[1].split("\nArguments:")[0].split("\nOptions:")[0]
    runs = [line.strip() for line in examples.splitlines() if "meso " in line]
    assert len(runs) >= 2, f"{path}: fewer than two `meso ` examples\n{text}"
    command = "meso " + " ".join(path)
    assert any(command in r for r in runs), f"examples should show `{command}`: {runs}"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"meso {__version__}\n"


def _complete(words: str) -> list[str]:
    env = {
        **os.environ,
        "_MESO_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from meso_cli.cli import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_offers_protocol_and_rule_ids() -> None:
    assert _complete("meso screen --protocol h") == ["hair"]
    assert "no-needle" in _complete("meso protocols ")
    assert _complete("meso rules antic") == ["anticoagulant"]
    assert _complete("meso rules anti") == ["anticoagulant", "antibiotic-now"]
    # --clear takes only rules whose findings can be reviews: not age-under-18 nor a deferral.
    cleared = _complete("meso screen p.yaml --clear ")
    assert "anticoagulant" in cleared and "status-not-stated" in cleared
    assert "age-under-18" not in cleared and "nsaid-washout" not in cleared
    # `meso clear PATIENT RULE`: the same rules for its argument.
    assert _complete("meso clear p.yaml anti") == ["anticoagulant", "antibiotic-now"]
    # Command names, with the command word still being typed and with nothing typed.
    assert _complete("meso pl") == ["plan"]
    assert {"screen", "plan", "batch", "session", "clear"} <= set(_complete("meso "))


def test_zsh_completion_reads_the_words_typed_so_far() -> None:
    env = {**os.environ, "_MESO_COMPLETE": "complete_zsh"}
    for line, wanted in (("meso plan -p ", '"hair":"Hair loss"'), ("meso pl", '"plan":')):
        done = subprocess.run(
            [sys.executable, "-c", "from meso_cli.cli import main; main()"],
            env={**env, "_TYPER_COMPLETE_ARGS": line},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert wanted in done.stdout


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_plain_legible_output_in_60_columns(env: dict[str, str]) -> None:
    """No escape codes, no line over 60 columns, and the verdict in words, not colour."""
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "FORCE_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "screen", str(EXAMPLE), "-p", "hair", "--on",
         "2026-11-22", "--medication", "warfarin"],
        env={**clean, **env, "COLUMNS": "60"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "\x1b" not in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 60
    assert "REVIEW REQUIRED" in done.stdout and "DEFER" in done.stdout


def test_every_command_is_registered_on_its_own_when_it_runs() -> None:
    # `meso NAME` imports only NAME's module: each must register its command by itself, and
    # every command must be in the map, or `meso NAME` would answer "No such command".
    from meso_cli.cli.app import COMMAND_MODULES

    top = sorted(path[0] for path, _ in COMMANDS if len(path) == 1)
    assert sorted(COMMAND_MODULES) == top
    for name in top:
        done = subprocess.run(
            [sys.executable, "-m", "meso_cli", name, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (name, done.stderr)
        assert f"meso {name}" in done.stdout


def test_a_mistyped_command_is_answered_with_the_right_one() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "scren", "x.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "screen" in done.stderr


def _help(path: list[str], columns: int) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_list_gives_each_summary_whole_at_100_columns() -> None:
    from meso_cli.cli.app import summary

    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", "--help"],
        env={**os.environ, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    listing = done.stdout.split("Commands:", 1)[1]
    assert "..." not in listing and "…" not in listing, listing
    rows: dict[str, str] = {}
    for line in listing.strip("\n").splitlines():
        if line.startswith("  ") and not line.startswith("   "):  # a command's own line
            name, _, text = line.strip().partition(" ")
            rows[name] = text.strip()
        else:  # a long summary goes on under its start, whole
            rows[name] += " " + line.strip()
    root = typer.main.get_command(app)
    commands = getattr(root, "commands", {})
    assert set(rows) == set(commands)
    for name, command in commands.items():
        assert rows[name] == summary(command), rows[name]


@pytest.mark.parametrize(
    ("path", "group"), COMMANDS, ids=[" ".join(p) or "meso" for p, _ in COMMANDS]
)
def test_usage_lines_name_arguments_in_capitals(path: list[str], group: bool) -> None:
    usage = _help(path, 100).split("\n\n")[0]
    assert "{" not in usage and "}" not in usage, usage
    words = usage.split()[2 + len(path) :]
    assert all(w.isupper() or w.startswith("[") and w[1:].isupper() for w in words), usage


@pytest.mark.parametrize(
    ("path", "group"), COMMANDS, ids=[" ".join(p) or "meso" for p, _ in COMMANDS]
)
def test_examples_are_never_broken_across_lines(path: list[str], group: bool) -> None:
    """Pasting the first line of an example runs the whole example, at any width."""
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    written = [
        line.strip()
        for line in (command.help or "").split("Examples:")[-1].splitlines()
        if "meso " in line
    ]
    for columns in (60, 100):
        shown = [line.strip() for line in _help(path, columns).splitlines()]
        for example in written:
            assert example in shown, (columns, example)


def _piped(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 4), done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["plan", str(EXAMPLE), "-p", "hair", "--on", "2026-11-22"],
        ["plan", str(EXAMPLE), "-p", "cellulite", "--on", "2026-11-22", "--brief"],
        ["screen", str(EXAMPLE), "-p", "hair", "--on", "2026-11-22"],
        ["rules"],
        ["protocols"],
        ["protocols", "hair"],
        ["rules", "anticoagulant"],
    ],
    ids=lambda a: " ".join(a[:1] + a[3:4]),
)
def test_piped_output_has_no_trailing_spaces(args: list[str]) -> None:
    text = _piped(*args)
    assert text.strip()
    trailing = [n for n, line in enumerate(text.splitlines(), 1) if line != line.rstrip()]
    assert trailing == [], trailing


def test_rules_and_protocols_share_one_table_style() -> None:
    def style(text: str) -> tuple[set[str], str]:
        lines = text.splitlines()
        frame = {c for c in text if "\u2500" <= c <= "\u257f"}  # box-drawing characters
        rule_line = next(line for line in lines if "\u2500" in line)
        return frame, rule_line.strip()[:3]

    assert style(_piped("rules")) == style(_piped("protocols")) == ({"\u2500"}, "\u2500" * 3)
