"""Figures: depth of investigation, normalised residuals, and what the
model sections, response panels and pseudo-sections show (no inversions)."""

import numpy as np
import pytest

from simpeg_zo import build_profile
from simpeg_zo._mesh import MU0
from simpeg_zo._result import InversionResult
from simpeg_zo.plot import (
    RESISTIVITY_LABEL,
    _plain_number,
    default_depth_max,
    depth_of_investigation,
    misfit_text,
    normalised_residuals,
    plot_inversion,
    plot_model,
    plot_pseudosections,
    plot_residual_pseudosections,
    profile_depth_of_investigation,
    profile_residuals,
    result_predictions,
    static_shift_prediction,
)

plt = pytest.importorskip("matplotlib.pyplot")

FREQUENCIES = np.array([100.0, 10.0, 1.0])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _half_space_profile(rho=100.0, modes=("TE", "TM")):
    """A 4-station profile over rugged ground with the exact half-space
    response as its data (no forward solve)."""
    profile = build_profile(
        np.linspace(0.0, 6000.0, 4),
        FREQUENCIES,
        modes=modes,
        elevation=[0.0, 40.0, 80.0, 20.0],
        resistivity_range=(rho, rho),
    )
    phase = {"TE": 45.0, "TM": -135.0}
    dobs = {m: profile.join(rho, phase[m]) for m in profile.modes}
    return profile.set_data(dobs, relative_error=0.05, phase_error_degrees=2.0)


def _result(profile, *, extra=None):
    model = profile.half_space(100.0)
    dpred = {m: d.dobs.copy() for m, d in profile.data.items()}
    return InversionResult(
        method="zo",
        model=model,
        dpred=dpred,
        chi2=1.4,
        rms_percent=5.0,
        iterations=3,
        forward_solves=4,
        wall_seconds=2.0,
        history=[{"iteration": 0, "chi2": 3.0, "seconds": 0.0, "forward_solves": 1}],
        extra=extra or {},
    )


# ------------------------------------------------------------- depth of investigation
def test_doi_of_half_space_is_bostick_depth_of_lowest_frequency():
    rho = 100.0
    doi = depth_of_investigation(np.full((3, 5), rho), FREQUENCIES)
    omega = 2 * np.pi * FREQUENCIES.min()
    skin_depth = np.sqrt(2.0 / (omega * MU0 / rho))
    assert doi.shape == (5,)
    np.testing.assert_allclose(doi, np.sqrt(rho / (omega * MU0)), rtol=1e-12)
    np.testing.assert_allclose(doi, skin_depth / np.sqrt(2.0), rtol=1e-12)
    np.testing.assert_allclose(doi, 3558.8, atol=0.1)  # the docstring's number
    np.testing.assert_allclose(
        depth_of_investigation(np.full((3, 5), rho), FREQUENCIES, factor=np.sqrt(2)), skin_depth, rtol=1e-12
    )


def test_doi_uses_each_stations_longest_period_left():
    rho = np.full((3, 3), 10.0)
    rho[2, 1] = np.nan  # station 1 lost its 1 Hz sounding
    rho[:, 2] = np.nan  # station 2 has no data
    doi = depth_of_investigation(rho.T, FREQUENCIES, axis=1)
    np.testing.assert_allclose(doi[:2], np.sqrt(10.0 / (2 * np.pi * np.array([1.0, 10.0]) * MU0)))
    assert np.isnan(doi[2])


def test_doi_takes_the_deeper_mode_and_checks_its_input():
    rho = np.vstack([np.full((3, 2), 10.0), np.full((3, 2), 1000.0)])  # TE over TM
    doi = depth_of_investigation(rho, np.tile(FREQUENCIES, 2))
    np.testing.assert_allclose(doi, np.sqrt(1000.0 / (2 * np.pi * MU0)))
    with pytest.raises(ValueError, match="frequencies has 3 entries"):
        depth_of_investigation(rho, FREQUENCIES)
    with pytest.raises(ValueError, match="factor"):
        depth_of_investigation(rho, np.tile(FREQUENCIES, 2), factor=0.0)


def test_profile_doi_and_default_depth_range():
    profile = _half_space_profile(100.0)
    doi = profile_depth_of_investigation(profile)
    np.testing.assert_allclose(doi, np.sqrt(100.0 / (2 * np.pi * MU0)))
    top = profile.elevations.max()
    deepest = np.max(top - (profile.elevations - doi))
    depth = default_depth_max(profile)
    assert deepest < depth < top - profile.mesh.nodes_y[0]  # below the DOI, above the padding


