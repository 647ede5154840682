"""Test-run set-up shared by the tests and the package's doctests.

* Figures render off-screen (``MPLBACKEND=Agg``).
* OpenBLAS runs single-threaded (torch's own thread pool is left alone).
  scipy's SuperLU calls OpenBLAS for its dense kernels; with OpenBLAS's
  default thread pool a factorisation that takes 0.25 s alone took over
  100 s while other processes kept both cores busy (threads spin-waiting on
  each other). One thread is as fast on a quiet machine and immune to that.
  This only works if numpy is not imported before this file.
* Doctests are collected from every module of ``simpeg_zo``; a module that
  needs an optional extra at import is left out when the extra is absent.
"""

import importlib.util
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

collect_ignore = []
if importlib.util.find_spec("torch") is None:  # the cnn extra
    collect_ignore.append("simpeg_zo/learned/_network.py")
