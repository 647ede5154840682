"""The direct solvers (MKL PARDISO through ctypes, SuperLU) and the forward
engine (forward only, frequencies on Dask workers).

CI installs the ``pardiso`` extra and sets ``SIMPEG_ZO_REQUIRE_PARDISO=1``,
so there the PARDISO tests must run; elsewhere they skip when MKL is absent.
"""

import os

import numpy as np
import pytest
import scipy.sparse as sp

import simpeg_zo
from simpeg_zo import _solvers
from simpeg_zo._forward import ForwardEngine, forward_dpred
from simpeg_zo._solvers import Pardiso, SolverUnavailableError, SuperLU, get_solver, pardiso_available

needs_pardiso = pytest.mark.skipif(
    not pardiso_available() and not os.environ.get("SIMPEG_ZO_REQUIRE_PARDISO"),
    reason="MKL PARDISO not installed (pip install mkl)",
)


def test_pardiso_loads_where_required():
    if os.environ.get("SIMPEG_ZO_REQUIRE_PARDISO"):
        assert pardiso_available(), _solvers._MKL_ERROR


def _complex_symmetric(n, seed):
    rng = np.random.default_rng(seed)
    A = sp.random(n, n, density=0.05, random_state=rng) + 1j * sp.random(n, n, density=0.05, random_state=rng)
    A = A + A.T + sp.diags(4.0 + 1j * rng.uniform(1, 2, n))
    return A.tocsr()


@needs_pardiso
@pytest.mark.parametrize("kind", ["complex-symmetric", "complex", "real-symmetric", "real"])
def test_pardiso_solves(kind):
    n = 200
    rng = np.random.default_rng(1)
    A = _complex_symmetric(n, 2)
    if kind == "complex":
        A = (A + sp.random(n, n, density=0.02, random_state=rng) * 1j).tocsr()
    if kind.startswith("real"):
        A = sp.csr_matrix(A.real + sp.diags(np.full(n, 10.0)))
        if kind == "real":
            A = (A + sp.random(n, n, density=0.02, random_state=rng)).tocsr()
    b = rng.standard_normal((n, 3)) + (1j * rng.standard_normal((n, 3)) if kind.startswith("complex") else 0)
    solver = Pardiso(A)
    assert solver.is_symmetric == kind.endswith("symmetric")
    x = solver @ b
    np.testing.assert_allclose(A @ x, b, atol=1e-10 * np.abs(b).max())
    x1 = solver @ b[:, 0]
    np.testing.assert_allclose(x1, x[:, 0], rtol=1e-12)
    # transposed solves (SimPEG's Jtvec on a non-symmetric system)
    xt = solver.T @ b
    np.testing.assert_allclose(A.T @ xt, b, atol=1e-10 * np.abs(b).max())
    solver.clean()
    solver.clean()  # twice is harmless


@needs_pardiso
def test_symmetry_to_rounding_and_not_beyond():
    A = _complex_symmetric(100, 3)
    i, j = [(r, c) for r, c in zip(*A.nonzero(), strict=True) if r != c][0]
    bumped = A.copy()
    bumped[i, j] = bumped[i, j] * (1 + 1e-14)
    assert Pardiso(bumped).is_symmetric
    bumped[i, j] = bumped[i, j] * (1 + 1e-3)
    assert not Pardiso(bumped).is_symmetric


@needs_pardiso
def test_ordering_is_reused_for_the_same_pattern():
    _solvers.clear_orderings()
    A = _complex_symmetric(150, 4)
    B = A.copy()
    B.data = B.data * (1.5 - 0.3j)
    first = Pardiso(A)
    key = _solvers._pattern_key(6, 150, first._ia, first._ja)
    assert _solvers._cached_ordering(key) is not None
    b = np.ones(150, dtype=complex)
    reused = Pardiso(B)
    fresh = Pardiso(B, reuse_ordering=False)
    np.testing.assert_allclose(reused @ b, fresh @ b, rtol=1e-10)
    np.testing.assert_allclose(B @ (reused @ b), b, atol=1e-10)


