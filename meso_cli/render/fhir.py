"""A plan as a FHIR R4 Bundle: a CarePlan (one activity per session, the aftercare in `note`)
and a DetectedIssue per finding, which the CarePlan references; and a screening as a CDS Hooks
`cards` response. Both say which version of the tool and of the data made them.

The Bundle is checked with fhir.resources' R4B models before it is written (imported here,
only for this output), and its code values against the value sets those models carry, which
fhir.resources itself does not enforce.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from meso_cli.fhir_in import MESO_CODES, MESO_SESSION
from meso_cli.models import Action, Dataset, Finding, Plan, Protocol, Screening

MESO_RULES = "urn:meso:rules"  # the rule ids, as codes
MESO_VERSIONS = "urn:meso:versions"  # tags: which tool and data made an output
_NAMESPACE = uuid.UUID("0f4d8a5e-6a1c-5b7e-9d2f-6d65736f0001")  # meso's, for uuid5

SEVERITY = {Action.EXCLUDE: "high", Action.REVIEW: "moderate", Action.DEFER: "low"}
INDICATOR = {Action.EXCLUDE: "critical", Action.REVIEW: "warning", Action.DEFER: "warning"}
SUMMARY_MAX = 139  # CDS Hooks: a "<140-character summary"


def stable_uuid(*parts: Any) -> str:
    """A UUID that is the same for the same content (uuid5 over its canonical JSON)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return str(uuid.uuid5(_NAMESPACE, text))


def _tags(screening: Screening) -> list[dict[str, str]]:
    return [
        {"system": MESO_VERSIONS, "code": f"meso-{screening.meso_version}", "display": "tool"},
        {"system": MESO_VERSIONS, "code": f"data-{screening.data_version}", "display": "data"},
    ]


def _subject(screening: Screening) -> dict[str, Any]:
    if screening.patient_id is not None:
        return {"identifier": {"value": screening.patient_id}}
    return {"display": "the patient screened (no id given)"}


# --- FHIR R4 Bundle ----------------------------------------------------------------------------


def plan_bundle(plan: Plan, protocol: Protocol) -> dict[str, Any]:
    """The plan as a FHIR R4 collection Bundle (a JSON value), checked with fhir.resources."""
    screening = plan.screening
    key = (
        screening.patient_id,
        plan.protocol,
        str(screening.reference_date),
        screening.data_version,
    )
    issues = [
        (
            f"urn:uuid:{stable_uuid('issue', key, n, f.model_dump(mode='json'))}",
            _issue(f, screening),
        )
        for n, f in enumerate(screening.findings)
    ]
    care_plan = _care_plan(plan, protocol, [url for url, _ in issues])
    entries = [
        {
            "fullUrl": f"urn:uuid:{stable_uuid('careplan', key, plan.model_dump(mode='json'))}",
            "resource": care_plan,
        },
        *({"fullUrl": url, "resource": issue} for url, issue in issues),
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": stable_uuid("bundle", key, plan.model_dump(mode="json")),
        "meta": {"tag": _tags(screening)},
        "type": "collection",
        "entry": entries,
    }
    check_bundle(bundle)
    return bundle


def _care_plan(plan: Plan, protocol: Protocol, issues: list[str]) -> dict[str, Any]:
    screening = plan.screening
    total = len(plan.sessions)
    activities = []
    for s in plan.sessions:
        description = f"Session {s.number} of {total}, {s.phase} phase"
        if s.note:
            description += f" ({s.note})"
        activities.append(
            {
                "detail": {
                    "kind": "ServiceRequest",
                    "code": {
                        "coding": [
                            {
                                "system": MESO_CODES,
                                "code": MESO_SESSION,
                                "display": "Mesotherapy session",
                            }
                        ],
                        "text": f"{protocol.name}: mesotherapy session {s.number}",
                    },
                    "status": "completed" if s.done else "scheduled",
                    "scheduledPeriod": {"start": s.date.isoformat(), "end": s.date.isoformat()},
                    "description": description,
                }
            }
        )
    notes = [{"text": line} for line in plan.aftercare]
    notes += [{"text": f"Warning ({w.code.value}): {w.text}"} for w in plan.warnings]
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "meta": {"tag": _tags(screening)},
        "status": "draft",  # a proposal for the practitioner, not yet acted upon
        "intent": "proposal",
        "title": f"Mesotherapy: {protocol.name}",
        "description": f"Verdict {screening.verdict.value}; protocol {plan.protocol}; "
        f"reference date {screening.reference_date}.",
        "subject": _subject(screening),
    }
    if plan.sessions:
        resource["period"] = {
            "start": plan.sessions[0].date.isoformat(),
            "end": plan.sessions[-1].date.isoformat(),
        }
    if issues:
        resource["supportingInfo"] = [{"reference": url} for url in issues]
    if activities:
        resource["activity"] = activities
    if notes:
        resource["note"] = notes
    return resource


