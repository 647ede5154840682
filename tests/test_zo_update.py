"""The Zohdy-Oldenburg update step: special cases of its formulas."""

import numpy as np
import pytest

from simpeg_zo import (
    bostick_depth,
    bostick_resistivity_phase,
    depth_update,
    phase_log_correction,
    resistivity_update,
)
from simpeg_zo._zo import (
    ColumnGeometry,
    depth_scaled_smoothing,
    frequency_median,
    project_to_cells,
    sample_columns,
    secant_mix,
)

ALPHAS = [0.1, 0.5, 1.0, 1.7]


@pytest.fixture
def soundings(rng):
    """Model, observed and computed resistivities that keep Oldenburg's
    difference update positive (|rho_o - rho_c| well below rho)."""
    n = 50
    rho = 10 ** rng.uniform(1, 3, n)
    rho_calc = rho * 10 ** rng.uniform(-0.3, 0.3, n)
    rho_obs = rho_calc * (1 + rng.uniform(-0.3, 0.3, n))
    return rho, rho_obs, rho_calc


# ----------------------------------------------------------- resistivity


@pytest.mark.parametrize("alpha", ALPHAS)
def test_gamma_zero_is_oldenburg_difference_update(soundings, alpha):
    rho, rho_obs, rho_calc = soundings
    expected = rho + alpha * (rho_obs - rho_calc)
    assert np.all(expected > 0.01 * rho)  # the floor is not involved
    new = resistivity_update(rho, rho_obs, rho_calc, alpha=alpha, gamma=0.0)
    np.testing.assert_allclose(new, expected, rtol=1e-14, atol=0)


def test_gamma_one_alpha_one_is_zohdy_ratio_update(soundings):
    rho, rho_obs, rho_calc = soundings
    new = resistivity_update(rho, rho_obs, rho_calc, alpha=1.0, gamma=1.0)
    np.testing.assert_allclose(new, rho * rho_obs / rho_calc, rtol=1e-13, atol=0)


def test_scalar_examples():
    assert float(resistivity_update(50.0, 120.0, 100.0, alpha=1.0, gamma=1.0)) == pytest.approx(60.0)
    assert float(resistivity_update(50.0, 120.0, 100.0, alpha=1.0, gamma=0.0)) == pytest.approx(70.0)
    assert float(resistivity_update(50.0, 120.0, 100.0, alpha=0.5, gamma=0.0)) == pytest.approx(60.0)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_intermediate_gamma_lies_between_the_two_methods(soundings, alpha):
    rho, rho_obs, rho_calc = soundings
    oldenburg = resistivity_update(rho, rho_obs, rho_calc, alpha=alpha, gamma=0.0)
    zohdy = resistivity_update(rho, rho_obs, rho_calc, alpha=alpha, gamma=1.0)
    lo, hi = np.minimum(oldenburg, zohdy), np.maximum(oldenburg, zohdy)
    previous = oldenburg
    for gamma in (0.25, 0.5, 0.75):
        new = resistivity_update(rho, rho_obs, rho_calc, alpha=alpha, gamma=gamma)
        assert np.all(new >= lo * (1 - 1e-12))
        assert np.all(new <= hi * (1 + 1e-12))
        # and moves monotonically from Oldenburg's to Zohdy's as gamma grows
        assert np.all((new - previous) * (zohdy - oldenburg) >= -1e-9)
        previous = new


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_fitted_datum_is_a_fixed_point(soundings, alpha, gamma):
    rho, _, rho_calc = soundings
    new = resistivity_update(rho, rho_calc, rho_calc, alpha=alpha, gamma=gamma)
    np.testing.assert_array_equal(new, rho)


def test_update_direction_follows_the_data(soundings):
    rho, rho_obs, rho_calc = soundings
    for gamma in (0.0, 0.5, 1.0):
        new = resistivity_update(rho, rho_obs, rho_calc, alpha=0.5, gamma=gamma)
        np.testing.assert_array_equal(np.sign(new - rho), np.sign(rho_obs - rho_calc))


