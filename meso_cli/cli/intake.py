"""`meso intake`: a guided questionnaire at the terminal that writes the patient file."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from meso_cli.cli import complete
from meso_cli.cli.app import DataDir, On, app, load, out, reference_date
from meso_cli.cli.options import ProfileOption, chosen_protocol
from meso_cli.errors import EXIT_INTERRUPTED, VERDICT_EXIT, MesoError, close_matches
from meso_cli.text import printable_line

T = TypeVar("T")
BACK = "<"
Answers = dict[str, Any]


class _Cancelled(Exception):
    """Ctrl-C or Ctrl-D at a prompt: nothing is written."""


class _Back(Exception):
    """`<` at a question: back to the one before it (when changing one answer: keep it)."""


# --- the terminal ----------------------------------------------------------------------------


def _width() -> int:
    # One column spare: a line that fills the last column makes some terminals wrap it early.
    return max(20, shutil.get_terminal_size((80, 24)).columns - 1)


def _wrap(text: str, hang: int = 2) -> str:
    """`text` wrapped to the terminal between words, never inside one, keeping its own indent
    and hanging the lines after the first `hang` columns deeper."""
    if not text.strip():
        return ""
    lead = text[: len(text) - len(text.lstrip(" "))]
    return textwrap.fill(
        text.strip(" "),
        _width(),
        initial_indent=lead,
        subsequent_indent=lead + " " * hang,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _say(text: str = "", hang: int = 2) -> None:
    out(_wrap(text, hang) + "\n")  # through the sanitizer, like all output


def _read(prompt: str, *, back: bool = False) -> str:
    """One line typed at `prompt` (wrapped like the rest); `<` raises _Back where `back`."""
    from meso_cli.errors import is_text
    from meso_cli.models import MAX_NAME  # the longest name or id a patient file may hold
    from meso_cli.text import unsafe_character

    shown = _wrap(prompt) + " "  # wrapping drops the space the answer is typed after
    while True:
        try:
            answer = input(shown)
        except (EOFError, KeyboardInterrupt, OSError):  # OSError: the terminal went away
            raise _Cancelled from None
        if not is_text(answer):
            _say(
                "    ! that is not UTF-8 text (is the terminal set to another encoding?); "
                "type it again",
            )
        elif len(answer) > MAX_NAME:
            _say(f"    ! {len(answer)} characters; at most {MAX_NAME}, type it again")
        elif problem := unsafe_character(answer):  # an arrow key where readline is missing
            _say(f"    ! {problem} is not allowed (a special key?); type it again")
        elif back and answer.strip() == BACK:
            raise _Back
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


def _question(
    prompt: str, parse: Callable[[str], Any], now: Any, shown: str, *, removable: bool = False
) -> Any:
    """A question of the interview: `<` goes back; with an answer already given (`now`, shown
    as `shown`), Enter keeps it and, where the question is optional, `-` removes it."""
    from meso_cli.intake import BadAnswer

    if now is not None:
        hint = "Enter keeps it" + (", - removes it" if removable else "")
        prompt = f"{prompt.rstrip(': ')} [now {shown}; {hint}]:"
    while True:
        typed = _read(prompt, back=True)
        if now is not None and not typed.strip():
            return now
        if now is not None and removable and typed.strip() == "-":
            return None
        try:
            return parse(typed)
        except BadAnswer as exc:
            _say(f"    ! {exc}")


# --- names with "did you mean" -----------------------------------------------------------------


def _resolve(typed: str, label: str, vocabulary: Any) -> Any:
    """The term as typed, a suggestion picked by number, or a retyped one; None when the
    practitioner leaves it out with `-`. An empty answer asks again: a name once typed is
    never dropped by a stray Enter."""
    from meso_cli.intake import choice, term

    answer = term(typed, vocabulary)
    while not answer.known:
        _say(f"    ? {printable_line(answer.name)!r} is not a known {label}.")
        options = "".join(
            f"  {i}) {printable_line(s)}" for i, s in enumerate(answer.suggestions, 1)
        )
        if options:
            _say(f"      Did you mean:{options}")
        number = "a number to choose, " if options else ""
        prompt = (
            f"    Type {number}k to keep it as typed (needs review), - to leave it out, "
            "or retype it:"
        )
        again = _read(prompt)
        while not again.strip():
            _say(
                "    ! nothing typed: it is neither kept nor left out until you say which",
            )
            again = _read(prompt)
        if again.strip() == "-":
            return None
        picked = choice(again, answer)
        if picked == answer.name:
            return answer
        answer = term(picked if picked is not None else again, vocabulary)
    return answer


def _entries(
    heading: str,
    label: str,
    entries: list[Any],
    add: Callable[[str], Any],
    shown: Callable[[Any], str],
) -> list[Any]:
    """A list answered one entry per line until an empty line. `add` turns a typed line into
    an entry (None: nothing added). Entries already given are listed, and `-N` removes
    number N. The list is changed in place, so going back with `<` keeps what was typed."""
    from meso_cli.intake import DONE

    _say(heading)
    if entries:
        for i, entry in enumerate(entries, 1):
            _say(f"  {i}) {shown(entry)}", hang=3)
        _say("  Type another to add it, -N to remove number N, Enter when done.")
    while True:
        typed = _read(f"  {label}:", back=True)
        word = typed.strip()
        if word.casefold() in DONE:
            return entries
        drop = re.fullmatch(r"-\s*(\d+)", word)
        if drop and entries:
            n = int(drop.group(1))
            if 1 <= n <= len(entries):
                _say(f"    - removed {shown(entries.pop(n - 1))}")
            else:
                _say(f"    ! there is no number {n}: 1 to {len(entries)}")
            continue
        entry = add(typed)
        if entry is not None:
            entries.append(entry)


# --- the questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One question of the interview: the answer's key, its label in the summary, how it is
    asked (given the answers so far) and whether it applies to this patient."""

    key: str
    label: str
    ask: Callable[[Answers], Any]
    shown: Callable[[Any], str]
    applies: Callable[[Answers], bool] = field(default=lambda answers: True)


