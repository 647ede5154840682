"""ZohdyOldenburg inside SimPEG: drop-in swap, recovery, step control."""

import numpy as np
import pytest
from simpeg import directives, inverse_problem, inversion, regularization

import simpeg_zo
from simpeg_zo import BostickStartingModel, ZohdyOldenburg


def small_h_layers(modes=("TE",)):
    """The paper's H-type earth on a small survey (fast)."""
    spec = simpeg_zo.load_spec("h-layers").replace(modes=modes)
    spec = spec.replace(stations=np.linspace(0.0, 4000.0, 5), frequencies=np.logspace(3, -2, 13))
    return simpeg_zo.synthetic_profile(spec, padding_skin_depths=1.5)


@pytest.fixture(scope="module")
def h_te():
    return small_h_layers(("TE",))


def standard_script(profile, opt, extra=()):
    """A SimPEG user's GN script; only ``opt`` (and ``extra``) change."""
    m0 = profile.half_space()
    dmis = profile.data_misfit()
    reg = regularization.WeightedLeastSquares(profile.mesh, active_cells=profile.active_cells, reference_model=m0)
    inv_prob = inverse_problem.BaseInvProblem(dmis, reg, opt)
    save = directives.SaveOutputDictEveryIteration()
    directive_list = [
        *extra,
        directives.BetaEstimate_ByEig(beta0_ratio=1.0, random_seed=0),
        directives.BetaSchedule(coolingFactor=2, coolingRate=1),
        directives.TargetMisfit(chifact=1),
        save,
    ]
    inv = inversion.BaseInversion(inv_prob, directiveList=directive_list)
    model = inv.run(m0)
    return model, inv_prob, save


def test_drop_in_swap(h_te):
    profile, true_model = h_te
    opt = ZohdyOldenburg(maxIter=8, use_phase=True)
    opt.remember("xc", ("chi2", lambda o: o.chi2))  # SimPEG's Remember, as GN scripts use it
    model, inv_prob, save = standard_script(profile, opt, [BostickStartingModel()])
    chi2 = inv_prob.phi_d / profile.n_data
    start = opt.history[0]["chi2"]
    # from the Bostick start (chi2 ~ 20) the misfit falls by an order of magnitude
    assert start > 5.0
    assert chi2 <= 1.0
    assert opt.stop_reason == "target misfit reached"
    # directives saw every accepted model, and so did Remember
    assert len(save.outDict) == opt.iter
    # (SimPEG's hooks run before doEndIteration's body: each entry is the iterate the step left)
    assert len(opt.recall("xc")) == opt.iter and all(x.shape == model.shape for x in opt.recall("xc"))
    assert np.all(np.diff(opt.recall("chi2")) <= 0)
    assert opt.forward_solves >= opt.iter + 1
    # the returned model is the one whose misfit the inverse problem holds
    d = profile.dpred(model)
    assert profile.chi2(d) == pytest.approx(chi2, rel=1e-6)


def test_recovers_h_type_layers(h_te):
    profile, true_model = h_te
    result = simpeg_zo.zohdy_oldenburg(profile, use_phase=True, target_chi2=0.5, max_iter=8)
    assert result.chi2 <= 1.0
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    depth = profile.cell_depths
    rho = np.exp(-result.model)
    centre = (x > 1500) & (x < 2500)
    top = np.median(rho[centre & (depth > 100) & (depth < 350)])
    conductor = np.min(rho[centre & (depth > 400) & (depth < 1500)])
    base = np.median(rho[centre & (depth > 3000) & (depth < 6000)])
    assert 60 < top < 160  # 100 ohm-m
    assert conductor < 30  # 10 ohm-m, smeared
    assert base > 300  # 1000 ohm-m
    assert conductor < top < base


def test_never_worse_than_start_and_monotone(h_te):
    profile, _ = h_te
    result = simpeg_zo.zohdy_oldenburg(profile, target_chi2=None, max_iter=4)
    chi2 = [h["chi2"] for h in result.history]
    assert all(b < a for a, b in zip(chi2, chi2[1:], strict=False))
    assert result.chi2 == pytest.approx(min(chi2), rel=1e-6)
    assert result.forward_solves >= len(chi2)


