"""The steps of the driver: each takes the problem, the evaluator and the state and returns a trial."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from .._iteration import JACOBI_FLOOR, correction_directions, zo_correction
from .._subspace import lateral_windows, smoothest_coefficients, subspace_coefficients, update_damping
from .._zo import secant_mix
from ._problem import Evaluator, Problem, State, Trial

__all__ = ["initial_state", "restart", "zo_trial", "subspace_trial", "gradient_trial", "smoothing_trial"]

logger = logging.getLogger("simpeg_zo._optimizer")

#: Smoothing steps: Marquardt damping of the first trial, the part of the
#: allowed misfit their linearised misfit aims at, and the relative
#: roughness decrease below which they stop.
SMOOTHING_DAMPING = 1.0
SMOOTHING_MARGIN = 0.97
SMOOTHING_TOLERANCE = 0.02


def _evaluate(problem, evaluate, state, x, **request):
    state.passes += 1
    ev = evaluate(x, **request)
    dpred = np.asarray(ev.dpred, dtype=float)
    return ev, dpred


def initial_state(problem: Problem, evaluate: Evaluator, x0, directions=None) -> State:
    """Evaluate ``x0`` and set up the iteration's state.

    ``directions``: (n_model, k) model changes (a guide model's difference
    from ``x0``, say) that join the subspace steps' directions from the
    first, as the past steps do, until newer steps replace them. Where the
    evaluator hands back the rows of J (``Options.jacobian_rows``), the
    start's pass takes them with the gradients and the diagonal, and the
    first iteration measures the subspace step first (it then costs its
    trial only).
    """
    x0 = np.asarray(x0, dtype=float)
    if not np.all(np.isfinite(x0)):
        raise ValueError("the starting model has NaN or infinite values")
    shift = np.zeros(problem.layout.rho_index.size) if problem.options.static_shift else None
    state = State(x=x0, dpred=np.zeros(0), phi=np.inf, depth=problem.start_depths(), shift=shift)
    if directions is not None:
        directions = np.asarray(directions, dtype=float)
        directions = directions[:, None] if directions.ndim == 1 else directions
        if directions.ndim != 2 or directions.shape[0] != x0.size:
            raise ValueError(f"the starting directions have shape {directions.shape}, expected ({x0.size}, k)")
        if not np.all(np.isfinite(directions)):
            raise ValueError("the starting directions have NaN or infinite values")
        state.past_steps = list(directions.T)
    o = problem.options
    if o.subspace and not o.static_shift and _rows_affordable(problem, evaluate, x0.size):
        # the start's pass takes the rows of J too: the first iteration is a
        # subspace step at the cost of its trial only
        ev, dpred = _rows_pass(problem, evaluate, state, x0)
        state.pending = (None, ev.rows)
        state.gradients = ev.gradients
        state.diagonal = ev.diagonal
        state.stage = "subspace"
    else:
        _, dpred = _evaluate(problem, evaluate, state, x0)
    state.dpred = dpred
    state.phi, state.shift = _start_misfit(problem, dpred)
    state.phi_history.append(state.phi)
    return state


def _start_misfit(problem, dpred):
    """(misfit, static shifts or None) of a starting model's data, the shifts proposed from none."""
    if problem.options.static_shift:
        return problem.best_shift(dpred, [np.zeros(problem.layout.rho_index.size)])
    return problem.phi(dpred), None


