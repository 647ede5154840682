r"""The Zohdy-Oldenburg inversion without SimPEG: state, evaluator and steps.

The driver of :class:`simpeg_zo.ZohdyOldenburg`, written on arrays alone so
that it can be read, and tested, apart from SimPEG.

* :class:`Evaluator` is the one thing it needs from a forward code: a
  callable that takes a model (and, optionally, directions) and returns an
  :class:`Evaluation` with the predicted data and, on request, the misfit
  gradients, the Jacobian products of the directions and the diagonal of
  :math:`J^T W^T W J`. :class:`simpeg_zo._forward.ForwardEngine` provides it
  for SimPEG simulations (:class:`simpeg_zo._optimizer.EngineEvaluator`);
  the tests provide it for a linear problem and for 1D layered earths.
* :class:`State` holds everything an iteration carries: the model, its
  data and misfit, the sounding depths, the secant memory, the damping,
  the stage and the static shifts.
* The steps are functions of the state and the evaluator that return a
  :class:`Trial` (the best model they measured): :func:`zo_trial` (the
  Zohdy-Oldenburg fixed point with its multisecant mix, forward solves
  only), :func:`subspace_trial` (a Levenberg-Marquardt step in the span of
  a few dozen directions from their Jacobian products) and
  :func:`gradient_trial` (the Jacobi-scaled misfit gradient with a
  backtracking line search: certain to descend). :func:`smoothing_trial`
  lowers the roughness once the target is reached.
* :func:`iterate` is one safeguarded iteration: it measures the candidate
  of the stage that paid last, measures the other one as well where the
  first paid less (per forward pass) than the other did when it was last
  measured, or less than its own previous step, and keeps the lower
  misfit; the descent step is the fallback where neither lowers the
  misfit. :func:`run` is the loop: stopping rules, then the smoothing
  steps, all within ``max_iter``.

No fixed percentage decides between the stages: the measured decrease of
the misfit per forward pass does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from ._bostick import bostick_depth
from ._iteration import (
    JACOBI_FLOOR,
    CorrectionSettings,
    correction_directions,
    data_coverage,
    shifted_response,
    stalled,
    subspace_directions,
    zo_correction,
)
from ._soundings import SoundingLayout, sounding_state
from ._static import DEFAULT_SHIFT_PRIOR, estimate_static_shifts
from ._subspace import lateral_windows, smoothest_coefficients, subspace_coefficients, update_damping
from ._zo import secant_mix

__all__ = [
    "Evaluation",
    "Evaluator",
    "Roughness",
    "Options",
    "Problem",
    "State",
    "Trial",
    "initial_state",
    "zo_trial",
    "subspace_trial",
    "gradient_trial",
    "smoothing_trial",
    "iterate",
    "run",
    "Hooks",
    "STOP_TARGET",
    "STOP_ITERATIONS",
    "STOP_STALL",
    "STOP_NO_DESCENT",
    "STOP_TAIL",
]

logger = logging.getLogger("simpeg_zo._optimizer")

#: Stop reasons (``State.stop_reason``).
STOP_TARGET = "target misfit reached"
STOP_ITERATIONS = "maximum number of iterations"
STOP_STALL = "misfit stopped improving"
STOP_NO_DESCENT = "no step decreased the misfit"
STOP_TAIL = "slow approach to the target"

#: Smoothing steps: Marquardt damping of the first trial, the part of the
#: allowed misfit their linearised misfit aims at, and the relative
#: roughness decrease below which they stop.
SMOOTHING_DAMPING = 1.0
SMOOTHING_MARGIN = 0.97
SMOOTHING_TOLERANCE = 0.02


# --------------------------------------------------------------- protocols
@dataclass
class Evaluation:
    """What an :class:`Evaluator` returns for one model.

    Attributes
    ----------
    dpred : (n_data,) numpy.ndarray
        Predicted data (stacked as ``layout.dobs``).
    gradients : dict or None
        ``{label: (n_model,) array}``: gradients of each data group's part
        of ``||W (d - d_obs)||^2`` (labels ``2 * mode + component + 4 *
        band``), where asked for.
    jd : (n_data, k) numpy.ndarray or None
        Jacobian products ``J D`` of the directions asked for.
    diagonal : (n_model,) numpy.ndarray or None
        Diagonal of ``J^T W^T W J``, where asked for.
    """

    dpred: np.ndarray
    gradients: dict | None = None
    jd: np.ndarray | None = None
    diagonal: np.ndarray | None = None


class Evaluator(Protocol):
    """A forward code seen by the driver.

    One call is one forward pass (one factorisation per frequency): the
    products, gradients and diagonal it returns come from that pass.
    """

    def __call__(
        self,
        x: np.ndarray,
        *,
        directions: np.ndarray | None = None,
        gradients: bool = False,
        diagonal: bool = False,
    ) -> Evaluation: ...

    def diagonal_is_free(self, n_directions: int) -> bool:
        """Whether the diagonal comes at no extra cost with ``n_directions`` products."""
        ...


class Roughness(Protocol):
    """A model norm for the smoothing steps: value, gradient and Hessian products."""

    def value(self, x: np.ndarray) -> float: ...

    def gradient(self, x: np.ndarray) -> np.ndarray: ...

    def hessian_product(self, x: np.ndarray, directions: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Options:
    """How the driver iterates (the loop's settings; see :class:`simpeg_zo.ZohdyOldenburg`)."""

    max_iter: int = 30
    memory: int = 4
    max_log_step: float = float(np.log(10.0))
    max_line_search: int = 2
    shorten: float = 0.5
    stall_iterations: int = 3
    stall_tolerance: float = 0.02
    subspace: bool = True
    n_bands: int = 3
    windows: int = 6
    gradient_windows: int = 6
    gradient_smoothing: float = 0.3
    jacobi: bool = True
    subspace_memory: int = 6
    smoothing_steps: int = 3
    tail_stop: float | None = None
    static_shift: bool = False
    static_shift_prior: float = DEFAULT_SHIFT_PRIOR
    coverage: bool = False


@dataclass
class Problem:
    """The fixed parts of an inversion: soundings, correction settings, limits.

    Attributes
    ----------
    layout : SoundingLayout
    settings : CorrectionSettings
    options : Options
    boundary : (n_model,) numpy.ndarray of bool
        Parameters no direction moves (the outermost mesh columns, where the
        1D boundary fields are taken).
    gradient_smoother : list or None
        Row operators that smooth gradient directions on a tree mesh.
    target : float or None
        The misfit the iterations head for (known target), or None.
    roughness : Roughness or None
        Model norm of the smoothing steps.
    """

    layout: SoundingLayout
    settings: CorrectionSettings
    options: Options = field(default_factory=Options)
    boundary: np.ndarray | None = None
    gradient_smoother: list | None = None
    target: float | None = None
    roughness: Roughness | None = None
    rho_obs: np.ndarray = field(init=False)
    phase_obs: np.ndarray = field(init=False)
    coverage: np.ndarray | None = field(init=False)

    def __post_init__(self):
        self.rho_obs, self.phase_obs = sounding_state(self.layout, self.layout.dobs)
        # what the soundings see (:func:`simpeg_zo._iteration.data_coverage`)
        self.coverage = data_coverage(self.layout, self.start_depths()) if self.options.coverage else None

    def covered(self, values):
        """``values`` (a step, or directions as columns) weighted by the data coverage."""
        if self.coverage is None:
            return values
        values = np.asarray(values, dtype=float)
        return values * (self.coverage if values.ndim == 1 else self.coverage[:, None])

    # misfits ----------------------------------------------------------
    def shifted(self, dpred, shift):
        """``dpred`` with its apparent resistivities times ``exp(shift)``."""
        if not self.options.static_shift or shift is None:
            return dpred
        return shifted_response(self.layout, dpred, shift)

    def phi(self, dpred, shift=None) -> float:
        """Data misfit ``||W (d_obs - d)||^2`` (of the shifted response with static shifts)."""
        r = self.layout.residual(self.shifted(dpred, shift))
        value = float(r @ r)
        return value if np.isfinite(value) else np.inf

    def estimate_shift(self, dpred):
        """Per-sounding log static shifts estimated at ``dpred``."""
        layout = self.layout
        rho_calc, _ = sounding_state(layout, dpred)
        with np.errstate(all="ignore"):
            log_ratio = np.log(self.rho_obs / rho_calc)
        weight = np.where(layout.has_rho, layout.rho_weight, 0.0)
        shift, _ = estimate_static_shifts(
            log_ratio,
            weight,
            layout.station,
            layout.mode,
            layout.geometry.station_x.size,
            prior=self.options.static_shift_prior,
        )
        return shift

    def best_shift(self, dpred, candidates):
        """(phi, shift): the lowest misfit of ``dpred`` over the candidates and the shifts re-estimated there."""
        options = [c for c in candidates if c is not None]
        options.append(self.estimate_shift(dpred))
        phis = [self.phi(dpred, c) for c in options]
        k = int(np.argmin(phis))
        return phis[k], options[k]

    def start_depths(self):
        """Bostick depths of the observed soundings (phase-only ones from the mean resistivity)."""
        rho = self.rho_obs
        ok = np.isfinite(rho) & (rho > 0)
        depth = np.full(rho.size, np.nan)
        depth[ok] = bostick_depth(rho[ok], self.layout.frequency[ok])
        if not ok.all():
            fill = float(np.exp(np.mean(np.log(rho[ok])))) if ok.any() else 100.0
            depth[~ok] = bostick_depth(fill, self.layout.frequency[~ok])
        return depth

    def clean(self, D):
        """Directions without the boundary parameters and without empty columns."""
        D = np.array(D, dtype=float, ndmin=2)
        if self.boundary is not None:
            D[self.boundary] = 0.0
        return D[:, np.any(D != 0, axis=0)]

    def step_scale(self, step) -> float:
        """The factor (at most 1) that keeps ``step`` within ``max_log_step`` in every cell."""
        biggest = float(np.abs(step).max(initial=0.0))
        limit = self.options.max_log_step
        return limit / biggest if biggest > limit else 1.0

    def weighted(self, jd):
        """``W J D`` (non-finite entries zeroed)."""
        B = self.layout.weights[:, None] * np.asarray(jd, dtype=float)
        B[~np.isfinite(B)] = 0.0
        return B

    def directions(self, state, x, dpred, *, gradients, corrections=None):
        """Subspace directions at ``x`` (:func:`simpeg_zo._iteration.subspace_directions`)."""
        o = self.options
        D, new_depth = subspace_directions(
            self.layout,
            x,
            dpred,
            state.depth,
            self.rho_obs,
            self.phase_obs,
            self.settings,
            gradients=gradients,
            n_bands=o.n_bands,
            windows=o.windows,
            gradient_windows=o.gradient_windows,
            smoothing=o.gradient_smoothing,
            gradient_smoother=self.gradient_smoother,
            past_steps=state.past_steps,
            jtj_diagonal=state.diagonal if o.jacobi else None,
            corrections=corrections,
        )
        return self.clean(self.covered(D)), new_depth


# ------------------------------------------------------------------ state
@dataclass
class State:
    """Everything an iteration carries.

    Attributes
    ----------
    x, dpred, phi
        The current (best) model, its data and its misfit.
    depth : (n_soundings,) numpy.ndarray
        Depth at which each sounding corrects the model.
    iteration : int
        Accepted iterations.
    stage : str
        ``"zo"``, ``"subspace"``, ``"gradient"`` or ``"smoothing"``: the kind
        of the last accepted step (the one measured first next time).
    shift : numpy.ndarray or None
        Per-sounding log static shifts.
    damping : float
        Marquardt parameter of the subspace steps.
    secant : list of (x, dpred, step)
        The ZO corrections' multisecant memory.
    past_steps : list of numpy.ndarray
        Recent accepted steps (subspace directions).
    gains, previous_gain, measured_at : dict
        Per step kind, the last and the one before measured
        ``ln(phi / phi_trial)`` per forward pass, and the iteration of the
        last measurement.
    pending : tuple or None
        ``(D, jd)``: directions and their products taken at ``x``.
    gradients, diagonal
        Misfit gradients at ``x`` (None where not taken) and the latest
        ``J^T W^T W J`` diagonal.
    passes : int
        Forward passes so far (evaluator calls).
    stop_reason : str
    """

    x: np.ndarray
    dpred: np.ndarray
    phi: float
    depth: np.ndarray
    iteration: int = 0
    stage: str = "zo"
    shift: np.ndarray | None = None
    damping: float = 1e-2
    secant: list = field(default_factory=list)
    past_steps: list = field(default_factory=list)
    gains: dict = field(default_factory=dict)
    previous_gain: dict = field(default_factory=dict)
    measured_at: dict = field(default_factory=dict)
    pending: tuple | None = None
    gradients: dict | None = None
    diagonal: np.ndarray | None = None
    passes: int = 0
    smoothing_steps: int = 0
    stop_reason: str = ""
    phi_history: list = field(default_factory=list)


@dataclass
class Trial:
    """The best model a step measured.

    ``passes``: forward passes it cost. ``updates``: state fields to take on
    where it is accepted.
    """

    kind: str
    x: np.ndarray
    dpred: np.ndarray
    phi: float
    passes: int
    updates: dict = field(default_factory=dict)


def _evaluate(problem, evaluate, state, x, **request):
    state.passes += 1
    ev = evaluate(x, **request)
    dpred = np.asarray(ev.dpred, dtype=float)
    return ev, dpred


def initial_state(problem: Problem, evaluate: Evaluator, x0) -> State:
    """Evaluate ``x0`` and set up the iteration's state."""
    x0 = np.asarray(x0, dtype=float)
    if not np.all(np.isfinite(x0)):
        raise ValueError("the starting model has NaN or infinite values")
    shift = np.zeros(problem.layout.rho_index.size) if problem.options.static_shift else None
    state = State(x=x0, dpred=np.zeros(0), phi=np.inf, depth=problem.start_depths(), shift=shift)
    _, dpred = _evaluate(problem, evaluate, state, x0)
    state.dpred = dpred
    if problem.options.static_shift:
        state.phi, state.shift = problem.best_shift(dpred, [state.shift])
    else:
        state.phi = problem.phi(dpred)
    state.phi_history.append(state.phi)
    return state


# ------------------------------------------------------------------ steps
def zo_trial(problem: Problem, evaluate: Evaluator, state: State) -> Trial | None:
    """The Zohdy-Oldenburg fixed-point step with its multisecant mix.

    Forward solves only. The correction at ``state.x`` (toward the data
    divided by the static shifts proposed there, with static shifts) is
    mixed with the remembered ones (:func:`simpeg_zo._zo.secant_mix`),
    capped at ``max_log_step`` and shortened by ``shorten`` while the
    misfit does not fall (``max_line_search`` times); where the secant mix
    fails, the memory is cleared and the plain correction tried once more.
    Returns the best model measured (None: none evaluated).
    """
    o = problem.options
    x, dpred, phi = state.x, state.dpred, state.phi
    trial_shift = None
    rho_target = problem.rho_obs
    if o.static_shift:
        trial_shift = problem.estimate_shift(dpred)
        rho_target = problem.rho_obs * np.exp(-trial_shift)
    step, new_depth = zo_correction(
        problem.layout, x, dpred, state.depth, rho_target, problem.phase_obs, problem.settings
    )
    step = problem.covered(step)
    secant = list(state.secant)
    if not secant or secant[-1][0] is not x:
        secant.append((x, dpred, step))
    secant = secant[-(o.memory + 1) :]
    best, passes = None, 0
    # where other steps are measured beside this one, a failing step is
    # left to them after two passes (the secant step, then the plain one or
    # one shortening) instead of shortened further
    budget = 2 if o.subspace and not o.static_shift else 2 * (o.max_line_search + 1)
    for attempt in range(2):
        if o.memory > 0 and len(secant) > 1:
            residuals = [problem.layout.residual(problem.shifted(d, trial_shift)) for _, d, _ in secant]
            candidate, _ = secant_mix([m for m, _, _ in secant], residuals, [s for _, _, s in secant])
        else:
            candidate = x + step
        direction = candidate - x
        direction *= problem.step_scale(direction)
        t = 1.0
        for _ in range(o.max_line_search + 1):
            if passes >= budget:
                break
            xt = x + t * direction
            _, dpred_t = _evaluate(problem, evaluate, state, xt)
            passes += 1
            shift_t = None
            if o.static_shift:
                phi_t, shift_t = problem.best_shift(dpred_t, [state.shift, trial_shift])
            else:
                phi_t = problem.phi(dpred_t)
            if best is None or phi_t < best.phi:
                best = Trial("zo", xt, dpred_t, phi_t, 0, {"depth": new_depth, "shift": shift_t})
            if phi_t < phi:
                break
            t *= o.shorten
            if len(secant) > 1 and budget == 2:
                break  # the plain step next, not a shorter secant step
        if best.phi < phi or len(secant) <= 1 or attempt or passes >= budget:
            break
        secant = secant[-1:]  # the secant model misled: a plain step
    best.passes = passes
    best.updates["secant"] = secant if best.phi < phi else secant[-1:]
    if not o.static_shift:
        best.updates.pop("shift")
    return best


def subspace_trial(problem: Problem, evaluate: Evaluator, state: State) -> Trial | None:
    """A Levenberg-Marquardt step in the span of the subspace directions.

    The directions (:func:`simpeg_zo._iteration.subspace_directions`) and
    their Jacobian products at ``state.x`` come from the pass that
    evaluated it where that pass took them (``state.pending``); otherwise
    one pass takes them (with the misfit gradients and the ``J^T W^T W J``
    diagonal where those are missing). Each trial model is evaluated with
    the products of the next step's directions, so a run of subspace steps
    costs one pass each. Returns the best model measured.
    """
    o = problem.options
    layout = problem.layout
    x, dpred, phi = state.x, state.dpred, state.phi
    passes = 0
    gradients, diagonal = state.gradients, state.diagonal
    if state.pending is not None:
        D, jd = state.pending
        following, new_depth = problem.directions(state, x, dpred, gradients=gradients)
    elif gradients and (diagonal is not None or not o.jacobi):
        D, new_depth = problem.directions(state, x, dpred, gradients=gradients)
        following = D
        ev, _ = _evaluate(problem, evaluate, state, x, directions=D)
        passes += 1
        jd = ev.jd
    else:
        # the directions that need no gradient; the gradients and the
        # diagonal come in the same pass and join from the next step
        s = problem.settings
        corrections = correction_directions(
            layout, x, dpred, state.depth, problem.rho_obs, problem.phase_obs, s, n_bands=o.n_bands, windows=o.windows
        )
        D, new_depth = problem.directions(state, x, dpred, gradients=None, corrections=corrections)
        ev, _ = _evaluate(problem, evaluate, state, x, directions=D, gradients=True, diagonal=o.jacobi)
        passes += 1
        jd, gradients = ev.jd, ev.gradients
        if o.jacobi and ev.diagonal is not None:
            diagonal = ev.diagonal
        work = replace(state, diagonal=diagonal)
        following, _ = problem.directions(work, x, dpred, gradients=gradients, corrections=corrections)
    if D.shape[1] == 0:
        return None
    B = problem.weighted(jd)
    r = layout.residual(dpred)
    damping = state.damping
    best = None
    for _ in range(o.max_line_search + 2):
        coefficients, predicted = subspace_coefficients(B, r, damping)
        move = D @ coefficients
        shrink = problem.step_scale(move)
        if shrink < 1.0:
            move *= shrink
            new = r - shrink * (B @ coefficients)
            predicted = float(r @ r - new @ new)
        xt = x + move
        # a step predicted to reach the target is likely the last: no products
        goal = problem.target if problem.target is not None else layout.n_data
        last = phi - predicted <= goal
        D_next = None if last else problem.clean(np.column_stack([following, move]))
        want_diagonal = bool(o.jacobi and D_next is not None and evaluate.diagonal_is_free(D_next.shape[1]))
        ev, dpred_t = _evaluate(problem, evaluate, state, xt, directions=D_next, gradients=True, diagonal=want_diagonal)
        passes += 1
        phi_t = problem.phi(dpred_t)
        ratio = (phi - phi_t) / predicted if predicted > 0 else -1.0
        damping = update_damping(damping, ratio)
        logger.debug(
            "subspace: k=%d damping %.2e predicted %.3g actual %.3g", D.shape[1], damping, predicted, phi - phi_t
        )
        if best is None or phi_t < best.phi:
            updates = {
                "depth": new_depth,
                "pending": None if D_next is None else (D_next, ev.jd),
                "gradients": ev.gradients,
                "diagonal": ev.diagonal if ev.diagonal is not None else diagonal,
            }
            best = Trial("subspace", xt, dpred_t, phi_t, 0, updates)
        if phi_t < phi:
            break
    best.passes = passes
    best.updates["damping"] = damping
    # what this step learned at x stays useful if another kind wins
    best.updates["at_x"] = {"gradients": gradients, "diagonal": diagonal}
    return best


def gradient_trial(problem: Problem, evaluate: Evaluator, state: State) -> Trial | None:
    """The Jacobi-scaled misfit gradient with a backtracking line search.

    The direction ``-g / (diag(J^T W^T W J) + floor)``, capped at
    ``max_log_step`` and halved until the misfit falls (at most ``2 *
    (max_line_search + 2)`` trials): for a small enough step it always
    descends. Gradients and diagonal at ``state.x`` are taken in one pass
    where they are missing.
    """
    o = problem.options
    x, phi = state.x, state.phi
    passes = 0
    gradients, diagonal = state.gradients, state.diagonal
    if not gradients or diagonal is None:
        ev, _ = _evaluate(problem, evaluate, state, x, gradients=True, diagonal=True)
        passes += 1
        gradients = ev.gradients or {}
        diagonal = ev.diagonal if ev.diagonal is not None else diagonal
    if not gradients:
        return None
    g = np.sum([np.asarray(v, dtype=float) for v in gradients.values()], axis=0)
    scale = np.ones_like(g)
    if diagonal is not None and np.all(np.isfinite(diagonal)) and np.max(diagonal) > 0:
        scale = diagonal + JACOBI_FLOOR * np.max(diagonal)
    direction = problem.clean(problem.covered(-(g / scale)[:, None]))
    if direction.shape[1] == 0:
        return None
    direction = direction[:, 0]
    direction *= problem.options.max_log_step / np.abs(direction).max()  # the longest step allowed
    best = None
    t = 1.0
    for _ in range(2 * (o.max_line_search + 2)):
        xt = x + t * direction
        _, dpred_t = _evaluate(problem, evaluate, state, xt)
        passes += 1
        phi_t = problem.phi(dpred_t, state.shift)
        if best is None or phi_t < best.phi:
            best = Trial("gradient", xt, dpred_t, phi_t, 0, {})
        if phi_t < phi:
            break
        t *= 0.25
    best.passes = passes
    best.updates["at_x"] = {"gradients": gradients, "diagonal": diagonal}
    return best


def _norm_directions(problem, norm_gradient):
    """The roughness's descent direction, whole and in one lateral window per station."""
    descent = problem.covered(-np.asarray(norm_gradient, dtype=float))
    geom = problem.layout.geometry
    hats = lateral_windows(geom.cell_x, geom.station_x, geom.station_x.size)
    return np.column_stack([descent[:, None] * hats, descent])


def smoothing_trial(problem: Problem, evaluate: Evaluator, state: State, allowed: float, context: dict) -> Trial | None:
    """One Occam step: the smoothest model in the subspace whose misfit stays at most ``allowed``.

    ``context`` carries the directions and their products between the steps
    (first call: empty). Returns the accepted trial or None.
    """
    o = problem.options
    norm = problem.roughness
    x, dpred, phi = state.x, state.dpred, state.phi
    if "D" not in context:
        data_directions, _ = problem.directions(state, x, dpred, gradients=state.gradients)
        D = problem.clean(np.column_stack([data_directions, _norm_directions(problem, norm.gradient(x))]))
        ev, _ = _evaluate(problem, evaluate, state, x, directions=D)
        context.update(D=D, jd=ev.jd, data_directions=data_directions, damping=SMOOTHING_DAMPING, passes=1)
    D, jd = context["D"], context["jd"]
    B = problem.weighted(jd)
    r = problem.layout.residual(dpred)
    norm_x = norm.value(x)
    g = D.T @ norm.gradient(x)
    H = D.T @ norm.hessian_product(x, D)
    for _ in range(o.max_line_search + 2):
        c, _, change = smoothest_coefficients(B, r, g, H, SMOOTHING_MARGIN * allowed, context["damping"])
        if not change < 0:
            return None
        move = D @ c
        move *= problem.step_scale(move)
        xt = x + move
        D_next = problem.clean(
            np.column_stack([context["data_directions"], _norm_directions(problem, norm.gradient(xt)), move])
        )
        ev, dpred_t = _evaluate(problem, evaluate, state, xt, directions=D_next)
        context["passes"] = context.get("passes", 0) + 1
        phi_t = problem.phi(dpred_t)
        norm_t = norm.value(xt)
        logger.debug(
            "smoothing: roughness %.4g -> %.4g (predicted %.4g), phi_d %.4g -> %.4g (allowed %.4g)",
            norm_x,
            norm_t,
            norm_x + change,
            phi,
            phi_t,
            allowed,
        )
        accepted = phi_t <= allowed and norm_t < norm_x
        context["damping"] = update_damping(context["damping"], 1.0 if accepted else -1.0)
        if accepted:
            context.update(D=D_next, jd=ev.jd, last_decrease=(norm_x - norm_t) / norm_x if norm_x > 0 else 0.0)
            return Trial("smoothing", xt, dpred_t, phi_t, context.pop("passes"), {"past_step": move})
    return None


# ------------------------------------------------------------- iterations
def _gain(phi, trial):
    """Decrease of ``ln(phi)`` per forward pass (negative where the misfit rose)."""
    if trial is None or not np.isfinite(trial.phi) or trial.phi <= 0:
        return -np.inf if trial is None or not np.isfinite(trial.phi) else np.inf
    return float(np.log(phi / trial.phi)) / max(trial.passes, 1)


def _should_race(state, kind, gain, other, memory):
    """Whether to measure ``other`` too after ``kind`` measured ``gain``.

    When ``kind`` failed; where ``other`` was measured within the last
    ``memory`` iterations, when ``kind`` paid less per pass than ``other``
    did then; otherwise (an older measurement says little of the model
    now), when ``kind`` paid less than at its own previous step.
    """
    if not gain > 0:
        return True
    if other in state.gains and state.iteration - state.measured_at.get(other, -np.inf) <= memory:
        return gain < state.gains[other]
    previous = state.previous_gain.get(kind)
    return previous is not None and gain < previous


_STEPS = {"zo": zo_trial, "subspace": subspace_trial, "gradient": gradient_trial}


def accept(state: State, trial: Trial, problem: Problem) -> State:
    """The state after ``trial`` is accepted."""
    updates = dict(trial.updates)
    updates.pop("at_x", None)
    secant = updates.pop("secant", None)
    past_step = updates.pop("past_step", trial.x - state.x)
    fields = {"pending": None, "gradients": None, **updates}
    new = replace(
        state,
        x=trial.x,
        dpred=trial.dpred,
        phi=trial.phi,
        iteration=state.iteration + 1,
        stage=trial.kind if trial.kind != "gradient" else state.stage,
        **fields,
    )
    if secant is not None:
        new.secant = secant
    new.past_steps = (state.past_steps + [past_step])[-problem.options.subspace_memory :]
    new.phi_history = state.phi_history + [trial.phi]
    return new


def iterate(problem: Problem, evaluate: Evaluator, state: State, *, race: bool = False) -> State | None:
    """One safeguarded iteration; None where no step lowers the misfit.

    The candidate of the stage that paid last is measured first; the other
    (ZO fixed point or subspace step) is measured too where
    :func:`_should_race` says so, and the lower misfit is kept. Where
    neither lowers the misfit, the Jacobi-scaled gradient step is tried.
    ``race``: measure both whatever they paid before.
    """
    o = problem.options
    kinds = ["zo", "subspace"] if o.subspace and not o.static_shift else ["zo"]
    first = state.stage if state.stage in kinds else kinds[0]
    order = [first] + [k for k in kinds if k != first]
    measured = []
    for i, kind in enumerate(order):
        gain = _gain(state.phi, measured[0]) if measured else -np.inf
        if i > 0 and not race and not _should_race(state, order[0], gain, kind, o.stall_iterations):
            break
        trial = _STEPS[kind](problem, evaluate, state)
        if trial is None:
            continue
        gain = _gain(state.phi, trial)
        state.previous_gain[kind] = state.gains.get(kind)
        state.gains[kind] = gain
        state.measured_at[kind] = state.iteration
        measured.append(trial)
        # what a step took at x (gradients, diagonal) serves the others
        at_x = trial.updates.get("at_x")
        if at_x:
            state.gradients = at_x["gradients"] or state.gradients
            state.diagonal = at_x["diagonal"] if at_x["diagonal"] is not None else state.diagonal
        if trial.kind == "subspace":
            state.damping = trial.updates["damping"]
    better = [t for t in measured if t.phi < state.phi]
    if not better and o.subspace and not o.static_shift:
        trial = gradient_trial(problem, evaluate, state)
        if trial is not None and trial.phi < state.phi:
            better = [trial]
    if not better:
        return None
    best = min(better, key=lambda t: t.phi)
    if len(measured) > 1:
        logger.debug("race: %s", ", ".join(f"{t.kind} {t.phi:.4g} ({t.passes} passes)" for t in measured))
    return accept(state, best, problem)


@dataclass
class Hooks:
    """Callbacks of :func:`run` (an adapter's link to its framework).

    ``start``: called before each iteration; returns True to stop at the
    target (a directive said so). ``accepted``: called with the state after
    each accepted step.
    """

    start: Callable[[State], bool] = lambda state: False
    accepted: Callable[[State], None] = lambda state: None


def run(problem: Problem, evaluate: Evaluator, x0, hooks: Hooks | None = None, state: State | None = None) -> State:
    """Iterate from ``x0`` until the target, the iteration limit or a stall.

    Then, at the target, the smoothing steps (within the same
    ``max_iter``). Returns the final state; ``state.stop_reason`` says why
    it ended. ``KeyboardInterrupt`` passes through (the adapter keeps the
    best model, which every accepted step is).
    """
    o = problem.options
    hooks = hooks or Hooks()
    state = initial_state(problem, evaluate, x0) if state is None else state
    target = problem.target
    can_race = o.subspace and not o.static_shift
    race, raced_at = False, None
    while True:
        stop = hooks.start(state)
        if stop or (target is not None and state.phi <= target):
            state.stop_reason = STOP_TARGET
            break
        if state.iteration >= o.max_iter:
            state.stop_reason = STOP_ITERATIONS
            break
        previous = state.phi
        new = iterate(problem, evaluate, state, race=race)
        if race:
            race, raced_at = False, state.iteration
        if new is None:
            state.stop_reason = STOP_NO_DESCENT
            break
        state = new
        hooks.accepted(state)
        if stalled(state.phi_history, o.stall_iterations, o.stall_tolerance, target=target):
            if can_race and (raced_at is None or state.iteration - raced_at > o.stall_iterations):
                race = True  # before stopping, measure every kind once more
                continue
            state.stop_reason = STOP_STALL
            break
        if (
            o.tail_stop is not None
            and state.stage == "subspace"
            and target is not None
            and state.phi > target
            and previous - state.phi < o.tail_stop * (previous - target)
        ):
            state.stop_reason = STOP_TAIL
            break
    if state.stop_reason == STOP_TARGET and o.smoothing_steps > 0 and o.subspace and problem.roughness is not None:
        state = _smooth(problem, evaluate, state, hooks)
    return state


def _smooth(problem, evaluate, state, hooks):
    """Up to ``smoothing_steps`` Occam steps after the target, within ``max_iter``."""
    o = problem.options
    allowed = state.phi
    context: dict = {}
    for _ in range(o.smoothing_steps):
        if state.iteration >= o.max_iter:
            break
        trial = smoothing_trial(problem, evaluate, state, allowed, context)
        if trial is None:
            break
        state = accept(state, trial, problem)
        state.smoothing_steps += 1
        hooks.accepted(state)
        if context.get("last_decrease", 0.0) < SMOOTHING_TOLERANCE:
            break
    return state
