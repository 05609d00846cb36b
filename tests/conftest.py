"""Shared fixtures: the bundled example pages and the shared corpora beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR

SEEDS = EXAMPLES_DIR / "trials"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The five bundled registry pages."""
    return SEEDS


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it are skipped where it is absent."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip(f"shared corpora not found at {SHARED_DATA_DIR}")
    return SHARED_DATA_DIR
