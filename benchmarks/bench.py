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

# The same pass with orjson, for reference only (meso does not use it).
ORJSON_PASS = """
import sys, orjson
write = sys.stdout.buffer.write
for line in open(sys.argv[1], "rb"):
    try:
        write(orjson.dumps(orjson.loads(line)) + b"\\n")
    except orjson.JSONDecodeError:
        write(b'{"error":"bad"}\\n')
"""

# `meso batch` with each line's answer replaced, in its own child process (the bench patches
# batch.answer_line before the workers are forked). Floors for the batch figures, not modes of
# meso: PLUMBING gives every line one fixed answer without reading it (reading the input,
# chunks, workers, pipes and writing); DECODING also reads and checks each line with the
# models, as a real run does, and then gives the fixed answer.
PATCHED = """
import sys
from meso_cli import batch
from meso_cli.cli.app import main

MODE = sys.argv.pop(1)
answer_line = batch.answer_line
fixed = []

def patched(raw, number, job):
    if MODE == "decoding":
        try:
            batch.read_line(raw, number, job.on)
        except batch.LineError as exc:
            return batch.error_line(number, str(exc), job, exc.patient_id), batch.ERROR
    if not fixed:
        fixed.append(answer_line(b'{"id": "P-1", "age": 40, "medications": ["warfarin"]}', 1, job))
    return fixed[0]

if MODE == "pool":  # a pool however short the input: for the break-even
    batch.POOL_MIN_LINES = 0
else:
    batch.answer_line = patched
main()
"""


def unknown_terms(path: Path, lines: int, different: bool) -> None:
    """`lines` patients with one unknown condition each: all different, or all the same."""
    rng = random.Random(5)
    with path.open("w", encoding="utf-8") as f:
        for n in range(lines):
            word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(9))
            term = f"{word}itis" if different else "zorblaxitis"
            f.write(json.dumps({"id": f"U-{n}", "age": 40, "conditions": [term]}) + "\n")


def has_orjson() -> bool:
    done = subprocess.run([sys.executable, "-c", "import orjson"], capture_output=True)
    return done.returncode == 0


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
    wall, _, peak = measured(cmd, stdout)
    return wall, peak


