"""`meso rules` and `meso protocols`: the contract's rules and protocols, as the seeds give them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from meso_cli.cli import app

runner = CliRunner()
SEEDS = {
    name[:3]: name
    for name in (
        "000_83a82c1e611c96ee.txt",
        "001_8b0821896358e5d6.txt",
        "002_a3c4d37e6271a984.txt",
        "003_f613f02c0b107e94.txt",
        "004_c03713773c64c6fd.txt",
    )
}
# SPEC section 1: id -> (action, the seeds it names)
REQUIRED = {
    "age-under-18": ("exclude", "001 002"),
    "age-over-75": ("review", "001"),
    "pregnancy": ("exclude", "001 002"),
    "breastfeeding": ("exclude", "001 002"),
    "bleeding-disorder": ("exclude", "001"),
    "anticoagulant": ("review", "001"),
    "nsaid-washout": ("defer", "000 001"),
    "ingredient-allergy": ("exclude", "001"),
    "acute-infection": ("defer", "001"),
    "liver-disease": ("exclude", "001 002"),
    "kidney-disease": ("exclude", "001 002"),
    "cancer": ("exclude", "001 002"),
    "diabetes": ("exclude", "001 002"),
    "cardiac-arrhythmia": ("exclude", "001"),
    "cardiac-polypharmacy": ("exclude", "002"),
    "skin-disease-at-site": ("defer", "001"),
    "unrecognized-term": ("review", ""),
}
PROTOCOLS = [
    "hair",
    "cellulite",
    "face-rejuvenation",
    "localized-fat",
    "pigmentation",
    "stretch-marks",
    "dark-circles",
    "pain",
    "no-needle",
]


def meso(*args: str, columns: int = 80) -> Result:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": str(columns)})


def as_json(*args: str) -> Any:
    result = meso(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def rules() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in as_json("rules")["rules"]}


@pytest.fixture(scope="module")
def protocols() -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in as_json("protocols")["protocols"]}


def test_rules_json_lists_every_required_rule_with_its_action(
    rules: dict[str, dict[str, Any]],
) -> None:
    assert set(REQUIRED) <= set(rules)
    for rule_id, (action, _) in REQUIRED.items():
        assert rules[rule_id]["action"] == action, rule_id


@pytest.mark.parametrize("rule_id", list(REQUIRED))
def test_each_rule_cites_at_least_the_seeds_the_spec_names(
    rules: dict[str, dict[str, Any]], rule_id: str
) -> None:
    rule = rules[rule_id]
    wanted = {SEEDS[n] for n in REQUIRED[rule_id][1].split()}
    assert wanted <= set(rule["sources"]), rule["sources"]
    assert rule["sources"] and set(rule["sources"]) <= set(SEEDS.values())
    assert rule["rationale"].strip() and rule["title"].strip() and rule["advice"].strip()


def test_blood_thinner_advice_never_says_to_stop_it(rules: dict[str, dict[str, Any]]) -> None:
    advice = rules["anticoagulant"]["advice"]
    assert "Do not stop a prescribed blood thinner" in advice
    assert "consult the prescriber" in advice


def test_one_rule_in_json_and_in_full(rules: dict[str, dict[str, Any]]) -> None:
    assert as_json("rules", "nsaid-washout")["rules"] == [rules["nsaid-washout"]]
    result = meso("rules", "nsaid-washout")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("nsaid-washout  … DEFER  NSAID taken within the last 7 days\n")
    # People read the sources' numbers and titles; JSON keeps the file names.
    assert "Sources: 000 — Cosmetic procedure Mesotherapy" in result.stdout
    assert "001 — Untitled (opens: It is a non-operational" in result.stdout.replace("\n  ", " ")


def test_protocols_json_lists_the_nine_with_phases_and_sources(
    protocols: dict[str, dict[str, Any]],
) -> None:
    assert list(protocols) == PROTOCOLS
    for p in protocols.values():
        assert p["phases"], p["id"]
        assert p["sources"] and set(p["sources"]) <= set(SEEDS.values()), p["id"]
        for phase in p["phases"]:
            count, days = phase["sessions"], phase["interval_days"]
            assert count["min"] <= count["default"] <= count["max"], (p["id"], phase["id"])
            assert days["min"] <= days["target"] <= days["max"], (p["id"], phase["id"])
            assert phase["sources"], (p["id"], phase["id"])


def test_hair_is_8_weekly_then_2_monthly(protocols: dict[str, dict[str, Any]]) -> None:
    hair = protocols["hair"]
    course = [ph for ph in hair["phases"] if not ph["maintenance"]]
    assert [(ph["sessions"]["default"], ph["interval_days"]["target"]) for ph in course] == [
        (8, 7),
        (2, 30),
    ]
    weekly, monthly = course
    assert weekly["interval_days"]["max"] == 14  # weekly to fortnightly is acceptable (002)
    assert 28 <= monthly["interval_days"]["min"] and monthly["interval_days"]["max"] <= 35
    assert SEEDS["001"] in weekly["sources"] and SEEDS["001"] in monthly["sources"]
    assert hair["session_minutes"] == 20  # 003


def test_cellulite_is_8_to_14_once_or_twice_a_week_then_six_months_maintenance(
    protocols: dict[str, dict[str, Any]],
) -> None:
    treatment, maintenance = protocols["cellulite"]["phases"]
    assert not treatment["maintenance"]
    count = treatment["sessions"]
    assert (count["min"], count["usual_max"], count["max"]) == (8, 14, 20)
    cadences = {c["per_week"]: c for c in treatment["per_week"]}
    assert set(cadences) == {1, 2}
    assert cadences[1]["target"] == 7
    assert cadences[2]["target"] in (3, 4)
    assert maintenance["maintenance"] is True
    days = maintenance["interval_days"]
    assert days["min"] == 15 and days["max"] in (30, 31)
    # Six months at one session every 15 days to one month: 6 to 12 sessions.
    assert (maintenance["sessions"]["min"], maintenance["sessions"]["max"]) == (6, 12)
    assert SEEDS["001"] in protocols["cellulite"]["sources"]


def test_no_needle_is_exempt_from_the_bleeding_rules(
    protocols: dict[str, dict[str, Any]],
) -> None:
    no_needle = protocols["no-needle"]
    assert no_needle["injects"] is False
    assert set(no_needle["exempt_rules"]) == {"bleeding-disorder", "anticoagulant", "nsaid-washout"}
    assert all(p["exempt_rules"] == [] for p in protocols.values() if p["id"] != "no-needle")


def test_one_protocol_in_json(protocols: dict[str, dict[str, Any]]) -> None:
    assert as_json("protocols", "cellulite")["protocols"] == [protocols["cellulite"]]
    assert as_json("protocols", "HAIR")["protocols"] == [protocols["hair"]]


def test_protocols_table_shows_each_phase_on_its_own_line() -> None:
    result = meso("protocols", columns=100)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    hair = next(i for i, line in enumerate(lines) if line.startswith(" hair "))
    assert "Weekly sessions: 8 (1–8), every 7 days (7–14)" in lines[hair]
    assert "then Monthly sessions: 2 (0–2), every 30 days (28–35)" in lines[hair + 1]
    cellulite = next(i for i, line in enumerate(lines) if line.startswith(" cellulite "))
    assert "Treatment: 8–14, up to 20, 1×/week or 2×/week" in lines[cellulite]


@pytest.mark.parametrize("columns", [60, 80])
def test_tables_never_cut_an_id_short(columns: int) -> None:
    shown = meso("rules", columns=columns).stdout + meso("protocols", columns=columns).stdout
    for name in [*REQUIRED, *PROTOCOLS]:
        assert f" {name} " in shown, name
    assert "…" not in shown.replace("… defer", "")


def test_protocol_view_names_phases_ingredients_and_sources() -> None:
    result = meso("protocols", "cellulite")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "8–14, up to 20" in text
    assert "1×/week: 7 (3–7)" in text and "2×/week: 4 (3–4)" in text
    # No source names what a cellulite solution holds.
    assert "Ingredients: none that a source gives for this use" in text
    assert "Maintenance: Every 15 days to one month for 6 months" in text
    assert "Sources: 001 — Untitled" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rules", "anticoagulants"], "unknown rule 'anticoagulants' (did you mean"),
        (["rules", "pregnancyy", "--json"], "(did you mean 'pregnancy'?)"),
        (["protocols", "cellulit"], "unknown protocol 'cellulit' (did you mean 'cellulite'?)"),
        (["protocols", "nonedle", "--json"], "(did you mean 'no-needle'?)"),
    ],
)
def test_unknown_id_exits_2_with_a_suggestion(args: list[str], message: str) -> None:
    result = meso(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert message in result.stderr