def restart(problem: Problem, evaluate: Evaluator, state: State, models) -> State | None:
    """A fresh start from the best-fitting of ``models``, where it fits better than ``state``.

    What a run does where its steps barely lower the misfit, or not at
    all, above the target (:func:`run`): each model (the model a script
    gave before a directive replaced it with the Bostick model, say) is
    measured with one forward pass; the best one, where its misfit is
    below the state's, starts the iterations afresh (sounding depths,
    secant memory, past steps, damping and the stages' records as at a
    start, its misfit as :func:`initial_state` takes it), as one iteration
    of kind ``"restart"``. A start that fits far worse than a plain half-space (a
    TM phase out of its quadrant under topography, say) may lead every step
    into a stall: the run then goes on from ``models`` instead. None where
    no model fits better.
    """
    best = None
    for x in models:
        x = np.asarray(x, dtype=float)
        if x.shape != state.x.shape or not np.all(np.isfinite(x)):
            raise ValueError(f"a restart model has shape {x.shape} or non-finite values; expected {state.x.shape}")
        _, dpred = _evaluate(problem, evaluate, state, x)
        phi, shift = _start_misfit(problem, dpred)
        if best is None or phi < best[0]:
            best = (phi, shift, x, dpred)
    if best is None or not best[0] < state.phi:
        return None
    phi, shift, x, dpred = best
    logger.info(
        "the steps barely lower the misfit at chi2 %.4g; a model given beside the start fits at chi2 %.4g: "
        "restarting from it",
        state.phi / max(problem.layout.n_data, 1),
        phi / max(problem.layout.n_data, 1),
    )
    fresh = State(x=x, dpred=dpred, phi=phi, depth=problem.start_depths(), shift=shift)
    fresh.iteration, fresh.passes, fresh.stage = state.iteration + 1, state.passes, "restart"
    fresh.smoothing_steps = state.smoothing_steps
    fresh.phi_history = state.phi_history + [phi]
    return fresh


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
            residuals = [problem.layout.step_residual(problem.shifted(d, trial_shift)) for _, d, _ in secant]
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


def _rows_affordable(problem, evaluate, n_model):
    """Whether to take the rows of J: asked for, and ``evaluate`` can hand them back at this size.

    ``rows_affordable`` and ``rows=`` are an optional part of the evaluator
    protocol.
    """
    affordable = getattr(evaluate, "rows_affordable", None)
    return bool(problem.options.jacobian_rows and affordable is not None and affordable(n_model))


def _rows_pass(problem, evaluate, state, x):
    """One pass at ``x`` that takes the rows of J, the gradients and (with ``jacobi``) the diagonal."""
    return _evaluate(problem, evaluate, state, x, gradients=True, diagonal=problem.options.jacobi, rows=True)


#: Largest Marquardt damping the trust-region search of a subspace step tries
MAX_TRUST_DAMPING = 1e12


def _bounded_coefficients(problem, D, B, r, damping):
    """Levenberg-Marquardt coefficients whose step stays within ``max_log_step``.

    Where the step at ``damping`` changes some cell by more than
    ``max_log_step``, the damping is raised (by factors of 4, then
    bisected in log) to the smallest value whose step fits: the
    Levenberg-Marquardt path inside the trust region, which keeps the
    well-determined combinations of directions. The whole step shrunk
    onto the bound (its size set by its worst-determined combination; on a
    200 km field line that shrink was 0.04 and the misfit fell 5 % per
    iteration) is kept instead where its linearised decrease is the
    larger. Returns the coefficients (of the unshrunk step), their
    predicted decrease and the damping used.
    """
    coefficients, predicted = subspace_coefficients(B, r, damping)
    if problem.step_scale(D @ coefficients) >= 1.0:
        return coefficients, predicted, damping
    low, high = damping, max(damping, 1e-6)
    while True:
        high *= 4.0
        if high > MAX_TRUST_DAMPING:
            return coefficients, predicted, damping  # the caller shrinks the step
        c_high, p_high = subspace_coefficients(B, r, high)
        if problem.step_scale(D @ c_high) >= 1.0:
            break
        low = high
    for _ in range(8):  # to within a factor 4 ** (1 / 256) of the boundary
        mid = float(np.sqrt(low * high))
        c_mid, p_mid = subspace_coefficients(B, r, mid)
        if problem.step_scale(D @ c_mid) >= 1.0:
            high, c_high, p_high = mid, c_mid, p_mid
        else:
            low = mid
    # the shrunk step where its linearised decrease is the larger
    shrink = problem.step_scale(D @ coefficients)
    rest = r - shrink * (B @ coefficients)
    if float(r @ r - rest @ rest) > p_high:
        return coefficients, predicted, damping
    return c_high, p_high, high


