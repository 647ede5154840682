"""Forward-only evaluation of SimPEG frequency-domain simulations.

SimPEG's ``fields`` keeps every frequency's factorisation (its Jacobian
products reuse them), so a profile with many frequencies holds many
factorisations at once. Methods that need no Jacobian product (ZO, the
network's start, synthetic data and training sets) only need the predicted
data: :func:`forward_dpred` factorises, solves and releases one frequency at a
time, so the peak memory is about one factorisation.

:class:`ForwardEngine` does the same for all the simulations of a data misfit
and, with ``workers > 1`` or a Dask ``scheduler`` address, spreads the
(simulation, frequency) solves over Dask worker processes: each worker keeps
its own copy of the simulations and receives only the model.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import scipy.sparse as sp
    from simpeg.fields import Fields
    from simpeg.simulation import BaseSimulation

__all__ = ["forward_dpred", "jtj_diagonal", "ForwardEngine", "local_cluster"]

logger = logging.getLogger(__name__)


def _frequency_terms(
    simulation,
    model,
    frequencies,
    *,
    dobs=None,
    weights=None,
    groups=None,
    directions=None,
    boundary_gradient=True,
    jtj_diagonal=False,
):
    """Data, and optionally misfit gradients and Jacobian products, of some frequencies.

    Each frequency is factorised once and released.

    Mirrors SimPEG's ``Jtvec``/``Jvec`` frequency by frequency (adjoint and
    tangent solves on the same factorisation as the forward solve).

    Parameters
    ----------
    dobs, weights : (n_data,) numpy.ndarray, optional
        Observed data and weights; with them the gradients of
        ``sum(weights**2 * (d - dobs)**2)`` over each group are returned.
    groups : (n_data,) numpy.ndarray of int, optional
        Group label of every datum (default all 0); one gradient per label.
    directions : (n_model, k) numpy.ndarray, optional
        Model directions whose Jacobian products ``J @ directions`` are
        returned.
    boundary_gradient : bool
        Include the gradient's part through the 1D boundary fields (the
        outermost mesh columns); it costs a 1D derivative per group, and
        callers that never move those columns can leave it out.
    jtj_diagonal : bool
        Also return the diagonal of ``J^T diag(weights**2) J`` (one adjoint
        solve per station and impedance, whose rows give its apparent
        resistivity and phase, on the same factorisation; needs ``weights``).

    Returns
    -------
    dict
        ``"data"``: list of (slice, values); ``"gradients"``: {label:
        (n_model,) array}; ``"jd"``: list of (slice, (n, k) array);
        ``"jtj_diagonal"``: (n_model,) array or None.
    """
    simulation.model = model
    fields = simulation.fieldsPair(simulation)
    slices = simulation.survey.get_all_slices()
    want_grad = dobs is not None
    if want_grad:
        labels = np.zeros(simulation.survey.nD, dtype=int) if groups is None else np.asarray(groups)
        names = [int(g) for g in np.unique(labels[np.asarray(weights) > 0])]
        gradients = {g: np.zeros(np.asarray(model).size) for g in names}
    else:
        gradients = {}
    data, jd = [], []
    diagonal = np.zeros(np.asarray(model).size) if jtj_diagonal else None
    boundary = _boundary_parameters(simulation, model) if directions is not None else None
    for frequency in frequencies:
        A = simulation.getA(frequency)
        rhs = simulation.getRHS(frequency)
        solver = simulation.solver(A, **simulation.solver_opts)
        try:
            sources = simulation.survey.get_sources_by_frequency(frequency)
            fields[sources, simulation._solutionType] = solver * rhs
            for src in sources:
                for rx in src.receiver_list:
                    data.append((slices[src, rx], _receiver_data(rx, src, simulation.mesh, fields)))
            current = {}
            for index, values in data[-sum(len(src.receiver_list) for src in sources) :]:
                current[(index.start, index.stop)] = values
            for src in sources:
                u = fields[src, simulation._solutionType]
                if want_grad and names:
                    # one adjoint right-hand side per group, all groups at once
                    V = {}
                    for rx in src.receiver_list:
                        sl = slices[src, rx]
                        misfit = current[(sl.start, sl.stop)] - np.asarray(dobs)[sl]
                        resid = 2.0 * np.asarray(weights)[sl] ** 2 * misfit
                        V[id(rx)] = np.column_stack([resid * (labels[sl] == g) for g in names])
                    terms = _adjoint_terms(
                        simulation, frequency, src, fields, solver, V, len(names), boundary=boundary_gradient
                    )
                    for j, g in enumerate(names):
                        gradients[g] += terms[:, j]
                if diagonal is not None:
                    diagonal += _source_jtj_diagonal(
                        simulation,
                        frequency,
                        src,
                        fields,
                        solver,
                        np.asarray(weights),
                        slices,
                        boundary=boundary_gradient,
                    )
                if directions is not None:
                    D = np.asarray(directions)
                    rhs_t = -np.asarray(simulation.getADeriv(frequency, u, D, adjoint=False)).reshape(u.shape[0], -1)
                    # the right-hand side depends on the model only through the
                    # boundary columns (1D boundary fields)
                    for j in np.flatnonzero(np.any(D[boundary] != 0, axis=0)):
                        rhs_t[:, j] += np.asarray(simulation.getRHSDeriv(frequency, src, D[:, j])).reshape(-1)
                    du = solver * rhs_t
                    for rx in src.receiver_list:
                        jd.append((slices[src, rx], _tangent_data(rx, src, simulation.mesh, fields, du, D)))
        finally:
            solver.clean()
    return {"data": data, "gradients": gradients, "jd": jd, "jtj_diagonal": diagonal}


def _boundary_parameters(simulation, model):
    """Model parameters that reach the outermost mesh columns, as a boolean mask.

    The 2D MT simulations take their 1D boundary fields from those columns.
    """
    mapping = getattr(simulation, "sigmaMap", None) or getattr(simulation, "rhoMap", None)
    mesh = simulation.mesh
    n_model = np.asarray(model).size
    try:
        deriv = mapping.deriv(np.asarray(model, dtype=float)).tocsr()
        # cells on the left and right mesh edges (any 2D mesh, trees too)
        centres, widths = mesh.cell_centers[:, 0], mesh.h_gridded[:, 0]
        tol = 1e-6 * float(mesh.nodes_x[-1] - mesh.nodes_x[0])
        edge = (centres - widths / 2 <= mesh.nodes_x[0] + tol) | (centres + widths / 2 >= mesh.nodes_x[-1] - tol)
        rows = np.flatnonzero(edge)
        touched = np.unique(deriv[rows].indices)
    except Exception:  # an unusual mapping: assume every parameter
        return np.ones(n_model, dtype=bool)
    mask = np.zeros(n_model, dtype=bool)
    mask[touched] = True
    return mask


_PROJECTIONS = weakref.WeakKeyDictionary()


def _impedance_projections(rx, mesh):
    """(P_E, P_H) interpolation matrices of a 2D impedance receiver.

    Kept per receiver and mesh (SimPEG's NSEM receivers rebuild them at every
    call).
    """
    key = (id(mesh), mesh.n_cells, rx.orientation, rx.locations_e.tobytes())
    cached = _PROJECTIONS.get(rx)
    if cached is None or cached[0] != key:
        if rx.orientation == "xy":
            pair = rx.getP(mesh, "Ex"), rx.getP(mesh, "CC")
        else:
            pair = rx.getP(mesh, "CC"), rx.getP(mesh, "Ex")
        cached = (key, pair)
        _PROJECTIONS[rx] = cached
    return cached[1]


def _impedance(rx, src, mesh, fields):
    """A 2D impedance receiver's impedances and the magnetic fields under them."""
    PE, PH = _impedance_projections(rx, mesh)
    bot = PH @ fields[src, "h"][:, 0]
    return (PE @ fields[src, "e"][:, 0]) / bot, bot


