"""The driver's data: the evaluator protocol, options, the problem and the state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .._bostick import bostick_depth
from .._iteration import CorrectionSettings, data_coverage, shifted_response, subspace_directions
from .._soundings import SoundingLayout, sounding_state
from .._static import DEFAULT_SHIFT_PRIOR, estimate_static_shifts

__all__ = ["Evaluation", "Evaluator", "Roughness", "Options", "Problem", "State", "Trial"]


@dataclass
class Evaluation:
    """What an :class:`Evaluator` returns for one model.

    Attributes
    ----------
    dpred : (n_data,) numpy.ndarray
        Predicted data (stacked as ``layout.dobs``).
    gradients : dict or None
        ``{label: (n_model,) array}``: gradients of each data group's part
        of ``||W (d - d_obs)||^2`` (labels ``2 * mode + component + 4 *
        band``), where asked for.
    jd : (n_data, k) numpy.ndarray or None
        Jacobian products ``J D`` of the directions asked for.
    diagonal : (n_model,) numpy.ndarray or None
        Diagonal of ``J^T W^T W J``, where asked for.
    rows : (n_data, n_model) numpy.ndarray or None
        The rows of ``J`` (unweighted), where asked for.
    """

    dpred: np.ndarray
    gradients: dict | None = None
    jd: np.ndarray | None = None
    diagonal: np.ndarray | None = None
    rows: np.ndarray | None = None


class Evaluator(Protocol):
    """A forward code seen by the driver.

    One call is one forward pass (one factorisation per frequency): the
    products, gradients and diagonal it returns come from that pass.
    """

    def __call__(
        self,
        x: np.ndarray,
        *,
        directions: np.ndarray | None = None,
        gradients: bool = False,
        diagonal: bool = False,
    ) -> Evaluation: ...

    def diagonal_is_free(self, n_directions: int) -> bool:
        """Whether the diagonal comes at no extra cost with ``n_directions`` products."""
        ...

    # Optional: ``rows_affordable(n_model) -> bool`` and a ``rows=True``
    # keyword of ``__call__`` returning the rows of J; evaluators without
    # them are asked for products of directions only.


class Roughness(Protocol):
    """A model norm for the smoothing steps: value, gradient and Hessian products."""

    def value(self, x: np.ndarray) -> float: ...

    def gradient(self, x: np.ndarray) -> np.ndarray: ...

    def hessian_product(self, x: np.ndarray, directions: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Options:
    """How the driver iterates (the loop's settings; see :class:`simpeg_zo.ZohdyOldenburg`)."""

    max_iter: int = 30
    memory: int = 4
    max_log_step: float = float(np.log(10.0))
    max_line_search: int = 2
    shorten: float = 0.5
    stall_iterations: int = 3
    stall_tolerance: float = 0.02
    subspace: bool = True
    n_bands: int = 3
    windows: int = 6
    gradient_windows: int = 6
    gradient_smoothing: float = 0.3
    jacobi: bool = True
    subspace_memory: int = 6
    smoothing_steps: int = 3
    tail_stop: float | None = None
    static_shift: bool = False
    static_shift_prior: float = DEFAULT_SHIFT_PRIOR
    coverage: bool = False
    jacobian_rows: bool = True


@dataclass
class Problem:
    """The fixed parts of an inversion: soundings, correction settings, limits.

    Attributes
    ----------
    layout : SoundingLayout
    settings : CorrectionSettings
    options : Options
    gradient_smoother : list or None
        Row operators that smooth gradient directions on a tree mesh.
    target : float or None
        The misfit the iterations head for (known target), or None.
    roughness : Roughness or None
        Model norm of the smoothing steps.
    """

    layout: SoundingLayout
    settings: CorrectionSettings
    options: Options = field(default_factory=Options)
    gradient_smoother: list | None = None
    target: float | None = None
    roughness: Roughness | None = None
    rho_obs: np.ndarray = field(init=False)
    phase_obs: np.ndarray = field(init=False)
    coverage: np.ndarray | None = field(init=False)

    def __post_init__(self):
        self.rho_obs, self.phase_obs = sounding_state(self.layout, self.layout.dobs)
        # what the soundings see (:func:`simpeg_zo._iteration.data_coverage`)
        self.coverage = data_coverage(self.layout, self.start_depths()) if self.options.coverage else None

    def covered(self, values):
        """``values`` (a step, or directions as columns) weighted by the data coverage."""
        if self.coverage is None:
            return values
        values = np.asarray(values, dtype=float)
        return values * (self.coverage if values.ndim == 1 else self.coverage[:, None])

    # misfits ----------------------------------------------------------
    def shifted(self, dpred, shift):
        """``dpred`` with its apparent resistivities times ``exp(shift)``."""
        if not self.options.static_shift or shift is None:
            return dpred
        return shifted_response(self.layout, dpred, shift)

    def phi(self, dpred, shift=None) -> float:
        """Data misfit ``||W (d_obs - d)||^2`` (of the shifted response with static shifts)."""
        r = self.layout.residual(self.shifted(dpred, shift))
        value = float(r @ r)
        return value if np.isfinite(value) else np.inf

    def estimate_shift(self, dpred):
        """Per-sounding log static shifts estimated at ``dpred``."""
        layout = self.layout
        rho_calc, _ = sounding_state(layout, dpred)
        with np.errstate(all="ignore"):
            log_ratio = np.log(self.rho_obs / rho_calc)
        weight = np.where(layout.has_rho, layout.rho_weight, 0.0)
        shift, _ = estimate_static_shifts(
            log_ratio,
            weight,
            layout.station,
            layout.mode,
            layout.geometry.station_x.size,
            prior=self.options.static_shift_prior,
        )
        return shift

    def best_shift(self, dpred, candidates):
        """(phi, shift): the lowest misfit of ``dpred`` over the candidates and the shifts re-estimated there."""
        options = [c for c in candidates if c is not None]
        options.append(self.estimate_shift(dpred))
        phis = [self.phi(dpred, c) for c in options]
        k = int(np.argmin(phis))
        return phis[k], options[k]

    def start_depths(self):
        """Bostick depths of the observed soundings (phase-only ones from the mean resistivity)."""
        rho = self.rho_obs
        ok = np.isfinite(rho) & (rho > 0)
        depth = np.full(rho.size, np.nan)
        depth[ok] = bostick_depth(rho[ok], self.layout.frequency[ok])
        if not ok.all():
            fill = float(np.exp(np.mean(np.log(rho[ok])))) if ok.any() else 100.0
            depth[~ok] = bostick_depth(fill, self.layout.frequency[~ok])
        return depth

    def clean(self, D):
        """Directions without empty columns."""
        D = np.array(D, dtype=float, ndmin=2)
        return D[:, np.any(D != 0, axis=0)]

    def step_scale(self, step) -> float:
        """The factor (at most 1) that keeps ``step`` within ``max_log_step`` in every cell."""
        biggest = float(np.abs(step).max(initial=0.0))
        limit = self.options.max_log_step
        return limit / biggest if biggest > limit else 1.0

    def weighted(self, jd):
        """``W J D`` (non-finite entries zeroed)."""
        B = self.layout.weights[:, None] * np.asarray(jd, dtype=float)
        B[~np.isfinite(B)] = 0.0
        return B

    def directions(self, state, x, dpred, *, gradients, corrections=None):
        """Subspace directions at ``x`` (:func:`simpeg_zo._iteration.subspace_directions`)."""
        o = self.options
        D, new_depth = subspace_directions(
            self.layout,
            x,
            dpred,
            state.depth,
            self.rho_obs,
            self.phase_obs,
            self.settings,
            gradients=gradients,
            n_bands=o.n_bands,
            windows=o.windows,
            gradient_windows=o.gradient_windows,
            smoothing=o.gradient_smoothing,
            gradient_smoother=self.gradient_smoother,
            past_steps=state.past_steps,
            jtj_diagonal=state.diagonal if o.jacobi else None,
            corrections=corrections,
        )
        return self.clean(self.covered(D)), new_depth


@dataclass
class State:
    """Everything an iteration carries.

    Attributes
    ----------
    x, dpred, phi
        The current (best) model, its data and its misfit.
    depth : (n_soundings,) numpy.ndarray
        Depth at which each sounding corrects the model.
    iteration : int
        Accepted iterations.
    stage : str
        ``"zo"``, ``"subspace"``, ``"gradient"`` or ``"smoothing"``: the kind
        of the last accepted step (the one measured first next time).
    shift : numpy.ndarray or None
        Per-sounding log static shifts.
    damping : float
        Marquardt parameter of the subspace steps.
    secant : list of (x, dpred, step)
        The ZO corrections' multisecant memory.
    past_steps : list of numpy.ndarray
        Recent accepted steps (subspace directions).
    gains, previous_gain, measured_at : dict
        Per step kind, the last and the one before measured
        ``ln(phi / phi_trial)`` per forward pass, and the iteration of the
        last measurement.
    pending : tuple or None
        ``(D, jd)``: directions and their products taken at ``x``, or
        ``(None, rows)``: the rows of J at ``x``.
    gradients, diagonal
        Misfit gradients at ``x`` (None where not taken) and the latest
        ``J^T W^T W J`` diagonal.
    passes : int
        Forward passes so far (evaluator calls).
    stop_reason : str
    """

    x: np.ndarray
    dpred: np.ndarray
    phi: float
    depth: np.ndarray
    iteration: int = 0
    stage: str = "zo"
    shift: np.ndarray | None = None
    damping: float = 1e-2
    secant: list = field(default_factory=list)
    past_steps: list = field(default_factory=list)
    gains: dict = field(default_factory=dict)
    previous_gain: dict = field(default_factory=dict)
    measured_at: dict = field(default_factory=dict)
    pending: tuple | None = None
    gradients: dict | None = None
    diagonal: np.ndarray | None = None
    passes: int = 0
    smoothing_steps: int = 0
    stop_reason: str = ""
    phi_history: list = field(default_factory=list)


@dataclass
class Trial:
    """The best model a step measured.

    ``passes``: forward passes it cost. ``updates``: state fields to take on
    where it is accepted.
    """

    kind: str
    x: np.ndarray
    dpred: np.ndarray
    phi: float
    passes: int
    updates: dict = field(default_factory=dict)
