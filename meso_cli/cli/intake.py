"""`meso intake`: a guided questionnaire at the terminal that writes the patient file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import DataDir, On, app, load, out, protocol_named, reference_date
from meso_cli.errors import VERDICT_EXIT, MesoError, close_matches

T = TypeVar("T")


class _Cancelled(Exception):
    pass


def _say(text: str = "") -> None:
    out(text + "\n")


def _read(prompt: str) -> str:
    from meso_cli.errors import is_text
    from meso_cli.models import MAX_NAME  # the longest name or id a patient file may hold
    from meso_cli.text import unsafe_character

    while True:
        try:
            answer = input(prompt)
        except (EOFError, KeyboardInterrupt):
            raise _Cancelled from None
        if not is_text(answer):
            _say(
                "    ! that is not UTF-8 text (is the terminal set to another encoding?); "
                "type it again"
            )
        elif len(answer) > MAX_NAME:
            _say(f"    ! {len(answer)} characters; at most {MAX_NAME}, type it again")
        elif problem := unsafe_character(answer):  # an arrow key where readline is missing
            _say(f"    ! {problem} is not allowed (a special key?); type it again")
        else:
            return answer


def _ask(prompt: str, parse: Callable[[str], T]) -> T:
    """Ask until the answer parses; a bad answer says what to type and asks again."""
    from meso_cli.intake import BadAnswer

    while True:
        try:
            return parse(_read(prompt))
        except BadAnswer as exc:
            _say(f"    ! {exc}")


def _terms(
    heading: str, label: str, vocabulary: Any, then: Callable[[str], Any] = lambda n: n
) -> list[Any]:
    """Names one per line until an empty line; unknown ones get 'did you mean' choices.

    `then` asks the follow-up question about each name (its date) and returns the entry.
    """
    from meso_cli.intake import DONE

    _say(heading)
    names: list[Any] = []
    while True:
        typed = _read(f"  {label}: ")
        if typed.strip().casefold() in DONE:
            return names
        answer = _resolve(typed, label, vocabulary)
        if answer is None:
            _say("    (left out)")
            continue
        read = f"read as {', '.join(answer.read_as)}" if answer.known else "kept, unrecognised"
        _say(f"    + {answer.name} — {read}")
        names.append(then(answer.name))


def _resolve(typed: str, label: str, vocabulary: Any) -> Any:
    """The term as typed, a suggestion picked by number, or a retyped one; None when the
    practitioner leaves it out with `-`. An empty answer asks again: a name once typed is
    never dropped by a stray Enter."""
    from meso_cli.intake import choice, term

    answer = term(typed, vocabulary)
    while not answer.known:
        _say(f"    ? {answer.name!r} is not a known {label}.")
        options = "".join(f"  {i}) {s}" for i, s in enumerate(answer.suggestions, 1))
        if options:
            _say(f"      Did you mean:{options}")
        number = "a number to choose, " if options else ""
        prompt = (
            f"    Type {number}k to keep it as typed (needs review), - to leave it out, "
            "or retype it: "
        )
        again = _read(prompt)
        while not again.strip():
            _say("    ! nothing typed: it is neither kept nor left out until you say which")
            again = _read(prompt)
        if again.strip() == "-":
            return None
        picked = choice(again, answer)
        if picked == answer.name:
            return answer
        answer = term(picked if picked is not None else again, vocabulary)
    return answer


def _protocol(data: Any) -> Any:
    ids = [p.id for p in data.protocols]
    import shutil
    import textwrap

    width = max(20, shutil.get_terminal_size().columns)
    _say(textwrap.fill(f"Protocols: {', '.join(ids)}", width, break_on_hyphens=False))
    while True:
        typed = _read("Protocol (Enter for none): ").strip().lower()
        if not typed:
            return None
        found = data.protocol(typed)
        if found is not None:
            return found
        near = close_matches(typed, ids)
        _say(
            f"    ! unknown protocol {typed!r}"
            + (f"; did you mean {', '.join(near)}?" if near else "")
        )


def _interview(data: Any, on: date, protocol: Any) -> tuple[Any, Any]:
    from pydantic import ValidationError

    from meso_cli.intake import (
        DONE,
        age_or_birth_date,
        date_or_none,
        past_date_or_none,
        sun_period,
        yes_no,
    )
    from meso_cli.matching import Vocabularies
    from meso_cli.models import Patient, first_error

    vocab = Vocabularies.of(data)
    _say("meso intake — plain answers; Enter skips what is optional; Ctrl-C cancels.")
    _say(f"Reference date {on}. Dates are typed YYYY-MM-DD.")
    _say()
    if protocol is None:
        protocol = _protocol(data)
    fields: dict[str, Any] = {}
    pid = _read("Patient id (optional): ").strip()
    if pid:
        fields["id"] = pid
    fields.update(_ask("Age in years, or birth date: ", lambda t: age_or_birth_date(t, on=on)))
    fields["pregnant"] = _ask("Pregnant? (y/n): ", yes_no)
    fields["breastfeeding"] = _ask("Breastfeeding? (y/n): ", yes_no)
    fields["fever"] = _ask("Fever or an infection right now? (y/n): ", yes_no)
    _say()

    def resolved(name: str) -> Any:
        ends = _ask(
            f"    {name}: date it no longer applies, or Enter if it still does: ",
            lambda t: date_or_none(t, what="resolved on"),
        )
        return {"name": name, "resolved_on": ends} if ends else name

    def last_dose(name: str) -> Any:
        last = _ask(
            f"    {name}: date of the last dose, or Enter if still taking it: ",
            lambda t: past_date_or_none(t, on=on, what="last dose"),
        )
        return {"name": name, "last_dose": last} if last else name

    fields["conditions"] = _terms(
        "Illnesses and conditions, one per line (Enter when done):",
        "condition",
        vocab.conditions,
        resolved,
    )
    _say()
    fields["medications"] = _terms(
        "Medicines, one per line (Enter when done):", "medication", vocab.medications, last_dose
    )
    _say()
    fields["allergies"] = _terms(
        "Allergies, one per line (Enter when done):", "allergy", vocab.allergens
    )
    _say()
    _say("Sun holidays or solarium planned, as FROM..TO (Enter when done):")
    sun = []
    while True:
        period = _ask(
            "  period: ", lambda t: None if t.strip().casefold() in DONE else sun_period(t)
        )
        if period is None:
            break
        sun.append({"from": period.start, "to": period.end})
    fields["sun_exposure"] = sun
    try:
        return Patient.model_validate(fields, context={"on": on}), protocol
    except ValidationError as exc:  # the answers were checked one by one; this is a backstop
        raise MesoError(f"intake: {first_error(exc)}") from None


@app.command()
def intake(
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Patient file to write (asked when not given).",
            show_default=False,
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            help="Protocol id to screen for (asked when not given).",
            autocompletion=complete.protocols,
        ),
    ] = None,
    on: On = None,
    data_dir: DataDir = None,
) -> None:
    """Ask about the patient in plain words, show the screening, write the patient file.

    Needs a terminal: with stdin not a terminal it exits 2 without asking. Exits with the
    screening's code (0 eligible, 3 review, 4 deferred, 5 not eligible).

    Examples:

    \b
      meso intake -o patient.yaml --protocol hair
      meso intake --on 2026-11-22 -o P-0042.yaml
      meso intake -o p.yaml && meso handout p.yaml --protocol hair -o p.html
    """
    from meso_cli.cli.app import show, write_document
    from meso_cli.intake import patient_yaml, yes_no
    from meso_cli.render.human import screening_view
    from meso_cli.screening import screen as run_screen

    if output == "":
        raise MesoError("-o: empty file name")
    if output == "-":
        raise MesoError("-o -: intake asks its questions on standard output; give a file name")
    if not sys.stdin.isatty():
        raise MesoError(
            "meso intake asks questions and needs a terminal, but standard input is not one; "
            "write a patient file for `meso screen FILE`, or use `meso screen --age N ...`"
        )
    data = load(data_dir)
    chosen = protocol_named(data, protocol)
    day = reference_date(on)
    try:
        patient, chosen = _interview(data, day, chosen)
        result = run_screen(patient, chosen, data, on=day)
        _say()
        show(screening_view(result))
        _say()
        target = Path(output) if output is not None else None
        while target is None:
            typed = _read("Save the patient file as (Enter for patient.yaml): ").strip()
            target = Path(typed or "patient.yaml")
            if target.exists() and not _ask(f"{target} exists. Replace it? (y/n): ", yes_no):
                target = None
    except _Cancelled:
        _say()
        raise MesoError("intake cancelled; nothing was written") from None
    header = f"Written by meso intake; reference date {day}."
    write_document(str(target), patient_yaml(patient, header=header))
    _say(
        f"Wrote {target}. Screen it again with: meso screen {target}"
        + (f" --protocol {chosen.id}" if chosen else "")
    )
    raise typer.Exit(VERDICT_EXIT[result.verdict])
