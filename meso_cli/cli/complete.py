"""Shell completion of protocol and rule ids; the data is read only when the shell asks.

A shell waits for every TAB, so protocol and rule ids are read straight from the data files'
YAML, without validating the whole data set: completion only offers names, and the command
that runs validates everything. Only `--clear`, which must offer exactly the rules it accepts,
goes through the validated data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from meso_cli.models import Dataset


def _directory(ctx: Any) -> Path:
    from meso_cli.files import resolve_data_dir

    params = getattr(ctx, "params", None) or {}
    chosen = params.get("data_dir") or params.get("directory")
    return resolve_data_dir(str(chosen) if chosen else None)


def _listed(ctx: Any, file: str, section: str, label: str) -> list[tuple[str, str]]:
    """(id, label) of each entry of a top-level list of a data file; nothing when the file
    cannot be read (a broken data directory completes nothing rather than failing the shell)."""
    import yaml

    from meso_cli.files import read_text

    try:
        # Safe loading: plain values only, nothing in the file can become code.
        found = yaml.load(read_text(str(_directory(ctx) / file)), Loader=yaml.CSafeLoader)
        return [
            (str(entry["id"]), str(entry.get(label, "")))
            for entry in found[section]
            if isinstance(entry, dict) and "id" in entry
        ]
    except Exception:
        return []


def protocols(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    found = _listed(ctx, "protocols.yaml", "protocols", "name")
    return [(pid, name) for pid, name in found if pid.startswith(incomplete.lower())]


def rules(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    found = _listed(ctx, "contraindications.yaml", "rules", "title")
    return [(rid, title) for rid, title in found if rid.startswith(incomplete.lower())]


def _data(ctx: Any) -> Dataset | None:
    from meso_cli.data import load_dataset
    from meso_cli.errors import MesoError

    try:
        return load_dataset(_directory(ctx))
    except MesoError:
        return None


def review_rules(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    """--clear takes only the rules whose findings can be reviews: offer those."""
    from meso_cli.screening import clearable

    data = _data(ctx)
    if data is None:
        return []
    return [
        (r.id, r.title) for r in data.rules if clearable(r) and r.id.startswith(incomplete.lower())
    ]
