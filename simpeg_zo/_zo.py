r"""The Zohdy-Oldenburg update step, as pure functions on arrays.

Notation: sounding (station i, frequency j) with observed apparent
resistivity :math:`\rho_o`, computed :math:`\rho_c`, model resistivity
:math:`\rho_k` at the sounding's current depth :math:`D`, phases
:math:`\varphi_o, \varphi_c` folded into the first quadrant.

Resistivity (least-squares blend of Zohdy's ratio and Oldenburg's difference
methods, correction factor :math:`\alpha`, blend :math:`\gamma`):

.. math::

    \rho_{k+1} = \rho_k + \alpha (\rho_o - \rho_c) (\rho_k / \rho_c)^\gamma

so :math:`\gamma = 0` is Oldenburg's difference update and :math:`\gamma = 1`
with :math:`\alpha = 1` is Zohdy's ratio update
:math:`\rho_{k+1} = \rho_k \rho_o / \rho_c`.

With phase, the ratio is that of the phase-Bostick resistivities,
:math:`\ln\rho_{k+1} - \ln\rho_k = \alpha[\ln(\rho_o/\rho_c)
+ \ln(\pi/(2\varphi_o) - 1) - \ln(\pi/(2\varphi_c) - 1)]`, whose
linearisation is the paper's
:math:`-\alpha\pi(\varphi_o - \varphi_c)/(\varphi_c(\pi - 2\varphi_c))`
phase term.

Depth (Oldenburg's form, factor :math:`\beta`):
:math:`D_{k+1} = D_k + \beta (D_o - D_c)` with Bostick depths of the observed
and computed apparent resistivities.

Each sounding's log-correction is spread to the mesh by a Gaussian-weighted
least-squares mean in log-depth under its station, then linearly between
stations (:func:`project_to_cells`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._bostick import bostick_depth, bostick_resistivity_phase

__all__ = [
    "resistivity_update",
    "phase_log_correction",
    "depth_update",
    "ColumnGeometry",
    "project_to_cells",
    "depth_scaled_smoothing",
    "depth_scaled_smoother",
    "apply_smoother",
    "grid_rows",
    "level_rows",
    "row_smoother",
    "sample_columns",
    "secant_mix",
    "frequency_median",
]

#: A step never shrinks a resistivity below this fraction of its value
#: (Oldenburg's difference update can otherwise cross zero).
MIN_RATIO = 1e-2


def resistivity_update(
    rho_model: ArrayLike,
    rho_obs: ArrayLike,
    rho_calc: ArrayLike,
    *,
    alpha: float = 1.0,
    gamma: float = 1.0,
) -> NDArray[np.float64]:
    """Zohdy-Oldenburg resistivity update of one or many soundings.

    Parameters
    ----------
    rho_model : numpy.ndarray
        Model resistivity at each sounding's depth (ohm-m).
    rho_obs, rho_calc : numpy.ndarray
        Observed and computed apparent resistivity (ohm-m).
    alpha : float
        Correction factor (step length), > 0.
    gamma : float
        Blend: 0 is Oldenburg's difference update, 1 Zohdy's ratio update.

    Returns
    -------
    numpy.ndarray
        Updated model resistivity, at least ``1e-2`` times ``rho_model``.

    Examples
    --------
    >>> float(resistivity_update(50.0, 120.0, 100.0, alpha=1.0, gamma=1.0))
    60.0
    >>> float(resistivity_update(50.0, 120.0, 100.0, alpha=1.0, gamma=0.0))
    70.0
    """
    rho_model = np.asarray(rho_model, dtype=float)
    rho_obs = np.asarray(rho_obs, dtype=float)
    rho_calc = np.asarray(rho_calc, dtype=float)
    new = rho_model + alpha * (rho_obs - rho_calc) * (rho_model / rho_calc) ** gamma
    return np.maximum(new, MIN_RATIO * rho_model)


def phase_log_correction(phase_obs: ArrayLike, phase_calc: ArrayLike, *, alpha: float = 1.0) -> NDArray[np.float64]:
    """Phase term of the log-resistivity update.

    The log-ratio of the phase factors of the phase-Bostick resistivities of
    the observed and computed data (exact; its small-difference limit is
    ``-alpha pi (phi_o - phi_c) / (phi_c (pi - 2 phi_c))``).

    Parameters
    ----------
    phase_obs, phase_calc : numpy.ndarray
        First-quadrant phases in radians.
    alpha : float
        Correction factor.

    Returns
    -------
    numpy.ndarray
        Correction of ``ln(rho)``.
    """
    factor_obs = bostick_resistivity_phase(1.0, phase_obs)
    factor_calc = bostick_resistivity_phase(1.0, phase_calc)
    return alpha * (np.log(factor_obs) - np.log(factor_calc))


def depth_update(
    depth: ArrayLike, rho_obs: ArrayLike, rho_calc: ArrayLike, frequency: ArrayLike, *, beta: float = 0.5
) -> NDArray[np.float64]:
    """Oldenburg's depth update ``D + beta (D_o - D_c)``.

    Parameters
    ----------
    depth : numpy.ndarray
        Current depth of each sounding (m).
    rho_obs, rho_calc : numpy.ndarray
        Observed and computed apparent resistivity (ohm-m).
    frequency : numpy.ndarray
        Frequency of each sounding (Hz).
    beta : float
        Depth correction factor.

    Returns
    -------
    numpy.ndarray
        New depths, kept positive (at least a tenth of the old depth).
    """
    d_obs = bostick_depth(rho_obs, frequency)
    d_calc = bostick_depth(rho_calc, frequency)
    depth = np.asarray(depth, dtype=float)
    return np.maximum(depth + beta * (d_obs - d_calc), 0.1 * depth)


@dataclass(frozen=True)
class ColumnGeometry:
    """Where model cells lie relative to the stations.

    Attributes
    ----------
    station_x : (n_stations,) numpy.ndarray
        Station positions (m), increasing.
    cell_x : (n_cells,) numpy.ndarray
        Cell-centre positions of the model cells.
    cell_depth : (n_cells,) numpy.ndarray
        Depth of the cell centres below the local surface (m), > 0.
    column_cells : tuple of numpy.ndarray
        Per station, the model-cell indices of the mesh column under it,
        shallowest first.
    """

    station_x: np.ndarray
    cell_x: np.ndarray
    cell_depth: np.ndarray
    column_cells: tuple

    def lateral(self):
        """Left/right station indices and the weight of the right one."""
        x = self.station_x
        if x.size == 1:
            zeros = np.zeros(self.cell_x.size, dtype=int)
            return zeros, zeros, np.zeros(self.cell_x.size)
        right = np.clip(np.searchsorted(x, self.cell_x), 1, x.size - 1)
        left = right - 1
        t = np.clip((self.cell_x - x[left]) / (x[right] - x[left]), 0.0, 1.0)
        return left, right, t


def _station_profiles(values, log_depth, weights, station, n_stations):
    """Pad soundings into per-station rows."""
    counts = np.bincount(station, minlength=n_stations)
    width = max(int(counts.max()), 1)
    order = np.argsort(station, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    slot = np.arange(station.size) - np.repeat(starts, counts)
    v = np.zeros((n_stations, width))
    ld = np.zeros((n_stations, width))
    w = np.zeros((n_stations, width))
    rows = station[order]
    v[rows, slot] = values[order]
    ld[rows, slot] = log_depth[order]
    w[rows, slot] = weights[order]
    return v, ld, w


def frequency_median(values, station, mode, frequency, half_width):
    """Running median over frequency of a correction profile.

    Each sounding's value is replaced by the median over the soundings of
    the same station and mode within ``half_width`` decades of its frequency.

    A robust version of a correction profile: an apparent-resistivity or
    phase curve of a 1D or 2D earth changes smoothly with frequency, so a
    correction that jumps at one or two frequencies of a station (noise,
    cultural interference) is not structure; as the median of its
    neighbours it no longer drives a column under that station. The window
    holds as many soundings on either side as the fuller side has within
    ``half_width``; at the ends of the band it keeps that length and moves
    inward, so an outlier at the lowest (often noisiest) frequency is
    outvoted too. Where the frequencies are sparser than ``half_width`` each
    value is its own median.

    Parameters
    ----------
    values : (n,) numpy.ndarray
    station : (n,) numpy.ndarray of int
    mode : (n,) numpy.ndarray
    frequency : (n,) numpy.ndarray
        Hz, > 0.
    half_width : float
        Half width of the window in decades of frequency (0: unchanged).

    Returns
    -------
    (n,) numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> f = np.logspace(0, -1, 6)
    >>> frequency_median(np.array([0.0, 0, 0, 3, 0, 0]), np.zeros(6, int), np.array(["TE"] * 6), f, 0.2)
    array([0., 0., 0., 0., 0., 0.])
    """
    values = np.asarray(values, dtype=float)
    if half_width <= 0 or values.size == 0:
        return values.copy()
    out = values.copy()
    logf = np.log10(np.asarray(frequency, dtype=float))
    station = np.asarray(station)
    mode = np.asarray(mode)
    _, group = np.unique(np.stack([station.astype(str), mode.astype(str)]), axis=1, return_inverse=True)
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        order = idx[np.argsort(logf[idx])]
        lf = logf[order]
        n = lf.size
        lo = np.searchsorted(lf, lf - half_width - 1e-9, side="left")
        hi = np.searchsorted(lf, lf + half_width + 1e-9, side="right")
        # as many soundings on either side as the fuller side holds; at the
        # band's ends the window keeps its length and moves inward, so an
        # outlier at the lowest or highest frequency is outvoted too
        i = np.arange(n)
        m = np.maximum(i - lo, hi - 1 - i)
        a = np.clip(i - m, 0, None)
        b = np.minimum(i + m + 1, n)
        a = np.where(b == n, np.maximum(n - (2 * m + 1), 0), a)
        b = np.where(a == 0, np.minimum(2 * m + 1, n), b)
        out[order] = [np.median(values[order[j:k]]) for j, k in zip(a, b, strict=True)]
    return out


def project_to_cells(values, depths, station, geometry, *, weights=None, width=0.25):
    """Spread sounding values onto the model cells.

    Under each station, a cell takes the weighted least-squares mean of the
    soundings around its depth (Gaussian weights in log-depth of standard
    deviation ``width``, times ``weights``); above the shallowest and below
    the deepest sounding it keeps their values. Between stations values are
    interpolated linearly in x; beyond the end stations they are constant.

    Parameters
    ----------
    values : (n_soundings,) numpy.ndarray
        Value of each sounding (e.g. a log-resistivity correction).
    depths : (n_soundings,) numpy.ndarray
        Depth of each sounding (m), > 0.
    station : (n_soundings,) numpy.ndarray of int
        Station index of each sounding.
    geometry : ColumnGeometry
    weights : (n_soundings,) numpy.ndarray, optional
        Non-negative weights (e.g. inverse variances); default ones.
    width : float
        Gaussian width in natural-log depth.

    Returns
    -------
    (n_cells,) numpy.ndarray
    """
    values = np.asarray(values, dtype=float)
    station = np.asarray(station, dtype=int)
    if weights is None:
        weights = np.ones_like(values)
    n_st = geometry.station_x.size
    v, ld, w = _station_profiles(values, np.log(np.maximum(depths, 1e-3)), np.asarray(weights, float), station, n_st)
    has = w.sum(axis=1) > 0
    if not has.any():
        return np.zeros(geometry.cell_x.size)
    # stations without soundings borrow from the nearest station that has some
    if not has.all():
        idx = np.flatnonzero(has)
        nearest = idx[np.abs(np.arange(n_st)[:, None] - idx[None, :]).argmin(axis=1)]
        v, ld, w = v[nearest], ld[nearest], w[nearest]
    log_cell = np.log(np.maximum(geometry.cell_depth, 1e-3))
    left, right, t = geometry.lateral()
    out = np.zeros(geometry.cell_x.size)
    for side, share in ((left, 1.0 - t), (right, t)):
        z = (log_cell[:, None] - ld[side]) / width
        logk = np.where(w[side] > 0, -0.5 * z**2, -np.inf)
        logk -= logk.max(axis=1, keepdims=True)
        k = w[side] * np.exp(logk)
        out += share * (k * v[side]).sum(axis=1) / k.sum(axis=1)
    return out


def grid_rows(shape, active):
    """Active-cell indices of each row of a tensor mesh, by increasing x.

    Parameters
    ----------
    shape : (2,) tuple of int
        ``mesh.shape_cells`` (nx, nz).
    active : (n_cells,) numpy.ndarray of bool

    Returns
    -------
    list of numpy.ndarray
        One array of model-cell (active-cell) indices per mesh row, bottom
        row first; rows without active cells are left out.
    """
    nx, nz = shape
    n_active = int(np.count_nonzero(active))
    index = np.full(nx * nz, -1)
    index[np.flatnonzero(active)] = np.arange(n_active)
    index = index.reshape((nx, nz), order="F")
    rows = [index[:, j][index[:, j] >= 0] for j in range(nz)]
    return [r for r in rows if r.size]


def level_rows(cell_x, cell_z, decimals=6):
    """Model cells grouped by the elevation of their centres, by increasing x.

    The rows of any 2D mesh: on a tensor mesh they are its rows (as
    :func:`grid_rows`); on a tree mesh, the cells of one size at one
    height.

    Parameters
    ----------
    cell_x, cell_z : (n_active,) numpy.ndarray
        Cell-centre coordinates of the model cells.

    Returns
    -------
    list of numpy.ndarray
    """
    z = np.round(np.asarray(cell_z, dtype=float), decimals)
    order = np.lexsort((np.asarray(cell_x, dtype=float), z))
    _, starts = np.unique(z[order], return_index=True)
    return list(np.split(order, starts[1:]))


def row_smoother(rows, cell_x, widths):
    """Row operators of a lateral Gaussian smoothing.

    Parameters
    ----------
    rows : list of numpy.ndarray
        Model-cell indices per row (:func:`grid_rows`, :func:`level_rows`).
    cell_x : (n_active,) numpy.ndarray
    widths : sequence of float
        Gaussian standard deviation (m) of each row; rows with a width
        below their smallest cell spacing are left out (unchanged).

    Returns
    -------
    list of (cells, kernel)
        For :func:`apply_smoother`.
    """
    out = []
    for cells, sigma in zip(rows, widths, strict=True):
        if cells.size < 2:
            continue
        x = cell_x[cells]
        if not sigma > 0 or sigma < np.min(np.diff(np.sort(x))):
            continue
        k = np.exp(-0.5 * ((x[:, None] - x[None, :]) / sigma) ** 2)
        out.append((cells, k / k.sum(axis=1, keepdims=True)))
    return out


def depth_scaled_smoother(geometry, shape, active, ratio, *, rows=None):
    """The row operators of :func:`depth_scaled_smoothing`.

    Built once for a mesh and applied to many value sets
    (:func:`apply_smoother`).

    Parameters
    ----------
    rows : list of numpy.ndarray, optional
        The mesh's rows (:func:`level_rows`) where it is not a tensor mesh;
        ``shape`` is then not used.

    Returns
    -------
    list of (cells, kernel)
        Per mesh row that is smoothed: its active-cell indices and the
        row-normalised Gaussian weights between them.
    """
    if ratio <= 0:
        return []
    if rows is None:
        rows = grid_rows(shape, active)
    widths = [ratio * float(np.median(geometry.cell_depth[cells])) for cells in rows]
    return row_smoother(rows, geometry.cell_x, widths)


def apply_smoother(values, rows):
    """Apply the row operators of :func:`depth_scaled_smoother`."""
    out = np.array(values, dtype=float)
    for cells, kernel in rows:
        out[cells] = kernel @ out[cells]
    return out


def depth_scaled_smoothing(values, geometry, shape, active, ratio):
    """Lateral Gaussian smoothing whose width grows with depth.

    Along each row of the mesh, values are averaged with Gaussian weights of
    standard deviation ``ratio`` times the row's depth below the surface
    (median over its cells), in metres along x: a sounding resolves lateral
    structure only on the scale of its depth, so a correction at depth is
    shared with the neighbouring columns instead of standing under one
    station. Near the surface (widths below a cell) values are unchanged.

    Parameters
    ----------
    values : (n_active,) numpy.ndarray
    geometry : ColumnGeometry
        Its ``cell_x`` and ``cell_depth`` (active cells).
    shape : (2,) tuple of int
        ``mesh.shape_cells`` (nx, nz).
    active : (n_cells,) numpy.ndarray of bool
    ratio : float
        Width over depth; 0 returns the values unchanged.

    Returns
    -------
    (n_active,) numpy.ndarray
    """
    return apply_smoother(values, depth_scaled_smoother(geometry, shape, active, ratio))


def sample_columns(cell_values, depths, station, geometry):
    """Values of a cell model at sounding depths under their stations.

    Linear interpolation in log-depth along the mesh column under the
    station, constant beyond the column's ends.

    Parameters
    ----------
    cell_values : (n_cells,) numpy.ndarray
    depths : (n_soundings,) numpy.ndarray
    station : (n_soundings,) numpy.ndarray of int
    geometry : ColumnGeometry

    Returns
    -------
    (n_soundings,) numpy.ndarray
    """
    out = np.empty(np.size(depths))
    log_d = np.log(np.maximum(depths, 1e-3))
    for i, cells in enumerate(geometry.column_cells):
        sel = station == i
        if not sel.any():
            continue
        cd = np.log(np.maximum(geometry.cell_depth[cells], 1e-3))
        out[sel] = np.interp(log_d[sel], cd, cell_values[cells])
    return out


def secant_mix(models, residuals, corrections, *, regularization=1e-6):
    r"""Mix recent iterates by a multisecant (Anderson) step in data space.

    With iterates :math:`m_i`, weighted data residuals
    :math:`r_i = W(d_{obs} - d(m_i))` and their Zohdy-Oldenburg corrections
    :math:`\delta_i`, the differences :math:`\Delta M, \Delta R, \Delta
    \Delta` give a secant model of the forward map. The coefficients
    :math:`\theta = \arg\min \|r_k - \Delta R\,\theta\|` remove the part
    of the residual that the previous steps can explain; the new model is

    .. math:: m = (m_k - \Delta M\,\theta) + (\delta_k - \Delta\Delta\,\theta)

    (Anderson type II with the residual measured in data space, so the mix
    minimises the linearised misfit of all modes at once). Needs only the
    forward responses already computed.

    Parameters
    ----------
    models : list of (n,) numpy.ndarray
        Iterates, oldest first (at least one).
    residuals : list of (n_data,) numpy.ndarray
        Weighted data residuals of the iterates.
    corrections : list of (n,) numpy.ndarray
        Zohdy-Oldenburg corrections computed at the iterates.
    regularization : float
        Relative Tikhonov damping of the small least-squares problem.

    Returns
    -------
    model : (n,) numpy.ndarray
        The mixed next iterate.
    theta : (k,) numpy.ndarray
        The mixing coefficients (empty for a single iterate).
    """
    m_k, r_k, d_k = models[-1], residuals[-1], corrections[-1]
    if len(models) < 2:
        return m_k + d_k, np.zeros(0)
    dM = np.diff(np.asarray(models), axis=0).T
    dR = np.diff(np.asarray(residuals), axis=0).T
    dD = np.diff(np.asarray(corrections), axis=0).T
    gram = dR.T @ dR
    damp = regularization * np.trace(gram) / gram.shape[0] + 1e-300
    theta = np.linalg.solve(gram + damp * np.eye(gram.shape[0]), dR.T @ r_k)
    return (m_k - dM @ theta) + (d_k - dD @ theta), theta
