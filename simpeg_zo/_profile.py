"""An MT profile: mesh, active cells, SimPEG surveys, simulations and data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from simpeg import data as simpeg_data
from simpeg import data_misfit, maps
from simpeg.electromagnetics import natural_source as nsem

from ._derivatives import jtj_diagonal
from ._forward import forward_dpred
from ._mesh import (
    PAD_FRACTION,
    active_cells_from_surface,
    cell_depths,
    column_surface,
    design_mesh,
    discrete_surface,
    receiver_locations,
)
from ._solvers import default_solver, get_solver, solver_name
from ._tipper import Tipper, is_tipper

if TYPE_CHECKING:
    from pymatsolver.solvers import Base as SolverBase
    from simpeg.objective_function import BaseObjectiveFunction

__all__ = ["Profile", "build_profile", "MODES", "IMPEDANCE_MODES", "default_solver"]


class _JtJDiagonal:
    """``getJtJdiag`` for SimPEG's 2D MT simulations.

    Computed by :func:`simpeg_zo.jtj_diagonal`, so that SimPEG's
    ``UpdatePreconditioner`` and ``UpdateSensitivityWeights`` directives
    work on them; the fields (and factorisations) of the last
    ``fields(m)`` call are reused when ``m`` is the same model.
    """

    def fields(self, m=None):
        f = super().fields(m)
        self._jtj_fields = (np.array(self.model, dtype=float, copy=True), f)
        return f

    def getJtJdiag(self, m, W=None, f=None):
        cached = getattr(self, "_jtj_fields", None)
        if f is None and cached is not None and cached[0].shape == np.shape(m) and np.array_equal(cached[0], m):
            f = cached[1]
        return jtj_diagonal(self, m, W=W, f=f)


class Simulation2DMagneticField(_JtJDiagonal, nsem.simulation.Simulation2DMagneticField):
    """SimPEG's TE simulation (``Simulation2DMagneticField``) with ``getJtJdiag`` and tippers.

    Takes :class:`simpeg_zo.Tipper` receivers (``orientation="zx"``) beside
    the ``"yx"`` impedances, as SimPEG 0.26's class does; SimPEG 0.25's
    refuses them.
    """

    def __init__(self, mesh, survey=None, **kwargs):
        if survey is None or not any(is_tipper(rx) for src in survey.source_list for rx in src.receiver_list):
            super().__init__(mesh, survey=survey, **kwargs)
            return
        others = {rx.orientation for src in survey.source_list for rx in src.receiver_list if not is_tipper(rx)}
        if others - {"yx"}:
            raise TypeError("Simulation2DMagneticField takes 'yx' impedances and 'zx' tippers only")
        # SimPEG 0.25 checks every receiver's orientation: build on a survey
        # of the same frequencies without receivers, then take the real one
        bare = nsem.Survey([nsem.sources.Planewave([], frequency=f) for f in survey.frequencies])
        super().__init__(mesh, survey=bare, **kwargs)
        self.survey = survey


class Simulation2DElectricField(_JtJDiagonal, nsem.simulation.Simulation2DElectricField):
    """SimPEG's TM simulation (``Simulation2DElectricField``) with ``getJtJdiag``."""


#: SimPEG simulation class and receiver orientation of each mode.
MODES = {
    "TE": (Simulation2DMagneticField, "yx"),
    "TM": (Simulation2DElectricField, "xy"),
    "TIP": (Simulation2DMagneticField, "zx"),
}
#: The modes whose data are impedances (apparent resistivity and phase).
IMPEDANCE_MODES = ("TE", "TM")
#: Data components of each mode, in the order of a frequency's data.
COMPONENTS = {
    "TE": ("apparent_resistivity", "phase"),
    "TM": ("apparent_resistivity", "phase"),
    "TIP": ("real", "imag"),
}
#: Default absolute standard deviation of the tipper's real and imaginary
#: parts (the floor practitioners set, 0.02-0.03).
TIPPER_ERROR = 0.02
#: Conductivity of the air cells (S/m). SimPEG's TE system carries the air
#: resistivity in its curl-curl term; with 1e-8 S/m the TE matrix over rugged
#: topography is so ill-conditioned that low-frequency TE apparent
#: resistivities scattered by 2-4 % from station to station with either
#: solver (measured at 1e-3 Hz, 100 ohm-m, 500 m relief); 1e-6 S/m removes
#: that scatter (0.3 %) and changes a flat half-space's response by less than
#: 0.01 %, and the air still carries 1e-4 of a 100 ohm-m earth's current.
AIR_CONDUCTIVITY = 1e-6