# ------------------------------------------------------------- residuals
def test_normalised_residuals_sign_zero_and_dropped_data():
    r = normalised_residuals([10.0, 12.0, 8.0, 5.0], [10.0, 10.0, 10.0, 1.0], [1.0, 2.0, 0.5, np.inf])
    np.testing.assert_allclose(r[:3], [0.0, 1.0, -4.0])  # positive where the data lie above
    assert np.isnan(r[3])


def test_profile_residuals_are_the_chi2_terms():
    profile = _half_space_profile()
    zero = profile_residuals(profile, {m: d.dobs for m, d in profile.data.items()})
    for parts in zero.values():
        for r in parts.values():
            assert r.shape == (profile.n_frequencies, profile.n_stations)
            np.testing.assert_array_equal(r, 0.0)
    dpred = {m: d.dobs * 1.03 for m, d in profile.data.items()}
    r = profile_residuals(profile, dpred)
    squares = np.concatenate([v.ravel() ** 2 for parts in r.values() for v in parts.values()])
    assert np.mean(squares) == pytest.approx(profile.chi2(dpred))
    assert np.all(r["TE"]["apparent_resistivity"] < 0)  # predicted above the data


# ------------------------------------------------------------- titles
def test_misfit_text_names_static_shift_factors():
    profile = _half_space_profile(modes=("TE",))
    assert misfit_text(_result(profile)) == r"$\chi^2$ 1.40"
    text = misfit_text(_result(profile, extra={"chi2_with_static_shift": 1.1}))
    assert text == r"$\chi^2$ 1.40 (model) / 1.10 with static-shift factors"


def test_static_shift_prediction_multiplies_apparent_resistivity_only():
    profile = _half_space_profile(modes=("TE",))
    factors = {"TE": [2.0, None, 0.5, 1.0]}
    result = _result(profile, extra={"static_shift": {"stations": [], "factors": factors}})
    shifted = profile.split(static_shift_prediction(profile, result)["TE"], "TE")
    np.testing.assert_allclose(shifted["apparent_resistivity"][0], [200.0, 100.0, 50.0, 100.0])
    np.testing.assert_allclose(shifted["phase"], 45.0)
    assert list(result_predictions(profile, result)) == ["zo (model)", "zo with static-shift factors"]
    assert static_shift_prediction(profile, _result(profile)) is None
    assert list(result_predictions(profile, _result(profile))) == ["zo"]


# ------------------------------------------------------------- figures
def test_model_section_stops_below_doi_and_names_stations():
    profile = _half_space_profile()
    fig, ax = plt.subplots()
    plot_model(profile, profile.half_space(100.0), ax=ax, colorbar=True, title="t")
    bottom, top = ax.get_ylim()
    assert bottom > profile.mesh.nodes_y[0]  # not drawn down into the padding
    assert bottom < np.min(profile.elevations - profile_depth_of_investigation(profile))
    texts = {t.get_text() for t in ax.texts}
    assert {"S01", "S02", "S03", "S04", "DOI"} <= texts
    labels = [a.get_ylabel() for a in fig.axes if a is not ax]
    assert labels == [RESISTIVITY_LABEL]
    assert ax.get_xlabel() == "Distance (km)"


def test_model_section_uses_station_names_and_can_leave_the_doi_out():
    profile = _half_space_profile(modes=("TE",))
    profile.station_names = ["pb1", "pb2", "pb3", "pb4"]
    fig, ax = plt.subplots()
    plot_model(profile, profile.half_space(100.0), ax=ax, doi=False, depth_max=500.0)
    assert ax.get_ylim()[0] == pytest.approx(profile.elevations.max() - 500.0)
    texts = {t.get_text() for t in ax.texts}
    assert {"pb1", "pb4"} <= texts and "DOI" not in texts
    with pytest.raises(ValueError, match="one depth per station"):
        plot_model(profile, profile.half_space(100.0), ax=ax, doi=[1.0, 2.0])


def test_inversion_figure_title_is_honest_about_shifts():
    profile = _half_space_profile(modes=("TE",))
    fig = plot_inversion(profile, _result(profile, extra={"chi2_with_static_shift": 1.1}))
    title = fig.axes[0].get_title()
    assert "1.40 (model)" in title and "1.10 with static-shift factors" in title
    assert fig.axes[1].get_ylabel() == RESISTIVITY_LABEL


def test_log_tick_labels_are_plain_decimals():
    assert [_plain_number(v) for v in (0.02, 0.1, 1.0, 4.0, 300.0, 10000.0)] == [
        "0.02",
        "0.1",
        "1",
        "4",
        "300",
        "10000",
    ]
    from simpeg_zo.plot_field import plot_station_responses

    profile = _half_space_profile()
    dpred = {m: d.dobs * 1.1 for m, d in profile.data.items()}
    fig = plot_station_responses(profile, {"zo": dpred})
    labels = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    labels += [t.get_text() for ax in fig.axes for t in ax.get_yticklabels(minor=True) + ax.get_xticklabels(minor=True)]
    assert labels and not any("times" in s or "^" in s for s in labels)
    assert {"1", "10", "100"} <= set(labels) or {"0.01", "0.1", "1"} <= set(labels)


