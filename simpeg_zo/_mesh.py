"""Tensor meshes for 2D MT profiles, sized from skin depths.

The rules (checked against analytic half-spaces, the first-order
topographic response, mesh convergence and the COMMEMI 2D-1 benchmark in the
test suite):

* horizontal core cells of ``station spacing / cells_per_station``, with
  station positions on cell centres when the spacing is regular;
* a vertical band through the whole topographic relief whose node levels
  include every station's elevation (so each station's ground lies exactly on
  a node, not up to half a cell off) and the elevations half-way between
  neighbouring stations, filled so no band cell exceeds
  ``dz_band``: the smaller of ``dz_surface`` and a sixth of the station pads'
  half-width;
* the discretised ground surface is flat over a pad around every station
  (half-width ``pad_fraction`` of the station spacing, at least the
  station's own column) and follows the topography between pads in steps of
  one band cell (see :func:`discrete_surface`);
* below it, cells growing by ``growth`` down to the deepest Bostick depth
  the data can see (capped at 1.5 profile lengths), then padding cells
  growing by ``padding_growth`` to ``padding_skin_depths`` skin depths at the
  lowest frequency in the highest resistivity; the same padding sideways and
  up into the air.

Why the pads: on a staircase surface the TM electric field is singular at
every step corner (a 270 degree corner concentrates current, a 90 degree one
starves it), so a receiver one half-cell below the surface reads a value that
depends on how far it sits from the nearest corner. Stations scattered over
the steps of a smooth hill then differ by tens of percent at every frequency.
To first order in the slope the TM field at the surface is
``E / E0 = 1 - |D| h`` (``|D|``: the Hilbert transform of the slope), linear
in the surface shape; a pad centred on the station with the same staircase on
either side makes the shape error odd about the station, and its first-order
effect vanishes there.
"""

from __future__ import annotations

import discretize
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._bostick import MU0


def skin_depth(frequency: ArrayLike, resistivity: ArrayLike) -> float | NDArray[np.float64]:
    """Plane-wave skin depth in metres.

    Parameters
    ----------
    frequency : float or numpy.ndarray
        Frequency in Hz.
    resistivity : float or numpy.ndarray
        Resistivity in ohm-m.

    Returns
    -------
    float or numpy.ndarray
        ``sqrt(2 rho / (omega mu0))``, about ``503 sqrt(rho / f)``.
    """
    return np.sqrt(2.0 * np.asarray(resistivity) / (2 * np.pi * np.asarray(frequency) * MU0))


def _geometric(first, total, factor, *, max_cells=200):
    """Cell widths growing by ``factor`` from ``first`` until they sum to ``total``."""
    widths = []
    h = first
    acc = 0.0
    while acc < total and len(widths) < max_cells:
        widths.append(h)
        acc += h
        h *= factor
    return np.asarray(widths, dtype=float)


#: Pad half-width around each station as a fraction of the station spacing.
PAD_FRACTION = 0.25
#: Largest band cell as a fraction of the pad half-width.
BAND_CELLS_PER_PAD = 6.0
#: Station elevations closer than this fraction of the spacing share a node.
LEVEL_TOLERANCE = 0.002


def station_spacing(stations) -> np.ndarray:
    """Distance from each station to its nearest neighbour (m)."""
    stations = np.asarray(stations, dtype=float)
    if stations.size < 2:
        return np.full(stations.size, np.nan)
    gaps = np.diff(stations)
    left = np.r_[np.inf, gaps]
    right = np.r_[gaps, np.inf]
    return np.minimum(left, right)


def band_levels(anchors, z_bottom, z_top, dz, tolerance):
    """Node elevations of the topography band.

    Every anchor (station elevation) becomes a node, anchors closer than
    ``tolerance`` are merged (the lower one kept), and the gaps are divided
    evenly into cells no taller than ``dz``.

    Parameters
    ----------
    anchors : (n,) array_like
        Elevations that must lie on nodes.
    z_bottom, z_top : float
        Extent of the band.
    dz : float
        Largest cell height.
    tolerance : float
        Anchors closer than this share a node.

    Returns
    -------
    (n_levels,) numpy.ndarray
        Increasing node elevations from ``z_bottom`` to ``z_top``.
    """
    values = np.sort(np.r_[np.asarray(anchors, dtype=float), z_bottom, z_top])
    merged = [values[0]]
    for v in values[1:]:
        if v - merged[-1] > tolerance:
            merged.append(float(v))
    if z_top - merged[-1] > 0:
        merged[-1] = max(merged[-1], z_top)
    out = [merged[0]]
    for lo, hi in zip(merged[:-1], merged[1:], strict=True):
        n = max(int(np.ceil((hi - lo) / dz - 1e-9)), 1)
        out.extend(lo + (hi - lo) * np.arange(1, n + 1) / n)
    return np.asarray(out, dtype=float)


