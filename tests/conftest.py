from __future__ import annotations

import os
import tempfile

import pytest

from meso_cli.cli import register
from meso_cli.data import load_dataset
from meso_cli.files import packaged_data_dir
from meso_cli.models import Dataset

# `meso` registers only the command it runs; the tests drive the app with every command.
register()

# No clinic profile of the machine's user reaches the tests (nor the commands they start):
# the user config directory is an empty one, and MESO_PROFILE is unset.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="meso-test-config-")
os.environ.pop("MESO_PROFILE", None)


@pytest.fixture(scope="session")
def data() -> Dataset:
    return load_dataset(packaged_data_dir())
