"""Shared test set-up.

* Figures render off-screen (``MPLBACKEND=Agg``).
* OpenBLAS runs single-threaded (torch's own thread pool is left alone).
  scipy's SuperLU calls OpenBLAS for its dense kernels; with OpenBLAS's
  default thread pool a factorisation that takes 0.25 s alone took over
  100 s while other processes kept both cores busy (threads spin-waiting on
  each other). One thread is as fast on a quiet machine and immune to that.
  This only works if numpy is not imported before this file.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402  (after the environment is set)
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A seeded random generator, fresh for every test."""
    return np.random.default_rng(20240611)