def test_gauss_newton_baseline_runs(h_te):
    profile, _ = h_te
    result = simpeg_zo.gauss_newton(profile, max_iter=2, max_iter_cg=10)
    assert result.iterations <= 2
    assert result.history[0]["iteration"] == 0
    assert result.chi2 < result.history[0]["chi2"]


def test_stall_rule_stops():
    from simpeg_zo._iteration import stalled

    assert stalled([100.0, 99.0, 98.0], 2, 0.05)
    assert not stalled([100.0, 90.0, 80.0], 2, 0.05)


def test_needs_an_inverse_problem():
    with pytest.raises(RuntimeError, match="BaseInvProblem"):
        ZohdyOldenburg().minimize(lambda *a, **k: 0.0, np.zeros(3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": 0}, "alpha"),
        ({"beta": 2}, "beta"),
        ({"memory": -1}, "memory"),
        ({"target_chi2": 0}, "target_chi2"),
        ({"tail_stop": 1.5}, "tail_stop"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ZohdyOldenburg(**kwargs)


def test_bostick_start_of_half_space_is_the_half_space():
    spec = simpeg_zo.parse_spec(
        """
[survey]
stations = { start = 0.0, stop = 2000.0, count = 3 }
frequencies = { max = 100.0, min = 0.1, count = 7 }
modes = ["TE", "TM"]
[model]
background = 50.0
"""
    )
    profile, true_model = simpeg_zo.synthetic_profile(spec, noise=False)
    m = simpeg_zo.bostick_model(profile.data_misfit())
    np.testing.assert_allclose(np.exp(-m), 50.0, rtol=0.03)


def _initialized_start(profile, opt, given, **options):
    """``BostickStartingModel(**options)`` after its ``initialize`` in an inversion run from ``given``."""
    reg = regularization.WeightedLeastSquares(profile.mesh, active_cells=profile.active_cells)
    inv_prob = inverse_problem.BaseInvProblem(profile.data_misfit(), reg, opt)
    directive = BostickStartingModel(**options)
    inversion.BaseInversion(inv_prob, directiveList=[directive])
    inv_prob.model = given
    directive.initialize()
    assert inv_prob.model is directive.model
    return directive


def test_bostick_start_hands_the_given_model_to_zo(h_te):
    """The directive starts from the Bostick model and hands the ``m0`` of
    ``inversion.run`` to a ZohdyOldenburg as its restart model (none with
    ``fallback=False``, none where ``m0`` is no model; other optimizers get
    the Bostick start alone)."""
    from simpeg import optimization

    profile, true_model = h_te
    bostick = simpeg_zo.bostick_model(profile.data_misfit())
    for opt, fallback, given, restarts in (
        (ZohdyOldenburg(), True, true_model, 1),
        (ZohdyOldenburg(), False, true_model, 0),
        (optimization.InexactGaussNewton(), True, true_model, 0),
        (ZohdyOldenburg(), True, np.full_like(true_model, np.nan), 0),
        (ZohdyOldenburg(), True, np.float64(-4.0), 0),
    ):
        directive = _initialized_start(profile, opt, given, fallback=fallback)
        np.testing.assert_allclose(directive.model, bostick)
        assert len(getattr(opt, "restart_models", [])) == restarts
        if restarts:
            assert opt.restart_models[0] is directive.given_model
            np.testing.assert_array_equal(directive.given_model, true_model)


def _script_misfits(mesh, stations, frequencies, rho, rng, *, modes=("TE",), key="sigmaMap", sign=-1.0):
    """A SimPEG user's data misfits on their own mesh, one per mode.

    Apparent resistivity (3 %) and phase (0.86 deg) of ``rho`` simulated with
    ``key = ExpMap(mesh)`` (model ``sign * log(rho)``), noise from ``rng``.
    """
    from simpeg import data, data_misfit, maps
    from simpeg.electromagnetics import natural_source as nsem

    classes = {
        "TE": (nsem.simulation.Simulation2DMagneticField, "yx"),
        "TM": (nsem.simulation.Simulation2DElectricField, "xy"),
    }
    locations = np.c_[stations, np.zeros(stations.size)]
    first = np.tile(np.r_[np.ones(stations.size), np.zeros(stations.size)], frequencies.size).astype(bool)
    terms = []
    for mode in modes:
        cls, orientation = classes[mode]
        receivers = [
            nsem.receivers.Impedance(locations, orientation=orientation, component=c)
            for c in ("apparent_resistivity", "phase")
        ]
        survey = nsem.Survey([nsem.sources.Planewave(receivers, frequency=f) for f in frequencies])
        sim = cls(mesh, survey=survey, solver=simpeg_zo.Pardiso, **{key: maps.ExpMap(mesh)})
        d = sim.dpred(sign * np.log(rho))
        std = np.where(first, 0.03 * np.abs(d), 0.86)
        dobs = d + std * rng.standard_normal(d.size)
        terms.append(
            data_misfit.L2DataMisfit(data=data.Data(survey, dobs=dobs, standard_deviation=std), simulation=sim)
        )
    return terms


def _hand_meshed_misfit(resistivity_map: bool):
    """A SimPEG user's TE script on their own TensorMesh, with rhoMap or sigmaMap."""
    from discretize import TensorMesh

    mesh = TensorMesh([[(100, 6, -1.5), (100, 12), (100, 6, 1.5)], [(50, 10, -1.4), (50, 12)]], origin="CN")
    mesh.origin = np.r_[mesh.origin[0], -mesh.h[1].sum()]
    active = np.ones(mesh.n_cells, dtype=bool)
    rho = np.where(mesh.cell_centers[:, 1] > -150.0, 100.0, 10.0)
    sign = 1.0 if resistivity_map else -1.0
    key = "rhoMap" if resistivity_map else "sigmaMap"
    rng = np.random.default_rng(0)
    (dmis,) = _script_misfits(mesh, np.linspace(-400.0, 400.0, 5), np.logspace(3, 0, 5), rho, rng, key=key, sign=sign)
    return mesh, active, dmis, sign


def test_resistivity_map_script_runs_as_conductivity_script():
    """rhoMap = ExpMap: SimPEG derives sigmaMap = ReciprocalMap * rhoMap; ZO reads it as log resistivity."""
    import pickle

    from simpeg_zo._layout import _model_map
    from simpeg_zo._workers import _Recipe

    runs = {}
    for resistivity_map in (True, False):
        mesh, active, dmis, sign = _hand_meshed_misfit(resistivity_map)
        assert _model_map(dmis.simulation)[1] == -sign  # +1: log conductivity
        # the Dask recipe rebuilds the simulation with the map the script set
        rebuilt = pickle.loads(pickle.dumps(_Recipe(dmis.simulation))).build()
        m = sign * np.log(np.full(mesh.n_cells, 30.0))
        np.testing.assert_allclose(rebuilt.dpred(m), dmis.simulation.dpred(m), rtol=1e-10)
        m0 = np.full(mesh.n_cells, sign * np.log(100.0))
        reg = regularization.WeightedLeastSquares(mesh, active_cells=active, reference_model=m0)
        opt = ZohdyOldenburg(maxIter=3)
        inv_prob = inverse_problem.BaseInvProblem(dmis, reg, opt)
        beta = directives.BetaEstimate_ByEig(random_seed=0)
        directive_list = [BostickStartingModel(), beta, directives.TargetMisfit()]
        model = inversion.BaseInversion(inv_prob, directiveList=directive_list).run(m0)
        runs[resistivity_map] = (sign * model, [h["chi2"] for h in opt.history])
    # the same inversion in either parametrisation: log conductivity = -log resistivity
    np.testing.assert_allclose(runs[True][1], runs[False][1], rtol=1e-6)
    np.testing.assert_allclose(runs[True][0], runs[False][0], atol=1e-6)
    assert runs[True][1][-1] < 0.5 * runs[True][1][0]


def test_short_padding_moves_the_boundary_columns():
    """A hand mesh whose padding is shorter than the deepest skin depth.

    SimPEG's 2D MT simulations take their side boundary fields from the 1D
    solution of the outermost columns, so on such a mesh the long periods
    depend on those columns' model. ZO must move them (with their part of
    the Jacobian): holding them at the Bostick start stalled this script at
    chi2 4 where Gauss-Newton reaches 1.2 (and ZO now 0.9).
    """
    from discretize import TensorMesh

    mesh = TensorMesh([[(50, 8, -1.4), (50, 40), (50, 8, 1.4)], [(25, 16, -1.35), (25, 30)]], origin="CN")
    mesh.origin = np.r_[mesh.origin[0], -mesh.h[1].sum()]
    active = np.ones(mesh.n_cells, dtype=bool)
    cc = mesh.cell_centers
    rho = np.where(cc[:, 1] > -200, 100.0, np.where(cc[:, 1] > -600, 10.0, 300.0))
    rho[(np.abs(cc[:, 0]) < 200) & (cc[:, 1] < -100) & (cc[:, 1] > -400)] = 500.0
    stations, frequencies = np.linspace(-500.0, 500.0, 11), np.logspace(3, -1, 12)
    terms = _script_misfits(mesh, stations, frequencies, rho, np.random.default_rng(1), modes=("TE", "TM"))
    m0 = np.full(mesh.n_cells, -np.log(100.0))
    reg = regularization.WeightedLeastSquares(mesh, active_cells=active, reference_model=m0)
    opt = ZohdyOldenburg(maxIter=10)
    inv_prob = inverse_problem.BaseInvProblem(terms[0] + terms[1], reg, opt)
    directive_list = [BostickStartingModel(), directives.BetaEstimate_ByEig(random_seed=0), directives.TargetMisfit()]
    inversion.BaseInversion(inv_prob, directiveList=directive_list).run(m0)
    n_data = sum(t.nD for t in terms)
    assert opt.history[0]["chi2"] > 50.0
    assert opt.stop_reason == "target misfit reached"
    assert inv_prob.phi_d / n_data <= 1.0


def _tiny_tm_misfit(components, mapping="injected"):
    """A TM data misfit on a small tensor mesh with air above z = 0."""
    import discretize
    from simpeg import data, data_misfit, maps
    from simpeg.electromagnetics import natural_source as nsem

    earth = [50.0] * 8 + [50.0 * 1.5**k for k in range(1, 9)]
    air = [50.0 * 2.0**k for k in range(8)]
    mesh = discretize.TensorMesh([[(100.0, 6, -1.5), (100.0, 12), (100.0, 6, 1.5)], earth[::-1] + air], "C0")
    mesh.origin = np.r_[mesh.origin[0], -sum(earth)]
    active = mesh.cell_centers[:, 1] < 0
    if mapping == "injected":
        sigma_map = maps.ExpMap(mesh) * maps.InjectActiveCells(mesh, active, np.log(1e-8))
        m = np.full(active.sum(), np.log(0.01))
    else:  # every cell a model cell, air included
        sigma_map = maps.ExpMap(mesh)
        m = np.where(active, np.log(0.01), np.log(1e-8))
    x = np.linspace(-400.0, 400.0, 5)
    rxs = [nsem.receivers.Impedance(np.c_[x, np.zeros(5)], orientation="xy", component=c) for c in components]
    survey = nsem.Survey([nsem.sources.Planewave(rxs, frequency=f) for f in (100.0, 10.0, 1.0)])
    sim = nsem.simulation.Simulation2DElectricField(mesh, survey=survey, sigmaMap=sigma_map)
    d = sim.dpred(m)
    return data_misfit.L2DataMisfit(data.Data(survey, dobs=d, standard_deviation=0.05 * np.abs(d) + 1e-3), sim)


@pytest.mark.parametrize("part", ["real", "imag"])
def test_one_part_of_the_impedance_is_no_sounding(part):
    """Impedance data with only the real (or only the imaginary) part: a
    clear error. They had given a Bostick start of 1 ohm-m and an error
    from numpy deep in the subspace directions."""
    from simpeg_zo._layout import layout_from_misfit

    with pytest.raises(ValueError, match="one part alone is no sounding"):
        layout_from_misfit(_tiny_tm_misfit((part,)))
    assert layout_from_misfit(_tiny_tm_misfit(("real", "imag"))).frequency.size == 15


def test_a_map_without_active_cells_over_air_is_warned_of(caplog):
    """sigmaMap = ExpMap(mesh) with air cells in the mesh: the air is model
    cells, and ZO's depths and Bostick start would treat it as earth."""
    import logging

    from simpeg_zo._layout import layout_from_misfit

    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        layout_from_misfit(_tiny_tm_misfit(("real", "imag"), mapping="all"))
    assert any(
        "no InjectActiveCells" in r.getMessage() and "above the receivers" in r.getMessage() for r in caplog.records
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        layout_from_misfit(_tiny_tm_misfit(("real", "imag")))
    assert not caplog.records
