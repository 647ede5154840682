r"""Subspace Gauss-Newton steps on Zohdy-Oldenburg directions, as pure functions on arrays.

When the Zohdy-Oldenburg fixed point stops lowering the misfit (TE and TM
disagree, noise, few frequencies), the model still moves in the span of a
few directions, as in the subspace methods of Kennett and Williamson (1988)
and Oldenburg, McGillivray and Ellis (1993):

* the Zohdy-Oldenburg correction of all data, and of each mode alone (the
  two modes' corrections disagree where the joint one stalls);
* the misfit gradient of each data group (a mode's apparent resistivities,
  its phases), from one adjoint solve per frequency on the forward solve's
  own factorisation, as a density (divided by cell volume) smoothed over
  about half a station spacing and a few cells in depth;
* the last accepted step.

With :math:`B = W J D` (Jacobian products on each frequency's own
factorisation: one tangent solve per direction, or, where the directions
outnumber the stations, one adjoint solve per station whose rows of
:math:`J` multiply :math:`D`) the coefficients solve the small
Levenberg-Marquardt problem

.. math:: (\hat B^T \hat B + \lambda I)\, a = \hat B^T r,

with :math:`\hat B` the columns of :math:`B` scaled to unit norm and
:math:`r = W (d_{obs} - d(m))`. No Jacobian matrix is kept (the rows of one
frequency exist only while it is processed) and the only linear system is
k x k (a few dozen directions).
"""

from __future__ import annotations

import numpy as np

from ._zo import apply_smoother

__all__ = [
    "smooth_on_grid",
    "gradient_direction",
    "lateral_windows",
    "subspace_coefficients",
    "update_damping",
]


def lateral_windows(cell_x, station_x, n_windows):
    """A partition of unity along the profile.

    ``n_windows`` hat functions with centres spread evenly over the stations.

    Parameters
    ----------
    cell_x : (n_cells,) numpy.ndarray
    station_x : (n_stations,) numpy.ndarray
    n_windows : int

    Returns
    -------
    (n_cells, n) numpy.ndarray
        Rows sum to 1; ``n = min(n_windows, n_stations)``, at least 1.

    Examples
    --------
    >>> import numpy as np
    >>> w = lateral_windows(np.array([0.0, 5.0, 10.0]), np.array([0.0, 10.0]), 2)
    >>> w.tolist()
    [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]
    """
    station_x = np.asarray(station_x, dtype=float)
    n = max(1, min(int(n_windows), station_x.size))
    if n == 1:
        return np.ones((np.size(cell_x), 1))
    centres = np.linspace(station_x.min(), station_x.max(), n)
    x = np.clip(np.asarray(cell_x, dtype=float), centres[0], centres[-1])
    out = np.zeros((x.size, n))
    k = np.clip(np.searchsorted(centres, x, side="right") - 1, 0, n - 2)
    t = (x - centres[k]) / (centres[k + 1] - centres[k])
    out[np.arange(x.size), k] = 1.0 - t
    out[np.arange(x.size), k + 1] += t
    return out


def smooth_on_grid(values, shape, active, sigma):
    """Gaussian smoothing of active-cell values on a tensor mesh's grid.

    Normalised convolution (inactive cells neither give nor receive), with
    widths in cells along each axis.

    Parameters
    ----------
    values : (n_active,) numpy.ndarray
    shape : (2,) tuple of int
        ``mesh.shape_cells`` (nx, nz).
    active : (n_cells,) numpy.ndarray of bool
    sigma : (2,) tuple of float
        Standard deviations in cells along x and z.

    Returns
    -------
    (n_active,) numpy.ndarray
    """
    from scipy.ndimage import gaussian_filter1d

    grid = np.zeros(np.prod(shape))
    grid[active] = values
    grid = grid.reshape(shape, order="F")
    mask = active.reshape(shape, order="F").astype(float)
    num, den = grid, mask
    for axis, s in enumerate(sigma):
        if s > 0:
            num = gaussian_filter1d(num, s, axis=axis, mode="nearest")
            den = gaussian_filter1d(den, s, axis=axis, mode="nearest")
    out = np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0.0)
    return out.ravel(order="F")[active]


def gradient_direction(gradient, volumes, shape, active, sigma, *, smoother=None):
    """Descent direction from a misfit gradient.

    The negative gradient density (per unit cell volume), smoothed on the
    grid.

    Parameters
    ----------
    gradient : (n_active,) numpy.ndarray
        Gradient of the data misfit with respect to the model.
    volumes : (n_active,) numpy.ndarray
        Cell volumes (areas in 2D).
    shape, active, sigma :
        See :func:`smooth_on_grid`.
    smoother : list of (cells, kernel), optional
        Row operators (:func:`simpeg_zo._zo.row_smoother`) used instead of
        the grid smoothing, for meshes that are not tensor meshes.

    Returns
    -------
    (n_active,) numpy.ndarray
        Normalised to a largest absolute value of 1 (zeros stay zeros).
    """
    density = -np.asarray(gradient, dtype=float) / np.asarray(volumes, dtype=float)
    if smoother is not None:
        direction = apply_smoother(density, smoother)
    else:
        direction = smooth_on_grid(density, shape, active, sigma)
    peak = np.abs(direction).max()
    return direction / peak if peak > 0 else direction


def subspace_coefficients(B, r, damping):
    """Levenberg-Marquardt coefficients of a subspace step.

    Parameters
    ----------
    B : (n_data, k) numpy.ndarray
        Weighted Jacobian products ``W J D`` of the directions.
    r : (n_data,) numpy.ndarray
        Weighted residual ``W (d_obs - d)``.
    damping : float
        Marquardt parameter, relative to the unit-normed columns.

    Returns
    -------
    coefficients : (k,) numpy.ndarray
        Step = ``D @ coefficients``.
    predicted : float
        Predicted decrease of ``||r||^2`` (linearised).

    Examples
    --------
    >>> import numpy as np
    >>> B = np.eye(3)[:, :2]
    >>> r = np.array([1.0, 2.0, 3.0])
    >>> a, pred = subspace_coefficients(B, r, 0.0)
    >>> np.round(a, 6).tolist(), round(pred, 6)
    ([1.0, 2.0], 5.0)
    """
    B = np.asarray(B, dtype=float)
    r = np.asarray(r, dtype=float)
    norms = np.linalg.norm(B, axis=0)
    keep = norms > 1e-12 * max(norms.max(initial=0.0), 1e-300)
    a = np.zeros(B.shape[1])
    if not keep.any():
        return a, 0.0
    Bn = B[:, keep] / norms[keep]
    gram = Bn.T @ Bn
    rhs = Bn.T @ r
    k = gram.shape[0]
    # a tiny floor keeps nearly parallel directions solvable
    lam = damping + 1e-10
    coef = np.linalg.solve(gram + lam * np.eye(k), rhs)
    a[keep] = coef / norms[keep]
    new = r - B @ a
    return a, float(r @ r - new @ new)


def update_damping(damping, ratio, *, smallest=1e-6, largest=1e6):
    """Marquardt damping after a trial with ``actual / predicted`` decrease ``ratio``.

    Smaller after a good prediction, larger after a poor one.

    Examples
    --------
    >>> update_damping(1.0, 0.9), update_damping(1.0, 0.1), update_damping(1.0, -1.0)
    (0.3333333333333333, 4.0, 10.0)
    """
    if ratio < 0:
        return min(damping * 10.0, largest)
    if ratio < 0.25:
        return min(damping * 4.0, largest)
    if ratio > 0.75:
        return max(damping / 3.0, smallest)
    return damping
