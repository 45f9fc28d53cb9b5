"""Help that teaches: every command has a purpose and real examples; completion; plain output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
    assert _complete("meso rules anti") == ["anticoagulant"]
    # --clear takes only rules whose findings can be reviews: not age-under-18 nor a deferral.
    cleared = _complete("meso screen p.yaml --clear ")
    assert "anticoagulant" in cleared and "status-not-stated" in cleared
    assert "age-under-18" not in cleared and "nsaid-washout" not in cleared


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
