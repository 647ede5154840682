"""The SimPEG-free ZO core (simpeg_zo._driver) on problems without SimPEG.

A small linear least-squares problem and 1D layered earths under a few
stations, whose MT responses are analytic (the impedance recursion), with
Jacobians by central differences.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from simpeg_zo import _driver
from simpeg_zo._bostick import MU0, layered_impedance
from simpeg_zo._iteration import CorrectionSettings, frequency_bands
from simpeg_zo._soundings import SoundingLayout, angle_difference
from simpeg_zo._zo import ColumnGeometry

FREQUENCIES = np.logspace(3, -2, 11)
CELL_TOPS = np.r_[0.0, np.logspace(1, 4.3, 35)]  # 36 cells, the last a half-space
STATIONS = np.array([0.0, 1000.0, 2000.0])


def mt1d(log_sigma, frequencies=FREQUENCIES):
    """Apparent resistivity and phase (deg) of a layered earth (impedance recursion)."""
    omega = 2 * np.pi * np.asarray(frequencies)
    z = layered_impedance(np.exp(-np.asarray(log_sigma)), np.diff(CELL_TOPS), frequencies)
    return np.abs(z) ** 2 / (omega * MU0), np.rad2deg(np.angle(z))


def layout_of(dobs, n_stations=STATIONS.size, relative=0.03, phase_error=0.86, frequencies=FREQUENCIES):
    """TE soundings (rho_a, phase) of independent columns under each station."""
    FREQUENCIES = np.asarray(frequencies)  # noqa: N806
    nf, nz = FREQUENCIES.size, CELL_TOPS.size
    n = n_stations * nf
    depth = np.r_[0.5 * (CELL_TOPS[:-1] + CELL_TOPS[1:]), CELL_TOPS[-1] * 1.5]
    x = np.asarray(STATIONS[:n_stations])
    # cell index: station + n_stations * level (the grid's x runs fastest)
    geometry = ColumnGeometry(
        station_x=x,
        cell_x=np.tile(x, nz),
        cell_depth=np.repeat(depth, n_stations),
        column_cells=tuple(s + n_stations * np.arange(nz) for s in range(n_stations)),
    )
    rho_index, phase_index = 2 * np.arange(n), 2 * np.arange(n) + 1
    rho = dobs[rho_index]
    weights = np.empty(2 * n)
    weights[rho_index] = 1 / (relative * np.abs(rho))
    weights[phase_index] = 1 / phase_error
    data_frequency = np.repeat(np.tile(FREQUENCIES, n_stations), 2)
    return SoundingLayout(
        frequency=np.tile(FREQUENCIES, n_stations),
        station=np.repeat(np.arange(n_stations), nf),
        mode=np.array(["TE"] * n),
        rho_index=rho_index,
        phase_index=phase_index,
        rho_weight=np.full(n, 1 / relative**2),
        dobs=np.asarray(dobs, dtype=float),
        weights=weights,
        geometry=geometry,
        log_sigma_sign=1.0,
        term_slices=(slice(0, 2 * n),),
        groups=np.tile([0, 1], n) + 4 * frequency_bands(data_frequency, 3),
        data_frequency=data_frequency,
        grid_shape=(n_stations, nz),
        active=np.ones(n_stations * nz, dtype=bool),
        cell_volume=np.ones(n_stations * nz),
    )


class FiniteDifferenceEvaluator:
    """:class:`simpeg_zo._driver.Evaluator` of a forward function, Jacobian by central differences.

    ``rows``: whether it hands back the rows of J (the optional part of the
    protocol), or their precision (``"float32"``, as the engine keeps them
    where double precision does not fit its budget). Phase differences are
    taken as angles, as the engine takes them.
    """

    def __init__(self, forward, layout, step=1e-5, rows=True):
        self.forward, self.layout, self.step = forward, layout, step
        self.calls = 0
        self.rows = rows

    def diagonal_is_free(self, n_directions):
        return True

    def rows_affordable(self, n_model):
        return self.rows

    def jacobian(self, x):
        J = np.empty((self.layout.dobs.size, x.size))
        phase = self.layout.phase_index[self.layout.phase_index >= 0]
        for k in range(x.size):
            e = np.zeros(x.size)
            e[k] = self.step
            difference = self.forward(x + e) - self.forward(x - e)
            difference[phase] = angle_difference(difference[phase])
            J[:, k] = difference / (2 * self.step)
        return J

    def __call__(self, x, *, directions=None, gradients=False, diagonal=False, rows=False):
        assert not rows or self.rows
        self.calls += 1
        d = self.forward(x)
        out = _driver.Evaluation(dpred=d)
        if directions is None and not gradients and not diagonal and not rows:
            return out
        J = self.jacobian(x)
        w = self.layout.weights
        if directions is not None:
            out.jd = J @ directions
        if rows:
            out.rows = J.astype(self.rows) if isinstance(self.rows, str) else J
        if gradients:
            r = -w * self.layout.step_residual(d)  # w**2 (d - dobs), phases as angles
            out.gradients = {
                int(g): 2 * J.T @ np.where(self.layout.groups == g, r, 0.0) for g in np.unique(self.layout.groups)
            }
        if diagonal:
            out.diagonal = np.sum((w[:, None] * J) ** 2, axis=0)
        return out


def columns_forward(n_stations=STATIONS.size, frequencies=FREQUENCIES):
    nz = CELL_TOPS.size
    nf = len(frequencies)

    def forward(x):
        out = np.empty(2 * n_stations * nf)
        for s in range(n_stations):
            rho, phase = mt1d(x[s + n_stations * np.arange(nz)], frequencies)
            block = slice(2 * s * nf, 2 * (s + 1) * nf)
            out[block] = np.ravel(np.column_stack([rho, phase]))
        return out

    return forward


def layered_case(seed):
    """Random 3-5 layer earths (10-1000 ohm-m), one per station, with 3 % / 0.86 deg noise."""
    rng = np.random.default_rng(seed)
    nz = CELL_TOPS.size
    x_true = np.empty(STATIONS.size * nz)
    for s in range(STATIONS.size):
        tops = np.sort(rng.uniform(1.3, 3.8, rng.integers(2, 5)))
        log_rho = rng.uniform(1, 3, tops.size + 1)
        level = np.searchsorted(10**tops, CELL_TOPS, side="right")
        x_true[s + STATIONS.size * np.arange(nz)] = -np.log(10.0 ** log_rho[level])
    forward = columns_forward()
    clean = forward(x_true)
    noise = rng.standard_normal(clean.size)
    layout0 = layout_of(clean)
    dobs = clean + noise / layout0.weights
    layout = layout_of(dobs)
    return layout, forward, x_true


def problem_of(layout, *, paper=False, max_iter=30, target=None):
    settings = CorrectionSettings(frequency_window=0.0 if paper else 0.2)
    options = _driver.Options(max_iter=max_iter, memory=0 if paper else 4, subspace=not paper, smoothing_steps=0)
    return _driver.Problem(layout=layout, settings=settings, options=options, target=target)


def bostick_like_start(layout):
    """A half-space at the geometric mean of the observed apparent resistivities."""
    rho = layout.dobs[layout.rho_index]
    return np.full(layout.geometry.cell_x.size, -np.mean(np.log(rho)))


def test_mt1d_half_space_and_two_layers():
    rho, phase = mt1d(np.full(CELL_TOPS.size, -np.log(100.0)))
    np.testing.assert_allclose(rho, 100.0, rtol=1e-10)
    np.testing.assert_allclose(phase, 45.0, atol=1e-8)
    # a conductive basement: rho_a falls and phase rises above 45 deg at low frequency
    x = np.where(CELL_TOPS >= 1000.0, -np.log(1.0), -np.log(100.0))
    rho, phase = mt1d(x)
    assert rho[0] == pytest.approx(100.0, rel=0.02) and rho[-1] < 10.0
    assert phase.max() > 60.0


def test_core_imports_neither_simpeg_nor_discretize():
    package = os.path.dirname(os.path.dirname(os.path.abspath(_driver.__file__)))
    code = textwrap.dedent(
        f"""
        import sys, types
        for name in ("simpeg", "discretize"):
            sys.modules[name] = None  # any import of them fails
        pkg = types.ModuleType("simpeg_zo")
        pkg.__path__ = [{os.path.join(package, "simpeg_zo")!r}]
        sys.modules["simpeg_zo"] = pkg
        import simpeg_zo._driver
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("rows", [True, "float32", False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_never_ends_above_the_papers_method_on_layered_earths(seed, rows):
    """With and without the rows of J from the evaluator, in double or single precision."""
    layout, forward, _ = layered_case(seed)
    x0 = bostick_like_start(layout)
    final = {}
    for paper in (True, False):
        evaluator = FiniteDifferenceEvaluator(forward, layout, rows=rows)
        state = _driver.run(problem_of(layout, paper=paper, target=layout.n_data), evaluator, x0)
        phi = state.phi_history
        assert all(b < a for a, b in zip(phi, phi[1:], strict=False))  # every accepted step lowers the misfit
        assert state.passes == evaluator.calls
        final[paper] = state.phi / layout.n_data
    assert final[False] <= 1.02 * final[True]
    assert final[False] <= 1.0  # the default fits the noise


def test_linear_least_squares_reaches_the_minimum():
    """d = 100 + G x: the measured candidates reach the least-squares misfit."""
    rng = np.random.default_rng(4)
    x_true = rng.uniform(-0.5, 0.5, STATIONS.size * CELL_TOPS.size)
    layout0 = layout_of(np.full(2 * STATIONS.size * FREQUENCIES.size, 100.0))
    G = rng.standard_normal((layout0.dobs.size, x_true.size)) / np.sqrt(x_true.size)

    def forward(x):
        return 100.0 + G @ x

    dobs = forward(x_true) + rng.standard_normal(layout0.dobs.size) / layout0.weights
    layout = layout_of(dobs)
    W = layout.weights
    x_ls = np.linalg.lstsq(W[:, None] * G, W * (dobs - 100.0), rcond=None)[0]
    lowest = float(np.sum((W * (dobs - forward(x_ls))) ** 2))
    evaluator = FiniteDifferenceEvaluator(forward, layout)
    state = _driver.run(problem_of(layout, max_iter=40), evaluator, np.zeros(x_true.size))
    start = float(np.sum((W * (dobs - 100.0)) ** 2))
    # more than 99 % of the reducible misfit removed
    assert state.phi - lowest <= 0.01 * (start - lowest)


def test_gradient_step_descends_and_iterate_keeps_the_lowest_measured_misfit(monkeypatch):
    layout, forward, _ = layered_case(5)
    problem = problem_of(layout)
    evaluator = FiniteDifferenceEvaluator(forward, layout)
    state = _driver.initial_state(problem, evaluator, bostick_like_start(layout))
    trial = _driver.gradient_trial(problem, evaluator, state)
    assert trial.phi < state.phi and trial.kind == "gradient"
    # a ZO candidate that always makes things worse is measured and never kept
    worse = _driver.Trial("zo", state.x + 1.0, state.dpred, 10 * state.phi, 1)
    monkeypatch.setitem(_driver._STEPS, "zo", lambda *args: worse)
    new = _driver.iterate(problem, evaluator, state)
    assert new.phi < state.phi and new.stage == "subspace"
    # with every candidate failing, the descent step still moves
    monkeypatch.setitem(_driver._STEPS, "subspace", lambda *args: None)
    new = _driver.iterate(problem, evaluator, state)
    assert new is not None and new.phi < state.phi


def test_a_step_that_reaches_the_target_is_not_raced(monkeypatch):
    """A weak step (racing would measure the other kind) that reaches the target ends the iteration."""
    layout, forward, _ = layered_case(5)
    evaluator = FiniteDifferenceEvaluator(forward, layout)
    state = _driver.initial_state(problem_of(layout), evaluator, bostick_like_start(layout))
    weak = _driver.Trial("zo", state.x + 0.01, state.dpred, 0.99 * state.phi, 1)
    state.stage = "zo"
    state.gains = {"subspace": 1.0}  # the subspace step paid far more at the last iteration
    state.measured_at = {"subspace": state.iteration}
    measured = []

    def subspace(*args):
        measured.append("subspace")
        return _driver.Trial("subspace", state.x, state.dpred, 0.5 * state.phi, 1, {"damping": 1.0})

    monkeypatch.setitem(_driver._STEPS, "zo", lambda *args: weak)
    monkeypatch.setitem(_driver._STEPS, "subspace", subspace)
    # below the target: one candidate; above it, the race measures the other
    new = _driver.iterate(problem_of(layout, target=state.phi), evaluator, state)
    assert measured == [] and new.stage == "zo" and new.phi == weak.phi
    new = _driver.iterate(problem_of(layout, target=0.5 * state.phi), evaluator, state)
    assert measured == ["subspace"] and new.stage == "subspace"


def test_iteration_limit_bounds_everything_and_names_the_reason():
    layout, forward, _ = layered_case(0)
    evaluator = FiniteDifferenceEvaluator(forward, layout)
    state = _driver.run(problem_of(layout, max_iter=2), evaluator, bostick_like_start(layout))
    assert state.iteration == 2 and state.stop_reason == _driver.STOP_ITERATIONS
    state = _driver.run(problem_of(layout, target=1e12), evaluator, bostick_like_start(layout))
    assert state.iteration == 0 and state.stop_reason == _driver.STOP_TARGET


def test_bad_starting_model_is_refused():
    layout, forward, _ = layered_case(0)
    x0 = bostick_like_start(layout)
    x0[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _driver.initial_state(problem_of(layout), FiniteDifferenceEvaluator(forward, layout), x0)


def test_coverage_keeps_cells_the_soundings_do_not_see():
    """A band of high frequencies sees the top few hundred metres: the corrections stay there."""
    frequencies = np.logspace(3, 1.5, 6)
    forward = columns_forward(frequencies=frequencies)
    x_true = np.full(STATIONS.size * CELL_TOPS.size, -np.log(100.0))
    x_true[np.repeat(CELL_TOPS, STATIONS.size) > 150.0] = -np.log(20.0)
    layout = layout_of(forward(x_true), frequencies=frequencies)
    x0 = np.full(x_true.size, -np.log(100.0))
    evaluator = FiniteDifferenceEvaluator(forward, layout)
    steps = {}
    for coverage in (False, True):
        problem = _driver.Problem(
            layout=layout, settings=CorrectionSettings(), options=_driver.Options(coverage=coverage)
        )
        state = _driver.initial_state(problem, evaluator, x0)
        steps[coverage] = _driver.zo_trial(problem, evaluator, state).x - x0
    deepest = np.max(problem.start_depths())
    depth = layout.geometry.cell_depth
    deep, shallow = depth > 4 * deepest, depth < 0.5 * deepest
    assert deep.any() and shallow.any()
    # the paper's spreading extends the deepest correction to the mesh bottom
    assert np.abs(steps[False][deep]).min() > 0.1
    assert np.abs(steps[True][deep]).max() < 1e-2 * np.abs(steps[False][deep]).max()
    np.testing.assert_allclose(steps[True][shallow], steps[False][shallow], rtol=1e-6, atol=1e-9)


def test_subspace_step_within_the_bound_follows_the_damped_path():
    """Nearly parallel directions make the Gauss-Newton coefficients huge:
    the step kept within ``max_log_step`` is the Levenberg-Marquardt step
    whose damping puts it on the bound, and it predicts a larger decrease
    than the whole step shrunk onto the bound; a step that fits is left
    as it is."""
    from simpeg_zo._driver._steps import _bounded_coefficients
    from simpeg_zo._subspace import subspace_coefficients

    class Box:
        limit = 1.0

        def step_scale(self, step):
            biggest = float(np.abs(step).max(initial=0.0))
            return self.limit / biggest if biggest > self.limit else 1.0

    rng = np.random.default_rng(0)
    base = rng.standard_normal(50)
    B = np.column_stack([base, base + 1e-3 * rng.standard_normal(50), rng.standard_normal(50)])
    r = B @ np.array([1.0, -0.5, 0.3]) + 0.2 * rng.standard_normal(50)
    D = np.eye(3)
    box = Box()
    c0, p0 = subspace_coefficients(B, r, 1e-6)
    assert np.abs(c0).max() > 3 * box.limit  # the undamped step leaves the bound
    c, p, damping = _bounded_coefficients(box, D, B, r, 1e-6)
    assert np.abs(D @ c).max() <= box.limit * (1 + 1e-9)
    assert np.abs(D @ c).max() >= 0.99 * box.limit  # on the bound, not damped beyond it
    assert damping > 1e-6
    shrink = box.step_scale(D @ c0)
    rest = r - shrink * (B @ c0)
    assert p >= float(r @ r - rest @ rest) and p > 0
    assert np.isclose(p, float(r @ r - (r - B @ c) @ (r - B @ c)), rtol=1e-9)
    # a step within the bound: unchanged
    box.limit = 1e6
    c1, p1, d1 = _bounded_coefficients(box, D, B, r, 1e-6)
    assert d1 == 1e-6 and np.allclose(c1, c0) and p1 == p0


def test_angle_difference():
    np.testing.assert_allclose(
        angle_difference([0.0, 10.0, 190.0, -190.0, 358.0, -358.0, 540.0]), [0, 10, -170, 170, -2, 2, -180]
    )


@pytest.mark.parametrize("rows", [True, False])
def test_phases_across_the_branch_cut(rows):
    """Phases that sit at +-180 degrees (SimPEG's TM phases can, over
    topography): the observed and predicted values of a datum can lie on
    either side of the cut, 358 degrees apart in the misfit though 2 apart
    as angles. Steps aim at the angle, so the prediction crosses the cut and
    the misfit (the plain one, SimPEG's) reaches the noise."""
    layout0, forward0, x_true = layered_case(6)

    def forward(x):
        d = forward0(x)
        phase = layout0.phase_index
        d[phase] = angle_difference(d[phase] + 126.0)  # 30-60 degrees -> 156-186, wrapped
        return d

    rng = np.random.default_rng(6)
    clean = forward(x_true)
    phase = layout0.phase_index
    dobs = clean + rng.standard_normal(clean.size) / layout0.weights
    layout = layout_of(dobs)
    layout.weights[phase] = 1 / 0.86
    assert np.any(dobs[phase] > 170) and np.any(dobs[phase] < -170)
    x0 = bostick_like_start(layout)
    residual = layout.residual(forward(x0))
    assert np.max(np.abs(residual[phase])) * 0.86 > 300  # the start is across the cut somewhere
    evaluator = FiniteDifferenceEvaluator(forward, layout, rows=rows)
    state = _driver.run(problem_of(layout, target=layout.n_data), evaluator, x0)
    plain = layout.residual(forward(state.x))
    assert state.phi == pytest.approx(float(plain @ plain))
    assert state.phi <= layout.n_data


@pytest.mark.parametrize("rows", [True, False])
def test_a_guide_direction_joins_the_subspace_steps(rows):
    """d = 100 + G x: with the least-squares model's difference from the
    start among the subspace directions (``initial_state(directions=...)``,
    how cnn-zo hands the network's section), five iterations leave under
    1 % of the reducible misfit, under a quarter of what they leave without
    it. A guide of the wrong length is refused."""
    rng = np.random.default_rng(4)
    n_model = STATIONS.size * CELL_TOPS.size
    layout0 = layout_of(np.full(2 * STATIONS.size * FREQUENCIES.size, 100.0))
    G = rng.standard_normal((layout0.dobs.size, n_model)) / np.sqrt(n_model)

    def forward(x):
        return 100.0 + G @ x

    dobs = forward(rng.uniform(-0.5, 0.5, n_model)) + rng.standard_normal(layout0.dobs.size) / layout0.weights
    layout = layout_of(dobs)
    W = layout.weights
    x_ls = np.linalg.lstsq(W[:, None] * G, W * (dobs - 100.0), rcond=None)[0]
    lowest = float(np.sum((W * (dobs - forward(x_ls))) ** 2))
    reducible = float(np.sum((W * (dobs - 100.0)) ** 2)) - lowest
    x0 = np.zeros(n_model)
    left = {}
    for guided in (False, True):
        problem = problem_of(layout)
        evaluator = FiniteDifferenceEvaluator(forward, layout, rows=rows)
        state = _driver.initial_state(problem, evaluator, x0, directions=x_ls - x0 if guided else None)
        for _ in range(5):
            state = _driver.iterate(problem, evaluator, state)
        left[guided] = (state.phi - lowest) / reducible
    assert left[True] < 0.01 and left[True] < 0.25 * left[False]
    with pytest.raises(ValueError, match="starting directions have shape"):
        _driver.initial_state(problem_of(layout), FiniteDifferenceEvaluator(forward, layout), x0, directions=x0[1:])


def test_a_stall_restarts_from_a_model_that_fits_better(monkeypatch):
    """``run(restarts=...)``: where no step lowers the misfit above the
    target (the first iteration made to find none here), the restart model
    is measured with one pass and, fitting better, starts the iterations
    afresh as one iteration of kind ``"restart"``; from there the run
    reaches the target. A restart model that fits worse is measured and
    left: the run stops with its stall. None is tried at the iteration
    limit, and one of the wrong length is refused."""
    layout, forward, _ = layered_case(1)
    good = bostick_like_start(layout)
    bad = good + np.log(100.0)  # a half-space 100x too conductive
    real = _driver._loop.iterate
    calls = {"n": 0}

    def first_finds_no_step(*args, **kwargs):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(*args, **kwargs)

    monkeypatch.setattr(_driver._loop, "iterate", first_finds_no_step)
    problem = problem_of(layout, target=layout.n_data)
    seen = []
    hooks = _driver.Hooks(accepted=lambda s: seen.append((s.stage, s.iteration, s.phi, s.passes)))
    residual = layout.residual(forward(good))
    state = _driver.run(problem, FiniteDifferenceEvaluator(forward, layout), bad, hooks, restarts=[good])
    assert seen[0][:2] == ("restart", 1) and seen[0][2] == pytest.approx(float(residual @ residual))
    assert seen[0][3] == 2  # the start's pass and the restart model's
    assert state.stop_reason == _driver.STOP_TARGET and state.phi <= layout.n_data
    assert state.phi_history[1] == seen[0][2]
    for limit, restarts in ((30, [bad + 1.0]), (0, [good])):
        calls["n"] = 0
        problem = problem_of(layout, target=layout.n_data, max_iter=limit)
        state = _driver.run(problem, FiniteDifferenceEvaluator(forward, layout), bad, restarts=restarts)
        expected = _driver.STOP_NO_DESCENT if limit else _driver.STOP_ITERATIONS
        assert state.stop_reason == expected and np.array_equal(state.x, bad)
        assert state.passes == (2 if limit else 1)
    calls["n"] = 0
    with pytest.raises(ValueError, match="restart model has shape"):
        _driver.run(problem_of(layout), FiniteDifferenceEvaluator(forward, layout), bad, restarts=[good[1:]])
