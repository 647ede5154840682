"""Read what the direct inversion needs out of SimPEG objects.

A :class:`SoundingLayout` lists every (mode, station, frequency) sounding of
a data misfit with the positions of its apparent resistivity and phase in the
stacked data vector (the order of ``BaseInvProblem.get_dpred``), and the
geometry of the model cells under the stations. It is built from the data
misfit and its simulations alone, so any standard SimPEG 2D MT script works.
"""

from __future__ import annotations

import logging

import numpy as np
from simpeg import maps
from simpeg.electromagnetics import natural_source as nsem

from ._derivatives import is_tipper
from ._mesh import cell_depths, is_tensor_mesh
from ._soundings import GROUPS_PER_BAND, SoundingLayout, sounding_state  # noqa: F401  (re-exported)
from ._zo import ColumnGeometry, level_rows

logger = logging.getLogger(__name__)

_APP_RES = {"apparent_resistivity", "app_res"}
_PHASE = {"phase"}
_REAL = {"real"}
_IMAG = {"imag"}


def _map_parts(mapping) -> list:
    """The maps a (possibly nested) ``ComboMap`` chains, outermost first."""
    if isinstance(mapping, maps.ComboMap):
        return [part for inner in mapping.maps for part in _map_parts(inner)]
    return [mapping]


def _model_map(simulation):
    """(active_cells, sign) of a log-conductivity or log-resistivity map."""
    # SimPEG derives sigmaMap = ReciprocalMap * rhoMap where a script sets
    # rhoMap: a leading ReciprocalMap makes the model log resistivity
    mapping = getattr(simulation, "sigmaMap", None)
    sign = 1.0
    if mapping is None:
        mapping = getattr(simulation, "rhoMap", None)
        sign = -1.0
    if mapping is None:
        raise TypeError(
            "ZohdyOldenburg needs a simulation with sigmaMap (or rhoMap) = "
            "ExpMap(mesh) [* InjectActiveCells(mesh, active, value)]"
        )
    parts = _map_parts(mapping)
    if len(parts) > 1 and isinstance(parts[0], maps.ReciprocalMap):
        parts, sign = parts[1:], -sign
    mesh = simulation.mesh
    if not isinstance(parts[0], maps.ExpMap):
        raise TypeError(
            "ZohdyOldenburg works on log-conductivity models: the simulation's "
            f"map must start with ExpMap, got {type(parts[0]).__name__}"
        )
    active = np.ones(mesh.n_cells, dtype=bool)
    for part in parts[1:]:
        if isinstance(part, maps.InjectActiveCells):
            active = np.zeros(mesh.n_cells, dtype=bool)
            active[part.active_cells] = True
        elif type(part) is not maps.IdentityMap:
            raise TypeError(
                f"ZohdyOldenburg supports ExpMap and InjectActiveCells in the model map, got {type(part).__name__}"
            )
    return active, sign


def _mode_of(simulation, orientation):
    if isinstance(simulation, nsem.simulation.Simulation2DMagneticField):
        return "TE"
    if isinstance(simulation, nsem.simulation.Simulation2DElectricField):
        return "TM"
    raise TypeError(
        "ZohdyOldenburg needs 2D MT simulations (Simulation2DMagneticField for "
        f"TE, Simulation2DElectricField for TM), got {type(simulation).__name__} "
        f"with orientation {orientation!r}"
    )


def misfit_simulations(dmisfit) -> list:
    """The simulations of a data misfit.

    In the order of its stacked data (``BaseInvProblem.get_dpred``).
    """
    terms = getattr(dmisfit, "objfcts", [dmisfit])
    return [term.simulation for term in terms if getattr(term, "simulation", None) is not None]


