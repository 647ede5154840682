"""Per-sounding screen of field data: what a practitioner drops or down-weights.

A sounding is one (station, mode, frequency) pair: an apparent resistivity
and a phase. The whole band is kept; each sounding is judged on its own:

* its error bar (an impedance error above 50 %: apparent resistivity above
  100 %, phase above 30 degrees, carries nothing a 2D model can fit);
* the phase-tensor skew ``|beta|`` of its station and frequency (Caldwell et
  al., 2004; Booker, 2014): between :data:`SKEW_INFLATE` and
  :data:`SKEW_DROP` degrees its errors are inflated by ``|beta| /``
  :data:`SKEW_INFLATE` (3D effects as noise), above :data:`SKEW_DROP` it is
  dropped;
* the steepest 1D slope: no 1D earth makes apparent resistivity change
  faster than the period (``|d log rho_a / d log T| <= 1``, phase between
  0 and 90 degrees); of two neighbouring soundings whose slope exceeds 1 by
  more than :data:`CONSISTENCY_SIGMAS` error bars, the one with the larger
  error is dropped (often the last periods of a processing band);
* its place on the station's sounding curve: an apparent resistivity or a
  phase many error bars off a local fit of its neighbours (within half a
  decade of period, the sounding itself left out) is an outlier;
* the 1D dispersion relation between apparent resistivity and phase
  (Weidelt's approximation ``phi = 45 deg (1 - d log rho_a / d log T)``,
  the slope from the same local fit): a phase that disagrees with the slope
  by more than :data:`CONSISTENCY_SIGMAS` times its combined uncertainty
  (phase error, slope error and :data:`WEIDELT_ALLOWANCE` for the
  approximation and 2D effects) is dropped.

Everything here is numpy on ``(n_frequencies, n_stations)`` arrays; the EDI
reader (:func:`simpeg_zo.read_edi_survey`) applies it through
:func:`_apply_screen`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "SKEW_INFLATE",
    "SKEW_DROP",
    "MAX_IMPEDANCE_ERROR",
    "OUTLIER_SIGMAS",
    "CONSISTENCY_SIGMAS",
    "WEIDELT_ALLOWANCE",
    "REASONS",
    "Screen",
    "screen_soundings",
    "weidelt_phase",
]

logger = logging.getLogger(__name__)

#: Phase-tensor skew (degrees) above which a sounding's errors are inflated
SKEW_INFLATE = 3.0
#: Phase-tensor skew (degrees) above which a sounding is dropped
SKEW_DROP = 10.0
#: Relative impedance error above which a sounding is dropped
MAX_IMPEDANCE_ERROR = 0.5
#: Error bars (combined with the local fit's) off the curve that make an outlier
OUTLIER_SIGMAS = 5.0
#: Combined uncertainties by which a phase may miss Weidelt's phase
CONSISTENCY_SIGMAS = 3.0
#: Degrees allowed for Weidelt's approximation and 2D effects: on layered
#: earths with contrasts up to 3.5 decades the approximation's error is
#: 3 degrees RMS and up to 15 degrees at sharp contrasts, within
#: :data:`CONSISTENCY_SIGMAS` times this
WEIDELT_ALLOWANCE = 8.0
#: Half-width (decades of period) of the local fit of a sounding curve
WINDOW_DECADES = 0.5
#: Half-width (decades of period) of the local fit giving Weidelt's slope
SLOPE_WINDOW_DECADES = 0.3
#: Smallest errors assumed in the curve checks (log10 rho_a, degrees)
_MIN_LOG_ERROR = 0.01
_MIN_PHASE_ERROR = 0.6

#: The screen's reasons, in the order they are tested
REASONS = {
    "error": "error bar above 100 % (rho_a) / 30 deg (phase)",
    "skew": f"phase-tensor skew above {SKEW_DROP:g} deg",
    "slope": "rho_a changes faster than the period (|slope| > 1)",
    "rho_outlier": "apparent resistivity off its sounding curve",
    "phase_outlier": "phase off its sounding curve",
    "weidelt": "phase inconsistent with the rho_a slope (Weidelt)",
    "skew_inflated": (
        f"phase-tensor skew {SKEW_INFLATE:g}-{SKEW_DROP:g} deg: errors inflated by skew / {SKEW_INFLATE:g}"
    ),
}


@dataclass
class Screen:
    """The screen's verdict on the soundings of one mode.

    Attributes
    ----------
    dropped : (n_frequencies, n_stations) numpy.ndarray of object
        The key in :data:`REASONS` of each dropped sounding, else None.
    inflation : (n_frequencies, n_stations) numpy.ndarray
        Factor on the kept soundings' errors (1: unchanged).
    """

    dropped: np.ndarray
    inflation: np.ndarray
    counts: dict = field(default_factory=dict)


def weidelt_phase(log_rho_slope):
    """Phase (degrees, first quadrant) of a 1D response from its rho_a slope.

    Weidelt's approximation of the dispersion relation:
    ``phi = 45 (1 - d log rho_a / d log T)``.

    Examples
    --------
    >>> float(weidelt_phase(0.0)), float(weidelt_phase(1.0)), float(weidelt_phase(-1.0))
    (45.0, 0.0, 90.0)
    """
    return 45.0 * (1.0 - np.asarray(log_rho_slope, dtype=float))


def _local_fit(x, y, w, i, use, half_width):
    """Weighted line through the points near ``x[i]`` (``use`` only).

    Returns (value at x[i], its standard error, slope, slope's standard
    error), or NaNs with fewer than 3 points or without spread in x.
    """
    near = use & (np.abs(x - x[i]) <= half_width)
    if near.sum() < 3:
        return np.nan, np.nan, np.nan, np.nan
    dx = x[near] - x[i]
    ww = w[near]
    s0, s1, s2 = ww.sum(), (ww * dx).sum(), (ww * dx**2).sum()
    det = s0 * s2 - s1**2
    if det <= 1e-12 * s0 * s2 or det <= 0:
        return np.nan, np.nan, np.nan, np.nan
    t0, t1 = (ww * y[near]).sum(), (ww * dx * y[near]).sum()
    a = (s2 * t0 - s1 * t1) / det
    b = (s0 * t1 - s1 * t0) / det
    # standard errors scaled by the fit's own scatter where it exceeds the errors
    resid = y[near] - a - b * dx
    dof = max(near.sum() - 2, 1)
    scale = max(1.0, float((ww * resid**2).sum() / dof))
    return a, np.sqrt(scale * s2 / det), b, np.sqrt(scale * s0 / det)


def _curve_outliers(log_t, values, errors, keep, floor, threshold):
    """Outliers of one curve, worst first, one at a time, each against a fit without it."""
    out = np.zeros(values.size, dtype=bool)
    use = keep & np.isfinite(values)
    w = 1.0 / np.maximum(errors, floor) ** 2
    while True:
        worst, worst_z = -1, threshold
        for i in np.flatnonzero(use):
            others = use.copy()
            others[i] = False
            fit, fit_err, _, _ = _local_fit(log_t, values, w, i, others, WINDOW_DECADES)
            if not np.isfinite(fit):
                continue
            z = abs(values[i] - fit) / np.hypot(max(errors[i], floor), fit_err)
            if z > worst_z:
                worst, worst_z = i, z
        if worst < 0:
            return out
        out[worst] = True
        use[worst] = False


def _steep_pairs(log_t, log_rho, log_err, keep, floor, sigmas):
    """Soundings dropped for a slope beyond 1 with a neighbour, larger error first."""
    out = np.zeros(log_rho.size, dtype=bool)
    use = keep & np.isfinite(log_rho)
    order = np.argsort(log_t)
    while True:
        idx = order[use[order]]
        if idx.size < 2:
            return out
        a, b = idx[:-1], idx[1:]
        dt = log_t[b] - log_t[a]
        err = np.hypot(np.maximum(log_err[a], floor), np.maximum(log_err[b], floor))
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = (np.abs(log_rho[b] - log_rho[a]) - dt) / err
        excess[~(dt > 0)] = -np.inf
        bad = excess > sigmas
        if not bad.any():
            return out
        # the sounding in most steep pairs (a spike is in two), then the
        # one with the larger error, then the larger excess
        count = np.zeros(log_rho.size)
        total = np.zeros(log_rho.size)
        np.add.at(count, a[bad], 1)
        np.add.at(count, b[bad], 1)
        np.add.at(total, a[bad], excess[bad])
        np.add.at(total, b[bad], excess[bad])
        candidates = np.flatnonzero(count == count.max())
        worst = max(candidates, key=lambda j: (round(float(np.maximum(log_err[j], floor)), 6), total[j]))
        out[worst] = True
        use[worst] = False


def screen_soundings(
    frequencies,
    rho,
    phase,
    rho_std,
    phase_std,
    skew,
    relative_error=None,
) -> Screen:
    """Screen the soundings of one mode.

    Parameters
    ----------
    frequencies : (n_frequencies,) array_like
        Hz.
    rho, phase : (n_frequencies, n_stations) array_like
        Apparent resistivity (ohm-m) and phase (degrees, any quadrant; the
        curve checks use it folded into the first); NaN: no sounding.
    rho_std, phase_std : (n_frequencies, n_stations) array_like
        Their standard deviations as the inversion will use them (with
        the floors): the curve checks count error bars of these.
    skew : (n_frequencies, n_stations) array_like
        Phase-tensor skew ``beta`` (degrees) of each station and frequency.
    relative_error : (n_frequencies, n_stations) array_like, optional
        Relative impedance error as measured (before floors); default
        ``rho_std / (2 rho)``.

    Returns
    -------
    Screen

    Examples
    --------
    A half-space sounding with one spike in apparent resistivity (a factor
    4 within a quarter decade of period, faster than any 1D earth):

    >>> import numpy as np
    >>> f = np.logspace(2, -2, 17)
    >>> rho = np.full((17, 1), 100.0)
    >>> rho[8, 0] = 400.0
    >>> phase = np.full((17, 1), 45.0)
    >>> s = screen_soundings(f, rho, phase, 0.05 * rho, np.full((17, 1), 1.5), np.zeros((17, 1)))
    >>> [(int(j), s.dropped[j, 0]) for j in np.flatnonzero(s.dropped[:, 0] != None)]  # noqa: E711
    [(8, 'slope')]
    """
    f = np.asarray(frequencies, dtype=float)
    rho = np.asarray(rho, dtype=float)
    phase = np.asarray(phase, dtype=float)
    rho_std = np.asarray(rho_std, dtype=float)
    phase_std = np.asarray(phase_std, dtype=float)
    skew = np.abs(np.asarray(skew, dtype=float))
    shape = rho.shape
    if f.shape != (shape[0],) or any(np.shape(a) != shape for a in (phase, rho_std, phase_std, skew)):
        raise ValueError("frequencies must be (n_frequencies,) and the other arrays (n_frequencies, n_stations)")
    with np.errstate(all="ignore"):
        rel = rho_std / (2.0 * rho) if relative_error is None else np.asarray(relative_error, dtype=float)
        present = np.isfinite(rho) & np.isfinite(phase) & (rho > 0)
        dropped = np.full(shape, None, dtype=object)
        dropped[present & ~(rel <= MAX_IMPEDANCE_ERROR)] = "error"
        dropped[present & (dropped == None) & (skew > SKEW_DROP)] = "skew"  # noqa: E711
        log_t = -np.log10(f)
        log_rho = np.log10(rho)
        log_err = rho_std / (rho * np.log(10.0))
        folded = np.mod(phase, 180.0)
        for i in range(shape[1]):
            keep = present[:, i] & (dropped[:, i] == None)  # noqa: E711
            bad = _steep_pairs(log_t, log_rho[:, i], log_err[:, i], keep, _MIN_LOG_ERROR, CONSISTENCY_SIGMAS)
            dropped[bad, i] = "slope"
            keep &= ~bad
            bad = _curve_outliers(log_t, log_rho[:, i], log_err[:, i], keep, _MIN_LOG_ERROR, OUTLIER_SIGMAS)
            dropped[bad, i] = "rho_outlier"
            keep &= ~bad
            bad = _curve_outliers(log_t, folded[:, i], phase_std[:, i], keep, _MIN_PHASE_ERROR, OUTLIER_SIGMAS)
            dropped[bad, i] = "phase_outlier"
            keep &= ~bad
            w = 1.0 / np.maximum(log_err[:, i], _MIN_LOG_ERROR) ** 2
            for j in np.flatnonzero(keep):
                _, _, slope, slope_err = _local_fit(log_t, log_rho[:, i], w, j, keep, SLOPE_WINDOW_DECADES)
                if not np.isfinite(slope):
                    continue
                spread = np.sqrt(
                    max(phase_std[j, i], _MIN_PHASE_ERROR) ** 2 + (45.0 * slope_err) ** 2 + WEIDELT_ALLOWANCE**2
                )
                if abs(folded[j, i] - weidelt_phase(slope)) > CONSISTENCY_SIGMAS * spread:
                    dropped[j, i] = "weidelt"
        inflation = np.ones(shape)
        soft = present & (dropped == None) & (skew > SKEW_INFLATE)  # noqa: E711
        inflation[soft] = skew[soft] / SKEW_INFLATE
    counts = {key: int(np.sum(dropped == key)) for key in REASONS if key != "skew_inflated"}
    counts["skew_inflated"] = int(soft.sum())
    return Screen(dropped=dropped, inflation=inflation, counts={k: v for k, v in counts.items() if v})


def _apply_screen(freqs, names, modes, out, skew, dropped):
    """Drop or down-weight each mode's soundings by :func:`screen_soundings`.

    Mutates ``out`` (NaN for drops, errors times the inflation) and
    ``dropped``; returns the down-weighted soundings.
    """
    first, downweighted = len(dropped), []
    for mode in modes:
        with np.errstate(invalid="ignore", divide="ignore"):
            measured = out["rs0"][mode] / (2.0 * out["rho"][mode])
        verdict = screen_soundings(
            freqs, out["rho"][mode], out["phase"][mode], out["rs"][mode], out["ps"][mode], skew, measured
        )
        for j, i in zip(*np.nonzero(verdict.dropped != None), strict=True):  # noqa: E711
            reason = REASONS[verdict.dropped[j, i]]
            dropped.append({"station": names[i], "mode": mode, "frequency": float(freqs[j]), "reason": reason})
            for key in out:
                out[key][mode][j, i] = np.nan
        for j, i in zip(*np.nonzero(verdict.inflation > 1.0), strict=True):
            factor = float(verdict.inflation[j, i])
            reason = REASONS["skew_inflated"]
            downweighted.append(
                {"station": names[i], "mode": mode, "frequency": float(freqs[j]), "reason": reason, "factor": factor}
            )
            out["rs"][mode][j, i] *= factor
            out["ps"][mode][j, i] *= factor
    if len(dropped) > first or downweighted:
        counts = _screen_counts(dropped[first:], [])
        logger.warning(
            "screen: dropped %d soundings (%s), errors inflated on %d",
            len(dropped) - first,
            ", ".join(f"{c['dropped']} {r}" for r, c in counts.items()) or "none",
            len(downweighted),
        )
    return downweighted


def _screen_counts(dropped, downweighted):
    """Soundings per reason, ``{"dropped": n}`` or ``{"down-weighted": n}``.

    Every reason a sounding was left out for (the unusable data's and the
    screen's), in the order of :data:`simpeg_zo._screen.REASONS` after the
    others.
    """
    order = {text: k for k, text in enumerate(REASONS.values(), start=1)}
    counts = {}
    for d in dropped:
        counts.setdefault(d["reason"], {"dropped": 0})["dropped"] += 1
    for d in downweighted:
        counts.setdefault(d["reason"], {"down-weighted": 0})["down-weighted"] += 1
    return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], 0)))
