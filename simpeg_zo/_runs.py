"""Run inversions of a profile: SimPEG's Gauss-Newton recipe and ZO.

Every method runs through the same SimPEG machinery (data misfit, mesh,
solver, ``BaseInversion``, ``TargetMisfit``) and is timed and counted the same
way, so the results can be compared side by side.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from simpeg import directives, inverse_problem, inversion, optimization, regularization

from ._directives import BostickStartingModel
from ._layout import misfit_simulations
from ._optimizer import ZohdyOldenburg
from ._profile import IMPEDANCE_MODES, Profile

__all__ = [
    "InversionInterrupted",
    "InversionResult",
    "GN_SETTINGS",
    "LOG_CONDUCTIVITY_BOUNDS",
    "gauss_newton",
    "zohdy_oldenburg",
    "hybrid",
]

logger = logging.getLogger(__name__)

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


@dataclass
class InversionResult:
    """Outcome of one inversion.

    Attributes
    ----------
    method : str
    model : (n_active,) numpy.ndarray
        Final model (log conductivity).
    dpred : dict
        Predicted data per mode.
    chi2 : float
        phi_d / n_data of the final model.
    rms_percent : float
        RMS relative error of apparent resistivity (%).
    iterations : int
    forward_solves : int
        Forward simulations (model evaluations, all modes together).
    wall_seconds : float
    history : list of dict
        Per accepted iterate (starting model first): ``iteration``, ``chi2``,
        ``seconds``, ``forward_solves``.
    stop_reason : str
    target_chi2 : float
    """

    method: str
    model: np.ndarray
    dpred: dict
    chi2: float
    rms_percent: float
    iterations: int
    forward_solves: int
    wall_seconds: float
    history: list
    stop_reason: str = ""
    target_chi2: float = 1.0
    extra: dict = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """Whether the target misfit was reached."""
        return bool(self.chi2 <= self.target_chi2 * (1 + 1e-9))

    def seconds_to_chi2(self, levels: Sequence[float] = (3.0, 2.0, 1.5, 1.0)) -> dict:
        """Elapsed time at which chi2 first fell to each level (None: never)."""
        out = {}
        for level in levels:
            hit = [h["seconds"] for h in self.history if h["chi2"] <= level]
            out[_level_key(level)] = float(hit[0]) if hit else None
        return out

    def iterations_to_chi2(self, level: float) -> int | None:
        hit = [h["iteration"] for h in self.history if h["chi2"] <= level]
        return int(hit[0]) if hit else None


def _level_key(level) -> str:
    return f"{level:g}"


class InversionInterrupted(KeyboardInterrupt):
    """Ctrl-C (``KeyboardInterrupt``) during an inversion, with what it had found.

    A ``KeyboardInterrupt`` itself, so code that does not know this class
    stops as it would on any Ctrl-C; code that does catches it and keeps
    the best model so far.

    Attributes
    ----------
    result : InversionResult or None
        The interrupted method's last accepted model with its predicted data
        and misfit (one more forward solve) and its history so far;
        ``stop_reason`` is ``"interrupted"`` and ``extra["interrupted"]``
        is True. None when the interrupt came before a model was evaluated.
    comparison : Comparison or None
        Set by :func:`simpeg_zo.compare`: the methods that finished and the
        interrupted one (``comparison.interrupted`` is True).

    Examples
    --------
    >>> import simpeg_zo
    >>> try:  # doctest: +SKIP
    ...     result = simpeg_zo.invert_profile(profile, "zo")
    ... except simpeg_zo.InversionInterrupted as stop:
    ...     result = stop.result
    """

    def __init__(self, result: InversionResult | None = None, comparison=None):
        super().__init__("inversion interrupted")
        self.result = result
        self.comparison = comparison


def _interrupted(result: InversionResult | None) -> InversionInterrupted:
    """The exception carrying ``result``, marked as interrupted."""
    if result is not None:
        result.stop_reason = "interrupted"
        result.extra["interrupted"] = True
    return InversionInterrupted(result)


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
    """SimPEG's ``TargetMisfit``, its target logged on this package's logger.

    At DEBUG, instead of SimPEG's own INFO stream.
    """

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


def _log_iteration(method: str, entry: dict) -> None:
    """Log one accepted iterate at INFO (the command line's progress)."""
    logger.info(
        "%s: iteration %d, chi2 %.3g, %.1f s, %d forward solves",
        method,
        entry["iteration"],
        entry["chi2"],
        entry["seconds"],
        entry["forward_solves"],
    )


def _partial(method, profile, model, history, t0, forward_solves, target, iterations):
    """The result of an interrupted run at ``model``.

    ``model`` is its last accepted iterate, which ends the history.
    """
    history = [dict(h) for h in history]
    result = _finish(method, profile, model, history, t0, forward_solves, "interrupted", target, iterations)
    if not history or history[-1]["iteration"] < result.iterations:
        history.append(
            {
                "iteration": result.iterations,
                "chi2": float(result.chi2),
                "seconds": result.wall_seconds,
                "forward_solves": result.forward_solves,
            }
        )
    return result


def _failed(result: InversionResult, exc: BaseException) -> InversionResult:
    """Mark ``result`` (the best model before ``exc``) as a failed run.

    ``stop_reason`` becomes ``"failed: <exception>"`` and
    ``extra["error"]`` the exception's type and message; the failure is
    logged at WARNING, so it reaches the user whatever the warning filters.
    """
    error = f"{type(exc).__name__}: {exc}"
    result.stop_reason = f"failed: {error}"
    result.extra["error"] = error
    logger.warning(
        "%s failed after %d iterations (%s); its best model so far (chi2 %.3g) is the result",
        result.method,
        result.iterations,
        error,
        result.chi2,
    )
    logger.debug("the failure's traceback", exc_info=exc)
    return result


def _finish(method, profile, model, history, t0, forward_solves, stop_reason, target, iterations):
    # the clock stops before the forward solve that only serves the report
    wall_seconds = time.perf_counter() - t0
    dpred = profile.dpred(model)
    result = InversionResult(
        method=method,
        model=np.asarray(model),
        dpred=dpred,
        chi2=profile.chi2(dpred),
        rms_percent=profile.rms_percent(dpred),
        iterations=int(iterations),
        forward_solves=int(forward_solves),
        wall_seconds=wall_seconds,
        history=history,
        stop_reason=stop_reason,
        target_chi2=target,
    )
    return result


def _run(inv, m0, verbose):
    """``inv.run(m0)``; without ``verbose`` SimPEG prints nothing."""
    if not verbose:
        inv.invProb.print_version = False
        _silence(inv.opt)
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
        directives.BetaEstimate_ByEig(beta0_ratio=s["beta0_ratio"], random_seed=seed),
        directives.BetaSchedule(coolingFactor=s["cooling_factor"], coolingRate=s["cooling_rate"]),
        _TargetMisfit(chifact=target_chi2),
        recorder,
    ]
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


