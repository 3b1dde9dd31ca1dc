"""Shared test settings: offscreen Qt, the shared data set, small generated media."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALIGNMENT_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder; tests that use it skip when it is absent."""
    if not (SHARED_DATA / "index.csv").is_file():
        pytest.skip(f"shared data set not found at {SHARED_DATA}")
    return SHARED_DATA