def test_floor_keeps_resistivity_positive():
    rho = np.array([10.0, 100.0, 1000.0])
    rho_obs = np.array([1.0, 1.0, 1.0])
    rho_calc = np.array([500.0, 5000.0, 50000.0])  # far too resistive
    new = resistivity_update(rho, rho_obs, rho_calc, alpha=1.0, gamma=0.0)
    # rho + (rho_o - rho_c) would be negative
    assert np.all(rho + (rho_obs - rho_calc) < 0)
    assert np.all(new > 0)
    np.testing.assert_allclose(new, 0.01 * rho)


# ------------------------------------------------------------------ phase


def test_phase_correction_is_zero_for_equal_phases():
    phi = np.deg2rad(np.linspace(5, 85, 17))
    np.testing.assert_array_equal(phase_log_correction(phi, phi, alpha=0.7), 0.0)


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_phase_correction_matches_linearised_form(alpha):
    phi_c = np.deg2rad(np.linspace(10, 80, 15))
    dphi = 1e-5
    linear = -alpha * np.pi * dphi / (phi_c * (np.pi - 2 * phi_c))
    exact = phase_log_correction(phi_c + dphi, phi_c, alpha=alpha)
    np.testing.assert_allclose(exact, linear, rtol=1e-3)


def test_phase_correction_is_the_phase_bostick_log_ratio():
    phi_o, phi_c = np.deg2rad([50.0, 30.0]), np.deg2rad([40.0, 45.0])
    expected = np.log(bostick_resistivity_phase(1.0, phi_o) / bostick_resistivity_phase(1.0, phi_c))
    np.testing.assert_allclose(phase_log_correction(phi_o, phi_c, alpha=1.0), expected, rtol=1e-12)


def test_higher_observed_phase_lowers_resistivity():
    phi_c = np.deg2rad(np.linspace(10, 80, 15))
    assert np.all(phase_log_correction(phi_c + 0.05, phi_c) < 0)
    assert np.all(phase_log_correction(phi_c - 0.05, phi_c) > 0)


# ------------------------------------------------------------------ depth


def test_depth_update_with_beta_zero_changes_nothing(soundings):
    _, rho_obs, rho_calc = soundings
    depth = np.linspace(100, 5000, rho_obs.size)
    f = np.logspace(2, -2, rho_obs.size)
    np.testing.assert_array_equal(depth_update(depth, rho_obs, rho_calc, f, beta=0.0), depth)


@pytest.mark.parametrize("beta", [0.2, 0.5, 1.0])
def test_depth_update_fixed_point(soundings, beta):
    _, _, rho_calc = soundings
    depth = np.linspace(100, 5000, rho_calc.size)
    f = np.logspace(2, -2, rho_calc.size)
    np.testing.assert_array_equal(depth_update(depth, rho_calc, rho_calc, f, beta=beta), depth)


def test_depth_update_moves_toward_observed_bostick_depth(soundings):
    _, rho_obs, rho_calc = soundings
    f = np.logspace(2, -2, rho_obs.size)
    d_obs = bostick_depth(rho_obs, f)
    d_calc = bostick_depth(rho_calc, f)
    # starting from the computed data's Bostick depth
    new = depth_update(d_calc, rho_obs, rho_calc, f, beta=0.5)
    np.testing.assert_allclose(new, d_calc + 0.5 * (d_obs - d_calc), rtol=1e-12)
    assert np.all(np.abs(new - d_obs) <= np.abs(d_calc - d_obs))
    # beta = 1 lands on it
    np.testing.assert_allclose(depth_update(d_calc, rho_obs, rho_calc, f, beta=1.0), d_obs, rtol=1e-12)
    # more resistive data than computed: the datum looks deeper
    deeper = rho_obs > rho_calc
    assert np.all(new[deeper] > d_calc[deeper])
    assert np.all(new[~deeper] <= d_calc[~deeper])


def test_depth_update_stays_positive():
    new = depth_update(np.array([100.0]), np.array([1.0]), np.array([1e4]), np.array([1e-2]), beta=1.0)
    assert new[0] > 0


# --------------------------------------------------------- projection