def design_mesh(
    stations,
    frequencies,
    *,
    elevation=None,
    resistivity_range=(10.0, 1000.0),
    cells_per_station=2,
    dz_surface=None,
    dz_band=None,
    pad_fraction=PAD_FRACTION,
    growth=1.1,
    padding_growth=1.3,
    padding_skin_depths=3.0,
):
    """Design a 2D tensor mesh for an MT profile.

    Parameters
    ----------
    stations : (n_stations,) numpy.ndarray
        Station positions along the profile (m), increasing.
    frequencies : (n_frequencies,) numpy.ndarray
        Frequencies (Hz).
    elevation : callable, optional
        ``elevation(x) -> z`` ground elevation (m); flat at 0 when omitted.
    resistivity_range : (2,) tuple of float
        Lowest and highest resistivity expected (ohm-m); the lowest sets the
        surface cell size, the highest the padding.
    cells_per_station : int
        Core cells per station interval.
    dz_surface : float, optional
        Vertical cell size at the surface (m); default a fifth of the skin
        depth at the highest frequency in the lowest resistivity, at most the
        horizontal cell size.
    dz_band : float, optional
        Largest cell height in the topography band; default the smaller of
        ``dz_surface`` and the median station pad half-width
        (``pad_fraction`` x spacing) divided by :data:`BAND_CELLS_PER_PAD`.
    pad_fraction : float
        Pad half-width as a fraction of the station spacing (see
        :func:`discrete_surface`).
    growth, padding_growth : float
        Growth factors of the core and padding cells.
    padding_skin_depths : float
        Padding extent in skin depths at the lowest frequency in the highest
        resistivity.

    Returns
    -------
    discretize.TensorMesh
        The mesh; the vertical axis is elevation (m, up). Every station's
        elevation lies on a horizontal node line.
    """
    stations = np.asarray(stations, dtype=float)
    frequencies = np.asarray(frequencies, dtype=float)
    rho_min, rho_max = (float(v) for v in resistivity_range)
    if elevation is None:

        def elevation(x):
            return np.zeros_like(np.asarray(x, dtype=float))

    f_max, f_min = frequencies.max(), frequencies.min()

    # Horizontal core: cell centres on the stations for regular spacing.
    if stations.size > 1:
        spacing = float(np.median(np.diff(stations)))
        length = float(stations[-1] - stations[0])
    else:
        spacing = float(skin_depth(f_max, rho_min))
        length = spacing
    dx = spacing / cells_per_station
    n_core = int(round(length / dx)) + 1 + 2 * cells_per_station
    x_first_centre = stations[0] - cells_per_station * dx
    core_x = np.full(n_core, dx)

    padding = padding_skin_depths * float(skin_depth(f_min, rho_max))
    pad_x = _geometric(dx * padding_growth, padding, padding_growth)
    hx = np.r_[pad_x[::-1], core_x, pad_x]
    x0 = x_first_centre - dx / 2 - pad_x.sum()

    # Vertical: topography band, core, padding below; air above.
    if dz_surface is None:
        dz_surface = min(float(skin_depth(f_max, rho_min)) / 5.0, dx)
    x_core = x_first_centre + dx * np.arange(n_core)
    z_ground = np.asarray(elevation(x_core), dtype=float)
    z_stations = np.asarray(elevation(stations), dtype=float)
    z_top = float(max(z_ground.max(), z_stations.max()))
    z_bottom = float(min(z_ground.min(), z_stations.min()))
    if dz_band is None:
        pad = pad_fraction * (float(np.median(station_spacing(stations))) if stations.size > 1 else spacing)
        dz_band = min(dz_surface, max(pad, dx / 2) / BAND_CELLS_PER_PAD)
    if z_top > z_bottom:
        tolerance = min(dz_band / 4.0, LEVEL_TOLERANCE * spacing)
        # station elevations and the mid-points between neighbours lie on
        # nodes: pads sit exactly at their station's elevation and a gap's
        # middle column has a level of its own (no tie to break)
        anchors = np.r_[z_stations, 0.5 * (z_stations[1:] + z_stations[:-1])]
        levels = band_levels(anchors, z_bottom, z_top, dz_band, tolerance)
        band = np.diff(levels)
    else:
        band = np.zeros(0)

    bostick_max = float(skin_depth(f_min, rho_max)) / np.sqrt(2.0)
    depth_core = min(bostick_max, 1.5 * max(length, spacing))
    core_z = _geometric(dz_surface, depth_core, growth)
    pad_z = _geometric(core_z[-1] * padding_growth, padding, padding_growth)
    below = np.r_[core_z, pad_z]
    air = _geometric(dz_surface, padding, 1.5)
    # the band ends exactly at z_top, so the top ground face is at a node
    hz = np.r_[below[::-1], band, air]
    z0 = z_top - band.sum() - below.sum()
    return discretize.TensorMesh([hx, hz], origin=[x0, z0])