def _impedance_scale(component, src, imp):
    """Complex ``c`` per station with ``d(datum) = Re(c dZ)``.

    For apparent resistivity, phase (degrees), real and imaginary parts of
    the impedances ``imp``: the tangent rows are ``Re(c dZ/dm)`` and the
    adjoint takes ``c v`` for real data-space ``v``.
    """
    from simpeg.electromagnetics.natural_source.receivers import _alpha

    if component == "apparent_resistivity":
        return 2 * _alpha(src) * np.conj(imp)
    if component == "phase":
        return -1j * (180 / np.pi) * np.conj(imp) / (imp.real**2 + imp.imag**2)
    if component == "imag":
        return np.full(imp.shape, -1j)
    return np.ones(imp.shape, dtype=complex)


def _receiver_data(rx, src, mesh, fields):
    """A receiver's data (SimPEG's ``rx.eval``).

    Vectorised for 2D impedance receivers, with their projections kept.
    """
    from simpeg.electromagnetics.natural_source.receivers import _alpha

    if not _vectorised(rx, mesh):
        return np.asarray(rx.eval(src, mesh, fields)).ravel()
    imp, _ = _impedance(rx, src, mesh, fields)
    if rx.component == "apparent_resistivity":
        return _alpha(src) * (imp.real**2 + imp.imag**2)
    if rx.component == "phase":
        return 180 / np.pi * np.arctan2(imp.imag, imp.real)
    return getattr(imp, rx.component)