@pytest.fixture
def geometry():
    """Two stations at x = 0 and 100 m; a 5 x 6 grid of cells from x = -50
    to 150 m and depths 10 m to 3 km."""
    xs = np.array([-50.0, 0.0, 50.0, 100.0, 150.0])
    depths = np.array([10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0])
    cell_x = np.repeat(xs, depths.size)
    cell_depth = np.tile(depths, xs.size)
    columns = tuple(np.flatnonzero(cell_x == x) for x in (0.0, 100.0))
    return ColumnGeometry(
        station_x=np.array([0.0, 100.0]),
        cell_x=cell_x,
        cell_depth=cell_depth,
        column_cells=columns,
    )


def test_constant_soundings_give_a_constant_field(geometry, rng):
    depths = 10 ** rng.uniform(1, 3.5, 8)
    station = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    out = project_to_cells(np.full(8, 0.7), depths, station, geometry)
    np.testing.assert_allclose(out, 0.7, rtol=1e-12)
    # also with uneven weights
    out = project_to_cells(np.full(8, -1.3), depths, station, geometry, weights=rng.uniform(0.1, 5, 8))
    np.testing.assert_allclose(out, -1.3, rtol=1e-12)


def test_lateral_interpolation_and_extension(geometry):
    depths = np.array([20.0, 200.0, 2000.0, 20.0, 200.0, 2000.0])
    station = np.array([0, 0, 0, 1, 1, 1])
    values = np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0])
    out = project_to_cells(values, depths, station, geometry)
    x = geometry.cell_x
    np.testing.assert_allclose(out[x == 0.0], 1.0)
    np.testing.assert_allclose(out[x == 100.0], 3.0)
    np.testing.assert_allclose(out[x == 50.0], 2.0)  # linear at mid-x
    np.testing.assert_allclose(out[x == -50.0], 1.0)  # constant beyond the ends
    np.testing.assert_allclose(out[x == 150.0], 3.0)

    quarter = ColumnGeometry(
        station_x=geometry.station_x,
        cell_x=np.array([25.0]),
        cell_depth=np.array([100.0]),
        column_cells=geometry.column_cells,
    )
    assert project_to_cells(values, depths, station, quarter)[0] == pytest.approx(1.5)


def test_depth_profile_under_a_station(geometry):
    depths = np.array([30.0, 300.0, 3000.0])
    values = np.array([1.0, 2.0, 3.0])
    station = np.zeros(3, dtype=int)  # station 1 borrows from station 0
    out = project_to_cells(values, depths, station, geometry, width=0.05)
    column = geometry.cell_x == 0.0
    d = geometry.cell_depth[column]
    # cells at a sounding's depth take its value when the kernel is narrow
    for depth, value in zip(depths, values, strict=True):
        assert out[column][d == depth][0] == pytest.approx(value, abs=1e-6)
    # above the shallowest / below the deepest sounding: their values
    assert out[column][d == 10.0][0] == pytest.approx(1.0, abs=1e-6)
    # a cell between two soundings takes a value between theirs
    assert 1.0 <= out[column][d == 100.0][0] <= 2.0
    # a wide kernel smooths: the end soundings mix with their neighbours
    wide = project_to_cells(values, depths, station, geometry, width=2.0)
    assert wide[column][d == 30.0][0] > 1.0
    assert wide[column][d == 3000.0][0] < 3.0


def test_sample_columns_reads_cell_values(geometry):
    cell_values = np.log(geometry.cell_depth) + geometry.cell_x / 100.0
    depths = np.array([30.0, 300.0, 100.0, 3000.0])
    station = np.array([0, 0, 1, 1])
    expected = np.log(depths) + geometry.station_x[station] / 100.0
    np.testing.assert_allclose(sample_columns(cell_values, depths, station, geometry), expected)


# ------------------------------------------------------------ secant mix


def _linear_iterates(A, b, P, models):
    residuals = [b - A @ m for m in models]
    corrections = [P @ r for r in residuals]
    return residuals, corrections


def test_secant_mix_single_iterate_is_the_plain_step(rng):
    m, r, d = rng.standard_normal(4), rng.standard_normal(6), rng.standard_normal(4)
    new, theta = secant_mix([m], [r], [d])
    np.testing.assert_array_equal(new, m + d)
    assert theta.size == 0