def test_pseudosection_and_residual_colour_bars_carry_units():
    profile = _half_space_profile()
    dpred = {m: d.dobs.copy() for m, d in profile.data.items()}
    fig = plot_pseudosections(profile, {"zo": dpred})
    cbars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(cbars) == 4
    assert all("(" in (a.get_xlabel() + a.get_ylabel()) for a in cbars)
    fig = plot_residual_pseudosections(profile, {"zo": dpred, "off": {m: d * 1.2 for m, d in dpred.items()}})
    cbars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(cbars) == 1 and "residual" in cbars[0].get_xlabel()
    panels = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(panels) == 2 * 4
    assert panels[0].get_title().endswith("RMS 0.00")
    image = panels[0].collections[0]
    assert image.get_clim() == (-3.0, 3.0)  # centred at 0
    with pytest.raises(ValueError, match="limit"):
        plot_residual_pseudosections(profile, {"zo": dpred}, limit=0.0)


def test_write_inversion_draws_model_and_residual_figures(tmp_path):
    from simpeg_zo import write_inversion

    profile = _half_space_profile(modes=("TE",))
    result = _result(
        profile,
        extra={
            "chi2_with_static_shift": 1.1,
            "static_shift": {"stations": [], "factors": {"TE": [2.0, 1.0, 1.0, 1.0]}},
        },
    )
    report = write_inversion(profile, result, tmp_path)
    for name in ("model", "misfit", "responses", "residuals"):
        assert (tmp_path / f"{name}.png").is_file(), name
        assert report["files"][name].endswith(f"{name}.png")


def test_comparison_models_figure(tmp_path):
    from types import SimpleNamespace

    from simpeg_zo.plot import plot_models

    profile = _half_space_profile(modes=("TE",))
    true = profile.half_space(100.0)
    true[profile.cell_depths < 300.0] = -np.log(10.0)
    comparison = SimpleNamespace(
        profile=profile,
        true_model=true,
        core={"depth": [0.0, 1000.0]},
        results={"zo": _result(profile, extra={"chi2_with_static_shift": 1.1})},
        model_log10_rmse=lambda m: 0.5,
    )
    fig = plot_models(comparison)
    sections = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert "with static-shift factors" in sections[1].get_title()
    for ax in sections:  # twice the scored depth, shallower than the DOI here
        assert ax.get_ylim()[0] == pytest.approx(profile.elevations.max() - 2000.0)
    fig.savefig(tmp_path / "models.png")


def test_pseudosections_leave_station_gaps_blank_and_thin_crowded_names():
    """Two clusters 4.5 km apart (spacing 500 m): the gap is an empty,
    hatched column, not two 2.5 km wide station cells; names closer than a
    line height are thinned, every station keeps its tick."""
    from simpeg_zo.plot import GAP_SPACINGS, _station_cells

    x = np.r_[np.arange(6) * 500.0, 7000.0 + np.arange(6) * 500.0]
    edges, columns, gaps = _station_cells(x)
    assert gaps == [(2750.0, 6750.0)] and 4500.0 > GAP_SPACINGS * 500.0
    widths = np.diff(edges)[columns]
    assert np.allclose(widths, 500.0)  # no station paints into the gap
    assert np.all((edges[columns] < x) & (x < edges[columns + 1]))
    # evenly spaced stations: the usual midpoints, no gap
    e2, c2, g2 = _station_cells(np.arange(8) * 300.0)
    assert g2 == [] and np.allclose(np.diff(e2), 300.0) and list(c2) == list(range(8))

    profile = _half_space_profile()
    dpred = {m: d.dobs * 1.1 for m, d in profile.data.items()}
    fig = plot_residual_pseudosections(profile, {"zo": dpred})
    assert not any(p.get_hatch() for ax in fig.axes for p in ax.patches)  # no gap there
    import matplotlib.pyplot as plt

    plt.close(fig)

    from simpeg_zo.plot import _label_stations

    fig, ax = plt.subplots(figsize=(4, 3))
    crowded = np.r_[np.linspace(0, 10000, 5), 10050.0, 10100.0]
    ax.set_xlim(crowded.min(), crowded.max())
    _label_stations(ax, crowded, [f"S{i}" for i in range(crowded.size)])
    shown = [t.get_text() for t in ax.texts if t.get_text()]
    ticks = [t for t in ax.texts if not t.get_text()]
    assert shown == ["S0", "S1", "S2", "S3", "S4"] and len(ticks) == crowded.size
    plt.close(fig)
