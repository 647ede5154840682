"""The named inversion methods of ``compare`` and ``invert``.

One dispatch table above the runners it names: SimPEG's Gauss-Newton recipe
(:mod:`simpeg_zo._gn`), ZO (:mod:`simpeg_zo._runs`) and the learned
methods (:mod:`simpeg_zo.learned`), which themselves build on those; none of
those imports this module.
"""

from __future__ import annotations

import inspect
import pathlib
from typing import TYPE_CHECKING

from ._checkpoint import Checkpoint
from ._gn import GN_SETTINGS, gauss_newton
from ._optimizer import ZohdyOldenburg
from ._profile import Profile
from ._result import InversionResult
from ._runs import hybrid, zohdy_oldenburg

if TYPE_CHECKING:
    from .learned import ResNetInverter

__all__ = ["METHODS", "RESUMABLE", "check_resume", "run_method"]


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

#: Methods that resume from a checkpoint (:func:`simpeg_zo.checkpointing`),
#: and the optimizer each continues with.
RESUMABLE = {
    "gn": "gn",
    "gn-bostick": "gn",
    "cnn-gn": "gn",
    "zo": "zo",
    "zo-phase": "zo",
    "zo-paper": "zo",
    "zo-paper-phase": "zo",
    "cnn-zo": "zo",
}

#: ZO's options of the paper's method
PAPER_OPTIONS = {
    "memory": 0,
    "subspace": False,
    "lateral_coupling": 0.0,
    "frequency_window": 0.0,
    "data_coverage": False,
}


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
    resume_from: Checkpoint | None = None,
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
    resume_from : Checkpoint, optional
        Go on from a checkpoint of an earlier run of ``method`` on this
        profile (:func:`simpeg_zo.read_checkpoint`; methods in
        :data:`RESUMABLE`): its optimizer from its model, with the
        iterations left of ``max_iter`` (Gauss-Newton with its cooled beta
        and reference model; ZO without the secant memory and the static
        shifts it had). ``extra["resumed_from"]`` holds its iteration and
        chi2.

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

    if resume_from is not None:
        check_resume(method, resume_from, max_iter)
    with PeakMemory() as memory:
        if resume_from is not None:
            result = _resume(
                profile,
                method,
                resume_from,
                target_chi2=target_chi2,
                max_iter=max_iter,
                verbose=verbose,
                static_shift=static_shift,
                workers=workers,
                scheduler=scheduler,
            )
        else:
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
        return _zo(
            profile,
            method,
            target_chi2=target_chi2,
            verbose=verbose,
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


def _zo(profile, method, **kwargs):
    """:func:`zohdy_oldenburg` as ``method`` names it (phase, the paper's options)."""
    # the paper's method: its options, and no restart from m0
    paper = method.startswith("zo-paper")
    options = {**PAPER_OPTIONS, "fallback_start": False} if paper else {}
    return zohdy_oldenburg(profile, use_phase=method.endswith("phase"), method_name=method, **options, **kwargs)


def _iteration_limit(method, max_iter):
    """The run's iteration limit: ``max_iter`` or its optimizer's default."""
    if max_iter is not None:
        return int(max_iter)
    if RESUMABLE[method] == "gn":
        return int(GN_SETTINGS["max_iter"])
    return int(inspect.signature(ZohdyOldenburg).parameters["maxIter"].default)


def check_resume(method: str, checkpoint: Checkpoint, max_iter: int | None) -> None:
    """Raise ``ValueError`` where ``method`` cannot go on from ``checkpoint`` within ``max_iter``."""
    if method not in RESUMABLE:
        raise ValueError(f"method {method!r} does not resume from a checkpoint; these do: {', '.join(RESUMABLE)}")
    if checkpoint.method != method:
        raise ValueError(f"the checkpoint is of method {checkpoint.method!r}, not {method!r}")
    if checkpoint.stage != RESUMABLE[method]:
        raise ValueError(f"the checkpoint was written by {checkpoint.stage!r}, not by {method!r}'s optimizer")
    limit = _iteration_limit(method, max_iter)
    if checkpoint.iteration >= limit:
        raise ValueError(
            f"the checkpoint is at iteration {checkpoint.iteration}, the iteration limit ({limit}); "
            "raise the limit to go on"
        )


def _resume(profile, method, checkpoint, *, target_chi2, max_iter, verbose, static_shift, workers, scheduler):
    """``method`` from ``checkpoint``'s model, for the iterations left."""
    left = _iteration_limit(method, max_iter) - checkpoint.iteration
    if checkpoint.model.size != profile.n_active:
        raise ValueError(f"the checkpoint's model has {checkpoint.model.size} cells, the profile {profile.n_active}")
    common = {"m0": checkpoint.model, "target_chi2": target_chi2, "max_iter": left, "verbose": verbose}
    if RESUMABLE[method] == "gn":
        beta = None
        if checkpoint.beta > 0:  # the next iteration's: cooled as GN's schedule would have
            cooled = checkpoint.iteration % GN_SETTINGS["cooling_rate"] == 0
            beta = checkpoint.beta / (GN_SETTINGS["cooling_factor"] if cooled else 1.0)
        result = gauss_newton(profile, reference=checkpoint.reference, beta0=beta, method_name=method, **common)
    else:
        result = _zo(
            profile,
            method,
            bostick_start=False,
            static_shift=static_shift,
            workers=workers,
            scheduler=scheduler,
            **common,
        )
    result.extra["resumed_from"] = {"iteration": int(checkpoint.iteration), "chi2": float(checkpoint.chi2)}
    return result
