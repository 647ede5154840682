"""Impedance tensors: rotation (with missing elements), the phase tensor and the regional strike.

Pure functions on ``(..., 2, 2)`` complex arrays, x north and y east (the
EDI frame); :mod:`simpeg_zo._edi` reads the tensors and re-exports these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from ._edi import EDIStation

__all__ = ["rotate_impedance", "rotate_with_missing", "phase_tensor", "estimate_strike"]


def rotate_impedance(
    impedance: ArrayLike, angle: float, impedance_std: ArrayLike | None = None
) -> NDArray[np.complex128] | tuple[NDArray[np.complex128], NDArray[np.float64]]:
    """Rotate impedance tensors to axes turned ``angle`` degrees clockwise.

    ``Z' = R Z R^T`` with ``R = [[cos, sin], [-sin, cos]]``: the new x axis
    points ``angle`` degrees east of the old one. Variances rotate as
    independent errors, ``var' = (R*R) var (R*R)^T`` (element-wise squares).

    Parameters
    ----------
    impedance : (..., 2, 2) numpy.ndarray of complex
    angle : float
        Degrees.
    impedance_std : (..., 2, 2) numpy.ndarray, optional

    Returns
    -------
    numpy.ndarray or tuple
        The rotated impedance (and standard deviations if given).

    Examples
    --------
    A quarter turn swaps ``Zxy`` and ``Zyx`` and changes their signs:

    >>> import numpy as np
    >>> z = np.array([[0, 1 + 1j], [-2 - 2j, 0]])
    >>> np.allclose(rotate_impedance(z, 90.0), [[0, 2 + 2j], [-1 - 1j, 0]])
    True
    """
    t = np.radians(float(angle))
    c, s = np.cos(t), np.sin(t)
    r = np.array([[c, s], [-s, c]])
    z = np.einsum("ij,...jk,lk->...il", r, np.asarray(impedance), r)
    if impedance_std is None:
        return z
    r2 = r**2
    var = np.einsum("ij,...jk,lk->...il", r2, np.asarray(impedance_std, dtype=float) ** 2, r2)
    return z, np.sqrt(var)


#: ``|det X| / ||X||_F^2`` below which the real part of an impedance counts as
#: singular. 2D data with TE and TM six decades apart in apparent resistivity
#: and a phase of 85 degrees still give about 1e-4; a tensor missing an
#: element, written to a file with seven digits and rotated, gives 1e-7 or
#: less.
SINGULAR_REAL_PART = 1e-6


#: A rotated impedance element is missing where missing elements enter it
#: with a weight above this (|sin| > 0.1 of the angle, 5.7 degrees, for a
#: missing off-diagonal; below it, counting them as zero errs by less than
#: 1 % of the element).
MISSING_WEIGHT = 0.01


#: A rotated off-diagonal element below this fraction of its tensor's norm
#: is missing: an element written as zero in another frame (a file's
#: north/east frame, rotated to the strike) comes back as rounding, about
#: 1e-7 of the tensor; TE and TM six decades apart in apparent resistivity
#: are still 1e-3 apart.
ZERO_ELEMENT = 1e-6


def rotate_with_missing(impedance, angle, impedance_std):
    """:func:`rotate_impedance` of tensors with missing (NaN) elements.

    Missing elements count as zero; a rotated element that takes them with
    a weight above :data:`MISSING_WEIGHT` is missing (NaN), and so is a
    rotated off-diagonal element below :data:`ZERO_ELEMENT` of its tensor's
    norm. At angles near zero a tensor without ``Zxy`` still gives ``Zyx``,
    and one without its diagonal still gives both off-diagonals.
    """
    z = np.asarray(impedance)
    std = np.asarray(impedance_std, dtype=float)
    missing = ~np.isfinite(z)
    zr, sr = rotate_impedance(np.where(missing, 0.0, z), angle, np.where(missing, 0.0, std))
    t = np.radians(float(angle))
    r = np.abs(np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]]))
    lost = np.einsum("ij,...jk,lk->...il", r, missing.astype(float), r) > MISSING_WEIGHT
    norm = np.sqrt(np.sum(np.abs(np.where(lost, 0.0, zr)) ** 2, axis=(-2, -1)))[..., None, None]
    off = np.array([[False, True], [True, False]])
    lost |= off & (np.abs(zr) <= ZERO_ELEMENT * norm)
    return np.where(lost, np.nan, zr), np.where(lost, np.nan, sr)


def phase_tensor(impedance):
    """Phase tensor parameters of impedance tensors (Caldwell et al., 2004).

    Returns
    -------
    strike : numpy.ndarray
        ``alpha - beta`` in degrees (one of the two 2D strike directions).
    skew : numpy.ndarray
        ``beta`` in degrees (|beta| < 3 is taken as 2D).
    ellipticity : numpy.ndarray
        ``(phi_max - phi_min) / (phi_max + phi_min)``; 0 for 1D data.

    All three are NaN where the real part of the impedance is singular to
    within :data:`SINGULAR_REAL_PART` (``|det X| / ||X||_F^2``): a tensor
    with one off-diagonal element missing (written as zero), in any frame,
    has no phase tensor, and the rounding of its inverse would give an
    arbitrary strike and skew with an ellipticity near 1.
    """
    z = np.asarray(impedance)
    x, y = z.real, z.imag
    with np.errstate(all="ignore"):
        det = x[..., 0, 0] * x[..., 1, 1] - x[..., 0, 1] * x[..., 1, 0]
        det = np.where(np.abs(det) > SINGULAR_REAL_PART * np.sum(x**2, axis=(-2, -1)), det, np.nan)
        inv = (
            np.stack(
                [
                    np.stack([x[..., 1, 1], -x[..., 0, 1]], axis=-1),
                    np.stack([-x[..., 1, 0], x[..., 0, 0]], axis=-1),
                ],
                axis=-2,
            )
            / det[..., None, None]
        )
        p = inv @ y
        p11, p12, p21, p22 = p[..., 0, 0], p[..., 0, 1], p[..., 1, 0], p[..., 1, 1]
        alpha = 0.5 * np.arctan2(p12 + p21, p11 - p22)
        beta = 0.5 * np.arctan2(p12 - p21, p11 + p22)
        pi1 = 0.5 * np.hypot(p11 - p22, p12 + p21)
        pi2 = 0.5 * np.hypot(p11 + p22, p12 - p21)
        ell = np.abs(pi1 / pi2)
    return np.degrees(alpha - beta), np.degrees(beta), ell


def estimate_strike(stations: Sequence[EDIStation], *, line_azimuth: float | None = None) -> tuple[float, float]:
    """Regional strike from the phase tensors of all stations and frequencies.

    The circular mean of ``4 * strike`` (strike is defined modulo 90
    degrees), weighted by the phase-tensor ellipticity (near-1D data carry
    no strike information). Of the two perpendicular candidates, the one
    closer to perpendicular to the profile line is returned.

    Parameters
    ----------
    stations : list of EDIStation
    line_azimuth : float, optional
        Profile direction (degrees east of north) that resolves the 90
        degree ambiguity; without it the candidate in [-45, 45) is returned.

    Returns
    -------
    strike : float
        Degrees east of north, in [-90, 90).
    spread : float
        Circular standard deviation of the estimates (degrees, modulo 90).
    """
    s, _, ell = zip(*(phase_tensor(st.impedance) for st in stations), strict=True)
    s = np.concatenate([np.ravel(v) for v in s])
    w = np.concatenate([np.ravel(v) for v in ell])
    ok = np.isfinite(s) & np.isfinite(w)
    s, w = np.radians(s[ok]), w[ok]
    if s.size == 0 or w.sum() <= 0:
        return 0.0, float("nan")
    mean = np.sum(w * np.exp(4j * s)) / np.sum(w)
    theta = float(np.degrees(np.angle(mean)) / 4.0)  # in [-45, 45]
    spread = float(np.degrees(np.sqrt(-2.0 * np.log(max(abs(mean), 1e-12)))) / 4.0)
    if line_azimuth is not None:
        candidates = [theta, theta + 90.0]

        def off(c):
            return abs(np.mod(line_azimuth - c, 180.0) - 90.0)

        theta = min(candidates, key=off)
    theta = float(np.mod(theta + 90.0, 180.0) - 90.0)
    return theta, spread
