"""SimPEG's Gauss-Newton recipe on a profile, counted and timed like ZO.

``InexactGaussNewton`` with ``WeightedLeastSquares``, ``BetaEstimate_ByEig``,
``BetaSchedule`` and ``TargetMisfit`` (:data:`GN_SETTINGS`); an inverse
problem that counts forward solves and rejects line-search trials that
fail; the shared pieces ZO's run reuses (the regularisation, SimPEG's
silenced printing).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from simpeg import directives, inverse_problem, inversion, optimization, regularization

from ._checkpoint import checkpoint_directive
from ._directives import BostickStartingModel
from ._layout import misfit_simulations
from ._profile import Profile
from ._result import InversionResult, _failed, _finish, _interrupted, _log_iteration, _partial

__all__ = ["GN_SETTINGS", "LOG_CONDUCTIVITY_BOUNDS", "gauss_newton"]

logger = logging.getLogger("simpeg_zo._runs")

#: SimPEG's standard 2D MT Gauss-Newton recipe (the settings of the mtpy-v2
#: SimPEG 2D recipe): smallness 1e-5, horizontal smoothness 1/5, vertical 1,
#: beta from the largest eigenvalues (ratio 1), halved every iteration,
#: inexact GN with 30 CG iterations, stopped at chi2 = 1, and SimPEG's Jacobi
#: preconditioner of the CG (``UpdatePreconditioner``, as SimPEG's own
#: examples use it; the profile's simulations give it ``getJtJdiag``).
#: Without it the CG falls back to SimPEG's default preconditioner (BFGS from
#: the inverse of the regularisation's Hessian), uses all its 30 iterations
#: and GN stalls on layered models (h-layers TE, every 4th station and
#: frequency: chi2 44 after 12 iterations against 0.8 after 6 with it).
GN_SETTINGS = {
    "alpha_s": 1e-5,
    "alpha_x": 0.2,
    "alpha_y": 1.0,
    "beta0_ratio": 1.0,
    "cooling_factor": 2.0,
    "cooling_rate": 1,
    "max_iter": 30,
    "max_iter_cg": 30,
    "preconditioner": True,
    "sensitivity_weights": False,
}


def _silence(opt):
    """Keep a SimPEG optimizer from printing.

    SimPEG's ``Minimize`` prints its iteration table and line-search notes
    to stdout; instance attributes shadow those methods for this run (the
    inverters log each iteration instead, see :class:`_Recorder`).
    """

    def nothing(*args, **kwargs):
        return None

    def broken_line_search(p):
        logger.debug("%s: the line search found no decrease", type(opt).__name__)
        return p, False

    for name in ("printInit", "printIter", "printDone"):
        setattr(opt, name, nothing)
    opt.modifySearchDirectionBreak = broken_line_search


#: Bounds of the model (log conductivity, S/m) outside which a line-search
#: trial is rejected without a forward solve: 1e-4 to 1e9 ohm-m, wider than
#: any earth material, so they never bind on real data but keep the
#: exponential map (and the system matrix) finite.
LOG_CONDUCTIVITY_BOUNDS = (float(np.log(1e-9)), float(np.log(1e4)))

# what a forward solve of an extreme trial model raises: SimPEG's check of
# non-finite predicted data (ValueError), a factorisation that breaks down
# (RuntimeError from PARDISO or SuperLU), a floating-point trap
_TRIAL_ERRORS = (ValueError, RuntimeError, FloatingPointError, ArithmeticError, np.linalg.LinAlgError)


def _project_on_bounds(m):
    """``m`` clipped to :data:`LOG_CONDUCTIVITY_BOUNDS` (GN's line-search projection)."""
    return np.clip(m, *LOG_CONDUCTIVITY_BOUNDS)


class _CountingInvProblem(inverse_problem.BaseInvProblem):
    """``BaseInvProblem`` that counts forward simulations and rejects bad trials.

    A line-search trial (an evaluation without gradient of a model other
    than the optimizer's current one) whose model leaves
    :data:`LOG_CONDUCTIVITY_BOUNDS`, whose forward solve fails or whose
    objective is not finite evaluates to ``inf``: SimPEG's Armijo search
    then shortens the step, as it does after a rise of the objective, and
    stops with the last accepted model when no step is left. Evaluations
    with gradients (accepted models) raise as before.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.forward_count = 0
        self.rejected_trials = 0

    def evalFunction(self, m, return_g=True, return_H=True):
        # a line-search trial: no gradient, and not the optimizer's current
        # model (SimPEG evaluates the start that way too)
        trial = not return_g and not return_H and m is not getattr(self.opt, "xc", None)
        if trial:
            lo, hi = LOG_CONDUCTIVITY_BOUNDS
            m_arr = np.asarray(m)
            if not np.all(np.isfinite(m_arr)) or m_arr.min() < lo or m_arr.max() > hi:
                return self._reject(m, "the model leaves the bounds of log conductivity")
        # a re-evaluation at the same model reuses the stored fields
        fresh = not any(m is mtest for mtest, _ in self.warmstart)
        if fresh:
            self.forward_count += 1
        if not trial:
            return super().evalFunction(m, return_g=return_g, return_H=return_H)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                phi = super().evalFunction(m, return_g=False, return_H=False)
        except _TRIAL_ERRORS as exc:
            return self._reject(m, f"{type(exc).__name__}: {exc}")
        if not np.isfinite(phi):
            return self._reject(m, "the objective is not finite")
        return phi

    def _reject(self, m, why):
        self.rejected_trials += 1
        self.warmstart = [(mt, f) for mt, f in self.warmstart if mt is not m]
        logger.debug("line-search trial rejected (%s); the step is shortened", why)
        return np.inf


class _Recorder(directives.InversionDirective):
    """Record (and log at INFO) chi2, time and forward count.

    At the start and at every iteration.
    """

    def __init__(self, t0, n_data, method="gn", **kwargs):
        super().__init__(**kwargs)
        self.t0 = t0
        self.n_data = n_data
        self.method = method
        self.history = []

    def _log(self):
        entry = {
            "iteration": int(self.opt.iter),
            "chi2": float(self.invProb.phi_d) / self.n_data,
            "seconds": time.perf_counter() - self.t0,
            "forward_solves": int(self.invProb.forward_count),
        }
        self.history.append(entry)
        _log_iteration(self.method, entry)

    def endIter(self):
        self._log()


class _TargetMisfit(directives.TargetMisfit):
    """SimPEG's ``TargetMisfit`` over a profile's weighted data, its target logged here.

    SimPEG's own target is ``chifact`` times the survey's ``nD``, which
    counts the data a profile leaves out (NaN, infinite standard deviation,
    no weight): on field data with dropped soundings the runs stopped above
    chi2 = ``chifact`` of the data they fit. Here ``phi_d_star`` is the
    number of weighted data, the ``n_data`` that chi2 divides by. The
    target is logged at DEBUG, instead of SimPEG's own INFO stream.
    """

    def __init__(self, profile, chifact=1.0, **kwargs):
        super().__init__(chifact=chifact, phi_d_star=max(profile.n_data, 1), **kwargs)

    def initialize(self):
        logger.debug("target data misfit %.6g (chi factor %g)", self.target, self.chifact)


@contextlib.contextmanager
def _counting_jacobian_products(simulations, counts):
    """Count ``Jvec``/``Jtvec`` calls of the simulations while inside.

    A ``getJtJdiag`` (the Jacobi preconditioner's diagonal: one adjoint
    solve per station and frequency) counts as that many solves over the
    simulation's frequencies ``Jtvec`` calls, as in ZO's reports. Instance
    attributes shadow the methods and are removed on exit.
    """
    from ._derivatives import _jtj_adjoint_solves

    def wrap(sim, name):
        method = getattr(sim, name)

        def counted(*args, **kwargs):
            if name == "getJtJdiag":
                counts["jtvec"] += _jtj_adjoint_solves(sim)
            else:
                counts[name.lower()] += 1
            return method(*args, **kwargs)

        return counted

    names = ("Jvec", "Jtvec", "getJtJdiag")
    try:
        for sim in simulations:
            for name in names:
                if hasattr(sim, name):
                    setattr(sim, name, wrap(sim, name))
        yield counts
    finally:
        for sim in simulations:
            for name in names:
                sim.__dict__.pop(name, None)


def _run(inv, m0, verbose):
    """``inv.run(m0)``; without ``verbose`` SimPEG prints nothing.

    Inside :func:`simpeg_zo.checkpointing` the accepted model is
    also written to the checkpoint file after every iteration.
    """
    if not verbose:
        inv.invProb.print_version = False
        _silence(inv.opt)
    writer = checkpoint_directive()
    if writer is not None:
        # first: it reads the beta of the iteration just done, before any cooling
        writer.inversion = inv
        inv.directiveList.dList.insert(0, writer)
    return inv.run(m0)


def _regularization(profile, reference, settings):
    """The recipe's ``WeightedLeastSquares`` around ``reference`` (weights from ``settings``)."""
    return regularization.WeightedLeastSquares(
        profile.mesh,
        active_cells=profile.active_cells,
        reference_model=reference,
        alpha_s=settings["alpha_s"],
        alpha_x=settings["alpha_x"],
        alpha_y=settings["alpha_y"],
    )


def gauss_newton(
    profile: Profile,
    *,
    m0: ArrayLike | None = None,
    reference: ArrayLike | None = None,
    bostick_start: bool = False,
    target_chi2: float = 1.0,
    max_iter: int | None = None,
    verbose: bool = False,
    method_name: str = "gn",
    t0: float | None = None,
    history: list | None = None,
    seed: int | None = 0,
    beta0: float | None = None,
    **settings: Any,
) -> InversionResult:
    """SimPEG's standard Gauss-Newton inversion of a profile.

    ``InexactGaussNewton`` with ``WeightedLeastSquares`` regularisation
    around a half-space reference (geometric mean of the observed apparent
    resistivities), ``BetaEstimate_ByEig``, ``BetaSchedule`` cooling and
    ``TargetMisfit``; settings in :data:`GN_SETTINGS`.

    Parameters
    ----------
    profile : Profile
        With observed data.
    m0 : numpy.ndarray, optional
        Starting model; default the reference half-space.
    reference : numpy.ndarray, optional
        Reference model; default the half-space.
    bostick_start : bool
        Start from the Bostick model (``BostickStartingModel`` directive).
    target_chi2 : float
        ``TargetMisfit`` chi factor.
    max_iter : int, optional
        Override of ``GN_SETTINGS["max_iter"]``.
    verbose : bool
        Let SimPEG print its iteration table (to stdout). Either way every
        accepted iterate is logged at INFO on the ``simpeg_zo._runs`` logger.
    seed : int or None
        Seed of ``BetaEstimate_ByEig``'s random vector (default 0, so runs
        repeat exactly; None draws a new one).
    beta0 : float, optional
        Starting trade-off parameter, in place of ``BetaEstimate_ByEig``'s
        (a resumed run's: the cooled beta of its checkpoint).
    **settings
        Overrides of :data:`GN_SETTINGS`; another name is a ``TypeError``
        naming it.

    Returns
    -------
    InversionResult
        An error during the iterations (after the starting model's
        evaluation) ends the run with the last accepted model,
        ``stop_reason`` ``"failed: ..."`` and ``extra["error"]``. The line
        search projects its trial models onto
        :data:`LOG_CONDUCTIVITY_BOUNDS` (SimPEG's projected Armijo search;
        the bounds do not bind on earth materials), and a trial whose
        forward solve fails or is not finite is a rejected step (the step
        is shortened), not an error; ``extra["rejected_trials"]`` counts
        them.

    Raises
    ------
    InversionInterrupted
        On Ctrl-C once the starting model is evaluated, with the last
        accepted model as ``result``.
    """
    unknown = sorted(set(settings) - set(GN_SETTINGS))
    if unknown:
        raise TypeError(
            f"gauss_newton() got unknown settings {', '.join(map(repr, unknown))}; "
            f"the settings are {', '.join(GN_SETTINGS)} (GN_SETTINGS)"
        )
    s = {**GN_SETTINGS, **settings}
    if max_iter is not None:
        s["max_iter"] = max_iter
    half = profile.half_space()
    reference = half if reference is None else reference
    m0 = reference if m0 is None else m0
    t0 = time.perf_counter() if t0 is None else t0
    n_data = profile.n_data
    reg = _regularization(profile, reference, s)
    opt = optimization.InexactGaussNewton(maxIter=s["max_iter"], cg_maxiter=s["max_iter_cg"])
    # SimPEG's projected Armijo search onto the model bounds: a step that
    # takes a few cells past them is clipped there, not shortened everywhere
    opt.projection = _project_on_bounds
    inv_prob = _CountingInvProblem(profile.data_misfit(), reg, opt)
    recorder = _Recorder(t0, n_data, method=method_name)
    if history:
        recorder.history = list(history)
    directive_list = [
        directives.BetaSchedule(coolingFactor=s["cooling_factor"], coolingRate=s["cooling_rate"]),
        _TargetMisfit(profile, chifact=target_chi2),
        recorder,
    ]
    if beta0 is None:
        directive_list.insert(0, directives.BetaEstimate_ByEig(beta0_ratio=s["beta0_ratio"], random_seed=seed))
    else:
        inv_prob.beta = float(beta0)
    if s["sensitivity_weights"]:
        directive_list.insert(0, directives.UpdateSensitivityWeights(every_iteration=False))
    if s["preconditioner"]:
        directive_list.append(directives.UpdatePreconditioner())
    if bostick_start:
        directive_list.insert(0, BostickStartingModel())
    inv = inversion.BaseInversion(inv_prob, directiveList=directive_list)
    start_count = len(recorder.history)

    # log the starting model's misfit at its first evaluation
    original = inv_prob.evalFunction

    def first_eval(m, return_g=True, return_H=True):
        out = original(m, return_g=return_g, return_H=return_H)
        if len(recorder.history) == start_count:
            recorder._log()
        return out

    inv_prob.evalFunction = first_eval
    counts = {"jvec": 0, "jtvec": 0}
    try:
        with _counting_jacobian_products(misfit_simulations(inv_prob.dmisfit), counts):
            model = _run(inv, m0, verbose)
    except (KeyboardInterrupt, Exception) as exc:
        if len(recorder.history) == start_count:
            raise  # no model evaluated yet: nothing to keep
        # opt.xc: the last accepted iterate (SimPEG sets it before endIter)
        partial = _partial(
            method_name, profile, opt.xc, recorder.history, t0, inv_prob.forward_count, target_chi2, opt.iter
        )
        partial.extra["jacobian_products"] = counts
        partial.extra["rejected_trials"] = int(inv_prob.rejected_trials)
        if isinstance(exc, KeyboardInterrupt):
            raise _interrupted(partial) from exc
        return _failed(partial, exc)
    reason = "target misfit reached" if opt.stopNextIteration else "maximum number of iterations"
    if opt.iter < s["max_iter"] and not opt.stopNextIteration:
        reason = "line search failed"
    result = _finish(
        method_name,
        profile,
        model,
        recorder.history,
        t0,
        inv_prob.forward_count,
        reason,
        target_chi2,
        opt.iter,
    )
    result.extra["jacobian_products"] = counts
    result.extra["rejected_trials"] = int(inv_prob.rejected_trials)
    return result
