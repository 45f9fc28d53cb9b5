"""The command line: Typer commands that parse, call the core, render, and map errors."""

import os

# meso uses no pydantic plugins; looking for them scans every installed package's metadata on
# the first validation, which is a third of a `meso screen` run. Typer does the same.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")

from meso_cli.cli.app import app, main, register  # noqa: E402

__all__ = ["app", "main", "register"]
