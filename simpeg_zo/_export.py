"""Write a profile's model and data where other programs read them.

* :func:`write_vtr`: the model on the profile's mesh as a VTK rectilinear
  grid (``.vtr``, XML) for ParaView, PyVista and
  ``discretize.TensorMesh.read_vtk``; written here without the ``vtk``
  package.
* :func:`write_occam2d`: the observed data (``OccamDataFile.dat``), the
  predicted data (``.resp``) and the model (``Occam2DMesh``,
  ``Occam2DModel``, ``.iter``) in Occam2D's formats, which mtpy-v2 reads
  (``mtpy.modeling.occam2d``: ``Occam2DData.read_data_file``,
  ``read_response_file``, ``Occam2DModel(iter_fn).build_model()``;
  ``MTData.from_occam2d``) as does :func:`simpeg_zo.read_occam2d`.

Both only write files: no mtpy, no vtk.
"""

from __future__ import annotations

import base64
import os
import struct
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._profile import COMPONENTS

if TYPE_CHECKING:
    from ._field import EDISurvey
    from ._profile import Profile

__all__ = ["write_vtr", "write_occam2d", "write_edi", "occam2d_grid"]

#: Occam2D data types: TE log10 apparent resistivity and phase, TM the same.
#: Occam2D data types of each mode's two components (3/4: the tipper's real
#: and imaginary parts, z down, so the sign of SimPEG's z-up Tzx changes).
OCCAM_TYPES = {"TE": (1, 2), "TM": (5, 6), "TIP": (3, 4)}


def _full_resistivity(profile, model, air):
    model = np.asarray(model, dtype=float).ravel()
    if model.size != profile.n_active:
        raise ValueError(f"model has {model.size} values, the profile has {profile.n_active} active cells")
    rho = np.full(profile.mesh.n_cells, float(air))
    rho[profile.active_cells] = np.exp(-model)
    return rho


def _vtk_array(values, name, vtk_type, indent):
    data = np.ascontiguousarray(values).tobytes()
    # uncompressed binary: a UInt32 byte count, then the data, base64 together
    encoded = base64.b64encode(struct.pack("<I", len(data)) + data).decode("ascii")
    return (
        f'{indent}<DataArray type="{vtk_type}" Name="{name}" format="binary">\n'
        f"{indent}  {encoded}\n{indent}</DataArray>\n"
    )


def write_vtr(
    profile: Profile,
    model: ArrayLike,
    path: str | os.PathLike,
    *,
    thickness: float | None = None,
    air: float = np.nan,
) -> str:
    """Write a model on the profile's mesh as a VTK ``.vtr`` file.

    The section lies in the x-z plane: x along the profile, z the
    elevation (up), one cell of ``thickness`` along strike (y, centred on
    0), so that ParaView shows it as a vertical section and
    ``discretize.TensorMesh.read_vtk`` reads it back as a 3D tensor mesh
    ``[hx, [thickness], hz]`` with the same cell order as the profile's
    mesh. Cell arrays: ``resistivity`` (ohm-m), ``log10_resistivity`` and
    ``active`` (1 in the ground, 0 in the air).

    Parameters
    ----------
    profile : Profile
    model : (n_active,) numpy.ndarray
        SimPEG model (log conductivity of the active cells), e.g.
        ``result.model``.
    path : str or os.PathLike
        Output file; ``.vtr`` is appended when it has no extension.
    thickness : float, optional
        Extent along strike (m); default the smallest horizontal cell.
    air : float
        Resistivity written in the air cells (default NaN: transparent
        after a threshold on ``active``).

    Returns
    -------
    str
        The file written.

    Examples
    --------
    >>> from simpeg_zo import build_profile  # doctest: +SKIP
    >>> write_vtr(profile, result.model, "model.vtr")  # doctest: +SKIP
    'model.vtr'
    """
    path = os.fspath(path)
    if not os.path.splitext(path)[1]:
        path += ".vtr"
    mesh = profile.mesh
    rho = _full_resistivity(profile, model, air)
    nx, nz = mesh.shape_cells
    t = float(np.min(mesh.h[0])) if thickness is None else float(thickness)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"thickness must be > 0, got {thickness}")
    with np.errstate(invalid="ignore", divide="ignore"):
        log_rho = np.log10(rho)
    ind = "        "
    cells = (
        _vtk_array(rho.astype("<f8"), "resistivity", "Float64", ind)
        + _vtk_array(log_rho.astype("<f8"), "log10_resistivity", "Float64", ind)
        + _vtk_array(np.asarray(profile.active_cells, dtype="u1"), "active", "UInt8", ind)
    )
    coords = (
        _vtk_array(np.asarray(mesh.nodes_x, dtype="<f8"), "x", "Float64", ind)
        + _vtk_array(np.array([-t / 2.0, t / 2.0], dtype="<f8"), "y", "Float64", ind)
        + _vtk_array(np.asarray(mesh.nodes_y, dtype="<f8"), "z", "Float64", ind)
    )
    extent = f"0 {nx} 0 1 0 {nz}"
    text = (
        '<?xml version="1.0"?>\n'
        '<VTKFile type="RectilinearGrid" version="0.1" byte_order="LittleEndian" header_type="UInt32">\n'
        f'  <RectilinearGrid WholeExtent="{extent}">\n'
        f'    <Piece Extent="{extent}">\n'
        '      <CellData Scalars="log10_resistivity">\n'
        f"{cells}"
        "      </CellData>\n"
        "      <Coordinates>\n"
        f"{coords}"
        "      </Coordinates>\n"
        "    </Piece>\n"
        "  </RectilinearGrid>\n"
        "</VTKFile>\n"
    )
    with open(path, "w") as fh:
        fh.write(text)
    return path


