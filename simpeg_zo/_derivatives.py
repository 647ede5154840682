"""Derivatives of SimPEG's 2D MT receivers on one frequency's factorisation.

The pieces behind :class:`~simpeg_zo.ForwardEngine`'s gradients, Jacobian
products and ``J^T W^T W J`` diagonal: 2D impedance and tipper receivers
vectorised over stations and directions (their projections kept), other
receivers through SimPEG's own ``eval``/``evalDeriv``. Both are ratios of
projected fields: ``Z = (P_E e) / (P_H h)``, ``T = (P_z h) / (P_x h)``. Every function takes the fields and the
factorisation of one frequency; none factorises.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import scipy.sparse as sp
    from simpeg.fields import Fields
    from simpeg.simulation import BaseSimulation

__all__ = ["jtj_diagonal"]


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


def _tipper_projections(rx, mesh):
    """(P_x, P_z) interpolation matrices of a 2D tipper receiver, kept per receiver and mesh."""
    key = (id(mesh), mesh.n_cells, "zx", rx.locations_h.tobytes(), rx.locations_base.tobytes())
    cached = _PROJECTIONS.get(rx)
    if cached is None or cached[0] != key:
        cached = (key, (rx.getP(mesh, "Ex", 1), rx.getP(mesh, "Ey", 0)))
        _PROJECTIONS[rx] = cached
    return cached[1]


def _tipper(rx, src, mesh, fields):
    """A 2D tipper receiver's ``Tzx`` and the horizontal fields under it."""
    Px, Pz = _tipper_projections(rx, mesh)
    h = fields[src, "h"][:, 0]
    hx = Px @ h
    return (Pz @ h) / hx, hx


def _tipper_adjoint_sources(rx, src, mesh, fields, vt):
    """``(g_h, None)``: the adjoint of ``dT = (P_z dh - T P_x dh) / (P_x h)`` applied to ``vt``.

    ``vt``: (n_stations,) or (n_stations, n_cols) complex tipper-space vectors.
    """
    Px, Pz = _tipper_projections(rx, mesh)
    tip, hx = _tipper(rx, src, mesh, fields)
    if np.ndim(vt) == 1:
        g = vt / hx
        return Pz.T @ g - Px.T @ (tip * g), None
    g = vt / hx[:, None]
    return Pz.T @ g - Px.T @ (tip[:, None] * g), None


def _tipper_tangent(rx, src, mesh, fields, dh):
    """``dT = (P_z dh - T P_x dh) / (P_x h)`` of field perturbations ``dh`` (one or several columns)."""
    Px, Pz = _tipper_projections(rx, mesh)
    tip, hx = _tipper(rx, src, mesh, fields)
    if np.ndim(dh) == 1:
        return (Pz @ dh - tip * (Px @ dh)) / hx
    return (Pz @ dh - tip[:, None] * (Px @ dh)) / hx[:, None]


def is_tipper(rx) -> bool:
    """Whether ``rx`` is a 2D tipper receiver (``receivers.Tipper`` with orientation ``"zx"``)."""
    from simpeg.electromagnetics.natural_source.receivers import Tipper

    return isinstance(rx, Tipper) and getattr(rx, "orientation", None) == "zx"


def _ratio_scale(rx, src, value):
    """Complex ``c`` per station with ``d(datum) = Re(c d(value))`` (impedance or tipper)."""
    if is_tipper(rx):
        return np.full(value.shape, -1j if rx.component == "imag" else 1.0 + 0j)
    return _impedance_scale(rx.component, src, value)


def _ratio(rx, src, mesh, fields):
    """The impedance or tipper of a vectorised receiver."""
    return (_tipper if is_tipper(rx) else _impedance)(rx, src, mesh, fields)[0]


def _ratio_adjoint_sources(rx, src, mesh, fields, v):
    """``(g_h, g_e)`` of complex ratio-space vectors (``g_e`` None for a tipper)."""
    if is_tipper(rx):
        return _tipper_adjoint_sources(rx, src, mesh, fields, v)
    return _impedance_adjoint_sources(rx, src, mesh, fields, v)


def _receiver_data(rx, src, mesh, fields):
    """A receiver's data (SimPEG's ``rx.eval``).

    Vectorised for 2D impedance and tipper receivers, with their
    projections kept.
    """
    from simpeg.electromagnetics.natural_source.receivers import _alpha

    if not _vectorised(rx, mesh):
        return np.asarray(rx.eval(src, mesh, fields)).ravel()
    if is_tipper(rx):
        return getattr(_tipper(rx, src, mesh, fields)[0], rx.component)
    imp, _ = _impedance(rx, src, mesh, fields)
    if rx.component == "apparent_resistivity":
        return _alpha(src) * (imp.real**2 + imp.imag**2)
    if rx.component == "phase":
        return 180 / np.pi * np.arctan2(imp.imag, imp.real)
    return getattr(imp, rx.component)


