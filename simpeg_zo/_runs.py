"""Run inversions of a profile: ZO and the ``zo-gn`` hybrid.

Every method runs through the same SimPEG machinery (data misfit, mesh,
solver, ``BaseInversion``, ``TargetMisfit``) and is timed and counted the same
way, so the results can be compared side by side. SimPEG's Gauss-Newton
recipe is in :mod:`simpeg_zo._gn`, the run's record in
:mod:`simpeg_zo._result`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from simpeg import inversion

from ._directives import BostickStartingModel
from ._gn import GN_SETTINGS, _CountingInvProblem, _regularization, _run, _TargetMisfit, gauss_newton
from ._optimizer import ZohdyOldenburg
from ._profile import IMPEDANCE_MODES, Profile
from ._result import InversionResult, _failed, _finish, _interrupted, _partial

__all__ = ["zohdy_oldenburg", "hybrid"]

logger = logging.getLogger(__name__)


def zohdy_oldenburg(
    profile: Profile,
    *,
    use_phase: bool = False,
    target_chi2: float | None = 1.0,
    m0: ArrayLike | None = None,
    bostick_start: bool = True,
    fallback_start: bool = True,
    max_iter: int | None = None,
    verbose: bool = False,
    method_name: str = "zo",
    guide_model: ArrayLike | None = None,
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
        Starting model when ``bostick_start`` is False; otherwise the model
        to restart from (``fallback_start``). Default the half-space.
    bostick_start : bool
    fallback_start : bool
        With ``bostick_start``: restart from ``m0`` where the steps from
        the Bostick model stall above the target and ``m0`` fits better
        (``BostickStartingModel(fallback=True)``); False: the Bostick start
        alone, as the paper's method.
    max_iter : int, optional
        Iteration limit (the optimizer's ``maxIter``; default its 30), the
        spelling of :func:`gauss_newton` and :func:`simpeg_zo.run_method`.
    guide_model : numpy.ndarray, optional
        A model whose difference from the start joins the subspace
        directions from the first subspace step
        (``ZohdyOldenburg.guide_model``): ``cnn-zo`` hands the
        network's section so.
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
    opt.method_name = method_name
    if guide_model is not None:
        opt.guide_model = np.asarray(guide_model, dtype=float)
    inv_prob = _CountingInvProblem(profile.data_misfit(), reg, opt)
    directive_list = []
    if bostick_start:
        directive_list.append(BostickStartingModel(fallback=fallback_start))
    if target_chi2 is not None:
        directive_list.append(_TargetMisfit(profile, chifact=target_chi2))
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
    keys = ("iteration", "chi2", "chi2_with_static_shift", "seconds", "forward_solves")
    return [{k: h[k] for k in keys if k in h} for h in opt.history]


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
