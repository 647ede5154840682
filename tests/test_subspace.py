"""Subspace Gauss-Newton steps (pure functions) and the two ZO variants:
the paper's Jacobian-free iteration and the default that keeps descending."""

import os

import numpy as np
import pytest

import simpeg_zo
from simpeg_zo._roughness import roughness
from simpeg_zo._subspace import (
    gradient_direction,
    lateral_windows,
    smooth_on_grid,
    smoothest_coefficients,
    subspace_coefficients,
    update_damping,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_subspace_coefficients_solve_the_small_least_squares_problem():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((50, 4))
    a_true = np.array([0.5, -2.0, 0.0, 1.0])
    r = B @ a_true
    a, predicted = subspace_coefficients(B, r, 0.0)
    np.testing.assert_allclose(a, a_true, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(predicted, r @ r, rtol=1e-9)
    # damping shortens the step and lowers the predicted decrease
    a_damped, pred_damped = subspace_coefficients(B, r, 10.0)
    assert np.linalg.norm(a_damped) < np.linalg.norm(a) and 0 < pred_damped < predicted
    # a direction the data cannot see gets no weight
    B0 = np.c_[B, np.zeros(50)]
    a0, _ = subspace_coefficients(B0, r, 0.0)
    assert a0[-1] == 0.0


def _occam_problem(seed=0):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((40, 5))
    r = rng.standard_normal(40)
    A = rng.standard_normal((5, 5))
    H = A @ A.T + 0.1 * np.eye(5)
    g = rng.standard_normal(5)
    return B, r, g, H


def test_smoothest_step_is_the_norms_minimum_where_the_misfit_allows():
    B, r, g, H = _occam_problem()
    c, misfit, change = smoothest_coefficients(B, r, g, H, 1e9, 0.0)
    np.testing.assert_allclose(c, -np.linalg.solve(H, g), rtol=1e-6)
    np.testing.assert_allclose(misfit, np.sum((r - B @ c) ** 2), rtol=1e-9)
    np.testing.assert_allclose(change, g @ c + 0.5 * c @ H @ c, rtol=1e-9)


def test_smoothest_step_meets_the_misfit_and_no_feasible_step_is_smoother():
    B, r, g, H = _occam_problem(1)
    lowest = np.sum((r - B @ np.linalg.lstsq(B, r, rcond=None)[0]) ** 2)
    allowed = 0.5 * (lowest + r @ r)
    c, misfit, change = smoothest_coefficients(B, r, g, H, allowed, 0.0)
    assert misfit == pytest.approx(allowed, rel=1e-3) and misfit <= allowed
    # every other step with a misfit within the allowed one changes the norm more
    rng = np.random.default_rng(2)
    for _ in range(2000):
        trial = c + 0.3 * rng.standard_normal(5)
        if np.sum((r - B @ trial) ** 2) <= allowed:
            assert g @ trial + 0.5 * trial @ H @ trial >= change - 1e-9
    # where no step reaches the allowed misfit: the least-squares step
    c_ls, misfit_ls, _ = smoothest_coefficients(B, r, g, H, 0.5 * lowest, 0.0)
    assert misfit_ls == pytest.approx(lowest, rel=1e-6)


def test_roughness_keeps_the_smoothness_terms_only():
    from discretize import TensorMesh
    from simpeg import regularization

    mesh = TensorMesh([np.full(8, 10.0), np.full(6, 5.0)])
    reg = regularization.WeightedLeastSquares(mesh, reference_model=np.zeros(mesh.n_cells), alpha_s=1e-2, alpha_x=0.2)
    m = np.random.default_rng(0).standard_normal(mesh.n_cells)
    terms = {
        getattr(o, "orientation", None) if isinstance(o, regularization.SmoothnessFirstOrder) else type(o).__name__: w
        * o(m)
        for w, o in zip(reg.multipliers, reg.objfcts, strict=True)
        if w != 0
    }
    small, along_x, along_z = terms["Smallness"], terms["x"], terms["y"]
    # every orientation: the regularisation less its smallness
    every = roughness(reg, None)
    np.testing.assert_allclose(every(m), reg(m) - small, rtol=1e-10)
    np.testing.assert_allclose(every.deriv(m), reg.deriv(m) - reg.multipliers[0] * reg.objfcts[0].deriv(m))
    # the default: across the profile only, zero for a layered model
    np.testing.assert_allclose(roughness(reg)(m), along_x, rtol=1e-10)
    assert along_z > 0
    layered = np.repeat(np.arange(6.0), 8)
    assert roughness(reg)(layered) == pytest.approx(0.0, abs=1e-12) and every(layered) > 0
    flat = np.full(mesh.n_cells, 2.0)
    assert reg(flat) > 0 and every(flat) == pytest.approx(0.0, abs=1e-12)
    # a sum of regularisations: the terms of each, with their weights
    both = reg + 2.0 * regularization.WeightedLeastSquares(mesh, alpha_s=1.0, alpha_x=1.0, alpha_y=0.0)
    np.testing.assert_allclose(roughness(both)(m), along_x * (1 + 2.0 / 0.2), rtol=1e-10)
    # no term across: all smoothness terms; no smoothness term: the regularisation
    vertical = regularization.WeightedLeastSquares(mesh, alpha_s=1.0, alpha_x=0.0, alpha_y=1.0)
    np.testing.assert_allclose(roughness(vertical)(m), vertical(m) - vertical.objfcts[0](m), rtol=1e-10)
    small_only = regularization.Smallness(mesh)
    assert roughness(small_only) is small_only


def test_smoothing_steps_lower_the_roughness_without_raising_the_misfit():
    """Tiny TE+TM block: after the target, the Occam steps keep the misfit
    at or below the one the target was reached with and lower the roughness
    of the inversion's regularisation across the profile."""
    spec = simpeg_zo.load_spec(os.path.join(ROOT, "benchmarks", "specs", "tiny-block.toml"))
    profile, _ = simpeg_zo.synthetic_profile(spec)
    plain = simpeg_zo.zohdy_oldenburg(profile, use_phase=True, smoothing_steps=0)
    smooth = simpeg_zo.zohdy_oldenburg(profile, use_phase=True)
    assert plain.chi2 <= 1.0 and smooth.extra["stage"] == "smoothing"
    assert smooth.chi2 <= plain.chi2
    # the same iterations up to the target, then steps that stay below its misfit
    assert [h["chi2"] for h in smooth.history[: len(plain.history)]] == [h["chi2"] for h in plain.history]
    assert len(smooth.history) > len(plain.history)
    assert all(h["chi2"] <= plain.chi2 for h in smooth.history[len(plain.history) :])
    from simpeg import regularization

    from simpeg_zo._gn import GN_SETTINGS

    reg = regularization.WeightedLeastSquares(
        profile.mesh,
        active_cells=profile.active_cells,
        alpha_s=0.0,
        alpha_x=GN_SETTINGS["alpha_x"],
        alpha_y=0.0,
    )
    assert reg(smooth.model) < 0.8 * reg(plain.model)


def test_damping_follows_the_prediction_quality():
    assert update_damping(1e-3, 0.95) < 1e-3 < update_damping(1e-3, 0.1) < update_damping(1e-3, -0.5)
    assert update_damping(1e-3, 0.5) == 1e-3
    assert update_damping(1e-6, 1.0) == 1e-6  # floor


def test_lateral_windows_are_a_partition_of_unity():
    x = np.linspace(-500, 2500, 301)
    w = lateral_windows(x, np.linspace(0, 2000, 11), 4)
    assert w.shape == (301, 4)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert np.all(w >= 0)
    np.testing.assert_allclose(w[x <= 0, 0], 1.0)


def test_smoothing_keeps_constants_and_ignores_inactive_cells():
    shape = (20, 10)
    active = np.ones(200, dtype=bool)
    active.reshape(shape, order="F")[:, 7:] = False  # air on top
    values = np.full(active.sum(), 3.0)
    np.testing.assert_allclose(smooth_on_grid(values, shape, active, (2.0, 1.5)), 3.0)
    spike = np.zeros(active.sum())
    spike[50] = 1.0
    smooth = smooth_on_grid(spike, shape, active, (2.0, 1.5))
    assert smooth.max() < 1.0 and smooth.sum() > 0.5
    d = gradient_direction(-spike, np.ones(active.sum()), shape, active, (2.0, 1.5))
    assert d.max() == pytest.approx(1.0) and d.argmax() == 50


def test_paper_zo_needs_no_jacobian_product(monkeypatch):
    """The paper's method (memory=0, subspace=False) runs with SimPEG's
    Jacobian products disabled and counts none of its own."""
    spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("h-layers"), station_step=10, frequency_step=6)
    profile, _ = simpeg_zo.synthetic_profile(spec.replace(modes=("TE",)))
    for sim in profile.simulations.values():
        for name in ("Jvec", "Jtvec", "getJ", "getJtJdiag"):
            monkeypatch.setattr(sim, name, lambda *a, **k: (_ for _ in ()).throw(AssertionError("J product")))
    result = simpeg_zo.zohdy_oldenburg(
        profile, use_phase=True, memory=0, subspace=False, lateral_coupling=0.0, frequency_window=0.0, max_iter=4
    )
    assert result.iterations >= 1 and result.chi2 < result.history[0]["chi2"]
    assert result.extra["jacobian_products"] == {"jvec": 0, "jtvec": 0}


def test_default_zo_keeps_descending_where_the_fixed_point_stalls():
    """A 3-station joint TE+TM block: the fixed point stalls far above the
    target; the default ZO (subspace stage) reaches chi2 <= 1.2."""
    spec = simpeg_zo.load_spec(os.path.join(ROOT, "benchmarks", "specs", "tiny-block.toml"))
    profile, _ = simpeg_zo.synthetic_profile(spec)
    paper = simpeg_zo.zohdy_oldenburg(
        profile, use_phase=True, memory=0, subspace=False, lateral_coupling=0.0, frequency_window=0.0, max_iter=30
    )
    default = simpeg_zo.zohdy_oldenburg(profile, use_phase=True, max_iter=30)
    assert paper.chi2 > 5.0
    assert default.chi2 <= 1.2
    # the subspace stage's products: with more directions than the three
    # stations they come from the rows of J (adjoint solves)
    assert default.extra["stage"] in ("subspace", "smoothing")
    assert default.extra["jacobian_products"]["jtvec"] > 0


def test_option_typos_are_type_errors():
    with pytest.raises(TypeError, match="'maxIte'"):
        simpeg_zo.ZohdyOldenburg(maxIte=3)
    with pytest.raises(TypeError):
        simpeg_zo.ZohdyOldenburg(3)
    opt = simpeg_zo.ZohdyOldenburg(maxIter=3, tolF=1e-3)  # Minimize's own options pass through
    assert opt.maxIter == 3


def test_zo_recovers_a_conductive_block():
    """A 10 ohm-m block in 100 ohm-m under 9 stations, TE+TM: the default ZO
    fits the data and puts the conductor where it is."""
    spec = simpeg_zo.parse_spec("""
        name = "block"
        [survey]
        stations = { start = 0.0, stop = 4000.0, count = 9 }
        frequencies = { max = 300.0, min = 0.1, count = 7 }
        modes = ["TE", "TM"]
        [noise]
        relative = 0.02
        phase_degrees = 0.57
        seed = 1
        [errors]
        relative = 0.05
        phase_degrees = 1.43
        [model]
        background = 100.0
        [[model.blocks]]
        x = [1500.0, 2500.0]
        depth = [300.0, 900.0]
        resistivity = 10.0
    """)
    profile, true_model = simpeg_zo.synthetic_profile(spec)
    result = simpeg_zo.zohdy_oldenburg(profile, use_phase=True, max_iter=20)
    assert result.chi2 <= 1.0
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    depth = profile.cell_depths
    log_rho = np.log10(profile.resistivity(result.model))
    inside = (np.abs(x - 2000.0) < 300.0) & (depth > 400.0) & (depth < 800.0)
    beside = (np.abs(x - 2000.0) > 1200.0) & (x > 0) & (x < 4000.0) & (depth > 400.0) & (depth < 800.0)
    assert np.median(log_rho[inside]) < 1.6  # 10 ohm-m is 1.0, the background 2.0
    assert abs(np.median(log_rho[beside]) - 2.0) < 0.25
    assert np.median(log_rho[beside]) - np.median(log_rho[inside]) > 0.5
