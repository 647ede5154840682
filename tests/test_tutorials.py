"""The tutorials run end to end with small settings."""

import pathlib
import runpy

import pytest

TUTORIALS = sorted((pathlib.Path(__file__).parent.parent / "tutorials").glob("*.py"))
#: files in ../shared that a tutorial reads (without them it does nothing)
SHARED_FILES = {
    "plot_3_paralana": pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "paralana",
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            id=p.stem,
            marks=[pytest.mark.needs_shared(SHARED_FILES[p.stem])] if p.stem in SHARED_FILES else [],
        )
        for p in TUTORIALS
    ],
)
def test_tutorial_runs(path, monkeypatch):
    monkeypatch.setenv("SIMPEG_ZO_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        # the tutorials leave their figures open, for the documentation's gallery
        import matplotlib.pyplot as plt

        plt.close("all")