def occam2d_grid(profile: Profile, model: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    """A model on an Occam2D grid: flat, depths below the local surface.

    Columns are the mesh columns, split at every station that is not on a
    node (Occam2D puts its sites on mesh nodes); rows are the mesh rows
    below the highest ground. Each block takes the model at its depth below
    its own column's ground (the inverse of
    :func:`simpeg_zo.occam2d_on_profile`; exact on flat ground).

    Parameters
    ----------
    profile : Profile
    model : (n_active,) numpy.ndarray
        SimPEG model (log conductivity of the active cells).

    Returns
    -------
    x_nodes : (n_columns + 1,) numpy.ndarray
        Node positions (m, the profile's coordinates).
    depth_nodes : (n_rows + 1,) numpy.ndarray
        Node depths below the highest ground (m), from 0.
    log10_resistivity : (n_rows, n_columns) numpy.ndarray
        Top row first.
    """
    mesh = profile.mesh
    rho = _full_resistivity(profile, model, np.nan)
    nx, nz = mesh.shape_cells
    nodes_x = np.asarray(mesh.nodes_x, dtype=float)
    tol = 1e-6 * float(np.min(mesh.h[0]))
    split = [s for s in profile.stations if np.min(np.abs(nodes_x - s)) > tol]
    x_nodes = np.unique(np.r_[nodes_x, split])
    columns = np.clip(np.searchsorted(nodes_x, 0.5 * (x_nodes[:-1] + x_nodes[1:])) - 1, 0, nx - 1)
    surface = profile.surface
    nodes_y = np.asarray(mesh.nodes_y, dtype=float)
    top = float(np.max(surface))
    below = nodes_y[nodes_y <= top + tol][::-1]
    depth_nodes = top - below
    depth_centres = 0.5 * (depth_nodes[:-1] + depth_nodes[1:])
    grid = np.empty((depth_centres.size, columns.size))
    for k, c in enumerate(columns):
        elevation = surface[c] - depth_centres
        # a depth below the mesh bottom takes the bottom cell
        rows = np.clip(np.searchsorted(nodes_y, elevation) - 1, 0, nz - 1)
        grid[:, k] = np.log10(rho[c + nx * rows])
    if not np.all(np.isfinite(grid)):
        raise ValueError("the model has air cells below the ground (inconsistent active cells)")
    return x_nodes, depth_nodes, grid


def _wrap(values, fmt, per_line=8):
    out = []
    for i in range(0, len(values), per_line):
        out.append(" ".join(fmt.format(v) for v in values[i : i + per_line]))
    return out


def _occam_data_rows(profile, dpred=None):
    """(site, frequency, type, datum, error[, response]) of every datum."""
    rows = []
    for mode in profile.modes:
        if mode not in profile.data:
            continue
        d = profile.data[mode]
        obs = profile.split(d.dobs, mode)
        std = profile.split(d.standard_deviation, mode)
        pred = profile.split(dpred[mode], mode) if dpred is not None else None
        t_first, t_second = OCCAM_TYPES[mode]
        first, second = COMPONENTS[mode]
        shift = 180.0 if mode == "TM" else 0.0  # Occam2D keeps TM phases in the first quadrant
        for j in range(profile.n_frequencies):
            for i in range(profile.n_stations):
                for key, t in ((first, t_first), (second, t_second)):
                    s = std[key][j, i]
                    if not np.isfinite(s):
                        continue
                    if mode == "TIP":  # z down in Occam2D
                        value, error = -obs[key][j, i], s
                        resp = -pred[key][j, i] if pred is not None else None
                    elif key == "apparent_resistivity":
                        value = np.log10(obs[key][j, i])
                        error = s / (obs[key][j, i] * np.log(10.0))
                        resp = np.log10(pred[key][j, i]) if pred is not None else None
                    else:
                        value, error = obs[key][j, i] + shift, s
                        resp = pred[key][j, i] + shift if pred is not None else None
                    rows.append((i + 1, j + 1, t, value, error, resp))
    rows.sort(key=lambda r: r[:3])
    return rows


def write_occam2d(
    profile: Profile,
    folder: str | os.PathLike,
    *,
    model: ArrayLike | None = None,
    dpred: dict | None = None,
    survey: EDISurvey | None = None,
    title: str = "simpeg_zo",
    basename: str = "simpeg_zo",
    iteration: int = 0,
    misfit: float | None = None,
) -> dict[str, str]:
    """Write a profile's data (and model, predicted data) in Occam2D formats.

    Files in ``folder``:

    * ``OccamDataFile.dat``: the observed data and standard deviations of
      every mode (Occam2D types 1/2 TE log10 apparent resistivity and phase,
      5/6 TM, the TM phase plus 180 degrees as Occam2D keeps it, 3/4 the
      tipper's real and imaginary parts with z down, i.e. ``-Tzx``); left-out
      data (infinite standard deviation) are not written; the sites are
      named and placed as in the profile.
    * with ``dpred``: ``<basename>.resp``, the predicted data (Occam2D
      response file: site, frequency, type, 0, datum, response, normalised
      residual).
    * with ``model``: ``Occam2DMesh``, ``Occam2DModel`` (one regularisation
      block per mesh block) and ``<basename>.iter`` (log10 resistivity,
      :func:`occam2d_grid`), an iteration file that also serves as an
      Occam2D starting model.

    Parameters
    ----------
    profile : Profile
        With observed data.
    folder : str or os.PathLike
        Created if needed.
    model : (n_active,) numpy.ndarray, optional
        SimPEG model (log conductivity of the active cells).
    dpred : dict, optional
        Predicted data per mode (``result.dpred``).
    survey : EDISurvey, optional
        Puts the profile azimuth and strike in the data file's title, where
        mtpy-v2 reads them.
    title, basename : str
    iteration : int
    misfit : float, optional
        RMS written in the iteration file (default the normalised RMS of
        ``dpred`` when given).

    Returns
    -------
    dict
        Paths written: ``data`` and, as written, ``response``, ``mesh``,
        ``regularisation``, ``iteration``.

    Examples
    --------
    >>> files = write_occam2d(profile, "occam", model=result.model, dpred=result.dpred, survey=survey)  # doctest: +SKIP
    >>> from mtpy.modeling.occam2d import Occam2DData  # doctest: +SKIP
    >>> Occam2DData().read_data_file(files["data"])  # doctest: +SKIP
    """
    if not profile.data:
        raise ValueError("the profile has no observed data; call set_data first")
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    files = {}
    names = profile.station_names or [f"site{i + 1:03d}" for i in range(profile.n_stations)]
    full_title = title
    if survey is not None:
        full_title += f", Profile={survey.line_azimuth:.1f} deg, Strike={survey.strike:.1f} deg"
    rows = _occam_data_rows(profile, dpred)
    lines = [f"{'FORMAT:':<18}OCCAM2MTDATA_1.0", f"{'TITLE:':<18}{full_title}"]
    lines.append(f"{'SITES:':<18}{profile.n_stations}")
    lines += [f"   {n}" for n in names]
    lines.append(f"{'OFFSETS (M):':<18}")
    lines += [f"   {x:.6f}" for x in profile.stations]
    lines.append(f"{'FREQUENCIES:':<18}{profile.n_frequencies}")
    lines += [f"   {f:.8e}" for f in profile.frequencies]
    lines.append(f"{'DATA BLOCKS:':<18}{len(rows)}")
    lines.append(f"{'SITE':<6}{'FREQ':<6}{'TYPE':<6} {'DATUM':<8} {'ERROR':<8}")
    lines += [f"{s:^6}{f:^6}{t:^6} {v:>12.6f} {e:>12.6f}" for s, f, t, v, e, _ in rows]
    files["data"] = os.path.join(folder, "OccamDataFile.dat")
    with open(files["data"], "w") as fh:
        fh.write("\n".join(lines) + "\n")
    if dpred is not None:
        resid = [(v - r) / e for _, _, _, v, e, r in rows]
        if misfit is None and resid:
            misfit = float(np.sqrt(np.mean(np.square(resid))))
        files["response"] = os.path.join(folder, f"{basename}.resp")
        with open(files["response"], "w") as fh:
            for (s, f, t, v, _, r), res in zip(rows, resid, strict=True):
                fh.write(f"{s:>6d} {f:>6d} {t:>6d} {0.0:>6.1f} {v:>12.6f} {r:>12.6f} {res:>12.5f}\n")
    if model is not None:
        x_nodes, depth_nodes, grid = occam2d_grid(profile, model)
        widths, heights = np.diff(x_nodes), np.diff(depth_nodes)
        n_rows, n_cols = grid.shape
        files["mesh"] = os.path.join(folder, "Occam2DMesh")
        mesh_lines = ["MESH FILE written by simpeg_zo", f"   0  {n_cols + 1}  {n_rows + 1}  0  0  2"]
        mesh_lines += _wrap(widths, "{:>14.6f}") + _wrap(heights, "{:>14.6f}") + ["    0"]
        mesh_lines += ["?" * n_cols] * (4 * n_rows)  # every triangle free
        with open(files["mesh"], "w") as fh:
            fh.write("\n".join(mesh_lines) + "\n")
        files["regularisation"] = os.path.join(folder, "Occam2DModel")
        # one block per mesh block; the binding offset is the right side of
        # the leftmost block in the data's offsets
        reg = [
            f"{'Format:':<18}OCCAM2MTMOD_1.0",
            f"{'Model Name:':<18}{title.upper()}",
            f"{'Description:':<18}ONE BLOCK PER MESH CELL",
            f"{'Mesh File:':<18}Occam2DMesh",
            f"{'Mesh Type:':<18}PW2D",
            f"{'Statics File:':<18}none",
            f"{'Prejudice File:':<18}none",
            f"{'Binding Offset:':<20}{x_nodes[1]:.6f}",
            f"{'Num Layers:':<20}{n_rows}",
        ]
        ones = "".join(f"{1:>5}" for _ in range(n_cols))
        for _ in range(n_rows):
            reg += [f" {1:>5} {n_cols:>5}", ones]
        reg.append(f"{'NO. EXCEPTIONS:':<18}0")
        with open(files["regularisation"], "w") as fh:
            fh.write("\n".join(reg) + "\n")
        files["iteration"] = os.path.join(folder, f"{basename}.iter")
        head = [
            ("Format", "OCCAMITER_FLEX"),
            ("Description", f"{title} model"),
            ("Model File", "Occam2DModel"),
            ("Data File", "OccamDataFile.dat"),
            ("Date/Time", "none"),
            ("Iterations to run", 0),
            ("Target Misfit", "1.000"),
            ("Roughness Type", 1),
            ("Diagonal Penalties", 0),
            ("Stepsize Cut Count", 8),
            ("Debug Level", 1),
            ("Iteration", int(iteration)),
            ("Lagrange Value", "5.0"),
            ("Roughness Value", "0.0"),
            ("Misfit Value", f"{misfit:.6f}" if misfit is not None else "1000.0"),
            ("Misfit Reached", int(misfit is not None and misfit <= 1.0)),
            ("Param Count", grid.size),
        ]
        it_lines = [f"{k + ':':<20}{v}" for k, v in head]
        it_lines += _wrap(grid.ravel(), "{:>14.7f}", per_line=4)
        with open(files["iteration"], "w") as fh:
            fh.write("\n".join(it_lines) + "\n")
    return files


def write_edi(
    profile: Profile,
    folder: str | os.PathLike,
    *,
    dpred: dict | None = None,
    latitude: float = 0.0,
    longitude: float = 0.0,
    azimuth: float = 90.0,
) -> list[str]:
    """Write a profile's data as EDI files, one per station (through mt-metadata).

    The inverse of :func:`simpeg_zo.read_edi_profile` for a 2D profile: the
    line starts at (``latitude``, ``longitude``) and runs along ``azimuth``
    (degrees east of north), the strike is perpendicular to it, TE is the
    impedance ``Z'xy`` and TM ``Z'yx`` of the strike frame, and the tipper
    ``Tzx`` (z up) is the EDI tipper across strike with z down, rotated back
    to north/east (:func:`simpeg_zo._edi.profile_tipper` undone).
    Standard deviations: ``sigma_Z = |Z| sigma_rho / (2 rho)``; left-out
    data are written as zeros, which readers drop.

    Parameters
    ----------
    profile : Profile
        With observed data.
    folder : str or os.PathLike
        Created if missing.
    dpred : dict, optional
        Write these data (per mode) instead of the observed ones, with the
        observed standard deviations.
    latitude, longitude : float
        The first station's position (decimal degrees); the others follow
        along the line (local equirectangular projection).
    azimuth : float
        Line direction.

    Returns
    -------
    list of str
        The files written, in station order.
    """
    from mt_metadata.transfer_functions.core import TF

    from ._edi import EARTH_RADIUS, rotate_impedance

    if not profile.data:
        raise ValueError("the profile has no observed data")
    os.makedirs(folder, exist_ok=True)
    nf, ns = profile.n_frequencies, profile.n_stations
    strike = float(azimuth) - 90.0
    values = {m: (dpred[m] if dpred is not None else profile.data[m].dobs) for m in profile.data}
    z = np.zeros((ns, nf, 2, 2), dtype=complex)
    zerr = np.zeros((ns, nf, 2, 2))
    for mode, (a, b) in (("TE", (0, 1)), ("TM", (1, 0))):
        if mode not in profile.data:
            continue
        d = profile.split(values[mode], mode)
        std = profile.split(profile.data[mode].standard_deviation, mode)
        ok = np.isfinite(std["apparent_resistivity"]) & np.isfinite(std["phase"])
        with np.errstate(invalid="ignore"):  # left-out data (NaN) are written as zeros
            mag = np.sqrt(5.0 * profile.frequencies[:, None] * d["apparent_resistivity"])
            zz = np.where(ok, mag * np.exp(1j * np.radians(d["phase"])), 0.0)
            ze = np.where(ok, mag * std["apparent_resistivity"] / (2.0 * d["apparent_resistivity"]), 0.0)
        z[:, :, a, b], zerr[:, :, a, b] = zz.T, ze.T
    tipper = None
    if "TIP" in profile.data:
        d = profile.split(values["TIP"], "TIP")
        std = profile.split(profile.data["TIP"].standard_deviation, "TIP")
        ok = np.isfinite(std["real"])
        t_across = np.where(ok, -(d["real"] + 1j * d["imag"]), 0.0).T  # z down, across strike
        t_err = np.where(ok, std["real"], 0.0).T
        th = np.radians(strike)
        tipper = np.stack([-t_across * np.sin(th), t_across * np.cos(th)], axis=-1)
        # the same error on both elements gives t_err back across strike
        tipper_err = np.stack([t_err, t_err], axis=-1)
    a = np.radians(float(azimuth))
    along = profile.stations - profile.stations[0]
    lats = latitude + np.degrees(along * np.cos(a) / EARTH_RADIUS)
    lons = longitude + np.degrees(along * np.sin(a) / (EARTH_RADIUS * np.cos(np.radians(latitude))))
    names = profile.station_names or [f"S{i + 1:03d}" for i in range(ns)]
    paths = []
    for i in range(ns):
        tf = TF()
        tf.station = str(names[i])
        tf.latitude, tf.longitude, tf.elevation = float(lats[i]), float(lons[i]), float(profile.elevations[i])
        tf.period = 1.0 / profile.frequencies
        tf.impedance, tf.impedance_error = rotate_impedance(z[i], -strike, zerr[i])
        if tipper is not None:
            tf.tipper = tipper[i].reshape(nf, 1, 2)
            tf.tipper_error = tipper_err[i].reshape(nf, 1, 2)
        path = os.path.join(os.fspath(folder), f"{names[i]}.edi")
        tf.write(fn=path, file_type="edi")
        paths.append(path)
    return paths
