"""The Gauss-Newton baseline: ``getJtJdiag`` of the profile's simulations
(what SimPEG's Jacobi preconditioner and sensitivity weights need) and GN
with that preconditioner on a layered earth."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from simpeg import directives, inverse_problem, optimization, regularization

import simpeg_zo

TOPO_SPEC = """
name = "hill"
[survey]
stations = { start = 0.0, stop = 2000.0, count = 5 }
frequencies = { max = 100.0, min = 0.1, count = 4 }
modes = ["TE", "TM"]
[model]
background = 100.0
[[model.blocks]]
x = [500.0, 1500.0]
depth = [300.0, 900.0]
resistivity = 10.0
[topography]
x = [0.0, 1000.0, 2000.0]
elevation = [0.0, 150.0, 0.0]
"""


@pytest.fixture(scope="module")
def hill():
    profile, _ = simpeg_zo.synthetic_profile(simpeg_zo.parse_spec(TOPO_SPEC))
    rng = np.random.default_rng(3)
    model = profile.half_space() + 0.5 * rng.standard_normal(profile.half_space().size)
    return profile, model


def _rows_squared(sim, model, W):
    """sum_k (J^T W^T e_k)^2 through SimPEG's own Jtvec, datum by datum."""
    f = sim.fields(model)
    out = np.zeros(model.size)
    for k in range(W.shape[0]):
        out += np.asarray(sim.Jtvec(model, np.asarray(W[k].todense()).ravel(), f=f)) ** 2
    return out


@pytest.mark.parametrize("mode", ["TE", "TM"])
def test_jtj_diagonal_matches_the_jacobian_rows(hill, mode):
    """diag(J^T W^T W J) equals the sum of the squared rows of W J formed
    with SimPEG's Jtvec, for a diagonal and a non-diagonal W, under
    topography (receiver cells, boundary columns and all)."""
    profile, model = hill
    sim = profile.simulations[mode]
    n = sim.survey.nD
    rng = np.random.default_rng(0)
    W = sp.diags(rng.uniform(0.5, 2.0, n)).tocsr()
    expected = _rows_squared(sim, model, W)
    got = simpeg_zo.jtj_diagonal(sim, model, W=W)
    assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(expected)
    assert np.count_nonzero(expected) > model.size // 4
    # the method SimPEG's directives call, with the fields of the same model
    sim.fields(model)
    assert np.allclose(sim.getJtJdiag(model, W=W), expected, rtol=1e-10, atol=1e-12 * expected.max())
    # a non-diagonal W couples data: row by row
    W2 = (W + sp.diags(0.3 * np.ones(n - 1), 1)).tocsr()
    expected2 = _rows_squared(sim, model, W2)
    got2 = simpeg_zo.jtj_diagonal(sim, model, W=W2)
    assert np.allclose(got2, expected2, rtol=1e-10, atol=1e-12 * expected2.max())
    with pytest.raises(ValueError, match="W must be"):
        simpeg_zo.jtj_diagonal(sim, model, W=sp.identity(n + 1))


def _mixed_receivers(profile, mode):
    """A simulation of ``mode`` whose sources hold the impedance's real and
    imaginary parts, apparent resistivity and phase at every station and a
    phase receiver at every other station (two frequencies)."""
    from simpeg.electromagnetics import natural_source as nsem

    sim0 = profile.simulations[mode]
    rx0 = sim0.survey.source_list[0].receiver_list[0]
    locations, orientation = rx0.locations_e, rx0.orientation
    receivers = [
        nsem.receivers.Impedance(locations, orientation=orientation, component=c)
        for c in ("real", "imag", "apparent_resistivity", "phase")
    ]
    receivers.append(nsem.receivers.Impedance(locations[::2], orientation=orientation, component="phase"))
    survey = nsem.Survey([nsem.sources.Planewave(receivers, frequency=f) for f in (30.0, 0.3)])
    return type(sim0)(sim0.mesh, survey=survey, sigmaMap=sim0.sigmaMap, solver=sim0.solver), survey


@pytest.mark.parametrize("mode", ["TE", "TM"])
def test_jtj_diagonal_of_impedance_parts_and_mixed_stations(hill, mode):
    """Real and imaginary impedance parts, apparent resistivity and phase on
    one source, and receivers at different station sets (rows built from one
    complex adjoint solve per station and orientation where they share
    stations): the squared rows of W J through SimPEG's Jtvec."""
    profile, model = hill
    sim, survey = _mixed_receivers(profile, mode)
    rng = np.random.default_rng(2)
    W = sp.diags(rng.uniform(0.5, 2.0, survey.nD)).tocsr()
    expected = _rows_squared(sim, model, W)
    got = simpeg_zo.jtj_diagonal(sim, model, W=W)
    assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(expected)


