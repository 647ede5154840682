r"""Induction arrows of a profile's tipper, observed against predicted.

In a 2D profile the arrows lie along the line. With SimPEG's z up, Parkinson's
real arrow (pointing towards conductors) is :math:`+\mathrm{Re}\,T_{zx}`
along the profile; the imaginary arrow is drawn with the same sign.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._profile import Profile

__all__ = ["plot_induction_arrows", "arrow_periods"]

#: Colours of the predictions (one per label), after the observed arrows in black.
_PREDICTED = ("tab:red", "tab:blue", "tab:green", "tab:purple")


def arrow_periods(profile: Profile, count: int = 4) -> np.ndarray:
    """``count`` of the profile's periods (s), spread evenly in log period."""
    periods = np.sort(1.0 / np.asarray(profile.frequencies, dtype=float))
    if periods.size <= count:
        return periods
    picks = np.unique(np.round(np.linspace(0, periods.size - 1, count)).astype(int))
    return periods[picks]


def plot_induction_arrows(
    profile: Profile,
    predicted: dict | None = None,
    *,
    periods: ArrayLike | None = None,
    path: str | None = None,
) -> Figure | str:
    """Real and imaginary induction arrows along the profile at chosen periods.

    One panel per period; in each, the real arrows (Parkinson: towards
    conductors) on the upper line and the imaginary arrows on the lower
    one, observed in black and each prediction in its colour beside them.
    Arrow length is drawn to the scale shown by the key (the tipper is
    dimensionless); dropped data have no arrow.

    Parameters
    ----------
    profile : Profile
        With observed tipper data (mode ``"TIP"``).
    predicted : dict, optional
        ``{label: dpred_per_mode}`` (e.g. :func:`simpeg_zo.plot.result_predictions`).
    periods : array_like, optional
        Periods (s); each is drawn at the profile's nearest period. Default
        four spread over the band (:func:`arrow_periods`).
    path : str, optional
        Save there (and close) instead of returning the figure.

    Returns
    -------
    matplotlib.figure.Figure or str
    """
    from ._plot_base import _distance_axis, _label_stations, _pyplot, _save, station_labels

    if "TIP" not in profile.data:
        raise ValueError("the profile has no tipper data (mode TIP)")
    plt = _pyplot()
    all_periods = 1.0 / np.asarray(profile.frequencies, dtype=float)
    wanted = arrow_periods(profile) if periods is None else np.atleast_1d(np.asarray(periods, dtype=float))
    if wanted.size == 0 or not np.all(np.isfinite(wanted) & (wanted > 0)):
        raise ValueError(f"periods must be positive, got {wanted}")
    rows = [int(np.argmin(np.abs(np.log(all_periods) - np.log(p)))) for p in wanted]
    obs = profile.observed("TIP")
    series = [("observed", "k", obs["real"], obs["imag"])]
    for (label, dpred), colour in zip((predicted or {}).items(), _PREDICTED, strict=False):
        parts = profile.split(dpred["TIP"], "TIP")
        keep = np.isfinite(obs["real"])
        series.append((label, colour, np.where(keep, parts["real"], np.nan), np.where(keep, parts["imag"], np.nan)))
    x = np.asarray(profile.stations, dtype=float)
    spacing = float(np.median(np.diff(x))) if x.size > 1 else 1000.0
    largest = max(float(np.nanmax(np.abs(np.r_[s[2].ravel(), s[3].ravel()]))) for s in series)
    largest = largest if np.isfinite(largest) and largest > 0 else 0.1
    key = float(10.0 ** np.floor(np.log10(largest)))  # a round key length
    scale = 0.9 * spacing / largest  # metres of arrow per unit of tipper: the longest spans 0.9 stations
    fig, axes = plt.subplots(
        len(rows), 1, figsize=(max(6.0, 0.35 * x.size + 2.0), 1.5 * len(rows) + 0.8), sharex=True, squeeze=False
    )
    offsets = np.linspace(0.0, 0.12, len(series))
    for ax, row in zip(axes[:, 0], rows, strict=True):
        for (label, colour, real, imag), dy in zip(series, offsets, strict=True):
            for y, values in ((1.0, real[row]), (0.0, imag[row])):
                ok = np.isfinite(values)
                ax.quiver(
                    x[ok],
                    np.full(ok.sum(), y - dy),
                    values[ok] * scale,
                    np.zeros(ok.sum()),
                    angles="xy",
                    scale_units="xy",
                    scale=1.0,
                    color=colour,
                    width=0.003,
                    headwidth=4,
                    label=label if y == 1.0 else None,
                )
        ax.plot(x, np.ones_like(x), "|", color="0.6", ms=6)
        ax.plot(x, np.zeros_like(x), "|", color="0.6", ms=6)
        ax.set_ylim(-0.6, 1.6)
        ax.set_yticks([1.0, 0.0], ["real", "imag."])
        ax.set_title(f"Induction arrows, period {all_periods[row]:.3g} s", fontsize=8)
        ax.quiver(
            [x[0]], [1.45], [key * scale], [0.0], angles="xy", scale_units="xy", scale=1.0, color="0.4", width=0.003
        )
        ax.text(x[0] + key * scale, 1.45, f"  |T| = {key:g}", fontsize=7, va="center", color="0.4")
    length = float(x[-1] - x[0]) or 1000.0
    pad = 2.0 * spacing
    axes[0, 0].set_xlim(x[0] - pad, x[-1] + pad)
    _distance_axis(axes[-1, 0], length)
    fig.tight_layout()
    pad = _label_stations(axes[0, 0], x, station_labels(profile), fontsize=5)
    axes[0, 0].set_title(axes[0, 0].get_title(), fontsize=8, pad=pad or 4.0)
    axes[0, 0].legend(loc="upper right", fontsize=7, ncol=len(series))
    return _save(fig, path)