def _normalise_modes(modes):
    out = []
    for mode in modes:
        key = str(mode).upper()
        if key not in MODES:
            raise ValueError(f"mode must be 'TE', 'TM' or 'TIP', got {mode!r}")
        if key in out:
            raise ValueError(f"mode {key} given twice")
        out.append(key)
    if not out:
        raise ValueError("at least one mode is needed")
    if set(out) == {"TIP"}:
        raise ValueError("the tipper (TIP) needs TE or TM beside it")
    return tuple(m for m in MODES if m in out)


@dataclass
class Profile:
    """A 2D MT profile ready for SimPEG.

    Build one with :func:`build_profile` (stations and frequencies),
    :func:`simpeg_zo.synthetic_profile` (a model specification) or
    :func:`simpeg_zo.read_edi_profile` (field data).

    Attributes
    ----------
    mesh : discretize.TensorMesh
        The mesh (x along the profile, elevation up).
    active_cells : (n_cells,) numpy.ndarray of bool
        Ground cells (below the topography).
    stations : (n_stations,) numpy.ndarray
        Station positions along the profile (m).
    elevations : (n_stations,) numpy.ndarray
        Discrete ground elevation at each station (m).
    frequencies : (n_frequencies,) numpy.ndarray
        Frequencies (Hz), in survey order.
    modes : tuple of str
        ``"TE"`` and/or ``"TM"``, and ``"TIP"`` for the tipper.
    simulations : dict
        SimPEG simulation per mode (TE: ``Simulation2DMagneticField`` with
        ``"yx"`` receivers; TM: ``Simulation2DElectricField`` with ``"xy"``;
        TIP: ``Simulation2DMagneticField`` with :class:`~simpeg_zo.Tipper`
        ``"zx"`` receivers, real and imaginary parts).
    data : dict
        :class:`simpeg.data.Data` per mode, once observed data are set.
    """

    mesh: object
    active_cells: np.ndarray
    stations: np.ndarray
    elevations: np.ndarray
    frequencies: np.ndarray
    modes: tuple
    simulations: dict
    mapping: object
    receiver_locations: np.ndarray
    data: dict = field(default_factory=dict)
    station_names: list | None = None
    _units_cache: list | None = field(default=None, init=False, repr=False, compare=False)

    # ----------------------------------------------------------------- shape
    @property
    def n_stations(self) -> int:
        return self.stations.size

    @property
    def n_frequencies(self) -> int:
        return self.frequencies.size

    @property
    def solver(self) -> str:
        """Name of the direct solver the simulations use (for reports)."""
        sim = next(iter(self.simulations.values()))
        return solver_name(sim.solver)

    @property
    def n_active(self) -> int:
        return int(self.active_cells.sum())

    @property
    def n_data(self) -> int:
        """Number of data with a finite standard deviation, all modes."""
        return int(sum(np.isfinite(d.standard_deviation).sum() for d in self.data.values()))

    @property
    def impedance_modes(self) -> tuple:
        """The modes with impedance data (``"TE"``, ``"TM"``), without the tipper."""
        return tuple(m for m in self.modes if m in IMPEDANCE_MODES)

    def surveys(self) -> dict:
        """SimPEG survey per mode."""
        return {mode: sim.survey for mode, sim in self.simulations.items()}

    @property
    def cell_depths(self) -> np.ndarray:
        """Depth below the local surface of each active cell centre (m)."""
        return cell_depths(self.mesh, self.active_cells)[self.active_cells]

    @property
    def surface(self) -> np.ndarray:
        """Discrete ground elevation per mesh column (m)."""
        return column_surface(self.mesh, self.active_cells)

    # ----------------------------------------------------------------- models
    def model_from_resistivity(self, resistivity: ArrayLike) -> NDArray[np.float64]:
        """SimPEG model (log conductivity of the active cells) from resistivity.

        Parameters
        ----------
        resistivity : float or (n_active,) numpy.ndarray
            Resistivity (ohm-m) of the active cells.
        """
        rho = np.broadcast_to(np.asarray(resistivity, dtype=float), (self.n_active,))
        return -np.log(rho).copy()

    @staticmethod
    def resistivity(model: ArrayLike) -> NDArray[np.float64]:
        """Resistivity (ohm-m) of the active cells from a SimPEG model."""
        return np.exp(-np.asarray(model, dtype=float))

    def half_space(self, resistivity: float | None = None) -> NDArray[np.float64]:
        """A half-space model.

        The default resistivity is the geometric mean of the observed
        apparent resistivities (dropped data, which have an infinite standard
        deviation, left out).
        """
        if resistivity is None:
            rho = np.concatenate(
                [self.observed(mode)["apparent_resistivity"].ravel() for mode in self.data if mode in IMPEDANCE_MODES]
            )
            rho = rho[np.isfinite(rho) & (rho > 0)]
            resistivity = float(np.exp(np.mean(np.log(rho)))) if rho.size else 100.0
        return self.model_from_resistivity(resistivity)

    def observed(self, mode: str) -> dict:
        """Observed ``apparent_resistivity`` and ``phase`` of one mode (``real``, ``imag`` of TIP).

        ``(n_frequencies, n_stations)`` arrays, NaN where a datum was dropped
        (infinite standard deviation).
        """
        d = self.data[mode]
        values = np.where(np.isfinite(d.standard_deviation), d.dobs, np.nan)
        return self.split(values, mode)

    def station_columns(self, model: ArrayLike, depths: ArrayLike) -> NDArray[np.float64]:
        """log10 resistivity under every station at the given depths below its ground.

        Linear in log-depth along the station's mesh column, constant beyond
        its ends.

        Returns
        -------
        (n_depths, n_stations) numpy.ndarray
        """
        nx, nz = self.mesh.shape_cells
        index = np.full(self.mesh.n_cells, -1)
        index[self.active_cells] = np.arange(self.n_active)
        log_rho = np.log10(self.resistivity(model))
        depth = self.cell_depths
        columns = np.clip(np.searchsorted(self.mesh.nodes_x, self.stations) - 1, 0, nx - 1)
        out = np.empty((np.size(depths), self.n_stations))
        for i, c in enumerate(columns):
            cells = index[c + nx * np.arange(nz)]
            cells = cells[cells >= 0]
            order = np.argsort(depth[cells])
            cells = cells[order]
            out[:, i] = np.interp(np.log(depths), np.log(np.maximum(depth[cells], 1e-3)), log_rho[cells])
        return out

    def lateral_roughness(self, model: ArrayLike, depth_max: float) -> float:
        """RMS of the log10-resistivity jumps between neighbouring stations.

        Over 40 depths log-spaced from the first cell to ``depth_max`` below
        the ground: a vertical column under one station (a model artefact
        no smooth inversion has) shows up as large jumps.
        """
        first = float(np.min(self.cell_depths))
        depths = np.geomspace(max(first, 1e-3), max(depth_max, 2 * first), 40)
        columns = self.station_columns(model, depths)
        return float(np.sqrt(np.mean(np.diff(columns, axis=1) ** 2))) if self.n_stations > 1 else 0.0

    # ----------------------------------------------------------------- data
    def forward_units(self) -> list:
        """The simulations that are solved, and which modes' data each holds.

        TE and the tipper share one system (the tipper is ``Hz/Hx`` of the
        TE fields): with both, one TE simulation carries the impedance and
        tipper receivers of every frequency, so each frequency is
        factorised and solved once for the two. Every other mode is its own
        simulation.

        Returns
        -------
        list of (simulation, dict)
            ``{mode: index}``: the positions of the mode's data (in its own
            survey's order) in the simulation's data vector.
        """
        if self._units_cache is not None:
            return self._units_cache
        units, done = [], set()
        if "TE" in self.simulations and "TIP" in self.simulations:
            te, tip = self.simulations["TE"], self.simulations["TIP"]
            sources = [
                nsem.sources.Planewave(list(a.receiver_list) + list(b.receiver_list), frequency=a.frequency)
                for a, b in zip(te.survey.source_list, tip.survey.source_list, strict=True)
            ]
            joint = type(te)(
                self.mesh,
                survey=nsem.Survey(sources),
                sigmaMap=self.mapping,
                solver=te.solver,
                solver_opts=dict(te.solver_opts),
            )
            joint_slices = joint.survey.get_all_slices()
            positions = np.arange(joint.survey.nD)
            index = {}
            for mode, sim in (("TE", te), ("TIP", tip)):
                own = sim.survey.get_all_slices()
                idx = np.empty(sim.survey.nD, dtype=int)
                for src, src_joint in zip(sim.survey.source_list, sources, strict=True):
                    for rx in src.receiver_list:
                        idx[own[src, rx]] = positions[joint_slices[src_joint, rx]]
                index[mode] = idx
            units.append((joint, index))
            done = {"TE", "TIP"}
        for mode, sim in self.simulations.items():
            if mode not in done:
                units.append((sim, {mode: np.arange(sim.survey.nD)}))
        self._units_cache = units
        return units

    def dpred(self, model: ArrayLike) -> dict:
        """Predicted data per mode, forward only.

        Each frequency is factorised, solved and released (see
        :func:`simpeg_zo.forward_dpred`), once for TE and the tipper
        (:meth:`forward_units`).
        """
        out = {}
        for sim, index in self.forward_units():
            d = forward_dpred(sim, model)
            for mode, idx in index.items():
                out[mode] = d[idx]
        return {mode: out[mode] for mode in self.modes}

    def split(self, vector: ArrayLike, mode: str) -> dict:
        """Split one mode's data vector into its components.

        ``(n_frequencies, n_stations)`` arrays ``"apparent_resistivity"`` and
        ``"phase"`` (degrees) for TE and TM, ``"real"`` and ``"imag"`` (the
        tipper's parts) for TIP.
        """
        v = np.asarray(vector, dtype=float).reshape(self.n_frequencies, 2, self.n_stations)
        first, second = COMPONENTS[mode]
        return {first: v[:, 0, :], second: v[:, 1, :]}

    def join(self, apparent_resistivity: ArrayLike, phase: ArrayLike) -> NDArray[np.float64]:
        """Inverse of :meth:`split` (the two components in order, for any mode)."""
        shape = (self.n_frequencies, self.n_stations)
        rho = np.broadcast_to(apparent_resistivity, shape)
        phi = np.broadcast_to(phase, shape)
        return np.stack([rho, phi], axis=1).ravel()

    def set_data(
        self,
        dobs: dict,
        *,
        relative_error: float,
        phase_error_degrees: float,
        floor: dict | None = None,
        tipper_error: float = TIPPER_ERROR,
    ) -> Profile:
        """Attach observed data with standard deviations.

        Parameters
        ----------
        dobs : dict
            Observed data vector per mode (SimPEG order; NaN marks a missing
            datum, which gets an infinite standard deviation and no weight).
        relative_error : float
            Standard deviation of apparent resistivity as a fraction of it.
        phase_error_degrees : float
            Standard deviation of phase in degrees.
        floor : dict, optional
            Per mode, a standard-deviation vector; the larger of it and the
            relative/absolute errors is used (field data with variances).
        tipper_error : float
            Absolute standard deviation of the tipper's real and imaginary
            parts (TIP; the floor where ``floor`` gives variances).
        """
        if relative_error <= 0 or phase_error_degrees <= 0:
            raise ValueError("standard deviations must be > 0")
        if "TIP" in self.modes and not (np.isfinite(tipper_error) and tipper_error > 0):
            raise ValueError(f"tipper_error must be > 0, got {tipper_error}")
        self.data = {}
        for mode in self.modes:
            d = np.asarray(dobs[mode], dtype=float)
            if mode == "TIP":
                std = np.full(d.shape, float(tipper_error))
            else:
                parts = self.split(d, mode)
                std = self.join(
                    relative_error * np.abs(parts["apparent_resistivity"]),
                    np.full_like(parts["phase"], phase_error_degrees),
                )
            if floor is not None and mode in floor:
                std = np.maximum(std, floor[mode])
            missing = ~np.isfinite(d)
            d = np.where(missing, 0.0, d)
            std = np.where(missing, np.inf, std)
            self.data[mode] = simpeg_data.Data(self.simulations[mode].survey, dobs=d, standard_deviation=std)
        return self

    def data_misfit(self) -> BaseObjectiveFunction:
        """The SimPEG data misfit.

        One :class:`L2DataMisfit` per simulation of :meth:`forward_units`
        (per mode; TE and the tipper in one), summed into a
        ``ComboObjectiveFunction`` for several.
        """
        if not self.data:
            raise ValueError("the profile has no observed data; call set_data first")
        terms = []
        for sim, index in self.forward_units():
            if len(index) == 1:
                (mode,) = index
                terms.append(data_misfit.L2DataMisfit(data=self.data[mode], simulation=sim))
                continue
            dobs = np.zeros(sim.survey.nD)
            std = np.full(sim.survey.nD, np.inf)
            for mode, idx in index.items():
                dobs[idx] = self.data[mode].dobs
                std[idx] = self.data[mode].standard_deviation
            data = simpeg_data.Data(sim.survey, dobs=dobs, standard_deviation=std)
            terms.append(data_misfit.L2DataMisfit(data=data, simulation=sim))
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return out

    def chi2(self, dpred: dict) -> float:
        """phi_d / n_data for predicted data (dict per mode)."""
        phi = 0.0
        for mode, d in self.data.items():
            w = 1.0 / d.standard_deviation
            phi += float(np.sum((w * (dpred[mode] - d.dobs)) ** 2))
        return phi / self.n_data

    def rms_percent(self, dpred: dict) -> float:
        """The RMS relative error of apparent resistivity in percent."""
        num, n = 0.0, 0
        for mode, d in self.data.items():
            if mode not in IMPEDANCE_MODES:
                continue
            obs = self.split(d.dobs, mode)["apparent_resistivity"]
            ok = np.isfinite(self.split(d.standard_deviation, mode)["apparent_resistivity"])
            pred = self.split(dpred[mode], mode)["apparent_resistivity"]
            num += float(np.sum(((obs[ok] - pred[ok]) / obs[ok]) ** 2))
            n += int(ok.sum())
        return 100.0 * np.sqrt(num / max(n, 1))


