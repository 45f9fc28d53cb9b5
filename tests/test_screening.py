"""The screening engine, called directly: every required rule fires, and stays quiet outside it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from meso_cli.dates import age_on, birthday
from meso_cli.errors import MesoError, UnknownName
from meso_cli.models import (
    Action,
    Dataset,
    Finding,
    Note,
    Patient,
    Screening,
    TermKind,
    Verdict,
    flat,
)
from meso_cli.screening import screen, verdict_of


def texts(notes: list[Note]) -> list[str]:
    """The words of warnings or assumptions, as people read them."""
    return [n.text for n in notes]


ON = date(2026, 11, 22)


def patient(**fields: Any) -> Patient:
    fields.setdefault("birth_date", "1980-05-02")
    return Patient.model_validate(fields)


def run(data: Dataset, protocol: str | None = None, **kw: Any) -> Screening:
    on = kw.pop("on", ON)
    start = kw.pop("start", None)
    clear = kw.pop("clear", ())
    chosen = data.protocol(protocol) if protocol else None
    assert protocol is None or chosen is not None
    return screen(patient(**kw), chosen, data, on=on, start=start, clear=clear)


def rules(s: Screening) -> list[str]:
    return [f.rule for f in s.findings]


def only(s: Screening, rule: str) -> Finding:
    found = [f for f in s.findings if f.rule == rule]
    assert len(found) == 1, s.findings
    return found[0]


# --- ages ----------------------------------------------------------------------------------


def test_eighteenth_birthday_is_old_enough_and_the_day_before_is_not(data: Dataset) -> None:
    on_the_day = run(data, birth_date="2008-11-22")
    assert on_the_day.verdict is Verdict.ELIGIBLE, on_the_day.findings
    day_before = run(data, birth_date="2008-11-23")
    assert rules(day_before) == ["age-under-18"]
    assert day_before.verdict is Verdict.NOT_ELIGIBLE
    assert day_before.earliest_start is None
    assert "turns 18 on 2026-11-23" in only(day_before, "age-under-18").detail


def test_age_75_is_inside_the_range_and_76_needs_review(data: Dataset) -> None:
    assert run(data, birth_date="1951-11-22").verdict is Verdict.ELIGIBLE  # 75 today
    assert run(data, birth_date="1950-11-23").verdict is Verdict.ELIGIBLE  # 75, 76 tomorrow
    old = run(data, birth_date="1950-11-22")  # 76 today
    assert rules(old) == ["age-over-75"]
    assert old.verdict is Verdict.REVIEW
    assert old.earliest_start == ON


def test_age_without_birth_date_uses_the_given_whole_years(data: Dataset) -> None:
    assert rules(run(data, birth_date=None, age=17)) == ["age-under-18"]
    assert run(data, birth_date=None, age=18).verdict is Verdict.ELIGIBLE
    assert run(data, birth_date=None, age=75).verdict is Verdict.ELIGIBLE
    assert rules(run(data, birth_date=None, age=76)) == ["age-over-75"]
    s = run(data, birth_date=None, age=40)
    assert any("birth date not given" in a for a in texts(s.assumed))


def test_leap_day_birthday_turns_18_on_1_march_in_a_common_year(data: Dataset) -> None:
    born = date(2008, 2, 29)
    assert birthday(born, 18) == date(2026, 3, 1)
    assert birthday(born, 20) == date(2028, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
    young = run(data, birth_date="2008-02-29", on=date(2026, 2, 28))
    assert rules(young) == ["age-under-18"]
    assert "turns 18 on 2026-03-01" in young.findings[0].detail
    assert run(data, birth_date="2008-02-29", on=date(2026, 3, 1)).verdict is Verdict.ELIGIBLE


def test_age_is_counted_on_the_planned_start(data: Dataset) -> None:
    s = run(data, birth_date="2008-12-01", start=date(2026, 12, 1))
    assert s.verdict is Verdict.ELIGIBLE
    assert s.evaluated_on == date(2026, 12, 1)
    assert rules(run(data, birth_date="2008-12-01", start=date(2026, 11, 30))) == ["age-under-18"]


def test_age_without_birth_date_and_a_later_start_takes_the_unfavourable_side(
    data: Dataset,
) -> None:
    # 17 on the reference date: by a start one year later the patient is certainly 18 ...
    later = run(data, birth_date=None, age=17, start=ON + timedelta(days=365))
    assert later.verdict is Verdict.ELIGIBLE, later.findings
    # ... but a day earlier the 18th birthday may not have come yet.
    sooner = run(data, birth_date=None, age=17, start=ON + timedelta(days=364))
    assert rules(sooner) == ["age-under-18"]
    assert "age 17 or 18 on 2027-11-21" in sooner.findings[0].detail
    # 75 on the reference date may be 76 by a start some months later.
    assert rules(run(data, birth_date=None, age=75, start=date(2027, 3, 1))) == ["age-over-75"]


def test_birth_date_after_the_reference_date_is_an_error() -> None:
    with pytest.raises(ValidationError, match="after the reference date"):
        Patient.model_validate({"birth_date": "2027-01-01"}, context={"on": ON})


# --- flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "rule", "verdict"),
    [
        ("pregnant", "pregnancy", Verdict.NOT_ELIGIBLE),
        ("breastfeeding", "breastfeeding", Verdict.NOT_ELIGIBLE),
        ("fever", "acute-infection", Verdict.DEFERRED),
    ],
)
def test_flags_fire_when_true_and_are_quiet_when_false(
    data: Dataset, flag: str, rule: str, verdict: Verdict
) -> None:
    yes: dict[str, Any] = {flag: True}
    no: dict[str, Any] = {flag: False}
    fired = run(data, **yes)
    assert rules(fired) == [rule]
    assert fired.verdict is verdict
    assert fired.earliest_start is None  # not eligible, or a deferral with no known end
    quiet = run(data, **no)
    assert quiet.verdict is Verdict.ELIGIBLE
    assert not any(a.startswith(flag) for a in texts(quiet.assumed))


def test_flags_left_out_are_reported_as_assumed(data: Dataset) -> None:
    s = run(data)
    assert s.verdict is Verdict.ELIGIBLE
    assert texts(s.assumed) == [
        "pregnant: not stated, taken as no",
        "breastfeeding: not stated, taken as no",
        "fever: not stated, taken as no",
    ]


# --- conditions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("haemophilia", "bleeding-disorder"),
        ("von Willebrand disease", "bleeding-disorder"),
        ("liver failure", "liver-disease"),
        ("Hepatitis C", "liver-disease"),
        ("renal failure", "kidney-disease"),
        ("chronic kidney disease", "kidney-disease"),
        ("breast cancer", "cancer"),
        ("Type-2 Diabetes", "diabetes"),
        ("type 1 diabetes", "diabetes"),
        ("atrial fibrillation", "cardiac-arrhythmia"),
        ("heart arrhythmia", "cardiac-arrhythmia"),
        ("pregnant", "pregnancy"),
        ("lactating", "breastfeeding"),
    ],
)
def test_excluding_conditions_match_synonyms_and_phrases(
    data: Dataset, typed: str, rule: str
) -> None:
    s = run(data, conditions=[typed])
    assert rules(s) == [rule]
    assert s.verdict is Verdict.NOT_ELIGIBLE
    assert s.earliest_start is None
    assert s.findings[0].matched == typed
    assert s.findings[0].action is Action.EXCLUDE


@pytest.mark.parametrize(
    ("medication", "rule"),
    [("insulin", "diabetes"), ("Metformin", "diabetes"), ("tamoxifen", "cancer")],
)
def test_a_medication_taken_for_an_excluding_condition_reveals_it(
    data: Dataset, medication: str, rule: str
) -> None:
    assert rules(run(data, medications=[medication])) == [rule]


@pytest.mark.parametrize("typed", ["eczema", "herpes zoster", "Shingles"])
def test_skin_disease_defers_until_it_resolves(data: Dataset, typed: str) -> None:
    open_ended = run(data, conditions=[typed])
    assert rules(open_ended) == ["skin-disease-at-site"]
    assert open_ended.verdict is Verdict.DEFERRED
    assert open_ended.earliest_start is None  # no end known
    assert open_ended.findings[0].until is None

    dated = run(data, conditions=[{"name": typed, "resolved_on": "2026-12-10"}])
    assert dated.verdict is Verdict.DEFERRED
    assert dated.earliest_start == date(2026, 12, 10)
    assert dated.findings[0].until == date(2026, 12, 10)


def test_resolved_on_is_the_first_day_the_condition_no_longer_applies(data: Dataset) -> None:
    entry = {"name": "herpes zoster", "resolved_on": "2026-11-23"}
    assert run(data, conditions=[entry], on=date(2026, 11, 22)).verdict is Verdict.DEFERRED
    on_the_day = run(data, conditions=[entry], on=date(2026, 11, 23))
    assert on_the_day.verdict is Verdict.ELIGIBLE
    assert "herpes zoster: resolved on 2026-11-23, not counted" in texts(on_the_day.assumed)
    # A planned start on the day: the deferral still runs on the reference date, so it is
    # reported, and it ends on the start itself.
    started = run(data, conditions=[entry], on=date(2026, 11, 1), start=date(2026, 11, 23))
    assert started.verdict is Verdict.DEFERRED
    assert started.earliest_start == date(2026, 11, 23)


def test_a_later_start_keeps_a_deferral_running_now_in_view(data: Dataset) -> None:
    # Ibuprofen taken now ends its washout on 29 November, before the start on 14 December:
    # the patient may be treated on the start, not before, and the reason stays visible.
    s = run(data, "hair", medications=["ibuprofen"], start=date(2026, 12, 14))
    assert s.verdict is Verdict.DEFERRED
    assert s.earliest_start == date(2026, 11, 29)
    assert only(s, "nsaid-washout").until == date(2026, 11, 29)
    assert s.evaluated_on == date(2026, 12, 14)


def test_a_start_after_an_18th_birthday_is_the_earliest_day_known_safe(data: Dataset) -> None:
    minor = {"birth_date": "2008-12-01"}
    assert run(data, "hair", **minor).verdict is Verdict.NOT_ELIGIBLE
    s = run(data, "hair", start=date(2026, 12, 5), **minor)
    assert s.verdict is Verdict.ELIGIBLE
    assert s.findings == []
    assert s.earliest_start == date(2026, 12, 5)  # not the reference date: 17 then
    assert (
        "age-under-18 applies on the reference date 2026-11-22, not on the start 2026-12-05: "
        "the start is the earliest day checked"
    ) in texts(s.assumed)


def test_an_allergy_without_a_protocol_cannot_be_cleared_away(data: Dataset) -> None:
    # No protocol, no label to check: the review stands until a protocol is chosen.
    s = run(data, allergies=["lidocaine"], clear=["ingredient-allergy"])
    assert only(s, "ingredient-allergy").cleared is False
    assert s.verdict is Verdict.REVIEW


def test_a_resolved_excluding_condition_no_longer_excludes(data: Dataset) -> None:
    past = {"name": "hepatitis", "resolved_on": "2020-01-01"}
    assert run(data, conditions=[past]).verdict is Verdict.ELIGIBLE


def test_acute_infection_by_name_defers_until_resolved(data: Dataset) -> None:
    s = run(data, conditions=[{"name": "influenza", "resolved_on": "2026-11-30"}])
    assert rules(s) == ["acute-infection"]
    assert s.earliest_start == date(2026, 11, 30)


# --- medications ---------------------------------------------------------------------------


def test_nsaid_washout_is_complete_on_day_7(data: Dataset) -> None:
    meds = [{"name": "ibuprofen", "last_dose": "2026-11-20"}]
    day6 = run(data, medications=meds, on=date(2026, 11, 26))
    assert rules(day6) == ["nsaid-washout"]
    assert day6.verdict is Verdict.DEFERRED
    assert day6.earliest_start == date(2026, 11, 27)
    assert day6.findings[0].until == date(2026, 11, 27)
    assert "2026-11-20" in day6.findings[0].detail
    assert "2026-11-27" in day6.findings[0].detail
    day7 = run(data, medications=meds, on=date(2026, 11, 27))
    assert day7.verdict is Verdict.ELIGIBLE
    assert day7.findings == []


def test_nsaid_without_last_dose_is_taken_now_so_the_wait_runs_from_the_reference_date(
    data: Dataset,
) -> None:
    s = run(data, medications=["Advil"])
    assert rules(s) == ["nsaid-washout"]
    assert s.earliest_start == ON + timedelta(days=7)
    assert s.findings[0].matched == "Advil"
    assert "Advil: no last_dose given, taken as being taken now" in texts(s.assumed)


def test_aspirin_is_both_a_blood_thinner_and_an_nsaid(data: Dataset) -> None:
    s = run(data, medications=[{"name": "aspirin", "last_dose": "2026-11-21"}])
    assert rules(s) == ["anticoagulant", "nsaid-washout"]
    assert s.verdict is Verdict.REVIEW
    cleared = run(
        data, medications=[{"name": "aspirin", "last_dose": "2026-11-21"}], clear=["anticoagulant"]
    )
    assert cleared.verdict is Verdict.DEFERRED
    assert cleared.earliest_start == date(2026, 11, 28)


@pytest.mark.parametrize("typed", ["Coumadin", "warfarin", "Eliquis", "heparin", "blood thinner"])
def test_blood_thinner_needs_review_and_never_advises_stopping_it(
    data: Dataset, typed: str
) -> None:
    s = run(data, medications=[typed])
    assert rules(s) == ["anticoagulant"]
    assert s.verdict is Verdict.REVIEW
    assert s.earliest_start == ON
    advice = s.findings[0].advice
    assert "Do not stop" in advice and "prescriber" in advice


def test_coumadin_is_read_as_warfarin(data: Dataset) -> None:
    assert "(warfarin)" in only(run(data, medications=["Coumadin"]), "anticoagulant").detail


def test_cardiac_polypharmacy_needs_a_heart_condition_and_two_medications(
    data: Dataset,
) -> None:
    two = run(data, conditions=["heart failure"], medications=["vitamin D", "levothyroxine"])
    assert rules(two) == ["cardiac-polypharmacy"]
    assert two.verdict is Verdict.NOT_ELIGIBLE
    assert "2 medications" in two.findings[0].detail
    one = run(data, conditions=["heart failure"], medications=["vitamin D"])
    assert one.verdict is Verdict.ELIGIBLE, one.findings
    no_heart = run(data, medications=["vitamin D", "levothyroxine", "biotin"])
    assert no_heart.verdict is Verdict.ELIGIBLE


def test_cardiac_polypharmacy_is_expressed_in_the_data(data: Dataset) -> None:
    rule = data.rule("cardiac-polypharmacy")
    assert rule is not None
    keys = {key for trigger in flat(rule.when) for key in trigger.model_dump(exclude_defaults=True)}
    assert keys == {"conditions", "atc", "medication_count_at_least"}


def test_cardiac_polypharmacy_reports_one_finding_for_several_heart_conditions(
    data: Dataset,
) -> None:
    s = run(data, conditions=["angina", "heart failure"], medications=["biotin", "iron"])
    finding = only(s, "cardiac-polypharmacy")
    assert "angina" in finding.detail and "heart failure" in finding.detail


# --- allergies -----------------------------------------------------------------------------


def test_allergy_to_an_ingredient_of_the_chosen_protocol_excludes(data: Dataset) -> None:
    s = run(data, "hair", allergies=["lidocaine"])
    finding = only(s, "ingredient-allergy")
    assert finding.action is Action.EXCLUDE
    assert finding.matched == "lidocaine"
    assert "lidocaine" in finding.detail
    assert s.verdict is Verdict.NOT_ELIGIBLE


def test_allergy_to_an_ingredient_the_protocol_does_not_list_needs_review(
    data: Dataset,
) -> None:
    # There is no standard formula (000, 002): the clinic's solution may hold it all the same.
    for protocol, allergy in [("no-needle", "lidocaine"), ("hair", "hyaluronic acid")]:
        s = run(data, protocol, allergies=[allergy])
        finding = only(s, "ingredient-allergy")
        assert finding.action is Action.REVIEW
        assert f"not listed for {protocol}" in finding.detail
        assert "check the label of the clinic's solution" in finding.detail
        assert s.verdict is Verdict.REVIEW
        assert s.earliest_start == ON


def test_a_reviewed_allergy_can_be_cleared_but_a_listed_one_never(data: Dataset) -> None:
    s = run(data, "hair", allergies=["hyaluronic acid"], clear=["ingredient-allergy"])
    assert only(s, "ingredient-allergy").cleared is True
    assert s.verdict is Verdict.ELIGIBLE
    assert s.cleared == ["ingredient-allergy"]
    s = run(data, "hair", allergies=["lidocaine"], clear=["ingredient-allergy"])
    assert only(s, "ingredient-allergy").cleared is False
    assert s.verdict is Verdict.NOT_ELIGIBLE


def test_allergy_without_a_protocol_needs_review(data: Dataset) -> None:
    s = run(data, allergies=["lidocaine"])
    finding = only(s, "ingredient-allergy")
    assert finding.action is Action.REVIEW
    assert "--protocol" in finding.detail
    assert s.verdict is Verdict.REVIEW


def test_allergy_to_a_medicine_outside_every_solution_is_known_and_quiet(data: Dataset) -> None:
    assert run(data, "hair", allergies=["penicillin"]).verdict is Verdict.REVIEW  # antibiotics
    assert run(data, "hair", allergies=["aspirin"]).verdict is Verdict.ELIGIBLE


# --- protocols -----------------------------------------------------------------------------


def test_bleeding_rules_do_not_apply_to_no_needle(data: Dataset) -> None:
    meds = ["warfarin", {"name": "ibuprofen", "last_dose": "2026-11-21"}]
    needle = run(data, "hair", medications=meds, conditions=["haemophilia"])
    assert rules(needle) == ["bleeding-disorder", "anticoagulant", "nsaid-washout"]
    assert needle.not_applicable == []
    s = run(data, "no-needle", medications=meds, conditions=["haemophilia"])
    assert s.findings == []
    assert s.verdict is Verdict.ELIGIBLE
    assert s.not_applicable == ["anticoagulant", "bleeding-disorder", "nsaid-washout"]


# --- terms ---------------------------------------------------------------------------------


def test_unknown_term_needs_review_with_suggestions(data: Dataset) -> None:
    s = run(data, medications=["warfarine"])
    finding = only(s, "unrecognized-term")
    assert s.verdict is Verdict.REVIEW
    assert finding.matched == "warfarine"
    assert finding.suggestions[0] == "warfarin"
    assert 1 <= len(finding.suggestions) <= 3
    assert "did you mean warfarin" in finding.detail


@pytest.mark.parametrize(
    ("field", "typed"),
    [("conditions", "diabetis"), ("conditions", "zzqx"), ("allergies", "peanuts")],
)
def test_nothing_unrecognized_is_silently_ignored(data: Dataset, field: str, typed: str) -> None:
    given: dict[str, Any] = {field: [typed]}
    s = run(data, **given)
    assert rules(s) == ["unrecognized-term"]
    assert len(s.findings[0].suggestions) <= 3


def test_an_unknown_word_beside_a_harmless_known_term_needs_review(data: Dataset) -> None:
    # "asthma" alone fires nothing; "lupus" must not hide behind it.
    s = run(data, conditions=["asthma and lupus"])
    assert s.verdict is Verdict.REVIEW
    finding = only(s, "unrecognized-term")
    assert finding.matched == "asthma and lupus"
    assert "'lupus'" in finding.detail


def test_an_unknown_medicine_beside_a_finished_nsaid_needs_review(data: Dataset) -> None:
    s = run(data, medications=[{"name": "ibuprofen and methotrexate", "last_dose": "2026-10-01"}])
    assert rules(s) == ["unrecognized-term"]
    assert s.verdict is Verdict.REVIEW


def test_qualifiers_doses_and_body_sites_beside_a_term_are_not_unknown(data: Dataset) -> None:
    s = run(
        data,
        conditions=["eczema on the scalp", "iron deficiency anaemia, mild"],
        medications=["warfarin 5 mg twice daily"],
    )
    assert sorted(rules(s)) == ["anticoagulant", "skin-disease-at-site"]


def test_unknown_words_beside_an_excluding_term_are_not_listed(data: Dataset) -> None:
    s = run(data, conditions=["history of ductal breast cancer"])
    assert rules(s) == ["cancer"]
    assert s.verdict is Verdict.NOT_ELIGIBLE


@pytest.mark.parametrize(
    "typed", ["asthma, disease of the liver", "gout, kidney disorder", "stress, heart disorder"]
)
def test_organs_and_disease_words_beside_a_harmless_term_are_not_passed_over(
    data: Dataset, typed: str
) -> None:
    s = run(data, conditions=[typed])
    assert s.verdict is not Verdict.ELIGIBLE
    assert rules(s) == ["unrecognized-term"]


def test_two_medicines_in_one_entry_count_as_two_for_a_heart_patient(data: Dataset) -> None:
    s = run(data, conditions=["heart failure"], medications=["levothyroxine and vitamin D"])
    assert rules(s) == ["cardiac-polypharmacy"]
    assert s.verdict is Verdict.NOT_ELIGIBLE
    assert "2 medications" in s.findings[0].detail


@pytest.mark.parametrize(
    "typed", ["bisoprolol and ramipril", "bisoprolol, ramipril", "bisoprolol/ramipril"]
)
def test_two_unknown_medicines_in_one_entry_count_as_two(data: Dataset, typed: str) -> None:
    # Clearing unrecognized-term says the names were checked, not that they are one medicine.
    s = run(data, conditions=["angina"], medications=[typed], clear=["unrecognized-term"])
    assert "cardiac-polypharmacy" in rules(s)
    assert s.verdict is Verdict.NOT_ELIGIBLE


def test_one_medicine_of_several_words_counts_as_one(data: Dataset) -> None:
    s = run(
        data,
        conditions=["angina"],
        medications=["slow release nifedipine"],
        clear=["unrecognized-term"],
    )
    assert "cardiac-polypharmacy" not in rules(s)


def test_an_age_limit_crossed_during_a_deferral_is_reported(data: Dataset) -> None:
    # 75 today, 76 when the washout ends: the first session would be at 76.
    s = run(
        data,
        birth_date="1950-11-26",
        on=date(2026, 11, 23),
        medications=[{"name": "ibuprofen", "last_dose": "2026-11-22"}],
    )
    assert rules(s) == ["nsaid-washout", "age-over-75"]
    assert s.verdict is Verdict.REVIEW
    assert s.earliest_start == date(2026, 11, 29)
    assert only(s, "age-over-75").detail.startswith("on 2026-11-29, when the deferral ends: ")


def test_an_allergy_to_any_supplement_in_the_solution_fires(data: Dataset) -> None:
    supplements = next(t for t in data.terms[TermKind.MEDICATION] if t.id == "supplements")
    for name in supplements.names:
        s = run(data, "hair", allergies=[name])
        assert rules(s) == ["ingredient-allergy"], name
        assert s.verdict is Verdict.NOT_ELIGIBLE, name


def test_misspelled_condition_suggests_the_right_one(data: Dataset) -> None:
    finding = only(run(data, conditions=["diabetis"]), "unrecognized-term")
    assert "diabetes" in finding.suggestions


def test_known_terms_without_a_rule_are_quiet(data: Dataset) -> None:
    s = run(
        data,
        conditions=["thinning hair", "cellulite", "Stretch Marks"],
        medications=["vitamin D", "minoxidil"],
    )
    assert s.verdict is Verdict.ELIGIBLE, s.findings


# --- verdicts, dates and --clear -----------------------------------------------------------


def test_verdict_precedence_is_not_eligible_then_review_then_deferred(data: Dataset) -> None:
    defer = {"name": "ibuprofen", "last_dose": "2026-11-21"}
    assert run(data, medications=[defer]).verdict is Verdict.DEFERRED
    assert run(data, medications=[defer, "warfarin"]).verdict is Verdict.REVIEW
    assert run(data, medications=[defer, "warfarin"], pregnant=True).verdict is (
        Verdict.NOT_ELIGIBLE
    )
    assert verdict_of([]) is Verdict.ELIGIBLE


def test_earliest_start_is_the_latest_deferral_end(data: Dataset) -> None:
    s = run(
        data,
        medications=[{"name": "ibuprofen", "last_dose": "2026-11-20"}],
        conditions=[{"name": "eczema", "resolved_on": "2026-12-03"}],
    )
    assert s.verdict is Verdict.DEFERRED
    assert s.earliest_start == date(2026, 12, 3)


def test_earliest_start_is_null_when_one_deferral_has_no_end(data: Dataset) -> None:
    s = run(data, medications=[{"name": "ibuprofen", "last_dose": "2026-11-20"}], fever=True)
    assert s.verdict is Verdict.DEFERRED
    assert s.earliest_start is None


def test_review_with_a_dated_deferral_still_gives_the_start(data: Dataset) -> None:
    s = run(data, medications=["warfarin", {"name": "naproxen", "last_dose": "2026-11-20"}])
    assert s.verdict is Verdict.REVIEW
    assert s.earliest_start == date(2026, 11, 27)


def test_clearing_a_review_rule_is_recorded_and_no_longer_counts(data: Dataset) -> None:
    s = run(data, medications=["Coumadin"], clear=["anticoagulant"])
    assert s.verdict is Verdict.ELIGIBLE
    assert s.cleared == ["anticoagulant"]
    finding = only(s, "anticoagulant")
    assert finding.cleared is True
    old = run(data, birth_date="1940-01-01", clear=["age-over-75", "age-over-75"])
    assert old.verdict is Verdict.ELIGIBLE
    assert old.cleared == ["age-over-75"]


def test_clearing_one_review_rule_leaves_the_others(data: Dataset) -> None:
    s = run(data, medications=["Coumadin", "warfarine"], clear=["anticoagulant"])
    assert s.verdict is Verdict.REVIEW
    assert only(s, "unrecognized-term").cleared is False


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("pregnancy", "an exclude"),
        ("nsaid-washout", "a defer"),
        ("cancer", "an exclude"),
    ],
)
def test_clearing_an_exclude_or_defer_rule_is_an_error(data: Dataset, rule: str, kind: str) -> None:
    with pytest.raises(MesoError) as info:
        run(data, pregnant=True, clear=[rule])
    assert str(info.value) == (
        f"--clear {rule}: only review findings can be cleared; '{rule}' is {kind} rule"
    )
    assert info.value.exit_code == 2


def test_clearing_an_unknown_rule_is_an_error_with_a_suggestion(data: Dataset) -> None:
    with pytest.raises(UnknownName) as info:
        run(data, clear=["anticoagulants"])
    assert info.value.exit_code == 2
    assert "did you mean 'anticoagulant'" in str(info.value)


def test_screening_is_pure_and_repeatable(data: Dataset) -> None:
    kw: dict[str, Any] = {"medications": ["Coumadin"], "conditions": ["eczema"]}
    assert run(data, **kw) == run(data, **kw)


def test_the_same_name_listed_twice_is_one_finding(data: Dataset) -> None:
    s = run(data, conditions=["eczema", "Eczema "], medications=["warfarin", "warfarin"])
    assert rules(s) == ["anticoagulant", "skin-disease-at-site"]


def test_a_deferral_without_end_says_so_once(data: Dataset) -> None:
    (finding,) = run(data, fever=True).findings
    assert finding.detail == "fever: true, as stated; no end date is known"


def test_clear_takes_rule_ids_in_any_case(data: Dataset) -> None:
    s = run(data, medications=["warfarin"], clear=[" Anticoagulant", "anticoagulant"])
    assert s.verdict is Verdict.ELIGIBLE
    assert s.cleared == ["anticoagulant"]


@pytest.mark.parametrize("typed", ["vitamin D3", "Vitamin C", "multivitamin"])
def test_common_supplements_are_known(data: Dataset, typed: str) -> None:
    assert run(data, medications=[typed]).verdict is Verdict.ELIGIBLE


def test_a_brand_name_allergy_is_read_as_its_ingredient(data: Dataset) -> None:
    finding = only(run(data, "hair", allergies=["Xylocaine"]), "ingredient-allergy")
    assert finding.detail == "allergy to Xylocaine (local anaesthetic), an ingredient of hair"


def test_every_required_rule_can_fire(data: Dataset) -> None:
    from meso_cli.shipped import REQUIRED_RULES

    everything = run(
        data,
        "hair",
        birth_date="2010-01-01",
        pregnant=True,
        breastfeeding=True,
        fever=True,
        conditions=[
            "haemophilia",
            "liver failure",
            "renal failure",
            "breast cancer",
            "type 2 diabetes",
            "atrial fibrillation",
            "eczema",
            "zzqx",
        ],
        medications=["Coumadin", {"name": "ibuprofen", "last_dose": "2026-11-20"}],
        allergies=["lidocaine"],
    )
    old = run(data, birth_date="1940-01-01")
    fired = {f.rule for f in [*everything.findings, *old.findings]}
    assert fired == set(REQUIRED_RULES)
    assert everything.verdict is Verdict.NOT_ELIGIBLE
    assert everything.earliest_start is None


@pytest.mark.parametrize(
    ("condition", "verdict", "rules_fired"),
    [
        # 003 recommends hair mesotherapy for it: hair loss, not pregnancy.
        ("hair loss after pregnancy", Verdict.ELIGIBLE, []),
        ("postnatal hair loss", Verdict.ELIGIBLE, []),
        ("sudden hair loss after childbirth", Verdict.ELIGIBLE, []),
        # Words that may mean something harmless are not read as cancer: a practitioner checks.
        ("malignant hypertension", Verdict.REVIEW, ["unrecognized-term"]),
        ("benign tumour", Verdict.REVIEW, ["unrecognized-term"]),
        ("malignant tumour", Verdict.NOT_ELIGIBLE, ["cancer"]),
    ],
)
def test_phrases_read_as_what_they_mean(
    data: Dataset, condition: str, verdict: Verdict, rules_fired: list[str]
) -> None:

    s = run(data, "hair", conditions=[condition])
    assert (s.verdict, rules(s)) == (verdict, rules_fired)