def _issue(finding: Finding, screening: Screening) -> dict[str, Any]:
    evidence: dict[str, Any] = {"detail": [{"display": source} for source in finding.sources]}
    if finding.matched is not None:
        evidence["code"] = [{"text": finding.matched}]
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "meta": {"tag": _tags(screening)},
        "status": "final",
        "code": {
            "coding": [{"system": MESO_RULES, "code": finding.rule, "display": finding.title}],
            "text": finding.title,
        },
        "severity": SEVERITY[finding.action],
        "patient": _subject(screening),
        "identifiedDateTime": screening.evaluated_on.isoformat(),
        "detail": finding.detail,
        "evidence": [evidence],
    }
    if finding.cleared:
        issue["mitigation"] = [{"action": {"text": "Cleared by the practitioner (--clear)"}}]
    return issue


# The coded elements this Bundle writes, with the fhir.resources model and field whose
# `enum_values` hold the value set: fhir.resources does not enforce them (it accepts
# severity "critical"), so each value is checked here.
def check_bundle(bundle: dict[str, Any]) -> None:
    """Validate the Bundle with fhir.resources' R4B models and check its code values; a
    failure is a bug in this module (an internal error), never the user's."""
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.careplan import CarePlan, CarePlanActivityDetail
    from fhir.resources.R4B.detectedissue import DetectedIssue

    Bundle.model_validate(bundle)

    def allowed(model: Any, name: str, value: Any) -> None:
        extra = model.model_fields[name].json_schema_extra or {}
        values = extra.get("enum_values")
        if values and "+" not in values and value not in values:
            raise ValueError(f"{model.__name__}.{name}: {value!r} not in {values}")

    allowed(Bundle, "type", bundle["type"])
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "CarePlan":
            allowed(CarePlan, "status", resource["status"])
            allowed(CarePlan, "intent", resource["intent"])
            for activity in resource.get("activity", []):
                allowed(CarePlanActivityDetail, "status", activity["detail"]["status"])
                allowed(CarePlanActivityDetail, "kind", activity["detail"]["kind"])
        else:
            allowed(DetectedIssue, "status", resource["status"])
            allowed(DetectedIssue, "severity", resource["severity"])


def plan_to_fhir(plan: Plan, protocol: Protocol) -> str:
    return json.dumps(plan_bundle(plan, protocol), indent=2, ensure_ascii=False) + "\n"


# --- CDS Hooks cards -----------------------------------------------------------------------------


def _summary(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _label(finding: Finding, data: Dataset | None) -> str:
    """The card's source: the source articles the rule cites, by their titles."""
    titles = []
    for source in finding.sources:
        title = data.sources.get(source) if data is not None else None
        titles.append(f"{source[:3]} {title}" if title else source)
    return "meso, after " + "; ".join(titles)


def screening_cards(screening: Screening, data: Dataset | None = None) -> dict[str, Any]:
    """The screening as a CDS Hooks response: a card per finding (critical for an exclusion,
    warning for a review or a deferral, info once cleared), an info card when eligible, and an
    info card listing what was assumed."""
    key = (
        screening.patient_id,
        screening.protocol,
        str(screening.reference_date),
        screening.data_version,
    )
    cards = []
    for finding in screening.findings:
        word = finding.action.value
        indicator = "info" if finding.cleared else INDICATOR[finding.action]
        said = f" — {finding.matched}" if finding.matched else ""
        state = " (cleared)" if finding.cleared else ""
        detail = f"{finding.detail}\n\n{finding.advice}\n\nRule `{finding.rule}`{state}; sources: "
        detail += ", ".join(finding.sources) + "."
        if finding.until is not None:
            detail += f" Until {finding.until}."
        cards.append(
            {
                "uuid": stable_uuid("card", key, finding.model_dump(mode="json")),
                "summary": _summary(f"{word.capitalize()}{state}: {finding.title}{said}"),
                "indicator": indicator,
                "detail": detail,
                "source": {
                    "label": _label(finding, data),
                    "topic": {"system": MESO_RULES, "code": finding.rule, "display": finding.title},
                },
            }
        )
    if not screening.findings:
        when = f" from {screening.earliest_start}" if screening.earliest_start else ""
        what = f" for {screening.protocol}" if screening.protocol else ""
        cards.append(
            {
                "uuid": stable_uuid("eligible", key),
                "summary": _summary(f"Eligible{what}{when}: no contraindication found"),
                "indicator": "info",
                "detail": "No rule fired for this patient.",
                "source": {"label": "meso"},
            }
        )
    if screening.assumed:
        lines = "\n".join(f"- {n.text}" for n in screening.assumed)
        cards.append(
            {
                "uuid": stable_uuid(
                    "assumed", key, [n.model_dump(mode="json") for n in screening.assumed]
                ),
                "summary": _summary(
                    f"{len(screening.assumed)} "
                    + (
                        "fact assumed: confirm it"
                        if len(screening.assumed) == 1
                        else "facts assumed: confirm them"
                    )
                    + " with the patient"
                ),
                "indicator": "info",
                "detail": lines,
                "source": {"label": "meso"},
            }
        )
    return {
        "cards": cards,
        "extension": {
            "meso": {
                "verdict": screening.verdict.value,
                "earliest_start": str(screening.earliest_start)
                if screening.earliest_start
                else None,
                "meso_version": screening.meso_version,
                "data_version": screening.data_version,
                "schema_version": screening.schema_version,
            }
        },
    }


def screening_to_cds(screening: Screening, data: Dataset | None = None) -> str:
    return json.dumps(screening_cards(screening, data), indent=2, ensure_ascii=False) + "\n"