def _vectorised(rx, mesh):
    from simpeg.electromagnetics.natural_source.receivers import Impedance

    return (
        isinstance(rx, Impedance)
        and mesh.dim == 2
        and rx.orientation in ("xy", "yx")
        and rx.component in ("apparent_resistivity", "phase", "real", "imag")
    )


def _impedance_adjoint_sources(rx, src, mesh, fields, vz):
    """``(P_H^T g_h, P_E^T g_e)`` of complex impedance-space vectors.

    The adjoint of ``dZ = (P_E de - Z P_H dh) / (P_H h)`` applied to ``vz``
    (n_stations, n_cols).
    """
    PE, PH = _impedance_projections(rx, mesh)
    imp, bot = _impedance(rx, src, mesh, fields)
    g = vz / bot[:, None]
    return PH.T @ (-imp[:, None] * g), PE.T @ g


def _field_adjoint(src, fields, gh, ge, n_fields, n_cols):
    """``(du, dm)``: the adjoints of the h and e field derivatives applied to ``gh`` and ``ge``."""
    from simpeg.utils import Zero

    du = np.zeros((n_fields, n_cols), dtype=complex)
    dm = 0.0
    for part_u, part_m in (
        fields._hDeriv(src, None, gh, adjoint=True),
        fields._eDeriv(src, None, ge, adjoint=True),
    ):
        if not isinstance(part_u, Zero):
            du += np.asarray(part_u).reshape(n_fields, n_cols)
        if not isinstance(part_m, Zero):
            dm = dm + np.asarray(part_m).reshape(-1, n_cols)
    return du, dm


def _adjoint_data(src, mesh, fields, V, n_groups, n_fields):
    """``(dd/du)^T V`` and ``(dd/dm)^T V`` of a source's receivers.

    For several data-space vectors at once (``V[id(rx)]``: (nD, n_groups)).
    """
    from simpeg.utils import Zero

    gh = ge = None
    du_sum = np.zeros((n_fields, n_groups), dtype=complex)
    dm_cols = [0.0] * n_groups
    for rx in src.receiver_list:
        v = V[id(rx)]
        if not _vectorised(rx, mesh):
            for j in range(n_groups):
                du_t, dm_t = rx.evalDeriv(src, mesh, fields, v=v[:, j], adjoint=True)
                if not isinstance(du_t, Zero):
                    du_sum[:, j] += np.asarray(du_t).reshape(-1)
                if not isinstance(dm_t, Zero):
                    dm_cols[j] = dm_cols[j] + np.asarray(dm_t).reshape(-1)
            continue
        imp, _ = _impedance(rx, src, mesh, fields)
        vz = _impedance_scale(rx.component, src, imp)[:, None] * v
        h_part, e_part = _impedance_adjoint_sources(rx, src, mesh, fields, vz)
        gh = h_part if gh is None else gh + h_part
        ge = e_part if ge is None else ge + e_part
    dm_sum = 0.0
    if any(not np.isscalar(c) for c in dm_cols):
        size = next(np.size(c) for c in dm_cols if not np.isscalar(c))
        dm_sum = np.column_stack([np.broadcast_to(c, size) for c in dm_cols])
    if gh is not None:
        du, dm = _field_adjoint(src, fields, gh, ge, n_fields, n_groups)
        du_sum += du
        dm_sum = dm_sum + dm
    return du_sum, dm_sum