def _yes_no_shown(value: Any) -> str:
    return "yes" if value else "no"


def _entry_shown(entry: Any) -> str:
    if isinstance(entry, str):
        return printable_line(entry)
    if "from" in entry:
        return f"{entry['from']} to {entry['to']}"
    name = printable_line(entry["name"])
    if "resolved_on" in entry:
        return f"{name} (no longer applies from {entry['resolved_on']})"
    if "last_dose" in entry:
        return f"{name} (last dose {entry['last_dose']})"
    return name


def _list_shown(value: Any) -> str:
    return ", ".join(_entry_shown(e) for e in value) if value else "none"


def _age_shown(value: Any) -> str:
    return f"age {value['age']}" if "age" in value else f"born {value['birth_date']}"


def _steps(data: Any, on: date) -> list[_Step]:
    from meso_cli.intake import (
        age_or_birth_date,
        asks_pregnancy,
        date_or_none,
        past_date_or_none,
        sex,
        sun_period,
        yes_no,
    )
    from meso_cli.matching import Vocabularies

    vocab = Vocabularies.of(data)

    def text_or_none(typed: str) -> str | None:
        return typed.strip() or None

    def optional(v: Any) -> str:
        return printable_line(v) if v else "none"

    def flag(key: str, prompt: str) -> Callable[[Answers], Any]:
        return lambda a: _question(
            prompt, yes_no, a.get(key), _yes_no_shown(a.get(key)) if a.get(key) is not None else ""
        )

    def resolved(name: str) -> Any:
        ends = _ask(
            f"    {printable_line(name)}: date it no longer applies, or Enter if it still does:",
            lambda t: date_or_none(t, what="resolved on"),
        )
        return {"name": name, "resolved_on": ends} if ends else name

    def last_dose(name: str) -> Any:
        last = _ask(
            f"    {printable_line(name)}: date of the last dose, or Enter if still taking it:",
            lambda t: past_date_or_none(t, on=on, what="last dose"),
        )
        return {"name": name, "last_dose": last} if last else name

    def terms(
        key: str, heading: str, label: str, vocabulary: Any, then: Callable[[str], Any]
    ) -> Callable[[Answers], Any]:
        def add(typed: str) -> Any:
            answer = _resolve(typed, label, vocabulary)
            if answer is None:
                _say("    (left out)")
                return None
            name = printable_line(answer.name)
            read = f"read as {', '.join(answer.read_as)}" if answer.known else "kept, unrecognised"
            _say(f"    + {name} — {read}")
            return then(answer.name)

        return lambda a: _entries(heading, label, a.setdefault(key, []), add, _entry_shown)

    def sun(a: Answers) -> Any:
        from meso_cli.intake import BadAnswer

        def add(typed: str) -> Any:
            try:
                period = sun_period(typed)
            except BadAnswer as exc:
                _say(f"    ! {exc}")
                return None
            return {"from": period.start, "to": period.end}

        return _entries(
            "Sun holidays or solarium planned, as FROM..TO (Enter when done):",
            "period",
            a.setdefault("sun_exposure", []),
            add,
            _entry_shown,
        )

    def protocol(a: Answers) -> Any:
        ids = [p.id for p in data.protocols]
        now = a.get("protocol")
        _say(f"Protocols: {', '.join(ids)}")
        prompt = "Protocol to screen for (Enter for none):"
        if now is not None:
            prompt = f"Protocol to screen for [now {now.id}; Enter keeps it, - for none]:"
        while True:
            typed = _read(prompt, back=True).strip().lower()
            if not typed:
                return now
            if typed == "-":
                return None
            found = data.protocol(typed)
            if found is not None:
                return found
            near = close_matches(typed, ids)
            _say(
                f"    ! unknown protocol {printable_line(typed)!r}"
                + (f"; did you mean {', '.join(near)}?" if near else ""),
            )

    def pregnancy_applies(a: Answers) -> bool:
        return asks_pregnancy(a.get("sex"))

    return [
        _Step(
            "sex",
            "Sex",
            lambda a: _question(
                "Sex: f (female), m (male) or o (other); Enter if not stated:",
                lambda t: sex(t) if t.strip() else None,
                a.get("sex"),
                a.get("sex") or "",
                removable=True,
            ),
            lambda v: v or "not stated",
        ),
        _Step(
            "id",
            "Patient id",
            lambda a: _question(
                "Patient id (optional):",
                text_or_none,
                a.get("id"),
                optional(a.get("id")),
                removable=True,
            ),
            optional,
        ),
        _Step(
            "name",
            "Name",
            lambda a: _question(
                "Name, for the handout (optional):",
                text_or_none,
                a.get("name"),
                optional(a.get("name")),
                removable=True,
            ),
            optional,
        ),
        _Step(
            "age",
            "Age",
            lambda a: _question(
                "Age in years, or birth date:",
                lambda t: age_or_birth_date(t, on=on),
                a.get("age"),
                _age_shown(a["age"]) if a.get("age") else "",
            ),
            _age_shown,
        ),
        _Step(
            "pregnant",
            "Pregnant",
            flag("pregnant", "Pregnant? (y/n):"),
            _yes_no_shown,
            pregnancy_applies,
        ),
        _Step(
            "breastfeeding",
            "Breastfeeding",
            flag("breastfeeding", "Breastfeeding? (y/n):"),
            _yes_no_shown,
            pregnancy_applies,
        ),
        _Step(
            "fever",
            "Fever",
            flag("fever", "Fever or an infection right now? (y/n):"),
            _yes_no_shown,
        ),
        _Step(
            "conditions",
            "Conditions",
            terms(
                "conditions",
                "Illnesses and conditions, one per line (Enter when done):",
                "condition",
                vocab.conditions,
                resolved,
            ),
            _list_shown,
        ),
        _Step(
            "medications",
            "Medicines",
            terms(
                "medications",
                "Medicines, one per line (Enter when done):",
                "medication",
                vocab.medications,
                last_dose,
            ),
            _list_shown,
        ),
        _Step(
            "allergies",
            "Allergies",
            terms(
                "allergies",
                "Allergies, one per line (Enter when done):",
                "allergy",
                vocab.allergens,
                lambda n: n,
            ),
            _list_shown,
        ),
        _Step("sun_exposure", "Sun holidays", sun, _list_shown),
        _Step("protocol", "Protocol", protocol, lambda p: p.id if p is not None else "none"),
    ]


