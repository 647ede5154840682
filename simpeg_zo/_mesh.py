"""Tensor meshes for 2D MT profiles, sized from skin depths.

The rules (checked against analytic half-spaces and the COMMEMI 2D-1
benchmark in the test suite):

* horizontal core cells of ``station spacing / cells_per_station``, with
  station positions on cell centres when the spacing is regular;
* a uniform vertical band of ``dz_surface`` cells through the whole
  topographic relief, where ``dz_surface`` is a fifth of the skin depth at the
  highest frequency in the lowest resistivity (about 1 % accuracy in apparent
  resistivity for receivers at the centre of the top ground cell);
* below it, cells growing by ``growth`` down to the deepest Bostick depth
  the data can see (capped at 1.5 profile lengths), then padding cells
  growing by ``padding_growth`` to ``padding_skin_depths`` skin depths at the
  lowest frequency in the highest resistivity; the same padding sideways and
  up into the air.
"""

from __future__ import annotations

import numpy as np
import discretize

MU0 = 4e-7 * np.pi


def skin_depth(frequency, resistivity):
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


def design_mesh(
    stations,
    frequencies,
    *,
    elevation=None,
    resistivity_range=(10.0, 1000.0),
    cells_per_station=2,
    dz_surface=None,
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
    growth, padding_growth : float
        Growth factors of the core and padding cells.
    padding_skin_depths : float
        Padding extent in skin depths at the lowest frequency in the highest
        resistivity.

    Returns
    -------
    discretize.TensorMesh
        The mesh; the vertical axis is elevation (m, up).
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
    z_top, z_bottom = float(z_ground.max()), float(z_ground.min())
    n_band = int(np.ceil((z_top - z_bottom) / dz_surface))
    band = np.full(n_band, dz_surface)

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

    Returns
    -------
    (n_cells,) numpy.ndarray
        Positive below the ground, negative in the air.
    """
    nx, nz = mesh.shape_cells
    surface = column_surface(mesh, active_cells)
    return np.repeat(surface[:, None], nz, axis=1).ravel(order="F") - mesh.cell_centers[:, 1]


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