def zohdy_oldenburg(
    profile: Profile,
    *,
    use_phase: bool = False,
    target_chi2: float | None = 1.0,
    m0: ArrayLike | None = None,
    bostick_start: bool = True,
    max_iter: int | None = None,
    verbose: bool = False,
    method_name: str = "zo",
    start_dpred: ArrayLike | None = None,
    **options: Any,
) -> InversionResult:
    """Zohdy-Oldenburg direct inversion of a profile.

    The same SimPEG inversion as :func:`gauss_newton` with the optimizer
    swapped for :class:`ZohdyOldenburg` and the Bostick start; no
    ``BetaEstimate`` (it would cost Jacobian products the method never uses).

    Parameters
    ----------
    profile : Profile
    use_phase : bool
    target_chi2 : float or None
        ``TargetMisfit`` chi factor; None runs until ZO stops improving.
    m0 : numpy.ndarray, optional
        Starting model when ``bostick_start`` is False.
    bostick_start : bool
    max_iter : int, optional
        Iteration limit (the optimizer's ``maxIter``; default its 30), the
        spelling of :func:`gauss_newton` and :func:`simpeg_zo.run_method`.
    start_dpred : numpy.ndarray, optional
        Predicted data of ``m0`` in the order of the data misfit's sounding
        layout (:func:`simpeg_zo._layout.layout_from_misfit`), where the
        caller evaluated ``m0`` already: the run then takes no pass for it.
    **options
        :class:`ZohdyOldenburg` options (``alpha``, ``subspace``, ...).

    Returns
    -------
    InversionResult
        An error during the iterations (after the starting model's
        evaluation) ends the run with the best model so far,
        ``stop_reason`` ``"failed: ..."`` and ``extra["error"]``.

    Raises
    ------
    InversionInterrupted
        On Ctrl-C once the starting model is evaluated, with the best model
        so far as ``result``.
    """
    if "maxIter" in options:
        raise TypeError("zohdy_oldenburg() takes the iteration limit as max_iter, not maxIter")
    if max_iter is not None:
        options["maxIter"] = int(max_iter)
    t0 = time.perf_counter()
    m0 = profile.half_space() if m0 is None else m0
    # GN's regularisation around the half-space: the model norm of ZO's
    # smoothing steps once the target is reached
    reg = _regularization(profile, m0, GN_SETTINGS)
    # the target is TargetMisfit's (None: until ZO stops improving)
    opt = ZohdyOldenburg(use_phase=use_phase, target_chi2=None, **options)
    opt.clock_start = t0
    opt._log_name = method_name
    if start_dpred is not None:
        if bostick_start:
            raise ValueError("start_dpred needs the starting model m0 (bostick_start=False)")
        opt._start_dpred = np.asarray(start_dpred, dtype=float)
    inv_prob = _CountingInvProblem(profile.data_misfit(), reg, opt)
    directive_list = []
    if bostick_start:
        directive_list.append(BostickStartingModel())
    if target_chi2 is not None:
        directive_list.append(_TargetMisfit(chifact=target_chi2))
    inv = inversion.BaseInversion(inv_prob, directiveList=directive_list)
    try:
        model = _run(inv, m0, verbose)
    except (KeyboardInterrupt, Exception) as exc:
        if not opt.history:
            raise  # no model evaluated yet: nothing to keep
        # opt.xc: the best model so far (every accepted step lowers the misfit)
        partial = _partial(
            method_name,
            profile,
            opt.xc,
            _zo_history(opt),
            t0,
            opt.forward_solves,
            target_chi2 if target_chi2 is not None else 1.0,
            opt.iter,
        )
        partial.extra["jacobian_products"] = {"jvec": int(opt.jvec_products), "jtvec": int(opt.jtvec_products)}
        if isinstance(exc, KeyboardInterrupt):
            raise _interrupted(partial) from exc
        return _failed(partial, exc)
    history = _zo_history(opt)
    result = _finish(
        method_name,
        profile,
        model,
        history,
        t0,
        opt.forward_solves,
        opt.stop_reason,
        target_chi2 if target_chi2 is not None else 1.0,
        opt.iter,
    )
    result.extra["zo_options"] = {
        "alpha": opt.alpha,
        "gamma": opt.gamma,
        "beta": opt.beta,
        "use_phase": opt.use_phase,
        "memory": opt.memory,
        "subspace": opt.subspace,
        "smoothing_steps": opt.smoothing_steps,
        "lateral_coupling": opt.lateral_coupling,
        "frequency_window": opt.frequency_window,
        "static_shift": opt.static_shift,
    }
    result.extra["jacobian_products"] = {"jvec": int(opt.jvec_products), "jtvec": int(opt.jtvec_products)}
    result.extra["stage"] = opt.stage
    result.extra["smoothing_steps_taken"] = int(opt.smoothing_steps_taken)
    if opt.static_shift:
        _apply_static_shifts(profile, result, opt)
    return result