def _settle(steps: list[_Step], answers: Answers) -> None:
    """After the sex changed: drop the answers that no longer apply (pregnancy for a male
    patient) and ask those that now do."""
    for step in steps:
        if not step.applies(answers):
            answers.pop(step.key, None)
        elif step.key not in answers:
            while True:
                try:
                    answers[step.key] = step.ask(answers)
                    break
                except _Back:
                    _say("    ! this one is needed now; please answer it")


def _interview(steps: list[_Step], answers: Answers) -> None:
    """Every question in turn, skipping those answered on the command line and those that do
    not apply; `<` goes back to the question before."""
    i = 0
    while i < len(steps):
        step = steps[i]
        if not step.applies(answers):
            answers.pop(step.key, None)
            i += 1
            continue
        if step.key == "protocol" and "protocol" in answers:  # given with --protocol
            i += 1
            continue
        try:
            answers[step.key] = step.ask(answers)
            i += 1
            if step.key in ("fever", "conditions", "medications", "allergies", "sun_exposure"):
                _say()  # a blank line before each list, and before the protocol
        except _Back:
            j = i - 1
            while j >= 0 and not steps[j].applies(answers):
                j -= 1
            if j < 0:
                _say("    (this is the first question)")
            else:
                i = j


def _patient(answers: Answers, on: date) -> Any:
    from pydantic import ValidationError

    from meso_cli.models import Patient, first_error

    fields: dict[str, Any] = {
        k: v for k, v in answers.items() if k not in ("age", "protocol") and v is not None
    }
    fields.update(answers["age"])
    try:
        return Patient.model_validate(fields, context={"on": on})
    except ValidationError as exc:  # the answers were checked one by one; this is a backstop
        raise MesoError(f"intake: {first_error(exc)}") from None


