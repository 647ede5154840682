r"""The Zohdy-Oldenburg inversion without SimPEG: state, evaluator and steps.

The driver of :class:`simpeg_zo.ZohdyOldenburg`, written on arrays alone so
that it can be read, and tested, apart from SimPEG.

* :class:`Evaluator` is the one thing it needs from a forward code: a
  callable that takes a model (and, optionally, directions) and returns an
  :class:`Evaluation` with the predicted data and, on request, the misfit
  gradients, the Jacobian products of the directions and the diagonal of
  :math:`J^T W^T W J`. :class:`simpeg_zo._forward.ForwardEngine` provides it
  for SimPEG simulations (:class:`simpeg_zo._forward.EngineEvaluator`);
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
  misfit. :func:`run` is the loop: stopping rules, a :func:`restart` from
  a model given beside the start where the steps stall above it, then the
  smoothing steps, all within ``max_iter``.

No fixed percentage decides between the stages: the measured decrease of
the misfit per forward pass does.
"""

from ._loop import (
    _STEPS,
    STOP_ITERATIONS,
    STOP_NO_DESCENT,
    STOP_STALL,
    STOP_TAIL,
    STOP_TARGET,
    Hooks,
    accept,
    iterate,
    run,
)
from ._problem import Evaluation, Evaluator, Options, Problem, Roughness, State, Trial
from ._steps import gradient_trial, initial_state, restart, smoothing_trial, subspace_trial, zo_trial

__all__ = [
    "Evaluation",
    "Evaluator",
    "Roughness",
    "Options",
    "Problem",
    "State",
    "Trial",
    "initial_state",
    "restart",
    "zo_trial",
    "subspace_trial",
    "gradient_trial",
    "smoothing_trial",
    "accept",
    "iterate",
    "run",
    "Hooks",
    "STOP_TARGET",
    "STOP_ITERATIONS",
    "STOP_STALL",
    "STOP_NO_DESCENT",
    "STOP_TAIL",
    "_STEPS",
]
