"""ZO on meshes a user builds: hand-built tensor meshes and tree meshes.

The scripts here use SimPEG's own 2D MT classes (no profile, no
``getJtJdiag``), as a user's script would.
"""

import discretize
import numpy as np
import pytest
from discretize.utils import active_from_xyz
from simpeg import data, data_misfit, directives, inverse_problem, inversion, maps, regularization
from simpeg.electromagnetics import natural_source as nsem

from simpeg_zo import BostickStartingModel, Pardiso, ZohdyOldenburg
from simpeg_zo._layout import layout_from_misfit, sounding_state
from simpeg_zo._mesh import cell_depths, column_surface, surface_elevation
from simpeg_zo._zo import grid_rows, level_rows

STATIONS = np.linspace(-1000.0, 1000.0, 9)
FREQUENCIES = np.logspace(2, -1, 5)


def _hill(x):
    return 100.0 * np.exp(-((np.asarray(x) / 600.0) ** 2))


def tensor_mesh():
    earth = [20.0] * 15
    while sum(earth) < 60_000:
        earth.append(earth[-1] * 1.3)
    air = [20.0] * 8
    while sum(air) < 60_000:
        air.append(air[-1] * 1.5)
    hx = [(50.0, 12, -1.4), (50.0, 50), (50.0, 12, 1.4)]
    return discretize.TensorMesh([hx, np.r_[earth[::-1], air]], origin=["C", -sum(earth)])


def tree_mesh(topography=None):
    h = 25.0
    n = 2**12
    mesh = discretize.TreeMesh([[(h, n)], [(h, n)]], origin=[-n * h / 2, -n * h / 2], diagonal_balance=False)
    x = np.linspace(-3000, 3000, 601)
    z = np.zeros_like(x) if topography is None else topography(x)
    mesh.refine_surface(np.c_[x, z], level=-1, padding_cells_by_level=[3, 3, 4, 4], finalize=False)
    mesh.refine_box([-2000.0, -3000.0], [2000.0, 200.0], levels=-3, finalize=False)
    mesh.finalize()
    return mesh


def true_resistivity(centres, elevation):
    depth = elevation(centres[:, 0]) - centres[:, 1]
    rho = np.full(len(centres), 100.0)
    rho[(np.abs(centres[:, 0] + 300.0) < 350.0) & (depth > 150.0) & (depth < 600.0)] = 5.0
    return rho


RHO_PHASE = ("apparent_resistivity", "phase")
IMPEDANCE = ("real", "imag")


def standard_directives():
    return [
        BostickStartingModel(),
        directives.BetaEstimate_ByEig(beta0_ratio=1.0, random_seed=0),
        directives.BetaSchedule(coolingFactor=2, coolingRate=1),
        directives.TargetMisfit(chifact=1),
    ]