def _summary(steps: list[_Step], answers: Answers) -> list[_Step]:
    """The answers, numbered; returns the steps in that numbering."""
    shown = [s for s in steps if s.applies(answers)]
    width = max(len(s.label) for s in shown)
    _say("Your answers:")
    for n, step in enumerate(shown, 1):
        _say(
            f"  {n:>2}  {step.label:<{width}}  {step.shown(answers.get(step.key))}", hang=width + 6
        )
    return shown


def _review(
    steps: list[_Step], answers: Answers, data: Any, on: date, target: str, given: set[str]
) -> Any:
    """Screen, show the answers numbered, and let the practitioner change any of them (or go
    back to the last question) until Enter saves. Returns the patient and the screening."""
    from meso_cli.cli.app import show
    from meso_cli.render.human import screening_view
    from meso_cli.screening import screen as run_screen

    while True:
        patient = _patient(answers, on)
        result = run_screen(patient, answers.get("protocol"), data, on=on)
        _say()
        show(screening_view(result, titles=data.sources))
        _say()
        shown = _summary(steps, answers)
        while True:
            typed = _read(
                f"Type a number to change that answer, {BACK} to go back to the last question, "
                f"or Enter to save {target}:"
            ).strip()
            if not typed:
                return patient, result
            if typed == BACK:  # the last question asked (not one answered by an option)
                step = [s for s in shown if s.key not in given][-1]
            elif typed.isdigit() and 1 <= int(typed) <= len(shown):
                step = shown[int(typed) - 1]
            else:
                _say(f"    ! type a number from 1 to {len(shown)}, {BACK}, or Enter")
                continue
            break
        try:
            answers[step.key] = step.ask(answers)
        except _Back:
            _say("    (kept as it was)")
        _settle(steps, answers)


# --- saving -------------------------------------------------------------------------------------


def _free_target(target: Path) -> tuple[Path, bool]:
    """`-o` names a file that exists: replace it only when the practitioner says so, or
    choose another name. Returns the file and whether it may be replaced."""
    from meso_cli.intake import yes_no

    while target.exists():
        if not target.is_file():
            raise MesoError(f"-o {target}: not a regular file; give a file name")
        shown = printable_line(str(target))
        if _ask(f"{shown} already exists. Replace it with this patient? (y/n):", yes_no):
            return target, True
        target = Path(_ask("Save as another file instead:", _file_name))
    return target, False


