"""The SimPEG-free parts of a Zohdy-Oldenburg iteration.

Pure functions of a :class:`~simpeg_zo._layout.SoundingLayout` (a dataclass
of arrays), a model vector and predicted data: the ZO correction, the
directions of a subspace step, static shifts applied to a response, the
frequency bands and the stagnation rule. :class:`simpeg_zo.ZohdyOldenburg`
calls them between forward solves; they are tested without SimPEG.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._soundings import GROUPS_PER_BAND, SoundingLayout, sounding_state
from ._subspace import gradient_direction, lateral_windows
from ._zo import (
    apply_smoother,
    depth_update,
    frequency_median,
    phase_log_correction,
    project_to_cells,
    resistivity_update,
    sample_columns,
)

#: Stagnation near a target: the misfit fell by less than this part of its
#: distance to the target over the stall window.
GAP_TOLERANCE = 0.1

#: Jacobi-scaled gradient directions divide by ``diag(J^T W^T W J)`` plus
#: this part of its largest value (cells the data do not sense stay bounded).
JACOBI_FLOOR = 1e-3

__all__ = [
    "CorrectionSettings",
    "zo_correction",
    "subspace_directions",
    "shifted_response",
    "frequency_bands",
    "station_spacing",
    "stalled",
    "data_coverage",
]

#: Below its depth of investigation a cell's corrections fade over this
#: width in natural-log depth (about 40 % of the depth).
COVERAGE_DEPTH_WIDTH = 0.4

#: The smallest coverage weight: no cell is frozen outright (a step scaled
#: by positive weights still descends where the data ask).
COVERAGE_FLOOR = 1e-3


@dataclass(frozen=True)
class CorrectionSettings:
    """How a ZO correction is formed (see :class:`simpeg_zo.ZohdyOldenburg`).

    Attributes
    ----------
    alpha, gamma, beta : float
        Correction factor, Zohdy/Oldenburg blend, depth factor.
    use_phase : bool
        Add the phase term to soundings that have an apparent resistivity.
    max_log_step : float
        Largest change of a sounding's log resistivity.
    frequency_window : float
        Half-width (decades) of the running median over frequency; 0: none.
    width : float
        Vertical smoothing (natural-log depth) of the projection to cells.
    smoother : list of (cells, kernel)
        Lateral row operators applied to the cell correction
        (:func:`simpeg_zo._zo.depth_scaled_smoother`); empty: none.
    """

    alpha: float = 1.0
    gamma: float = 1.0
    beta: float = 0.5
    use_phase: bool = False
    max_log_step: float = float(np.log(10.0))
    frequency_window: float = 0.0
    width: float = 0.1
    smoother: list = field(default_factory=list)


def zo_correction(
    layout: SoundingLayout,
    x: np.ndarray,
    dpred: np.ndarray,
    depth: np.ndarray,
    rho_obs: np.ndarray,
    phase_obs: np.ndarray,
    settings: CorrectionSettings,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Zohdy-Oldenburg model step at ``x`` and the updated sounding depths.

    Parameters
    ----------
    layout : SoundingLayout
    x : (n_active,) numpy.ndarray
        Model (log conductivity, or log resistivity where
        ``layout.log_sigma_sign`` is -1).
    dpred : (n_data,) numpy.ndarray
        Predicted data of ``x`` (stacked as ``layout.dobs``).
    depth : (n_soundings,) numpy.ndarray
        Current depth of every sounding (m).
    rho_obs, phase_obs : (n_soundings,) numpy.ndarray
        Observed apparent resistivity and folded phase
        (:func:`simpeg_zo._layout.sounding_state`).
    settings : CorrectionSettings
    mask : (n_soundings,) numpy.ndarray of bool, optional
        Only these soundings correct the model.

    Returns
    -------
    step : (n_active,) numpy.ndarray
        Model step (in the model's own variable).
    new_depth : (n_soundings,) numpy.ndarray
    """
    s = settings
    geom = layout.geometry
    sign = layout.log_sigma_sign
    log_rho_cells = -sign * np.asarray(x, dtype=float)
    rho_calc, phase_calc = sounding_state(layout, dpred)
    has_rho = layout.has_rho
    delta = np.zeros(layout.rho_index.size)
    if has_rho.any():
        rho_model = np.exp(sample_columns(log_rho_cells, depth[has_rho], layout.station[has_rho], geom))
        new = resistivity_update(rho_model, rho_obs[has_rho], rho_calc[has_rho], alpha=s.alpha, gamma=s.gamma)
        delta[has_rho] = np.log(new / rho_model)
    use_ph = layout.has_phase.copy()
    if not s.use_phase:
        use_ph &= ~has_rho  # phase-only soundings always use their phase
    if use_ph.any():
        delta[use_ph] += phase_log_correction(phase_obs[use_ph], phase_calc[use_ph], alpha=s.alpha)
    delta = np.clip(delta, -s.max_log_step, s.max_log_step)
    if s.frequency_window > 0:
        delta = frequency_median(delta, layout.station, layout.mode, layout.frequency, s.frequency_window)
    weights = layout.rho_weight if mask is None else np.where(mask, layout.rho_weight, 0.0)
    cells = project_to_cells(delta, depth, layout.station, geom, weights=weights, width=s.width)
    cells = apply_smoother(cells, s.smoother)
    new_depth = np.array(depth, dtype=float, copy=True)
    if s.beta > 0 and has_rho.any():
        new_depth[has_rho] = depth_update(
            depth[has_rho], rho_obs[has_rho], rho_calc[has_rho], layout.frequency[has_rho], beta=s.beta
        )
    return -sign * cells, new_depth


