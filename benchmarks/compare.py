"""Run two versions of meso on the same inputs and show where their outputs differ.

    python benchmarks/compare.py --old REV [--new REV] [--lines 10000]

Each version is checked out from git into a temporary work tree (the work tree itself when
`--new` is left out) and run with this Python, so both use the same installed libraries.
Outputs are compared as JSON with the version fields aside (`meso_version`, `data_version`,
`schema_version`); a calendar is compared event by event without its DTSTAMP; a handout as
text without its footer line, which names the versions. The inputs:

- the example patient through screen, plan, handout (Markdown and HTML) and the ICS export;
- a plan of the example patient for every protocol, and `rules --json`, `protocols --json`;
- a generated batch of `--lines` patients with `--plan` (and without).

Exit 0 when every output is the same, 1 otherwise (each difference is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import generate  # noqa: E402  (the benchmark's patients: one generator)

from meso_cli.shipped import REQUIRED_PROTOCOLS as PROTOCOLS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/patient.yaml"
ON = "2026-11-22"
VERSIONS = {"meso_version", "data_version", "schema_version"}


@contextmanager
def checkout(rev: str | None) -> Iterator[Path]:
    """A work tree of `rev` (None: this one), removed afterwards."""
    if rev is None:
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="meso-compare-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev],
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
            )


def run(tree: Path, args: list[str], cache: Path, stdin: bytes | None = None) -> bytes:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "XDG_CACHE_HOME": str(cache),  # an older version may keep a cache: keep it apart
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    env.pop("MESO_DATA_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "meso_cli", *args],
        cwd=tree,
        env=env,
        input=stdin,
        capture_output=True,
        check=False,
    )
    if done.returncode not in (0, 3, 4, 5, 6):
        raise SystemExit(
            f"compare: {tree}: meso {' '.join(args)}: exit {done.returncode}\n"
            + done.stderr.decode(errors="replace")
        )
    return done.stdout


def without_versions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_versions(v) for k, v in value.items() if k not in VERSIONS}
    if isinstance(value, list):
        return [without_versions(v) for v in value]
    return value


def as_json(raw: bytes) -> Any:
    return without_versions(json.loads(raw))


def as_json_lines(raw: bytes) -> Any:
    return [without_versions(json.loads(line)) for line in raw.splitlines()]


def as_calendar(raw: bytes) -> Any:
    """The calendar's lines, unfolded, without DTSTAMP (the time of the export)."""
    text = raw.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    return [line for line in text.split("\r\n") if not line.startswith("DTSTAMP")]


def as_handout(raw: bytes) -> Any:
    text = raw.decode("utf-8")
    return re.sub(
        r"Planned with meso [^,<]*, clinical data [0-9a-f]+\.", "Planned with meso.", text
    )


def outputs(tree: Path, work: Path, batch: Path) -> dict[str, Any]:
    cache = work / f"cache-{tree.name}"
    out: dict[str, Any] = {}
    example = ["--on", ON]
    out["screen"] = as_json(run(tree, ["screen", EXAMPLE, "-p", "hair", *example, "--json"], cache))
    for protocol in PROTOCOLS:
        out[f"plan {protocol}"] = as_json(
            run(tree, ["plan", EXAMPLE, "-p", protocol, *example, "--json"], cache)
        )
    out["rules"] = as_json(run(tree, ["rules", "--json"], cache))
    out["protocols"] = as_json(run(tree, ["protocols", "--json"], cache))
    ics = work / f"{tree.name}.ics"
    run(
        tree, ["plan", EXAMPLE, "-p", "hair", *example, "--ics", str(ics), "--time", "10:30"], cache
    )
    out["ics"] = as_calendar(ics.read_bytes())
    for fmt in ("md", "html"):
        out[f"handout {fmt}"] = as_handout(
            run(tree, ["handout", EXAMPLE, "-p", "hair", *example, "--format", fmt], cache)
        )
    out["batch"] = as_json_lines(run(tree, ["batch", str(batch), "-p", "hair", *example], cache))
    out["batch --plan"] = as_json_lines(
        run(tree, ["batch", str(batch), "-p", "hair", "--plan", *example], cache)
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="git revision of the older version")
    parser.add_argument("--new", help="git revision of the newer version (default: this tree)")
    parser.add_argument("--lines", type=int, default=10_000, help="batch lines (10,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meso-compare-work-") as tmp:
        work = Path(tmp)
        batch = work / "patients.jsonl"
        generate(batch, args.lines)
        with checkout(args.old) as old_tree, checkout(args.new) as new_tree:
            old = outputs(old_tree, work, batch)
            new = outputs(new_tree, work, batch)
    differing = 0
    for name in old:
        if old[name] == new[name]:
            size = f"{len(old[name]):,} lines" if name.startswith("batch") else "same"
            print(f"same       {name} ({size})")
            continue
        differing += 1
        print(f"DIFFERENT  {name}")
        if isinstance(old[name], list) and isinstance(new[name], list):
            for i, (a, b) in enumerate(zip(old[name], new[name], strict=False)):
                if a != b:
                    print(f"    first difference at item {i + 1}:\n    old {a}\n    new {b}")
                    break
            if len(old[name]) != len(new[name]):
                print(f"    old has {len(old[name])} items, new {len(new[name])}")
    total = len(old)
    print(f"\n{total - differing} of {total} outputs the same ({args.lines:,} batch lines)")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
