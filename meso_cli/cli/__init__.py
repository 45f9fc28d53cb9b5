"""The command line: Typer commands that parse, call the core, render, and map errors."""

from meso_cli.cli import batch, browse, handout, intake, plan, screen  # noqa: F401  (registers)
from meso_cli.cli.app import app, main

__all__ = ["app", "main"]