def discrete_surface(mesh, stations, elevation, *, pad_fraction=PAD_FRACTION):
    """Ground elevation of every mesh column: flat pads at the stations.

    Columns within ``pad_fraction`` of the spacing to a neighbour of a
    station (and always the station's own column) take the station's
    elevation. Between two pads the surface rises linearly from one pad's
    edge to the next (plus the topography's departure from the straight line
    between the stations, so relief between stations is kept), and each
    column takes the node level nearest to it. A station thus sits in the
    middle of a flat stretch with the same staircase on either side on a
    uniform slope, which cancels the first-order error of the steps at the
    station (see the module notes).

    Parameters
    ----------
    mesh : discretize.TensorMesh
    stations : (n_stations,) numpy.ndarray
    elevation : callable
        ``elevation(x) -> z``.
    pad_fraction : float
        Pad half-width as a fraction of the distance to the nearest station.

    Returns
    -------
    (n_columns,) numpy.ndarray
        Elevation of the top ground face of each column (a node level).
    """
    stations = np.asarray(stations, dtype=float)
    xc = mesh.cell_centers_x
    z_true = np.asarray(elevation(xc), dtype=float)
    z_st = np.asarray(elevation(stations), dtype=float)
    columns = np.clip(np.searchsorted(mesh.nodes_x, stations) - 1, 0, xc.size - 1)
    if stations.size > 1:
        half = pad_fraction * station_spacing(stations)
        # pad edges: at least the station's own column, at most half-way to a neighbour
        lo = np.minimum(stations - half, mesh.nodes_x[columns])
        hi = np.maximum(stations + half, mesh.nodes_x[columns + 1])
        mid = 0.5 * (stations[1:] + stations[:-1])
        lo[1:] = np.maximum(lo[1:], np.minimum(mid, mesh.nodes_x[columns[1:]]))
        hi[:-1] = np.minimum(hi[:-1], np.maximum(mid, mesh.nodes_x[columns[:-1] + 1]))
        right = np.clip(np.searchsorted(stations, xc), 1, stations.size - 1)
        left = right - 1
        start, stop = hi[left], lo[right]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip((xc - start) / (stop - start), 0.0, 1.0)
        t = np.where(stop > start, t, (xc > 0.5 * (stations[left] + stations[right])).astype(float))
        linear = z_st[left] + t * (z_st[right] - z_st[left])
        between = (xc > start) & (xc < stop)
        # relief between stations that the straight line misses (knots)
        relief = np.where(between, z_true - np.interp(xc, stations, z_st), 0.0)
        ramp = linear
        eps = 1e-6 * float(np.min(mesh.h[0]))
        outside = (xc < lo[0] - eps) | (xc > hi[-1] + eps)
        ramp = np.where(outside, z_true, ramp)
        ramp = np.where((xc >= lo[0] - eps) & (xc <= hi[0] + eps), z_st[0], ramp)
        ramp = np.where((xc >= lo[-1] - eps) & (xc <= hi[-1] + eps), z_st[-1], ramp)
    else:
        ramp, relief = z_true.copy(), np.zeros_like(z_true)
    ramp[columns] = z_st
    levels = mesh.nodes_y
    index = np.arange(levels.size, dtype=float)
    # the ramp goes to its nearest node level, a tie toward the nearer
    # station's level, so a gap's staircase is point-symmetric about the
    # gap's centre on a slope; the relief between stations is then added in
    # whole cells (a departure under half a cell leaves the column alone)
    near = np.abs(xc[:, None] - stations[None, :]).argmin(axis=1)
    k = _round_toward(np.interp(ramp, levels, index), np.interp(z_st[near], levels, index))
    k = _round_toward(np.interp(levels[k] + relief, levels, index), k.astype(float))
    return levels[k]


def _round_toward(phi, toward):
    """Round fractional level indices to integers, ties toward ``toward``."""
    lower = np.floor(phi)
    tie = np.abs(phi - lower - 0.5) < 1e-6
    k = np.where(tie, np.where(toward > phi, lower + 1, lower), np.round(phi))
    return k.astype(int)


def active_cells_from_surface(mesh, surface):
    """Cells whose centres lie below their column's ground elevation.

    Parameters
    ----------
    mesh : discretize.TensorMesh
    surface : (n_columns,) numpy.ndarray
        Ground elevation per column (:func:`discrete_surface`).

    Returns
    -------
    (n_cells,) numpy.ndarray of bool
    """
    nx, nz = mesh.shape_cells
    column = np.tile(np.arange(nx), nz)
    return mesh.cell_centers[:, 1] < np.asarray(surface, dtype=float)[column]


