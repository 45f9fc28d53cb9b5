"""`meso profile show` and `meso profile init`: the clinic's settings in one TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meso_cli.cli.app import DataDir, Json, app, load, note, out
from meso_cli.cli.options import ProfileOption

profile_app = typer.Typer(
    help="The clinic profile: settings every command uses, so that none is retyped.",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")


@profile_app.command("show")
def show_profile(
    profile: ProfileOption = None, json: Json = False, data_dir: DataDir = None
) -> None:
    """Print the profile's values in force and where each came from.

    The profile is --profile FILE, else the file MESO_PROFILE names, else profile.toml in
    the user config directory; a value it leaves out is the built-in default. Options given
    to a command override it. The default protocol is checked against the data (--data-dir).

    Examples:

    \b
      meso profile show
      meso profile show --profile clinic.toml
      MESO_PROFILE=clinic.toml meso profile show --json
    """
    from meso_cli.profile import load_profile, shown_values

    loaded = load_profile(profile)
    if loaded.profile.defaults.protocol is not None:  # one the data has (--data-dir)
        from meso_cli.cli.options import chosen_protocol

        chosen_protocol(load(data_dir), None, loaded)
    rows = shown_values(loaded)
    if json:
        import json as jsonlib

        document = {
            "file": str(loaded.path) if loaded.path else None,
            "chosen_by": loaded.chosen_by,
            "values": {key: {"value": value, "from": where} for key, value, where in rows},
        }
        out(jsonlib.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    head = f"profile: {loaded.path} (from {loaded.chosen_by})" if loaded.path else loaded.chosen_by
    keys = max(len(key) for key, _, _ in rows)
    values = max(len(value) for _, value, _ in rows)
    lines = [head, ""]
    lines += [f"{key:<{keys}}  {value:<{values}}  {where}" for key, value, where in rows]
    out("\n".join(lines) + "\n")


@profile_app.command("init")
def init_profile(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write it (default: --profile, MESO_PROFILE, else the user config "
            "directory).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    profile: ProfileOption = None,
    clinic: Annotated[str | None, typer.Option("--clinic", help="The clinic's name.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The clinic's phone.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="The clinic's address.")] = None,
    practitioner: Annotated[
        str | None, typer.Option("--practitioner", help="The practitioner's name.")
    ] = None,
    open_days: Annotated[
        str | None, typer.Option("--open-days", help="Weekdays the clinic works, e.g. mon,wed,fri.")
    ] = None,
    session_time: Annotated[
        str | None, typer.Option("--time", help="The usual start of a session, HH:MM.")
    ] = None,
    closed: Annotated[
        list[str] | None,
        typer.Option("--closed", help="A closed day or period FROM..TO (repeatable)."),
    ] = None,
    holidays: Annotated[
        str | None, typer.Option("--holidays", help="Country of the public holidays, e.g. TR.")
    ] = None,
    subdivision: Annotated[
        str | None, typer.Option("--subdivision", help="A state or province, e.g. BY for DE.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--lang", help="The language of handouts: en or tr.")
    ] = None,
    protocol: Annotated[
        str | None, typer.Option("--protocol", "-p", help="The default protocol.")
    ] = None,
) -> None:
    """Write a commented starter profile; never over an existing file.

    Values given as options are set in it; the others are there as commented examples.

    Examples:

    \b
      meso profile init --clinic "Clinic Ada" --phone "+90 212 555 01 00" --holidays TR
      meso profile init clinic.toml --open-days mon,tue,wed,thu,fri,sat -p hair --lang tr
    """
    import os

    from meso_cli.profile import ENV, default_path, write_starter

    target = file or (Path(profile) if profile else None)
    if target is None:
        target = Path(os.environ[ENV]) if os.environ.get(ENV) else default_path()
    values = {
        "name": clinic,
        "phone": phone,
        "address": address,
        "practitioner": practitioner,
        "open_days": [d.strip() for d in open_days.split(",") if d.strip()] if open_days else None,
        "session_time": session_time,
        "closed": closed or [],
        "holidays": holidays,
        "subdivision": subdivision,
        "language": language,
        "protocol": protocol,
    }
    write_starter(target, values)
    shown = f"meso profile show --profile {target}" if file else "meso profile show"
    note(f"wrote the clinic profile {target}; see it with `{shown}`")