@pytest.mark.parametrize("mode", ["TE", "TM"])
def test_jacobian_products_from_the_rows_with_mixed_receivers(hill, mode):
    """With more directions than stations the engine takes J D from the rows
    of J (one adjoint solve per station and impedance): impedance parts,
    apparent resistivity and phase on one source, a receiver at every other
    station, directions that reach the boundary columns, all equal SimPEG's
    Jvec; so do the gradients taken from the same rows."""
    profile, model = hill
    sim, survey = _mixed_receivers(profile, mode)
    rng = np.random.default_rng(4)
    k = 2 * profile.n_stations + 3  # more than the 2 station sets' solves
    D = rng.standard_normal((model.size, k))
    dobs = rng.standard_normal(survey.nD)
    weights = rng.uniform(0.5, 2.0, survey.nD)
    engine = simpeg_zo.ForwardEngine([sim])
    assert engine.max_adjoint_solves < k
    out = engine.evaluate(model, dobs=[dobs], weights=[weights], directions=D)
    assert engine.jvec_products == 0 and engine.jtvec_products > 0
    f = sim.fields(model)
    d = sim.dpred(model, f=f)
    for j in (0, k // 2, k - 1):
        jv = sim.Jvec(model, D[:, j], f=f)
        np.testing.assert_allclose(out["jd"][0][:, j], jv, atol=1e-9 * np.abs(jv).max())
    g = sim.Jtvec(model, 2 * weights**2 * (d - dobs), f=f)
    np.testing.assert_allclose(out["gradients"][0], g, atol=1e-9 * np.abs(g).max())


@pytest.mark.parametrize("mode", ["TE", "TM"])
def test_jacobian_rows_equal_simpeg_jvec(hill, mode):
    """The rows of J the engine hands back (``rows=True``: the adjoint
    solves of the diagonal) times any direction equal SimPEG's Jvec, for
    impedance parts, apparent resistivity and phase and a receiver at every
    other station; without the boundary part, for directions that leave
    the outermost columns alone. Their diagonal is the engine's."""
    from simpeg_zo._terms import _boundary_parameters

    profile, model = hill
    sim, survey = _mixed_receivers(profile, mode)
    rng = np.random.default_rng(5)
    weights = rng.uniform(0.5, 2.0, survey.nD)
    engine = simpeg_zo.ForwardEngine([sim])
    assert engine.rows_affordable(model.size)
    out = engine.evaluate(model, weights=[weights], jtj_diagonal=True, rows=True)
    rows = out["rows"][0]
    assert rows.shape == (survey.nD, model.size) and np.all(np.isfinite(rows))
    np.testing.assert_allclose(out["jtj_diagonal"], (weights[:, None] ** 2 * rows**2).sum(axis=0), rtol=1e-10)
    f = sim.fields(model)
    boundary = _boundary_parameters(sim, model)
    assert 0 < boundary.sum() < model.size // 2
    inner = engine.evaluate(model, rows=True, boundary_gradient=False)["rows"][0]
    for _ in range(2):
        v = rng.standard_normal(model.size)
        jv = sim.Jvec(model, v, f=f)
        np.testing.assert_allclose(rows @ v, jv, atol=1e-9 * np.abs(jv).max())
        v[boundary] = 0.0
        jv = sim.Jvec(model, v, f=f)
        np.testing.assert_allclose(inner @ v, jv, atol=1e-9 * np.abs(jv).max())
    # a budget that holds them in single precision only: the same rows to
    # float32's precision, the diagonal still from the double-precision rows
    engine.max_rows_bytes = rows.nbytes - 1
    assert engine.rows_dtype(model.size) == "float32" and engine.rows_affordable(model.size)
    single = engine.evaluate(model, weights=[weights], jtj_diagonal=True, rows=True)
    assert single["rows"][0].dtype == np.float32 and single["rows_stacked"].dtype == np.float32
    np.testing.assert_allclose(single["rows"][0], rows, rtol=0, atol=1e-6 * np.abs(rows).max())
    np.testing.assert_allclose(single["jtj_diagonal"], out["jtj_diagonal"], rtol=1e-10)
    engine.max_rows_bytes = rows.nbytes // 2 - 1
    assert engine.rows_dtype(model.size) is None and not engine.rows_affordable(model.size)


def test_forward_engine_jtj_diagonal(hill):
    """The engine's diagonal (taken beside a forward pass, one
    factorisation per frequency, as ZO's subspace stage takes it) equals
    the squared rows of W J through SimPEG's Jtvec, summed over the modes;
    its adjoint solves (one per station, mode and frequency: apparent
    resistivity and phase rows from one complex solve) count as one Jtvec
    product of each mode's simulation per station (a Jtvec being one solve
    per frequency)."""
    profile, model = hill
    sims = [profile.simulations[m] for m in ("TE", "TM")]
    rng = np.random.default_rng(1)
    weights = [rng.uniform(0.5, 2.0, sim.survey.nD) for sim in sims]
    expected = sum(_rows_squared(sim, model, sp.diags(w).tocsr()) for sim, w in zip(sims, weights, strict=True))
    engine = simpeg_zo.ForwardEngine(sims)
    out = engine.evaluate(model, weights=weights, jtj_diagonal=True)
    assert np.allclose(out["jtj_diagonal"], expected, rtol=1e-10, atol=1e-12 * expected.max())
    n_stations = [sim.survey.nD // (2 * len(sim.survey.frequencies)) for sim in sims]
    assert engine.jtvec_products == sum(n_stations)
    assert out["gradients"] == {}
    assert engine.evaluate(model)["jtj_diagonal"] is None
    with pytest.raises(ValueError, match="needs the data weights"):
        engine.evaluate(model, jtj_diagonal=True)


def test_jtj_diagonal_follows_the_model(hill):
    """getJtJdiag at another model than the last fields' recomputes them."""
    profile, model = hill
    sim = profile.simulations["TM"]
    W = sp.identity(sim.survey.nD, format="csr")
    sim.fields(model)
    other = model + 0.7
    assert np.allclose(sim.getJtJdiag(other, W=W), _rows_squared(sim, other, W), rtol=1e-10)


def test_simpeg_jacobi_preconditioner_directive_runs(hill):
    """SimPEG's own UpdatePreconditioner sets 1 / (diag(J^T W^T W J) +
    beta diag(R)) as the CG preconditioner on the profile's simulations."""
    profile, model = hill
    dmis = profile.data_misfit()
    reg = regularization.WeightedLeastSquares(
        profile.mesh, active_cells=profile.active_cells, reference_model=profile.half_space()
    )
    opt = optimization.InexactGaussNewton(maxIter=1)
    inv_prob = inverse_problem.BaseInvProblem(dmis, reg, opt, beta=2.0)
    inv_prob.model = model
    directive = directives.UpdatePreconditioner()
    directive.inversion = type("Inv", (), {"invProb": inv_prob, "opt": opt, "reg": reg, "dmisfit": dmis})()
    directive.initialize()
    jtj = sum(simpeg_zo.jtj_diagonal(o.simulation, model, W=o.W) for o in dmis.objfcts)
    reg_diag = reg.deriv2(model).diagonal()  # the directive wraps the WLS as one term
    assert np.allclose(opt.approxHinv.diagonal(), 1.0 / (jtj + 2.0 * reg_diag), rtol=1e-10)


def test_gauss_newton_fits_a_layered_earth():
    """h-layers TE from its half-space: the documented recipe (Jacobi
    preconditioned CG) reaches chi2 <= 1 within 10 iterations (SimPEG's
    default CG preconditioner stalls near chi2 70 on this case); the
    preconditioner's adjoint solves are counted among its products."""
    spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("h-layers"), station_step=10, frequency_step=6)
    profile, _ = simpeg_zo.synthetic_profile(spec.replace(modes=("TE",)))
    assert simpeg_zo.GN_SETTINGS["preconditioner"] is True
    result = simpeg_zo.gauss_newton(profile, max_iter=10)
    assert result.history[0]["chi2"] > 100
    assert result.chi2 <= 1.0
    products = result.extra["jacobian_products"]
    assert products["jvec"] > 0
    # each iteration's Jacobi diagonal (one adjoint solve per station and
    # frequency) counts as one Jtvec per station, beside the CG's products
    assert products["jtvec"] >= products["jvec"] + profile.n_stations * result.iterations


TINY_TE = """
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


@pytest.fixture(scope="module")
def tiny():
    profile, _ = simpeg_zo.synthetic_profile(simpeg_zo.parse_spec(TINY_TE))
    return profile


def _inv_problem(profile):
    from simpeg_zo._gn import GN_SETTINGS, _CountingInvProblem, _regularization

    reg = _regularization(profile, profile.half_space(), GN_SETTINGS)
    return _CountingInvProblem(profile.data_misfit(), reg, optimization.InexactGaussNewton())


def test_line_search_trials_outside_the_bounds_cost_no_forward(tiny):
    """A trial model beyond the log-conductivity bounds, or not finite,
    evaluates to inf without a forward solve; one inside is evaluated; a
    gradient evaluation is never silenced."""
    lo, hi = simpeg_zo.LOG_CONDUCTIVITY_BOUNDS
    # the bounds hold every earth material (1e-4 to 1e9 ohm-m) and keep exp finite
    assert np.exp(-hi) == pytest.approx(1e-4) and np.exp(-lo) == pytest.approx(1e9) and np.isfinite(np.exp(hi))
    inv_prob = _inv_problem(tiny)
    inv_prob.beta, inv_prob.phi_d, inv_prob.phi_m = 1.0, np.nan, np.nan
    m = tiny.half_space()
    assert lo < m.min() and m.max() < hi
    for bad in (hi + 1.0, lo - 1.0, np.nan):
        trial = m.copy()
        trial[len(trial) // 2] = bad
        assert inv_prob.evalFunction(trial, return_g=False, return_H=False) == np.inf
    assert inv_prob.forward_count == 0 and inv_prob.rejected_trials == 3
    phi = inv_prob.evalFunction(m, return_g=False, return_H=False)
    assert np.isfinite(phi) and phi > 0 and inv_prob.forward_count == 1
    bad = m.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError), np.errstate(invalid="ignore"):
        inv_prob.evalFunction(bad, return_g=True, return_H=False)


def test_gauss_newton_shortens_steps_whose_forward_fails(tiny, monkeypatch):
    """Every other line-search trial fails the way SimPEG's non-finite
    dpred check does: GN treats it as a rise of the objective, halves the
    step and goes on descending, with no error."""
    original = inverse_problem.BaseInvProblem.evalFunction
    trials = {"n": 0}

    def flaky(self, m, return_g=True, return_H=True):
        if not return_g and not return_H and m is not self.opt.xc:
            trials["n"] += 1
            if trials["n"] % 2 == 1:
                raise ValueError("dpred() returned an array that contains nans and/or infs")
        return original(self, m, return_g=return_g, return_H=return_H)

    monkeypatch.setattr(inverse_problem.BaseInvProblem, "evalFunction", flaky)
    result = simpeg_zo.gauss_newton(tiny, max_iter=3)
    assert "error" not in result.extra and not result.stop_reason.startswith("failed")
    assert result.iterations == 3
    assert result.extra["rejected_trials"] == (trials["n"] + 1) // 2 >= 3
    chi2 = [h["chi2"] for h in result.history]
    assert chi2[-1] < 0.5 * chi2[0]
    assert result.chi2 == pytest.approx(chi2[-1], rel=1e-6)


def test_gauss_newton_keeps_its_last_model_when_an_iteration_fails(tiny, monkeypatch):
    """An error at the end of iteration 3 ends the run with iteration 3's
    model (the last one accepted), a ``failed`` stop reason and the error
    named."""
    from simpeg_zo._gn import _Recorder

    original = _Recorder.endIter
    calls = {"n": 0}

    def breaking(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("PARDISO phase 22 failed")
        return original(self)

    monkeypatch.setattr(_Recorder, "endIter", breaking)
    result = simpeg_zo.gauss_newton(tiny, max_iter=5)
    assert result.stop_reason == "failed: RuntimeError: PARDISO phase 22 failed"
    assert result.extra["error"] == "RuntimeError: PARDISO phase 22 failed"
    # iteration 3's model, accepted by SimPEG before its record broke, ends the history
    assert [h["iteration"] for h in result.history] == [0, 1, 2, 3] and result.iterations == 3
    assert result.chi2 == pytest.approx(result.history[-1]["chi2"]) and np.isfinite(result.chi2)


def test_one_spelling_of_the_iteration_limit(tiny):
    """gauss_newton and zohdy_oldenburg take max_iter; an unknown GN setting
    or SimPEG's maxIter is a TypeError naming it, before any simulation."""
    with pytest.raises(TypeError, match="unknown settings 'max_iterations'"):
        simpeg_zo.gauss_newton(tiny, max_iterations=3)
    with pytest.raises(TypeError, match="max_iter, not maxIter"):
        simpeg_zo.zohdy_oldenburg(tiny, maxIter=3)
    result = simpeg_zo.zohdy_oldenburg(tiny, max_iter=1, target_chi2=None)
    assert result.iterations <= 1


def test_gauss_newton_projects_its_trials_onto_the_bounds(tiny, monkeypatch):
    """With bounds that bind (half a decade around the half-space, far
    narrower than the shipped ones), GN's line search clips its trials onto
    them (SimPEG's projected Armijo search): every model stays inside, no
    trial is rejected, and the misfit still falls."""
    import simpeg_zo._gn as gn

    centre = float(np.mean(tiny.half_space()))
    lo, hi = centre - 0.5 * np.log(10), centre + 0.5 * np.log(10)
    monkeypatch.setattr(gn, "LOG_CONDUCTIVITY_BOUNDS", (lo, hi))
    result = simpeg_zo.gauss_newton(tiny, max_iter=3)
    assert lo - 1e-12 <= result.model.min() and result.model.max() <= hi + 1e-12
    assert np.isclose(result.model, lo).any() or np.isclose(result.model, hi).any()  # they bound
    assert result.extra["rejected_trials"] == 0
    assert result.chi2 < 0.5 * result.history[0]["chi2"]
