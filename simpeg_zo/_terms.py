"""Per-frequency forward solves and their derivatives for SimPEG 2D MT simulations.

One factorisation per frequency, used for the forward solve and then for
the adjoint and tangent solves of the gradients, the Jacobian products, the
diagonal of ``J^T W^T W J`` and the rows of ``J``; each factorisation is
released before the next frequency's (:func:`forward_dpred` is the forward
part alone). :class:`simpeg_zo._forward.ForwardEngine` runs these terms in
this process or on Dask workers (:mod:`simpeg_zo._workers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._derivatives import (
    _adjoint_rhs_count,
    _adjoint_terms,
    _receiver_data,
    _rhs_deriv_forward,
    _row_terms,
    _tangent_data,
)
from ._soundings import angle_difference

if TYPE_CHECKING:
    from simpeg.simulation import BaseSimulation

__all__ = ["forward_dpred"]


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
    rows=False,
    rows_dtype="float64",
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
        returned: per source, from one tangent solve per direction or,
        where the directions outnumber the source's stations, from one
        adjoint solve per station and impedance (the rows of ``J``, taken
        one frequency at a time and multiplied by the directions).
    boundary_gradient : bool
        Include the gradient's part through the 1D boundary fields (the
        outermost mesh columns); it costs a 1D derivative per group, and
        callers that never move those columns can leave it out.
    jtj_diagonal : bool
        Also return the diagonal of ``J^T diag(weights**2) J`` (one adjoint
        solve per station and impedance, whose rows give its apparent
        resistivity and phase, on the same factorisation; needs ``weights``).
    rows : bool
        Also return the rows of ``J`` (the same adjoint solves; without the
        part through the 1D boundary fields unless ``boundary_gradient``).
    rows_dtype : str
        Precision the rows are handed back in (``"float64"`` or
        ``"float32"``), each frequency's block cast as it is made.

    Returns
    -------
    dict
        ``"data"``: list of (slice, values); ``"gradients"``: {label:
        (n_model,) array}; ``"jd"``: list of (slice, (n, k) array);
        ``"rows"``: list of (slice, (n, n_model) array), empty unless
        ``rows``; ``"jtj_diagonal"``: (n_model,) array or None; ``"solves"``:
        {"tangent": n, "adjoint": n}, the right-hand sides of the tangent
        and adjoint solves for the directions and the diagonal.
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
    data, jd, row_blocks = [], [], []
    diagonal = np.zeros(np.asarray(model).size) if jtj_diagonal else None
    D = None if directions is None else np.asarray(directions)
    if D is not None:
        # directions that reach the boundary columns (1D boundary fields)
        boundary_columns = np.flatnonzero(np.any(D[_boundary_parameters(simulation, model)] != 0, axis=0))
    solves = {"tangent": 0, "adjoint": 0}  # right-hand sides of the direction and diagonal solves
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
                V = None
                if want_grad and names:
                    # one adjoint right-hand side per group, all groups at once
                    V = {}
                    for rx in src.receiver_list:
                        sl = slices[src, rx]
                        misfit = current[(sl.start, sl.stop)] - np.asarray(dobs)[sl]
                        if getattr(rx, "component", None) == "phase":
                            misfit = -angle_difference(-misfit)  # an angle: within +-180 degrees
                        resid = 2.0 * np.asarray(weights)[sl] ** 2 * misfit
                        V[id(rx)] = np.column_stack([resid * (labels[sl] == g) for g in names])
                n_adjoint = _adjoint_rhs_count(src, simulation.mesh)
                # where the directions outnumber the stations, J D from the rows
                rows_d = D if D is not None and n_adjoint < D.shape[1] else None
                if diagonal is not None or rows_d is not None or rows:
                    # the rows of J (one adjoint solve per station and
                    # impedance) give the diagonal, the gradients and J D
                    diag, jtv, jd_rows, blocks = _row_terms(
                        simulation,
                        frequency,
                        src,
                        fields,
                        solver,
                        slices,
                        weights=None if diagonal is None else np.asarray(weights),
                        V=V,
                        D=rows_d,
                        rows=rows,
                        boundary=(boundary_gradient and (diagonal is not None or V is not None or rows))
                        or (rows_d is not None and boundary_columns.size > 0),
                    )
                    row_blocks.extend((sl, block.astype(rows_dtype, copy=False)) for sl, block in blocks)
                    solves["adjoint"] += n_adjoint
                    if diagonal is not None:
                        diagonal += diag
                    if jtv is not None:
                        for j, g in enumerate(names):
                            gradients[g] += jtv[:, j]
                    jd.extend(jd_rows)
                elif V is not None:
                    terms = _adjoint_terms(
                        simulation, frequency, src, fields, solver, V, len(names), boundary=boundary_gradient
                    )
                    for j, g in enumerate(names):
                        gradients[g] += terms[:, j]
                if D is not None and rows_d is None:
                    rhs_t = -np.asarray(simulation.getADeriv(frequency, u, D, adjoint=False)).reshape(u.shape[0], -1)
                    # the right-hand side depends on the model only through the
                    # boundary columns (1D boundary fields)
                    if boundary_columns.size:
                        rhs_t[:, boundary_columns] += _rhs_deriv_forward(
                            simulation, frequency, src, D[:, boundary_columns]
                        )
                    du = solver * rhs_t
                    for rx in src.receiver_list:
                        jd.append((slices[src, rx], _tangent_data(rx, src, simulation.mesh, fields, du, D)))
                    solves["tangent"] += D.shape[1]
        finally:
            solver.clean()
    return {
        "data": data,
        "gradients": gradients,
        "jd": jd,
        "rows": row_blocks,
        "jtj_diagonal": diagonal,
        "solves": solves,
    }


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
