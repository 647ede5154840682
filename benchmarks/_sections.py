"""Shared by the benchmark scripts: each writes its own marked section of
``BENCHMARKS.md`` and leaves the others alone."""

from __future__ import annotations

import os


def write_section(text: str, path: str, start: str, end: str) -> None:
    """Replace the text between the ``start`` and ``end`` markers of
    ``path`` (``text`` includes the markers), or append it."""
    old = open(path).read() if os.path.exists(path) else ""
    if start in old and end in old:
        new = old[: old.index(start)] + text + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip() + "\n\n" + text + "\n"
    with open(path, "w") as fh:
        fh.write(new)