def frequency_bands(frequency, n_bands: int) -> np.ndarray:
    """Frequency band (0 .. n_bands - 1, equal widths in log f) of each value.

    Examples
    --------
    >>> frequency_bands([1000.0, 100.0, 10.0, 1.0], 3).tolist()
    [2, 2, 1, 0]
    """
    logf = np.log10(np.asarray(frequency, dtype=float))
    lo, hi = logf.min(), logf.max()
    if hi - lo < 1e-9 or n_bands <= 1:
        return np.zeros(logf.size, dtype=int)
    return np.minimum(((logf - lo) / (hi - lo) * n_bands).astype(int), n_bands - 1)


def station_spacing(layout: SoundingLayout) -> float:
    """Median station spacing (m); the smallest cell-centre spacing for one station."""
    x = layout.geometry.station_x
    if x.size > 1:
        return float(np.median(np.diff(x)))
    cell_dx = np.diff(np.unique(np.round(layout.geometry.cell_x, 6)))
    return float(np.min(cell_dx)) if cell_dx.size else 1.0


def gradient_sigma(layout: SoundingLayout) -> tuple[float, float]:
    """Smoothing widths (cells) of gradient directions on a tensor mesh.

    Half a station spacing across, two cells in depth.
    """
    cell_dx = np.diff(np.unique(np.round(layout.geometry.cell_x, 6)))
    dx = float(np.min(cell_dx)) if cell_dx.size else 1.0
    return (max(0.5 * station_spacing(layout) / dx, 0.5), 2.0)