def _adjoint_solve(simulation, frequency, src, fields, solver, du, dm, n_cols, *, boundary=True):
    """Complex ``J^T`` columns from the data's field and model adjoints ``du``, ``dm``.

    One adjoint solve per column on ``solver`` (the frequency's
    factorisation), then the model derivatives of the system matrix and,
    with ``boundary``, of the 1D boundary fields. Returns (n_model, n_cols).
    """
    u = fields[src, simulation._solutionType]
    lam = solver * du
    terms = -np.asarray(simulation.getADeriv(frequency, u, lam, adjoint=True)).reshape(-1, n_cols)
    if boundary:
        terms = terms + _rhs_deriv_adjoint(simulation, frequency, src, lam)
    return terms + dm


def _adjoint_terms(simulation, frequency, src, fields, solver, V, n_cols, *, boundary=True):
    """``J^T V`` of one source for several data-space vectors at once.

    Returns (n_model, n_cols); see ``_adjoint_solve``.
    """
    n_fields = fields[src, simulation._solutionType].shape[0]
    du, dm = _adjoint_data(src, simulation.mesh, fields, V, n_cols, n_fields)
    return np.real(_adjoint_solve(simulation, frequency, src, fields, solver, du, dm, n_cols, boundary=boundary))


def _rhs_deriv_adjoint(simulation, frequency, src, lam):
    """``(dq/dm)^T lam`` for the columns of ``lam`` (the 1D boundary fields).

    All columns in one call where the simulation takes a matrix (SimPEG's 2D
    MT simulations do: one multi-right-hand-side 1D solve), else column by
    column. Returns (n_model, n_cols), or 0.0 where the right-hand side does
    not depend on the model.
    """
    from simpeg.utils import Zero

    n_cols = lam.shape[1]
    out = simulation.getRHSDeriv(frequency, src, lam, adjoint=True)
    if isinstance(out, Zero):
        return 0.0
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] == n_cols:
        return out
    return np.column_stack(
        [np.asarray(simulation.getRHSDeriv(frequency, src, lam[:, j], adjoint=True)).ravel() for j in range(n_cols)]
    )


def _source_jtj_diagonal(simulation, frequency, src, fields, solver, w, slices, *, boundary=True):
    """Diagonal of ``J^T diag(w**2) J`` over one source's data.

    The 2D impedance receivers of one orientation at the same stations
    (apparent resistivity and phase, real and imaginary parts) are rows of
    the same complex impedance: one complex adjoint solve per station gives
    the impedance's model derivative ``T``, and each receiver's rows are
    ``Re(c T)`` (``_impedance_scale``). Other receivers: one adjoint solve
    per datum. Each group's solves are the columns of one
    multi-right-hand-side solve on ``solver``.
    """
    mesh = simulation.mesh
    n_fields = fields[src, simulation._solutionType].shape[0]
    groups, rest = _impedance_groups(src, mesh)
    out = 0.0
    for rxs in groups.values():
        n = rxs[0].nD
        gh, ge = _impedance_adjoint_sources(rxs[0], src, mesh, fields, np.eye(n, dtype=complex))
        du, dm = _field_adjoint(src, fields, gh, ge, n_fields, n)
        rows = _adjoint_solve(simulation, frequency, src, fields, solver, du, dm, n, boundary=boundary)
        imp, _ = _impedance(rxs[0], src, mesh, fields)
        for rx in rxs:
            scale = _impedance_scale(rx.component, src, imp) * w[slices[src, rx]]
            out = out + np.sum(np.real(rows * scale) ** 2, axis=1)
    if rest:
        n_cols = sum(rx.nD for rx in rest)
        V, offset = {}, 0
        for rx in src.receiver_list:
            block = np.zeros((rx.nD, n_cols))
            if rx in rest:
                block[np.arange(rx.nD), offset + np.arange(rx.nD)] = w[slices[src, rx]]
                offset += rx.nD
            V[id(rx)] = block
        terms = _adjoint_terms(simulation, frequency, src, fields, solver, V, n_cols, boundary=boundary)
        out = out + np.sum(terms**2, axis=1)
    return out


