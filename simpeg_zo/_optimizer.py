"""``ZohdyOldenburg``: the direct inversion as a SimPEG optimizer."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from simpeg.optimization import IterationPrinters, Minimize, StoppingCriteria

from ._bostick import bostick_depth, fold_phase
from ._forward import ForwardEngine
from ._layout import SoundingLayout, layout_from_misfit, misfit_simulations
from ._static import DEFAULT_SHIFT_PRIOR, estimate_static_shifts
from ._zo import (
    depth_update,
    phase_log_correction,
    project_to_cells,
    resistivity_update,
    sample_columns,
    secant_mix,
)

__all__ = ["ZohdyOldenburg", "DEFAULT_WIDTH", "sounding_state"]


#: Default vertical smoothing: Gaussian width of 0.1 in natural-log depth
#: (about 10 % of the depth), whatever the frequency sampling. Wider kernels
#: average the corrections of neighbouring soundings so much that the
#: iteration stalls short of the data (chi2 ~ 4.7 instead of 0.5 on the
#: H-type layers with 0.72); narrower ones leave cells between sparse
#: soundings to the nearest one, which is the least-squares answer.
DEFAULT_WIDTH = 0.1


def sounding_state(layout: SoundingLayout, data):
    """Apparent resistivity and folded phase of each sounding in ``data``.

    Returns
    -------
    rho : (n_soundings,) numpy.ndarray
        NaN where the sounding has no apparent resistivity.
    phase : (n_soundings,) numpy.ndarray
        Radians, first quadrant; NaN where the sounding has no phase.
    """
    rho = np.full(layout.rho_index.size, np.nan)
    has = layout.rho_index >= 0
    rho[has] = data[layout.rho_index[has]]
    phase = np.full(layout.phase_index.size, np.nan)
    hp = layout.phase_index >= 0
    phase[hp] = fold_phase(data[layout.phase_index[hp]])
    return rho, phase


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


class ZohdyOldenburg(Minimize):
    r"""Zohdy-Oldenburg direct inversion of 2D MT data, Jacobian-free.

    A drop-in :class:`simpeg.optimization.Minimize` for a standard SimPEG 2D
    MT inversion: replace ``opt = optimization.InexactGaussNewton(...)`` by
    ``opt = simpeg_zo.ZohdyOldenburg(...)``. It needs only forward solves
    (one per trial model) and no Jacobian product.

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

    Stopping: directives (``TargetMisfit`` sets ``stopNextIteration``),
    ``maxIter``, or stagnation: the data misfit fell by less than
    ``stall_tolerance`` (relative) over the last ``stall_iterations``
    accepted iterations, or no shortened step improved it.

    Parameters
    ----------
    maxIter : int
        Maximum number of iterations (accepted models).
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

    Attributes
    ----------
    forward_solves : int
        Forward simulations run (one per model evaluated, all modes).
    history : list of dict
        Per accepted iterate: ``iteration``, ``phi_d``, ``chi2``,
        ``seconds`` since the start, ``forward_solves``.
    stop_reason : str
        Why the iterations ended.
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
        alpha: float = 1.0,
        gamma: float = 1.0,
        beta: float = 0.5,
        use_phase: bool = False,
        memory: int = 4,
        vertical_smoothing: float | None = None,
        max_log_step: float = float(np.log(10.0)),
        maxIterLS: int = 2,
        LSshorten: float = 0.5,
        stall_iterations: int = 3,
        stall_tolerance: float = 0.02,
        static_shift: bool = False,
        static_shift_prior: float = DEFAULT_SHIFT_PRIOR,
        workers: int = 1,
        scheduler: str | None = None,
        **kwargs,
    ):
        super().__init__(maxIter=maxIter, maxIterLS=maxIterLS, LSshorten=LSshorten, **kwargs)
        if not 0 < alpha <= 2:
            raise ValueError(f"alpha must be in (0, 2], got {alpha}")
        if not 0 <= beta <= 1:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        if memory < 0:
            raise ValueError(f"memory must be >= 0, got {memory}")
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.beta = float(beta)
        self.use_phase = bool(use_phase)
        self.memory = int(memory)
        self.vertical_smoothing = vertical_smoothing
        self.max_log_step = float(max_log_step)
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
        self._engine = None
        self.static_shifts = {}
        self.static_shift_stations = np.zeros(0)
        self.phi_d_without_shift = np.nan
        self._shift = None  # per-sounding log shifts during minimize
        self._layout = None
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

    # ------------------------------------------------------------ helpers
    def _evaluate(self, x):
        """One forward solve (forward only); returns (phi_d, dpred).

        Leaves the inverse problem as ``BaseInvProblem.evalFunction`` would
        (``model``, ``dpred``, ``phi_d``, ``phi_m``), so directives read it.
        With ``static_shift``, phi_d is the misfit with the current shifts;
        dpred is the model's response.
        """
        inv = self.parent
        dpred = np.hstack(self._engine.dpred(x))
        self.forward_solves += 1
        inv.model = x
        phi = self._phi(dpred) if self.static_shift else float(np.sum(self._layout.residual(dpred) ** 2))
        inv.dpred = dpred
        inv.phi_d, inv.phi_d_last = phi, inv.phi_d
        inv.phi_m, inv.phi_m_last = float(inv.reg(x)), inv.phi_m
        return phi, dpred

    def _shifted(self, dpred, shift=None):
        """``dpred`` with its apparent resistivities times the shifts."""
        shift = self._shift if shift is None else shift
        if not self.static_shift or shift is None:
            return dpred
        layout = self._layout
        has = layout.rho_index >= 0
        out = np.array(dpred, dtype=float, copy=True)
        out[layout.rho_index[has]] *= np.exp(shift[has])
        return out

    def _phi(self, dpred, shift=None):
        r = self._layout.residual(self._shifted(dpred, shift))
        return float(r @ r)

    def _estimate_shift(self, dpred, rho_obs):
        """Per-sounding log shifts estimated at the response ``dpred``."""
        layout = self._layout
        rho_calc, _ = sounding_state(layout, dpred)
        with np.errstate(all="ignore"):
            log_ratio = np.log(rho_obs / rho_calc)
        weight = np.where(layout.rho_index >= 0, layout.rho_weight, 0.0)
        shift, _ = estimate_static_shifts(
            log_ratio, weight, layout.station, layout.mode,
            layout.geometry.station_x.size, prior=self.static_shift_prior,
        )
        return shift

    def _best_shift(self, dpred, rho_obs, candidates):
        """(phi, shift): the lowest misfit of ``dpred`` over the candidate
        shifts and the shifts re-estimated at ``dpred``."""
        options = [c for c in candidates if c is not None]
        options.append(self._estimate_shift(dpred, rho_obs))
        phis = [self._phi(dpred, c) for c in options]
        k = int(np.argmin(phis))
        return phis[k], options[k]

    def _correction(self, layout, x, dpred, depth, rho_obs, phase_obs, width):
        """Zohdy-Oldenburg model step at ``x`` and the updated depths."""
        geom = layout.geometry
        sign = layout.log_sigma_sign
        log_rho_cells = -sign * x
        rho_calc, phase_calc = sounding_state(layout, dpred)
        has_rho = layout.rho_index >= 0
        delta = np.zeros(layout.rho_index.size)
        if has_rho.any():
            rho_model = np.exp(
                sample_columns(log_rho_cells, depth[has_rho], layout.station[has_rho], geom)
            )
            new = resistivity_update(
                rho_model,
                rho_obs[has_rho],
                rho_calc[has_rho],
                alpha=self.alpha,
                gamma=self.gamma,
            )
            delta[has_rho] = np.log(new / rho_model)
        use_ph = layout.phase_index >= 0
        if not self.use_phase:
            use_ph &= ~has_rho  # phase-only soundings always use their phase
        if use_ph.any():
            delta[use_ph] += phase_log_correction(
                phase_obs[use_ph], phase_calc[use_ph], alpha=self.alpha
            )
        delta = np.clip(delta, -self.max_log_step, self.max_log_step)
        cells = project_to_cells(
            delta, depth, layout.station, geom, weights=layout.rho_weight, width=width
        )
        new_depth = depth.copy()
        if self.beta > 0 and has_rho.any():
            new_depth[has_rho] = depth_update(
                depth[has_rho],
                rho_obs[has_rho],
                rho_calc[has_rho],
                layout.frequency[has_rho],
                beta=self.beta,
            )
        return -sign * cells, new_depth

    def _record(self, phi_d, n_data, t0):
        self.chi2 = phi_d / n_data
        self.history.append(
            {
                "iteration": int(self.iter),
                "phi_d": float(phi_d),
                "chi2": float(self.chi2),
                "seconds": time.perf_counter() - t0,
                "forward_solves": int(self.forward_solves),
            }
        )

    # ------------------------------------------------------------ main loop
    def minimize(self, evalFunction, x0):
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
                "ZohdyOldenburg must be used inside a simpeg BaseInvProblem "
                "(it reads the data misfit's simulations)"
            )
        layout = layout_from_misfit(inv.dmisfit)
        n_data = max(layout.n_data, 1)
        self._engine = ForwardEngine(
            misfit_simulations(inv.dmisfit), workers=self.workers, scheduler=self.scheduler
        )
        try:
            return self._minimize(evalFunction, x0, layout, n_data)
        finally:
            self._engine.close()
            self._engine = None

    def _minimize(self, evalFunction, x0, layout, n_data):
        inv = self.parent
        width = self.vertical_smoothing or DEFAULT_WIDTH
        rho_obs, phase_obs = sounding_state(layout, layout.dobs)
        self._layout = layout
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
        models, residuals, steps = (deque(maxlen=self.memory + 1) for _ in range(3))
        restarted = False

        while True:
            self.doStartIteration()
            if self.stopNextIteration:
                self.stop_reason = "target misfit reached"
                break
            if self.iter >= self.maxIter:
                self.stop_reason = "maximum number of iterations"
                break
            x, phi, dpred = best
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
            step, new_depth = self._correction(
                layout, x, dpred, depth, rho_target, phase_obs, width
            )
            models.append(x)
            residuals.append(dpred)  # residuals taken with the current shifts
            steps.append(step)
            if self.memory > 0 and len(models) > 1:
                res = [layout.residual(self._shifted(d, trial_shift)) for d in residuals]
                candidate, _ = secant_mix(list(models), res, list(steps))
            else:
                candidate = x + step
            direction = candidate - x
            biggest = np.abs(direction).max()
            if biggest > self.max_log_step:
                direction *= self.max_log_step / biggest
            accepted = False
            t = 1.0
            for self.iterLS in range(self.maxIterLS + 1):
                xt = self.projection(x + t * direction)
                phi_t, dpred_t = self._evaluate(xt)
                if self.static_shift:
                    phi_t, shift_t = self._best_shift(
                        dpred_t, rho_obs, [self._shift, trial_shift]
                    )
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
                self.stop_reason = "no step decreased the misfit"
                break
            restarted = False
            depth = new_depth
            if self.static_shift:
                self._shift = shift_t
                inv.phi_d = phi_t
            best = (xt, phi_t, dpred_t)
            self.f = phi_t
            self.chi2 = phi_t / n_data
            self.doEndIteration(xt)  # iter += 1, directives' endIter
            self._record(phi_t, n_data, t0)
            if self._stalled():
                self.stop_reason = "misfit stopped improving"
                break

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
                sel = (layout.mode == m) & (layout.rho_index >= 0)
                f = np.full(layout.geometry.station_x.size, np.nan)
                f[layout.station[sel]] = np.exp(self._shift[sel])
                table[m] = f
            self.static_shifts = table
        self.xc = x
        self.f = phi
        self.printDone()
        self.finish()
        return x

    def _stalled(self) -> bool:
        k = self.stall_iterations
        if k <= 0 or len(self.history) <= k:
            return False
        old = self.history[-k - 1]["phi_d"]
        new = self.history[-1]["phi_d"]
        return (old - new) < self.stall_tolerance * old