def test_secant_mix_solves_a_square_linear_problem(rng):
    # r(m) = b - A m with corrections P r for an arbitrary fixed P: once the
    # iterates span the model space (k - 1 >= rank differences) the mixed
    # model zeroes the residual.
    n = 5
    A = 3 * np.eye(n) + rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    P = rng.standard_normal((n, n))
    models = [rng.standard_normal(n) for _ in range(n + 1)]
    residuals, corrections = _linear_iterates(A, b, P, models)
    new, theta = secant_mix(models, residuals, corrections, regularization=1e-12)
    assert theta.shape == (n,)
    r_new = np.linalg.norm(b - A @ new)
    assert r_new <= min(np.linalg.norm(r) for r in residuals)
    np.testing.assert_allclose(new, np.linalg.solve(A, b), rtol=1e-6, atol=1e-8)


def test_secant_mix_gives_least_squares_model_when_overdetermined(rng):
    # 8 data, 5 parameters, a gradient-like correction P = tau A^T
    n_data, n = 8, 5
    A = rng.standard_normal((n_data, n))
    b = rng.standard_normal(n_data)
    P = 0.1 * A.T
    models = [rng.standard_normal(n) for _ in range(n + 2)]
    residuals, corrections = _linear_iterates(A, b, P, models)
    new, _ = secant_mix(models, residuals, corrections, regularization=1e-12)
    m_ls = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(new, m_ls, rtol=1e-6, atol=1e-8)
    r_new = np.linalg.norm(b - A @ new)
    assert all(r_new <= np.linalg.norm(r) for r in residuals)


