"""What suggestions for names that match nothing cost: bounded by the input, not the data.

    python benchmarks/suggest.py [--rounds 5] [--old REV]

Run it with the Python of the environment `meso` is installed in. Each figure is the median
wall time of `--rounds` runs of the real command (alternating, bytecode cached):

1. one valid patient holding 3 lists of 200 near-miss names, each about 200 characters
   (about 120 KB in all): `meso screen FILE --json`. Target: under 0.5 s.
2. `meso batch` over 5,000 lines each holding a different unknown name, against 5,000 lines
   all holding the same one. Target: at most 1.5 times.
3. a patient with 50 unknown names, screened with a data copy holding 40,000 extra synonyms
   (on the cancer term, so that the copy passes `meso data check`), against the same
   patient on the shipped data, and against a patient with 50 known names on the copy (the
   difference is what the suggestions cost); and `meso data check` of that copy.

`--old REV` runs the same inputs on an earlier version too (its files taken out with
`git archive` into a temporary directory, run with this Python), for the before and after.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import ROOT, Run, alternate, meso, row  # noqa: E402

ON = "2026-11-22"
SEED = 2026


def _vocabulary() -> list[str]:
    """The words of every name in the shipped data, five letters or more."""
    words: set[str] = set()
    for name in ("contraindications.yaml", "protocols.yaml"):
        text = (ROOT / "data" / name).read_text(encoding="utf-8")
        for line in text.splitlines():
            if "names:" in line or line.startswith(" " * 14):
                words.update(w for w in _letters(line).split() if len(w) >= 5)
    return sorted(words - {"names", "sources"})


def _letters(text: str) -> str:
    return "".join(c if c.isalpha() else " " for c in text.lower())


def _slip(rng: random.Random, word: str) -> str:
    """The word with one typing slip: a letter changed, dropped, doubled or swapped."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def near_miss_patient(rng: random.Random) -> dict[str, object]:
    """3 lists of 200 names, each near-miss words up to about 200 characters."""
    words = _vocabulary()

    def name() -> str:
        out = ""
        while len(out) < 185:
            out += _slip(rng, rng.choice(words)) + " "
        return out.strip()[:200]

    return {
        "id": "near-miss",
        "age": 40,
        "sex": "male",
        "conditions": [name() for _ in range(200)],
        "medications": [name() for _ in range(200)],
        "allergies": [name() for _ in range(200)],
    }


def unknown_word(rng: random.Random) -> str:
    """A word close to no known name (consonants only), 8 to 12 letters."""
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(8, 12)))


def batch_lines(rng: random.Random, lines: int, same: bool) -> str:
    fixed = unknown_word(rng)
    out = []
    for number in range(lines):
        term = fixed if same else f"{unknown_word(rng)} {number}"
        out.append(json.dumps({"age": 40, "sex": "male", "conditions": [term]}))
    return "\n".join(out) + "\n"


