"""Survey-neutral grids: pseudo-sections and sections in normalised coordinates.

A network trained on these grids serves any profile, because 2D MT obeys two
exact scalings: stretching every length by ``s`` and every period by ``s**2``
leaves apparent resistivity and phase unchanged, and so does multiplying
every resistivity and every frequency by one factor.  The grids remove both:

* along the profile, ``u = (x - x_first) / L`` with ``L`` the profile length
  (0 at the first station, 1 at the last);
* in the vertical, ``v = log10(depth / L)``: each sounding sits at its own
  Bostick depth ``sqrt(rho_a / (omega mu0))`` (so the input's rows are the
  output's depths), and the section's rows are depths below the local surface;
* resistivities are divided by ``rho_ref``, the geometric mean of the
  observed apparent resistivities.

The input has :data:`CHANNELS`: per mode the log10 apparent resistivity over
``rho_ref``, the phase (degrees, 0-90 over a half-space: 45), and a mask
(1 where a sounding of that mode lies within half a row and within the
largest gap allowance of a station, 0 where the values are filled in); then
the station elevation over ``L`` (relative to its mean); last the Bostick
section: the Bostick resistivity from the phase (``rho_a (pi / (2 phi) -
1)``) of every sounding at its Bostick depth, the mean of TE and TM in log
where both are, linear between soundings and stations and constant beyond.
A missing mode is a zero mask.  A network's section is a correction of that
Bostick section (the network learns what the 1D transform misses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._bostick import bostick_depth, bostick_resistivity_phase

__all__ = ["NormalisedGrid", "CHANNELS", "normalised_input", "normalised_label", "normalised_to_cells"]

#: Input channels of a normalised pseudo-section.
CHANNELS = (
    "TE log10 rho_a/rho_ref",
    "TE phase",
    "TE mask",
    "TM log10 rho_a/rho_ref",
    "TM phase",
    "TM mask",
    "elevation",
    "Bostick log10 rho_B/rho_ref",
)
MODES = ("TE", "TM")
#: Channel of the Bostick section (a network's section corrects it).
BOSTICK = CHANNELS.index("Bostick log10 rho_B/rho_ref")


@dataclass(frozen=True)
class NormalisedGrid:
    """The grid of a survey-neutral network (input and output share it).

    Parameters
    ----------
    n_columns : int
        Columns at ``u = linspace(0, 1, n_columns)`` (first to last station).
    n_rows : int
        Rows at the centres of ``n_rows`` equal steps of ``log10(depth / L)``
        over ``log_depth_range``.
    log_depth_range : (2,) tuple of float
        Top and bottom of the grid, ``log10(depth / L)``.
    gap : float
        A column is unobserved where its distance to the nearest station
        exceeds ``gap`` times the median station spacing (and one column).
    """

    n_columns: int = 48
    n_rows: int = 48
    log_depth_range: tuple = (-3.6, 0.8)
    gap: float = 1.5

    def __post_init__(self):
        lo, hi = (float(v) for v in self.log_depth_range)
        if self.n_columns < 2 or self.n_rows < 2 or not hi > lo or self.gap <= 0:
            raise ValueError(
                "NormalisedGrid needs n_columns, n_rows >= 2, an increasing log_depth_range and gap > 0, "
                f"got {self.n_columns}, {self.n_rows}, {self.log_depth_range}, {self.gap}"
            )
        object.__setattr__(self, "log_depth_range", (lo, hi))

    @property
    def u(self) -> NDArray[np.float64]:
        """Column positions (fraction of the profile length)."""
        return np.linspace(0.0, 1.0, self.n_columns)

    @property
    def v(self) -> NDArray[np.float64]:
        """Row centres, ``log10(depth / L)``."""
        lo, hi = self.log_depth_range
        edges = np.linspace(lo, hi, self.n_rows + 1)
        return 0.5 * (edges[1:] + edges[:-1])

    @property
    def row_step(self) -> float:
        lo, hi = self.log_depth_range
        return (hi - lo) / self.n_rows

    def to_dict(self) -> dict:
        return {
            "kind": "normalised",
            "n_columns": int(self.n_columns),
            "n_rows": int(self.n_rows),
            "log_depth_range": list(self.log_depth_range),
            "gap": float(self.gap),
        }

    @classmethod
    def from_dict(cls, d: dict) -> NormalisedGrid:
        return cls(
            n_columns=int(d["n_columns"]),
            n_rows=int(d["n_rows"]),
            log_depth_range=tuple(d["log_depth_range"]),
            gap=float(d.get("gap", 1.5)),
        )


def _profile_scale(stations):
    x = np.asarray(stations, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)) or np.any(np.diff(x) <= 0):
        raise ValueError("stations must be at least two increasing finite positions")
    return x, float(x[-1] - x[0])


def reference_resistivity(rho: ArrayLike) -> float:
    """Geometric mean of the finite positive apparent resistivities."""
    r = np.asarray(rho, dtype=float)
    ok = np.isfinite(r) & (r > 0)
    if not ok.any():
        raise ValueError("no finite positive apparent resistivity: the network has no data to read")
    return float(10.0 ** np.mean(np.log10(r[ok])))


def normalised_input(
    grid: NormalisedGrid,
    rho: ArrayLike,
    phase: ArrayLike,
    frequencies: ArrayLike,
    stations: ArrayLike,
    elevations: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], float, float]:
    """A survey's pseudo-sections on the normalised grid.

    Parameters
    ----------
    grid : NormalisedGrid
    rho, phase : (2, n_frequencies, n_stations) array_like
        TE and TM apparent resistivity (ohm-m) and phase (degrees, any
        quadrant: folded into 0-90); NaN where a sounding is missing, all
        NaN for a mode that was not measured.
    frequencies : (n_frequencies,) array_like
    stations : (n_stations,) array_like
        Increasing positions (m).
    elevations : (n_stations,) array_like, optional
        Receiver elevations (m); flat by default.

    Returns
    -------
    x : (8, n_rows, n_columns) numpy.ndarray
        The channels of :data:`CHANNELS`.
    rho_ref : float
        Reference resistivity (ohm-m).
    length : float
        Profile length ``L`` (m).
    """
    x_st, length = _profile_scale(stations)
    rho = np.asarray(rho, dtype=float)
    phase = np.asarray(phase, dtype=float)
    f = np.asarray(frequencies, dtype=float)
    shape = (2, f.size, x_st.size)
    if rho.shape != shape or phase.shape != shape:
        raise ValueError(f"rho and phase must have shape {shape}, got {rho.shape} and {phase.shape}")
    rho_ref = reference_resistivity(rho)
    u_st = (x_st - x_st[0]) / length
    u, v, half = grid.u, grid.v, 0.5 * grid.row_step
    # columns farther than the gap allowance from every station are unobserved
    spacing = float(np.median(np.diff(u_st)))
    allowance = max(grid.gap * spacing, 1.0 / (grid.n_columns - 1))
    near = np.abs(u[:, None] - u_st[None, :]).min(axis=1) <= allowance
    out = np.zeros((len(CHANNELS), grid.n_rows, grid.n_columns))
    bostick = np.zeros((2, grid.n_rows, grid.n_columns))
    has_mode = np.zeros(2, dtype=bool)
    for m in range(2):
        r, p = rho[m], phase[m]
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = np.isfinite(r) & (r > 0) & np.isfinite(p)
            log_rho = np.where(ok, np.log10(np.where(ok, r, 1.0) / rho_ref), np.nan)
            depth = np.where(ok, bostick_depth(np.where(ok, r, 1.0), f[:, None]), np.nan)
        folded = np.mod(p, 180.0)
        folded = np.where(folded > 90.0, 180.0 - folded, folded)
        with np.errstate(invalid="ignore", divide="ignore"):
            log_b = log_rho + np.log10(bostick_resistivity_phase(1.0, np.deg2rad(np.where(ok, folded, 45.0))))
        # per station: the sounding curve along its own Bostick depths
        columns_rho = np.full((grid.n_rows, x_st.size), np.nan)
        columns_phase = np.full((grid.n_rows, x_st.size), np.nan)
        columns_b = np.full((grid.n_rows, x_st.size), np.nan)
        for j in range(x_st.size):
            sel = ok[:, j]
            if not sel.any():
                continue
            z = np.log10(depth[sel, j] / length)
            order = np.argsort(z)
            z, lr, ph, lb = z[order], log_rho[sel, j][order], folded[sel, j][order], log_b[sel, j][order]
            inside = (v >= z[0] - half) & (v <= z[-1] + half)
            columns_rho[inside, j] = np.interp(v[inside], z, lr)
            columns_phase[inside, j] = np.interp(v[inside], z, ph)
            columns_b[:, j] = np.interp(v, z, lb)  # constant beyond the sounding's depths
        has_b = np.isfinite(columns_b[0])
        if has_b.any():
            has_mode[m] = True
            bostick[m] = np.array([np.interp(u, u_st[has_b], row[has_b]) for row in columns_b])
        covered = np.isfinite(columns_rho)
        if not covered.any():
            out[3 * m + 1] = 45.0
            continue
        # along the profile: linear between stations with the row observed, nearest beyond
        rows_rho = np.full((grid.n_rows, grid.n_columns), np.nan)
        rows_phase = np.full((grid.n_rows, grid.n_columns), np.nan)
        mask = np.zeros((grid.n_rows, grid.n_columns))
        for i in range(grid.n_rows):
            sel = covered[i]
            if not sel.any():
                continue
            rows_rho[i] = np.interp(u, u_st[sel], columns_rho[i, sel])
            rows_phase[i] = np.interp(u, u_st[sel], columns_phase[i, sel])
            gap_ok = np.abs(u[:, None] - u_st[sel][None, :]).min(axis=1) <= allowance
            mask[i] = gap_ok & near
        # rows without any sounding: the nearest observed row (masked)
        have = np.flatnonzero(np.isfinite(rows_rho[:, 0]))
        nearest = have[np.abs(np.arange(grid.n_rows)[:, None] - have[None, :]).argmin(axis=1)]
        out[3 * m] = rows_rho[nearest]
        out[3 * m + 1] = rows_phase[nearest]
        out[3 * m + 2] = mask
    if elevations is not None:
        e = np.asarray(elevations, dtype=float)
        if e.shape != x_st.shape or not np.all(np.isfinite(e)):
            raise ValueError(f"elevations must be {x_st.size} finite values, got shape {e.shape}")
        out[6] = (np.interp(u, u_st, e) - e.mean()) / length
    out[7] = bostick[has_mode].mean(axis=0) if has_mode.any() else 0.0
    return out, rho_ref, length


def normalised_label(grid: NormalisedGrid, log10_rho, length: float) -> NDArray[np.float64]:
    """A model's log10 resistivity on the grid's cells.

    Parameters
    ----------
    grid : NormalisedGrid
    log10_rho : callable
        ``log10_rho(x, depth)``: log10 resistivity at positions from the
        first station (m) and depths below the local surface (m),
        broadcastable arrays.
    length : float
        Profile length (m).

    Returns
    -------
    (n_rows, n_columns) numpy.ndarray
    """
    depth = length * 10.0 ** grid.v[:, None]
    return np.asarray(log10_rho(length * grid.u[None, :], depth), dtype=float)


def normalised_to_cells(
    grid: NormalisedGrid,
    section: ArrayLike,
    cell_x: ArrayLike,
    cell_depth: ArrayLike,
    station_x: ArrayLike,
) -> NDArray[np.float64]:
    """Interpolate a grid section onto mesh cells.

    Bilinear in ``u`` and in ``log10(depth / L)``; constant beyond the
    profile's ends and the grid's top and bottom.

    Parameters
    ----------
    grid : NormalisedGrid
    section : (n_rows, n_columns) array_like
        Values on the grid (for example log10 resistivity).
    cell_x, cell_depth : (n_cells,) array_like
        Cell centres: position (m) and depth below the local surface (m).
    station_x : array_like
        The survey's stations (m).
    """
    from scipy.interpolate import RegularGridInterpolator

    x_st, length = _profile_scale(np.sort(np.asarray(station_x, dtype=float)))
    s = np.asarray(section, dtype=float)
    if s.shape != (grid.n_rows, grid.n_columns):
        raise ValueError(f"section must have shape {(grid.n_rows, grid.n_columns)}, got {s.shape}")
    u = np.clip((np.asarray(cell_x, dtype=float) - x_st[0]) / length, 0.0, 1.0)
    depth = np.maximum(np.asarray(cell_depth, dtype=float), 1e-12 * length)
    v = np.clip(np.log10(depth / length), grid.v[0], grid.v[-1])
    interp = RegularGridInterpolator((grid.v, grid.u), s, method="linear")
    return interp(np.column_stack([v, u]))
