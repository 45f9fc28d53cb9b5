"""Shell completion of protocol and rule ids; the data loads only when the shell asks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meso_cli.core import Dataset


def _data(ctx: Any) -> Dataset | None:
    from meso_cli.data import load_dataset, resolve_data_dir
    from meso_cli.errors import MesoError

    params = getattr(ctx, "params", None) or {}
    chosen = params.get("data_dir") or params.get("directory")
    try:
        return load_dataset(resolve_data_dir(str(chosen) if chosen else None))
    except MesoError:
        return None  # a broken data directory completes nothing rather than failing the shell


def protocols(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    data = _data(ctx)
    if data is None:
        return []
    return [(p.id, p.name) for p in data.protocols if p.id.startswith(incomplete.lower())]


def rules(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    data = _data(ctx)
    if data is None:
        return []
    return [(r.id, r.title) for r in data.rules if r.id.startswith(incomplete.lower())]


def review_rules(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    """--clear takes only the rules whose findings can be reviews: offer those."""
    from meso_cli.screening import clearable

    data = _data(ctx)
    if data is None:
        return []
    return [
        (r.id, r.title) for r in data.rules if clearable(r) and r.id.startswith(incomplete.lower())
    ]
