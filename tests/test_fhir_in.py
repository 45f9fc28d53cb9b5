"""FHIR R4 Bundles in, through the command line: each resource type and status the reader
takes, what it ignores and says so, and malformed Bundles (exit 2 with the JSON path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from meso_cli.cli import app

ON = "2026-11-22"
ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
PATIENT_URL = "urn:uuid:00000000-0000-4000-8000-000000000001"
ME = {"reference": PATIENT_URL}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ATC = "http://www.whocc.no/atc"
LOINC = "http://loinc.org"


def meso(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, env={"NO_COLOR": "1", "COLUMNS": "80"})


def bundle(*resources: dict[str, Any], patient: dict[str, Any] | None = None) -> dict[str, Any]:
    person = patient or {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"value": "F-1"}],
        "gender": "female",
        "birthDate": "1980-05-02",
    }
    entries = [{"fullUrl": PATIENT_URL, "resource": person}]
    entries += [{"resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def status(observed: str, answer: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": observed}]},
        "subject": ME,
        "effectiveDateTime": "2026-11-20",
        "valueCodeableConcept": {"coding": [{"system": LOINC, "code": answer}]},
    }


NOT_PREGNANT = status("82810-3", "LA26683-5")
NOT_BREASTFEEDING = status("63895-7", "LA29253-4")


def condition(text: str | None, *codings: dict[str, str], **extra: Any) -> dict[str, Any]:
    code: dict[str, Any] = {"coding": list(codings)} if codings else {}
    if text is not None:
        code["text"] = text
    return {"resourceType": "Condition", "subject": ME, "code": code, **extra}


def medication(text: str, status: str, *codings: dict[str, str], **extra: Any) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if codings:
        concept["coding"] = list(codings)
    return {
        "resourceType": "MedicationStatement",
        "status": status,
        "subject": ME,
        "medicationCodeableConcept": concept,
        **extra,
    }


def screen(tmp_path: Path, document: dict[str, Any], *extra: str, code: int) -> dict[str, Any]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    result = meso("screen", str(path), "--on", ON, "--json", *extra)
    assert result.exit_code == code, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, dict)
    return out


def rules_of(out: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in out["findings"]]


def assumed(out: dict[str, Any]) -> list[tuple[str, str]]:
    return [(n["code"], n["text"]) for n in out["assumed"]]


# --- acceptance: the example patient ---------------------------------------------------------


def test_the_example_bundle_plans_like_the_example_yaml() -> None:
    plans = {}
    for name in ("patient.yaml", "patient.fhir.json"):
        result = meso("plan", str(ROOT / "examples" / name), "-p", "hair", "--on", ON, "--json")
        assert result.exit_code == 0, result.output
        plans[name] = json.loads(result.stdout)
    yaml_plan, fhir_plan = plans["patient.yaml"], plans["patient.fhir.json"]
    for key in ("verdict", "earliest_start", "patient_id", "evaluated_on"):
        assert fhir_plan["screening"][key] == yaml_plan["screening"][key], key
    assert rules_of(fhir_plan["screening"]) == rules_of(yaml_plan["screening"])
    assert fhir_plan["sessions"] == yaml_plan["sessions"]
    assert fhir_plan["key_dates"] == yaml_plan["key_dates"]
    assert fhir_plan["start_moved_from"] == yaml_plan["start_moved_from"]
    notes = assumed(fhir_plan["screening"])
    assert ("not-read", "1 Immunization not read") in notes


def test_the_example_bundle_in_from_stdin() -> None:
    text = (ROOT / "examples" / "patient.fhir.json").read_text(encoding="utf-8")
    result = meso("screen", "-", "-p", "hair", "--on", ON, "--json", input=text)
    assert result.exit_code == 4, result.output
    assert json.loads(result.stdout)["earliest_start"] == "2026-11-27"


# --- Patient -----------------------------------------------------------------------------------


def test_patient_birth_date_gender_and_identifier(tmp_path: Path) -> None:
    out = screen(tmp_path, bundle(NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    assert out["patient_id"] == "F-1"
    assert out["verdict"] == "eligible"


def test_a_minor_by_birth_date_is_excluded(tmp_path: Path) -> None:
    young = {"resourceType": "Patient", "gender": "male", "birthDate": "2010-01-01"}
    out = screen(tmp_path, bundle(patient=young), code=5)
    assert rules_of(out) == ["age-under-18"]


# --- Condition -------------------------------------------------------------------------------


def test_condition_by_its_codings(tmp_path: Path) -> None:
    diabetic = condition(
        "Type 2 DM",
        {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.65"},
        {"system": "http://example.org/local", "code": "DM2"},
    )
    out = screen(tmp_path, bundle(diabetic, NOT_PREGNANT, NOT_BREASTFEEDING), code=5)
    assert rules_of(out) == ["diabetes"]
    assert "ICD-10-CM E11.65" in out["findings"][0]["detail"]


def test_condition_by_text_alone(tmp_path: Path) -> None:
    out = screen(tmp_path, bundle(condition("herpes zoster"), NOT_PREGNANT), code=4)
    assert rules_of(out) == ["skin-disease-at-site"]


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_condition_is_ignored_and_said_so(tmp_path: Path, verification: str) -> None:
    cancer = condition(
        "breast cancer",
        verificationStatus={"coding": [{"system": VERIFICATION, "code": verification}]},
    )
    out = screen(tmp_path, bundle(cancer, NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    assert out["findings"] == []
    assert ("record-ignored", f"condition breast cancer: {verification}, not read") in assumed(out)


def test_an_unconfirmed_condition_counts_and_is_said(tmp_path: Path) -> None:
    cancer = condition(
        "breast cancer",
        verificationStatus={"coding": [{"system": VERIFICATION, "code": "provisional"}]},
    )
    out = screen(tmp_path, bundle(cancer), code=5)
    assert rules_of(out) == ["cancer"]
    assert ("read-as", "condition breast cancer: provisional, read as present") in assumed(out)


def test_abatement_date_time_is_resolved_on(tmp_path: Path) -> None:
    zoster = condition(
        "shingles",
        clinicalStatus={"coding": [{"system": CLINICAL, "code": "active"}]},
        abatementDateTime="2026-12-01T10:00:00+01:00",
    )
    out = screen(tmp_path, bundle(zoster, NOT_PREGNANT, NOT_BREASTFEEDING), code=4)
    assert out["earliest_start"] == "2026-12-01"
    healed = condition(
        "eczema",
        clinicalStatus={"coding": [{"system": CLINICAL, "code": "resolved"}]},
        abatementDateTime="2026-10-01",
    )
    out = screen(tmp_path, bundle(healed, NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    assert ("resolved", "eczema: resolved on 2026-10-01, not counted") in assumed(out)


def test_resolved_with_no_date_is_resolved_by_the_reference_date(tmp_path: Path) -> None:
    eczema = condition(
        "eczema", clinicalStatus={"coding": [{"system": CLINICAL, "code": "resolved"}]}
    )
    out = screen(tmp_path, bundle(eczema, NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    assert out["findings"] == []
    texts = [t for _, t in assumed(out)]
    assert (
        "condition eczema: resolved with no date of abatement, read as resolved by " + ON in texts
    )


# --- MedicationStatement, MedicationRequest ---------------------------------------------------


def test_an_atc_code_no_name_lists_fires_its_class_rule(tmp_path: Path) -> None:
    ticlopidine = medication("Ticlid", "active", {"system": ATC, "code": "B01AC05"})
    out = screen(tmp_path, bundle(ticlopidine, NOT_PREGNANT, NOT_BREASTFEEDING), code=3)
    assert rules_of(out) == ["anticoagulant"]
    assert "ATC B01AC05, in B01 antithrombotic agents" in out["findings"][0]["detail"]


def test_an_unknown_code_is_a_review(tmp_path: Path) -> None:
    odd = medication("", "active", {"system": ATC, "code": "V03AB99"})
    del odd["medicationCodeableConcept"]["text"]
    out = screen(tmp_path, bundle(odd, NOT_PREGNANT, NOT_BREASTFEEDING), code=3)
    (finding,) = out["findings"]
    assert finding["rule"] == "unrecognized-term"
    assert finding["matched"] == "ATC V03AB99"
    assert "matches no known code" in finding["detail"]


def test_a_stopped_medication_with_an_end_date_is_its_last_dose(tmp_path: Path) -> None:
    stopped = medication(
        "Advil",
        "stopped",
        {"system": ATC, "code": "M01AE01"},
        effectivePeriod={"start": "2026-11-01", "end": "2026-11-19"},
    )
    out = screen(tmp_path, bundle(stopped, NOT_PREGNANT, NOT_BREASTFEEDING), code=4)
    assert rules_of(out) == ["nsaid-washout"]
    assert out["earliest_start"] == "2026-11-26"


def test_a_completed_medication_by_effective_date_time(tmp_path: Path) -> None:
    done = medication("naproxen", "completed", effectiveDateTime="2026-11-10T08:00:00Z")
    out = screen(tmp_path, bundle(done, NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    assert out["findings"] == []  # the washout ended on 2026-11-17


def test_an_active_medication_is_taken_now(tmp_path: Path) -> None:
    taking = medication("ibuprofen", "active", effectiveDateTime="2026-01-01")
    out = screen(tmp_path, bundle(taking, NOT_PREGNANT, NOT_BREASTFEEDING), code=4)
    assert out["earliest_start"] == "2026-11-29"  # the reference date + 7


def test_stopped_without_a_date_is_taken_now_and_said(tmp_path: Path) -> None:
    out = screen(tmp_path, bundle(medication("ibuprofen", "stopped"), NOT_PREGNANT), code=4)
    assert ("read-as", "medication ibuprofen: stopped with no date, read as taken now") in (
        assumed(out)
    )


@pytest.mark.parametrize("state", ["not-taken", "entered-in-error", "intended"])
def test_a_medication_not_taken_is_ignored_and_said(tmp_path: Path, state: str) -> None:
    out = screen(
        tmp_path, bundle(medication("warfarin", state), NOT_PREGNANT, NOT_BREASTFEEDING), code=0
    )
    assert ("record-ignored", f"medication warfarin: {state}, not read") in assumed(out)


def test_medication_request_active_and_by_reference(tmp_path: Path) -> None:
    drug = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": ATC, "code": "B01AA03"}], "text": "Coumadin 5 mg"},
    }
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": ME,
        "medicationReference": {"reference": "Medication/m1"},
    }
    out = screen(tmp_path, bundle(drug, request, NOT_PREGNANT, NOT_BREASTFEEDING), code=3)
    assert rules_of(out) == ["anticoagulant"]
    assert "not-read" not in [code for code, _ in assumed(out)]  # the Medication was read


def test_medication_request_cancelled_or_proposed_is_ignored(tmp_path: Path) -> None:
    base = {"resourceType": "MedicationRequest", "subject": ME}
    cancelled = {
        **base,
        "status": "cancelled",
        "intent": "order",
        "medicationCodeableConcept": {"text": "warfarin"},
    }
    proposed = {
        **base,
        "status": "active",
        "intent": "proposal",
        "medicationCodeableConcept": {"text": "metformin"},
    }
    out = screen(tmp_path, bundle(cancelled, proposed, NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    notes = [t for _, t in assumed(out)]
    assert "medication warfarin: cancelled, not read" in notes
    assert "medication metformin: a proposal, not a prescription; not read" in notes


# --- AllergyIntolerance ------------------------------------------------------------------------


def test_allergy_code_and_reaction_substance(tmp_path: Path) -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "patient": ME,
        "code": {"text": "local anaesthetics"},
        "reaction": [
            {
                "substance": {"coding": [{"system": ATC, "code": "N01BB02"}], "text": "lidocaine"},
                "manifestation": [{"text": "hives"}],
            }
        ],
    }
    out = screen(tmp_path, bundle(allergy, NOT_PREGNANT, NOT_BREASTFEEDING), "-p", "pain", code=5)
    assert sorted(f["matched"] for f in out["findings"]) == ["lidocaine", "local anaesthetics"]


def test_a_refuted_allergy_is_ignored(tmp_path: Path) -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "patient": ME,
        "code": {"text": "lidocaine"},
        "verificationStatus": {"coding": [{"code": "refuted"}]},
    }
    out = screen(tmp_path, bundle(allergy, NOT_PREGNANT, NOT_BREASTFEEDING), "-p", "pain", code=0)
    assert ("record-ignored", "allergy to lidocaine: refuted, not read") in assumed(out)


# --- Observation: pregnancy and breastfeeding status ------------------------------------------


def test_pregnancy_by_loinc_observation(tmp_path: Path) -> None:
    pregnant = status("82810-3", "LA15173-0")
    out = screen(tmp_path, bundle(pregnant, NOT_BREASTFEEDING), code=5)
    assert rules_of(out) == ["pregnancy"]
    assert out["findings"][0]["matched"] == "pregnant: true"


def test_pregnancy_by_snomed_answer_and_the_latest_observation_wins(tmp_path: Path) -> None:
    earlier = status("82810-3", "LA26683-5")
    earlier["effectiveDateTime"] = "2026-01-01"
    later = status("82810-3", "LA15173-0")
    later["valueCodeableConcept"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
    }
    out = screen(tmp_path, bundle(later, earlier, NOT_BREASTFEEDING), code=5)
    assert rules_of(out) == ["pregnancy"]


def test_breastfeeding_by_loinc_observation(tmp_path: Path) -> None:
    out = screen(tmp_path, bundle(NOT_PREGNANT, status("63895-7", "LA29252-6")), code=5)
    assert rules_of(out) == ["breastfeeding"]


def test_an_unknown_pregnancy_status_is_not_taken_as_no(tmp_path: Path) -> None:
    out = screen(tmp_path, bundle(status("82810-3", "LA4489-6"), NOT_BREASTFEEDING), code=0)
    texts = [t for _, t in assumed(out)]
    assert any("pregnant is not stated, not taken as no" in t for t in texts), texts


def test_other_observations_are_counted_as_not_read(tmp_path: Path) -> None:
    weight = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
        "subject": ME,
    }
    out = screen(tmp_path, bundle(weight, weight, NOT_PREGNANT, NOT_BREASTFEEDING), code=0)
    assert (
        "not-read",
        "2 Observation not read (only pregnancy and breastfeeding status are)",
    ) in assumed(out)


# --- Procedure, Encounter: sessions done -------------------------------------------------------


def test_mesotherapy_procedures_and_encounters_are_sessions_done(tmp_path: Path) -> None:
    coded = {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": ME,
        "code": {"coding": [{"system": "urn:meso:codes", "code": "mesotherapy-session"}]},
        "performedDateTime": "2026-11-03T10:00:00+01:00",
    }
    by_text = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": ME,
        "type": [{"text": "Hair mesotherapy"}],
        "period": {"start": "2026-11-10T10:00:00+01:00"},
    }
    planned = {**by_text, "status": "planned", "period": {"start": "2026-11-24"}}
    other = {**coded, "code": {"text": "dental cleaning"}}
    document = bundle(coded, by_text, planned, other, NOT_PREGNANT, NOT_BREASTFEEDING)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = meso("plan", str(path), "-p", "hair", "--on", "2026-11-16", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    done = [s["date"] for s in plan["sessions"] if s["done"]]
    assert done == ["2026-11-03", "2026-11-10"]
    notes = [t for _, t in assumed(plan["screening"])]
    assert "mesotherapy Encounter: planned, not a session done" in notes
    assert "1 Procedure not read (not a mesotherapy session)" in notes


# --- malformed Bundles ---------------------------------------------------------------------------


def malformed(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    result = meso("screen", str(path), "--on", ON)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_a_field_of_the_wrong_type_names_its_json_path(tmp_path: Path) -> None:
    bad = condition(None)
    bad["code"] = {"text": 42}
    err = malformed(tmp_path, bundle(bad))
    assert "entry[1].resource.code.text" in err
    assert "bundle.json:" in err


def test_a_missing_required_element(tmp_path: Path) -> None:
    bad = medication("warfarin", "active")
    del bad["status"]
    assert "entry[1].resource.status" in malformed(tmp_path, bundle(bad))


def test_a_status_outside_the_value_set(tmp_path: Path) -> None:
    err = malformed(tmp_path, bundle(medication("warfarin", "paused")))
    assert "entry[1].resource.status: 'paused' is not a FHIR R4 MedicationStatement status" in err


def test_a_clinical_status_outside_the_value_set(tmp_path: Path) -> None:
    bad = condition("eczema", clinicalStatus={"coding": [{"system": CLINICAL, "code": "cured"}]})
    assert "entry[1].resource.clinicalStatus.coding[0].code" in malformed(tmp_path, bundle(bad))


def test_a_malformed_code_in_a_coding(tmp_path: Path) -> None:
    bad = condition("x", {"system": "http://hl7.org/fhir/sid/icd-10", "code": "O9A.1"})
    err = malformed(tmp_path, bundle(bad))
    assert "entry[1].resource.code.coding[0]" in err and "ICD-10-CM" in err


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"resourceType": "Patient", "birthDate": "1980-01-01"}, "meso reads a Bundle"),
        ({"resourceType": "Bundle", "type": "collection"}, "no Patient resource"),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient"}}],
            },
            "no birthDate",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "birthDate": "1980"}}],
            },
            "full birth date",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Nonsense"}}],
            },
            "entry[0].resource",
        ),
        ({"resourceType": "Bundle"}, "type"),
    ],
)
def test_malformed_bundles(tmp_path: Path, document: dict[str, Any], message: str) -> None:
    assert message in malformed(tmp_path, document)


def test_a_record_of_another_patient_is_refused(tmp_path: Path) -> None:
    stranger = condition("eczema")
    stranger["subject"] = {"reference": "Patient/someone-else"}
    assert "not to the Bundle's Patient" in malformed(tmp_path, bundle(stranger))


def test_two_patients_are_refused(tmp_path: Path) -> None:
    other = {"resourceType": "Patient", "birthDate": "1990-01-01"}
    assert "a second Patient" in malformed(tmp_path, bundle(other))


def test_a_session_after_the_reference_date_is_refused_at_its_path(tmp_path: Path) -> None:
    later = {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": ME,
        "code": {"text": "mesotherapy"},
        "performedDateTime": "2026-12-01",
    }
    err = malformed(tmp_path, bundle(later))
    assert "entry[1].resource.performedDateTime: 2026-12-01 is after the reference date" in err


# --- batch: one Bundle per line -----------------------------------------------------------------


def test_batch_reads_a_bundle_per_line(tmp_path: Path) -> None:
    example = json.loads((ROOT / "examples" / "patient.fhir.json").read_text(encoding="utf-8"))
    lines = [
        json.dumps(example),
        json.dumps({"id": "Y-1", "age": 40, "medications": ["warfarin"]}),
        json.dumps(bundle(medication("warfarin", "paused"))),
    ]
    result = meso(
        "batch", "-", "-p", "hair", "--on", ON, "--jobs", "1", input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 6, result.output
    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert first["verdict"] == "deferred" and first["earliest_start"] == "2026-11-27"
    assert second["verdict"] == "review"
    assert third["line"] == 3 and "entry[1].resource.status" in third["error"]
