r"""Static shifts: of a survey before the inversion, and estimated during the direct inversion.

Before: :func:`static_shift_factors`, a spatial median of the shallow
apparent resistivities along the profile (mtpy's estimate), applied to a
survey by :func:`apply_static_shift`.

During the direct inversion: a static shift (galvanic distortion by near-surface bodies smaller than the
shallowest sounding sees) multiplies a station's apparent resistivity of one
mode by a factor :math:`e^{s}` at every frequency and leaves its phase
untouched. Given the predicted apparent resistivities of the current model,
the part of the log misfit that is constant with frequency is estimated per
(station, mode) as the weighted mean over frequencies

.. math::

    s = \frac{\sum_j w_j \ln(\rho_{o,j}/\rho_{c,j})}{\sum_j w_j + 1/\sigma_s^2}

(weights :math:`w_j` the inverse variances of :math:`\ln\rho_a`; the prior
standard deviation :math:`\sigma_s` shrinks poorly determined shifts toward
0), and the shifts are then centred to zero mean over all (station, mode)
pairs together (geometric mean of the factors 1), so the regional
resistivity level stays set by the data and not by the shifts.

The centring is joint, not per mode: when only some stations of one mode
are shifted (the usual case, e.g. TM at a station beside a near-surface
body), centring each mode alone would move that mode's level against the
other at *every* station, a TE/TM split no model can fit. Joint centring
leaves a common level that the model absorbs for both modes alike.

What the data determine at one station is the ratio of the modes' shifts
and the shift relative to the neighbours; how a shift common to both modes
of a station is split between the shift and the model column depends on the
current model (the direct inversion has no lateral smoothing to decide it).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._field import EDISurvey

__all__ = ["estimate_static_shifts", "DEFAULT_SHIFT_PRIOR", "static_shift_factors", "apply_static_shift"]

#: Prior standard deviation of a log static shift: a factor of about 1.65.
DEFAULT_SHIFT_PRIOR = 0.5


def estimate_static_shifts(log_ratio, weights, station, mode, n_stations, *, prior=DEFAULT_SHIFT_PRIOR):
    """Per (station, mode) log static shifts from sounding log-misfits.

    Parameters
    ----------
    log_ratio : (n_soundings,) numpy.ndarray
        ``ln(rho_obs / rho_calc)``; ignored where ``weights`` is 0 or not finite.
    weights : (n_soundings,) numpy.ndarray
        Inverse variances of ``ln(rho_a)`` (0: sounding without apparent
        resistivity).
    station : (n_soundings,) numpy.ndarray of int
    mode : (n_soundings,) numpy.ndarray of str
    n_stations : int
    prior : float
        Prior standard deviation of a log shift (> 0).

    Returns
    -------
    per_sounding : (n_soundings,) numpy.ndarray
        The log shift of each sounding's (station, mode).
    table : dict
        ``{mode: (n_stations,) array}`` of log shifts, NaN where the station
        has no apparent resistivity of that mode.

    Examples
    --------
    >>> import numpy as np
    >>> lr = np.log([2.0, 2.0, 1.0, 1.0])
    >>> s, t = estimate_static_shifts(lr, np.full(4, 1e4), np.array([0, 0, 1, 1]), np.array(["TM"] * 4), 2)
    >>> np.round(np.exp(t["TM"]), 3).tolist()
    [1.414, 0.707]
    """
    if prior <= 0:
        raise ValueError(f"prior must be > 0, got {prior}")
    log_ratio = np.asarray(log_ratio, dtype=float)
    weights = np.asarray(weights, dtype=float)
    ok = (weights > 0) & np.isfinite(log_ratio)
    w = np.where(ok, weights, 0.0)
    lr = np.where(ok, log_ratio, 0.0)
    per_sounding = np.zeros(log_ratio.size)
    table = {}
    for m in np.unique(mode):
        sel = mode == m
        sw = np.bincount(station[sel], weights=w[sel], minlength=n_stations)
        swr = np.bincount(station[sel], weights=(w * lr)[sel], minlength=n_stations)
        s = np.full(n_stations, np.nan)
        has = sw > 0
        s[has] = swr[has] / (sw[has] + 1.0 / prior**2)
        table[str(m)] = s
    values = np.concatenate([v[np.isfinite(v)] for v in table.values()]) if table else np.zeros(0)
    level = values.mean() if values.size else 0.0
    for m, s in table.items():
        s -= level
        sel = mode == m
        per_sounding[sel] = np.nan_to_num(s[station[sel]])
    return per_sounding, table


def _median_spacing(x):
    return float(np.median(np.diff(x))) if len(x) > 1 else 1.0


def static_shift_factors(
    survey: EDISurvey,
    *,
    radius: float | None = None,
    n_frequencies: int | None = None,
    tolerance: float = 0.15,
) -> dict:
    """Static-shift factors by a spatial median filter of the shallow data.

    For each mode and station, the shift is the median over the highest
    ``n_frequencies`` frequencies of ``rho_a(station) / median(rho_a of the
    stations within radius)`` (the station included). Short periods sense
    the near surface, which varies smoothly along the profile once galvanic
    distortion is removed; the phase, free of static shift, is not touched.
    Factors within ``1 +- tolerance`` are set to 1 (the shift is not told
    apart from 2D structure). This is the spatial-median estimate of mtpy
    (``estimate_static_spatial_median``) applied along the profile.

    Parameters
    ----------
    survey : EDISurvey
    radius : float, optional
        Neighbourhood half-width along the profile (m); default twice the
        median station spacing.
    n_frequencies : int, optional
        Highest frequencies used; default a third of the band, at least 3.
    tolerance : float

    Returns
    -------
    dict
        Per mode, ``(n_stations,)`` factors (divide the apparent resistivity
        and its standard deviation by them).
    """
    x = np.asarray(survey.along, dtype=float)
    radius = 2.0 * _median_spacing(x) if radius is None else float(radius)
    nf = survey.frequencies.size
    n_frequencies = max(3, nf // 3) if n_frequencies is None else int(n_frequencies)
    top = np.argsort(-survey.frequencies)[: min(n_frequencies, nf)]
    out = {}
    for mode in survey.impedance_modes:
        log_rho = np.log(survey.rho[mode][top])  # (n_top, n_stations)
        factors = np.ones(x.size)
        for i in range(x.size):
            near = np.abs(x - x[i]) <= radius
            ref = np.nanmedian(log_rho[:, near], axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                s = np.nanmedian(log_rho[:, i] - ref)
            if np.isfinite(s) and abs(np.exp(s) - 1.0) > tolerance:
                factors[i] = float(np.exp(s))
        out[mode] = factors
    return out


def apply_static_shift(survey: EDISurvey, factors: dict) -> EDISurvey:
    """A copy of ``survey`` with apparent resistivities divided by ``factors``."""
    rho = dict(survey.rho)
    rho_std = dict(survey.rho_std)
    for mode, fac in factors.items():
        rho[mode] = survey.rho[mode] / fac[None, :]
        rho_std[mode] = survey.rho_std[mode] / fac[None, :]
    return replace(survey, rho=rho, rho_std=rho_std, static_shift={m: np.asarray(v) for m, v in factors.items()})
