"""What :class:`simpeg_zo.ZohdyOldenburg` hands the driver: checked options, the problem, the targets."""

from __future__ import annotations

import logging

import numpy as np
from simpeg import directives as simpeg_directives

from . import _driver
from ._iteration import CorrectionSettings, station_spacing
from ._roughness import RegularizationRoughness, roughness
from ._zo import depth_scaled_smoother, row_smoother

__all__ = ["DEFAULT_WIDTH", "check_parameters", "driver_options", "driver_problem", "guide_direction", "targets"]

logger = logging.getLogger(__name__)

#: Default vertical smoothing: Gaussian width of 0.1 in natural-log depth
#: (about 10 % of the depth). Wider kernels average neighbouring soundings'
#: corrections until the iteration stalls short of the data; narrower ones
#: leave cells between sparse soundings to the nearest one.
DEFAULT_WIDTH = 0.1


def check_parameters(**p) -> None:
    """Raise ``ValueError`` naming the first parameter of ``ZohdyOldenburg`` out of its range."""
    checks = [
        (0 < p["alpha"] <= 2, "alpha must be in (0, 2]", "alpha"),
        (0 <= p["beta"] <= 1, "beta must be in [0, 1]", "beta"),
        (p["memory"] >= 0, "memory must be >= 0", "memory"),
        (p["target_chi2"] is None or p["target_chi2"] > 0, "target_chi2 must be > 0 or None", "target_chi2"),
        (p["tail_stop"] is None or 0 < p["tail_stop"] < 1, "tail_stop must be in (0, 1) or None", "tail_stop"),
        (p["lateral_coupling"] >= 0, "lateral_coupling must be >= 0", "lateral_coupling"),
        (p["frequency_window"] >= 0, "frequency_window must be >= 0", "frequency_window"),
        (p["static_shift_prior"] > 0, "static_shift_prior must be > 0", "static_shift_prior"),
        (int(p["workers"]) >= 1, "workers must be >= 1", "workers"),
        (
            int(p["subspace_gradient_windows"]) >= 1,
            "subspace_gradient_windows must be >= 1",
            "subspace_gradient_windows",
        ),
        (int(p["smoothing_steps"]) >= 0, "smoothing_steps must be >= 0", "smoothing_steps"),
        (int(p["jacobian_rows_memory"]) >= 0, "jacobian_rows_memory must be >= 0", "jacobian_rows_memory"),
    ]
    for ok, message, key in checks:
        if not ok:
            raise ValueError(f"{message}, got {p[key]}")


def driver_options(opt) -> _driver.Options:
    """The driver's options from a ``ZohdyOldenburg``'s attributes."""
    return _driver.Options(
        max_iter=int(opt.maxIter),
        memory=opt.memory,
        max_log_step=opt.max_log_step,
        max_line_search=int(opt.maxIterLS),
        shorten=float(opt.LSshorten),
        stall_iterations=opt.stall_iterations,
        stall_tolerance=opt.stall_tolerance,
        subspace=opt.subspace,
        n_bands=opt.subspace_bands,
        windows=opt.subspace_windows,
        gradient_windows=opt.subspace_gradient_windows,
        gradient_smoothing=opt.subspace_smoothing,
        jacobi=opt.subspace_jacobi,
        subspace_memory=opt.subspace_memory,
        smoothing_steps=opt.smoothing_steps,
        tail_stop=opt.tail_stop,
        static_shift=opt.static_shift,
        static_shift_prior=opt.static_shift_prior,
        coverage=opt.data_coverage,
    )


def driver_problem(opt, layout, x0, goal) -> _driver.Problem:
    """The driver's problem: ``opt``'s correction settings on ``layout``, heading for ``goal``."""
    rows = list(layout.rows) or None  # a tree mesh's rows
    settings = CorrectionSettings(
        alpha=opt.alpha,
        gamma=opt.gamma,
        beta=opt.beta,
        use_phase=opt.use_phase,
        max_log_step=opt.max_log_step,
        frequency_window=opt.frequency_window,
        width=opt.vertical_smoothing or DEFAULT_WIDTH,
        smoother=depth_scaled_smoother(
            layout.geometry, layout.grid_shape, layout.active, opt.lateral_coupling, rows=rows
        ),
    )
    gradient_smoother = None
    if rows is not None:  # a tree mesh's gradient directions are smoothed along its rows
        width = opt.subspace_smoothing * 0.5 * station_spacing(layout)
        gradient_smoother = row_smoother(rows, layout.geometry.cell_x, [width] * len(rows))
    reg = getattr(opt.parent, "reg", None)
    return _driver.Problem(
        layout=layout,
        settings=settings,
        options=driver_options(opt),
        gradient_smoother=gradient_smoother,
        target=goal,
        roughness=None if reg is None else RegularizationRoughness(roughness(reg)),
    )


def targets(opt, n_data):
    """(misfit ZO stops at by itself or None, misfit the iterations head for or None).

    Read from the directives of the inversion that runs ``opt``: SimPEG's
    ``BaseInversion`` sets ``callback`` to its own bound method, the one
    link from a ``Minimize`` to its inversion. A ``TargetMisfit``'s
    ``target``; otherwise ``target_chi2`` (or ``UpdateIRLS.chifact_target``)
    times the number of data.
    """
    inversion = getattr(opt.callback, "__self__", None)
    directive_list = getattr(getattr(inversion, "directiveList", None), "dList", None) or []
    for d in directive_list:
        if isinstance(d, simpeg_directives.TargetMisfit):
            try:
                target = float(d.target)
            except (AttributeError, TypeError, ValueError):  # a target only known later
                return None, None
            _note_unweighted_target(d, n_data)
            return None, target
    own = None if opt.target_chi2 is None else opt.target_chi2 * n_data
    for d in directive_list:
        if hasattr(d, "chifact_target"):  # UpdateIRLS: its target, not its cycles
            own = float(d.chifact_target) * n_data
            break
    return own, own


def _note_unweighted_target(directive, n_data):
    """Warn where a TargetMisfit counts data without weight (its chi2 at the target is then above chifact)."""
    try:
        counted = float(directive.phi_d_star)
    except (AttributeError, TypeError, ValueError):
        return
    if counted > n_data * (1.0 + 1e-9):
        logger.warning(
            "TargetMisfit counts all %d data of the survey, %d of them with a weight: at its target the chi2 "
            "of the weighted data (the one printed) is %.3g x chifact; TargetMisfit(phi_d_star=%d) stops at "
            "chifact of them",
            counted,
            n_data,
            counted / n_data,
            n_data,
        )


def guide_direction(guide, x, used: bool = True):
    """The direction from the starting model ``x`` to a ``guide_model`` (None without one).

    ``used``: whether the run takes subspace steps (the one place a guide
    enters); a guide it would not use is named in a warning.
    """
    if guide is None:
        return None
    guide = np.asarray(guide, dtype=float)
    if guide.shape != np.shape(x):
        raise ValueError(f"guide_model has shape {guide.shape}, expected the model's {np.shape(x)}")
    if not used:
        logger.warning("guide_model is not used: it enters the subspace steps, off here (subspace or static_shift)")
    return guide - x