def big_copy(tree: Path, directory: Path, rng: random.Random, extra: int) -> None:
    """The data of `tree` with `extra` made-up synonyms added to the cancer term."""
    shutil.copytree(tree / "data", directory)
    path = directory / "contraindications.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "      names: [cancer, carcinoma,"
    assert anchor in text, "the cancer term moved: update the benchmark"
    made_up = sorted({unknown_word(rng) for _ in range(extra * 2)})[:extra]
    text = text.replace(anchor, "      names: [cancer, " + ", ".join(made_up) + ", carcinoma,", 1)
    path.write_text(text, encoding="utf-8")


@contextmanager
def version(rev: str | None) -> Iterator[tuple[Path, dict[str, str]]]:
    """The source tree of `rev` and the environment that runs it (None: this tree and the
    installed meso); an earlier revision's files are taken out with git archive."""
    if rev is None:
        yield ROOT, {}
        return
    with tempfile.TemporaryDirectory(prefix="meso-suggest-rev-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Path(tmp), {"PYTHONPATH": tmp}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per figure (5)")
    parser.add_argument("--lines", type=int, default=5000, help="batch lines (5,000)")
    parser.add_argument("--synonyms", type=int, default=40_000, help="extra synonyms (40,000)")
    parser.add_argument("--old", help="also run an earlier version (a git revision)")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="meso-suggest-") as tmp:
        work = Path(tmp)
        patient = work / "near-miss.json"
        patient.write_text(json.dumps(near_miss_patient(rng)), encoding="utf-8")
        different = work / "different.jsonl"
        different.write_text(batch_lines(rng, args.lines, same=False), encoding="utf-8")
        same = work / "same.jsonl"
        same.write_text(batch_lines(rng, args.lines, same=True), encoding="utf-8")
        fifty = work / "fifty.json"
        names = [f"{unknown_word(rng)} {unknown_word(rng)}" for _ in range(50)]
        fifty.write_text(json.dumps({"age": 40, "sex": "male", "conditions": names}), "utf-8")
        known = work / "fifty-known.json"
        asthma = [f"asthma {n}" for n in range(50)]
        known.write_text(json.dumps({"age": 40, "sex": "male", "conditions": asthma}), "utf-8")
        print(f"near-miss patient: {patient.stat().st_size / 1000:.0f} KB; batch files: "
              f"{args.lines:,} lines; data copy: {args.synonyms:,} extra synonyms")  # fmt: skip
        print(f"| {'figure':<54} | {'value':>10} | {'target':>7} | {'':<6} |")
        for rev in [args.old, None] if args.old else [None]:
            with version(rev) as (tree, env):
                copy = work / f"big-data-{rev or 'this'}"
                big_copy(tree, copy, random.Random(SEED), args.synonyms)
                _measure(rev, env, args, patient, different, same, fifty, known, copy)
    return 0


def _measure(
    rev: str | None,
    env: dict[str, str],
    args: argparse.Namespace,
    patient: Path,
    different: Path,
    same: Path,
    fifty: Path,
    known: Path,
    copy: Path,
) -> None:
    # -P: the working directory's meso_cli must not shadow the revision on PYTHONPATH.
    cmd = [sys.executable, "-P", "-m", "meso_cli"] if rev else meso()
    who = f" ({rev})" if rev else ""
    on = ["--on", ON]
    times = alternate(
        {
            "near": Run([*cmd, "screen", str(patient), "--json", *on], env),
            "different": Run([*cmd, "batch", str(different), "--jobs", "1", *on], env),
            "same": Run([*cmd, "batch", str(same), "--jobs", "1", *on], env),
            "fifty": Run([*cmd, "screen", str(fifty), "--json", *on], env),
            "fifty-big": Run(
                [*cmd, "screen", str(fifty), "--json", "--data-dir", str(copy), *on], env
            ),
            "known-big": Run(
                [*cmd, "screen", str(known), "--json", "--data-dir", str(copy), *on], env
            ),
            "check-big": Run([*cmd, "data", "check", str(copy)], env),
        },
        args.rounds,
    )
    near = times["near"]
    row(f"screen 120 KB of near-miss names{who}", f"{near:.3f} s", "< 0.5 s", near < 0.5)
    ratio = times["different"] / times["same"]
    row(
        f"batch: {args.lines:,} different / same unknown{who}",
        f"{ratio:.2f}x",
        "<= 1.5x",
        ratio <= 1.5,
        f"{times['different']:.2f} s / {times['same']:.2f} s",
    )
    row(f"50 unknown names, shipped data{who}", f"{times['fifty']:.3f} s", "", None)
    big = times["fifty-big"]
    row(
        f"50 unknown names, +{args.synonyms:,} synonyms{who}",
        f"{big:.3f} s",
        "",
        None,
        f"{big / times['fifty']:.2f}x the shipped data",
    )
    row(
        f"50 known names, +{args.synonyms:,} synonyms{who}",
        f"{times['known-big']:.3f} s",
        "",
        None,
        f"suggestions: {big - times['known-big']:+.3f} s",
    )
    row(f"data check of that copy{who}", f"{times['check-big']:.3f} s", "", None)


if __name__ == "__main__":
    raise SystemExit(main())
