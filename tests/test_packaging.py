"""The wheel carries the data: built, installed elsewhere, and run from another directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: hatchling comes from the test extra, so this needs no network.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("meso-*.whl")
    return built


def test_the_wheel_holds_the_data_files_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "meso_cli/data/contraindications.yaml",
        "meso_cli/data/protocols.yaml",
        "meso_cli/py.typed",
        "meso_cli/screening.py",
        "meso_cli/cli/__init__.py",
    } <= names
    shipped = zipfile.ZipFile(wheel).read("meso_cli/data/contraindications.yaml")
    assert shipped == (ROOT / "data" / "contraindications.yaml").read_bytes()
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "meso = meso_cli.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


PROBE = """
import json, sys
import meso_cli
from meso_cli.data import load_dataset
from meso_cli.files import packaged_data_dir
data = load_dataset(packaged_data_dir())
print(json.dumps({"module": meso_cli.__file__, "data_dir": str(packaged_data_dir()),
                  "rules": len(data.rules), "protocols": [p.id for p in data.protocols]}))
sys.argv = ["meso", "protocols", "hair", "--json"]
from meso_cli.cli import main
main()
"""


def test_the_installed_wheel_finds_its_data_from_another_directory(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MESO_DATA_DIR"}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    first, rest = run.stdout.split("\n", 1)
    found = json.loads(first)
    assert Path(found["module"]).is_relative_to(target)  # not the source tree
    assert Path(found["data_dir"]) == target / "meso_cli" / "data"
    assert found["rules"] >= 17
    assert len(found["protocols"]) == 9
    assert json.loads(rest)["protocols"][0]["id"] == "hair"
