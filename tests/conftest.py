from __future__ import annotations

import pytest

from meso_cli.cli import register
from meso_cli.data import load_dataset
from meso_cli.files import packaged_data_dir
from meso_cli.models import Dataset

# `meso` registers only the command it runs; the tests drive the app with every command.
register()


@pytest.fixture(scope="session")
def data() -> Dataset:
    return load_dataset(packaged_data_dir())