def script(
    mesh,
    opt,
    elevation=_hill,
    seed=3,
    components=RHO_PHASE,
    directive_list=None,
    sparse=False,
    stations=STATIONS,
    frequencies=FREQUENCIES,
    classes=(nsem.simulation.Simulation2DMagneticField, nsem.simulation.Simulation2DElectricField),
    missing=0.0,
):
    """A user's SimPEG script: its own mesh, receivers, data and errors.

    Returns ``(inversion, inverse problem, data misfit, m0, true model,
    active cells)``; ``classes`` are the TE and TM simulation classes.
    ``missing``: the share of soundings left out at random, so that each
    frequency has its own receivers (as field data do).
    """
    x = np.linspace(mesh.nodes_x[0], mesh.nodes_x[-1], 4001)
    active = active_from_xyz(mesh, np.c_[x, elevation(x)])
    mapping = maps.ExpMap(mesh) * maps.InjectActiveCells(mesh, active, np.log(1e-8))
    m_true = -np.log(true_resistivity(mesh.cell_centers[active], elevation))
    rng = np.random.default_rng(seed)
    terms = []
    for cls, orientation in zip(classes, ("yx", "xy"), strict=True):
        kept = [stations[rng.random(stations.size) >= missing] if missing else stations for _ in frequencies]
        survey = nsem.Survey(
            [
                nsem.sources.Planewave(
                    [
                        nsem.receivers.Impedance(np.c_[at, elevation(at)], orientation=orientation, component=c)
                        for c in components
                    ],
                    frequency=f,
                )
                for at, f in zip(kept, frequencies, strict=True)
            ]
        )
        sim = cls(mesh, survey=survey, sigmaMap=mapping, solver=Pardiso)
        d = sim.dpred(m_true)
        # per frequency: the first part's values, then the second's
        first = np.concatenate([np.r_[np.ones(at.size), np.zeros(at.size)] for at in kept]).astype(bool)
        if components == RHO_PHASE:
            std = np.where(first, 0.05 * np.abs(d), 2.0)  # 5 % and 2 degrees
        else:
            # 2.5 % of |Z| on each part (5 % in apparent resistivity)
            parts = np.split(0.025 * np.hypot(d[first], d[~first]), np.cumsum([at.size for at in kept])[:-1])
            std = np.concatenate([np.tile(part, 2) for part in parts])
        dobs = d + std * rng.standard_normal(d.size)
        observed = data.Data(survey, dobs=dobs, standard_deviation=std)
        terms.append(data_misfit.L2DataMisfit(data=observed, simulation=sim))
    dmis = terms[0] + terms[1]
    m0 = np.full(int(active.sum()), -np.log(100.0))
    if sparse:
        reg = regularization.Sparse(mesh, active_cells=active, reference_model=m0, norms=[0, 1, 1])
    else:
        reg = regularization.WeightedLeastSquares(mesh, active_cells=active, reference_model=m0)
    inv_prob = inverse_problem.BaseInvProblem(dmis, reg, opt)
    inv = inversion.BaseInversion(
        inv_prob, directiveList=standard_directives() if directive_list is None else directive_list
    )
    return inv, inv_prob, dmis, m0, m_true, active


def test_surface_of_any_mesh_matches_tensor_columns():
    mesh = tensor_mesh()
    x = np.linspace(mesh.nodes_x[0], mesh.nodes_x[-1], 4001)
    active = active_from_xyz(mesh, np.c_[x, _hill(x)])
    columns = column_surface(mesh, active)
    np.testing.assert_array_equal(surface_elevation(mesh, active, mesh.cell_centers_x), columns)
    # the hill is on the mesh: the discrete surface rises by ~100 m at x = 0
    assert columns.max() - columns[0] == pytest.approx(100.0, abs=20.0)


def test_tree_mesh_surface_and_depths():
    step = 100.0

    def topography(x):
        return np.where(np.asarray(x) > 0.0, step, 0.0)

    mesh = tree_mesh(topography)
    x = np.linspace(mesh.nodes_x[0], mesh.nodes_x[-1], 4001)
    active = active_from_xyz(mesh, np.c_[x, topography(x)])
    # the 25 m surface cells put the discrete surface on the step's values
    np.testing.assert_allclose(surface_elevation(mesh, active, [-1500.0, -200.0, 200.0, 1500.0]), [0, 0, step, step])
    depth = cell_depths(mesh, active)[active]
    centres = mesh.cell_centers[active]
    # cells on one side of the step, where the surface is refined, lie below
    # that side's surface
    one_side = (np.abs(centres[:, 0]) > mesh.h_gridded[active, 0] / 2) & (np.abs(centres[:, 0]) < 2500.0)
    np.testing.assert_allclose(depth[one_side], (topography(centres[:, 0]) - centres[:, 1])[one_side], atol=1e-9)
    assert depth.min() > 0


def test_level_rows_are_the_rows_of_a_tensor_mesh():
    mesh = tensor_mesh()
    x = np.linspace(mesh.nodes_x[0], mesh.nodes_x[-1], 4001)
    active = active_from_xyz(mesh, np.c_[x, _hill(x)])
    centres = mesh.cell_centers[active]
    by_level = level_rows(centres[:, 0], centres[:, 1])
    by_grid = grid_rows(mesh.shape_cells, active)
    assert len(by_level) == len(by_grid)
    for a, b in zip(by_level, by_grid, strict=True):
        np.testing.assert_array_equal(a, b)


