"""The patient file as the record: `meso session add` and `meso clear` write to it.

Both edit the practitioner's own file in place (meso_cli.edit): comments, key order and
quoting are kept, the write is atomic, and a file changed on disk since it was read is
refused.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from meso_cli.cli.app import (
    Clear,
    DataDir,
    Json,
    On,
    app,
    complete_review_rules,
    load,
    note,
    out,
    parse_date,
    reference_date,
)
from meso_cli.cli.options import (
    WEEKDAYS,
    Closed,
    Holidays,
    OpenDays,
    PerWeek,
    PlanProtocol,
    ProfileOption,
    Sessions,
    chosen_protocol,
    needed_protocol,
)
from meso_cli.errors import MesoError

if TYPE_CHECKING:
    from meso_cli.edit import Record
    from meso_cli.models import Dataset, Protocol, Screening
    from meso_cli.screening import Screener

PatientFile = Annotated[
    str, typer.Argument(help="The patient file (YAML or JSON) to record in.", show_default=False)
]

session_app = typer.Typer(help="Record the sessions given in the patient file.")
app.add_typer(session_app, name="session")


@session_app.command("add")
def add_session(
    patient: PatientFile,
    day: Annotated[
        str | None,
        typer.Argument(
            metavar="DATE",
            help="The day the session was given, YYYY-MM-DD (default: the reference date).",
            show_default=False,
        ),
    ] = None,
    protocol: PlanProtocol = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Record a session the course does not allow yet (too soon after the last, "
            "the course complete, or the screening against it).",
        ),
    ] = False,
    on: On = None,
    sessions: Sessions = None,
    per_week: PerWeek = None,
    open_days: OpenDays = WEEKDAYS,
    closed: Closed = None,
    holidays: Holidays = None,
    clear: Clear = None,
    json: Json = False,
    data_dir: DataDir = None,
    profile: ProfileOption = None,
) -> None:
    """Record a session given, in the patient file's sessions_done, and show what comes next.

    Refused: a date after the reference date, a date already recorded, and (unless --force)
    a date the course does not allow yet. Then prints the next session's date and the rest
    of the course, planned as `meso plan` plans it.

    Examples:

    \b
      meso session add patient.yaml
      meso session add patient.yaml 2026-12-04 -p hair
      meso session add patient.yaml --on 2026-12-11 --holidays TR
    """
    from meso_cli.edit import open_record, save, with_session
    from meso_cli.planning import screen_and_plan
    from meso_cli.profile import clinic_calendar, load_profile
    from meso_cli.screening import Screener

    ref = reference_date(on)
    given = parse_date(day, "DATE") if day is not None else ref
    settings = load_profile(profile)
    data = load(data_dir)
    chosen = needed_protocol(data, protocol, settings)
    clinic = clinic_calendar(settings, open_days=open_days, closed=closed, holidays=holidays)
    record = open_record(patient, on=ref)
    done = record.patient.sessions_done
    if given > ref:
        raise MesoError(
            f"{given} is after the reference date {ref}: record a session once it is given "
            "(or give --on)"
        )
    if given in done:
        raise MesoError(f"{patient}: a session on {given} is already recorded")
    screener = Screener(data)
    why = _not_allowed(record, chosen, screener, given, ref, clear, sessions, per_week)
    if why is not None and not force:
        raise MesoError(f"{why}; add --force to record it all the same")
    updated = record.patient.model_copy(update={"sessions_done": sorted([*done, given])})
    changed = save(record, with_session(record, given), updated, on=ref)
    number = updated.sessions_done.index(given) + 1
    _say(f"meso: recorded session {number} on {given} in {patient}")
    if why is not None:
        _say(f"meso: note: recorded with --force: {why}")
    _relaid(patient, changed)
    plan = screen_and_plan(
        updated,
        chosen,
        screener,
        clinic,
        on=ref,
        clear=clear or [],
        sessions=sessions,
        per_week=per_week,
    )
    if json:
        from meso_cli.render.json import to_json

        out(to_json(plan))
        return
    from meso_cli.cli.app import show
    from meso_cli.render.plan import brief_view

    coming = [s for s in plan.sessions if not s.done]
    if coming:
        out(f"Next: session {coming[0].number} on {coming[0].date:%a} {coming[0].date}\n")
    show(brief_view(plan))


def _not_allowed(
    record: Record,
    protocol: Protocol,
    screener: Screener,
    given: date,
    ref: date,
    clear: list[str] | None,
    sessions: int | None,
    per_week: int | None,
) -> str | None:
    """Why the course does not allow a session on `given` yet, or None."""
    from meso_cli.planning import course_slots, may_start, why_no_plan

    done = record.patient.sessions_done
    slots = course_slots(protocol, sessions=sessions, per_week=per_week)
    before = [d for d in done if d < given]
    after = [d for d in done if d > given]
    if len(done) >= len(slots):
        return f"the {protocol.id} course of {len(slots)} sessions is complete"
    if before:
        slot = slots[len(before)]
        gap = (given - before[-1]).days
        if gap < slot.bounds.min:
            return (
                f"{given} is {gap} days after the session of {before[-1]}; phase {slot.label} "
                f"allows the next one from {slot.bounds.min} days"
            )
    if after and len(before) + 1 < len(slots):
        slot = slots[len(before) + 1]
        gap = (after[0] - given).days
        if gap < slot.bounds.min:
            return (
                f"{given} is {gap} days before the session of {after[0]}; phase {slot.label} "
                f"keeps sessions at least {slot.bounds.min} days apart"
            )
    result = screener.screen(record.patient, protocol, on=ref, start=given, clear=clear or [])
    if not may_start(result, given):
        return f"the screening on {given} does not allow it ({why_no_plan(result).text})"
    return None


# --- clearances -------------------------------------------------------------------------------


@app.command("clear")
def clear_rule(
    patient: PatientFile,
    rule: Annotated[
        str,
        typer.Argument(
            help="The review rule assessed (see `meso rules`).",
            show_default=False,
            autocompletion=complete_review_rules,
        ),
    ],
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            show_default=False,
            help="Who assessed it (default: the profile's practitioner).",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", show_default=False, help="Why it may go ahead (required)."),
    ] = None,
    matched: Annotated[
        str | None,
        typer.Option(
            "--matched",
            show_default=False,
            help="Clear only the finding for this entry (a medicine, a condition, an allergy).",
        ),
    ] = None,
    protocol: PlanProtocol = None,
    on: On = None,
    json: Json = False,
    data_dir: DataDir = None,
    profile: ProfileOption = None,
) -> None:
    """Record in the patient file that a practitioner assessed and cleared a review.

    Later runs honour it without --clear, for the entry it names only: a medicine added
    later fires the rule again. An exclude or defer rule cannot be cleared. Prints the
    screening with the clearance.

    Examples:

    \b
      meso clear patient.yaml anticoagulant --by "Dr. Ada Yilmaz" --reason "prescriber agrees"
      meso clear patient.yaml unrecognized-term --matched "lupus" --reason "in remission" -p hair
    """
    from meso_cli.edit import open_record, save, with_clearances
    from meso_cli.models import Clearance
    from meso_cli.profile import load_profile
    from meso_cli.screening import Screener

    ref = reference_date(on)
    settings = load_profile(profile)
    who = by if by is not None else settings.profile.clinic.practitioner
    if who is None or not who.strip():
        raise MesoError("give --by NAME (or the practitioner's name in the clinic profile)")
    if reason is None or not reason.strip():
        raise MesoError("give --reason: why the review may go ahead")
    data = load(data_dir)
    chosen = chosen_protocol(data, protocol, settings)
    found = _rule_to_clear(data, rule)
    record = open_record(patient, on=ref)
    screener = Screener(data)
    now = screener.screen(record.patient, chosen, on=ref, clear=[found])
    entries = _to_clear(now, found, matched, chosen)
    try:
        cleared = [
            Clearance(rule=found, matched=m, by=who.strip(), on=ref, reason=reason.strip())
            for m in entries
        ]
    except ValueError as exc:  # pydantic's ValidationError: a name or reason refused
        from pydantic import ValidationError

        if not isinstance(exc, ValidationError):
            raise
        from meso_cli.models import first_error

        raise MesoError(f"meso clear: {first_error(exc)}") from None
    updated = record.patient.model_copy(
        update={"clearances": [*record.patient.clearances, *cleared]}
    )
    changed = save(record, with_clearances(record, cleared), updated, on=ref)
    for c in cleared:
        what = f" for {c.matched!r}" if c.matched else ""
        _say(f"meso: recorded in {patient}: {c.rule}{what} cleared by {c.by} on {c.on}")
    _relaid(patient, changed)
    result = screener.screen(updated, chosen, on=ref)
    if json:
        from meso_cli.render.json import to_json

        out(to_json(result))
        return
    from meso_cli.cli.app import show
    from meso_cli.render.human import screening_view

    show(screening_view(result, titles=screener.data.sources))


def _rule_to_clear(data: Dataset, rule_id: str) -> str:
    from meso_cli.errors import unknown
    from meso_cli.models import Action
    from meso_cli.screening import clearable

    wanted = rule_id.strip().lower()
    rule = data.rule(wanted)
    if rule is None:
        raise unknown("rule", rule_id, (r.id for r in data.rules))
    if not clearable(rule):
        article = "an" if rule.action is Action.EXCLUDE else "a"
        raise MesoError(
            f"{wanted} is {article} {rule.action.value} rule: only review findings can be cleared"
        )
    return wanted


def _to_clear(
    screening: Screening, rule: str, matched: str | None, protocol: Protocol | None
) -> list[str | None]:
    """The entries of the review findings of `rule` that a clearance would clear now."""
    from meso_cli.matching import tokens
    from meso_cli.models import Action

    def key(text: str | None) -> str:
        return " ".join(tokens(text or ""))

    reviews = [f for f in screening.findings if f.rule == rule and f.action is Action.REVIEW]
    if matched is not None:
        reviews = [f for f in reviews if key(f.matched) == key(matched)]
    recorded = [f for f in reviews if f.clearance is not None]
    open_ = [f for f in reviews if f.clearance is None and f.cleared]
    final = [f for f in reviews if not f.cleared]
    if open_:
        return list(dict.fromkeys(f.matched for f in open_))
    if final and protocol is None:
        raise MesoError(
            f"{rule}: the allergy can only be checked against a protocol's solution; give "
            "--protocol"
        )
    if recorded:
        c = recorded[0].clearance
        assert c is not None
        raise MesoError(f"{rule} is already cleared: by {c.by} on {c.on} ({c.reason})")
    entry = f" for {matched!r}" if matched is not None else ""
    raise MesoError(
        f"no review finding of {rule}{entry} for this patient on {screening.reference_date}; "
        "nothing to clear"
    )


def _say(text: str) -> None:
    note(text.removeprefix("meso: "))  # through the sanitizer: it names files and entries


def _relaid(path: str, changed: list[int]) -> None:
    if changed:
        which = "line" if len(changed) == 1 else "lines"
        numbers = ", ".join(str(n) for n in changed)
        _say(f"meso: note: {which} {numbers} of {path} re-laid out by the YAML writer")
