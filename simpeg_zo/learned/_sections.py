"""Pseudo-sections, resistivity classes and grid resampling (numpy only)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SurveyMismatchError",
    "ResistivityClasses",
    "pseudo_sections",
    "resample_sections",
    "sections_from_layout",
    "grid_to_cells",
]


class SurveyMismatchError(ValueError):
    """Data that a network cannot take: another band or profile length."""


class ResistivityClasses:
    """Log-spaced resistivity bins: the labels of the segmentation.

    Parameters
    ----------
    log10_range : (2,) tuple of float
        Lowest and highest edge (log10 ohm-m).
    n_classes : int
    """

    def __init__(self, log10_range: tuple[float, float] = (0.5, 3.5), n_classes: int = 12) -> None:
        lo, hi = (float(v) for v in log10_range)
        if not hi > lo or n_classes < 2:
            raise ValueError("log10_range must increase and n_classes must be >= 2")
        self.edges = np.linspace(lo, hi, int(n_classes) + 1)
        self.centres = 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def n_classes(self) -> int:
        return self.centres.size

    def classify(self, log10_rho: ArrayLike) -> NDArray[np.intp]:
        """Class index of each log10 resistivity (clipped into the range)."""
        k = np.searchsorted(self.edges, np.asarray(log10_rho, dtype=float), side="right") - 1
        return np.clip(k, 0, self.n_classes - 1)

    def expected_log10(self, proba: ArrayLike) -> NDArray[np.float64]:
        """Continuous log10 resistivity from class probabilities on axis 1."""
        proba = np.asarray(proba, dtype=float)
        shape = [1] * proba.ndim
        shape[1] = self.n_classes
        return (proba * self.centres.reshape(shape)).sum(axis=1)


def pseudo_sections(data: ArrayLike) -> NDArray[np.float64]:
    """Network inputs from apparent resistivity and phase.

    Parameters
    ----------
    data : (..., 2, 2, n_frequencies, n_stations) array_like
        Per mode (TE, TM): apparent resistivity (ohm-m) and phase (degrees,
        any quadrant convention: SimPEG's TE ``yx`` is +45 and TM ``xy``
        -135 degrees over a half-space).

    Returns
    -------
    (..., 4, n_frequencies, n_stations) numpy.ndarray
        TE log10 rho_a, TE phase, TM log10 rho_a, TM phase, phases folded
        into 0-180 degrees (45 over a half-space).
    """
    data = np.asarray(data, dtype=float)
    if data.ndim < 4 or data.shape[-4:-2] != (2, 2):
        raise ValueError(f"data must have shape (..., 2, 2, n_frequencies, n_stations), got {data.shape}")
    rho = data[..., 0, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        log_rho = np.where(rho > 0, np.log10(np.where(rho > 0, rho, 1.0)), np.nan)
    phase = np.mod(data[..., 1, :, :], 180.0)
    out = np.stack([log_rho[..., 0, :, :], phase[..., 0, :, :], log_rho[..., 1, :, :], phase[..., 1, :, :]], axis=-3)
    return out


def _fill_along(values, coordinate, axis):
    """Linear interpolation over NaNs along one axis (constant beyond)."""
    values = np.moveaxis(np.array(values, dtype=float), axis, -1)
    flat = values.reshape(-1, values.shape[-1])
    for row in flat:
        ok = np.isfinite(row)
        if ok.all() or not ok.any():
            continue
        row[~ok] = np.interp(coordinate[~ok], coordinate[ok], row[ok])
    return np.moveaxis(flat.reshape(values.shape), -1, axis)


def resample_sections(
    sections: ArrayLike,
    frequencies: ArrayLike,
    stations: ArrayLike,
    grid_frequencies: ArrayLike,
    grid_stations: ArrayLike,
    *,
    tolerance: float = 0.5,
) -> NDArray[np.float64]:
    """Resample pseudo-sections onto a network's frequency x station grid.

    Linear in log10 frequency and in position relative to the first station;
    missing values (NaN) are filled along frequency, then along the profile.

    Parameters
    ----------
    sections : (4, n_frequencies, n_stations) array_like
    frequencies, stations : array_like
        The data's grid (any order of frequencies).
    grid_frequencies, grid_stations : array_like
        The network's grid.
    tolerance : float
        How far (in grid steps) the data may fall short of the network's
        grid at either end.

    Raises
    ------
    ValueError
        When the data do not cover the network's frequency band or profile
        length (extrapolating would invent data).
    """
    s = np.asarray(sections, dtype=float)
    f = np.log10(np.asarray(frequencies, dtype=float))
    x = np.asarray(stations, dtype=float)
    gf = np.log10(np.asarray(grid_frequencies, dtype=float))
    gx = np.asarray(grid_stations, dtype=float)
    if s.shape != (4, f.size, x.size):
        raise ValueError(f"sections must have shape (4, {f.size}, {x.size}), got {s.shape}")
    x = x - x[0]
    gx = gx - gx[0]
    df = tolerance * np.median(np.abs(np.diff(gf))) if gf.size > 1 else 0.0
    if f.max() < gf.max() - df or f.min() > gf.min() + df:
        raise SurveyMismatchError(
            f"the data's frequencies ({10 ** f.min():.3g}-{10 ** f.max():.3g} Hz) do not cover the "
            f"network's band ({10 ** gf.min():.3g}-{10 ** gf.max():.3g} Hz)"
        )
    dx = tolerance * np.median(np.diff(gx)) if gx.size > 1 else 0.0
    if x[-1] < gx[-1] - dx or abs(x[-1] - gx[-1]) > max(dx, 0.25 * gx[-1]):
        raise SurveyMismatchError(
            f"the profile is {x[-1]:.0f} m long; the network was trained for {gx[-1]:.0f} m "
            "(train a network for this survey with `simpeg-zo dataset` and `simpeg-zo train`)"
        )
    x = x * (gx[-1] / x[-1]) if x[-1] > 0 else x  # stretch a profile within tolerance
    order = np.argsort(f)
    f, s = f[order], s[:, order]
    if not np.isfinite(s).any(axis=(1, 2)).all():
        raise ValueError("a channel (TE or TM apparent resistivity or phase) has no usable data")
    s = _fill_along(s, f, axis=1)
    s = _fill_along(s, x, axis=2)
    out = np.empty((4, gf.size, gx.size))
    for c in range(4):
        tmp = np.array([np.interp(gf, f, s[c, :, j]) for j in range(x.size)]).T  # (n_gf, n_x)
        out[c] = np.array([np.interp(gx, x, tmp[i]) for i in range(gf.size)])
    return out


def sections_from_layout(layout, *, both_modes: bool = True):
    """Pseudo-sections of the observed data of a :class:`SoundingLayout`.

    ``both_modes``: raise :class:`SurveyMismatchError` unless the data have
    TE and TM (otherwise a missing mode's channels are NaN).

    Returns
    -------
    sections : (4, n_frequencies, n_stations) numpy.ndarray
        NaN where a datum is missing.
    frequencies : (n_frequencies,) numpy.ndarray
        Descending.
    stations : (n_stations,) numpy.ndarray
    """
    from .._layout import sounding_state

    modes = set(np.unique(layout.mode))
    if (modes != {"TE", "TM"} and both_modes) or not modes & {"TE", "TM"}:
        raise SurveyMismatchError(f"the learned inversion needs TE and TM data, got {sorted(modes)}")
    rho, phase = sounding_state(layout, layout.dobs)
    freqs = np.unique(layout.frequency)[::-1]
    stations = layout.geometry.station_x
    out = np.full((4, freqs.size, stations.size), np.nan)
    fi = np.searchsorted(-freqs, -layout.frequency)
    for c, mode in enumerate(("TE", "TM")):
        sel = layout.mode == mode
        with np.errstate(invalid="ignore", divide="ignore"):
            out[2 * c, fi[sel], layout.station[sel]] = np.log10(rho[sel])
        out[2 * c + 1, fi[sel], layout.station[sel]] = np.rad2deg(phase[sel])
    return out, freqs, stations


def grid_to_cells(
    log10_rho: ArrayLike,
    grid_stations: ArrayLike,
    depth_edges: ArrayLike,
    cell_x: ArrayLike,
    cell_depth: ArrayLike,
    station_x: ArrayLike,
) -> NDArray[np.float64]:
    """Interpolate a model-grid section onto mesh cells.

    Bilinear in position (relative to the first station, stretched to the
    grid's length) and in depth below the local surface; constant beyond
    the grid's sides and bottom.

    Returns
    -------
    numpy.ndarray
        log10 resistivity per cell.
    """
    from scipy.interpolate import RegularGridInterpolator

    g = np.asarray(log10_rho, dtype=float)
    gx = np.asarray(grid_stations, dtype=float)
    gx = gx - gx[0]
    sx = np.asarray(station_x, dtype=float)
    scale = gx[-1] / (sx[-1] - sx[0]) if sx[-1] > sx[0] else 1.0
    x = (np.asarray(cell_x, dtype=float) - sx[0]) * scale
    edges = np.asarray(depth_edges, dtype=float)
    zc = 0.5 * (edges[1:] + edges[:-1])
    interp = RegularGridInterpolator((zc, gx), g, method="linear", bounds_error=False, fill_value=None)
    pts = np.column_stack([np.clip(cell_depth, zc[0], zc[-1]), np.clip(x, gx[0], gx[-1])])
    return interp(pts)