def _vectorised(rx, mesh):
    from simpeg.electromagnetics.natural_source.receivers import Impedance

    if is_tipper(rx):
        return mesh.dim == 2 and rx.component in ("real", "imag")
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
    parts = []
    if gh is not None:
        parts.append(fields._hDeriv(src, None, gh, adjoint=True))
    if ge is not None:
        parts.append(fields._eDeriv(src, None, ge, adjoint=True))
    for part_u, part_m in parts:
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
    any_ratio = False
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
        value = _ratio(rx, src, mesh, fields)
        vz = _ratio_scale(rx, src, value)[:, None] * v
        h_part, e_part = _ratio_adjoint_sources(rx, src, mesh, fields, vz)
        any_ratio = True
        gh = h_part if gh is None else gh + h_part
        if e_part is not None:
            ge = e_part if ge is None else ge + e_part
    dm_sum = 0.0
    if any(not np.isscalar(c) for c in dm_cols):
        size = next(np.size(c) for c in dm_cols if not np.isscalar(c))
        dm_sum = np.column_stack([np.broadcast_to(c, size) for c in dm_cols])
    if any_ratio:
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


def _rhs_deriv_forward(simulation, frequency, src, V):
    """``(dq/dm) V`` for the columns of ``V`` (the 1D boundary fields).

    SimPEG's 2D MT simulations take one vector at a time; their 1D boundary
    simulations take a matrix, so the columns go through one
    multi-right-hand-side 1D solve per side (the same sum SimPEG's
    ``getRHSDeriv`` forms). Other simulations: column by column. Returns
    (n_fields, n_cols).
    """
    from simpeg.electromagnetics.natural_source import simulation as nsem_simulation

    V = np.asarray(V, dtype=float)
    # the boundary field SimPEG's own right-hand side takes (a subclass may
    # define its own right-hand side; boundary values set by the script do
    # not depend on the model)
    name = None
    bases = ((nsem_simulation.Simulation2DElectricField, "h"), (nsem_simulation.Simulation2DMagneticField, "e"))
    for base, field in bases:
        if isinstance(simulation, base) and type(simulation).getRHSDeriv is base.getRHSDeriv:
            name = field
    if name is None or getattr(simulation, f"_{name}_bc", None) is not None or not hasattr(simulation, "_b_inds"):
        return np.column_stack(
            [np.asarray(simulation.getRHSDeriv(frequency, src, V[:, j])).reshape(-1) for j in range(V.shape[1])]
        )
    M_bc = simulation._M_bc
    f_left, f_right = simulation.boundary_fields()
    left, right, _, _ = simulation._b_inds
    src_1d = simulation._sim_left.survey.get_sources_by_frequency(frequency)[0]
    bc = np.zeros((M_bc.shape[1], V.shape[1]), dtype=complex)
    bc[left] = np.reshape(f_left.field_deriv_m(name, frequency, src_1d, V, adjoint=False), (-1, V.shape[1]))
    bc[right] = np.reshape(f_right.field_deriv_m(name, frequency, src_1d, V, adjoint=False), (-1, V.shape[1]))
    out = M_bc @ bc
    # as in SimPEG: TM (H on the boundary) i omega M h, TE (E on the boundary) -M e
    return 1j * 2.0 * np.pi * frequency * out if name == "h" else -out


def _receiver_rows(simulation, frequency, src, fields, solver, *, boundary=True):
    """Jacobian rows of one source's receivers, receiver by receiver.

    The 2D impedance receivers of one orientation at the same stations
    (apparent resistivity and phase, real and imaginary parts) are rows of
    the same complex impedance: one complex adjoint solve per station gives
    the impedance's model derivative ``T`` (n_model, n_stations), and each
    receiver's rows are ``Re(c T)`` (``_impedance_scale``). Other receivers:
    one adjoint solve per datum. Each group's solves are the columns of one
    multi-right-hand-side solve on ``solver``; the rows of one frequency
    exist only while its receivers are processed (no Jacobian matrix).

    Yields ``(rx, R)``: R (n_model, rx.nD), the receiver's rows as columns.
    2D tipper receivers at the same stations (real and imaginary parts)
    share one complex adjoint solve per station in the same way.
    """
    mesh = simulation.mesh
    n_fields = fields[src, simulation._solutionType].shape[0]
    groups, rest = _impedance_groups(src, mesh)
    for rxs in groups.values():
        n = rxs[0].nD
        gh, ge = _ratio_adjoint_sources(rxs[0], src, mesh, fields, np.eye(n, dtype=complex))
        du, dm = _field_adjoint(src, fields, gh, ge, n_fields, n)
        T = _adjoint_solve(simulation, frequency, src, fields, solver, du, dm, n, boundary=boundary)
        value = _ratio(rxs[0], src, mesh, fields)
        for rx in rxs:
            yield rx, np.real(T * _ratio_scale(rx, src, value))
    if rest:
        n_cols = sum(rx.nD for rx in rest)
        V, offset = {}, 0
        for rx in src.receiver_list:
            block = np.zeros((rx.nD, n_cols))
            if rx in rest:
                block[np.arange(rx.nD), offset + np.arange(rx.nD)] = 1.0
                offset += rx.nD
            V[id(rx)] = block
        rows = _adjoint_terms(simulation, frequency, src, fields, solver, V, n_cols, boundary=boundary)
        offset = 0
        for rx in rest:
            yield rx, rows[:, offset : offset + rx.nD]
            offset += rx.nD