@needs_pardiso
def test_symbolic_analysis_is_reused_after_clean():
    """A released symmetric solver's analysis (factors freed) serves the next
    matrix of the same pattern, which then gets the numerical factorisation
    only: its solutions equal a fresh factorisation's; an unsymmetric matrix
    keeps none; clear_orderings releases them."""
    _solvers.clear_orderings()
    A = _complex_symmetric(150, 4)
    B = A.copy()
    B.data = B.data * (1.5 - 0.3j)
    b = np.arange(150.0) + 0.5j
    first = Pardiso(A)
    key = first._key
    first.clean()
    assert len(_solvers._ANALYSES[key]) == 1
    second = Pardiso(B)
    assert len(_solvers._ANALYSES[key]) == 0  # taken
    fresh = Pardiso(B, reuse_ordering=False)
    np.testing.assert_allclose(second @ b, fresh @ b, rtol=1e-10)
    np.testing.assert_allclose(B @ (second @ b), b, atol=1e-10)
    second.clean()
    fresh.clean()  # no key: released
    assert len(_solvers._ANALYSES[key]) == 1
    third = Pardiso(A)  # back to the first values on the kept analysis
    np.testing.assert_allclose(A @ (third @ b), b, atol=1e-10)
    third.clean()
    unsymmetric = Pardiso(A + sp.triu(A, 1) * 0.5)
    assert unsymmetric._key is None
    unsymmetric.clean()
    _solvers.clear_orderings()
    assert not _solvers._ANALYSES


def test_superlu_solves_and_transposes():
    A = _complex_symmetric(120, 5) + sp.random(120, 120, density=0.02, random_state=6)
    b = np.arange(120.0) + 1j
    solver = SuperLU(A)
    np.testing.assert_allclose(A @ (solver @ b), b, atol=1e-9)
    np.testing.assert_allclose(A.T @ (solver.T @ b), b, atol=1e-9)


def test_solver_names_and_bad_names():
    assert get_solver("superlu")[0] is SuperLU
    with pytest.raises(ValueError, match="unknown solver 'mumps'"):
        get_solver("mumps")


def test_pardiso_unavailable_says_so(monkeypatch):
    monkeypatch.setattr(_solvers, "_load_mkl", lambda: None)
    monkeypatch.setattr(_solvers, "_MKL_ERROR", "libmkl_rt not found")
    assert get_solver("auto")[0] is SuperLU
    with pytest.raises(SolverUnavailableError, match="SuperLU fallback"):
        get_solver("pardiso")


def test_cli_pardiso_unavailable_exits_2(monkeypatch, capsys):
    from simpeg_zo.cli import main

    monkeypatch.setattr(_solvers, "_load_mkl", lambda: None)
    monkeypatch.setattr(_solvers, "_MKL_ERROR", "libmkl_rt not found")
    assert main(["compare", "block-topo", "--solver", "pardiso"]) == 2
    err = capsys.readouterr().err
    assert "--solver pardiso" in err and "SuperLU" in err and "Traceback" not in err


def _small_profile(solver, modes=("TE", "TM")):
    spec = simpeg_zo.load_spec("block-topo")
    spec = simpeg_zo.decimate_survey(spec, station_step=8, frequency_step=12).replace(modes=tuple(modes))
    return simpeg_zo.synthetic_profile(spec, noise=False, solver=solver)


@needs_pardiso
def test_simpeg_simulations_agree_with_both_solvers():
    """TE and TM data with PARDISO and SuperLU agree far below data errors.

    The TE system (air at 1e8 ohm-m in C^T M_rho C) is ill-conditioned: both
    solvers leave relative residuals near 4e-7 and their TE solutions differ
    by about 1e-4, which moves low-frequency TE apparent resistivities by up
    to 5e-4 (relative); TM agrees to rounding."""
    p_lu, m = _small_profile("superlu")
    p_mkl, _ = _small_profile("pardiso")
    assert p_lu.solver == "superlu" and p_mkl.solver == "pardiso"
    for mode, rtol in (("TE", 2e-3), ("TM", 1e-7)):
        a = p_lu.simulations[mode].dpred(m)
        b = p_mkl.simulations[mode].dpred(m)
        np.testing.assert_allclose(b, a, rtol=rtol)


def test_forward_only_matches_simpeg_dpred():
    p, m = _small_profile("auto")
    for sim in p.simulations.values():
        expected = sim.dpred(m)
        np.testing.assert_allclose(forward_dpred(sim, m), expected, rtol=1e-10)
        # no factorisation kept
        sim.Ainv = [None] * len(sim.survey.frequencies)
        forward_dpred(sim, m * 1.01)
        assert all(a is None for a in sim.Ainv)
    one = p.frequencies[1]
    d = forward_dpred(p.simulations["TE"], m, frequencies=[one])
    assert np.isfinite(d).sum() == 2 * p.n_stations


def test_forward_engine_on_two_dask_workers_matches_serial():
    pytest.importorskip("dask.distributed")
    p, m = _small_profile("auto")
    sims = list(p.simulations.values())
    serial = ForwardEngine(sims).dpred(m)
    with ForwardEngine(sims, workers=2) as engine:
        assert engine.n_workers == 2
        parallel = engine.dpred(m)
        again = engine.dpred(m * 1.02)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10)
    assert not np.allclose(again[0], parallel[0])


