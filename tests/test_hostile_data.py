"""A clinic's data copy that would switch safety off: "a copy may be stricter, never weaker"
holds for every protocol, the ones it adds included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from meso_cli.cli import app
from meso_cli.files import packaged_data_dir

runner = CliRunner()
ON = "2026-11-22"
STOP_BLEEDING = "exempt_rules: [bleeding-disorder, anticoagulant, nsaid-washout]"


def meso(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, env={"NO_COLOR": "1", "MESO_DATA_DIR": ""})


def protocol(
    pid: str,
    *,
    injects: bool = True,
    depth: bool = True,
    exempt: str = "",
    care: str = "",
) -> str:
    """A protocol block as a clinic would add it to protocols.yaml."""
    lines = [
        f"  - id: {pid}",
        f"    name: {pid.title()}",
        "    indications: [hair loss]",
        f"    injects: {'true' if injects else 'false'}",
        *(["    needle_depth_mm: {min: 1, max: 4}"] if depth else []),
        "    ingredients: [vitamins]",
        *([f"    exempt_rules: [{exempt}]"] if exempt else []),
        "    phases:",
        "      - id: weekly",
        "        name: Weekly sessions",
        "        sessions: {min: 1, default: 8, max: 8}",
        "        interval_days: {min: 7, target: 7, max: 14}",
        "        sources: [001_8b0821896358e5d6.txt]",
        *([care] if care else []),
        "    results: Thicker hair.",
        "    sources: [001_8b0821896358e5d6.txt]",
    ]
    return "\n".join(lines) + "\n"


def copy(tmp_path: Path, *blocks: str, edits: tuple[tuple[str, str], ...] = ()) -> Path:
    directory = tmp_path / "data"
    shutil.copytree(packaged_data_dir(), directory)
    protos = directory / "protocols.yaml"
    text = protos.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    protos.write_text(text + "".join(blocks), encoding="utf-8")
    return directory


def refused(directory: Path, *words: str, count: int = 1) -> list[str]:
    result = meso("data", "check", str(directory))
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == count, lines
    for word in words:
        assert any(word in line for line in lines), (word, lines)
    return lines


HAIR_LITE = protocol("hair-lite", exempt="pregnancy, diabetes, age-under-18")


def test_the_hair_lite_copy_is_refused_and_screens_nobody(tmp_path: Path) -> None:
    directory = copy(tmp_path, HAIR_LITE)
    lines = refused(directory, count=3)
    for rule in ("pregnancy", "diabetes", "age-under-18"):
        assert any(f"protocol 'hair-lite' may not be exempt from rule {rule!r}" in x for x in lines)
    # Before: a pregnant diabetic was ✓ ELIGIBLE, exit 0, under this copy.
    result = meso(
        "screen",
        "-",
        "-p",
        "hair-lite",
        "--on",
        ON,
        "--data-dir",
        str(directory),
        input="age: 30\nsex: female\npregnant: true\nconditions: [diabetes]\n",
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "ELIGIBLE" not in result.output


@pytest.mark.parametrize(
    ("block", "edits", "words"),
    [
        # a new protocol that injects, exempt from a bleeding rule
        (protocol("hair-plus", exempt="anticoagulant"), (), ["'hair-plus'", "'anticoagulant'"]),
        # a new protocol that says it injects nothing but gives a needle depth
        (
            protocol("quiet", injects=False, exempt="anticoagulant"),
            (),
            ["'quiet' has injects: false but gives needle_depth_mm"],
        ),
        # ... or care about injections
        (
            protocol(
                "quiet",
                injects=False,
                depth=False,
                care="    aftercare:\n      - id: sites\n        text: Keep the injection "
                "sites clean.\n        injections_only: true\n"
                "        sources: [001_8b0821896358e5d6.txt]",
            ),
            (),
            ["'quiet' has injects: false but gives aftercare item 'sites' (injections_only)"],
        ),
        # a new protocol that injects nothing, exempt from a rule that is not about bleeding
        (
            protocol("quiet", injects=False, depth=False, exempt="pregnancy"),
            (),
            ["'quiet' may not be exempt from rule 'pregnancy'"],
        ),
        # a shipped protocol that injects, said to inject nothing
        (
            "",
            (
                (
                    "    injects: true\n    session_minutes: 20\n",
                    "    injects: false\n    session_minutes: 20\n",
                ),
            ),
            ["protocol 'hair' has injects: false; the shipped data has injects: true"],
        ),
        # the sun advice made about injections only: dropped for no-needle
        (
            "",
            (
                (
                    "      days_after_last: 20\n",
                    "      days_after_last: 20\n      injections_only: true\n",
                ),
            ),
            ["item 'sun' would be dropped for a protocol that injects nothing"],
        ),
    ],
    ids=[
        "new-injecting-exempt",
        "new-needle-free-with-depth",
        "new-needle-free-with-injection-care",
        "new-needle-free-exempt-pregnancy",
        "hair-injects-false",
        "sun-injections-only",
    ],
)
def test_a_weaker_protocol_is_refused(
    tmp_path: Path, block: str, edits: tuple[tuple[str, str], ...], words: list[str]
) -> None:
    refused(copy(tmp_path, block, edits=edits), *words)


def test_a_needle_free_protocol_of_the_clinic_may_leave_out_the_bleeding_rules(
    tmp_path: Path,
) -> None:
    block = protocol(
        "mesopeel",
        injects=False,
        depth=False,
        exempt="bleeding-disorder, anticoagulant, nsaid-washout",
    )
    directory = copy(tmp_path, block)
    assert meso("data", "check", str(directory)).exit_code == 0
    result = meso(
        "screen",
        "-",
        "-p",
        "mesopeel",
        "--on",
        ON,
        "--json",
        "--data-dir",
        str(directory),
        input="age: 40\nsex: male\nmedications: [warfarin]\n",
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["not_applicable"]) == {
        "bleeding-disorder",
        "anticoagulant",
        "nsaid-washout",
    }


def test_a_protocol_may_be_exempt_from_a_rule_the_clinic_added(tmp_path: Path) -> None:
    directory = copy(tmp_path, protocol("hair-plus", exempt="smoking"))
    contra = directory / "contraindications.yaml"
    contra.write_text(
        contra.read_text(encoding="utf-8")
        + "\n  - id: smoking\n    action: review\n    title: Smoker\n    when:\n"
        "      - conditions: [cancer]\n    rationale: The clinic's own rule.\n"
        "    advice: Ask.\n    sources: [001_8b0821896358e5d6.txt]\n",
        encoding="utf-8",
    )
    result = meso("data", "check", str(directory))
    assert result.exit_code == 0, result.output
