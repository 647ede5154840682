"""The simpeg-zo command line: user errors exit with 2, compare writes JSON."""

import json

import pytest

from simpeg_zo.cli import main

TINY = """
name = "tiny"
[survey]
stations = { start = 0.0, stop = 2000.0, count = 3 }
frequencies = { max = 100.0, min = 0.1, count = 5 }
modes = ["TE"]
[model]
background = 100.0
[[model.blocks]]
x = [500.0, 1500.0]
depth = [200.0, 800.0]
resistivity = 10.0
"""


@pytest.mark.parametrize(
    "argv, match",
    [
        (["compare", "no-such-file.toml"], "no-such-file.toml"),
        (["compare", "block-topo", "--methods", "gn,nope"], "nope"),
        (["compare", "block-topo", "--target", "-1"], "--target"),
    ],
)
def test_user_errors_exit_2(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err
    assert "Traceback" not in err


def test_bad_spec_exits_2_naming_the_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace("resistivity = 10.0", "resistivity = -10.0"))
    assert main(["compare", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "model.blocks[0].resistivity" in err


def test_compare_writes_report(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    out = tmp_path / "r.json"
    plots = tmp_path / "figs"
    code = main(
        ["compare", str(path), "--methods", "gn,zo", "--max-iter", "2", "--json", str(out), "--plots", str(plots)]
    )
    assert code == 0
    report = json.loads(out.read_text())
    for key in ("n_data", "forward_seconds", "core", "methods"):
        assert key in report
    assert report["n_data"] == 3 * 5 * 2
    for name in ("gn", "zo"):
        m = report["methods"][name]
        for key in (
            "chi2", "rms_percent", "iterations", "forward_solves", "wall_seconds",
            "model_log10_rmse", "converged", "history", "seconds_to_chi2",
        ):
            assert key in m, key
        assert set(m["seconds_to_chi2"]) == {"3", "2", "1.5", "1"}
        assert m["history"][0]["iteration"] == 0
        assert m["iterations"] <= 2
    assert sorted(p.name for p in plots.iterdir()) == ["misfit.png", "models.png", "pseudosections.png", "residuals.png"]
    assert "gn" in capsys.readouterr().out