def _row_terms(
    simulation, frequency, src, fields, solver, slices, *, weights=None, V=None, D=None, rows=False, boundary=True
):
    """What the rows of one source's data give (``_receiver_rows``).

    Parameters
    ----------
    weights : (nD,) numpy.ndarray, optional
        Data weights of the simulation: the diagonal of
        ``J^T diag(weights**2) J`` over this source's data is returned.
    V : dict, optional
        ``V[id(rx)]``: (rx.nD, n_cols) data-space vectors; ``J^T V`` is
        returned.
    D : (n_model, k) numpy.ndarray, optional
        Directions; the ``J D`` rows of every receiver are returned (the
        products of one tangent solve per direction, here from one adjoint
        solve per station and impedance and a dense product).
    rows : bool
        Also return the rows of ``J`` themselves.

    Returns
    -------
    diagonal : (n_model,) numpy.ndarray or 0.0
    jtv : (n_model, n_cols) numpy.ndarray or None
    jd : list of (slice, (rx.nD, k) numpy.ndarray)
    row_blocks : list of (slice, (rx.nD, n_model) numpy.ndarray)
        Empty unless ``rows``.
    """
    diagonal, jtv, jd, row_blocks = 0.0, None, [], []
    for rx, R in _receiver_rows(simulation, frequency, src, fields, solver, boundary=boundary):
        sl = slices[src, rx]
        if weights is not None:
            diagonal = diagonal + (R**2) @ (np.asarray(weights)[sl] ** 2)
        if V is not None:
            part = R @ V[id(rx)]
            jtv = part if jtv is None else jtv + part
        if D is not None:
            jd.append((sl, R.T @ D))
        if rows:
            row_blocks.append((sl, np.ascontiguousarray(R.T)))
    return diagonal, jtv, jd, row_blocks


def _source_jtj_diagonal(simulation, frequency, src, fields, solver, w, slices, *, boundary=True):
    """Diagonal of ``J^T diag(w**2) J`` over one source's data (``_row_terms``)."""
    return _row_terms(simulation, frequency, src, fields, solver, slices, weights=w, boundary=boundary)[0]


def _adjoint_rhs_count(src, mesh):
    """Adjoint right-hand sides of ``_receiver_rows`` for one source."""
    groups, rest = _impedance_groups(src, mesh)
    return sum(rxs[0].nD for rxs in groups.values()) + sum(rx.nD for rx in rest)


def _impedance_groups(src, mesh):
    """A source's 2D impedance (and tipper) receivers grouped by orientation and stations, and the rest."""
    groups, rest = {}, []
    for rx in src.receiver_list:
        if _vectorised(rx, mesh):
            if is_tipper(rx):
                key = ("zx", rx.locations_h.tobytes(), rx.locations_base.tobytes())
            else:
                key = (rx.orientation, rx.locations_e.tobytes(), rx.locations_h.tobytes())
            groups.setdefault(key, []).append(rx)
        else:
            rest.append(rx)
    return groups, rest


def _per_frequency(solves, n_frequencies):
    """Single-frequency solves as whole-simulation products (rounded up).

    A SimPEG ``Jvec``/``Jtvec`` of one simulation is one solve per
    frequency; the reports count other solves in that unit.
    """
    return -(-int(solves) // max(int(n_frequencies), 1))


def _jtj_adjoint_solves(simulation):
    """Adjoint solves of one ``J^T W^T W J`` diagonal, as whole-simulation products.

    ``_receiver_rows`` takes one adjoint solve per station and impedance
    (per datum for other receivers) at every frequency, counted here over
    the number of frequencies (``_per_frequency``: the stations, where
    every frequency has the same ones).
    """
    sources = simulation.survey.source_list
    total = sum(_adjoint_rhs_count(src, simulation.mesh) for src in sources)
    return _per_frequency(total, len(simulation.survey.frequencies))


def _tangent_data(rx, src, mesh, fields, du, D):
    """``J D`` rows of one receiver from the field perturbations ``du``.

    All directions at once for 2D impedance and tipper receivers; others
    column by column through SimPEG.
    """
    if not _vectorised(rx, mesh):
        return np.column_stack(
            [
                np.asarray(rx.evalDeriv(src, mesh, fields, du_dm_v=du[:, j], v=D[:, j])).ravel()
                for j in range(D.shape[1])
            ]
        )
    # SimPEG's field derivatives drop the axis of a single direction
    dh = np.asarray(fields._hDeriv(src, du, D, adjoint=False)).reshape(-1, D.shape[1])
    if is_tipper(rx):
        dtip = _tipper_tangent(rx, src, mesh, fields, dh)
        return np.real(_ratio_scale(rx, src, _tipper(rx, src, mesh, fields)[0])[:, None] * dtip)
    PE, PH = _impedance_projections(rx, mesh)
    imp, bot = _impedance(rx, src, mesh, fields)
    de = PE @ np.asarray(fields._eDeriv(src, du, D, adjoint=False)).reshape(-1, D.shape[1])
    dh = PH @ dh
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
