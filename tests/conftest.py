"""Shared test set-up (the environment is set in the repository's ``conftest.py``).

* Tests marked ``needs_shared(path)`` read third-party files kept outside the
  repository, in ``../shared`` (the Paralana EDI files, the COMMEMI reference
  values). Without ``../shared`` they skip. Where ``../shared`` exists (CI,
  developers' checkouts), or where ``SIMPEG_ZO_REQUIRE_SHARED=1`` is set, a
  missing file fails the test instead: the tests must run there, not skip.
"""

import os
from pathlib import Path

import numpy as np
import pytest

#: ``shared/`` beside the repository
SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_required() -> bool:
    """Whether a missing ``needs_shared`` file fails its test (else: skips)."""
    return SHARED.is_dir() or bool(os.environ.get("SIMPEG_ZO_REQUIRE_SHARED"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Skip or fail the tests whose ``needs_shared`` files are absent."""
    for mark in item.iter_markers("needs_shared"):
        path = Path(mark.args[0])
        if path.exists():
            continue
        message = f"{path} not found (third-party files kept in ../shared, not in the repository)"
        if shared_required():
            why = "SIMPEG_ZO_REQUIRE_SHARED is set" if not SHARED.is_dir() else f"{SHARED} exists"
            pytest.fail(f"{message}; required because {why}", pytrace=False)
        pytest.skip(message)


@pytest.fixture
def rng():
    """A seeded random generator, fresh for every test."""
    return np.random.default_rng(20240611)
