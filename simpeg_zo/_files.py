"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import pathlib

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    A process killed while writing leaves ``path`` as it was (or absent),
    never half written. The temporary name holds the process id, so that
    processes writing the same folder do not meet; it is removed when the
    writing fails.

    Parameters
    ----------
    path : path-like
    mode : str
        ``open`` mode of the temporary file (``"wb"`` or ``"w"``).
    """
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode) as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
