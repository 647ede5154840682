"""The per-sounding screen of field data: Weidelt's dispersion relation on
exact layered-earth responses, no false drops on clean or noisy 1D curves,
each reason on a sounding damaged for it, and the EDI reader's default
band (every frequency, screened) on the two field profiles."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
from test_bostick import mt1d

import simpeg_zo as sz
from simpeg_zo._screen import (
    CONSISTENCY_SIGMAS,
    REASONS,
    SKEW_DROP,
    SKEW_INFLATE,
    WEIDELT_ALLOWANCE,
    screen_soundings,
    weidelt_phase,
)

FREQUENCIES = np.logspace(3, -3, 43)  # 7 per decade, as field data


def _layered(seed):
    rng = np.random.default_rng(seed)
    n = rng.integers(2, 5)
    rho = 10 ** rng.uniform(0, 3.5, n)
    thick = 10 ** rng.uniform(1.5, 3.5, n - 1)
    return rho, thick


def _curves(seeds, frequencies=FREQUENCIES):
    """Exact (rho_a, phase in degrees) of layered earths, one station each."""
    out = [mt1d(*_layered(s), frequencies) for s in seeds]
    rho = np.column_stack([r for r, _ in out])
    phase = np.column_stack([np.degrees(p) for _, p in out])
    return rho, phase


def test_weidelt_phase_of_exact_layered_responses():
    """With the exact slope of log rho_a against log T, Weidelt's phase
    follows the true phase of layered earths (contrasts up to 3.5 decades)
    to a few degrees RMS, and its largest error stays inside the screen's
    tolerance (CONSISTENCY_SIGMAS x WEIDELT_ALLOWANCE); a half-space is 45
    degrees exactly, a two-layer earth's phase leaves 45 degrees the way
    its slope says."""
    f = np.logspace(3, -3, 601)
    worst = 0.0
    for seed in range(40):
        rho, phase = mt1d(*_layered(seed), f)
        slope = np.gradient(np.log10(rho), -np.log10(f))
        error = np.abs(weidelt_phase(slope) - np.degrees(phase))[5:-5]
        assert np.sqrt(np.mean(error**2)) < 7.0
        worst = max(worst, error.max())
    assert 5.0 < worst < CONSISTENCY_SIGMAS * WEIDELT_ALLOWANCE
    rho, phase = mt1d([100.0], [], f)
    assert np.allclose(np.degrees(phase), 45.0) and weidelt_phase(0.0) == 45.0
    rho, phase = mt1d([100.0, 1.0], [1000.0], f)  # conductive basement: phase above 45
    assert np.degrees(phase[300]) > 60 and weidelt_phase(-0.5) > 60


def test_clean_and_noisy_layered_soundings_are_kept():
    """Exact responses with 5 % errors: nothing dropped. With 3 % Gaussian
    noise and 5 % errors (the usual floors): at most 1 % dropped."""
    rho, phase = _curves(range(20))
    shape = rho.shape
    s = screen_soundings(FREQUENCIES, rho, phase, 0.05 * rho, np.full(shape, 1.43), np.zeros(shape))
    assert not (s.dropped != None).any()  # noqa: E711
    assert np.all(s.inflation == 1.0) and s.counts == {}
    rng = np.random.default_rng(7)
    noisy_rho = rho * np.exp(0.03 * rng.standard_normal(shape))
    noisy_phase = phase + np.degrees(0.015) * rng.standard_normal(shape)
    s = screen_soundings(FREQUENCIES, noisy_rho, noisy_phase, 0.05 * rho, np.full(shape, 1.43), np.zeros(shape))
    assert (s.dropped != None).mean() <= 0.01  # noqa: E711


def test_each_reason_on_a_damaged_sounding():
    rho, phase = _curves([3, 4, 5, 6, 8])
    shape = rho.shape
    rho_std, phase_std = 0.05 * rho, np.full(shape, 1.43)
    skew = np.zeros(shape)
    rel = np.full(shape, 0.025)
    rho[20, 0] *= 4.0  # a spike: faster than any 1D earth
    phase[14:27, 1] += 35.0  # phases the slope of rho_a cannot explain (no spike: 13 in a row)
    rel[10, 2] = 0.6  # an error bar above 100 % in rho_a
    skew[30, 3] = 12.0  # 3D: dropped
    skew[30, 4] = 6.0  # 3D-ish: errors doubled
    s = screen_soundings(FREQUENCIES, rho, phase, rho_std, phase_std, skew, rel)
    got = {(int(j), int(i)): s.dropped[j, i] for j, i in zip(*np.nonzero(s.dropped != None), strict=True)}  # noqa: E711
    shifted = {k: v for k, v in got.items() if k[1] == 1}
    # the shifted stretch: inconsistent inside, off the curve at its ends
    assert set(shifted.values()) <= {"weidelt", "phase_outlier"} and len(shifted) >= 5
    assert list(shifted.values()).count("weidelt") >= 5 and all(13 <= j <= 27 for j, _ in shifted)
    assert {k: v for k, v in got.items() if k[1] != 1} == {(20, 0): "slope", (10, 2): "error", (30, 3): "skew"}
    assert s.inflation[30, 4] == pytest.approx(6.0 / SKEW_INFLATE) and (s.inflation > 1).sum() == 1
    assert s.counts["error"] == s.counts["skew"] == s.counts["slope"] == s.counts["skew_inflated"] == 1
    assert set(s.counts) <= set(REASONS) and SKEW_DROP > SKEW_INFLATE
    # the same spike in a curve with larger error bars is within them
    rho_wide = 0.6 * rho
    s = screen_soundings(FREQUENCIES, rho, phase, rho_wide, phase_std * 8, np.zeros(shape))
    assert s.dropped[20, 0] is None


def test_screen_rejects_arrays_of_the_wrong_shape():
    rho, phase = _curves([0, 1])
    with pytest.raises(ValueError, match="n_frequencies"):
        screen_soundings(FREQUENCIES[:-1], rho, phase, rho, phase, np.zeros(rho.shape))


PARALANA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "paralana")
CAPRICORN = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "capricorn_cp2")


@pytest.mark.needs_shared(PARALANA)
def test_default_band_keeps_every_frequency_of_paralana_and_reports_the_screen(caplog):
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(PARALANA)
    assert survey.frequencies.size == survey.band["available"] == 43
    assert survey.band["rule"] == "all frequencies, each sounding screened"
    summary = survey.summary()
    counts = summary["screen"]
    assert counts["phase in the wrong quadrant"] == {"dropped": 2}
    assert sum(c.get("dropped", 0) for c in counts.values()) == len(survey.dropped) == len(summary["dropped"])
    assert sum(c.get("down-weighted", 0) for c in counts.values()) == len(survey.downweighted) > 0
    for d in survey.downweighted:  # errors inflated by skew / 3 on those soundings
        assert d["factor"] > 1.0
    # dropped soundings are NaN; every kept one is finite with positive errors
    for mode in survey.modes:
        kept = np.isfinite(survey.rho[mode])
        assert np.all(survey.rho_std[mode][kept] > 0) and np.all(np.isfinite(survey.phase[mode][kept]))
    n_soundings = 2 * survey.frequencies.size * survey.n_stations
    assert survey.n_data // 2 == n_soundings - len(survey.dropped)
    # the notices are log records (shown whatever the warning filters)
    assert any("screen: dropped" in r.getMessage() for r in caplog.records)
    # the former default and the unscreened band
    skew = sz.read_edi_survey(PARALANA, band="skew")
    assert skew.frequencies.size == 21 and skew.downweighted == []
    assert sz.read_edi_survey(PARALANA, band="auto").frequencies.size == 21
    everything = sz.read_edi_survey(PARALANA, band="all")
    assert everything.frequencies.size == 43 and everything.downweighted == []
    assert everything.n_data > survey.n_data
    with pytest.raises(ValueError, match="band must be one of screen, skew, all, got 'some'"):
        sz.read_edi_survey(PARALANA, band="some")


@pytest.mark.needs_shared(CAPRICORN)
def test_default_band_keeps_the_crustal_profile(caplog):
    """Capricorn cp2 (250 Hz-1.2 mHz): every frequency kept, each reason
    reported; the soundings whose apparent resistivity falls faster than
    the period at the end of the band are dropped."""
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(CAPRICORN)
    assert survey.frequencies.size == survey.band["available"] == 36
    reasons = {d["reason"] for d in survey.dropped}
    assert REASONS["slope"] in reasons and REASONS["skew"] in reasons and REASONS["error"] in reasons
    kept = 1 - len(survey.dropped) / (2 * survey.frequencies.size * survey.n_stations)
    assert 0.6 < kept < 0.95


@pytest.mark.needs_shared(PARALANA)
def test_screen_figure_draws_every_sounding_once():
    """Per mode: one point per kept sounding, per down-weighted one and per
    dropped one, the legend counting each reason; station names in order."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from simpeg_zo.plot_field import plot_screen

    survey = sz.read_edi_survey(PARALANA)
    fig = plot_screen(survey)
    try:
        for ax, mode in zip(fig.axes, survey.modes, strict=True):
            drawn = {c.get_label(): len(c.get_offsets()) for c in ax.collections if not c.get_label().startswith("_")}
            n_kept = int(np.isfinite(survey.rho[mode]).sum())
            assert drawn.pop(f"kept ({n_kept})") == n_kept
            soft = sum(d["mode"] == mode for d in survey.downweighted)
            assert drawn.pop(f"errors inflated ({soft})") == soft
            assert sum(drawn.values()) == sum(d["mode"] == mode for d in survey.dropped)
            assert all(label.startswith("dropped: ") for label in drawn)
            assert [t.get_text() for t in ax.get_xticklabels()] == list(survey.names)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


