"""The handout printed to A4 by headless Chromium (scripts/render_handout.sh): a hair course on
one page, a cellulite course with the call list and the phone on one page, in both languages.
Runs only where chromium and poppler-utils are installed; the layout's rules are also tested
without them in test_handout.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None,
    reason="needs chromium and poppler-utils",
)


@pytest.mark.parametrize("lang", ["en", "tr"])
@pytest.mark.parametrize(
    ("protocol", "options", "pages"),
    [
        ("hair", [], "pages: 1;"),
        ("cellulite", ["--per-week", "2", "--sessions", "16", "--holidays", "TR"], "pages: 2;"),
    ],
)
def test_printed_page_count_and_the_phone_beside_the_call_list(
    tmp_path: Path, lang: str, protocol: str, options: list[str], pages: str
) -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "render_handout.sh"), str(tmp_path),
         str(ROOT / "examples" / "patient.yaml"), protocol, lang, *options],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHON": sys.executable, "SCREENSHOT": "0"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert pages in done.stdout and "(A4)" in done.stdout
    assert "missing: none" in done.stdout
    assert "FAIL" not in done.stdout + done.stderr