def _file_name(typed: str) -> str:
    from meso_cli.intake import BadAnswer

    if not typed.strip():
        raise BadAnswer("type a file name (or Ctrl-C to stop without writing)")
    return typed.strip()


def _save(target: Path | None, replace: bool, text: str) -> Path:
    """Write the file, never over an existing one unless `replace` was agreed; a file that
    cannot be written asks for another name rather than losing the answers."""
    from meso_cli.errors import FileExists
    from meso_cli.files import write_atomic
    from meso_cli.intake import yes_no

    while True:
        if target is None:
            typed = _read("Save the patient file as (Enter for patient.yaml):").strip()
            target, replace = Path(typed or "patient.yaml"), False
        if target.exists() and not replace:
            if _ask(f"{printable_line(str(target))} exists. Replace it? (y/n):", yes_no):
                replace = True
            else:
                target = None
                continue
        try:
            write_atomic(target, text, replace=replace)
            return target
        except FileExists:
            continue  # made by someone else since the question: asked again
        except MesoError as exc:
            _say(f"    ! {exc}")
            target = None


@app.command()
def intake(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Patient file to write (asked when not given). An existing file is replaced "
            "only when you say so, or with --force.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the -o file if it exists, without asking.")
    ] = False,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            help="Protocol id to screen for; default: the profile's, else asked.",
            autocompletion=complete.protocols,
        ),
    ] = None,
    on: On = None,
    data_dir: DataDir = None,
    profile: ProfileOption = None,
) -> None:
    """Ask about the patient in plain words, show the screening, write the patient file.

    Asks the sex first (no pregnancy questions for a male patient), then shows every answer
    numbered to change before saving. Needs a terminal: with stdin not a terminal it exits 2
    without asking. Ctrl-C or Ctrl-D cancels, writes nothing and exits 130. Otherwise exits
    with the screening's code (0 eligible, 3 review, 4 deferred, 5 not eligible).

    Examples:

    \b
      meso intake -o patient.yaml --protocol hair
      meso intake --on 2026-11-22 -o P-0042.yaml
      meso intake -o p.yaml && meso handout p.yaml --protocol hair -o p.html
    """
    from meso_cli.intake import patient_yaml
    from meso_cli.profile import load_profile

    if output is not None and str(output) == "-":
        raise MesoError("-o -: intake asks its questions on standard output; give a file name")
    if not sys.stdin.isatty():
        raise MesoError(
            "meso intake asks questions and needs a terminal, but standard input is not one; "
            "write a patient file for `meso screen FILE`, or use `meso screen --age N ...`"
        )
    settings = load_profile(profile)
    data = load(data_dir)
    # Neither --protocol nor the profile's default is asked; both show among the answers.
    chosen = chosen_protocol(data, protocol, settings)
    day = reference_date(on)
    target, replace = output, force
    if target is not None and target.exists() and not target.is_file():
        raise MesoError(f"-o {target}: not a regular file; give a file name")
    answers: Answers = {} if chosen is None else {"protocol": chosen}
    steps = _steps(data, day)
    try:
        _say(
            f"meso intake — plain answers; Enter skips what is optional; {BACK} goes back "
            "to the question before; Ctrl-C cancels."
        )
        _say(f"Reference date {day}. Dates are typed YYYY-MM-DD.")
        _say()
        if target is not None and not force:
            target, replace = _free_target(target)
        _interview(steps, answers)
        patient, result = _review(
            steps,
            answers,
            data,
            day,
            printable_line(str(target)) if target else "the patient file",
            given=set() if protocol is None else {"protocol"},
        )
        header = f"Written by meso intake; reference date {day}."
        written = _save(target, replace, patient_yaml(patient, header=header))
    except _Cancelled:
        _say()
        sys.stderr.write("meso: intake cancelled; nothing was written\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    chosen = answers.get("protocol")
    _say(
        f"Wrote {printable_line(str(written))}. Screen it again with: "
        f"meso screen {printable_line(str(written))}"
        + (f" --protocol {chosen.id}" if chosen else "")
    )
    raise typer.Exit(VERDICT_EXIT[result.verdict])
