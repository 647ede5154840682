"""The named inversion methods of ``compare`` and ``invert``.

One dispatch table above the runners it names: SimPEG's Gauss-Newton recipe
(:mod:`simpeg_zo._gn`), ZO (:mod:`simpeg_zo._runs`) and the learned
methods (:mod:`simpeg_zo.learned`), which themselves build on those; none of
those imports this module.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

from ._gn import gauss_newton
from ._profile import Profile
from ._result import InversionResult
from ._runs import hybrid, zohdy_oldenburg

if TYPE_CHECKING:
    from .learned import ResNetInverter

__all__ = ["METHODS", "run_method"]


#: Methods understood by :func:`run_method` and ``simpeg-zo compare``; the
#: ``cnn*`` ones need the ``cnn`` extra (torch) and a network for the survey.
METHODS = (
    "gn",
    "gn-bostick",
    "zo",
    "zo-phase",
    "zo-paper",
    "zo-paper-phase",
    "zo-gn",
    "cnn",
    "cnn-gn",
    "cnn-zo",
    "cnn-zo1",
)


def run_method(
    profile: Profile,
    method: str,
    *,
    target_chi2: float = 1.0,
    max_iter: int | None = None,
    verbose: bool = False,
    estimator: ResNetInverter | str | pathlib.Path | None = None,
    static_shift: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
) -> InversionResult:
    """Run one named inversion method on a profile.

    :func:`simpeg_zo.invert_profile` is the same function under the name the
    field-data pages use.

    Parameters
    ----------
    profile : Profile
    method : {"gn", "gn-bostick", "zo", "zo-phase", "zo-gn", "cnn", "cnn-gn", "cnn-zo", "cnn-zo1"}
        ``gn``: SimPEG's Gauss-Newton recipe from the half-space;
        ``gn-bostick``: the same from the Bostick model; ``zo`` and
        ``zo-phase``: Zohdy-Oldenburg without and with phase (with the
        subspace stage: adjoint gradients and Jacobian products of a few
        directions once the fixed point slows); ``zo-paper`` and
        ``zo-paper-phase``: the paper's iteration (no secant memory, no
        subspace stage, column-wise corrections, forward solves only); ``zo-gn``:
        ZO with phase until it stops improving, then GN from its model;
        ``cnn``: the learned network's model; ``cnn-gn``: GN from it;
        ``cnn-zo``: the default ZO from its Bostick start with the network's
        model among its subspace directions; ``cnn-zo1``: one ZO correction of it (two
        forward solves; see :func:`simpeg_zo.learned.run_learned`).
    target_chi2 : float
    max_iter : int, optional
    estimator : ResNetInverter, path or name, optional
        The network of the ``cnn*`` methods (default: the shipped one).
    static_shift : bool
        ``zo`` and ``zo-phase``: estimate a static shift per (station, mode)
        during the iterations (``ZohdyOldenburg(static_shift=True)``);
        ignored by the other methods.
    workers : int
        ZO stages: Dask worker processes for the forward solves (1: this
        process). GN always runs SimPEG's own serial path.
    scheduler : str, optional
        ZO stages: address of an existing Dask scheduler.

    Returns
    -------
    InversionResult
        ``extra["peak_memory_mb"]``: the largest resident memory of this
        process and its children (Dask workers) during the run;
        ``extra["memory_increase_mb"]``: that peak less the memory at the
        start.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    from ._memory import PeakMemory

    with PeakMemory() as memory:
        result = _run(
            profile,
            method,
            target_chi2=target_chi2,
            max_iter=max_iter,
            verbose=verbose,
            estimator=estimator,
            static_shift=static_shift,
            workers=workers,
            scheduler=scheduler,
        )
    result.extra["peak_memory_mb"] = float(memory.peak_mb)
    result.extra["memory_increase_mb"] = float(memory.peak_mb - memory.baseline_mb)
    result.extra["solver"] = profile.solver
    if method.startswith("zo") or method.startswith("cnn-zo"):
        result.extra["workers"] = int(workers) if scheduler is None else scheduler
    return result


def _run(profile, method, *, target_chi2, max_iter, verbose, estimator, static_shift, workers, scheduler):
    zo_options = {"workers": workers, "scheduler": scheduler}
    if method == "gn":
        return gauss_newton(profile, target_chi2=target_chi2, max_iter=max_iter, verbose=verbose)
    if method == "gn-bostick":
        return gauss_newton(
            profile,
            bostick_start=True,
            target_chi2=target_chi2,
            max_iter=max_iter,
            verbose=verbose,
            method_name="gn-bostick",
        )
    if method in ("zo", "zo-phase", "zo-paper", "zo-paper-phase"):
        if method.startswith("zo-paper"):
            zo_options.update(memory=0, subspace=False, lateral_coupling=0.0, frequency_window=0.0, data_coverage=False)
        return zohdy_oldenburg(
            profile,
            use_phase=method.endswith("phase"),
            target_chi2=target_chi2,
            verbose=verbose,
            method_name=method,
            static_shift=static_shift,
            max_iter=max_iter,
            **zo_options,
        )
    if method == "zo-gn":
        return hybrid(profile, target_chi2=target_chi2, max_iter=max_iter, verbose=verbose, **zo_options)
    from .learned import run_learned

    extra = zo_options if method.startswith("cnn-zo") else {}
    return run_learned(
        profile,
        method,
        estimator=estimator,
        target_chi2=target_chi2,
        max_iter=max_iter,
        verbose=verbose,
        **extra,
    )
