"""Benchmark meso: startup against the import floor, batch throughput, --jobs scaling, memory.

Run from the repository with the venv's Python:

    python benchmarks/bench.py            # the full table (takes a few minutes)
    python benchmarks/bench.py --quick    # smaller files and fewer rounds, for a smoke run

Every figure is measured side by side in one run: the commands compared are run alternately
and the median of each is taken, so a busy machine slows both sides alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "patient.yaml"
ON = "2026-11-22"

CONDITIONS = [
    "thinning hair",
    "androgenetic alopecia",
    "cellulite",
    "eczema",
    "herpes zoster",
    "Type 2 diabetes",
    "diabetes mellitus",
    "breast cancer",
    "haemophilia",
    "hemophilia",
    "liver disease",
    "renal failure",
    "kidney disease",
    "atrial fibrillation",
    "arrhythmia",
    "hypertension",
    "asthma",
    "migraine",
    "acne",
    "hypothyroidism",
    "heart disease",
    "seasonal allergies",
    "anxiety",
    "back pain",
    "psoriasis",
]
UNKNOWN = ["zorblaxitis", "flurb syndrome", "diabetis", "warfrin", "ecsema", "qwerty"]
MEDICATIONS = [
    "warfarin",
    "Coumadin",
    "aspirin",
    "ibuprofen",
    "naproxen",
    "heparin",
    "paracetamol",
    "vitamin D",
    "metformin",
    "insulin",
    "levothyroxine",
    "omeprazole",
    "atorvastatin",
    "amlodipine",
    "sertraline",
    "cetirizine",
    "Advil",
    "diclofenac",
]
ALLERGIES = ["lidocaine", "penicillin", "biotin", "hyaluronic acid", "latex", "procaine"]
BAD = [
    "",
    '{"id": "cut", "age": 4',
    "[1, 2]",
    '{"age": 40, "age": 41}',
    '{"age": NaN}',
    '{"age": 40, "colour": "blue"}',
    '{"id": "no-age"}',
]


def _date(rng: random.Random, start: int, end: int) -> str:
    year = rng.randint(start, end)
    return f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def patient(rng: random.Random, number: int) -> dict[str, object]:
    """A plausible patient: most are simple, some carry history, a few use unknown words."""
    p: dict[str, object] = {"id": f"P-{number:07d}"}
    if rng.random() < 0.7:
        p["birth_date"] = _date(rng, 1940, 2010)
    else:
        p["age"] = rng.randint(16, 85)
    if rng.random() < 0.6:
        p["sex"] = rng.choice(["female", "male", "other"])
    for flag, chance in (("pregnant", 0.03), ("breastfeeding", 0.03), ("fever", 0.04)):
        if rng.random() < 0.5:
            p[flag] = rng.random() < chance
    conditions: list[object] = []
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        name = rng.choice(UNKNOWN) if rng.random() < 0.03 else rng.choice(CONDITIONS)
        if rng.random() < 0.2:
            conditions.append({"name": name, "resolved_on": _date(rng, 2026, 2027)})
        else:
            conditions.append(name)
    if conditions:
        p["conditions"] = conditions
    medications: list[object] = []
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
        name = rng.choice(UNKNOWN) if rng.random() < 0.02 else rng.choice(MEDICATIONS)
        if rng.random() < 0.3:
            medications.append({"name": name, "last_dose": "2026-11-" + str(rng.randint(10, 21))})
        else:
            medications.append(name)
    if medications:
        p["medications"] = medications
    if rng.random() < 0.15:
        p["allergies"] = rng.sample(ALLERGIES, rng.randint(1, 2))
    if rng.random() < 0.1:
        start = _date(rng, 2027, 2027)
        p["sun_exposure"] = [{"from": start, "to": start[:8] + "28"}]
    if rng.random() < 0.05:
        p["sessions_done"] = ["2026-11-03", "2026-11-10"]
    return p


def generate(path: Path, lines: int, seed: int = 2026) -> None:
    """JSON Lines of patients with about one bad line in 400."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for number in range(1, lines + 1):
            if rng.random() < 0.0025:
                f.write(rng.choice(BAD) + "\n")
            else:
                f.write(json.dumps(patient(rng, number)) + "\n")


