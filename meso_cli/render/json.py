"""JSON output of the runtime objects, and the JSON Schemas of the models they mirror."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from meso_cli import core
from meso_cli.core import SCHEMA_VERSION

if TYPE_CHECKING:
    from pydantic import BaseModel


def to_json(value: Any) -> str:
    return core.to_json(value, indent=2) + "\n"


def list_to_json(values: Sequence[Any]) -> str:
    return core.to_json(list(values), indent=2) + "\n"


def _without_nulls(node: Any) -> Any:
    """The schema with every `null` alternative taken out: the file readers refuse empty
    values (a left-out key is the way to say "not stated"), so an input schema must too."""
    if isinstance(node, list):
        return [_without_nulls(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _without_nulls(v) for k, v in node.items() if not (k == "default" and v is None)}
    options = out.get("anyOf")
    if isinstance(options, list) and any(o == {"type": "null"} for o in options):
        kept = [o for o in options if o != {"type": "null"}]
        del out["anyOf"]
        if len(kept) == 1:
            out.update(kept[0])
        else:
            out["anyOf"] = kept
    return out


def schema_of(model: type[BaseModel], name: str, *, mode: str) -> dict[str, Any]:
    if mode == "validation":
        schema = _without_nulls(model.model_json_schema(mode="validation"))
    else:
        schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:meso:schema:{name}:{SCHEMA_VERSION}",
        **schema,
    }
