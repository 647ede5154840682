"""Read a published Occam2D inversion (mesh, regularisation grid, iteration).

Occam2D (deGroot-Hedlin and Constable, 1990; the files written by mtpy)
stores a finite-element mesh (``Occam2DMesh``: column widths and row
thicknesses), a regularisation grid of blocks that lump mesh cells
(``Occam2DModel``) and the block log10 resistivities of each iteration
(``ITERnn.iter``). The data file (``OccamDataFile.dat``) gives the station
offsets, which sit on mesh nodes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ._profile import Profile

__all__ = ["Occam2DModel", "read_occam2d", "occam2d_on_profile"]


class Occam2DError(ValueError):
    """An Occam2D file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Occam2DModel:
    """An Occam2D resistivity section on its own mesh.

    Attributes
    ----------
    x_nodes : (n_columns + 1,) numpy.ndarray
        Node positions (m), 0 at the first station.
    depth_nodes : (n_rows + 1,) numpy.ndarray
        Node depths below the surface (m), increasing.
    log10_resistivity : (n_rows, n_columns) numpy.ndarray
    station_names : list of str
    station_offsets : (n_stations,) numpy.ndarray
        Offsets of the data file (m), 0 at the first station.
    frequencies : (n_frequencies,) numpy.ndarray
    misfit : float or None
        RMS misfit in the iteration file.
    iteration : int or None
    """

    x_nodes: np.ndarray
    depth_nodes: np.ndarray
    log10_resistivity: np.ndarray
    station_names: list
    station_offsets: np.ndarray
    frequencies: np.ndarray
    misfit: float | None
    iteration: int | None


def _numbers(lines, start, count, path):
    out = []
    k = start
    while len(out) < count:
        if k >= len(lines):
            raise Occam2DError(f"{path}: expected {count} numbers from line {start + 1}, file ended")
        out.extend(float(v) for v in lines[k].split())
        k += 1
    return np.asarray(out[:count]), k


def _read_mesh(path):
    lines = open(path).read().splitlines()
    head = lines[1].split()
    nx_nodes, nz_nodes = int(head[1]), int(head[2])
    widths, k = _numbers(lines, 2, nx_nodes - 1, path)
    heights, _ = _numbers(lines, k, nz_nodes - 1, path)
    return widths, heights


def _read_regularisation(path):
    lines = open(path).read().splitlines()
    k = next((i for i, line in enumerate(lines) if line.lower().startswith("num layers")), None)
    if k is None:
        raise Occam2DError(f"{path}: no 'Num Layers' line")
    mesh_name = next(
        (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("mesh file")),
        "Occam2DMesh",
    )
    binding = next(
        (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("binding offset")),
        None,
    )
    n_layers = int(lines[k].split(":")[1])
    layers = []
    k += 1
    for _ in range(n_layers):
        n_rows, n_cols = (int(v) for v in lines[k].split())
        cols, k = _numbers(lines, k + 1, n_cols, path)
        layers.append((n_rows, cols.astype(int)))
    return mesh_name, layers, float(binding) if binding else None


def _read_iter(path):
    lines = open(path).read().splitlines()
    header = {}
    k = 0
    while k < len(lines) and not lines[k].lower().startswith("param count"):
        if ":" in lines[k]:
            key, value = lines[k].split(":", 1)
            header[key.strip().lower()] = value.strip()
        k += 1
    if k == len(lines):
        raise Occam2DError(f"{path}: no 'Param Count' line")
    n = int(lines[k].split(":")[1])
    values, _ = _numbers(lines, k + 1, n, path)
    return header, values


def _read_data_file(path):
    lines = open(path).read().splitlines()

    def block(key):
        i = next(i for i, line in enumerate(lines) if line.upper().startswith(key))
        n = int(lines[i].split(":")[1])
        return [lines[i + 1 + j].strip() for j in range(n)], i + 1 + n

    names, _ = block("SITES")
    i = next(i for i, line in enumerate(lines) if line.upper().startswith("OFFSETS"))
    offsets = np.array([float(lines[i + 1 + j]) for j in range(len(names))])
    freqs, _ = block("FREQUENCIES")
    return names, offsets, np.array([float(f) for f in freqs])


