"""The one check of every command-line argument before a command parses it: no control or
bidirectional character in any value (an id, a name, a file name, --clinic), and no flag
given together with its opposite (`--pregnant --not-pregnant`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meso_cli.errors import MesoError
from meso_cli.text import unsafe_character


def check_arguments(command: Any, args: Sequence[str], ctx: Any) -> None:
    """Refuse what no command should ever receive, naming the option (or argument) and the
    code point: `--id: control character U+001B is not allowed`. A command line is one line
    per value, so tab and line breaks are refused too.

    `command` and `ctx` are Click's (the copy typer carries, or Click itself for older typer
    releases): only the attributes both have are read."""
    values: dict[str, Any] = {}  # options that take a value
    flags: dict[str, tuple[Any, bool]] = {}  # flag -> (its option, which side)
    arguments: list[Any] = []
    for param in command.get_params(ctx):
        if param.param_type_name == "option":
            if param.is_flag or param.count:
                flags.update((o, (param, True)) for o in param.opts)
                flags.update((o, (param, False)) for o in param.secondary_opts)
            else:
                values.update((o, param) for o in [*param.opts, *param.secondary_opts])
        elif param.param_type_name == "argument":
            arguments.append(param)
    given: dict[str, dict[bool, str]] = {}  # option name -> side -> the flag as typed
    positional = 0
    only_arguments = False
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if only_arguments or token == "-" or not token.startswith("-"):
            if hasattr(command, "get_command") and not only_arguments:
                sub = command.get_command(ctx, token)
                if sub is not None:  # `meso data check DIR`: the rest is the subcommand's
                    check_arguments(sub, args[i:], ctx)
                    return
            _check(token, _argument_name(arguments, positional))
            positional += 1
            continue
        if token == "--":
            only_arguments = True
            continue
        option, sep, attached = token.partition("=")
        if token in values:
            if i < len(args):
                _check(args[i], token)
                i += 1
            continue
        if sep and option in values:  # --id=P-1
            _check(attached, option)
            continue
        if token[:2] in values and not token.startswith("--"):  # -phair
            _check(token[2:], token[:2])
            continue
        _check(token, "option")
        if token in flags:
            param, side = flags[token]
            given.setdefault(param.name or token, {})[side] = token
    for sides in given.values():
        if len(sides) == 2:
            raise MesoError(
                f"{sides[True]} and {sides[False]} contradict each other; give one of them"
            )


def _argument_name(arguments: list[Any], position: int) -> str:
    if not arguments:
        return "argument"
    param = arguments[min(position, len(arguments) - 1)]
    return (param.name or "argument").upper()


def _check(value: str, name: str) -> None:
    problem = unsafe_character(value)
    if problem is not None:
        raise MesoError(f"{name}: {problem} is not allowed")