def active_cells_below(mesh, elevation):
    """Cells whose centres lie below the ground surface.

    Parameters
    ----------
    mesh : discretize.TensorMesh
        2D mesh (x, elevation).
    elevation : callable
        ``elevation(x) -> z`` ground elevation.

    Returns
    -------
    (n_cells,) numpy.ndarray of bool
    """
    cc = mesh.cell_centers
    return cc[:, 1] < np.asarray(elevation(cc[:, 0]), dtype=float)


def column_surface(mesh, active_cells):
    """Top face of the highest active cell of every mesh column.

    Parameters
    ----------
    mesh : discretize.TensorMesh
    active_cells : (n_cells,) numpy.ndarray of bool

    Returns
    -------
    (n_columns,) numpy.ndarray
        Elevation of the discrete ground surface per column.
    """
    nx, nz = mesh.shape_cells
    act = np.asarray(active_cells, dtype=bool).reshape((nx, nz), order="F")
    top_index = np.where(act.any(axis=1), nz - 1 - np.argmax(act[:, ::-1], axis=1), -1)
    faces = mesh.nodes_y
    return np.where(top_index >= 0, faces[top_index + 1], faces[0])


def cell_depths(mesh, active_cells):
    """Depth of every cell centre below its column's discrete surface.

    On a tensor mesh the surface of each cell's column
    (:func:`column_surface`); on any other 2D mesh (a ``TreeMesh``) the
    surface above the cell centre (:func:`surface_elevation`).

    Returns
    -------
    (n_cells,) numpy.ndarray
        Positive below the ground, negative in the air.
    """
    if not is_tensor_mesh(mesh):
        centres = mesh.cell_centers
        return surface_elevation(mesh, active_cells, centres[:, 0]) - centres[:, 1]
    nx, nz = mesh.shape_cells
    surface = column_surface(mesh, active_cells)
    return np.repeat(surface[:, None], nz, axis=1).ravel(order="F") - mesh.cell_centers[:, 1]


def is_tensor_mesh(mesh) -> bool:
    """Whether ``mesh`` is a 2D tensor mesh (rows and columns of cells)."""
    return isinstance(mesh, discretize.TensorMesh)


def surface_elevation(mesh, active_cells, x):
    """Discrete ground surface of any 2D mesh at positions ``x``.

    The top face of the highest active cell whose x-range holds each
    position (a tensor mesh's :func:`column_surface`, for tree meshes too).

    Parameters
    ----------
    mesh : discretize.TensorMesh or discretize.TreeMesh
    active_cells : (n_cells,) numpy.ndarray of bool
    x : array_like
        Positions along the profile (m).

    Returns
    -------
    numpy.ndarray
        Elevation (m); the mesh bottom where no active cell lies above.
    """
    act = np.asarray(active_cells, dtype=bool)
    centres, widths = mesh.cell_centers[act], mesh.h_gridded[act]
    x0 = centres[:, 0] - widths[:, 0] / 2
    x1 = centres[:, 0] + widths[:, 0] / 2
    top = centres[:, 1] + widths[:, 1] / 2
    nodes = np.unique(np.round(np.r_[x0, x1], 6))
    bottom = float(np.min(mesh.cell_centers[:, 1] - mesh.h_gridded[:, 1] / 2))
    surface = np.full(max(nodes.size - 1, 1), bottom)
    # every active cell raises the surface over the intervals it spans
    lo = np.searchsorted(nodes, np.round(x0, 6))
    counts = np.searchsorted(nodes, np.round(x1, 6)) - lo
    spans = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    np.maximum.at(surface, spans, np.repeat(top, counts))
    k = np.clip(np.searchsorted(nodes, np.asarray(x, dtype=float), side="right") - 1, 0, surface.size - 1)
    return surface[k]


def receiver_locations(mesh, active_cells, stations):
    """Receivers at the centre of the top ground cell under each station.

    Placing MT receivers half a cell below the discrete surface (instead of
    on it) removes the first-order error of the TM mode at high frequency.

    Returns
    -------
    locations : (n_stations, 2) numpy.ndarray
    surface : (n_stations,) numpy.ndarray
        Discrete ground elevation at each station.
    """
    stations = np.asarray(stations, dtype=float)
    columns = np.clip(np.searchsorted(mesh.nodes_x, stations) - 1, 0, mesh.shape_cells[0] - 1)
    surface = column_surface(mesh, active_cells)[columns]
    nz = mesh.shape_cells[1]
    top = np.searchsorted(mesh.nodes_y, surface) - 1
    top = np.clip(top, 0, nz - 1)
    z = mesh.cell_centers_y[top]
    return np.c_[stations, z], surface