def test_tree_layout_columns_under_stations():
    mesh = tree_mesh(_hill)
    inv, inv_prob, dmis, m0, m_true, active = script(mesh, ZohdyOldenburg())
    layout = layout_from_misfit(dmis)
    assert layout.grid_shape == ()
    assert sum(r.size for r in layout.rows) == active.sum()
    centres = mesh.cell_centers[active]
    widths = mesh.h_gridded[active]
    for xs, cells in zip(layout.geometry.station_x, layout.geometry.column_cells, strict=True):
        assert np.all(np.abs(centres[cells, 0] - xs) <= widths[cells, 0] / 2)
        assert np.all(np.diff(centres[cells, 1]) < 0)  # shallowest first
        # the column reaches from the surface cell to the mesh bottom
        assert layout.geometry.cell_depth[cells[0]] < 20.0
        assert np.sum(widths[cells, 1]) > 50_000


@pytest.mark.parametrize("use_phase", [False, True])
def test_zo_inverts_a_tree_mesh_script(use_phase):
    mesh = tree_mesh(_hill)
    opt = ZohdyOldenburg(maxIter=15, use_phase=use_phase)
    inv, inv_prob, dmis, m0, m_true, active = script(mesh, opt)
    _assert_fits_and_finds_the_conductor(inv.run(m0), opt, inv_prob, dmis, mesh, active)


def _assert_fits_and_finds_the_conductor(model, opt, inv_prob, dmis, mesh, active):
    """At the target, with the conductor's cells closer to 5 ohm-m than the start (by half at least)."""
    n_data = sum(t.simulation.survey.nD for t in dmis.objfcts)
    assert opt.stop_reason == "target misfit reached"
    assert inv_prob.phi_d / n_data <= 1.0
    block = true_resistivity(mesh.cell_centers[active], _hill) < 10
    start_error = np.abs(np.log10(100.0 / 5.0))
    assert np.median(np.abs(np.log10(np.exp(-model[block]) / 5.0))) < 0.5 * start_error


# 2.5 % on each part of Z is tighter than 2 degrees in phase: more iterations
@pytest.mark.parametrize(("components", "max_iter"), [(RHO_PHASE, 15), (IMPEDANCE, 25)], ids=["rho-phase", "impedance"])
def test_zo_inverts_a_hand_built_tensor_mesh_script(components, max_iter):
    mesh = tensor_mesh()
    opt = ZohdyOldenburg(maxIter=max_iter, use_phase=True)
    inv, inv_prob, dmis, m0, m_true, active = script(mesh, opt, components=components)
    n_data = sum(t.simulation.survey.nD for t in dmis.objfcts)
    inv.run(m0)
    assert opt.stop_reason == "target misfit reached"
    assert inv_prob.phi_d / n_data <= 1.0


def test_zo_inverts_a_script_whose_frequencies_each_have_their_own_stations():
    """Field-style receivers: a third of the soundings missing, stations unsorted, frequencies ascending."""
    mesh = tensor_mesh()
    opt = ZohdyOldenburg(maxIter=15)
    stations = np.random.default_rng(0).permutation(STATIONS)
    inv, inv_prob, dmis, m0, m_true, active = script(
        mesh, opt, stations=stations, frequencies=FREQUENCIES[::-1], missing=0.3
    )
    sizes = {rx.nD for t in dmis.objfcts for src in t.simulation.survey.source_list for rx in src.receiver_list}
    assert len(sizes) > 1  # the frequencies' receivers differ
    _assert_fits_and_finds_the_conductor(inv.run(m0), opt, inv_prob, dmis, mesh, active)


