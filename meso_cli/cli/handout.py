"""`meso handout`: the patient's printable page for a planned course (Markdown or HTML)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from meso_cli.cli.app import Clear, DataDir, On, app, out
from meso_cli.cli.options import (
    WEEKDAYS,
    Closed,
    Holidays,
    OpenDays,
    PerWeek,
    PlanProtocol,
    Sessions,
    Start,
    parse_time,
    plan_from_options,
)
from meso_cli.errors import VERDICT_EXIT, MesoError
from meso_cli.render.catalogue import DEFAULT_LANG, Lang


class Format(StrEnum):
    md = "md"
    html = "html"


_BY_SUFFIX = {".md": Format.md, ".markdown": Format.md, ".html": Format.html, ".htm": Format.html}


def handout_language(given: Lang | None) -> Lang:
    """The one place the handout's language is decided: --lang, else the default (the clinic
    profile's language, once a profile is read, else English)."""
    return given if given is not None else DEFAULT_LANG


@app.command()
def handout(
    patient: Annotated[str, typer.Argument(help="Patient file (YAML or JSON), or - for stdin.")],
    protocol: PlanProtocol,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            show_default=False,
            help="Write to FILE.md or FILE.html (default: Markdown on stdout).",
        ),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", show_default=False, help="md or html (default: from -o)."),
    ] = None,
    start: Start = None,
    on: On = None,
    sessions: Sessions = None,
    per_week: PerWeek = None,
    open_days: OpenDays = WEEKDAYS,
    closed: Closed = None,
    holidays: Holidays = None,
    clinic_name: Annotated[
        str | None, typer.Option("--clinic", show_default=False, help="Clinic name to print.")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", show_default=False, help="Clinic phone to print.")
    ] = None,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            show_default=False,
            help="Language of the handout: en or tr (default: the clinic profile's, else en).",
        ),
    ] = None,
    practitioner: Annotated[
        str | None,
        typer.Option("--practitioner", show_default=False, help="Practitioner's name to print."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--time", show_default=False, help="Session time HH:MM to print."),
    ] = None,
    clear: Clear = None,
    data_dir: DataDir = None,
) -> None:
    """Write the patient's printable page (English or Turkish): dates, NSAIDs, aftercare, sun.

    Plans the course as `meso plan` does. When no plan can be made it writes nothing and
    exits with the screening's code (3 review, 4 deferred, 5 not eligible).

    Examples:

    \b
      meso handout patient.yaml --protocol hair -o handout.html
      meso handout patient.yaml -p hair --start 2026-12-01 --clinic "Clinic Ada" -o p.md
      meso handout patient.yaml -p cellulite --per-week 2 --holidays TR --format html > p.html
      meso handout patient.yaml -p hair --lang tr --practitioner "Dr. Ada Kaya" --time 10:30
    """
    from meso_cli.files import write_atomic
    from meso_cli.planning import plan_made
    from meso_cli.render.handout import build, to_html, to_markdown

    session_time = parse_time(at) if at is not None else None
    chosen_format = fmt
    if output is not None and chosen_format is None:
        chosen_format = _BY_SUFFIX.get(output.suffix.lower())
        if chosen_format is None:
            raise MesoError(f"-o {output}: name a .md or .html file, or give --format md|html")
    result, chosen, person, data = plan_from_options(
        patient,
        protocol,
        data_dir=data_dir,
        on=on,
        start=start,
        sessions=sessions,
        per_week=per_week,
        open_days=open_days,
        closed=closed,
        holidays=holidays,
        clear=clear,
    )
    if not plan_made(result):
        why = result.warnings[-1].text if result.warnings else "no plan"
        sys.stderr.write(f"meso: {why}; no handout written\n")
        raise typer.Exit(VERDICT_EXIT[result.screening.verdict])
    page = build(
        result,
        person,
        chosen,
        data,
        lang=handout_language(lang),
        clinic_name=clinic_name,
        clinic_phone=phone,
        practitioner=practitioner,
        session_time=session_time,
    )
    for key in page.untranslated:
        sys.stderr.write(
            f"meso: note: the catalogue has no {page.lang.value} text for {key!r} of the data; "
            "the data's own words are printed\n"
        )
    text = to_html(page) if chosen_format is Format.html else to_markdown(page)
    if output is None:
        out(text)
    else:
        write_atomic(output, text)
        sys.stderr.write(f"meso: wrote the handout to {output}\n")