def layout_from_misfit(dmisfit) -> SoundingLayout:
    """Build the sounding layout of a SimPEG data misfit.

    Parameters
    ----------
    dmisfit : simpeg.data_misfit.L2DataMisfit or ComboObjectiveFunction
        One misfit per mode (summed for joint TE+TM).

    Returns
    -------
    SoundingLayout
    """
    terms = getattr(dmisfit, "objfcts", [dmisfit])
    multipliers = getattr(dmisfit, "multipliers", [1.0] * len(terms))
    records = {}
    dobs, weights = [], []
    offset = 0
    mesh = active = sign = None
    xs, zs = [], []
    term_slices, groups, data_frequency = [], [], []
    for term, mult in zip(terms, multipliers, strict=True):
        sim = getattr(term, "simulation", None)
        if sim is None:
            continue
        t_active, t_sign = _model_map(sim)
        if mesh is None:
            mesh, active, sign = sim.mesh, t_active, t_sign
        elif sim.mesh is not mesh and sim.mesh.n_cells != mesh.n_cells:
            raise ValueError("all simulations must share one mesh")
        w = np.asarray(term.W.diagonal(), dtype=float) * np.sqrt(float(mult))
        dobs.append(np.asarray(term.data.dobs, dtype=float))
        weights.append(w)
        pos = offset
        for src in sim.survey.source_list:
            for rx in src.receiver_list:
                if is_tipper(rx):
                    # the tipper enters the misfit and its gradients, not the soundings
                    groups.append(np.full(rx.nD, 4 + (rx.component == "imag"), dtype=int))
                    data_frequency.append(np.full(rx.nD, float(src.frequency)))
                    pos += rx.nD
                    continue
                mode = _mode_of(sim, rx.orientation)
                loc = np.asarray(getattr(rx, "locations_e", rx.locations), dtype=float)
                x = loc[:, 0]
                xs.append(x)
                zs.append(loc[:, -1] if loc.shape[1] > 1 else np.zeros(x.size))
                comp = rx.component
                slot = _component_slot(comp)
                # data groups: (mode, rho or real part = 0 / phase or imaginary part = 1)
                groups.append(np.full(rx.nD, 2 * (mode == "TM") + slot % 2, dtype=int))
                data_frequency.append(np.full(rx.nD, float(src.frequency)))
                for k in range(rx.nD):
                    key = (mode, round(float(x[k]), 3), float(src.frequency))
                    records.setdefault(key, [-1, -1, -1, -1])[slot] = pos + k
                pos += rx.nD
        term_slices.append(slice(offset, offset + sim.survey.nD))
        offset += sim.survey.nD
    if mesh is None:
        raise TypeError("the data misfit has no simulation")
    dobs = np.concatenate(dobs)
    weights = np.concatenate(weights)
    all_x = np.round(np.concatenate(xs), 3)
    station_x = np.unique(all_x)
    # receiver elevation of each station (the mean where modes differ)
    at = np.searchsorted(station_x, all_x)
    station_elevation = np.bincount(at, np.concatenate(zs), station_x.size) / np.bincount(at, None, station_x.size)
    keys = list(records)
    rho_index = np.array([records[k][0] for k in keys])
    phase_index = np.array([records[k][1] for k in keys])
    # unusable: zero weight or non-positive apparent resistivity
    ok_rho = rho_index >= 0
    ok_rho[ok_rho] = (weights[rho_index[ok_rho]] > 0) & (dobs[rho_index[ok_rho]] > 0)
    rho_index = np.where(ok_rho, rho_index, -1)
    ok_phase = phase_index >= 0
    ok_phase[ok_phase] = weights[phase_index[ok_phase]] > 0
    phase_index = np.where(ok_phase, phase_index, -1)
    real_index = np.array([records[k][2] for k in keys])
    imag_index = np.array([records[k][3] for k in keys])
    # impedance soundings: both parts, both weighted
    ok_z = (real_index >= 0) & (imag_index >= 0)
    ok_z[ok_z] = (weights[real_index[ok_z]] > 0) & (weights[imag_index[ok_z]] > 0)
    real_index, imag_index = np.where(ok_z, real_index, -1), np.where(ok_z, imag_index, -1)
    keep = ok_rho | ok_phase | ok_z
    if not keep.any():
        raise ValueError(
            "ZohdyOldenburg found no sounding in the data: it reads apparent resistivity and phase, or the "
            "impedance with both its 'real' and 'imag' parts at a station and frequency (one part alone is no "
            "sounding), each with a finite standard deviation"
        )
    keys = [k for k, good in zip(keys, keep, strict=True) if good]
    rho_index, phase_index = rho_index[keep], phase_index[keep]
    real_index, imag_index, ok_z = real_index[keep], imag_index[keep], ok_z[keep]
    rho_weight = np.zeros(len(keys))
    has = rho_index >= 0
    # weight of ln(rho_a): (rho / std)^2 = (w * rho)^2
    rho_weight[has] = (weights[rho_index[has]] * dobs[rho_index[has]]) ** 2
    from_z = ok_z & ~has
    if from_z.any():
        # rho_a ~ |Z|^2: std(ln rho_a) = 2 std(|Z|) / |Z|, std(|Z|) the parts' rms std
        re, im = real_index[from_z], imag_index[from_z]
        variance = (1.0 / weights[re] ** 2 + 1.0 / weights[im] ** 2) / 2.0
        rho_weight[from_z] = (dobs[re] ** 2 + dobs[im] ** 2) / (4.0 * variance)
    phase_only = ~has & ~ok_z
    if phase_only.any():
        # phase-only soundings: ln-rho equivalent of the phase error (d ln rho ~ 2 d phi)
        ph = phase_index[phase_only]
        rho_weight[phase_only] = (np.rad2deg(1.0) * weights[ph] / 2.0) ** 2
    station = np.searchsorted(station_x, [k[1] for k in keys])
    if active.all():
        _warn_air_in_model(mesh, station_x, station_elevation)
    geometry = _geometry(mesh, active, station_x)
    tensor = is_tensor_mesh(mesh)
    return SoundingLayout(
        frequency=np.array([k[2] for k in keys]),
        station=station,
        mode=np.array([k[0] for k in keys]),
        rho_index=rho_index,
        phase_index=phase_index,
        rho_weight=rho_weight,
        dobs=dobs,
        weights=weights,
        geometry=geometry,
        log_sigma_sign=sign,
        term_slices=tuple(term_slices),
        groups=np.concatenate(groups),
        data_frequency=np.concatenate(data_frequency),
        grid_shape=tuple(int(n) for n in mesh.shape_cells) if tensor else (),
        active=active,
        cell_volume=np.asarray(mesh.cell_volumes, dtype=float)[active],
        rows=() if tensor else tuple(level_rows(geometry.cell_x, mesh.cell_centers[active, 1])),
        real_index=real_index,
        imag_index=imag_index,
        station_elevation=station_elevation,
    )


