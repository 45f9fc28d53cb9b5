"""`meso handout`: the patient's page carries every date of the plan, or nothing is written."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.render.handout import day

ON = "2026-11-22"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "patient.yaml"
runner = CliRunner()


def meso(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "100"})
    return result.exit_code, result.stdout, result.stderr


def plan_of(patient: Path, *args: str) -> dict[str, object]:
    code, out, err = meso("plan", str(patient), "-p", "hair", "--on", ON, "--json", *args)
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def every_date(plan: dict[str, object]) -> list[str]:
    sessions = plan["sessions"]
    keys = plan["key_dates"]
    assert isinstance(sessions, list) and isinstance(keys, dict)
    days = [s["date"] for s in sessions] + [v for v in keys.values() if v]
    return [day(date.fromisoformat(d)) for d in days]


def test_day_is_unambiguous() -> None:
    assert day(date(2026, 11, 27)) == "Fri 27 Nov 2026"
    assert day(date(2028, 2, 29)) == "Tue 29 Feb 2028"


def test_html_handout_has_every_date_of_the_plan_and_needs_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "handout.html"
    code, out, err = meso(
        "handout", str(EXAMPLE), "-p", "hair", "--on", ON, "-o", str(target),
        "--clinic", "Clinic <Ada> & Co", "--phone", "+90 212 555 0101",
    )  # fmt: skip
    assert code == 0, err
    assert out == ""
    assert f"wrote the handout to {target}" in err
    page = target.read_text(encoding="utf-8")
    for when in every_date(plan_of(EXAMPLE)):
        assert when in page, when
    assert "@page { size: A4" in page
    assert "Clinic &lt;Ada&gt; &amp; Co" in page  # escaped, not markup
    # Self-contained: no scripts, no stylesheets or images fetched from anywhere.
    assert not re.search(r"<script|<link|<img|url\(|https?://", page)
    for said in ("Redness, swelling, bruising", "When to call the clinic", "No sunbathing"):
        assert said in page
    assert "001" not in re.sub(r"<style>.*?</style>", "", page, flags=re.S).split("<footer>")[0]


def test_markdown_on_stdout_by_default() -> None:
    code, out, err = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON)
    assert code == 0, err
    assert out.startswith("# Your mesotherapy course: Hair loss\n")
    assert "- **Last day for anti-inflammatory painkillers:** Fri 20 Nov 2026" in out
    assert "| 1 | Fri 27 Nov 2026 | Weekly sessions | Mon 30 Nov 2026 |" in out
    assert "until Tue 6 Apr 2027, the 20th day after your last session" in out
    for when in every_date(plan_of(EXAMPLE)):
        assert when in out


def test_done_sessions_and_a_clashing_holiday_are_shown(tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text(
        "id: P-7\nage: 40\nsex: male\nsessions_done: [2026-11-10, 2026-11-17]\n"
        "sun_exposure: [{from: 2027-01-02, to: 2027-01-09}]\n",
        encoding="utf-8",
    )
    code, out, err = meso("handout", str(patient), "-p", "hair", "--on", ON, "--format", "md")
    assert code == 0, err
    assert "| 1 | Tue 10 Nov 2026 (done) | Weekly sessions |  |" in out
    assert "10 sessions, 2 already done." in out
    assert "sun holiday from Sat 2 Jan 2027 to Sat 9 Jan 2027 falls in this time" in out
    for when in every_date(plan_of(patient)):
        assert when in out


def test_no_needle_has_no_nsaid_advice(tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text("age: 40\nsex: male\nmedications: [warfarin]\n", encoding="utf-8")
    code, out, err = meso("handout", str(patient), "-p", "no-needle", "--on", ON)
    assert code == 0, err
    assert "painkillers" not in out
    assert "Nothing is injected" in out
    assert "injection sites" not in out  # 002: no side effects on the skin without needles


@pytest.mark.parametrize(
    ("text", "code", "why"),
    [
        ("age: 40\nsex: male\npregnant: true\n", 5, "not eligible (pregnancy)"),
        ("age: 40\nsex: male\nmedications: [warfarin]\n", 3, "review required (anticoagulant)"),
        ("age: 40\nsex: male\nfever: true\n", 4, "deferred with no known end"),
    ],
)
def test_no_plan_writes_nothing_and_exits_with_the_screening_code(
    tmp_path: Path, text: str, code: int, why: str
) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text(text, encoding="utf-8")
    target = tmp_path / "h.html"
    got, out, err = meso("handout", str(patient), "-p", "hair", "--on", ON, "-o", str(target))
    assert got == code, err
    assert why in err and "no handout written" in err
    assert out == ""
    assert not target.exists()


def test_output_must_be_markdown_or_html(tmp_path: Path) -> None:
    code, _, err = meso("handout", str(EXAMPLE), "-p", "hair", "-o", str(tmp_path / "h.pdf"))
    assert code == 2
    assert "name a .md or .html file" in err
    assert not (tmp_path / "h.pdf").exists()


def test_markdown_shows_a_typed_id_and_clinic_as_text_not_markup(tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text('id: "<script>x</script>"\nage: 40\nsex: male\n', encoding="utf-8")
    code, out, err = meso(
        "handout", str(patient), "-p", "hair", "--on", ON, "--clinic", "<b>Ada</b> [site](http://x)"
    )
    assert code == 0, err
    assert "<script>" not in out and "<b>" not in out and "](" not in out
    assert r"\<script\>x\</script\>" in out
