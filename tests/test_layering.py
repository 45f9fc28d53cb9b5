"""The pipeline runs one way: the pure core never loads typer or rich, and --json loads no rich."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "meso_cli.dates",
    "meso_cli.documents",
    "meso_cli.errors",
    "meso_cli.models",
    "meso_cli.data",
    "meso_cli.shipped",
    "meso_cli.matching",
    "meso_cli.patients",
    "meso_cli.screening",
    "meso_cli.planning",
    "meso_cli.clinic",
    "meso_cli.codes",
    "meso_cli.fhir_in",
]
UI = ("typer", "click", "rich")
FHIR = ("fhir", "fhir_core")  # fhir.resources and its base: only for FHIR input or output

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
    assert not mods & set(FHIR), sorted(mods & set(FHIR))


def test_screening_a_patient_in_the_core_loads_no_ui() -> None:
    body = """
from datetime import date
from meso_cli.data import load_dataset
from meso_cli.files import packaged_data_dir
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


def _imports(path: Path) -> set[str]:
    """The meso_cli modules a file imports, at the top or inside a function."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
            found.update(n for n in [node.module, *names] if n.startswith("meso_cli"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("meso_cli"))
    return found


def test_the_package_imports_run_one_way_with_no_circle() -> None:
    package = ROOT / "meso_cli"
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in package.rglob("*.py")
    }
    graph = {
        name: {i for i in _imports(path) if i in modules and i != name}
        for name, path in modules.items()
    }
    # A package's __init__ hands names on; importing `meso_cli.cli.app` runs it first, which
    # is not an arrow between modules.
    graph = {n: {i for i in deps if not n.startswith(i + ".")} for n, deps in graph.items()}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import circle: " + " -> ".join((*path, name))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
    assert "meso_cli.screening" in done and "meso_cli.cli.app" in done


def test_nothing_the_tool_reads_can_run_code() -> None:
    # No pickle, marshal or shelve: a file under the user's control must never become code.
    for path in (ROOT / "meso_cli").rglob("*.py"):
        text = path.read_text("utf-8")
        for module in ("pickle", "marshal", "shelve", "dill"):
            assert f"import {module}" not in text, (path, module)
    # YAML is read with the safe loaders only: plain values, never a Python object.
    for path in (ROOT / "meso_cli").rglob("*.py"):
        for line in path.read_text("utf-8").splitlines():
            if re.search(r"yaml\.(load|load_all|unsafe_load|full_load)\(", line):
                assert re.search(r"Loader=yaml\.C?SafeLoader\b", line), (path, line)


@pytest.mark.parametrize(
    "args",
    [
        ["screen", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22", "--json"],
        ["screen", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22"],
        ["plan", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22", "--json"],
        ["handout", "examples/patient.yaml", "-p", "hair", "--on", "2026-11-22"],
    ],
)
def test_a_yaml_patient_never_imports_fhir_resources(args: list[str]) -> None:
    mods, done = loaded_after(MAIN.format(args=args))
    assert "exit" in done.stderr, done.stderr
    assert not mods & set(FHIR), sorted(mods & set(FHIR))


def test_a_fhir_bundle_does_import_fhir_resources() -> None:
    # The probe above would pass vacuously if fhir.resources were never importable here.
    args = ["screen", "examples/patient.fhir.json", "-p", "hair", "--on", "2026-11-22", "--json"]
    mods, done = loaded_after(MAIN.format(args=args))
    assert "exit 4" in done.stderr, done.stderr
    assert "fhir" in mods
