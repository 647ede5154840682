r"""Pure numerics behind the figures.

Depth of investigation and normalised residuals.

Depth of investigation (DOI)
    The Bostick depth :math:`D = \sqrt{\rho_a / (\omega \mu_0)}` (see
    :func:`simpeg_zo._bostick.bostick_depth`; the skin depth over
    :math:`\sqrt 2`) of a station's longest-period sounding is the depth
    down to which its data constrain the model; below it a model section
    shows the regularisation and the starting model, not the data. Over a
    uniform half-space of resistivity :math:`\rho` the apparent resistivity
    is :math:`\rho` and the DOI at the lowest frequency :math:`f` is
    :math:`\sqrt{\rho / (2\pi f \mu_0)}`.

Normalised residuals
    :math:`(d_{obs} - d_{pred}) / \sigma`, the terms whose mean square is the
    misfit :math:`\chi^2 = \phi_d / N` the inversions report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._bostick import bostick_depth

if TYPE_CHECKING:
    from ._profile import Profile

__all__ = [
    "depth_of_investigation",
    "normalised_residuals",
    "profile_depth_of_investigation",
    "profile_residuals",
]


def depth_of_investigation(
    apparent_resistivity: np.ndarray, frequencies: np.ndarray, *, axis: int = 0, factor: float = 1.0
) -> np.ndarray:
    """Depth of investigation per station.

    The largest Bostick depth of its soundings.

    Parameters
    ----------
    apparent_resistivity : (n_frequencies, n_stations) array_like
        Apparent resistivity (ohm-m), frequencies along ``axis``; NaN (or
        values <= 0) mark missing soundings. Stack the modes along ``axis``
        (and repeat ``frequencies``) to take the deeper of TE and TM.
    frequencies : (n_frequencies,) array_like
        Frequencies (Hz) of the entries along ``axis``.
    axis : int
        Frequency axis of ``apparent_resistivity``.
    factor : float
        Multiplier of the Bostick depth (> 0; 1: the Bostick depth itself,
        ``sqrt(2)``: the skin depth).

    Returns
    -------
    numpy.ndarray
        ``apparent_resistivity`` with ``axis`` removed: depth below each
        station's surface (m), NaN for a station without any sounding.

    Examples
    --------
    Over a 100 ohm-m half-space sounded down to 1 Hz:

    >>> import numpy as np
    >>> rho = np.full((3, 2), 100.0)
    >>> np.round(depth_of_investigation(rho, [100.0, 10.0, 1.0]), 1).tolist()
    [3558.8, 3558.8]
    """
    if not factor > 0:
        raise ValueError(f"factor must be > 0, got {factor}")
    rho = np.moveaxis(np.asarray(apparent_resistivity, dtype=float), axis, 0)
    freq = np.asarray(frequencies, dtype=float).ravel()
    if freq.size != rho.shape[0]:
        raise ValueError(f"frequencies has {freq.size} entries, apparent_resistivity {rho.shape[0]} along axis {axis}")
    ok = np.isfinite(rho) & (rho > 0)
    with np.errstate(invalid="ignore"):
        depth = bostick_depth(np.where(ok, rho, np.nan), freq.reshape((-1,) + (1,) * (rho.ndim - 1)))
    depth = np.where(ok, depth, -np.inf).max(axis=0)
    return np.where(np.isfinite(depth), factor * depth, np.nan)


def normalised_residuals(observed: np.ndarray, predicted: np.ndarray, standard_deviation: np.ndarray) -> np.ndarray:
    """Normalised residuals ``(observed - predicted) / standard_deviation``.

    Parameters
    ----------
    observed, predicted, standard_deviation : array_like
        Broadcastable arrays; a datum whose standard deviation is not finite
        or not positive (a dropped datum) gets NaN.

    Returns
    -------
    numpy.ndarray
        Positive where the data lie above the prediction; the mean of the
        squares over the finite entries is the misfit ``chi2 = phi_d / N``.

    Examples
    --------
    >>> normalised_residuals([10.0, 12.0], [10.0, 10.0], [1.0, 1.0]).tolist()
    [0.0, 2.0]
    """
    obs = np.asarray(observed, dtype=float)
    pred = np.asarray(predicted, dtype=float)
    std = np.asarray(standard_deviation, dtype=float)
    ok = np.isfinite(std) & (std > 0)
    with np.errstate(all="ignore"):
        out = (obs - pred) / np.where(ok, std, 1.0)
    return np.where(ok, out, np.nan)


def profile_depth_of_investigation(profile: Profile, *, factor: float = 1.0) -> np.ndarray | None:
    """:func:`depth_of_investigation` of a profile's observed data.

    The deeper of its modes at each station.

    Returns
    -------
    (n_stations,) numpy.ndarray or None
        None when the profile has no observed data.
    """
    if not profile.data:
        return None
    from ._profile import IMPEDANCE_MODES

    modes = [m for m in profile.data if m in IMPEDANCE_MODES]
    rho = np.concatenate([profile.observed(m)["apparent_resistivity"] for m in modes], axis=0)
    freq = np.tile(profile.frequencies, len(modes))
    return depth_of_investigation(rho, freq, factor=factor)


def profile_residuals(profile: Profile, dpred: dict) -> dict:
    """Normalised residuals of a profile's observed data.

    Parameters
    ----------
    profile : Profile
        With observed data.
    dpred : dict
        Predicted data vector per mode.

    Returns
    -------
    dict
        ``{mode: {"apparent_resistivity": r, "phase": r}}`` (``"real"``,
        ``"imag"`` for the tipper), each ``r`` an
        ``(n_frequencies, n_stations)`` array (NaN where a datum was
        dropped).
    """
    out = {}
    for mode, d in profile.data.items():
        r = normalised_residuals(d.dobs, dpred[mode], d.standard_deviation)
        out[mode] = profile.split(r, mode)
    return out
