"""Side-by-side comparison of inversion methods on one synthetic profile."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._methods import METHODS, run_method
from ._profile import Profile
from ._result import InversionInterrupted, InversionResult
from ._synthetic import synthetic_profile

if TYPE_CHECKING:
    from ._spec import ModelSpec
    from .learned import ResNetInverter

__all__ = ["Comparison", "compare", "core_region", "decimate_survey", "SECONDS_LEVELS", "time_to_gn"]

#: chi2 levels reported in ``seconds_to_chi2``.
SECONDS_LEVELS = (3.0, 2.0, 1.5, 1.0)


def core_region(profile: Profile) -> tuple[NDArray[np.bool_], dict]:
    """The region where models are scored.

    Horizontally the station span; vertically from the surface down to half
    the profile length or the median Bostick depth of the lowest frequency,
    whichever is shallower (where 2D data constrain the model).

    Returns
    -------
    mask : (n_active,) numpy.ndarray of bool
    description : dict
        ``{"x": [x_min, x_max], "depth": [0, depth_max]}`` in metres.
    """
    from ._bostick import bostick_depth

    x = profile.mesh.cell_centers[profile.active_cells, 0]
    depth = profile.cell_depths
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    rho = np.concatenate(
        [
            profile.observed(mode)["apparent_resistivity"][np.argmin(profile.frequencies)]
            for mode in profile.impedance_modes
        ]
    )
    rho = rho[np.isfinite(rho) & (rho > 0)]
    deep = float(np.median(bostick_depth(rho, profile.frequencies.min()))) if rho.size else length
    depth_max = min(0.5 * length, deep)
    mask = (x >= profile.stations[0]) & (x <= profile.stations[-1]) & (depth <= depth_max)
    return mask, {"x": [float(profile.stations[0]), float(profile.stations[-1])], "depth": [0.0, depth_max]}


def time_to_gn(methods: dict, target: float = 1.0) -> dict | None:
    """Seconds each method took to reach Gauss-Newton's final misfit.

    The level is the lower final chi2 of ``gn`` and ``gn-bostick`` (not
    below ``target``, where both stop); every method's time is the first
    history entry at or below it, and the ratio is against the faster of the
    two GN runs.

    Parameters
    ----------
    methods : dict
        Report entries per method (``history`` with ``chi2`` and
        ``seconds``; ``chi2``), as in :meth:`Comparison.to_dict`.
    target : float

    Returns
    -------
    dict or None
        ``level``, ``seconds`` per method (None: never), ``gn_seconds`` (the
        faster GN), ``ratio`` per method (GN's time over the method's); None
        without a GN run.
    """
    gns = [name for name in ("gn", "gn-bostick") if name in methods]
    if not gns:
        return None
    level = max(target, min(float(methods[g]["chi2"]) for g in gns)) * (1 + 1e-9)

    def first(entry):
        hit = [h["seconds"] for h in entry["history"] if h["chi2"] <= level]
        return float(hit[0]) if hit else None

    seconds = {name: first(entry) for name, entry in methods.items()}
    gn_times = [seconds[g] for g in gns if seconds[g] is not None]
    gn_best = min(gn_times) if gn_times else None
    ratio = {name: (None if t is None or gn_best is None or t <= 0 else gn_best / t) for name, t in seconds.items()}
    return {"level": level, "seconds": seconds, "gn_seconds": gn_best, "ratio": ratio}


def decimate_survey(spec: ModelSpec, *, station_step: int = 1, frequency_step: int = 1) -> ModelSpec:
    """A spec with fewer stations and frequencies.

    Every ``station_step``-th station and ``frequency_step``-th frequency is
    kept, and the end points.
    """

    def pick(values, step):
        idx = np.arange(0, values.size, step)
        if idx[-1] != values.size - 1:
            idx = np.r_[idx, values.size - 1]
        return values[idx]

    return spec.replace(
        stations=pick(np.asarray(spec.stations), station_step),
        frequencies=pick(np.asarray(spec.frequencies), frequency_step),
    )


@dataclass
class Comparison:
    """Results of :func:`compare`.

    Attributes
    ----------
    spec : ModelSpec
    profile : Profile
    true_model : (n_active,) numpy.ndarray
    results : dict
        :class:`InversionResult` per method name, in run order.
    forward_seconds : float
        Wall time of one forward simulation (all modes).
    core_mask : (n_active,) numpy.ndarray of bool
    core : dict
    interrupted : bool
        Ctrl-C stopped :func:`compare`: ``results`` holds the methods that
        finished and the best model so far of the interrupted one.
    """

    spec: object
    profile: Profile
    true_model: np.ndarray
    forward_seconds: float
    core_mask: np.ndarray
    core: dict
    results: dict = field(default_factory=dict)
    interrupted: bool = False

    def model_log10_rmse(self, model: ArrayLike) -> float:
        """RMS of log10 resistivity against the true model in the core."""
        diff = (np.asarray(model) - self.true_model)[self.core_mask] / np.log(10.0)
        return float(np.sqrt(np.mean(diff**2)))

    def method_summary(self, name: str) -> dict:
        """The JSON entry of one method."""
        r: InversionResult = self.results[name]
        out = {
            "chi2": r.chi2,
            "rms_percent": r.rms_percent,
            "iterations": r.iterations,
            "forward_solves": r.forward_solves,
            "wall_seconds": r.wall_seconds,
            "forward_solve_equivalents": r.wall_seconds / self.forward_seconds,
            "model_log10_rmse": self.model_log10_rmse(r.model),
            "converged": r.converged,
            "stop_reason": r.stop_reason,
            "history": r.history,
            "seconds_to_chi2": r.seconds_to_chi2(SECONDS_LEVELS),
        }
        out.update({k: v for k, v in r.extra.items()})
        base = {"cnn-gn": "gn", "cnn-zo": "zo-phase"}.get(name)
        if base is not None:
            out["iterations_saved"] = self._iterations_saved(name, base)
        return out

    def _iterations_saved(self, name, base) -> dict | None:
        """Iterations a network start saves against the same optimizer.

        The optimizer's usual start is the half-space for ``gn`` and the
        Bostick model for ``zo-phase``.
        """
        if base not in self.results and base == "zo-phase" and "zo" in self.results:
            base = "zo"
        if base not in self.results:
            return None
        a, b = self.results[base], self.results[name]
        out = {"against": base, "total": a.iterations - b.iterations}
        for level in SECONDS_LEVELS:
            ia, ib = a.iterations_to_chi2(level), b.iterations_to_chi2(level)
            out[f"to_chi2_{level:g}"] = None if ia is None or ib is None else ia - ib
        return out

    def to_dict(self) -> dict:
        """Plain JSON-able report."""
        return {
            "spec": self.spec.name,
            "modes": list(self.profile.modes),
            "n_stations": int(self.profile.n_stations),
            "n_frequencies": int(self.profile.n_frequencies),
            "n_data": int(self.profile.n_data),
            "mesh_cells": [int(n) for n in self.profile.mesh.shape_cells],
            "n_active": int(self.profile.n_active),
            "forward_seconds": float(self.forward_seconds),
            "solver": self.profile.solver,
            "core": self.core,
            "methods": (methods := {name: self.method_summary(name) for name in self.results}),
            "time_to_gn": time_to_gn(methods, target=self._target()),
            "interrupted": bool(self.interrupted),
        }

    def _target(self) -> float:
        targets = [r.target_chi2 for r in self.results.values()]
        return float(min(targets)) if targets else 1.0


def compare(
    spec: ModelSpec,
    methods: Sequence[str] = ("gn", "gn-bostick", "zo", "zo-phase"),
    *,
    target_chi2: float = 1.0,
    max_iter: int | None = None,
    progress: Callable[[str], object] | None = None,
    estimator: ResNetInverter | str | pathlib.Path | None = None,
    solver: str | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    on_result: Callable[[Comparison], object] | None = None,
) -> Comparison:
    """Simulate a spec once and invert it with each method.

    Every method sees the same mesh, solver, data and standard deviations.

    Parameters
    ----------
    spec : ModelSpec
    methods : sequence of str
        From :data:`simpeg_zo.METHODS`.
    target_chi2 : float
        Target of every method (``TargetMisfit`` chi factor).
    max_iter : int, optional
        Iteration limit of every method.
    progress : callable, optional
        Called as ``progress(stage: str)`` before each stage.
    estimator : ResNetInverter, path or name, optional
        Network of the ``cnn*`` methods (default: the shipped one).
    solver : {"auto", "pardiso", "superlu"}, optional
        Direct solver of every simulation (default ``"auto"``).
    workers, scheduler :
        Dask workers for the forward solves of the ZO stages (see
        :func:`simpeg_zo.run_method`); GN runs SimPEG's serial path.
    on_result : callable, optional
        Called with the comparison after each method finishes (the
        command line writes its JSON report so far there, so a killed
        run keeps the methods that finished).

    Returns
    -------
    Comparison

    Raises
    ------
    InversionInterrupted
        On Ctrl-C once a method has a model: ``comparison`` holds the
        methods that finished and the interrupted one's best model so far.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if progress:
        progress("simulating data")
    profile, true_model = synthetic_profile(spec, solver=solver)
    t = time.perf_counter()
    profile.dpred(true_model)
    forward_seconds = time.perf_counter() - t
    mask, core = core_region(profile)
    comparison = Comparison(
        spec=spec,
        profile=profile,
        true_model=true_model,
        forward_seconds=forward_seconds,
        core_mask=mask,
        core=core,
    )
    for name in methods:
        if progress:
            progress(name)
        try:
            comparison.results[name] = run_method(
                profile,
                name,
                target_chi2=target_chi2,
                max_iter=max_iter,
                estimator=estimator,
                workers=workers,
                scheduler=scheduler,
            )
        except KeyboardInterrupt as stop:
            partial = getattr(stop, "result", None)
            if partial is not None:
                comparison.results[name] = partial
            if not comparison.results:
                raise
            comparison.interrupted = True
            raise InversionInterrupted(partial, comparison=comparison) from stop
        if on_result is not None:
            on_result(comparison)
    return comparison
