"""The simpeg-zo command line: user errors exit with 2, compare writes JSON."""

import json
import pathlib

import pytest

from simpeg_zo.cli import main

#: the 3-station TE spec shared by the command-line tests
TINY = (pathlib.Path(__file__).parent / "tiny_te.toml").read_text()


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
            "chi2",
            "rms_percent",
            "iterations",
            "forward_solves",
            "wall_seconds",
            "model_log10_rmse",
            "converged",
            "history",
            "seconds_to_chi2",
        ):
            assert key in m, key
        assert set(m["seconds_to_chi2"]) == {"3", "2", "1.5", "1"}
        assert m["history"][0]["iteration"] == 0
        assert m["iterations"] <= 2
    expected = ["misfit.png", "models.png", "pseudosections.png", "residuals.png"]
    assert sorted(p.name for p in plots.iterdir()) == expected
    assert "gn" in capsys.readouterr().out


# --- checks before any simulation --------------------------------------------------------


@pytest.fixture
def tiny_spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return str(path)


@pytest.fixture
def no_simulation(monkeypatch):
    """Make any simulation fail the test: the checks must come first."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a simulation started")

    import simpeg_zo._compare
    import simpeg_zo._synthetic

    monkeypatch.setattr(simpeg_zo._synthetic, "synthetic_profile", forbidden)
    monkeypatch.setattr(simpeg_zo._compare, "synthetic_profile", forbidden)
    monkeypatch.setattr(simpeg_zo._compare, "compare", forbidden)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["compare", "SPEC", "--json", "MISSING/r.json"], "--json .*missing.* does not exist"),
        (["compare", "SPEC", "--json", "TMP"], "--json .*is a folder"),
        (["compare", "SPEC", "--plots", "MISSING/figs"], "--plots .*missing.* does not exist"),
        (["invert", "SPEC", "--json", "MISSING/r.json"], "--json .*missing.* does not exist"),
        (["invert", "SPEC", "--out", "SPEC"], "--out .*tiny.toml: exists and is not a folder"),
        (["invert", "SPEC", "--out", "MISSING/out"], "--out .*missing.* does not exist"),
        (["demo", "--json", "TMP"], "--json .*is a folder"),
    ],
)
def test_bad_output_paths_exit_2_before_any_simulation(argv, match, tiny_spec, tmp_path, no_simulation, capsys):
    names = {"SPEC": tiny_spec, "TMP": str(tmp_path), "MISSING": str(tmp_path / "missing")}
    argv = [names.get(a, a.replace("MISSING", names["MISSING"])) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert __import__("re").search(match, err), err


@pytest.mark.parametrize(
    "flags", [["--cells-per-station", "0"], ["--flat"], ["--fmin", "1"], ["--skip-bad"], ["--floor-rho", "10"]]
)
def test_edi_only_flags_with_a_preset_exit_2(flags, no_simulation, capsys):
    assert main(["invert", "block-topo", *flags]) == 2
    err = capsys.readouterr().err
    assert f"{flags[0]} applies only to EDI folders" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--modes", "XY"], "--modes: XY"),
        (["--method", "zo", "--network", "net"], "--network applies only to the learned methods"),
        (["--method", "gn", "--zo-shifts", "on"], "--zo-shifts on applies only"),
        (["--max-iter", "0"], "--max-iter must be >= 1, got 0"),
        (["--target", "0"], "--target must be > 0, got 0"),
        (["-q", "-v"], "-q/--quiet and -v/--verbose"),
    ],
)
def test_impossible_values_exit_2_naming_flag_and_value(flags, match, tiny_spec, no_simulation, capsys):
    assert main(["invert", tiny_spec, *flags]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def test_edi_values_checked_before_reading(tmp_path, monkeypatch, capsys):
    import simpeg_zo._field

    monkeypatch.setattr(simpeg_zo._field, "read_edi_profile", lambda *a, **k: pytest.fail("data read"))
    folder = tmp_path / "edi"
    folder.mkdir()
    for flags, match in (
        (["--fmin", "-1"], "--fmin must be a frequency > 0 Hz, got -1.0"),
        (["--fmin", "10", "--fmax", "1"], "--fmin 10.0 is above --fmax 1.0"),
        (["--floor-phase", "100"], "--floor-phase must be in [0, 100) percent, got 100.0"),
        (["--cells-per-station", "0"], "--cells-per-station must be >= 1, got 0"),
    ):
        assert main(["invert", str(folder), *flags]) == 2
        assert match in capsys.readouterr().err


def test_invert_of_a_missing_path_says_what_is_accepted(tmp_path, capsys):
    assert main(["invert", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "nothing: no such file, folder or preset" in err
    assert "a TOML spec file, a preset name (see `simpeg-zo presets`), or a folder of EDI files" in err


# --- progress and verbosity ----------------------------------------------------------------


def test_invert_progress_on_stderr_results_on_stdout(tiny_spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["invert", tiny_spec, "--max-iter", "2", "--out", str(out), "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "zo: iteration 1, chi2" in captured.err and "zo: iteration 2, chi2" in captured.err
    assert "iteration 1," not in captured.out and "zo: chi2" in captured.out
    assert main(["invert", tiny_spec, "--max-iter", "1", "--out", str(out), "--no-figures", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "zo: chi2" in captured.out


def test_warnings_of_the_run_are_log_lines(capsys):
    """simpeg_zo's own warnings (dropped data, skipped files) are shown as
    one line each, SimPEG's solver advice and upstream deprecations not;
    -q hides them all."""
    import warnings

    from simpeg_zo._console import run_settings

    def warn(module, text, category=UserWarning):
        # as if warned from that module's file
        code = compile("warnings.warn(text, category)", f"/site/{module.replace('.', '/')}.py", "exec")
        exec(code, {"__name__": module, "warnings": warnings, "text": text, "category": category})  # noqa: S102

    with run_settings(0):
        warn("simpeg_zo._field", "pb33: dropped 1 of 38 data")
        warn("simpeg.base", "simpeg advice")
        warn("scipy.sparse", "old", FutureWarning)
    assert capsys.readouterr().err == "simpeg-zo: warning: pb33: dropped 1 of 38 data\n"
    with run_settings(-1):
        warn("simpeg_zo._field", "pb34: dropped 2 of 38 data")
    assert capsys.readouterr().err == ""


# --- Ctrl-C -----------------------------------------------------------------------------------


def _interrupt_on_call(monkeypatch, cls, name, n):
    """Raise KeyboardInterrupt on the n-th call of cls.name."""
    original = getattr(cls, name)
    calls = {"n": 0}

    def wrapped(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, wrapped)


def test_ctrl_c_during_invert_writes_the_best_model(tiny_spec, tmp_path, monkeypatch, capsys):
    from simpeg_zo._optimizer import ZohdyOldenburg

    # at the record of iteration 2 (accepted, not yet in the history)
    _interrupt_on_call(monkeypatch, ZohdyOldenburg, "_record", 3)
    out, report = tmp_path / "out", tmp_path / "r.json"
    code = main(["invert", tiny_spec, "--out", str(out), "--json", str(report), "--no-figures"])
    assert code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if "interrupted" in line]
    assert len(said) == 1 and said[0].startswith("simpeg-zo: interrupted after 2 iterations")
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["stop_reason"] == "interrupted"
    assert data["iterations"] == 2 and [h["iteration"] for h in data["history"]] == [0, 1, 2]
    assert data["history"][-1]["chi2"] == pytest.approx(data["chi2"])
    assert json.loads((out / "report.json").read_text())["interrupted"] is True
    assert (out / "model.npz").exists()


def test_ctrl_c_during_compare_writes_the_report(tiny_spec, tmp_path, monkeypatch, capsys):
    from simpeg_zo._gn import _Recorder

    # GN's first accepted iterate; zo has finished by then
    _interrupt_on_call(monkeypatch, _Recorder, "endIter", 1)
    report = tmp_path / "r.json"
    assert main(["compare", tiny_spec, "--methods", "zo,gn", "--max-iter", "2", "--json", str(report)]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "simpeg-zo: interrupted; results so far written" in err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True
    assert data["methods"]["zo"]["stop_reason"] != "interrupted"
    assert data["methods"]["gn"]["stop_reason"] == "interrupted" and data["methods"]["gn"]["iterations"] == 1


def test_compare_keeps_the_finished_methods_of_a_killed_run(tiny_spec, tmp_path, monkeypatch):
    """The JSON is written after each method: a run that dies in its second method keeps the first."""
    import simpeg_zo._compare
    from simpeg_zo.cli import _run_compare

    original = simpeg_zo._compare.run_method

    def run_method(profile, name, **kwargs):
        if name == "gn":  # dies as a killed process would, with no chance to write
            raise SystemExit(137)
        return original(profile, name, **kwargs)

    monkeypatch.setattr(simpeg_zo._compare, "run_method", run_method)
    report = tmp_path / "r.json"
    spec = simpeg_zo.load_spec(tiny_spec)
    with pytest.raises(SystemExit):
        _run_compare(spec, ["zo", "gn"], json_path=str(report), plots=None, max_iter=2, target=1.0, show_bar=False)
    data = json.loads(report.read_text())
    assert data["unfinished"] is True and list(data["methods"]) == ["zo"]
    assert data["methods"]["zo"]["iterations"] <= 2
    assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]  # no temporary file left


def test_sigterm_during_invert_writes_the_best_model_and_exits_143(tiny_spec, tmp_path, monkeypatch, capsys):
    import os
    import signal

    from simpeg_zo._optimizer import ZohdyOldenburg

    original = ZohdyOldenburg._record
    calls = {"n": 0}

    def record(self, *args, **kwargs):  # a real SIGTERM at the record of iteration 2
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ZohdyOldenburg, "_record", record)
    before = signal.getsignal(signal.SIGTERM)
    report = tmp_path / "r.json"
    assert main(["invert", tiny_spec, "--out", str(tmp_path / "out"), "--json", str(report), "--no-figures"]) == 143
    assert "Traceback" not in capsys.readouterr().err
    assert json.loads(report.read_text())["interrupted"] is True
    assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_before_any_model_exits_130(tiny_spec, tmp_path, monkeypatch, capsys):
    import simpeg_zo._synthetic

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(simpeg_zo._synthetic, "synthetic_profile", interrupted)
    assert main(["invert", tiny_spec, "--out", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert err == "simpeg-zo: interrupted before a model was ready; nothing written\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("method", ["gn", "zo"])
def test_a_method_failing_mid_run_writes_its_best_model_and_exits_3(method, tiny_spec, tmp_path, monkeypatch, capsys):
    """An error after iteration 2 (here raised where the iterate is
    recorded) is no traceback: the outputs hold the best model so far, the
    report names the error, the exit code is 3."""
    from simpeg_zo._gn import _Recorder
    from simpeg_zo._optimizer import ZohdyOldenburg

    cls, name = (_Recorder, "endIter") if method == "gn" else (ZohdyOldenburg, "_record")
    original = getattr(cls, name)
    calls = {"n": 0}

    def breaking(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("solver broke down")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, breaking)
    out, report = tmp_path / "out", tmp_path / "r.json"
    argv = ["invert", tiny_spec, "--method", method, "--max-iter", "5", "--out", str(out), "--json", str(report)]
    assert main([*argv, "--no-figures"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"simpeg-zo: {method} failed after" in err and "(RuntimeError: solver broke down)" in err
    data = json.loads(report.read_text())
    assert data["error"] == "RuntimeError: solver broke down"
    assert data["stop_reason"] == "failed: RuntimeError: solver broke down"
    assert data["iterations"] >= 2 and data["chi2"] > 0
    assert data["history"][-1]["chi2"] == pytest.approx(data["chi2"])
    assert (out / "model.npz").exists()


@pytest.mark.parametrize("flag, value", [("--strike", "nan"), ("--azimuth", "inf"), ("--strike", "north")])
def test_angles_must_be_finite_numbers(flag, value, tmp_path, capsys):
    """--strike nan had dropped every sounding ('impedance NaN or zero');
    --azimuth inf ended in a message about station positions."""
    try:
        code = main(["invert", str(tmp_path), flag, value])
    except SystemExit as stop:  # argparse's own exit
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and f"argument {flag}: must be a" in err and repr(value) in err and "Traceback" not in err
