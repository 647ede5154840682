"""The driver's loop: one safeguarded iteration over measured candidates, and the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .._iteration import stalled
from ._problem import Evaluator, Problem, State, Trial
from ._steps import (
    SMOOTHING_TOLERANCE,
    gradient_trial,
    initial_state,
    restart,
    smoothing_trial,
    subspace_trial,
    zo_trial,
)

__all__ = [
    "iterate",
    "run",
    "accept",
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


def _reaches(problem, trial):
    """Whether ``trial`` reaches the target misfit (the run then stops at it)."""
    return problem.target is not None and trial.phi <= problem.target


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
    :func:`_should_race` says so (never after a step that reaches the
    target), and the lower misfit is kept. Where
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
        if measured and _reaches(problem, measured[0]):
            break  # the run ends at this step: another candidate would only cost passes
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


def _restart_due(problem, state, previous, no_step):
    """Whether a step that barely paid (or none) above the target, with iterations left, calls for a restart."""
    o, target = problem.options, problem.target
    barely = no_step or previous - state.phi < o.stall_tolerance * previous
    above = target is None or state.phi > target
    return barely and above and state.iteration < o.max_iter


def run(
    problem: Problem,
    evaluate: Evaluator,
    x0,
    hooks: Hooks | None = None,
    state: State | None = None,
    restarts=(),
) -> State:
    """Iterate from ``x0`` until the target, the iteration limit or a stall.

    Then, at the target, the smoothing steps (within the same
    ``max_iter``). ``restarts``: models to start afresh from (:func:`restart`)
    where a step above the target lowers the misfit by less than
    ``stall_tolerance``, or none lowers it; measured once, at the first
    such step. Returns the final state; ``state.stop_reason`` says
    why it ended. ``KeyboardInterrupt`` passes through (the adapter keeps
    the best model, which every accepted step is).
    """
    o = problem.options
    hooks = hooks or Hooks()
    state = initial_state(problem, evaluate, x0) if state is None else state
    restarts = list(restarts)
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
        if new is not None:
            state = new
            hooks.accepted(state)
        if restarts and _restart_due(problem, state, previous, new is None):
            fresh = restart(problem, evaluate, state, restarts)
            restarts = []
            if fresh is not None:
                state, race, raced_at = fresh, False, None
                hooks.accepted(state)
                continue
        if new is None:
            state.stop_reason = STOP_NO_DESCENT
            break
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