def test_impedance_parts_give_simpegs_apparent_resistivity_and_phase():
    mesh = tensor_mesh()
    *_, rho_phase, _, m_true, _ = script(mesh, ZohdyOldenburg())
    impedance = script(mesh, ZohdyOldenburg(), components=IMPEDANCE)[2]
    a, b = layout_from_misfit(rho_phase), layout_from_misfit(impedance)
    assert not a.impedance.any() and b.impedance.all()
    np.testing.assert_array_equal(a.frequency, b.frequency)
    np.testing.assert_array_equal(a.station, b.station)
    # the same model, simulated as SimPEG's apparent resistivity and phase
    # and as the impedance's parts
    rho_a, phase_a = sounding_state(a, np.concatenate([t.simulation.dpred(m_true) for t in rho_phase.objfcts]))
    rho_b, phase_b = sounding_state(b, np.concatenate([t.simulation.dpred(m_true) for t in impedance.objfcts]))
    np.testing.assert_allclose(rho_b, rho_a, rtol=1e-10)
    np.testing.assert_allclose(phase_b, phase_a, atol=1e-10)
    # about equal weights of ln(rho_a) for 5 % in rho_a and 2.5 % in each
    # part of Z (each taken at its own noisy data)
    for layout in (a, b):
        assert np.median(layout.rho_weight) == pytest.approx((1 / 0.05) ** 2, rel=0.05)


def test_unsupported_receiver_component_is_named():
    mesh = tensor_mesh()
    dmis = script(mesh, ZohdyOldenburg())[2]
    dmis.objfcts[0].simulation.survey.source_list[0].receiver_list[0]._component = "complex"
    with pytest.raises(TypeError, match="'complex'"):
        layout_from_misfit(dmis)


# SimPEG's advice to IRLS scripts (a CG preconditioner) does not concern ZO
@pytest.mark.filterwarnings("ignore:Without a Linear preconditioner")
@pytest.mark.parametrize(
    ("directive_list", "target"),
    [
        # a sparse (IRLS) script: UpdateIRLS runs the beta schedule and would
        # run its cycles long after the data are fitted
        ([directives.UpdateIRLS(chifact_target=1.5, max_irls_iterations=10)], 1.5),
        # no target directive at all
        ([directives.BetaSchedule(coolingFactor=2, coolingRate=1)], 1.0),
    ],
    ids=["irls", "none"],
)
def test_zo_stops_at_the_discrepancy_principle_without_a_target_directive(directive_list, target):
    mesh = tree_mesh(_hill)
    opt = ZohdyOldenburg(maxIter=25, use_phase=True)
    inv, inv_prob, dmis, m0, m_true, active = script(
        mesh, opt, directive_list=[BostickStartingModel(), *directive_list], sparse=True
    )
    n_data = sum(t.simulation.survey.nD for t in dmis.objfcts)
    inv.run(m0)
    assert opt.stop_reason == "target misfit reached"
    chi2 = [h["chi2"] for h in opt.history]
    assert inv_prob.phi_d / n_data == pytest.approx(chi2[-1])
    # the fit stops at the first model within the target, not later; the
    # smoothing steps that follow (the sparse regularisation's smoothness
    # terms) stay within the misfit it was reached with
    fit = len(chi2) - opt.smoothing_steps_taken
    assert opt.smoothing_steps_taken > 0 and opt.stage == "smoothing"
    assert chi2[fit - 1] <= target < chi2[fit - 2]
    assert max(chi2[fit:]) <= chi2[fit - 1]


def test_tail_stop_hands_the_slow_last_stretch_over():
    mesh = tree_mesh(_hill)
    # plain subspace directions by tangent solves: with the Jacobi-scaled ones,
    # or with the rows of J from the start, this script reaches the target
    # before its tail slows down, and the rule is what is tested here
    opt = ZohdyOldenburg(maxIter=25, use_phase=True, tail_stop=0.5, subspace_jacobi=False, jacobian_rows_memory=0)
    inv, inv_prob, dmis, m0, m_true, active = script(mesh, opt)
    n_data = sum(t.simulation.survey.nD for t in dmis.objfcts)
    inv.run(m0)
    assert opt.stop_reason == "slow approach to the target"
    phi = [h["phi_d"] for h in opt.history]
    # the last (subspace) step removed less than half of what was left to the target
    assert phi[-1] > n_data and phi[-2] - phi[-1] < 0.5 * (phi[-2] - n_data)
    assert opt.stage == "subspace"  # the rule applies to subspace steps only
