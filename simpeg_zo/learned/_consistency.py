"""How much of a network's correction the observed soundings support, judged in 1D.

A survey-neutral network corrects the Bostick section of the data it reads
(:mod:`simpeg_zo.learned._normalised`). Where the data lie outside what it
was trained on (field data: distortion, noise, geology unlike the training
families) the correction can move the section away from the data. Without
a 2D forward solve, each model along ``base + s (network - base)`` is
checked against the observed soundings through the 1D response of the mesh
column under each sounding's station (the layered-earth impedance
recursion, :func:`simpeg_zo._bostick.layered_impedance`), and each station
keeps the ``s`` of the lowest 1D misfit of its soundings (cells between
stations take a scale linear in position).

1D responses of a 2D section are not its 2D responses, but they are
cheap (tens of milliseconds for a profile) and they rank the candidates
much as the 2D misfit does: on held-out synthetic sections the scaled
correction fits at least as well as the whole one in nine cases out of
ten.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._bostick import MU0, layered_impedance
from .._layout import SoundingLayout, sounding_state

__all__ = ["CORRECTION_SCALES", "column_responses", "correction_scale", "scaled_correction"]

#: Scales of the network's correction that :func:`correction_scale` compares.
CORRECTION_SCALES = tuple(np.linspace(0.0, 1.0, 9))


def _columns(layout: SoundingLayout):
    """Per station: its column's cells (shallowest first, as the geometry holds them) and layer thicknesses."""
    geo = layout.geometry
    columns = []
    for cells in geo.column_cells:
        cells = np.asarray(cells)
        depth = geo.cell_depth[cells]
        # layer boundaries halfway between the cell centres
        h = np.diff(np.r_[0.0, 0.5 * (depth[1:] + depth[:-1])]) if depth.size > 1 else np.zeros(0)
        columns.append((cells, np.maximum(h, 0.0)))
    return columns


def column_responses(
    layout: SoundingLayout, log_resistivity: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """1D apparent resistivity and phase of each sounding from its station's mesh column.

    Parameters
    ----------
    layout : SoundingLayout
    log_resistivity : (n_active,) or (n_models, n_active) array_like
        Natural log of resistivity per active cell (several models at once).

    Returns
    -------
    rho, phase : (n_soundings,) or (n_models, n_soundings) numpy.ndarray
        Apparent resistivity (ohm-m) and phase (radians, first quadrant).
    """
    x = np.asarray(log_resistivity, dtype=float)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    columns = _columns(layout)
    n_layers = max((c.size for c, _ in columns), default=1)
    station = np.asarray(layout.station)
    # every column padded to the deepest one with zero-thickness layers
    index = np.zeros((len(columns), n_layers), dtype=int)
    thick = np.zeros((len(columns), max(n_layers - 1, 0)))
    for i, (cells, h) in enumerate(columns):
        if cells.size == 0:
            continue
        index[i, : cells.size] = cells
        index[i, cells.size :] = cells[-1]
        thick[i, : h.size] = h
    frequency = np.asarray(layout.frequency, dtype=float)
    # one 1D response per station and frequency (TE and TM share it)
    pairs, inverse = np.unique(np.c_[station, frequency], axis=0, return_inverse=True)
    inverse = np.ravel(inverse)
    at = pairs[:, 0].astype(int)
    rho = np.exp(x[:, index[at]])  # (n_models, n_pairs, n_layers)
    z = layered_impedance(rho, thick[at][None], pairs[None, :, 1])
    omega = 2.0 * np.pi * pairs[:, 1]
    rho_a, phase = (np.abs(z) ** 2 / (omega * MU0))[:, inverse], np.angle(z)[:, inverse]
    return (rho_a[0], phase[0]) if single else (rho_a, phase)


def correction_scale(
    layout: SoundingLayout,
    base: ArrayLike,
    model: ArrayLike,
    scales: ArrayLike = CORRECTION_SCALES,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per station, the scale of ``model - base`` whose column responses fit its soundings best.

    Each sounding's misfit is the squared log apparent-resistivity error plus
    the squared phase error (twice the phase in radians, the log-rho
    equivalent of a phase error); missing parts count zero. Every sounding
    the data misfit weighs counts the same, whatever its error: the
    columns' 1D responses differ from the section's 2D responses by more
    than most data errors, so the data errors would rank the candidates by
    the soundings the 1D view explains least (on the Paralana profile,
    error weights chose half the correction, chi2 9.1, equal weights a
    quarter, chi2 6.3).

    Parameters
    ----------
    layout : SoundingLayout
        Observed data (``layout.dobs``) and the mesh columns.
    base, model : (n_active,) array_like
        SimPEG models (log conductivity, or log resistivity where
        ``layout.log_sigma_sign`` is -1): the section the network corrects
        and the network's section.
    scales : array_like
        Candidate scales.

    Returns
    -------
    scale : (n_stations,) numpy.ndarray
        Per station the candidate of the lowest mean misfit over its
        soundings (the largest of equal ones); a station without soundings
        takes its neighbours' (linear in position), and 1 where no
        station has any.
    misfits : (n_scales, n_stations) numpy.ndarray
        Mean misfit per sounding of each candidate at each station (NaN
        without soundings).
    """
    scales = np.asarray(scales, dtype=float)
    base = np.asarray(base, dtype=float)
    step = np.asarray(model, dtype=float) - base
    log_rho = -layout.log_sigma_sign * (base[None] + scales[:, None] * step[None])
    rho_obs, phase_obs = sounding_state(layout, layout.dobs)
    rho, phase = column_responses(layout, log_rho)
    weighed = np.isfinite(layout.rho_weight) & (np.asarray(layout.rho_weight) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        e_rho = np.log(rho / rho_obs)
        e_phase = 2.0 * (phase - phase_obs)
    e = np.where(np.isfinite(e_rho), e_rho, 0.0) ** 2 + np.where(np.isfinite(e_phase), e_phase, 0.0) ** 2
    usable = weighed & np.all(np.isfinite(e), axis=0)
    x = layout.geometry.station_x
    misfits = np.full((scales.size, x.size), np.nan)
    station = np.asarray(layout.station)
    for k in range(x.size):
        values = e[:, (station == k) & usable]
        if values.size:
            misfits[:, k] = values.mean(axis=1)
    scale = np.full(x.size, np.nan)
    has = np.isfinite(misfits).all(axis=0)
    for k in np.flatnonzero(has):
        best = np.flatnonzero(misfits[:, k] <= misfits[:, k].min() * (1.0 + 1e-12))
        scale[k] = scales[best[-1]]
    if not has.any():
        return np.ones(x.size), misfits
    scale[~has] = np.interp(x[~has], x[has], scale[has])
    return scale, misfits


def scaled_correction(
    layout: SoundingLayout, base: ArrayLike, model: ArrayLike, scales: ArrayLike = CORRECTION_SCALES
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``base + s (model - base)`` with the stations' scales (:func:`correction_scale`).

    The scale of a cell is linear in its position between the stations'
    scales (constant beyond the first and last station).

    Returns
    -------
    model : (n_active,) numpy.ndarray
    scale : (n_stations,) numpy.ndarray
    """
    scale, _ = correction_scale(layout, base, model, scales)
    geo = layout.geometry
    order = np.argsort(geo.station_x)
    cells = np.interp(geo.cell_x, geo.station_x[order], scale[order])
    base = np.asarray(base, dtype=float)
    return base + cells * (np.asarray(model, dtype=float) - base), scale