PLAIN_PASS = """
import json, sys
write = sys.stdout.write
for line in open(sys.argv[1], "rb"):
    try:
        write(json.dumps(json.loads(line)) + "\\n")
    except ValueError:
        write(json.dumps({"error": "bad"}) + "\\n")
"""

# `meso batch` with the screening and its JSON replaced by one fixed answer (the first
# patient's): what reading the lines, checking each patient and passing chunks between
# processes cost without the engine. A floor for the batch figure, not a mode of meso.
READING_ONLY = """
import sys
from meso_cli import batch
from meso_cli.cli.app import main

screen_line = batch.screen_line
answer = []

def read_only(raw, number, job):
    try:
        batch.read_patient(raw, number, job.on)
    except batch.MesoError as exc:
        return batch._error(number, str(exc)), batch.ERROR
    if not answer:
        answer.append(screen_line(raw, number, job))
    return answer[0]

batch.screen_line = read_only
main()
"""


def meso() -> list[str]:
    found = Path(sys.executable).parent / "meso"
    if found.exists():
        return [str(found)]
    on_path = shutil.which("meso")
    return [on_path] if on_path else [sys.executable, "-m", "meso_cli"]


# Programs run as installed: with their bytecode cached. PYTHONDONTWRITEBYTECODE in the
# caller's environment would make every run compile the modules edited since the last cache.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class Run:
    """A command, and what its environment adds to ours (a PYTHONPATH, a fresh cache)."""

    def __init__(self, cmd: Sequence[str], env: dict[str, str] | None = None, fresh: bool = False):
        self.cmd, self.env, self.fresh = list(cmd), env or {}, fresh


def timed(cmd: Sequence[str] | Run, stdout: int | None = subprocess.DEVNULL) -> tuple[float, int]:
    """Wall seconds and the child's peak resident memory in KiB (ru_maxrss, Linux)."""
    run = cmd if isinstance(cmd, Run) else Run(cmd)
    env = {**ENV, **run.env}
    fresh = tempfile.mkdtemp(prefix="meso-bench-cold-") if run.fresh else None
    if fresh is not None:  # the very first call: an empty cache directory of its own
        env["XDG_CACHE_HOME"] = fresh
    cmd = run.cmd
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
    if proc.returncode not in (0, 3, 4, 5, 6):
        raise SystemExit(f"bench: {' '.join(cmd)} failed with exit {proc.returncode}")
    return elapsed, usage.ru_maxrss