def subspace_trial(problem: Problem, evaluate: Evaluator, state: State) -> Trial | None:
    """A Levenberg-Marquardt step in the span of the subspace directions.

    The directions (:func:`simpeg_zo._iteration.subspace_directions`) and
    their Jacobian products at ``state.x`` come from the pass that
    evaluated it where that pass took them (``state.pending``: the
    products, or the rows of J from which the directions built on that
    pass's gradients take theirs); otherwise one pass takes them (with the
    misfit gradients and the ``J^T W^T W J`` diagonal where those are
    missing). Each trial model is evaluated with the products of the next
    step's directions (or the rows of J), so a run of subspace steps costs
    one pass each. Returns the best model measured.
    """
    o = problem.options
    layout = problem.layout
    x, dpred, phi = state.x, state.dpred, state.phi
    passes = 0
    gradients, diagonal = state.gradients, state.diagonal
    rows = None  # the rows of J at x, where a pass took them
    if state.pending is not None and state.pending[0] is None:
        rows = state.pending[1]  # taken by the pass that evaluated x, with its gradients and diagonal
    elif state.pending is not None:
        D, jd = state.pending
        following, new_depth = problem.directions(state, x, dpred, gradients=gradients)
    elif gradients and (diagonal is not None or not o.jacobi):
        D, new_depth = problem.directions(state, x, dpred, gradients=gradients)
        following = D
        ev, _ = _evaluate(problem, evaluate, state, x, directions=D)
        passes += 1
        jd = ev.jd
    elif _rows_affordable(problem, evaluate, x.size):
        # the rows of J at x (the diagonal's adjoint solves) give the
        # products of every direction, those built on the gradients of the
        # same pass included
        ev, _ = _rows_pass(problem, evaluate, state, x)
        passes += 1
        rows, gradients = ev.rows, ev.gradients
        if ev.diagonal is not None:
            diagonal = ev.diagonal
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
    if rows is not None:
        D, new_depth = problem.directions(replace(state, diagonal=diagonal), x, dpred, gradients=gradients)
        # rows kept in single precision multiply single-precision directions (no double copy of the rows)
        following, jd = D, np.asarray(rows @ D.astype(rows.dtype, copy=False), dtype=float)
    rows = ev = None  # (the rows of J at x: not needed past their products)
    if D.shape[1] == 0:
        return None
    B = problem.weighted(jd)
    r = layout.step_residual(dpred)
    damping = state.damping
    best = None
    for _ in range(o.max_line_search + 2):
        # the damping that kept the step within the bound is carried on
        # (then lowered while the linearisation predicts well)
        coefficients, predicted, damping = _bounded_coefficients(problem, D, B, r, damping)
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
        fresh = D_next is not None and _rows_affordable(problem, evaluate, x.size)
        if fresh:
            # the rows of J at the trial: the next step builds its directions there
            ev, dpred_t = _rows_pass(problem, evaluate, state, xt)
        else:
            want_diagonal = bool(o.jacobi and D_next is not None and evaluate.diagonal_is_free(D_next.shape[1]))
            ev, dpred_t = _evaluate(
                problem, evaluate, state, xt, directions=D_next, gradients=True, diagonal=want_diagonal
            )
        passes += 1
        phi_t = problem.phi(dpred_t)
        ratio = (phi - phi_t) / predicted if predicted > 0 else -1.0
        damping = update_damping(damping, ratio)
        logger.debug(
            "subspace: k=%d damping %.2e predicted %.3g actual %.3g", D.shape[1], damping, predicted, phi - phi_t
        )
        if best is None or phi_t < best.phi:
            pending = (None, ev.rows) if fresh else None if D_next is None else (D_next, ev.jd)
            updates = {
                "depth": new_depth,
                # a trial that does not lower the misfit is never accepted: its products (or rows) go
                "pending": pending if phi_t < phi else None,
                "gradients": ev.gradients,
                "diagonal": ev.diagonal if ev.diagonal is not None else diagonal,
            }
            best = Trial("subspace", xt, dpred_t, phi_t, 0, updates)
        ev = pending = None  # before the next trial's pass
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
    r = problem.layout.step_residual(dpred)
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