def _impedance_groups(src, mesh):
    """A source's 2D impedance receivers grouped by orientation and stations, and the rest."""
    groups, rest = {}, []
    for rx in src.receiver_list:
        if _vectorised(rx, mesh):
            key = (rx.orientation, rx.locations_e.tobytes(), rx.locations_h.tobytes())
            groups.setdefault(key, []).append(rx)
        else:
            rest.append(rx)
    return groups, rest


def _jtj_adjoint_solves(simulation):
    """Adjoint solves of one ``J^T W^T W J`` diagonal (see ``_source_jtj_diagonal``)."""
    count = 0
    for src in simulation.survey.source_list:
        groups, rest = _impedance_groups(src, simulation.mesh)
        count += sum(rxs[0].nD for rxs in groups.values()) + sum(rx.nD for rx in rest)
    return count


def _tangent_data(rx, src, mesh, fields, du, D):
    """``J D`` rows of one receiver from the field perturbations ``du``.

    All directions at once for 2D impedance receivers; others column by
    column through SimPEG.
    """
    if not _vectorised(rx, mesh):
        return np.column_stack(
            [
                np.asarray(rx.evalDeriv(src, mesh, fields, du_dm_v=du[:, j], v=D[:, j])).ravel()
                for j in range(D.shape[1])
            ]
        )
    PE, PH = _impedance_projections(rx, mesh)
    imp, bot = _impedance(rx, src, mesh, fields)
    de = PE @ fields._eDeriv(src, du, D, adjoint=False)
    dh = PH @ fields._hDeriv(src, du, D, adjoint=False)
    dimp = (de - imp[:, None] * dh) / bot[:, None]
    return np.real(_impedance_scale(rx.component, src, imp)[:, None] * dimp)


def jtj_diagonal(
    simulation: BaseSimulation,
    model: ArrayLike,
    W: sp.sparray | sp.spmatrix | None = None,
    f: Fields | None = None,
) -> NDArray[np.float64]:
    """Diagonal of ``J^T W^T W J`` of a SimPEG frequency-domain simulation.

    What ``getJtJdiag`` gives SimPEG's ``UpdatePreconditioner`` (Jacobi
    preconditioning of Gauss-Newton's conjugate gradients) and
    ``UpdateSensitivityWeights``, without forming ``J``: per frequency one
    adjoint solve per station and impedance (its apparent resistivity,
    phase, real and imaginary parts are rows of the same complex
    derivative; one per datum for other receivers), as the columns of
    one multi-right-hand-side solve, on the stored factorisations of
    ``simulation.fields`` (so in a Gauss-Newton iteration it costs solves
    only). The 2D MT simulations of SimPEG 0.25 have no working ``getJ``.

    Parameters
    ----------
    simulation : simpeg.electromagnetics.frequency_domain.simulation.BaseFDEMSimulation
    model : (n_model,) numpy.ndarray
    W : scipy.sparse matrix, optional
        Data weights (``L2DataMisfit.W``); default the identity. A
        non-diagonal ``W`` is applied row by row through ``Jtvec``.
    f : simpeg.fields.Fields, optional
        Fields of ``model`` (computed, with their factorisations, when not
        given).

    Returns
    -------
    (n_model,) numpy.ndarray
    """
    import scipy.sparse as sp

    model = np.asarray(model, dtype=float)
    n_data = simulation.survey.nD
    if f is None or getattr(simulation, "Ainv", None) is None:
        f = simulation.fields(model)
    if W is None:
        w = np.ones(n_data)
    else:
        W = sp.csr_matrix(W)
        if W.shape != (n_data, n_data):
            raise ValueError(f"W must be ({n_data}, {n_data}), got {W.shape}")
        off = W - sp.diags(W.diagonal())
        if off.count_nonzero():
            rows = np.zeros(model.size)
            for k in range(n_data):
                rows += np.asarray(simulation.Jtvec(model, W[k].toarray().ravel(), f=f)) ** 2
            return rows
        w = W.diagonal()
    slices = simulation.survey.get_all_slices()
    out = np.zeros(model.size)
    for i_f, frequency in enumerate(simulation.survey.frequencies):
        solver = simulation.Ainv[i_f]
        for src in simulation.survey.get_sources_by_frequency(frequency):
            out += _source_jtj_diagonal(simulation, frequency, src, f, solver, w, slices)
    return out


