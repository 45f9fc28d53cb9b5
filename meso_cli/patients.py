"""Reads a patient file (YAML or JSON, a path or `-`) into a validated Patient."""

from __future__ import annotations

import sys

from meso_cli.data import MAX_BYTES, parse, read_text, reject_nulls, validate
from meso_cli.models import Patient


def _stdin() -> bytes:
    # One byte over the limit is enough to refuse it; never read an endless stream whole.
    return sys.stdin.buffer.read(MAX_BYTES + 1)


def load_patient(path: str) -> Patient:
    shown = "<stdin>" if path == "-" else path
    doc = parse(read_text(path, _stdin), shown)
    if isinstance(doc.value, dict):
        reject_nulls(doc)
    return validate(doc, Patient)
