"""The record of one inversion run, shared by every method.

:class:`InversionResult` (model, predicted data, chi2, history, counts),
:class:`InversionInterrupted` (Ctrl-C with the best model so far) and the
helpers that build both from a finished, failed or interrupted run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["InversionInterrupted", "InversionResult"]

# the runs' logger (one name for every method, as the command line and the
# docs know it)
logger = logging.getLogger("simpeg_zo._runs")


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
