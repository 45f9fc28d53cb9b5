"""Reads a patient file (YAML or JSON, a path or `-`) into a validated Patient."""

from __future__ import annotations

import sys

from meso_cli.data import parse, read_text, validate
from meso_cli.models import Patient


def _stdin() -> bytes:
    return sys.stdin.buffer.read()


def load_patient(path: str) -> Patient:
    shown = "<stdin>" if path == "-" else path
    return validate(parse(read_text(path, _stdin), shown), Patient)