def read_occam2d(folder: str | os.PathLike, *, iteration_file: str | None = None) -> Occam2DModel:
    """Read an Occam2D result folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Holds the iteration file, its regularisation (model) file, the mesh
        file and the data file, as named inside the iteration file.
    iteration_file : str, optional
        Default the last ``ITER*.iter`` in the folder.

    Returns
    -------
    Occam2DModel
    """
    folder = os.fspath(folder)
    if iteration_file is None:
        iters = sorted(n for n in os.listdir(folder) if n.lower().endswith(".iter"))
        if not iters:
            raise Occam2DError(f"{folder}: no .iter file")
        iteration_file = iters[-1]
    it_path = os.path.join(folder, iteration_file)
    header, values = _read_iter(it_path)
    model_path = os.path.join(folder, header.get("model file", "Occam2DModel"))
    data_path = os.path.join(folder, header.get("data file", "OccamDataFile.dat"))
    mesh_name, layers, binding = _read_regularisation(model_path)
    widths, heights = _read_mesh(os.path.join(folder, mesh_name))
    names, offsets, freqs = _read_data_file(data_path)
    n_rows, n_cols = heights.size, widths.size
    if sum(r for r, _ in layers) != n_rows:
        raise Occam2DError(f"{model_path}: layers span {sum(r for r, _ in layers)} rows, mesh has {n_rows}")
    grid = np.full((n_rows, n_cols), np.nan)
    row, m = 0, 0
    for nr, cols in layers:
        if cols.sum() != n_cols:
            raise Occam2DError(f"{model_path}: a layer spans {cols.sum()} columns, mesh has {n_cols}")
        col = 0
        for c in cols:
            grid[row : row + nr, col : col + c] = values[m]
            col += c
            m += 1
        row += nr
    if m != values.size:
        raise Occam2DError(f"{it_path}: {values.size} parameters, regularisation grid has {m}")
    nodes = np.r_[0.0, np.cumsum(widths)]
    # the stations sit on mesh nodes: find the node of the first station
    rel = offsets - offsets[0]
    err = np.array(
        [np.max(np.min(np.abs((nodes[k] + rel)[:, None] - nodes[None, :]), axis=1)) for k in range(nodes.size)]
    )
    ties = np.flatnonzero(err <= err.min() + 1e-3)
    best = int(ties[0])
    if ties.size > 1 and binding is not None:
        # stations on a regular stretch of nodes fit several shifts: the
        # binding offset (the right side of the leftmost block, in the data
        # file's offsets) decides
        right = nodes[int(layers[0][1][0])]
        best = int(ties[np.argmin(np.abs(right - nodes[ties] + offsets[0] - binding))])
    misfit = header.get("misfit value")
    iteration = header.get("iteration")
    return Occam2DModel(
        x_nodes=nodes - nodes[best],
        depth_nodes=np.r_[0.0, np.cumsum(heights)],
        log10_resistivity=grid,
        station_names=names,
        station_offsets=rel,
        frequencies=freqs,
        misfit=float(misfit) if misfit else None,
        iteration=int(iteration) if iteration else None,
    )


def occam2d_on_profile(occam: Occam2DModel, profile: Profile) -> NDArray[np.float64]:
    """An Occam2D model sampled on a profile's active cells.

    Each active cell takes the Occam2D block at its position along the
    profile (both measured from the first station) and its depth below the
    local surface (Occam2D's mesh is flat).

    Returns
    -------
    (n_active,) numpy.ndarray
        SimPEG model (log conductivity).
    """
    x = profile.mesh.cell_centers[profile.active_cells, 0] - profile.stations[0]
    depth = profile.cell_depths
    ix = np.clip(np.searchsorted(occam.x_nodes, x) - 1, 0, occam.x_nodes.size - 2)
    iz = np.clip(np.searchsorted(occam.depth_nodes, depth) - 1, 0, occam.depth_nodes.size - 2)
    log10_rho = occam.log10_resistivity[iz, ix]
    return -np.log(10.0) * log10_rho