def alternate(commands: dict[str, Sequence[str] | Run], rounds: int) -> dict[str, float]:
    """Median wall time of each command, running them in turn, round after round."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the disk cache and .pyc files, not counted
        timed(cmd)
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(timed(cmd)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def row(figure: str, value: str, target: str, ok: bool | None, note: str = "") -> None:
    mark = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"| {figure:<54} | {value:>10} | {target:>7} | {mark:<6} | {note}")


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A temporary git work tree of `rev`, to run an earlier version beside this one."""
    with tempfile.TemporaryDirectory(prefix="meso-bench-rev-") as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", "-q", str(tree), rev], check=True)
        try:
            yield tree
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, few rounds")
    parser.add_argument("--lines", type=int, help="lines in the batch file (default 100,000)")
    parser.add_argument("--memory-lines", type=int, help="lines for peak memory (1,000,000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds for startup (21)")
    parser.add_argument("--batch-rounds", type=int, help="alternating rounds for batch (3)")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also run the batch of this git revision beside this one (lines per second)",
    )
    args = parser.parse_args(argv)
    lines = args.lines or (10_000 if args.quick else 100_000)
    memory_lines = args.memory_lines or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (7 if args.quick else 21)
    batch_rounds = args.batch_rounds or (1 if args.quick else 3)
    exe = meso()
    py = sys.executable
    cores = os.cpu_count() or 1

    print(f"meso benchmark: {' '.join(exe)}; python {sys.version.split()[0]}; {cores} cores")
    print(
        f"batch file: {lines:,} lines; memory file: {memory_lines:,} lines; "
        f"startup rounds: {rounds}; batch rounds: {batch_rounds}\n"
    )
    print(f"| {'figure':<54} | {'value':>10} | {'target':>7} | result | measured")
    print(f"|{'-' * 56}|{'-' * 12}|{'-' * 9}|--------|---------")

    screen = [*exe, "screen", str(EXAMPLE), "--protocol", "hair", "--on", ON, "--json"]
    plan = [*exe, "plan", str(EXAMPLE), "--protocol", "hair", "--on", ON, "--json"]
    completion = {
        "_MESO_COMPLETE": "complete_bash",
        "COMP_WORDS": "meso plan -p ",
        "COMP_CWORD": "3",
    }
    startup = alternate(
        {
            "floor": [py, "-c", "import typer, pydantic, yaml"],
            "screen": screen,
            "plan": plan,
            "screen cold": Run(screen, fresh=True),
            "plan cold": Run(plan, fresh=True),
            "help": [*exe, "--help"],
            "completion": Run(exe, completion),
        },
        rounds,
    )
    floor = startup["floor"]

    def ratio(name: str, figure: str, target: float) -> None:
        value = startup[name] / floor
        ms = f"{startup[name] * 1000:.0f} ms vs floor {floor * 1000:.0f} ms"
        row(figure, f"{value:.2f}", f"<= {target}", value <= target, ms)

    ratio("screen", "meso screen FILE --json / import floor (warm)", 2.0)
    ratio("plan", "meso plan FILE -p hair --json / import floor (warm)", 2.0)
    ratio("screen cold", "the same screen, first call: empty cache directory", 2.5)
    ratio("plan cold", "the same plan, first call: empty cache directory", 2.5)
    ratio("help", "meso --help / import floor", 1.0)
    ratio("completion", "completing `meso plan -p ` (bash) / import floor", 1.0)

    with tempfile.TemporaryDirectory(prefix="meso-bench-") as tmp:
        data = Path(tmp) / "patients.jsonl"
        generate(data, lines)
        base = [*exe, "batch", str(data), "--protocol", "hair", "--on", ON]
        commands: dict[str, Sequence[str] | Run] = {
            "plain": [py, "-c", PLAIN_PASS, str(data)],
            "batch": base,
            "floor": [py, "-c", READING_ONLY, *base[len(exe) :]],
            "plan": [*base, "--plan"],
            "jobs1": [*base, "--jobs", "1"],
            "jobs2": [*base, "--jobs", "2"],
        }
        with contextlib.ExitStack() as stack:
            if args.against:
                tree = stack.enter_context(checkout(args.against))
                earlier = [py, "-m", "meso_cli", *base[len(exe) :], "--jobs", "1"]
                commands["against"] = Run(earlier, {"PYTHONPATH": str(tree)})
            speed = alternate(commands, batch_rounds)
        plain = speed["plain"]

        def over_plain(name: str, figure: str, target: float) -> None:
            value = speed[name] / plain
            note = f"{speed[name]:.2f} s vs plain pass {plain:.2f} s"
            row(figure, f"{value:.2f}", f"<= {target}", value <= target, note)

        over_plain("batch", f"meso batch, {lines:,} patients / plain json pass", 1.5)
        over_plain("plan", f"meso batch --plan, {lines:,} patients / plain pass", 4)
        floor_ratio = speed["floor"] / plain
        row(
            "  floor: batch reading only, fixed answer / plain pass",
            f"{floor_ratio:.2f}",
            "",
            None,
            f"{speed['floor']:.2f} s: what is left for screening is the difference",
        )
        gain = speed["jobs1"] / speed["jobs2"]
        note = f"--jobs 1 {speed['jobs1']:.2f} s, --jobs 2 {speed['jobs2']:.2f} s"
        if cores < 2:
            note += " (only one core here: not meaningful)"
        row("--jobs 2 speed-up over --jobs 1", f"{gain:.2f}x", ">= 1.6x", gain >= 1.6, note)
        if args.against:
            now, then = lines / speed["jobs1"], lines / speed["against"]
            row(
                f"batch --jobs 1 patients/s: this tree / {args.against}",
                f"{now / then:.2f}",
                ">= 1.0",
                now >= then,
                f"{now:,.0f} vs {then:,.0f} patients/s",
            )
        data.unlink()

        big = Path(tmp) / "million.jsonl"
        generate(big, memory_lines, seed=7)
        seconds, peak_kib = timed([*exe, "batch", str(big), "--protocol", "hair", "--on", ON])
        mib = peak_kib / 1024
        note = f"ru_maxrss of the batch process tree's largest process; {seconds:.1f} s"
        row(
            f"peak memory, {memory_lines:,}-line batch",
            f"{mib:.0f} MiB",
            "<= 150",
            mib <= 150,
            note,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