def forward_dpred(
    simulation: BaseSimulation, model: ArrayLike, *, frequencies: Sequence[float] | None = None
) -> NDArray[np.float64]:
    """Predicted data of a SimPEG frequency-domain simulation, forward only.

    Factorises, solves and releases one frequency at a time (SimPEG's own
    ``dpred`` keeps every factorisation for Jacobian products), so the peak
    memory is about one factorisation.

    Parameters
    ----------
    simulation : simpeg.electromagnetics.base_1d or frequency-domain simulation
        Any simulation with ``getA``/``getRHS`` per frequency, such as the
        2D MT ``Simulation2DMagneticField`` and ``Simulation2DElectricField``.
    model : (n_param,) numpy.ndarray
    frequencies : sequence of float, optional
        Only these frequencies (the other data are NaN); default all.

    Returns
    -------
    (n_data,) numpy.ndarray
        In the survey's data order, as ``simulation.dpred(model)``.
    """
    freqs = simulation.survey.frequencies if frequencies is None else frequencies
    dpred = np.full(simulation.survey.nD, np.nan)
    for index, values in _frequency_terms(simulation, model, freqs)["data"]:
        dpred[index] = values
    return dpred


class _Recipe:
    """How to rebuild a 2D MT simulation elsewhere (without its caches)."""

    def __init__(self, simulation):
        self.cls = type(simulation)
        self.kwargs = {
            "survey": simulation.survey,
            "solver": simulation.solver,
            "solver_opts": dict(simulation.solver_opts),
        }
        for name in ("sigmaMap", "rhoMap", "muMap", "muiMap"):
            value = getattr(simulation, name, None)
            if value is not None:
                self.kwargs[name] = value
        self.mesh = simulation.mesh

    def build(self):
        return self.cls(self.mesh, **self.kwargs)


_WORKER_LOCK = threading.Lock()
_WORKER_SIMULATIONS: dict = {}


def _worker_terms(key, recipe_bytes, model, frequencies, options):
    """Dask task: :func:`_frequency_terms` of some frequencies of one simulation.

    The simulation is built once per worker process and kept.
    """
    with _WORKER_LOCK:
        sim = _WORKER_SIMULATIONS.get(key)
        if sim is None:
            sim = pickle.loads(recipe_bytes).build()
            if len(_WORKER_SIMULATIONS) >= 16:
                _WORKER_SIMULATIONS.clear()
            _WORKER_SIMULATIONS[key] = sim
        return _frequency_terms(sim, model, frequencies, **options)


def local_cluster(n_workers: int, **kwargs):
    """A local Dask cluster of single-threaded worker processes for simulations.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers so that
    freed memory goes back to the system at once; with the large, short-lived
    arrays of sparse assembly and factorisation that made every worker
    1.5 times slower than the same work in the parent process (measured). The
    workers here keep glibc's default; BLAS, OpenMP and MKL stay at one
    thread each.
    """
    import dask
    from dask.distributed import LocalCluster

    options = dict(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=0)
    options.update(kwargs)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(**options)


