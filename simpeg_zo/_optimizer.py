"""``ZohdyOldenburg``: the direct inversion as a SimPEG optimizer.

A thin :class:`simpeg.optimization.Minimize` adapter around the SimPEG-free
driver (:mod:`simpeg_zo._driver`): it reads the soundings and simulations
out of the inverse problem, hands the driver a
:class:`simpeg_zo._forward.EngineEvaluator`
(forward solves, gradients and Jacobian products from
:class:`simpeg_zo._forward.ForwardEngine`), and moves the driver's state
back into SimPEG (``xc``, ``iter``, the directives, the printed table).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from simpeg.optimization import IterationPrinters, Minimize, Remember

from . import _driver
from ._forward import MAX_ROWS_BYTES, EngineEvaluator, ForwardEngine
from ._iteration import frequency_bands
from ._layout import GROUPS_PER_BAND, layout_from_misfit, misfit_simulations
from ._optimizer_setup import DEFAULT_WIDTH, check_parameters, driver_problem, guide_direction, targets
from ._static import DEFAULT_SHIFT_PRIOR

__all__ = ["ZohdyOldenburg", "DEFAULT_WIDTH"]

logger = logging.getLogger(__name__)

_forward_printer = {"title": "nFwd", "value": lambda M: M.forward_solves, "width": 6, "format": lambda v: f"{v:4d}"}
_chi2_printer = {"title": "chi2", "value": lambda M: M.chi2, "width": 10, "format": lambda v: f"{v:1.3e}"}
#: The stop line SimPEG prints names the real reason (its own stoppers name ``maxIter`` only).
_reason_stopper = {
    "str": "%.0s%s %s",
    "left": lambda M: f"{M.name}: {M.stop_reason}",
    "right": lambda M: f"after {M.iter} iterations",
    "stopType": "critical",
}
_stage_printer = {"title": "step", "value": lambda M: M.stage, "width": 11, "format": lambda v: f"{v:>10s}"}


class ZohdyOldenburg(Minimize, Remember):
    r"""Zohdy-Oldenburg direct inversion of 2D MT data.

    A drop-in :class:`simpeg.optimization.Minimize` for a SimPEG 2D MT
    inversion: replace ``opt = optimization.InexactGaussNewton(...)`` by
    ``opt = simpeg_zo.ZohdyOldenburg(...)`` (and put
    :class:`simpeg_zo.BostickStartingModel` first among the directives).

    Each iteration measures candidate steps and keeps the lowest misfit
    (:func:`simpeg_zo._driver.iterate`):

    * the Zohdy-Oldenburg fixed point (forward solves only): every (mode,
      station, frequency) sounding corrects the model at its Bostick depth
      by :math:`\rho_{k+1} = \rho_k + \alpha(\rho_o - \rho_c)(\rho_k/\rho_c)^\gamma`
      (times the phase-Bostick factor with ``use_phase``), spread over the
      cells and mixed with the last ``memory`` steps by a multisecant step;
      the depths move by :math:`D_{k+1} = D_k + \beta(D_o - D_c)`;
    * with ``subspace``, a Levenberg-Marquardt step in the span of the ZO
      corrections (in frequency bands and lateral windows), the
      (Jacobi-scaled) misfit gradients of each data group and the last
      steps, from Jacobian products on the trial models' own
      factorisations (:mod:`simpeg_zo._subspace`): from the rows of ``J``
      that the diagonal's adjoint solves give, where they fit in
      ``jacobian_rows_memory`` (the first iteration is then such a step,
      its products taken by the start's pass), otherwise one tangent solve
      per direction;
    * where neither lowers the misfit, the Jacobi-scaled gradient with a
      backtracking line search.

    The candidate of the kind that paid last is measured first; the other
    is measured too where the first paid less per forward pass than the
    other did when last measured (or than its own previous step). With
    ``memory=0, subspace=False, lateral_coupling=0, frequency_window=0`` it
    is the paper's method: forward solves only.

    Once the target misfit is reached, up to ``smoothing_steps`` Occam steps
    lower the roughness across the profile of the inversion's regularisation
    (:func:`simpeg_zo._roughness.roughness`) without raising the misfit.
    ``maxIter`` bounds all iterations, smoothing steps included.

    Stopping: ``TargetMisfit`` (or chi2 <= ``target_chi2`` where the
    inversion has none; ``UpdateIRLS.chifact_target`` in a sparse script),
    ``maxIter``, a stall (the misfit fell by less than ``stall_tolerance``
    over ``stall_iterations`` iterations, and by less than a tenth of its
    distance to a known target), or no step lowering the misfit.
    ``stop_reason`` names it, and the printed stop line too.

    Parameters
    ----------
    maxIter : int
        Largest number of iterations (accepted models).
    target_chi2 : float or None
        chi2 at which ZO stops by itself where the inversion has no
        ``TargetMisfit`` directive; None: only the other rules stop it.
    tail_stop : float or None
        Stop ("slow approach to the target") once a subspace iteration
        removes less than this part of the misfit's distance to the target
        (the ``zo-gn`` method hands over to GN there); None: never.
    alpha, gamma, beta : float
        Correction factor (0 < alpha <= 2), Oldenburg (0) to Zohdy (1)
        blend, depth correction factor (0 <= beta <= 1).
    use_phase : bool
        Add the phase-Bostick factor to the correction.
    memory : int
        Previous steps in the multisecant mix (0: plain fixed point).
    vertical_smoothing : float, optional
        Width (natural-log depth) of the vertical weighting; default
        :data:`DEFAULT_WIDTH`.
    max_log_step : float
        Largest change of ln(resistivity) of any cell in one step.
    lateral_coupling : float
        Corrections are smoothed along x with a Gaussian of this many times
        the depth (0: the paper's column-wise correction).
    frequency_window : float
        Half width (decades) of a running median of each station's
        corrections over frequency (0: the paper's per-sounding correction).
    maxIterLS, LSshorten : int, float
        Step shortenings tried when the misfit rises, and their factor.
    stall_iterations, stall_tolerance : int, float
        The stagnation rule's window and relative decrease.
    static_shift : bool
        Estimate one static-shift factor per (station, mode) during the
        iterations (:func:`simpeg_zo._static.estimate_static_shifts`); the
        misfit lowered is that of the model with its shifts (``inv.phi_d``);
        ``chi2`` stays the model's own. No subspace steps.
    static_shift_prior : float
        Prior standard deviation of a log shift.
    workers : int
        Dask worker processes for the (mode, frequency) solves (1: this process).
    scheduler : str, optional
        Address of an existing Dask scheduler.
    subspace : bool
        Measure subspace and gradient steps beside the ZO fixed point.
    subspace_bands, subspace_memory, subspace_windows : int
        Frequency bands and lateral windows of the correction directions,
        past steps kept as directions.
    subspace_gradient_windows : int
        Lateral windows of each mode's whole misfit gradient (1: none).
    subspace_smoothing : float
        Width of the gradient directions' smoothing (fraction of half a
        station spacing across and two cells in depth; 0: none).
    subspace_jacobi : bool
        Add the gradient directions divided by the diagonal of
        ``J^T W^T W J`` (as SimPEG's ``UpdatePreconditioner`` scales GN).
    smoothing_steps : int
        Occam steps once the target misfit is reached (0: none).
    data_coverage : bool
        Weight the corrections and directions by what the soundings see
        (:func:`simpeg_zo._iteration.data_coverage`): cells under wide station
        gaps, beyond the profile's ends or below the depth of investigation
        keep the start model unless the misfit's own descent moves them
        (default off: 10 % more passes for no gain on 12 cases, BENCHMARKS.md).
    jacobian_rows_memory : int
        Bytes the rows of ``J`` (all data, all cells, single precision where
        double does not fit) may take to be kept for the subspace directions
        (0: products by tangent solves only).

    Attributes
    ----------
    forward_solves : int
        Forward passes run (one per model evaluated, all modes).
    history : list of dict
        Per accepted iterate: ``iteration``, ``phi_d``, ``chi2`` (and
        ``chi2_with_static_shift``), ``seconds``, ``forward_solves``, ``step``.
    chi2, chi2_with_static_shift : float
        The model's own misfit (printed, logged); its fit with the shifts.
    stop_reason, stage : str
        Why the iterations ended; the kind of the last step (``"zo"``,
        ``"subspace"``, ``"gradient"``, ``"smoothing"`` or ``"restart"``).
    smoothing_steps_taken : int
    jvec_products, jtvec_products : int
        Jacobian products in SimPEG's ``Jvec``/``Jtvec`` units.
    static_shifts : dict
        With ``static_shift``: ``{mode: (n_stations,) array}`` of factors,
        stations in the order of ``static_shift_stations``.
    phi_d_without_shift : float
        The model's own phi_d (``chi2`` times the number of data).
    clock_start : float or None
        ``time.perf_counter()`` value that history times count from
        (default: the start of ``minimize``).
    method_name : str
        The method named in the per-iteration log (default ``"zo"``).
    guide_model : numpy.ndarray or None
        A model from elsewhere (a network's section) whose difference from
        the start joins the subspace directions, so the steps take as much of
        it as the data ask; read and reset by the next ``minimize``.
    restart_models : list of numpy.ndarray
        Models a stalled run above the target restarts from where they fit
        better (``simpeg_zo._driver.restart``, a ``"restart"`` step); set by
        :class:`simpeg_zo.BostickStartingModel`, reset by ``minimize``.

    Examples
    --------
    >>> from simpeg_zo import ZohdyOldenburg
    >>> opt = ZohdyOldenburg(maxIter=20, use_phase=True)
    >>> opt.name
    'Zohdy-Oldenburg'
    """

    name = "Zohdy-Oldenburg"

    def __init__(
        self,
        *,
        maxIter: int = 30,
        target_chi2: float | None = 1.0,
        tail_stop: float | None = None,
        alpha: float = 1.0,
        gamma: float = 1.0,
        beta: float = 0.5,
        use_phase: bool = False,
        memory: int = 4,
        vertical_smoothing: float | None = None,
        max_log_step: float = float(np.log(10.0)),
        lateral_coupling: float = 0.5,
        frequency_window: float = 0.2,
        maxIterLS: int = 2,
        LSshorten: float = 0.5,
        stall_iterations: int = 3,
        stall_tolerance: float = 0.02,
        static_shift: bool = False,
        static_shift_prior: float = DEFAULT_SHIFT_PRIOR,
        workers: int = 1,
        scheduler: str | None = None,
        subspace: bool = True,
        subspace_bands: int = 3,
        subspace_memory: int = 6,
        subspace_windows: int = 6,
        subspace_gradient_windows: int = 6,
        subspace_smoothing: float = 0.3,
        subspace_jacobi: bool = True,
        smoothing_steps: int = 3,
        data_coverage: bool = False,
        jacobian_rows_memory: int = MAX_ROWS_BYTES,
        **kwargs: Any,
    ) -> None:
        unknown = [key for key in kwargs if not hasattr(Minimize, key)]
        if unknown:
            raise TypeError(f"ZohdyOldenburg() got an unexpected keyword argument {unknown[0]!r}")
        super().__init__(maxIter=maxIter, maxIterLS=maxIterLS, LSshorten=LSshorten, **kwargs)
        check_parameters(
            alpha=alpha,
            beta=beta,
            memory=memory,
            target_chi2=target_chi2,
            tail_stop=tail_stop,
            lateral_coupling=lateral_coupling,
            frequency_window=frequency_window,
            static_shift_prior=static_shift_prior,
            workers=workers,
            subspace_gradient_windows=subspace_gradient_windows,
            smoothing_steps=smoothing_steps,
            jacobian_rows_memory=jacobian_rows_memory,
        )
        self.target_chi2 = None if target_chi2 is None else float(target_chi2)
        self.tail_stop = None if tail_stop is None else float(tail_stop)
        self.alpha, self.gamma, self.beta = float(alpha), float(gamma), float(beta)
        self.use_phase = bool(use_phase)
        self.memory = int(memory)
        self.vertical_smoothing = vertical_smoothing
        self.max_log_step = float(max_log_step)
        self.lateral_coupling, self.frequency_window = float(lateral_coupling), float(frequency_window)
        self.stall_iterations, self.stall_tolerance = int(stall_iterations), float(stall_tolerance)
        self.static_shift, self.static_shift_prior = bool(static_shift), float(static_shift_prior)
        self.workers, self.scheduler = int(workers), scheduler
        self.subspace, self.subspace_bands = bool(subspace), int(subspace_bands)
        self.subspace_memory = int(subspace_memory)
        self.subspace_windows, self.subspace_gradient_windows = int(subspace_windows), int(subspace_gradient_windows)
        self.subspace_smoothing, self.subspace_jacobi = float(subspace_smoothing), bool(subspace_jacobi)
        self.smoothing_steps, self.data_coverage = int(smoothing_steps), bool(data_coverage)
        self.jacobian_rows_memory = int(jacobian_rows_memory)
        self.stoppers = [_reason_stopper]
        self.printers = [IterationPrinters.iteration, _chi2_printer, _forward_printer, _stage_printer]
        self.forward_solves = 0
        self.jvec_products = self.jtvec_products = 0
        self.history, self.stop_reason, self.stage, self.smoothing_steps_taken = [], "", "zo", 0
        self.chi2 = self.chi2_with_static_shift = np.nan
        self.static_shifts, self.static_shift_stations = {}, np.zeros(0)
        self.phi_d_without_shift = np.nan
        self.clock_start = None
        self.method_name = "zo"
        self.guide_model = None
        self.restart_models = []

    # ------------------------------------------------------------ main loop
    def minimize(self, evalFunction: Callable, x0: ArrayLike) -> NDArray[np.float64]:
        """Run the direct inversion from ``x0``; returns the best model.

        Parameters
        ----------
        evalFunction : callable
            ``BaseInvProblem.evalFunction``; not called (the engine solves).
        x0 : numpy.ndarray
            Starting model (the model of the inverse problem's mapping).
        """
        inv = self.parent
        if inv is None:
            raise RuntimeError(
                "ZohdyOldenburg must be used inside a simpeg BaseInvProblem (it reads the data misfit's simulations)"
            )
        self.evalFunction = evalFunction
        layout = layout_from_misfit(inv.dmisfit)
        n_data = max(layout.n_data, 1)
        self.startup(x0)
        self._stop_at, goal = targets(self, n_data)
        problem = driver_problem(self, layout, self.xc, goal)
        groups = layout.groups + GROUPS_PER_BAND * frequency_bands(layout.data_frequency, self.subspace_bands)
        engine = ForwardEngine(misfit_simulations(inv.dmisfit), workers=self.workers, scheduler=self.scheduler)
        engine.max_rows_bytes = self.jacobian_rows_memory
        self.forward_solves = 0
        self.history, self.stop_reason, self.stage, self.smoothing_steps_taken = [], "", "zo", 0
        self.static_shift_stations = layout.geometry.station_x
        t0 = self.clock_start if self.clock_start is not None else time.perf_counter()
        evaluator = EngineEvaluator(engine, layout, groups)
        self.printInit()
        try:
            guide, self.guide_model = self.guide_model, None
            guide = guide_direction(guide, self.xc, self.subspace and not self.static_shift)
            restarts, self.restart_models = list(self.restart_models), []
            state = _driver.initial_state(problem, evaluator, self.xc, directions=guide)
            self.xc = state.x
            self._sync(state, engine, problem)
            self._record(state, t0)
            self.printIter()
            hooks = _driver.Hooks(start=self._start, accepted=lambda s: self._accepted(s, engine, problem, t0))
            state = _driver.run(problem, evaluator, self.xc, hooks, state=state, restarts=restarts)
        except KeyboardInterrupt:
            self.stop_reason = "interrupted"  # xc: the best model so far (every accepted step lowers the misfit)
            raise
        finally:
            engine.close()
        self.stop_reason = state.stop_reason
        self._close(state, problem)
        return self.xc

    def _start(self, state) -> bool:
        self.doStartIteration()
        return bool(self.stopNextIteration) or (self._stop_at is not None and state.phi <= self._stop_at)

    def _sync(self, state, engine, problem):
        """Move the driver's state into SimPEG (what the printers and directives read)."""
        n_data = max(problem.layout.n_data, 1)
        inv = self.parent
        self.f = state.phi
        self.forward_solves = state.passes
        self.jvec_products, self.jtvec_products = engine.jvec_products, engine.jtvec_products
        self.stage = state.stage if state.iteration else "start"
        self.smoothing_steps_taken = state.smoothing_steps
        # with static shifts, state.phi is the fit of the model times its shifts; chi2 is the model's own
        self.phi_d_without_shift = problem.phi(state.dpred) if self.static_shift else state.phi
        self.chi2 = self.phi_d_without_shift / n_data
        if self.static_shift:
            self.chi2_with_static_shift = state.phi / n_data
        inv.model = state.x
        inv.dpred = state.dpred
        inv.phi_d, inv.phi_d_last = state.phi, inv.phi_d
        inv.phi_m, inv.phi_m_last = float(inv.reg(state.x)), inv.phi_m

    def _record(self, state, t0):
        """Add an accepted iterate to the history (and the log)."""
        entry = {
            "iteration": int(state.iteration),
            "phi_d": float(state.phi),
            "chi2": float(self.chi2),
            **({"chi2_with_static_shift": float(self.chi2_with_static_shift)} if self.static_shift else {}),
            "seconds": time.perf_counter() - t0,
            "forward_solves": int(state.passes),
            "step": state.stage if state.iteration else "start",
        }
        self.history.append(entry)
        logger.info(
            "%s: iteration %d, chi2 %.3g, %.1f s, %d forward solves (%s)",
            self.method_name,
            entry["iteration"],
            entry["chi2"],
            entry["seconds"],
            entry["forward_solves"],
            entry["step"],
        )

    def _accepted(self, state, engine, problem, t0):
        self._sync(state, engine, problem)
        self.doEndIteration(state.x)  # xc, iter += 1, the printed row, the directives' endIter
        self._record(state, t0)

    def _close(self, state, problem):
        inv = self.parent
        layout = problem.layout
        inv.model, inv.phi_d, inv.dpred = state.x, state.phi, state.dpred
        if self.static_shift:
            table = {}
            for m in np.unique(layout.mode):
                sel = (layout.mode == m) & layout.has_rho
                f = np.full(layout.geometry.station_x.size, np.nan)
                f[layout.station[sel]] = np.exp(state.shift[sel])
                table[str(m)] = f
            self.static_shifts = table
        self.xc, self.f = state.x, state.phi
        self.printDone()
        self.finish()
