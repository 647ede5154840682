"""A quiet library: importing and calling simpeg_zo changes no global state.

No matplotlib backend switch, no redirected stdout, no numpy error-state or
warning-filter changes, no other package's logger touched; the package's
messages go through ``logging.getLogger("simpeg_zo")`` (a NullHandler, no
configuration), each accepted iterate logged at INFO.
"""

import logging
import os
import pathlib
import sys
import warnings

import numpy as np
import pytest

import simpeg_zo as sz
from simpeg_zo.cli import main

#: the 3-station TE spec shared by the command-line tests
TINY = (pathlib.Path(__file__).parent / "tiny_te.toml").read_text()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARALANA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "paralana"))


@pytest.fixture(scope="module")
def tiny():
    """(profile, true model) of the tiny spec."""
    return sz.synthetic_profile(sz.parse_spec(TINY))


def _logger_state(name):
    lg = logging.getLogger(name)
    return lg.level, lg.propagate, list(lg.handlers), lg.disabled


def test_package_logger_has_a_null_handler_only():
    handlers = logging.getLogger("simpeg_zo").handlers
    assert handlers and all(isinstance(h, logging.NullHandler) for h in handlers)


def test_plotting_keeps_the_backend(tiny, monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    from simpeg_zo.plot import plot_model

    monkeypatch.delenv("DISPLAY", raising=False)
    before = matplotlib.get_backend()
    matplotlib.use("ps")  # a non-interactive backend the caller chose
    try:
        profile, model = tiny
        plot_model(profile, model)
        assert matplotlib.get_backend() == "ps"
    finally:
        plt.close("all")
        matplotlib.use(before)


def test_inversions_neither_print_nor_redirect_stdout(tiny, capsys, caplog, monkeypatch):
    """SimPEG's iteration table is not printed (nor hidden by swapping
    sys.stdout); each accepted iterate is logged at INFO on the module's
    logger instead, and SimPEG's own logger hears nothing of ours."""
    from simpeg_zo import _gn
    from simpeg_zo._optimizer import ZohdyOldenburg

    seen = []
    for cls, name in ((_gn._Recorder, "_log"), (ZohdyOldenburg, "_record")):
        original = getattr(cls, name)

        def spy(self, *args, _original=original, **kwargs):
            seen.append(sys.stdout)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, spy)
    stdout = sys.stdout
    profile, _ = tiny
    with caplog.at_level(logging.INFO):
        sz.gauss_newton(profile, max_iter=1)
        sz.zohdy_oldenburg(profile, max_iter=1, use_phase=True)
    assert seen and all(s is stdout for s in seen)
    assert capsys.readouterr().out == ""
    lines = [(r.name, r.getMessage()) for r in caplog.records if "iteration" in r.getMessage()]
    assert lines[0][0] == "simpeg_zo._runs" and lines[0][1].startswith("gn: iteration 0, chi2")
    assert any(name == "simpeg_zo._optimizer" and text.startswith("zo: iteration 1, chi2") for name, text in lines)
    # the reference model is set and the target logged by simpeg_zo itself
    assert [r.getMessage() for r in caplog.records if r.name == "SimPEG"] == []


def test_runs_keep_numpy_warning_and_logging_state(tiny):
    import matplotlib.pyplot as plt

    from simpeg_zo.plot import plot_misfit_curves

    names = ("simpeg_zo", "SimPEG", "mt_metadata", "loguru", "")
    err, filters = np.geterr(), list(warnings.filters)
    loggers = {name: _logger_state(name) for name in names}
    profile, _ = tiny
    result = sz.zohdy_oldenburg(profile, max_iter=1)
    plot_misfit_curves({"zo": result})
    plt.close("all")
    assert np.geterr() == err
    assert warnings.filters == filters
    assert {name: _logger_state(name) for name in names} == loggers


@pytest.mark.skipif(not os.path.isdir(PARALANA), reason="Paralana field data not found")
def test_reading_edi_leaves_other_loggers_alone():
    from loguru import logger

    levels = {name: logging.getLogger(name).level for name in ("mt_metadata", "loguru")}
    sz.read_edi(os.path.join(PARALANA, "pb41c.edi"))
    assert {name: logging.getLogger(name).level for name in levels} == levels
    # mt-metadata's loguru records are enabled again after the read
    seen = []
    sink = logger.add(seen.append, level="INFO")
    try:
        exec("logger.info('still heard')", {"__name__": "mt_metadata.probe", "logger": logger})  # noqa: S102
    finally:
        logger.remove(sink)
    assert any("still heard" in str(m) for m in seen)


def test_command_line_restores_global_state(capsys):
    names = ("simpeg_zo", "SimPEG")
    err, filters = np.geterr(), list(warnings.filters)
    loggers = {name: _logger_state(name) for name in names}
    assert main(["presets"]) == 0
    assert main(["compare", "no-such-file.toml"]) == 2
    assert np.geterr() == err
    assert warnings.filters == filters
    assert {name: _logger_state(name) for name in names} == loggers
    assert "block-topo" in capsys.readouterr().out