def _zo_history(opt) -> list:
    return [{k: h[k] for k in ("iteration", "chi2", "seconds", "forward_solves")} for h in opt.history]


def _apply_static_shifts(profile, result, opt):
    """Report the estimated static shifts beside the model.

    ``result.chi2``, ``rms_percent`` and ``dpred`` stay those of the model
    alone against the data (one meaning of chi2 for every method); the fit
    of the model times its shifts, which has one free factor per station
    and mode more, goes to ``extra["chi2_with_static_shift"]``,
    ``extra["rms_percent_with_static_shift"]`` (the factors in
    ``extra["static_shift"]``).
    """
    xs = np.asarray(opt.static_shift_stations, dtype=float)
    column = np.abs(np.asarray(profile.stations)[:, None] - xs[None, :]).argmin(axis=1)
    factors = {}
    dpred = {}
    for mode, d in result.dpred.items():
        if mode not in IMPEDANCE_MODES:  # no static shift on the tipper
            dpred[mode] = np.asarray(d, dtype=float)
            continue
        f = np.asarray(opt.static_shifts.get(mode, np.full(xs.size, np.nan)))[column]
        parts = profile.split(np.asarray(d, dtype=float), mode)
        rho = parts["apparent_resistivity"] * np.where(np.isfinite(f), f, 1.0)[None, :]
        dpred[mode] = profile.join(rho, parts["phase"])
        factors[mode] = [None if not np.isfinite(v) else float(v) for v in f]
    result.extra["chi2_with_static_shift"] = float(profile.chi2(dpred))
    result.extra["rms_percent_with_static_shift"] = float(profile.rms_percent(dpred))
    names = profile.station_names or [f"{x:.0f}" for x in profile.stations]
    result.extra["static_shift"] = {"stations": list(names), "factors": factors}


