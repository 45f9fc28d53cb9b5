from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

from meso_cli.cli import register
from meso_cli.core import Dataset
from meso_cli.data import load_dataset, packaged_data_dir

# `meso` registers only the command it runs; the tests drive the app with every command.
register()

# The validated data is cached per user (data.load_dataset); the tests, and the programs they
# start, keep theirs apart and start from an empty cache.
_CACHE = tempfile.mkdtemp(prefix="meso-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture(scope="session")
def data() -> Dataset:
    return load_dataset(packaged_data_dir())