class ForwardEngine:
    """Forward-only predicted data of several simulations, optionally on Dask.

    Parameters
    ----------
    simulations : sequence of SimPEG frequency-domain simulations
        E.g. the TE and TM simulations of a profile, or those of a data
        misfit.
    workers : int
        ``1`` (default): in this process, one frequency at a time. ``N > 1``:
        a local Dask cluster of ``N`` single-threaded worker processes,
        started here and closed by :meth:`close`.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``); its
        workers are used instead of a local cluster.

    Examples
    --------
    >>> import numpy as np
    >>> from simpeg_zo import build_profile
    >>> from simpeg_zo._forward import ForwardEngine
    >>> p = build_profile(np.linspace(0, 1000, 3), [10.0, 1.0], modes=["TE"], resistivity_range=(100, 100))
    >>> with ForwardEngine(list(p.simulations.values())) as engine:
    ...     d = engine.dpred(p.half_space(100.0))
    >>> np.allclose(d[0][:3], 100.0, rtol=0.01)  # a half-space: its resistivity, within 1 %
    True
    """

    def __init__(
        self, simulations: Sequence[BaseSimulation], *, workers: int = 1, scheduler: str | None = None
    ) -> None:
        self.simulations = list(simulations)
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.scheduler = scheduler
        self._client = None
        self._cluster = None
        self._recipes = None
        self._token = f"{id(self):x}-{time.time_ns():x}"
        #: counts: factorisations (one per simulation and frequency), model
        #: evaluations, and Jacobian products (each gradient group is one
        #: J^T v over the whole survey, each direction one J v)
        self.factorisations = 0
        self.forward_evaluations = 0
        self.jvec_products = 0
        self.jtvec_products = 0
        if self.parallel:
            self._start()

    @property
    def parallel(self) -> bool:
        """Whether solves go to Dask workers."""
        return self.scheduler is not None or self.workers > 1

    @property
    def n_workers(self) -> int:
        """Workers solving frequencies (1 in this process)."""
        if self._client is None:
            return 1
        return max(len(self._client.scheduler_info().get("workers", {})), 1)

    def _start(self):
        try:
            from dask.distributed import Client
        except ImportError as err:  # pragma: no cover - dask is a dependency of the extra
            raise ImportError(
                "frequencies in parallel need Dask: install the 'dask' extra (pip install 'simpeg-zo[dask]')"
            ) from err
        if self.scheduler is not None:
            self._client = Client(self.scheduler, timeout="30s")
        else:
            self._cluster = local_cluster(self.workers)
            self._client = Client(self._cluster)
        recipes = [pickle.dumps(_Recipe(sim)) for sim in self.simulations]
        self._recipes = [self._client.scatter(r, broadcast=True, hash=False) for r in recipes]
        logger.info("forward engine: %d Dask worker(s)", self.n_workers)

    def dpred(self, model: ArrayLike) -> list[NDArray[np.float64]]:
        """Predicted data of every simulation at ``model`` (forward only).

        Returns
        -------
        list of (n_data_i,) numpy.ndarray
            One vector per simulation, in each survey's data order.
        """
        return self.evaluate(model)["dpred"]

    def evaluate(
        self,
        model: ArrayLike,
        *,
        dobs: Sequence[ArrayLike] | None = None,
        weights: Sequence[ArrayLike] | None = None,
        groups: Sequence[ArrayLike] | None = None,
        directions: ArrayLike | None = None,
        boundary_gradient: bool = True,
        jtj_diagonal: bool = False,
    ) -> dict:
        """Data and, on request, misfit gradients and Jacobian products.

        One factorisation per (simulation, frequency), released after its
        forward, adjoint and tangent solves.

        Parameters
        ----------
        model : (n_model,) numpy.ndarray
        dobs, weights : list of (n_data_i,) numpy.ndarray, optional
            Per simulation; with them, the gradient of
            ``sum(weights**2 * (dpred - dobs)**2)`` is returned per group.
        groups : list of (n_data_i,) numpy.ndarray of int, optional
            Group label of every datum (labels shared across simulations are
            summed); default 0 for every datum.
        directions : (n_model, k) numpy.ndarray, optional
            Directions whose Jacobian products are returned.
        boundary_gradient : bool
            Include the gradient's part through the 1D boundary fields of
            the outermost mesh columns (a 1D derivative per group).
        jtj_diagonal : bool
            Also return the diagonal of ``J^T diag(weights**2) J`` summed
            over the simulations (one adjoint solve per station and
            impedance on each frequency's factorisation; needs ``weights``).

        Returns
        -------
        dict
            ``"dpred"``: list per simulation; ``"gradients"``: {label:
            (n_model,) array}; ``"jd"``: list per simulation of
            (n_data_i, k) arrays (with ``directions``);
            ``"jtj_diagonal"``: (n_model,) array (with ``jtj_diagonal``).
        """
        model = np.asarray(model, dtype=float)
        if jtj_diagonal and weights is None:
            raise ValueError("jtj_diagonal needs the data weights")
        tasks = []
        for i in range(len(self.simulations)):
            options = {}
            if jtj_diagonal:
                options.update(
                    jtj_diagonal=True,
                    weights=np.asarray(weights[i], dtype=float),
                    boundary_gradient=bool(boundary_gradient),
                )
            if dobs is not None:
                options.update(
                    dobs=np.asarray(dobs[i], dtype=float),
                    weights=np.asarray(weights[i], dtype=float),
                    groups=None if groups is None else np.asarray(groups[i]),
                    boundary_gradient=bool(boundary_gradient),
                )
            if directions is not None:
                options["directions"] = np.asarray(directions, dtype=float)
            tasks.append(options)
        if not self.parallel:
            results = [
                (i, _frequency_terms(sim, model, sim.survey.frequencies, **tasks[i]))
                for i, sim in enumerate(self.simulations)
            ]
        else:
            results = self._evaluate_dask(model, tasks)
        out = {
            "dpred": [np.full(sim.survey.nD, np.nan) for sim in self.simulations],
            "gradients": {},
            "jd": None,
            "jtj_diagonal": np.zeros(model.size) if jtj_diagonal else None,
        }
        if directions is not None:
            k = np.asarray(directions).shape[1]
            out["jd"] = [np.full((sim.survey.nD, k), np.nan) for sim in self.simulations]
        for i, res in results:
            for index, values in res["data"]:
                out["dpred"][i][index] = values
            for label, g in res["gradients"].items():
                out["gradients"][label] = out["gradients"].get(label, 0.0) + g
            for index, block in res["jd"]:
                out["jd"][i][index] = block
            if jtj_diagonal:
                out["jtj_diagonal"] += res["jtj_diagonal"]
        n_freq = sum(len(sim.survey.frequencies) for sim in self.simulations)
        self.factorisations += n_freq
        self.forward_evaluations += 1
        if dobs is not None:
            self.jtvec_products += len(out["gradients"])
        if jtj_diagonal:  # one adjoint product per station, mode and frequency
            self.jtvec_products += sum(_jtj_adjoint_solves(sim) for sim in self.simulations)
        if directions is not None:
            self.jvec_products += np.asarray(directions).shape[1]
        return out

    def _evaluate_dask(self, model, tasks):
        client = self._client
        [model_future] = client.scatter([model], broadcast=True, hash=False)
        futures, owners = [], []
        # a few interleaved chunks of frequencies per worker and simulation:
        # balanced, and each worker sets a model up once per simulation
        n_chunks = 2 * self.n_workers
        for i, sim in enumerate(self.simulations):
            key = f"{self._token}-{i}"
            options = tasks[i]
            if options:
                [options] = client.scatter([options], broadcast=True, hash=False)
            frequencies = [float(f) for f in sim.survey.frequencies]
            for k in range(min(n_chunks, len(frequencies))):
                futures.append(
                    client.submit(
                        _worker_terms,
                        key,
                        self._recipes[i],
                        model_future,
                        frequencies[k::n_chunks],
                        options,
                        pure=False,
                    )
                )
                owners.append(i)
        return list(zip(owners, client.gather(futures), strict=True))

    def close(self) -> None:
        """Shut down the local cluster (an external scheduler is left running)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> ForwardEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # nothing to report from a finaliser
            pass
