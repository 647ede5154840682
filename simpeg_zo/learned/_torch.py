"""The optional torch dependency."""

from __future__ import annotations

import importlib

CNN_EXTRA_MESSAGE = (
    "the learned inversion needs PyTorch, which is not installed: install the "
    "'cnn' extra (pip install torch==2.13.0 first for the CPU wheel, then "
    "pip install 'simpeg-zo[cnn]')"
)


def require_torch():
    """Import and return torch, or raise an ImportError naming the ``cnn`` extra."""
    try:
        return importlib.import_module("torch")
    except ImportError as err:
        raise ImportError(CNN_EXTRA_MESSAGE) from err
