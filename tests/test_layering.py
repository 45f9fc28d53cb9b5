"""The pipeline runs one way: the pure core never loads typer or rich, and --json loads no rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "meso_cli.core",
    "meso_cli.record",
    "meso_cli.documents",
    "meso_cli.errors",
    "meso_cli.models",
    "meso_cli.data",
    "meso_cli.matching",
    "meso_cli.patients",
    "meso_cli.screening",
    "meso_cli.planning",
    "meso_cli.clinic",
]
UI = ("typer", "click", "rich")

PROBE = """
import json, sys
{body}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})), file=sys.__stderr__)
"""


def loaded_after(
    body: str, cwd: Path = ROOT, cache: Path | None = None
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Top-level modules loaded once `body` has run in a fresh interpreter."""
    env = {"PATH": "", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    last = done.stderr.strip().splitlines()[-1]
    return set(json.loads(last)), done


def test_the_pure_core_imports_neither_typer_nor_rich() -> None:
    body = "\n".join(f"import {m}" for m in CORE)
    mods, done = loaded_after(body)
    assert done.returncode == 0, done.stderr
    assert "meso_cli" in mods
    assert not mods & set(UI), sorted(mods & set(UI))


def test_screening_a_patient_in_the_core_loads_no_ui() -> None:
    body = """
from datetime import date
from meso_cli.data import load_dataset, packaged_data_dir
from meso_cli.patients import load_patient
from meso_cli.screening import screen
data = load_dataset(packaged_data_dir())
s = screen(load_patient('examples/patient.yaml'), data.protocol('hair'), data,
           on=date(2026, 11, 22))
assert s.verdict == 'deferred', s
"""
    mods, done = loaded_after(body)
    assert done.returncode == 0, done.stderr
    assert not mods & set(UI), sorted(mods & set(UI))


MAIN = """
sys.argv = ['meso', *{args!r}]
from meso_cli.cli import main
try:
    main()
except SystemExit as exc:
    print('exit', exc.code, file=sys.__stderr__)
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["screen", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22", "--json"], 4),
        (["rules", "--json"], 0),
        (["rules", "anticoagulant", "--json"], 0),
        (["protocols", "--json"], 0),
        (["protocols", "hair", "--json"], 0),
    ],
)
def test_json_output_never_loads_rich(args: list[str], code: int) -> None:
    mods, done = loaded_after(MAIN.format(args=args))
    assert f"exit {code}" in done.stderr, done.stderr
    json.loads(done.stdout)
    assert "rich" not in mods


def test_human_output_does_load_rich() -> None:
    # The probe above would pass vacuously if rich were never importable here.
    args = ["screen", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22"]
    mods, done = loaded_after(MAIN.format(args=args))
    assert "exit 4" in done.stderr, done.stderr
    assert "DEFERRED" in done.stdout
    assert "rich" in mods


SCREEN = ["screen", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22", "--json"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (SCREEN, 4),
        (["plan", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22", "--json"], 0),
        (["batch", "LINES", "-p", "hair", "--on", "2026-11-22", "--jobs", "1"], 6),
    ],
)
def test_with_the_data_in_the_cache_screen_plan_and_batch_never_load_pydantic(
    args: list[str], code: int, tmp_path: Path
) -> None:
    # The first run validates the data files with the models and caches the result; every
    # later run starts from the cache and reads plainly written patients without pydantic.
    lines = tmp_path / "p.jsonl"
    lines.write_text('{"age": 40, "medications": ["ibuprofen"]}\n{"age": 4\n{"age": 90}\n')
    args = [str(lines) if a == "LINES" else a for a in args]
    first, done = loaded_after(MAIN.format(args=args), cache=tmp_path)
    assert f"exit {code}" in done.stderr, done.stderr
    assert "pydantic" in first  # the probe can see pydantic when it is loaded
    mods, again = loaded_after(MAIN.format(args=args), cache=tmp_path)
    assert f"exit {code}" in again.stderr, again.stderr
    assert again.stdout == done.stdout
    assert "pydantic" not in mods


def test_a_patient_the_direct_reading_leaves_to_the_model_is_still_refused_clearly(
    tmp_path: Path,
) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 40\nsex: femal\n", encoding="utf-8")
    args = ["screen", str(patient), "--on", "2026-11-22", "--json"]
    mods, done = loaded_after(MAIN.format(args=args), cache=tmp_path)
    assert "exit 2" in done.stderr, done.stderr
    assert "p.yaml:2: sex:" in done.stderr and "did you mean 'female'" in done.stderr
    assert "pydantic" in mods
