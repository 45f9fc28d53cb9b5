"""JSON output of the models, and their JSON Schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from meso_cli.models import SCHEMA_VERSION


def to_json(value: BaseModel) -> str:
    """A model as indented JSON: every field, in its order; dates as YYYY-MM-DD."""
    return value.model_dump_json(indent=2) + "\n"


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


def schema_of(model: Any, name: str, *, mode: JsonSchemaMode) -> dict[str, Any]:
    """The JSON Schema of a model, or of a union of models (`BatchOutputLine`)."""
    schema = TypeAdapter(model).json_schema(mode=mode)
    if mode == "validation":
        schema = _without_nulls(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:meso:schema:{name}:{SCHEMA_VERSION}",
        **schema,
    }