def test_dask_workers_give_the_same_products_and_counts():
    """Gradients, the J^T W^T W J diagonal, J D (from the rows of J) and
    the rows themselves (in double precision and, with a budget that holds
    them only in single precision, in single) on two Dask workers, each
    taking some frequencies: the same values and the same Jacobian product
    counts as in this process."""
    pytest.importorskip("dask.distributed")
    p, m = _small_profile("auto")
    sims = list(p.simulations.values())
    weights = [np.ones(sim.survey.nD) for sim in sims]
    dobs = [p.data[mode].dobs for mode in p.simulations]
    D = np.random.default_rng(5).standard_normal((m.size, p.n_stations + 2))
    options = {"dobs": dobs, "weights": weights, "directions": D, "jtj_diagonal": True, "rows": True}
    serial_engine = ForwardEngine(sims)
    serial = serial_engine.evaluate(m, **options)
    single_bytes = serial["rows_stacked"].nbytes // 2
    with ForwardEngine(sims, workers=2) as engine:
        parallel = engine.evaluate(m, **options)
        counts = (engine.jvec_products, engine.jtvec_products)
        engine.max_rows_bytes = single_bytes
        single = engine.evaluate(m, rows=True)
    assert counts == (serial_engine.jvec_products, serial_engine.jtvec_products)
    rows = serial["rows_stacked"]
    assert rows.dtype == np.float64 and np.all(np.isfinite(rows))
    np.testing.assert_allclose(parallel["rows_stacked"], rows, rtol=1e-10, atol=1e-12 * np.abs(rows).max())
    assert single["rows_stacked"].dtype == np.float32
    np.testing.assert_allclose(single["rows_stacked"], rows, rtol=0, atol=1e-6 * np.abs(rows).max())
    np.testing.assert_allclose(parallel["jtj_diagonal"], serial["jtj_diagonal"], rtol=1e-10)
    np.testing.assert_allclose(parallel["gradients"][0], serial["gradients"][0], rtol=1e-10, atol=1e-14)
    for a, b in zip(serial["jd"], parallel["jd"], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12 * np.abs(a).max())


@pytest.mark.parametrize("route", ["tangent", "adjoint"])
def test_engine_gradients_and_jacobian_products_match_simpeg(route):
    """Adjoint and tangent solves on each frequency's one factorisation equal
    SimPEG's Jtvec and Jvec (which keep every factorisation). With fewer
    directions than stations, J D comes from one tangent solve per direction
    (counted as one Jvec of each simulation per direction); with more, from
    the rows of J (one adjoint solve per station, counted as one Jtvec of
    each simulation per station), which also give the gradients."""
    p, m = _small_profile("auto")
    m1 = m + 0.1 * np.sin(np.arange(m.size))
    sims = list(p.simulations.values())
    dobs = [p.data[mode].dobs for mode in p.simulations]
    weights = [
        np.where(np.isfinite(p.data[mode].standard_deviation), 1 / p.data[mode].standard_deviation, 0.0)
        for mode in p.simulations
    ]
    component = np.tile(np.r_[np.zeros(p.n_stations, int), np.ones(p.n_stations, int)], p.n_frequencies)
    groups = [component + 2 * i for i in range(len(sims))]  # (mode, component) groups
    k = 2 if route == "tangent" else p.n_stations + 3
    D = np.random.default_rng(0).standard_normal((m.size, k))
    engine = ForwardEngine(sims)
    out = engine.evaluate(m1, dobs=dobs, weights=weights, groups=groups, directions=D)
    assert sorted(out["gradients"]) == [0, 1, 2, 3]
    if route == "tangent":
        assert engine.jtvec_products == 4 and engine.jvec_products == 2 * k
    else:
        assert engine.jtvec_products == 4 + 2 * p.n_stations and engine.jvec_products == 0
    for i, sim in enumerate(sims):
        f = sim.fields(m1)
        d = sim.dpred(m1, f=f)
        np.testing.assert_allclose(out["dpred"][i], d, rtol=1e-12)
        for j in (0, k - 1):
            jv = sim.Jvec(m1, D[:, j], f=f)
            np.testing.assert_allclose(out["jd"][i][:, j], jv, atol=1e-9 * np.abs(jv).max())
        r = 2 * weights[i] ** 2 * (d - dobs[i])
        for c in (0, 1):
            g = sim.Jtvec(m1, r * (component == c), f=f)
            np.testing.assert_allclose(out["gradients"][2 * i + c], g, atol=1e-9 * np.abs(g).max())