#: ``zo-gn`` hands over to GN once a subspace iteration removes less than
#: this part of the misfit's distance to the target.
HANDOVER_TAIL = 0.25


def hybrid(profile, *, target_chi2, max_iter, verbose, **zo_options):
    """ZO (with phase) until it stops improving, then GN from its model.

    ZO also hands over on the slow last stretch to the target: once a
    subspace iteration removes less than :data:`HANDOVER_TAIL` of the
    misfit's distance to the target.
    """
    zo_options.setdefault("tail_stop", HANDOVER_TAIL)
    zo = zohdy_oldenburg(
        profile,
        use_phase=True,
        target_chi2=target_chi2,
        verbose=verbose,
        method_name="zo-gn",
        max_iter=max_iter,
        **zo_options,
    )
    if zo.converged:
        zo.extra["stages"] = {"zo_iterations": zo.iterations, "gn_iterations": 0}
        return zo
    t_start = time.perf_counter() - zo.wall_seconds
    try:
        gn = gauss_newton(
            profile,
            m0=zo.model,
            reference=zo.model,
            target_chi2=target_chi2,
            max_iter=max_iter,
            verbose=verbose,
            method_name="zo-gn",
            t0=t_start,
        )
    except KeyboardInterrupt as stop:
        partial = getattr(stop, "result", None)
        # before GN's first model: ZO's is the best so far
        raise _interrupted(zo if partial is None else _join_stages(zo, partial)) from stop
    return _join_stages(zo, gn)


def _join_stages(zo, gn):
    """``zo-gn``'s result.

    GN's, with ZO's iterations, history and counts in front.
    """
    # GN's forward counts start at 0; offset them by ZO's
    for h in gn.history:
        h["forward_solves"] += zo.forward_solves
        h["iteration"] += zo.iterations
    gn.history = zo.history + gn.history[1:]
    gn.iterations += zo.iterations
    gn.forward_solves += zo.forward_solves
    gn.extra["stages"] = {"zo_iterations": zo.iterations, "gn_iterations": gn.iterations - zo.iterations}
    gn.extra["jacobian_products"] = {
        k: gn.extra["jacobian_products"][k] + zo.extra["jacobian_products"][k] for k in ("jvec", "jtvec")
    }
    return gn