#: A small two-mode survey over a dipping conductor (not 1D: the phase tensor has a strike).
ROTATED_SPEC = """
[survey]
stations = {start = 0, stop = 5000, count = 6}
frequencies = {max = 100, min = 0.1, count = 8}
modes = ["TE", "TM"]
[model]
background = 100
[[model.polygons]]
vertices = [[2000, 0], [2600, 0], [4600, 3000], [4000, 3000]]
resistivity = 3
"""


def test_a_station_missing_te_keeps_the_strike_and_its_tm_soundings(tmp_path):
    """EDI files of a line at azimuth 70 (strike -20): where one station lost
    its TE impedance at half its frequencies, its tensors (written in
    north/east, so every element is non-zero but the real part is singular)
    have no phase tensor. They neither pull the strike estimate (they had
    an arbitrary strike with ellipticity near 1, and moved it to -14
    degrees on a 12-station line) nor drop that station's TM soundings
    for skew."""
    spec = sz.parse_spec(ROTATED_SPEC)
    profile, _ = sz.synthetic_profile(spec, noise=False)
    dobs = {m: profile.data[m].dobs.copy() for m in profile.modes}
    te = profile.split(dobs["TE"], "TE")
    lost = np.arange(0, profile.n_frequencies, 2)
    rho, phase = te["apparent_resistivity"].copy(), te["phase"].copy()
    rho[lost, 2] = phase[lost, 2] = np.nan
    dobs["TE"] = profile.join(rho, phase)
    profile.set_data(dobs, relative_error=0.05, phase_error_degrees=1.43)
    sz.write_edi(profile, tmp_path, latitude=-21.0, longitude=131.0, azimuth=70.0)
    skew = sz._edi.phase_tensor(sz.read_edi_files(tmp_path)[2].impedance)[1]
    assert np.isnan(skew[lost]).all() and np.isfinite(np.delete(skew, lost)).all()
    survey = sz.read_edi_survey(tmp_path)
    assert survey.strike_estimated and abs(survey.strike + 20.0) < 0.1
    assert not any(d["reason"] == REASONS["skew"] for d in survey.dropped)
    # every TM sounding is kept, at the station with half its TE too
    assert np.isfinite(survey.rho["TM"]).all()
    assert np.isfinite(survey.rho["TE"][:, 2]).sum() == profile.n_frequencies - lost.size
    # the lost TE soundings are reported as missing, not as a wrong phase or error bar
    reasons = {d["reason"] for d in survey.dropped}
    assert reasons == {"impedance NaN or zero"} and len(survey.dropped) == lost.size
