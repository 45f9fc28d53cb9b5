"""The runtime objects (meso_cli.core) mirror the pydantic models field for field, and what
they write as JSON is what the models would write: the schemas describe the real output."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from meso_cli import core, models
from meso_cli.clinic import Clinic
from meso_cli.core import Dataset
from meso_cli.data import packaged_data_dir
from meso_cli.planning import screen_and_plan
from meso_cli.record import Record
from meso_cli.screening import screen
from meso_cli.validation import validated

ON = date(2026, 11, 22)

PAIRS = sorted(
    (name, getattr(core, name))
    for name in dir(models)
    if isinstance(getattr(models, name), type)
    and issubclass(getattr(models, name), BaseModel)
    and isinstance(getattr(core, name, None), type)
    and issubclass(getattr(core, name), Record)
)


def test_every_model_the_engine_uses_has_its_runtime_class() -> None:
    names = {name for name, _ in PAIRS}
    assert {"Patient", "Rule", "Protocol", "Dataset", "Finding", "Screening", "Plan"} <= names
    assert len(PAIRS) >= 28


@pytest.mark.parametrize(("name", "runtime"), PAIRS)
def test_a_runtime_class_has_its_models_fields_in_order_with_the_same_defaults(
    name: str, runtime: type[Record]
) -> None:
    model: type[BaseModel] = getattr(models, name)
    assert runtime._fields == tuple(model.model_fields), name
    for field_name, info in model.model_fields.items():
        has_default = field_name in runtime._defaults
        assert has_default == (not info.is_required()), f"{name}.{field_name}"
        if not has_default:
            continue
        default = runtime._defaults[field_name]
        if info.default_factory is not None:
            assert default.make() == info.default_factory(), f"{name}.{field_name}"  # type: ignore[call-arg]
        else:
            assert info.default is not PydanticUndefined
            assert default == info.default, f"{name}.{field_name}"


def test_the_cached_dataset_is_the_validated_one_converted() -> None:
    converted = models.to_core(validated(packaged_data_dir()))
    assert isinstance(converted, Dataset)
    assert converted.rules and converted.protocols
    assert all(isinstance(r, core.Rule) for r in converted.rules)
    assert core.to_json(converted) == validated(packaged_data_dir()).model_dump_json()


def _patients() -> list[dict[str, Any]]:
    return [
        {
            "id": "P-1",
            "birth_date": "1980-02-29",
            "medications": [{"name": "ibuprofen", "last_dose": "2026-11-20"}],
            "sex": "female",
        },
        {"age": 90, "conditions": ["eczema", "zorblaxitis"], "allergies": ["lidocaine"]},
        {
            "age": 30,
            "pregnant": True,
            "fever": False,
            "sessions_done": ["2026-11-03"],
            "sun_exposure": [{"from": "2027-02-01", "to": "2027-02-14"}],
            "medications": ["warfarin"],
            "conditions": [{"name": "herpes zoster", "resolved_on": "2026-12-10"}],
        },
        {"id": "ünïcödé — 名前", "age": 17},
    ]


@pytest.mark.parametrize("record", _patients())
def test_screening_json_is_what_the_model_would_write(
    data: Dataset, record: dict[str, Any]
) -> None:
    patient = models.to_core(models.Patient.model_validate(record))
    for protocol in (data.protocol("hair"), None):
        result = screen(patient, protocol, data, on=ON)
        written = core.to_json(result)
        assert models.Screening.model_validate_json(written).model_dump_json() == written
        indented = core.to_json(result, indent=2)
        assert models.Screening.model_validate_json(indented).model_dump_json(indent=2) == indented


@pytest.mark.parametrize("record", _patients())
def test_plan_json_is_what_the_model_would_write(data: Dataset, record: dict[str, Any]) -> None:
    patient = models.to_core(models.Patient.model_validate(record))
    protocol = data.protocol("cellulite")
    assert protocol is not None
    made = screen_and_plan(patient, protocol, data, Clinic(), on=ON)
    written = core.to_json(made)
    assert models.Plan.model_validate_json(written).model_dump_json() == written


def test_json_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="set"):
        core.to_json({"x": {1, 2}})
