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
    "smoothest_coefficients",
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


def smoothest_coefficients(B, r, g, H, allowed, damping):
    r"""Coefficients of the smoothest subspace step that keeps the misfit.

    Occam's step (Constable, Parker and Constable 1987) in the span of the
    directions: the least model norm :math:`\phi_m(m + D c)` whose
    linearised misfit :math:`\|r - B c\|^2` is at most ``allowed``. With
    :math:`g = D^T \nabla\phi_m` and :math:`H = D^T \nabla^2\phi_m D`
    (exact for a quadratic model norm) the coefficients of the Lagrange
    multiplier :math:`\mu` solve

    .. math:: (H + \mu(\hat B^T \hat B + \lambda I))\, c = \mu \hat B^T r - g

    (columns scaled as in :func:`subspace_coefficients`, ``damping`` =
    :math:`\lambda` keeps the step where the linearisation holds); the
    misfit falls as :math:`\mu` grows, and :math:`\mu` is the smallest
    that meets ``allowed`` (bisection in :math:`\log \mu`). Where none
    does, the largest :math:`\mu` tried (the Levenberg-Marquardt step).

    Parameters
    ----------
    B : (n_data, k) numpy.ndarray
        Weighted Jacobian products ``W J D``.
    r : (n_data,) numpy.ndarray
        Weighted residual ``W (d_obs - d)``.
    g : (k,) numpy.ndarray
        ``D^T`` times the model norm's gradient.
    H : (k, k) numpy.ndarray
        ``D^T`` times the model norm's Hessian times ``D``.
    allowed : float
        Largest linearised misfit ``||r - B c||^2``.
    damping : float
        Marquardt parameter, relative to the unit-normed columns of ``B``.

    Returns
    -------
    coefficients : (k,) numpy.ndarray
    predicted_misfit : float
        ``||r - B c||^2``.
    predicted_norm_change : float
        ``g . c + c^T H c / 2``.

    Examples
    --------
    A direction the data do not see is smoothed away freely; one they see
    only as far as the misfit allows:

    >>> import numpy as np
    >>> B = np.array([[0.0, 1.0]])
    >>> r = np.array([0.0])
    >>> c, misfit, change = smoothest_coefficients(B, r, np.array([-1.0, -1.0]), np.eye(2), 0.25, 0.0)
    >>> np.round(c, 3).tolist(), round(misfit, 3)
    ([1.0, 0.5], 0.25)
    """
    B = np.asarray(B, dtype=float)
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    H = np.asarray(H, dtype=float)
    k = B.shape[1]
    norms = np.linalg.norm(B, axis=0)
    hnorms = np.sqrt(np.maximum(np.diag(H), 0.0))
    scale = np.where(norms > 0, norms, np.where(hnorms > 0, hnorms, 1.0))
    Bn = B / scale
    Hn = H / np.outer(scale, scale)
    gn = g / scale
    gram = Bn.T @ Bn + (damping + 1e-10) * np.eye(k)
    rhs = Bn.T @ r
    h_size = max(float(np.abs(np.diag(Hn)).max(initial=0.0)), 1e-300)

    def solve(mu):
        a = np.linalg.lstsq(Hn + mu * gram, mu * rhs - gn, rcond=None)[0]
        new = r - Bn @ a
        return a, float(new @ new)

    lo, hi = np.log(h_size) - 30.0, np.log(h_size) + 30.0
    best = solve(np.exp(hi))
    if best[1] <= allowed:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            a, misfit = solve(np.exp(mid))
            if misfit <= allowed:
                hi, best = mid, (a, misfit)
            else:
                lo = mid
            if hi - lo < 1e-3:
                break
    a, misfit = best
    c = a / scale
    change = float(g @ c + 0.5 * c @ H @ c)
    return c, misfit, change


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