def measured(
    cmd: Sequence[str] | Run, stdout: int | None = subprocess.DEVNULL
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user and system, of the child and the workers it waited
    for) and the peak resident memory in KiB of the largest of them (ru_maxrss, Linux)."""
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
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def alternate(commands: dict[str, Sequence[str] | Run], rounds: int) -> dict[str, float]:
    """Median wall time of each command, running them in turn, round after round."""
    return alternate_cpu(commands, rounds)[0]


def alternate_cpu(
    commands: dict[str, Sequence[str] | Run], rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median CPU time of each command, run in turn, round after round.
    CPU time moves less than wall time when other work shares the machine."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the disk cache and .pyc files, not counted
        timed(cmd)
    for _ in range(rounds):
        for name, cmd in commands.items():
            wall, cpu, _ = measured(cmd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    median = statistics.median
    return (
        {name: median(values) for name, values in walls.items()},
        {name: median(values) for name, values in cpus.items()},
    )


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


def batch_rows(
    tmp: Path,
    args: argparse.Namespace,
    exe: list[str],
    lines: int,
    memory_lines: int,
    rounds: int,
    cores: int,
) -> None:
    """The batch figures of the table: each against the plain pass, in one alternating run."""
    py = sys.executable
    data = tmp / "patients.jsonl"
    generate(data, lines)
    base = [*exe, "batch", str(data), "--protocol", "hair", "--on", ON]
    options = base[len(exe) :]

    def patched(mode: str, jobs: str) -> list[str]:
        return [py, "-c", PATCHED, mode, *options, "--jobs", jobs]

    commands: dict[str, Sequence[str] | Run] = {
        "plain": [py, "-c", PLAIN_PASS, str(data)],
        "jobs1": [*base, "--jobs", "1"],
        "jobs2": [*base, "--jobs", "2"],
        "plan1": [*base, "--plan", "--jobs", "1"],
        "plumbing1": patched("plumbing", "1"),
        "plumbing2": patched("plumbing", "2"),
        "decoding1": patched("decoding", "1"),
    }
    if has_orjson():
        commands["orjson"] = [py, "-c", ORJSON_PASS, str(data)]
    with contextlib.ExitStack() as stack:
        if args.against:
            tree = stack.enter_context(checkout(args.against))
            earlier = [py, "-m", "meso_cli", *options, "--jobs", "1"]
            commands["against"] = Run(earlier, {"PYTHONPATH": str(tree)})
        speed, cpu = alternate_cpu(commands, rounds)
    plain = speed["plain"]

    def over_plain(name: str, figure: str, target: float | None) -> None:
        value = speed[name] / plain
        in_cpu = cpu[name] / cpu["plain"]
        note = f"{speed[name]:.2f} s vs plain pass {plain:.2f} s; in CPU time {in_cpu:.2f}"
        ok = None if target is None else value <= target
        row(figure, f"{value:.2f}", f"<= {target}" if target else "", ok, note)

    over_plain("jobs1", f"meso batch --jobs 1, {lines:,} patients / plain pass", 3.5)
    over_plain("jobs2", "meso batch --jobs 2 (wall) / plain pass", 2.2)
    over_plain("plan1", "meso batch --plan --jobs 1 / plain pass", 6.0)
    gain = speed["jobs1"] / speed["jobs2"]
    note = f"--jobs 1 {speed['jobs1']:.2f} s, --jobs 2 {speed['jobs2']:.2f} s"
    if cores < 2:
        note += " (only one core here: not meaningful)"
    row("--jobs 2 speed-up over --jobs 1", f"{gain:.2f}x", ">= 1.5x", gain >= 1.5, note)
    over_plain("plumbing1", "  floor: plumbing alone, fixed answer, --jobs 1", None)
    over_plain("plumbing2", "  floor: plumbing alone, fixed answer, --jobs 2", None)
    over_plain("decoding1", "  floor: plumbing + decoding and checking, --jobs 1", None)
    decoding = (speed["decoding1"] - speed["plumbing1"]) / lines * 1e6
    in_cpu = (cpu["decoding1"] - cpu["plumbing1"]) / lines * 1e6
    row(
        "  decoding and checking alone, per line",
        f"{decoding:.1f} us",
        "",
        None,
        f"CPU {in_cpu:.1f} us",
    )
    engine = (cpu["jobs1"] - cpu["decoding1"]) / lines * 1e6
    row(
        "  screening and its JSON, per line (CPU)",
        f"{engine:.1f} us",
        "",
        None,
        "jobs1 - decoding floor",
    )
    if "orjson" in speed:
        over_plain("orjson", "  reference: an orjson pass over the same file", None)
    else:
        row("  reference: an orjson pass over the same file", "-", "", None, "orjson not here")
    for name, label in (("jobs1", "--jobs 1"), ("jobs2", "--jobs 2")):
        row(f"patients per second, {label}", f"{lines / speed[name]:,.0f}", "", None, "")
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

    unknown_rows(tmp, exe, rounds)
    break_even_rows(tmp, exe, rounds)

    big = tmp / "million.jsonl"
    generate(big, memory_lines, seed=7)
    seconds, peak_kib = timed([*exe, "batch", str(big), "--protocol", "hair", "--on", ON, "--plan"])
    mib = peak_kib / 1024
    note = f"ru_maxrss of the batch process tree's largest process; {seconds:.1f} s"
    row(
        f"peak memory, {memory_lines:,}-line batch --plan",
        f"{mib:.0f} MiB",
        "<= 100",
        mib <= 100,
        note,
    )


def unknown_rows(tmp: Path, exe: list[str], rounds: int) -> None:
    same, different = tmp / "same.jsonl", tmp / "different.jsonl"
    unknown_terms(same, 5_000, different=False)
    unknown_terms(different, 5_000, different=True)
    on = ["--on", ON, "--jobs", "1"]
    speed = alternate(
        {
            "same": [*exe, "batch", str(same), *on],
            "different": [*exe, "batch", str(different), *on],
        },
        rounds,
    )
    value = speed["different"] / speed["same"]
    note = f"{speed['different']:.2f} s vs {speed['same']:.2f} s"
    row(
        "5,000 different unknown terms / 5,000 of the same",
        f"{value:.2f}",
        "<= 1.5",
        value <= 1.5,
        note,
    )


def break_even_rows(tmp: Path, exe: list[str], rounds: int) -> None:
    """From how many lines two workers pay for starting them: --jobs 1 against a pool of two
    forced on however short a file (the bench's own child process sets POOL_MIN_LINES)."""
    py = sys.executable
    found = None
    shown = []
    for size in (500, 1000, 1500, 2000, 4000):
        path = tmp / f"small-{size}.jsonl"
        generate(path, size, seed=size)
        options = ["batch", str(path), "--protocol", "hair", "--on", ON]
        speed = alternate(
            {
                "one": [*exe, *options, "--jobs", "1"],
                "pool": [py, "-c", PATCHED, "pool", *options, "--jobs", "2"],
            },
            max(rounds, 3),
        )
        shown.append(f"{size}: {speed['one'] * 1000:.0f}/{speed['pool'] * 1000:.0f} ms")
        if found is None and speed["pool"] < speed["one"]:
            found = size
    value = f"{found:,}" if found else "> 4,000"
    row("lines from which a pool of 2 pays (--jobs 1 / pool)", value, "", None, "; ".join(shown))


def startup_rows(exe: list[str], rounds: int) -> None:
    """A single screen, plan, help and completion against the import floor."""
    py = sys.executable
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, few rounds")
    parser.add_argument("--lines", type=int, help="lines in the batch file (default 100,000)")
    parser.add_argument("--memory-lines", type=int, help="lines for peak memory (1,000,000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds for startup (21)")
    parser.add_argument("--batch-rounds", type=int, help="alternating rounds for batch (5)")
    parser.add_argument("--no-startup", action="store_true", help="the batch rows only")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also run the batch of this git revision beside this one (lines per second)",
    )
    args = parser.parse_args(argv)
    lines = args.lines or (10_000 if args.quick else 100_000)
    memory_lines = args.memory_lines or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (7 if args.quick else 21)
    batch_rounds = args.batch_rounds or (1 if args.quick else 5)
    exe = meso()
    cores = os.cpu_count() or 1

    print(f"meso benchmark: {' '.join(exe)}; python {sys.version.split()[0]}; {cores} cores")
    print(
        f"batch file: {lines:,} lines; memory file: {memory_lines:,} lines; "
        f"startup rounds: {rounds}; batch rounds: {batch_rounds}\n"
    )
    print(f"| {'figure':<54} | {'value':>10} | {'target':>7} | result | measured")
    print(f"|{'-' * 56}|{'-' * 12}|{'-' * 9}|--------|---------")

    if not args.no_startup:
        startup_rows(exe, rounds)
    with tempfile.TemporaryDirectory(prefix="meso-bench-") as tmp:
        batch_rows(Path(tmp), args, exe, lines, memory_lines, batch_rounds, cores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