def subspace_directions(
    layout: SoundingLayout,
    x: np.ndarray,
    dpred: np.ndarray,
    depth: np.ndarray,
    rho_obs: np.ndarray,
    phase_obs: np.ndarray,
    settings: CorrectionSettings,
    *,
    gradients: dict | None = None,
    n_bands: int = 3,
    windows: int = 6,
    gradient_windows: int = 6,
    smoothing: float = 0.3,
    gradient_smoother: list | None = None,
    past_steps: tuple | list = (),
    jtj_diagonal: np.ndarray | None = None,
    corrections: tuple[list, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Directions of a subspace step built at ``x``.

    The ZO correction of all data; that of each mode and frequency band in
    ``windows`` lateral windows; the smoothed misfit gradient of each data
    group (``gradients``, labelled ``2 * mode + component + 4 * band``);
    each mode's whole gradient in ``gradient_windows`` lateral windows; the
    ``past_steps``. With ``jtj_diagonal`` (the diagonal of ``J^T W^T W J``
    at some model), the gradients also enter divided by it (Jacobi-scaled,
    as Gauss-Newton's preconditioned conjugate gradients scale them),
    which reaches the deep and poorly sensed cells that plain gradients
    leave alone.

    ``corrections``: the result of :func:`correction_directions` at the
    same model and settings, where it was already taken (it is not taken
    again).

    Returns
    -------
    directions : (n_active, k) numpy.ndarray
    new_depth : (n_soundings,) numpy.ndarray
        The depths the joint correction moves to.
    """
    if corrections is None:
        corrections = correction_directions(
            layout, x, dpred, depth, rho_obs, phase_obs, settings, n_bands=n_bands, windows=windows
        )
    directions, new_depth = list(corrections[0]), corrections[1]
    directions += misfit_gradient_directions(
        layout,
        gradients,
        gradient_windows=gradient_windows,
        smoothing=smoothing,
        gradient_smoother=gradient_smoother,
        jtj_diagonal=jtj_diagonal,
    )
    directions.extend(past_steps)
    return np.column_stack(directions), new_depth


def correction_directions(
    layout: SoundingLayout,
    x: np.ndarray,
    dpred: np.ndarray,
    depth: np.ndarray,
    rho_obs: np.ndarray,
    phase_obs: np.ndarray,
    settings: CorrectionSettings,
    *,
    n_bands: int = 3,
    windows: int = 6,
) -> tuple[list, np.ndarray]:
    """The ZO-correction part of :func:`subspace_directions`.

    Returns the columns (the correction of all data, then that of each mode
    and frequency band in ``windows`` lateral windows) and the depths the
    joint correction moves to.
    """
    step, new_depth = zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, settings)
    directions = [step]
    # each mode's and each frequency band's correction on its own, in a few
    # lateral windows: they move the model at different depths and places,
    # and disagree where the joint correction stalls
    geom = layout.geometry
    hats = lateral_windows(geom.cell_x, geom.station_x, windows)
    band = frequency_bands(layout.frequency, n_bands)
    for mode in np.unique(layout.mode):
        for b in np.unique(band):
            mask = (layout.mode == mode) & (band == b)
            if mask.any():
                corr = zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, settings, mask=mask)[0]
                directions.extend((corr[:, None] * hats).T)
    return directions, new_depth


def misfit_gradient_directions(
    layout: SoundingLayout,
    gradients: dict | None,
    *,
    gradient_windows: int = 6,
    smoothing: float = 0.3,
    gradient_smoother: list | None = None,
    jtj_diagonal: np.ndarray | None = None,
) -> list:
    """The misfit-gradient part of :func:`subspace_directions` (a list of columns)."""
    geom = layout.geometry
    sigma = tuple(smoothing * v for v in gradient_sigma(layout)) if layout.grid_shape else (0.0, 0.0)
    gradients = gradients or {}
    directions = []

    scales = [layout.cell_volume]
    if jtj_diagonal is not None:
        d = np.asarray(jtj_diagonal, dtype=float)
        if d.shape == layout.cell_volume.shape and np.isfinite(d).all() and d.max() > 0:
            scales.append(d + JACOBI_FLOOR * d.max())

    for scale in scales:

        def direction(gradient, scale=scale):
            return gradient_direction(
                gradient, scale, layout.grid_shape, layout.active, sigma, smoother=gradient_smoother
            )

        for label in sorted(gradients):
            directions.append(direction(gradients[label]))
        if gradient_windows > 1 and gradients:
            # each mode's whole misfit gradient, in lateral windows
            hats = lateral_windows(geom.cell_x, geom.station_x, gradient_windows)
            for mode in (0, 1, 2):
                parts = [gradients[label] for label in gradients if (label % GROUPS_PER_BAND) // 2 == mode]
                if parts:
                    directions.extend((direction(np.sum(parts, axis=0))[:, None] * hats).T)
    return directions


def shifted_response(layout: SoundingLayout, dpred: np.ndarray, shift: np.ndarray | None) -> np.ndarray:
    """``dpred`` with each sounding's apparent resistivity times ``exp(shift)``.

    Impedance soundings (``real``/``imag`` receivers) take half the log
    shift on both parts (``rho_a ~ |Z|^2``); phases are untouched.
    """
    if shift is None:
        return dpred
    has = layout.rho_index >= 0
    out = np.array(dpred, dtype=float, copy=True)
    out[layout.rho_index[has]] *= np.exp(shift[has])
    z = layout.impedance & ~has
    if z.any():
        for index in (layout.real_index, layout.imag_index):
            out[index[z]] *= np.exp(0.5 * shift[z])
    return out


def stalled(phi_history, iterations: int, tolerance: float, *, target: float | None = None) -> bool:
    """Whether the misfit has stopped improving.

    Over the last ``iterations`` accepted iterations it fell by less than
    ``tolerance`` (relative) and, with a ``target`` misfit, by less than a
    tenth of its distance to the target: near the target a small relative
    decrease is still a large part of what is left.

    Examples
    --------
    >>> stalled([100.0, 50.0, 49.8, 49.6, 49.5], 3, 0.02)
    True
    >>> stalled([100.0, 50.0, 40.0, 30.0], 3, 0.02)
    False
    >>> stalled([100.0, 102.7, 101.6, 101.3, 100.7], 3, 0.02, target=100.0)
    False
    """
    k = iterations
    if k <= 0 or len(phi_history) <= k:
        return False
    old, new = phi_history[-k - 1], phi_history[-1]
    slow = (old - new) < tolerance * old
    if slow and target is not None and old > target:
        slow = (old - new) < GAP_TOLERANCE * (old - target)
    return slow


def data_coverage(layout: SoundingLayout, depth: np.ndarray) -> np.ndarray:
    """How far the soundings see each cell: weights in (0, 1] for the corrections and directions.

    Laterally, a sounding at depth ``z`` resolves structure on the scale of
    ``z``: a cell at horizontal distance ``dx`` from the nearest station gets
    ``exp(-(dx / L)^2 / 2)`` with ``L`` the larger of its depth and half the
    median station spacing, so cells under a station gap much wider than
    their depth (or beyond the ends of the profile) keep the start model.
    In depth, below the depth of investigation (the deepest sounding depth,
    interpolated between stations) the weight falls as a Gaussian in log
    depth of width :data:`COVERAGE_DEPTH_WIDTH`. Never below
    :data:`COVERAGE_FLOOR`.

    Parameters
    ----------
    layout : SoundingLayout
    depth : (n_soundings,) numpy.ndarray
        Sounding depths (e.g. the Bostick depths of the observed data).

    Returns
    -------
    (n_cells,) numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from simpeg_zo._zo import ColumnGeometry
    >>> geometry = ColumnGeometry(
    ...     station_x=np.array([0.0, 1000.0]),
    ...     cell_x=np.array([0.0, 500.0, 0.0]),
    ...     cell_depth=np.array([100.0, 100.0, 4000.0]),
    ...     column_cells=(),
    ... )
    >>> from types import SimpleNamespace
    >>> layout = SimpleNamespace(geometry=geometry, station=np.array([0, 1]))
    >>> np.round(data_coverage(layout, np.array([2000.0, 2000.0])), 3).tolist()
    [1.0, 0.607, 0.223]
    """
    geom = layout.geometry
    x = np.asarray(geom.station_x, dtype=float)
    cx = np.asarray(geom.cell_x, dtype=float)
    cz = np.maximum(np.asarray(geom.cell_depth, dtype=float), 1e-3)
    depth = np.asarray(depth, dtype=float)
    doi = np.array(
        [
            np.nanmax(depth[layout.station == s]) if np.any(np.isfinite(depth[layout.station == s])) else np.nan
            for s in range(x.size)
        ]
    )
    if not np.any(np.isfinite(doi)):
        return np.ones(cx.size)
    doi = np.where(np.isfinite(doi), doi, np.nanmedian(doi))
    nearest = np.abs(cx[:, None] - x[None, :]).min(axis=1)
    spacing = float(np.median(np.diff(x))) if x.size > 1 else 0.0
    reach = np.maximum(cz, 0.5 * spacing)
    lateral = np.exp(-0.5 * (nearest / reach) ** 2)
    doi_cell = np.interp(cx, x, doi) if x.size > 1 else np.full(cx.size, doi[0])
    below = np.log(np.maximum(cz / doi_cell, 1.0))
    vertical = np.exp(-0.5 * (below / COVERAGE_DEPTH_WIDTH) ** 2)
    return np.maximum(lateral * vertical, COVERAGE_FLOOR)
