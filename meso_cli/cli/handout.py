"""`meso handout`: the patient's printable page for a planned course (Markdown or HTML)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath
from typing import Annotated

import typer

from meso_cli.cli.app import Clear, DataDir, On, app, note, write_document
from meso_cli.cli.options import (
    WEEKDAYS,
    Closed,
    Holidays,
    OpenDays,
    PerWeek,
    PlanProtocol,
    Sessions,
    Start,
    plan_from_options,
)
from meso_cli.errors import VERDICT_EXIT, MesoError


class Format(StrEnum):
    md = "md"
    html = "html"


_BY_SUFFIX = {".md": Format.md, ".markdown": Format.md, ".html": Format.html, ".htm": Format.html}


@app.command()
def handout(
    patient: Annotated[str, typer.Argument(help="Patient file (YAML or JSON), or - for stdin.")],
    protocol: PlanProtocol,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            show_default=False,
            help="Write to FILE.md or FILE.html, or - for stdout (default: Markdown on stdout).",
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
    clear: Clear = None,
    data_dir: DataDir = None,
) -> None:
    """Write the patient's printable page: session dates, NSAIDs, aftercare, sun, when to call.

    Plans the course as `meso plan` does. When no plan can be made it writes nothing and
    exits with the screening's code (3 review, 4 deferred, 5 not eligible).

    Examples:

    \b
      meso handout patient.yaml --protocol hair -o handout.html
      meso handout patient.yaml -p hair --start 2026-12-01 --clinic "Clinic Ada" -o p.md
      meso handout patient.yaml -p cellulite --per-week 2 --holidays TR --format html > p.html
    """
    from meso_cli.files import is_stream
    from meso_cli.planning import plan_made
    from meso_cli.render.handout import build, to_html, to_markdown

    if output == "":
        raise MesoError("-o: empty file name")
    target = output or "-"
    chosen_format = fmt
    if chosen_format is None and not is_stream(target):  # a stream: Markdown
        chosen_format = _BY_SUFFIX.get(PurePath(target).suffix.lower())
        if chosen_format is None:
            raise MesoError(f"-o {target}: name a .md or .html file, or give --format md|html")
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
        note(f"{why}; no handout written")
        raise typer.Exit(VERDICT_EXIT[result.screening.verdict])
    page = build(result, person, chosen, data, clinic_name=clinic_name, clinic_phone=phone)
    text = to_html(page) if chosen_format is Format.html else to_markdown(page)
    write_document(target, text)
    if target != "-":
        note(f"wrote the handout to {target}")
