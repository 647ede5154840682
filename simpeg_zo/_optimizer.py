"""``ZohdyOldenburg``: the direct inversion as a SimPEG optimizer."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from simpeg.optimization import IterationPrinters, Minimize, StoppingCriteria

from ._bostick import bostick_depth
from ._forward import ForwardEngine, _boundary_parameters
from ._iteration import (
    CorrectionSettings,
    frequency_bands,
    shifted_response,
    stalled,
    station_spacing,
    zo_correction,
)
from ._layout import layout_from_misfit, misfit_simulations, sounding_state
from ._static import DEFAULT_SHIFT_PRIOR, estimate_static_shifts
from ._subspace_stage import SubspaceStage
from ._zo import depth_scaled_smoother, row_smoother, secant_mix

__all__ = ["ZohdyOldenburg", "DEFAULT_WIDTH"]

logger = logging.getLogger(__name__)


#: Default vertical smoothing: Gaussian width of 0.1 in natural-log depth
#: (about 10 % of the depth), whatever the frequency sampling. Wider kernels
#: average the corrections of neighbouring soundings so much that the
#: iteration stalls short of the data (chi2 ~ 4.7 instead of 0.5 on the
#: H-type layers with 0.72); narrower ones leave cells between sparse
#: soundings to the nearest one, which is the least-squares answer.
DEFAULT_WIDTH = 0.1


_forward_printer = {
    "title": "nFwd",
    "value": lambda M: M.forward_solves,
    "width": 6,
    "format": lambda v: f"{v:4d}",
}
_chi2_printer = {
    "title": "chi2",
    "value": lambda M: M.chi2,
    "width": 10,
    "format": lambda v: f"{v:1.3e}",
}


class ZohdyOldenburg(SubspaceStage, Minimize):
    r"""Zohdy-Oldenburg direct inversion of 2D MT data.

    A drop-in :class:`simpeg.optimization.Minimize` for a standard SimPEG 2D
    MT inversion: replace ``opt = optimization.InexactGaussNewton(...)`` by
    ``opt = simpeg_zo.ZohdyOldenburg(...)``. Its Zohdy-Oldenburg iterations
    need only forward solves (one per trial model, forward only: each
    frequency factorised, solved and released). When they slow down, the
    subspace stage (``subspace=True``, the default) continues with subspace
    Gauss-Newton steps that use Jacobian products of a few dozen directions
    (adjoint and tangent solves on each evaluated model's own
    factorisations; no Jacobian matrix, no large linear system). With
    ``memory=0, subspace=False, lateral_coupling=0, frequency_window=0`` it is
    the paper's method: forward solves only.

    Each iteration maps every (mode, station, frequency) sounding to its
    Bostick depth below its station, corrects the model resistivity there by
    the least-squares Zohdy-Oldenburg formula

    .. math::

        \rho_{k+1} = \rho_k + \alpha (\rho_o - \rho_c)(\rho_k/\rho_c)^\gamma

    (times the phase-Bostick factor when ``use_phase``), spreads the
    log-corrections over the mesh (weighted mean in log-depth under each
    station, linear between stations, inverse-variance weights so TE and TM
    blend by their errors), moves the depths by
    :math:`D_{k+1} = D_k + \beta(D_o - D_c)` and, with ``memory > 0``, mixes
    the step with the previous ones by a multisecant (Anderson) step whose
    coefficients minimise the linearised weighted misfit of all data
    together. That secant step is what makes joint TE+TM converge where
    averaging the two modes' corrections stalls.

    Step control: a trial model whose data misfit does not fall below the
    current one is rejected and the step shortened by ``LSshorten`` (up to
    ``maxIterLS`` times); if that fails the secant memory is cleared and a
    plain step tried once more; the model returned is always the best one
    evaluated.

    Subspace stage: once an accepted iteration lowers the misfit by less
    than ``1 - subspace_switch``, or no ZO step lowers it, each iteration
    takes the Levenberg-Marquardt combination of the ZO corrections (all
    data; each mode and frequency band in ``subspace_windows`` lateral
    windows), the misfit gradients of each (mode, component, band) data
    group as smoothed densities (and each mode's whole gradient in
    ``subspace_gradient_windows`` lateral windows), and the last
    ``subspace_memory`` steps
    (:mod:`simpeg_zo._subspace`). The Jacobian products of the next
    iteration's directions are computed with the trial model's own
    factorisation, so an iteration costs one factorisation per frequency;
    where the directions outnumber the stations they come from the rows of
    the Jacobian, one frequency at a time (one adjoint solve per station,
    whose rows then multiply the directions; no Jacobian matrix is kept),
    and the misfit gradients and the ``J^T W^T W J`` diagonal from the same
    rows. The first subspace iteration steps in the directions that need no
    gradient (the ZO corrections, the past steps) and takes the gradients
    and the diagonal in the same pass.

    Smoothing steps: once the target misfit is reached in the subspace
    stage, up to ``smoothing_steps`` Occam steps (Constable, Parker and
    Constable 1987) in the span of the subspace directions and of the
    roughness's descent direction (whole and in one lateral window per
    station) lower the roughness across the profile (the first-order
    smoothness terms along x of the inversion's regularisation,
    :func:`simpeg_zo._subspace_stage.roughness`) without raising the misfit
    above the one the target was reached with. ZO has no regularisation to
    trade against the misfit; without them the model keeps whatever lateral
    structure its column-wise corrections put where the data do not
    constrain it (a resistive patch under one station).
    Each costs one factorisation per frequency; they come after the target,
    so the time to reach it does not change.

    Stopping: directives (``TargetMisfit`` sets ``stopNextIteration``),
    ``maxIter``, or stagnation: the data misfit fell by less than
    ``stall_tolerance`` (relative) over the last ``stall_iterations``
    accepted iterations, and, where the target misfit is known, by less
    than a tenth of its distance to the target (a slow but steady approach
    to the target is not stagnation), or no step improved it. ZO has no regularization
    to trade against the misfit, so where the inversion has no
    ``TargetMisfit`` directive it stops by itself at the discrepancy
    principle: chi2 <= ``UpdateIRLS.chifact_target`` in a sparse (IRLS)
    script, whose cycles ZO has no use for, and chi2 <= ``target_chi2``
    otherwise.

    Parameters
    ----------
    maxIter : int
        Maximum number of iterations (accepted models).
    tail_stop : float or None
        Stop (``stop_reason`` "slow approach to the target") once a subspace
        iteration removes less than this part of the misfit's distance to
        the target: the slow last stretch that a hand-over to Gauss-Newton
        covers sooner (the ``zo-gn`` method uses 0.25). None (default):
        never.
    target_chi2 : float or None
        chi2 at which ZO stops by itself where the inversion has no
        ``TargetMisfit`` directive (an ``UpdateIRLS`` directive's
        ``chifact_target`` takes its place); None: only directives,
        ``maxIter`` and stagnation stop it.
    alpha : float
        Correction factor of the resistivity update (0 < alpha <= 1).
    gamma : float
        Blend between Oldenburg's difference (0) and Zohdy's ratio (1)
        updates.
    beta : float
        Correction factor of the depth update (0 keeps the Bostick depths of
        the observed data).
    use_phase : bool
        Add the phase-Bostick factor to the update (phase is free of static
        shift).
    memory : int
        Number of previous steps in the secant mix (0: plain iteration).
    vertical_smoothing : float, optional
        Width (natural-log depth) of the vertical weighting; default 0.1
        (:data:`DEFAULT_WIDTH`).
    max_log_step : float
        Largest change of ln(resistivity) of any cell in one step.
    lateral_coupling : float
        Each correction is smoothed along x with a Gaussian of width
        ``lateral_coupling`` times the depth (default 0.5): at depth a
        sounding resolves lateral structure only on the scale of its depth,
        and a correction confined to the column under its station grows
        into a vertical column there. 0 keeps the paper's column-wise
        correction (linear between stations).
    frequency_window : float
        Half width (decades of frequency) of a running median of each
        station's and mode's corrections before they are spread over the
        cells (default 0.2; :func:`simpeg_zo._zo.frequency_median`). An
        apparent-resistivity curve changes smoothly with frequency, so a
        correction that jumps at one or two frequencies (noise, cultural
        interference) is no structure; unfiltered it drives a resistive or
        conductive column under that station. At the ends of the band the
        window moves inward. Frequencies sparser than the window are
        unaffected. 0 keeps the paper's per-sounding correction.
    maxIterLS : int
        Step shortenings tried when the misfit rises.
    LSshorten : float
        Shortening factor.
    stall_iterations : int
        Window of the stagnation rule.
    stall_tolerance : float
        Relative decrease of the misfit below which the window counts as
        stalled.
    static_shift : bool
        Estimate one static-shift factor per (station, mode) during the
        iterations (:func:`simpeg_zo._static.estimate_static_shifts`): after
        every accepted model, the weighted mean over frequencies of
        ``ln(rho_obs / rho_calc)`` (the part of the apparent-resistivity
        misfit that is constant with frequency, which the phase cannot
        explain), shrunk toward 0 and centred to zero mean over all
        (station, mode) pairs together (so the regional level stays set by
        the data). Shifts proposed at the current model steer the ZO
        correction; an accepted model keeps whichever of the old, proposed
        or re-estimated shifts gives it the lowest misfit.
        The predicted apparent resistivities are multiplied by the shifts in
        the misfit, the ZO correction and the secant mix; the phase is not
        touched. The misfit then is that of the model *with* its shifts
        against the original data: ``inv.phi_d`` is overwritten with it
        after every forward solve (so ``TargetMisfit`` stops on it), and
        ``phi_d_without_shift`` keeps the model's misfit without them.
    static_shift_prior : float
        Prior standard deviation of a log shift (default 0.5).
    workers : int
        Forward solves are forward only (each frequency factorised, solved
        and released: peak memory about one factorisation, where SimPEG's
        own ``fields`` keeps them all). ``1`` (default) runs them in this
        process; ``N > 1`` spreads the (mode, frequency) solves over a local
        Dask cluster of ``N`` worker processes started for the run.
    scheduler : str, optional
        Address of an existing Dask scheduler whose workers take the solves.
    subspace : bool
        When a Zohdy-Oldenburg iteration lowers the misfit by less than
        ``1 - subspace_switch`` (or no step lowers it), continue with
        subspace Gauss-Newton steps (:mod:`simpeg_zo._subspace`): the best
        combination of the ZO corrections (all data and each mode alone),
        the smoothed misfit gradients of each data group and the last step,
        from Jacobian products of those few directions (adjoint and tangent
        solves on each frequency's own factorisation, no Jacobian matrix).
        ``False`` with ``memory=0, lateral_coupling=0, frequency_window=0``
        is the paper's method: forward solves only.
    subspace_switch : float
        Misfit ratio of an accepted ZO iteration above which the subspace
        stage starts (default 0.8).
    subspace_bands : int
        Frequency bands (equal in log frequency) of the subspace directions.
    subspace_memory : int
        Past steps kept as subspace directions.
    subspace_windows : int
        Lateral windows (a partition of unity over the stations) of the ZO
        corrections among the subspace directions.
    subspace_gradient_windows : int
        Lateral windows of each mode's whole misfit gradient, added to the
        subspace directions beside the gradients of the data groups (1:
        none). A windowed gradient moves one part of the profile without
        the others, as the column-wise corrections do; with few frequencies
        (a coarse Bostick sampling of each column) the stage otherwise
        converges slowly near the target. The windows add Jacobian products
        (tangent solves on the same factorisations), not forward solves.
    subspace_smoothing : float
        Width of the gradient directions' smoothing, as a fraction of half a
        station spacing across and two cells in depth (0: none).
    subspace_jacobi : bool
        Add the same gradient directions divided by the diagonal of
        ``J^T W^T W J`` (Jacobi scaling, as SimPEG's ``UpdatePreconditioner``
        scales Gauss-Newton's conjugate gradients). The diagonal is taken
        when the subspace stage starts and renewed whenever the directions'
        products come from the rows of ``J``: one complex adjoint solve per
        station, mode and frequency on that frequency's factorisation
        (counted among the ``Jtvec`` products), no Jacobian matrix. Without
        it the gradients, scaled by cell area only, hardly move the deep and
        poorly sensed cells.
    smoothing_steps : int
        Occam steps once the target misfit is reached (default 3; 0: none).
        They need ``subspace`` and a regularisation with smoothness terms
        (``inv.reg``; SimPEG's ``WeightedLeastSquares`` or ``Sparse``), and
        stop early when one lowers the roughness by less than 2 %.

    Attributes
    ----------
    forward_solves : int
        Forward simulations run (one per model evaluated, all modes).
    history : list of dict
        Per accepted iterate: ``iteration``, ``phi_d``, ``chi2``,
        ``seconds`` since the start, ``forward_solves``; each is also
        logged at INFO on the ``simpeg_zo._optimizer`` logger.
    stop_reason : str
        Why the iterations ended.
    stage : str
        ``"zo"``, ``"subspace"`` or ``"smoothing"``: the stage the
        iterations ended in.
    smoothing_steps_taken : int
        Smoothing steps kept (each an iteration in ``history``).
    jvec_products, jtvec_products : int
        Jacobian products used, in SimPEG's ``Jvec``/``Jtvec`` calls of one
        simulation (one solve per frequency), as Gauss-Newton's are
        counted: one ``J^T v`` per data group and evaluated model of the
        subspace stage; the directions' products as one ``J v`` per
        direction and mode, or, where they come from the rows of ``J``, one
        ``J^T v`` per station and mode; 0 for the paper's method.
    static_shifts : dict
        With ``static_shift``: ``{mode: (n_stations,) array}`` of the
        estimated factors (predicted = factor x model response; NaN where a
        station has no apparent resistivity of that mode), stations in the
        order of ``static_shift_stations`` (x, m).
    phi_d_without_shift : float
        Misfit of the returned model without the shifts.

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
        subspace_switch: float = 0.8,
        subspace_bands: int = 3,
        subspace_memory: int = 6,
        subspace_windows: int = 6,
        subspace_gradient_windows: int = 6,
        subspace_smoothing: float = 0.3,
        subspace_jacobi: bool = True,
        smoothing_steps: int = 3,
        **kwargs: Any,
    ) -> None:
        unknown = [key for key in kwargs if not hasattr(Minimize, key)]
        if unknown:
            raise TypeError(f"ZohdyOldenburg() got an unexpected keyword argument {unknown[0]!r}")
        super().__init__(maxIter=maxIter, maxIterLS=maxIterLS, LSshorten=LSshorten, **kwargs)
        if not 0 < alpha <= 2:
            raise ValueError(f"alpha must be in (0, 2], got {alpha}")
        if not 0 <= beta <= 1:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        if memory < 0:
            raise ValueError(f"memory must be >= 0, got {memory}")
        if target_chi2 is not None and not target_chi2 > 0:
            raise ValueError(f"target_chi2 must be > 0 or None, got {target_chi2}")
        self.target_chi2 = None if target_chi2 is None else float(target_chi2)
        if tail_stop is not None and not 0 < tail_stop < 1:
            raise ValueError(f"tail_stop must be in (0, 1) or None, got {tail_stop}")
        self.tail_stop = None if tail_stop is None else float(tail_stop)
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.beta = float(beta)
        self.use_phase = bool(use_phase)
        self.memory = int(memory)
        self.vertical_smoothing = vertical_smoothing
        self.max_log_step = float(max_log_step)
        if not lateral_coupling >= 0:
            raise ValueError(f"lateral_coupling must be >= 0, got {lateral_coupling}")
        self.lateral_coupling = float(lateral_coupling)
        if not frequency_window >= 0:
            raise ValueError(f"frequency_window must be >= 0, got {frequency_window}")
        self.frequency_window = float(frequency_window)
        self.stall_iterations = int(stall_iterations)
        self.stall_tolerance = float(stall_tolerance)
        if static_shift_prior <= 0:
            raise ValueError(f"static_shift_prior must be > 0, got {static_shift_prior}")
        self.static_shift = bool(static_shift)
        self.static_shift_prior = float(static_shift_prior)
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.scheduler = scheduler
        self.subspace = bool(subspace)
        if not 0 < subspace_switch <= 1:
            raise ValueError(f"subspace_switch must be in (0, 1], got {subspace_switch}")
        self.subspace_switch = float(subspace_switch)
        self.subspace_bands = int(subspace_bands)
        self.subspace_memory = int(subspace_memory)
        self.subspace_windows = int(subspace_windows)
        if int(subspace_gradient_windows) < 1:
            raise ValueError(f"subspace_gradient_windows must be >= 1, got {subspace_gradient_windows}")
        self.subspace_gradient_windows = int(subspace_gradient_windows)
        self.subspace_smoothing = float(subspace_smoothing)
        self.subspace_jacobi = bool(subspace_jacobi)
        if int(smoothing_steps) < 0:
            raise ValueError(f"smoothing_steps must be >= 0, got {smoothing_steps}")
        self.smoothing_steps = int(smoothing_steps)
        self._jtj_diagonal = None
        self.stage = "zo"
        self.smoothing_steps_taken = 0
        self.jvec_products = 0
        self.jtvec_products = 0
        self._engine = None
        self.static_shifts = {}
        self.static_shift_stations = np.zeros(0)
        self.phi_d_without_shift = np.nan
        self._shift = None  # per-sounding log shifts during minimize
        self._layout = None
        self._smoother = []
        self.stoppers = [StoppingCriteria.iteration]
        self.printers = [
            IterationPrinters.iteration,
            _chi2_printer,
            _forward_printer,
            IterationPrinters.totalLS,
        ]
        self.forward_solves = 0
        self.history = []
        self.stop_reason = ""
        self.chi2 = np.nan
        #: ``time.perf_counter()`` value that history times count from
        #: (default: the start of ``minimize``).
        self.clock_start = None
        self._log_name = "zo"  # the method named in the per-iteration log

    # ------------------------------------------------------------ helpers
    def _evaluate(self, x, directions=None):
        """One forward solve (forward only); returns (phi_d, dpred).

        Leaves the inverse problem as ``BaseInvProblem.evalFunction`` would
        (``model``, ``dpred``, ``phi_d``, ``phi_m``), so directives read it.
        With ``static_shift``, phi_d is the misfit with the current shifts;
        dpred is the model's response.
        """
        inv = self.parent
        request = self._gradient_request()
        # the J^T W^T W J diagonal comes free where J D is taken from the
        # rows of J (more directions than stations)
        diagonal = (
            bool(request)
            and self.subspace_jacobi
            and directions is not None
            and directions.shape[1] > self._engine.max_adjoint_solves
        )
        out = self._engine.evaluate(x, directions=directions, **request, jtj_diagonal=diagonal)
        self._gradients = out["gradients"] or None
        self._jd = out["jd"]
        self._evaluated_diagonal = out["jtj_diagonal"]
        self._count()
        dpred = np.hstack(out["dpred"])
        inv.model = x
        phi = self._phi(dpred) if self.static_shift else float(np.sum(self._layout.residual(dpred) ** 2))
        inv.dpred = dpred
        inv.phi_d, inv.phi_d_last = phi, inv.phi_d
        inv.phi_m, inv.phi_m_last = float(inv.reg(x)), inv.phi_m
        return phi, dpred

    def _gradient_request(self):
        """Engine options for misfit gradients.

        Asked for in the subspace stage only (the ZO iterations need forward
        solves alone).
        """
        layout = self._layout
        if self.stage != "subspace" or not self.subspace or self.static_shift:
            return {}
        return {
            "dobs": [layout.dobs[sl] for sl in layout.term_slices],
            "weights": [layout.weights[sl] for sl in layout.term_slices],
            "groups": [self._groups[sl] for sl in layout.term_slices],
            "boundary_gradient": False,  # the subspace stage never moves the boundary columns
        }

    def _count(self):
        self.forward_solves += 1
        self.jvec_products = self._engine.jvec_products
        self.jtvec_products = self._engine.jtvec_products

    def _shifted(self, dpred, shift=None):
        """``dpred`` with its apparent resistivities times the shifts."""
        shift = self._shift if shift is None else shift
        if not self.static_shift or shift is None:
            return dpred
        return shifted_response(self._layout, dpred, shift)

    def _phi(self, dpred, shift=None):
        r = self._layout.residual(self._shifted(dpred, shift))
        return float(r @ r)

    def _estimate_shift(self, dpred, rho_obs):
        """Per-sounding log shifts estimated at the response ``dpred``."""
        layout = self._layout
        rho_calc, _ = sounding_state(layout, dpred)
        with np.errstate(all="ignore"):
            log_ratio = np.log(rho_obs / rho_calc)
        weight = np.where(layout.has_rho, layout.rho_weight, 0.0)
        shift, _ = estimate_static_shifts(
            log_ratio,
            weight,
            layout.station,
            layout.mode,
            layout.geometry.station_x.size,
            prior=self.static_shift_prior,
        )
        return shift

    def _best_shift(self, dpred, rho_obs, candidates):
        """(phi, shift): the lowest misfit of ``dpred`` over candidate shifts.

        The candidates are the given shifts and the shifts re-estimated at
        ``dpred``.
        """
        options = [c for c in candidates if c is not None]
        options.append(self._estimate_shift(dpred, rho_obs))
        phis = [self._phi(dpred, c) for c in options]
        k = int(np.argmin(phis))
        return phis[k], options[k]

    def _correction(self, layout, x, dpred, depth, rho_obs, phase_obs, width, mask=None):
        """Zohdy-Oldenburg model step at ``x`` and the updated depths.

        With ``mask``, only these soundings correct the model
        (:func:`simpeg_zo._iteration.zo_correction`).
        """
        return zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, self._settings_of(width), mask=mask)

    def _record(self, phi_d, n_data, t0):
        self.chi2 = phi_d / n_data
        entry = {
            "iteration": int(self.iter),
            "phi_d": float(phi_d),
            "chi2": float(self.chi2),
            "seconds": time.perf_counter() - t0,
            "forward_solves": int(self.forward_solves),
        }
        self.history.append(entry)
        logger.info(
            "%s: iteration %d, chi2 %.3g, %.1f s, %d forward solves%s",
            self._log_name,
            entry["iteration"],
            entry["chi2"],
            entry["seconds"],
            entry["forward_solves"],
            {"subspace": " (subspace stage)", "smoothing": " (smoothing)"}.get(self.stage, ""),
        )

    # ------------------------------------------------------------ main loop
    def minimize(self, evalFunction: Callable, x0: ArrayLike) -> NDArray[np.float64]:
        """Run the direct inversion from ``x0``; returns the best model.

        Parameters
        ----------
        evalFunction : callable
            ``BaseInvProblem.evalFunction``; only its forward part is used.
        x0 : numpy.ndarray
            Starting model (log conductivity of the active cells).
        """
        inv = self.parent
        if inv is None:
            raise RuntimeError(
                "ZohdyOldenburg must be used inside a simpeg BaseInvProblem (it reads the data misfit's simulations)"
            )
        layout = layout_from_misfit(inv.dmisfit)
        n_data = max(layout.n_data, 1)
        simulations = misfit_simulations(inv.dmisfit)
        self._boundary = _boundary_parameters(simulations[0], x0)
        self._engine = ForwardEngine(simulations, workers=self.workers, scheduler=self.scheduler)
        try:
            return self._minimize(evalFunction, x0, layout, n_data)
        finally:
            self._engine.close()
            self._engine = None

    def _minimize(self, evalFunction, x0, layout, n_data):
        inv = self.parent
        # gradient groups: (mode, component, frequency band)
        self._groups = layout.groups + 4 * self._bands(layout.data_frequency)
        width = self.vertical_smoothing or DEFAULT_WIDTH
        rho_obs, phase_obs = sounding_state(layout, layout.dobs)
        self._layout = layout
        # the lateral coupling's row operators depend on the mesh only
        rows = list(layout.rows) or None  # a tree mesh's rows
        self._smoother = depth_scaled_smoother(
            layout.geometry, layout.grid_shape, layout.active, self.lateral_coupling, rows=rows
        )
        self._settings = CorrectionSettings(
            alpha=self.alpha,
            gamma=self.gamma,
            beta=self.beta,
            use_phase=self.use_phase,
            max_log_step=self.max_log_step,
            frequency_window=self.frequency_window,
            width=width,
            smoother=self._smoother,
        )
        # a tree mesh's gradient directions are smoothed along its rows only
        self._gradient_smoother = None
        if rows is not None:
            width = self.subspace_smoothing * 0.5 * station_spacing(layout)
            self._gradient_smoother = row_smoother(rows, layout.geometry.cell_x, [width] * len(rows))
        self._shift = np.zeros(layout.rho_index.size)
        self.static_shifts = {}
        self.static_shift_stations = layout.geometry.station_x
        depth = np.where(
            np.isfinite(rho_obs),
            bostick_depth(np.where(np.isfinite(rho_obs), rho_obs, 1.0), layout.frequency),
            np.nan,
        )
        if np.any(~np.isfinite(depth)):
            # phase-only soundings: depth from the half-space of the station's mean
            fill = np.exp(np.nanmean(np.log(rho_obs))) if np.isfinite(rho_obs).any() else 100.0
            bad = ~np.isfinite(depth)
            depth[bad] = bostick_depth(fill, layout.frequency[bad])

        self.evalFunction = evalFunction
        self.forward_solves = 0
        self.jvec_products = self.jtvec_products = 0
        self.stage = "zo"
        self.smoothing_steps_taken = 0
        self._damping = 1e-2
        self._past_steps = []
        self._pending = None
        self._jtj_diagonal = None
        self._evaluated_diagonal = None
        self.history = []
        self.stop_reason = ""
        self.startup(x0)
        if np.any(~np.isfinite(self.xc)):
            raise ValueError("the starting model has NaN or infinite values")
        self.printInit()
        t0 = self.clock_start if self.clock_start is not None else time.perf_counter()
        phi, dpred = self._evaluate(self.xc)
        if self.static_shift:
            phi, self._shift = self._best_shift(dpred, rho_obs, [self._shift])
            inv.phi_d = phi
        self.f = phi
        self._record(phi, n_data, t0)
        self.printIter()
        best = (self.xc.copy(), phi, dpred)
        gradients = self._gradients
        models, residuals, steps = (deque(maxlen=self.memory + 1) for _ in range(3))
        restarted = False
        use_subspace = self.subspace and not self.static_shift

        target = self._target_phi(n_data)
        while True:
            self.doStartIteration()
            if self.stopNextIteration or (target is not None and best[1] <= target):
                self.stop_reason = "target misfit reached"
                break
            if self.iter >= self.maxIter:
                self.stop_reason = "maximum number of iterations"
                break
            x, phi, dpred = best
            if self.stage == "subspace":
                accepted, trial, new_depth = self._subspace_iteration(
                    layout, x, phi, dpred, gradients, depth, rho_obs, phase_obs, width
                )
                if not accepted:
                    self.stop_reason = "no subspace step decreased the misfit"
                    break
                xt, phi_t, dpred_t = trial
                gradients = self._gradients
                depth = new_depth
                best = trial
                self.f = phi_t
                self.chi2 = phi_t / n_data
                self.doEndIteration(xt)
                self._record(phi_t, n_data, t0)
                if self._stalled():
                    self.stop_reason = "misfit stopped improving"
                    break
                goal = getattr(self, "_goal", None)
                if (
                    self.tail_stop is not None
                    and goal is not None
                    and phi_t > goal
                    and phi - phi_t < self.tail_stop * (phi - goal)
                ):
                    self.stop_reason = "slow approach to the target"
                    break
                continue
            # with static shifts, the model is corrected toward the data
            # divided by the shifts (= the response times the shifts)
            trial_shift = None
            rho_target = rho_obs
            if self.static_shift:
                # shifts proposed at the current model; the model is corrected
                # toward the data divided by them. They need not lower the
                # misfit of the current model (centring them moves the level
                # the model has to follow), so they are judged with the trial
                trial_shift = self._estimate_shift(dpred, rho_obs)
                rho_target = rho_obs * np.exp(-trial_shift)
            step, new_depth = self._correction(layout, x, dpred, depth, rho_target, phase_obs, width)
            models.append(x)
            residuals.append(dpred)  # residuals taken with the current shifts
            steps.append(step)
            if self.memory > 0 and len(models) > 1:
                res = [layout.residual(self._shifted(d, trial_shift)) for d in residuals]
                candidate, _ = secant_mix(list(models), res, list(steps))
            else:
                candidate = x + step
            direction = candidate - x
            direction *= self._step_scale(direction)
            accepted = False
            t = 1.0
            for iter_ls in range(self.maxIterLS + 1):
                self.iterLS = iter_ls  # SimPEG's counter, read by its printers
                xt = self.projection(x + t * direction)
                phi_t, dpred_t = self._evaluate(xt)
                if self.static_shift:
                    phi_t, shift_t = self._best_shift(dpred_t, rho_obs, [self._shift, trial_shift])
                if phi_t < phi:
                    accepted = True
                    break
                t *= self.LSshorten
            if not accepted:
                if len(models) > 1 and not restarted:
                    # the secant model misled: forget it and take a plain step
                    for queue in (models, residuals, steps):
                        queue.clear()
                    restarted = True
                    continue
                if use_subspace:
                    self.stage = "subspace"
                    continue
                self.stop_reason = "no step decreased the misfit"
                break
            restarted = False
            depth = new_depth
            if self.static_shift:
                self._shift = shift_t
                inv.phi_d = phi_t
            best = (xt, phi_t, dpred_t)
            gradients = self._gradients
            self._remember(xt - x)
            self.f = phi_t
            self.chi2 = phi_t / n_data
            self.doEndIteration(xt)  # iter += 1, directives' endIter
            self._record(phi_t, n_data, t0)
            if use_subspace and phi_t > self.subspace_switch * phi:
                self.stage = "subspace"  # the fixed point slows down
                continue
            if self._stalled():
                if use_subspace:
                    self.stage = "subspace"
                    continue
                self.stop_reason = "misfit stopped improving"
                break

        if (
            use_subspace
            and self.smoothing_steps > 0
            and self.stop_reason == "target misfit reached"
            and getattr(inv, "reg", None) is not None
        ):
            best = self._smoothing(layout, best, depth, rho_obs, phase_obs, width, n_data, t0)
        x, phi, dpred = best
        # leave the inverse problem at the best model (directives read it)
        inv.model = x
        inv.phi_d = phi
        inv.dpred = dpred
        r = layout.residual(dpred)
        self.phi_d_without_shift = float(r @ r)
        if self.static_shift:
            table = {}
            for m in np.unique(layout.mode):
                m = str(m)
                sel = (layout.mode == m) & layout.has_rho
                f = np.full(layout.geometry.station_x.size, np.nan)
                f[layout.station[sel]] = np.exp(self._shift[sel])
                table[m] = f
            self.static_shifts = table
        self.xc = x
        self.f = phi
        self.printDone()
        self.finish()
        return x

    def _bands(self, frequency):
        """Frequency band of each sounding or datum (:func:`simpeg_zo._iteration.frequency_bands`)."""
        return frequency_bands(frequency, self.subspace_bands)

    def _target_phi(self, n_data):
        """The misfit ZO stops at by itself; None where a directive decides.

        Read from the directives of the inversion that runs this optimizer
        (SimPEG's ``BaseInversion`` sets ``callback`` to its own method).
        Also keeps the target the iterations head for (``TargetMisfit``'s
        where there is one), for the stagnation rule.
        """
        inversion = getattr(getattr(self, "callback", None), "__self__", None)
        directives = getattr(getattr(inversion, "directiveList", None), "dList", None) or []
        self._goal = None
        own = None if self.target_chi2 is None else self.target_chi2 * n_data
        for d in directives:
            if "TargetMisfit" in type(d).__name__:
                try:
                    self._goal = float(d.target)
                except (AttributeError, TypeError, ValueError):  # a target only known later
                    self._goal = None
                return None
        for d in directives:
            if hasattr(d, "chifact_target"):  # UpdateIRLS
                own = float(d.chifact_target) * n_data
                break
        self._goal = own
        return own

    def _stalled(self) -> bool:
        return stalled(
            [h["phi_d"] for h in self.history],
            self.stall_iterations,
            self.stall_tolerance,
            target=getattr(self, "_goal", None),
        )