def test_secant_mix_few_iterates_minimises_over_their_span(rng):
    # fewer iterates than the rank: the averaged model m_k - dM theta is the
    # least-squares point of the iterates' affine hull, and the mixed model
    # adds the correction of that averaged residual
    n_data, n, k = 9, 6, 4
    A = rng.standard_normal((n_data, n))
    b = rng.standard_normal(n_data)
    P = rng.standard_normal((n, n_data))
    models = [rng.standard_normal(n) for _ in range(k)]
    residuals, corrections = _linear_iterates(A, b, P, models)
    new, theta = secant_mix(models, residuals, corrections, regularization=1e-12)
    dM = np.diff(np.asarray(models), axis=0).T
    averaged = models[-1] - dM @ theta
    r_avg = b - A @ averaged
    assert all(np.linalg.norm(r_avg) <= np.linalg.norm(r) for r in residuals)
    # the same point from a direct least-squares fit over the affine hull
    basis = np.asarray(models[:-1]) - models[-1]  # (k-1, n)
    coef = np.linalg.lstsq((A @ basis.T), b - A @ models[-1], rcond=None)[0]
    np.testing.assert_allclose(averaged, models[-1] + basis.T @ coef, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(new, averaged + P @ r_avg, rtol=1e-6, atol=1e-8)


def _grid_geometry(nx=81, nz=40, dx=50.0, dz=25.0):
    """A flat tensor grid: all cells active, depth = row centre."""
    x = (np.arange(nx) + 0.5) * dx
    z = (np.arange(nz) + 0.5) * dz
    cell_x = np.tile(x, nz)  # Fortran order: x fastest
    cell_depth = np.repeat(z, nx)
    geom = ColumnGeometry(station_x=x[::10], cell_x=cell_x, cell_depth=cell_depth, column_cells=())
    return geom, (nx, nz), np.ones(nx * nz, dtype=bool), x, z


def test_depth_scaled_smoothing_keeps_constants_and_shallow_rows():
    geom, shape, active, x, z = _grid_geometry()
    ones = np.ones(active.sum())
    assert np.allclose(depth_scaled_smoothing(3.0 * ones, geom, shape, active, 0.5), 3.0)
    rng = np.random.default_rng(1)
    values = rng.standard_normal(active.sum())
    assert np.array_equal(depth_scaled_smoothing(values, geom, shape, active, 0.0), values)
    out = depth_scaled_smoothing(values, geom, shape, active, 0.5)
    # rows whose width (0.5 x depth) is below a cell (50 m) are untouched
    shallow = geom.cell_depth < 100.0
    assert np.array_equal(out[shallow], values[shallow])
    assert not np.allclose(out[~shallow], values[~shallow])


def test_depth_scaled_smoothing_width_grows_with_depth():
    """A correction confined to one column spreads along each row with a
    standard deviation of ratio x depth (its second moment)."""
    geom, shape, active, x, z = _grid_geometry()
    nx, nz = shape
    spike = np.zeros(active.sum())
    centre = nx // 2
    spike[centre::nx] = 1.0  # the column under the middle station
    out = depth_scaled_smoothing(spike, geom, shape, active, 0.5).reshape((nx, nz), order="F")
    for j in (10, 20, 35):
        row = out[:, j]
        assert row.sum() == pytest.approx(1.0, rel=0.02)  # far from the ends: mass kept
        mean = np.sum(row * x) / row.sum()
        spread = np.sqrt(np.sum(row * (x - mean) ** 2) / row.sum())
        assert mean == pytest.approx(x[centre], abs=1e-6)
        assert spread == pytest.approx(0.5 * z[j], rel=0.05)
    # deeper rows are wider and lower at the column itself
    assert out[centre, 35] < out[centre, 20] < out[centre, 10] < 1.0


def test_lateral_coupling_is_validated():
    from simpeg_zo import ZohdyOldenburg

    with pytest.raises(ValueError, match="lateral_coupling"):
        ZohdyOldenburg(lateral_coupling=-1.0)
    assert ZohdyOldenburg().lateral_coupling == 0.5


# ------------------------------------------------------- frequency median


def test_frequency_median_removes_isolated_jumps_and_keeps_smooth_trends():
    f = np.logspace(2, 0, 21)  # 0.1 decade spacing
    trend = np.linspace(-0.5, 0.5, 21)  # a smooth correction profile
    noisy = trend.copy()
    noisy[[12, 13]] += 2.0  # two neighbouring frequencies jump
    st = np.zeros(21, int)
    mode = np.array(["TE"] * 21)
    out = frequency_median(noisy, st, mode, f, 0.2)
    # a linear trend is its own running median (away from the ends and the
    # jumps); at the jumps the median is a neighbour of the trend's value
    keep = np.ones(21, bool)
    keep[[0, 1, 10, 11, 12, 13, 14, 15, 19, 20]] = False
    np.testing.assert_allclose(out[keep], trend[keep], atol=1e-12)
    # near the jumps the median is a neighbour's trend value, never a jump
    step = trend[1] - trend[0]
    assert np.all(np.abs(out - trend) <= 2.01 * step)
    np.testing.assert_array_equal(frequency_median(noisy, st, mode, f, 0.0), noisy)
    # an outlier at either end of the band is outvoted as well
    ends = trend.copy()
    ends[[0, 20]] += 2.0
    out = frequency_median(ends, st, mode, f, 0.2)
    # (the window at an end is one-sided: it lags a trend by up to 3 steps)
    assert np.all(np.abs(out - trend) <= 3.01 * step)
    assert np.all(np.abs(out[[0, 20]] - trend[[0, 20]]) < 0.2)


def test_frequency_median_groups_by_station_and_mode_and_spares_sparse_frequencies():
    f = np.tile(np.logspace(1, -1, 5), 3)  # 0.5 decade spacing
    values = np.r_[np.zeros(5), np.ones(5), np.r_[0, 0, 5, 0, 0]]
    st = np.r_[np.zeros(5, int), np.zeros(5, int), np.ones(5, int)]
    mode = np.array(["TE"] * 5 + ["TM"] * 5 + ["TE"] * 5)
    # sparser than the window: nothing changes
    np.testing.assert_array_equal(frequency_median(values, st, mode, f, 0.2), values)
    # a window covering all frequencies: each (station, mode) gets its own median
    out = frequency_median(values, st, mode, f, 5.0)
    np.testing.assert_array_equal(out, np.r_[np.zeros(5), np.ones(5), np.zeros(5)])


def test_frequency_window_is_validated():
    from simpeg_zo import ZohdyOldenburg

    with pytest.raises(ValueError, match="frequency_window"):
        ZohdyOldenburg(frequency_window=-1)
