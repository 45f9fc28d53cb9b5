"""Fuzz the patient-file reader and the screening engine for a fixed time budget.

Every input goes the way a patient file does: files.decode (UTF-8, BOM, NUL), documents.parse
(strict YAML or JSON), documents.reject_nulls, documents.validate into the Patient model for
the reference date, then the screening, and the result is written as UTF-8 JSON.
A clean refusal is a MesoError (or a pydantic ValidationError); anything else is a finding:
its type, message and input are printed and saved, and the run goes on.

    python benchmarks/fuzz_patient.py --seconds 60              # atheris if installed
    python benchmarks/fuzz_patient.py --seconds 60 --engine hypothesis

atheris (coverage-guided, libFuzzer) is used when it is importable (`pip install atheris`);
otherwise Hypothesis generates and mutates inputs for the same budget. Exit 1 on a finding.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ON = date(2026, 11, 22)
SEEDS = [
    (ROOT / "examples" / "patient.yaml").read_bytes(),
    b'{"id": "P-1", "birth_date": "1988-03-14", "pregnant": false, "conditions": ["eczema",'
    b' {"name": "herpes zoster", "resolved_on": "2026-12-10"}], "medications": ["warfarin",'
    b' {"name": "ibuprofen", "last_dose": "2026-11-20"}], "allergies": ["lidocaine"],'
    b' "sun_exposure": [{"from": "2027-02-01", "to": "2027-02-14"}],'
    b' "sessions_done": ["2026-11-03"]}',
    b"age: 52\nmedications: [Coumadin, aspirin]\nconditions: [Type 2 diabetes, zorblax]\n",
    b"birth_date: 2010-01-01\nfever: yes\nallergies: [procaine]\nid: '0042'\n",
    b"age: 70\nconditions:\n  - {name: eczema, resolved_on: 2027-01-01}\n  - heart disease\n"
    b"medications: [a, b, c]\n",
]


class Run:
    """What the harness has seen so far."""

    def __init__(self, deadline: float, out_dir: Path) -> None:
        from pydantic import ValidationError

        import meso_cli.documents as documents
        import meso_cli.files as files
        from meso_cli.data import load_dataset
        from meso_cli.errors import MesoError
        from meso_cli.models import Patient
        from meso_cli.screening import Screener

        self.patient, self.documents, self.files = Patient, documents, files
        self.clean = (MesoError, ValidationError)
        self.dataset = load_dataset(files.packaged_data_dir())
        self.screener = Screener(self.dataset)
        self.protocols = [None, *self.dataset.protocols]
        self.deadline = deadline
        self.out_dir = out_dir
        self.tried = 0
        self.outcomes: Counter[str] = Counter()
        self.findings: dict[str, bytes] = {}

    def one(self, raw: bytes) -> None:
        self.tried += 1
        try:
            self._target(raw)
        except self.clean as exc:
            str(exc).encode("utf-8")  # the message is written out: it must be text
            self.outcomes["refused cleanly"] += 1
        except Exception as exc:  # noqa: BLE001  (anything else is what we are looking for)
            self._finding(exc, raw)

    def _target(self, raw: bytes) -> None:
        name = "fuzz.json" if raw[:1] == b"{" or len(raw) % 3 == 0 else "fuzz.yaml"
        documents = self.documents
        doc = documents.parse(self.files.decode(raw, name), name)
        if isinstance(doc.value, dict):
            documents.reject_nulls(doc)
        patient = documents.validate(doc, self.patient, context={"on": ON})
        protocol = self.protocols[len(raw) % len(self.protocols)]
        result = self.screener.screen(patient, protocol, on=ON)
        result.model_dump_json().encode("utf-8")
        self.outcomes[f"screened: {result.verdict.value}"] += 1

    def _finding(self, exc: Exception, raw: bytes) -> None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        key = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
        if key not in self.findings:
            self.findings[key] = raw
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"finding-{len(self.findings)}.bin"
            path.write_bytes(raw)
            print(f"FINDING {key}: {exc!r:.200} (input saved to {path})", flush=True)
            traceback.print_exception(exc, limit=-4)
        self.outcomes["finding"] += 1

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def report(self, engine: str, seconds: float) -> int:
        print(
            f"\nfuzz_patient: engine {engine}, {self.tried:,} inputs in {seconds:.0f} s "
            f"({self.tried / max(seconds, 1e-9):,.0f}/s)"
        )
        for outcome, count in sorted(self.outcomes.items()):
            print(f"  {outcome:<28} {count:>10,}")
        if self.findings:
            print(f"{len(self.findings)} distinct finding(s):")
            for key in self.findings:
                print(f"  {key}")
            return 1
        print("no findings: every input was screened or refused with a clean error")
        return 0


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    """A few byte-level edits of a seed: flips, inserts of YAML/JSON punctuation, splices."""
    b = bytearray(raw)
    tokens = [
        b"[",
        b"]",
        b"{",
        b"}",
        b":",
        b"- ",
        b"\n",
        b"  ",
        b"&a ",
        b"*a",
        b"!!",
        b"'",
        b'"',
        b"\t",
        b"\xef\xbb\xbf",
        b"\x00",
        b"\xff",
        b"yes",
        b"no",
        b"0042",
        b"~",
        b"2026-02-30",
        b"NaN",
        b".inf",
        b"<<: ",
        b"---\n",
        b"?",
        b"#",
        b"%YAML 1.1\n",
    ]
    for _ in range(rng.randint(1, 8)):
        at = rng.randint(0, len(b))
        move = rng.random()
        if move < 0.3 and b:
            b[min(at, len(b) - 1)] = rng.randint(0, 255)
        elif move < 0.6:
            b[at:at] = rng.choice(tokens)
        elif move < 0.8 and b:
            del b[at : at + rng.randint(1, 8)]
        else:
            other = rng.choice(SEEDS)
            start = rng.randint(0, len(other))
            b[at:at] = other[start : start + rng.randint(1, 40)]
    return bytes(b)


def hypothesis_engine(run: Run) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    class _Stop(Exception):
        pass

    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    values = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=20,
    )

    def dumped(value: Any) -> bytes:
        import json

        import yaml

        try:
            if isinstance(value, dict) and value and len(value) % 2:
                return json.dumps(value, default=str).encode()
            return yaml.safe_dump(value, allow_unicode=True).encode()
        except (ValueError, yaml.YAMLError):
            return b""

    inputs = st.one_of(
        st.binary(max_size=400),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.tuples(st.sampled_from(SEEDS), st.integers(0, 2**32)).map(
            lambda pair: _mutate(random.Random(pair[1]), pair[0])
        ),
        values.map(dumped),
    )

    @settings(
        max_examples=10**9,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def fuzz(raw: bytes) -> None:
        if run.over():
            raise _Stop
        run.one(raw)

    for seed in SEEDS:
        run.one(seed)
    try:
        fuzz()
    except _Stop:
        pass
    except Exception as exc:  # a Hypothesis "flaky" report after _Stop, never ours
        if not run.over():
            raise exc


def atheris_engine(run: Run, seconds: float) -> None:
    import atheris

    started = time.monotonic()

    def target(raw: bytes) -> None:
        if run.over():
            code = run.report("atheris", time.monotonic() - started)
            sys.stdout.flush()
            os._exit(code)  # libFuzzer counts a SystemExit from the target as a crash
        run.one(raw)

    corpus = Path(tempfile.mkdtemp(prefix="meso-fuzz-"))
    for i, seed in enumerate(SEEDS):
        (corpus / f"seed-{i}").write_bytes(seed)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        sys.argv[0],
        "-max_len=2048",
        f"-max_total_time={int(seconds) + 5}",
        f"-artifact_prefix={run.out_dir}/",
        str(corpus),
    ]
    atheris.Setup(args, target)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "meso-fuzz",
        help="where inputs that caused a finding are saved",
    )
    opts = parser.parse_args()
    engine = opts.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "atheris"
    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["meso_cli", "yaml", "json", "pydantic"]):
            import meso_cli.data  # noqa: F401
            import meso_cli.screening  # noqa: F401
    started = time.monotonic()
    run = Run(started + opts.seconds, opts.out)
    if engine == "atheris":
        atheris_engine(run, opts.seconds)  # exits from inside the fuzzing loop
    hypothesis_engine(run)
    return run.report(engine, time.monotonic() - started)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
