"""JSON output, always from the models so it cannot drift from the schemas."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from meso_cli.models import SCHEMA_VERSION


def to_json(model: BaseModel) -> str:
    return model.model_dump_json(indent=2) + "\n"


def list_to_json(models: Sequence[BaseModel]) -> str:
    return json.dumps([m.model_dump(mode="json") for m in models], indent=2) + "\n"


def schema_of(model: type[BaseModel], name: str, *, mode: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation" if mode == "validation" else "serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:meso:schema:{name}:{SCHEMA_VERSION}",
        **schema,
    }
