"""Profiles whose stations have different frequency sets (dropped data).

Dropped soundings stay in SimPEG's data vector with an infinite standard
deviation; they must never enter a misfit, a mean or a start model. A field
profile with uneven frequency sets used to give a 0 ohm-m half-space (the
geometric mean took the zeros) and a singular factorisation in GN.
"""

import numpy as np
import pytest

import simpeg_zo


@pytest.fixture(scope="module")
def uneven():
    spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("block-topo"), station_step=8, frequency_step=6)
    profile, true_model = simpeg_zo.synthetic_profile(spec)
    dobs = {}
    for mode, d in profile.data.items():
        parts = profile.split(d.dobs, mode)
        rho, phase = parts["apparent_resistivity"].copy(), parts["phase"].copy()
        rho[:3, 2] = phase[:3, 2] = np.nan  # station 2 lacks the three highest frequencies
        if mode == "TE":
            rho[-2:, 4] = phase[-2:, 4] = np.nan  # station 4 lacks the lowest two in TE
        dobs[mode] = profile.join(rho, phase)
    profile.set_data(dobs, relative_error=spec.error_relative, phase_error_degrees=spec.error_phase_degrees)
    return profile, true_model


def test_dropped_data_leave_means_and_counts(uneven):
    profile, _ = uneven
    full = 2 * 2 * profile.n_stations * profile.n_frequencies
    assert profile.n_data == full - 2 * 2 * 3 - 2 * 2
    rho = profile.observed("TE")["apparent_resistivity"]
    assert np.isnan(rho[:3, 2]).all() and np.isnan(rho[-2:, 4]).all()
    half = profile.resistivity(profile.half_space())[0]
    assert 50.0 < half < 200.0  # the observed data sit near 100 ohm-m


@pytest.mark.parametrize("method", ["gn", "gn-bostick", "zo", "zo-phase", "zo-gn"])
def test_every_method_runs_on_uneven_frequency_sets(uneven, method):
    profile, _ = uneven
    result = simpeg_zo.run_method(profile, method, max_iter=2)
    assert np.isfinite(result.chi2) and result.chi2 < 50.0
    assert np.all(np.isfinite(result.model))
    assert np.isfinite(profile.resistivity(result.model)).all()


@pytest.mark.parametrize("method", ["cnn", "cnn-zo"])
def test_learned_methods_run_on_uneven_frequency_sets(uneven, method):
    pytest.importorskip("torch")
    profile, _ = uneven
    result = simpeg_zo.run_method(profile, method, max_iter=1)
    assert np.isfinite(result.chi2)
    assert np.all(np.isfinite(result.model))


@pytest.mark.parametrize("method", ["zo", "gn"])
def test_the_target_counts_only_the_weighted_data(uneven, method):
    """chi2 divides the misfit by the data with a weight; so must the target.

    SimPEG's ``TargetMisfit`` takes ``chifact`` times the survey's ``nD``,
    left-out data included. With a target just below the first iteration's
    chi2, but above it counted over every datum, the run must not stop
    there and claim the target."""
    profile, _ = uneven
    everything = sum(d.dobs.size for d in profile.data.values())
    first = simpeg_zo.run_method(profile, method, max_iter=1, target_chi2=1e-6).history[1]["chi2"]
    target = first * (1.0 - 0.25 * (1.0 - profile.n_data / everything))
    assert target < first and first * profile.n_data < target * everything
    result = simpeg_zo.run_method(profile, method, max_iter=2, target_chi2=target)
    assert result.converged == (result.stop_reason == "target misfit reached")
    assert result.history[-1]["iteration"] == 2  # it went on past the first iteration


def test_a_script_target_over_unweighted_data_is_noted(uneven, caplog):
    """A user's TargetMisfit counts every datum of the survey, the left-out
    ones too; ZO prints chi2 over the weighted data. It says so, once, with
    the phi_d_star that stops at chifact of them."""
    import logging

    from simpeg import directives, inverse_problem, inversion, regularization

    profile, _ = uneven
    m0 = profile.half_space()
    reg = regularization.WeightedLeastSquares(profile.mesh, active_cells=profile.active_cells, reference_model=m0)
    opt = simpeg_zo.ZohdyOldenburg(maxIter=1)
    inv = inversion.BaseInversion(
        inverse_problem.BaseInvProblem(profile.data_misfit(), reg, opt),
        directiveList=[directives.TargetMisfit(chifact=1)],
    )
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        inv.run(m0)
    everything = sum(d.dobs.size for d in profile.data.values())
    said = [r.getMessage() for r in caplog.records if "TargetMisfit counts" in r.getMessage()]
    assert len(said) == 1
    assert f"all {everything} data" in said[0] and f"phi_d_star={profile.n_data}" in said[0]
