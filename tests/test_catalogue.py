"""The handout's catalogue: every string in every language, every data id with patient text."""

from __future__ import annotations

import string
from datetime import date

import pytest

from meso_cli.models import Dataset, Patient
from meso_cli.render.catalogue import CATALOGUES, EN, Lang


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_every_string_with_the_same_placeholders() -> None:
    assert set(CATALOGUES) == set(Lang)
    for lang, catalogue in CATALOGUES.items():
        missing = sorted(set(EN) - set(catalogue))
        extra = sorted(set(catalogue) - set(EN))
        assert not missing, f"{lang}: no text for {missing}"
        assert not extra, f"{lang}: {extra} is in no other language"
        for key, text in catalogue.items():
            assert text.strip(), f"{lang}: {key} is empty"
            assert _fields(text) == _fields(EN[key]), f"{lang}: {key} placeholders differ"


def test_the_turkish_is_written_not_copied() -> None:
    same = sorted(k for k, text in CATALOGUES[Lang.TR].items() if text == EN[k])
    assert same == ["col.number"], same  # "No." reads the same in both


def _care_ids(data: Dataset) -> set[str]:
    items = [*data.common_precare, *data.common_aftercare]
    for p in data.protocols:
        items += [*p.precare, *p.aftercare]
    return {c.id for c in items}


@pytest.mark.parametrize("lang", list(Lang))
def test_every_care_item_protocol_and_phase_of_the_data_has_patient_text(
    data: Dataset, lang: Lang
) -> None:
    catalogue = CATALOGUES[lang]
    wanted = {f"care.{i}" for i in _care_ids(data)}
    wanted |= {f"protocol.{p.id}" for p in data.protocols}
    wanted |= {f"results.{p.id}" for p in data.protocols}
    wanted |= {f"phase.{ph.id}" for p in data.protocols for ph in p.phases}
    assert sorted(wanted - set(catalogue)) == []


@pytest.mark.parametrize("lang", list(Lang))
def test_every_protocol_s_handout_is_built_from_the_catalogue_alone(
    data: Dataset, lang: Lang
) -> None:
    from meso_cli.clinic import Clinic
    from meso_cli.planning import screen_and_plan
    from meso_cli.render.handout import build, to_html, to_markdown
    from meso_cli.screening import Screener

    patient = Patient.model_validate(
        {"age": 40, "sex": "female", "pregnant": False, "breastfeeding": False}
    )
    for protocol in data.protocols:
        plan = screen_and_plan(patient, protocol, Screener(data), Clinic(), on=date(2026, 11, 22))
        page = build(plan, patient, protocol, data, lang=lang, clinic_phone="+90 212 555 0101")
        assert page.untranslated == [], protocol.id
        text = to_markdown(page) + to_html(page)
        assert "{" not in text.split("<style>")[0] and "}" not in to_markdown(page)
        # The practitioners' prose, with its citations, never reaches the patient.
        assert "(001)" not in text and "NSAIDs" not in text


def test_no_painkiller_text_names_aspirin() -> None:
    # Aspirin may be a blood thinner a doctor prescribed: the handout never tells anyone to
    # stop it, and says a blood thinner is only stopped by the doctor who prescribed it.
    for catalogue in CATALOGUES.values():
        for key, text in catalogue.items():
            assert "aspirin" not in text.lower(), key
    assert "never stop it without asking that doctor" in EN["care.stop-nsaids"]
    assert "o doktora sormadan" in CATALOGUES[Lang.TR]["care.stop-nsaids"]