def _warn_air_in_model(mesh, station_x, station_elevation):
    """Warn where a map without InjectActiveCells makes the air above the receivers model cells."""
    centres = np.asarray(mesh.cell_centers, dtype=float)
    ground = np.interp(centres[:, 0], station_x, station_elevation)
    tolerance = 0.5 * float(np.min(mesh.h[-1]))
    air = int(np.sum(centres[:, -1] > ground + tolerance))
    if air:
        logger.warning(
            "the model map has no InjectActiveCells, so all %d cells are model cells, %d of them above the "
            "receivers (air): ZohdyOldenburg counts depths from the top of the mesh and its Bostick start and "
            "corrections give the air earth resistivities. Map the earth only: "
            "ExpMap(mesh) * InjectActiveCells(mesh, active_cells, np.log(air conductivity))",
            mesh.n_cells,
            air,
        )


def _component_slot(component):
    """Where a receiver component goes in a sounding record."""
    for slot, names in enumerate((_APP_RES, _PHASE, _REAL, _IMAG)):
        if component in names:
            return slot
    raise TypeError(
        "ZohdyOldenburg reads 2D impedance receivers with component 'apparent_resistivity', "
        f"'phase', 'real' or 'imag'; got component {component!r}"
    )


def _geometry(mesh, active, station_x) -> ColumnGeometry:
    depth_all = cell_depths(mesh, active)
    cell_x = mesh.cell_centers[active, 0]
    cell_depth = np.maximum(depth_all[active], 1e-3)
    column_cells = []
    if is_tensor_mesh(mesh):
        model_index = np.full(mesh.n_cells, -1)
        model_index[active] = np.arange(active.sum())
        nx, nz = mesh.shape_cells
        columns = np.clip(np.searchsorted(mesh.nodes_x, station_x) - 1, 0, nx - 1)
        for c in columns:
            cells = model_index[c + nx * np.arange(nz)]
            column_cells.append(cells[cells >= 0][::-1])  # shallowest first
    else:
        # any 2D mesh (a TreeMesh): the model cells whose x-range holds the
        # station, shallowest first
        half = mesh.h_gridded[active, 0] / 2
        cell_z = mesh.cell_centers[active, 1]
        for xs in station_x:
            cells = np.flatnonzero((cell_x - half <= xs) & (xs < cell_x + half))
            column_cells.append(cells[np.argsort(-cell_z[cells])])
    return ColumnGeometry(
        station_x=station_x,
        cell_x=cell_x,
        cell_depth=cell_depth,
        column_cells=tuple(column_cells),
    )