def build_profile(
    stations: ArrayLike,
    frequencies: ArrayLike,
    *,
    modes: Sequence[str] = ("TE", "TM"),
    elevation: Callable[[NDArray[np.float64]], ArrayLike] | ArrayLike | None = None,
    resistivity_range: tuple[float, float] = (10.0, 1000.0),
    cells_per_station: int = 2,
    dz_surface: float | None = None,
    pad_fraction: float = PAD_FRACTION,
    station_names: Sequence[str] | None = None,
    solver: str | type[SolverBase] | None = None,
    solver_opts: dict | None = None,
    **mesh_options: Any,
) -> Profile:
    """Build the mesh, active cells, receivers and simulations of a profile.

    Parameters
    ----------
    stations : (n_stations,) array_like
        Station positions along the profile (m), strictly increasing.
    frequencies : (n_frequencies,) array_like
        Frequencies (Hz), all positive.
    modes : sequence of str
        ``"TE"``, ``"TM"`` or both, and ``"TIP"`` for the tipper (``Tzx``
        of the TE mode, its own simulation).
    elevation : callable or (n_stations,) array_like, optional
        Ground elevation: a function of x, or values at the stations
        (linear in between, constant beyond). Flat at 0 when omitted.
    resistivity_range : (2,) tuple of float
        Lowest and highest resistivity expected (ohm-m); sets the surface cell
        size and the padding (see :func:`design_mesh`).
    cells_per_station : int
        Horizontal core cells per station interval.
    dz_surface : float, optional
        Override of the surface cell height (m).
    pad_fraction : float
        Half-width of the flat ground pad around each station, as a fraction
        of the distance to its nearest neighbour (see
        :func:`simpeg_zo._mesh.discrete_surface`); it keeps the TM response
        free of the staircase's corner singularities.
    station_names : list of str, optional
        Names for reports.
    solver : {"auto", "pardiso", "superlu"} or pymatsolver solver class, optional
        Direct solver of every simulation; default ``"auto"``
        (:func:`simpeg_zo.default_solver`: MKL PARDISO when the ``mkl``
        package loads, SuperLU otherwise).
    solver_opts : dict, optional
        Options of that solver.
    **mesh_options
        Passed to :func:`design_mesh` (``growth``, ``padding_growth``,
        ``padding_skin_depths``, ``dz_band``).

    Returns
    -------
    Profile
        Without data; attach observed data with :meth:`Profile.set_data`.

    Examples
    --------
    >>> import numpy as np
    >>> from simpeg_zo import build_profile
    >>> profile = build_profile(
    ...     np.linspace(0, 2000, 5), np.logspace(2, -1, 4), modes=["TE"], resistivity_range=(100, 100)
    ... )
    >>> profile.modes, profile.n_stations
    (('TE',), 5)
    """
    stations = np.asarray(stations, dtype=float).ravel()
    frequencies = np.asarray(frequencies, dtype=float).ravel()
    if stations.size == 0 or not np.all(np.isfinite(stations)):
        raise ValueError("stations must be a non-empty array of finite positions")
    if np.any(np.diff(stations) <= 0):
        raise ValueError("stations must be strictly increasing")
    if frequencies.size == 0 or not np.all(np.isfinite(frequencies)) or np.any(frequencies <= 0):
        raise ValueError("frequencies must be a non-empty array of positive values")
    lo, hi = resistivity_range
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(f"resistivity_range must be 0 < low <= high, got {resistivity_range}")
    modes = _normalise_modes(modes)
    if elevation is None:
        elevation_fn = None
    elif callable(elevation):
        elevation_fn = elevation
    else:
        elev = np.asarray(elevation, dtype=float).ravel()
        if elev.shape != stations.shape or not np.all(np.isfinite(elev)):
            raise ValueError("elevation must be finite, one value per station")

        def elevation_fn(x, _s=stations, _e=elev):
            return np.interp(x, _s, _e)

    mesh = design_mesh(
        stations,
        frequencies,
        elevation=elevation_fn,
        resistivity_range=resistivity_range,
        cells_per_station=cells_per_station,
        dz_surface=dz_surface,
        pad_fraction=pad_fraction,
        **mesh_options,
    )
    if elevation_fn is None:
        active = mesh.cell_centers[:, 1] < 0.0
    else:
        surface = discrete_surface(mesh, stations, elevation_fn, pad_fraction=pad_fraction)
        active = active_cells_from_surface(mesh, surface)
    locations, surface = receiver_locations(mesh, active, stations)
    mapping = maps.ExpMap(mesh) * maps.InjectActiveCells(mesh, active, np.log(AIR_CONDUCTIVITY))
    if solver is None or isinstance(solver, str):
        solver, default_opts = get_solver(solver or "auto")
        solver_opts = dict(default_opts if solver_opts is None else solver_opts)
    else:
        solver_opts = dict(solver_opts or {})
    simulations = {}
    for mode in modes:
        cls, orientation = MODES[mode]
        if mode == "TIP":
            receivers = [Tipper(locations, orientation=orientation, component=c) for c in COMPONENTS[mode]]
        else:
            receivers = [
                nsem.receivers.Impedance(locations, orientation=orientation, component=c) for c in COMPONENTS[mode]
            ]
        sources = [nsem.sources.Planewave(receivers, frequency=f) for f in frequencies]
        simulations[mode] = cls(
            mesh,
            survey=nsem.Survey(sources),
            sigmaMap=mapping,
            solver=solver,
            solver_opts=solver_opts,
        )
    return Profile(
        mesh=mesh,
        active_cells=active,
        stations=stations,
        elevations=surface,
        frequencies=frequencies,
        modes=modes,
        simulations=simulations,
        mapping=mapping,
        receiver_locations=locations,
        station_names=list(station_names) if station_names is not None else None,
    )
