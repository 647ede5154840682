"""Shared pieces of the figures: matplotlib on demand, labels with units, axes, saving.

matplotlib is imported inside the functions, so importing this module does
not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._profile import Profile


def _pyplot():
    # the backend is the caller's choice (MPLBACKEND, matplotlib.use, the
    # notebook's inline backend); the command line selects Agg itself
    import matplotlib.pyplot as plt

    return plt


#: Colour-bar and axis labels, with units.
RESISTIVITY_LABEL = r"Resistivity ($\Omega\cdot$m)"


SPREAD_LABEL = "Spread of log10 resistivity (1 s.d.)"


APPARENT_RESISTIVITY_LABEL = r"Apparent resistivity ($\Omega\cdot$m)"


PHASE_LABEL = "Phase (deg)"


RESIDUAL_LABEL = r"Normalised residual (obs $-$ pred) / $\sigma$"


def station_labels(profile: Profile) -> list[str]:
    """Station names of a profile.

    Those of its EDI files, else ``S01``, ``S02``, ...

    Parameters
    ----------
    profile : Profile

    Returns
    -------
    list of str
    """
    if profile.station_names:
        return [str(n) for n in profile.station_names]
    return [f"S{i + 1:02d}" for i in range(profile.n_stations)]


def _plain_number(value, _pos=None) -> str:
    """A positive tick value as a plain decimal: 0.01, 1, 300, 10000."""
    if not np.isfinite(value) or value <= 0:
        return ""
    return np.format_float_positional(float(f"{value:.3g}"), trim="-")


#: Tick multiples of each decade, coarsest first (see :func:`_plain_log_axis`).
_LOG_SUBS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0, 7.0), tuple(np.arange(1.0, 10.0)))


def _plain_log_axis(axis, *, min_ticks: int = 3):
    """Log ticks of ``axis`` labelled with plain decimals (0.1, 1, 10, 100).

    The coarsest of 1; 1-2-5; 1-2-3-5-7 per decade that puts ``min_ticks``
    labels inside the limits, no minor labels. Call once the limits are
    final.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = sorted(axis.get_view_interval())
    subs = _LOG_SUBS[0]
    if lo > 0 and np.isfinite(hi):
        exponents = np.arange(np.floor(np.log10(lo)), np.ceil(np.log10(hi)) + 1)
        for subs in _LOG_SUBS:
            ticks = np.outer(10.0**exponents, subs).ravel()
            if np.sum((ticks >= lo * (1 - 1e-9)) & (ticks <= hi * (1 + 1e-9))) >= min_ticks:
                break
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(_plain_number))
    axis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(1.0, 10.0)))
    axis.set_minor_formatter(NullFormatter())


def _distance_axis(ax, length):
    """Distance along the profile in km (m for profiles under 2 km)."""
    from matplotlib.ticker import FuncFormatter

    if length >= 2000.0:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v / 1000.0:g}"))
        ax.set_xlabel("Distance (km)")
    else:
        ax.set_xlabel("Distance (m)")


def _colorbar(fig, mappable, axes, *, label, log=False, **kwargs):
    cbar = fig.colorbar(mappable, ax=axes, label=label, **kwargs)
    if log:
        long_axis = cbar.ax.xaxis if cbar.orientation == "horizontal" else cbar.ax.yaxis
        _plain_log_axis(long_axis)
    return cbar


def _thinned_labels(ax, x, *, fontsize):
    """Indices of the stations whose (rotated) names do not overlap.

    Greedy from the first station: a name is kept when it lies at least
    one line height (1.3 x ``fontsize`` points, on the axes' current width
    and x limits) from the last kept one.
    """
    x = np.asarray(x, dtype=float)
    lo, hi = ax.get_xlim()
    fig = ax.figure
    width_points = ax.get_position().width * fig.get_figwidth() * 72.0
    span = abs(hi - lo) or 1.0
    min_gap = 1.3 * fontsize * span / max(width_points, 1.0)
    keep, last = [], -np.inf
    for i in np.argsort(x, kind="stable"):
        if x[i] - last >= min_gap:
            keep.append(int(i))
            last = x[i]
    return sorted(keep)


def _label_stations(ax, x, names, *, fontsize=6):
    """Station names as small rotated labels above the axes.

    Names that would overlap their neighbour's are left out (every station
    keeps its tick). Returns the title padding (points) they need.
    """
    from matplotlib.transforms import blended_transform_factory

    trans = blended_transform_factory(ax.transData, ax.transAxes)
    shown = _thinned_labels(ax, x, fontsize=fontsize)
    for k in range(len(names)):
        ax.annotate(
            "",
            xy=(x[k], 1.0),
            xycoords=trans,
            xytext=(0, -3),
            textcoords="offset points",
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.3"},
            annotation_clip=False,
        )
    for xi, name in ((x[k], names[k]) for k in shown):
        ax.annotate(
            name,
            xy=(xi, 1.0),
            xycoords=trans,
            xytext=(0, 2),
            textcoords="offset points",
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            annotation_clip=False,
        )
    longest = max((len(n) for n in names), default=0)
    return 6.0 + 0.62 * fontsize * longest


def _edges(values, *, log=False):
    """Cell edges around monotonic centres (geometric midpoints if ``log``)."""
    v = np.log(np.asarray(values, dtype=float)) if log else np.asarray(values, dtype=float)
    if v.size == 1:
        e = np.array([v[0] - 0.5, v[0] + 0.5]) if not log else np.array([v[0] - 0.25, v[0] + 0.25])
    else:
        mid = 0.5 * (v[1:] + v[:-1])
        e = np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])
    return np.exp(e) if log else e


def _save(fig, path):
    if path is None:
        return fig
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
