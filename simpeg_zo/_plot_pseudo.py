"""Pseudo-sections: observed and predicted data, and normalised residuals.

One column per mode and component (apparent resistivity and phase of TE and
TM, the real and imaginary parts of the tipper), periods growing downwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._plot_base import (
    APPARENT_RESISTIVITY_LABEL,
    PHASE_LABEL,
    RESIDUAL_LABEL,
    _colorbar,
    _distance_axis,
    _edges,
    _label_stations,
    _plain_log_axis,
    _pyplot,
    _save,
    station_labels,
)
from ._profile import COMPONENTS
from ._sections import profile_residuals

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._profile import Profile

__all__ = ["plot_pseudosections", "plot_residual_pseudosections"]


def _pseudo_axes(ax, profile, *, names_on_top):
    """Period and distance axes of a pseudo-section panel.

    Period log-scaled with plain labels, long periods down.
    """
    ax.set_yscale("log")
    period = 1.0 / profile.frequencies
    ax.set_ylim(_edges(np.sort(period), log=True)[[-1, 0]])
    _plain_log_axis(ax.yaxis)
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    _distance_axis(ax, length)
    if names_on_top:
        return _label_stations(ax, profile.stations, station_labels(profile), fontsize=5)
    return None


_COMPONENT_NAMES = {
    "apparent_resistivity": "apparent resistivity",
    "phase": "phase",
    "real": "Tzx real",
    "imag": "Tzx imaginary",
}


TIPPER_LABEL = "Tipper Tzx (z up)"


#: A gap between neighbouring stations wider than this many median
#: spacings is left blank (hatched) in pseudo-sections
GAP_SPACINGS = 2.0


def _station_cells(x):
    """Column edges of a pseudo-section and the gaps left blank.

    Each station's column spans the midpoints to its neighbours, but no
    more than half the median spacing into a gap wider than
    :data:`GAP_SPACINGS` median spacings; such a gap becomes an empty
    column of its own.

    Returns
    -------
    edges : (n_columns + 1,) numpy.ndarray
    columns : (n_stations,) numpy.ndarray of int
        The column of each station.
    gaps : list of (float, float)
        The blank columns' extents.
    """
    x = np.asarray(x, dtype=float)
    if x.size < 3:
        return _edges(x), np.arange(x.size), []
    spacing = np.diff(x)
    median = float(np.median(spacing))
    wide = spacing > GAP_SPACINGS * median
    if not wide.any():
        return _edges(x), np.arange(x.size), []
    half = 0.5 * median
    edges = [x[0] - min(half, 0.5 * spacing[0])]
    columns, gaps = [], []
    for i in range(x.size):
        columns.append(len(edges) - 1)
        if i == x.size - 1:
            edges.append(x[i] + min(half, 0.5 * spacing[-1]))
        elif wide[i]:
            edges += [x[i] + half, x[i + 1] - half]
            gaps.append((x[i] + half, x[i + 1] - half))
        else:
            edges.append(0.5 * (x[i] + x[i + 1]))
    return np.asarray(edges), np.asarray(columns), gaps


def _pseudo_figure(profile, n_rows, *, row_height, extra_height):
    """A grid of pseudo-section panels: ``n_rows`` rows, one column per mode and component.

    Returns the figure, its ``(n_rows, n_columns)`` axes and the columns'
    ``(mode, component)`` pairs.
    """
    plt = _pyplot()
    cols = [(m, c) for m in profile.modes for c in COMPONENTS[m]]
    fig, axes = plt.subplots(
        n_rows,
        len(cols),
        figsize=(3.3 * len(cols), row_height * n_rows + extra_height),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    return fig, axes, cols


def _pseudo_panel(ax, profile, values, *, title, row_label=None, top=False, bottom=True, **style):
    """One pseudo-section panel of ``(n_frequencies, n_stations)`` values.

    Missing values (NaN) are grey; a gap between stations wider than
    :data:`GAP_SPACINGS` median spacings is hatched; station names on the ``top`` row, the
    distance label on the ``bottom`` row, ``row_label`` beside the period
    label. ``style`` goes to ``pcolormesh``; returns its QuadMesh.
    """
    xe, columns, gaps = _station_cells(profile.stations)
    pe = _edges(1.0 / profile.frequencies, log=True)
    values = np.asarray(values, dtype=float)
    grid = np.full((values.shape[0], xe.size - 1), np.nan)
    grid[:, columns] = values
    qm = ax.pcolormesh(xe, pe, np.ma.masked_invalid(grid), rasterized=True, **style)
    ax.set_facecolor("0.85")
    for left, right in gaps:  # no station there: hatched, not painted
        ax.axvspan(left, right, facecolor="white", edgecolor="0.6", hatch="////", lw=0.0, zorder=0.5)
    pad = _pseudo_axes(ax, profile, names_on_top=top)
    ax.set_title(title, fontsize=8, pad=pad or 4.0)
    if row_label is not None:
        ax.set_ylabel(f"{row_label}\nPeriod (s)")
    if not bottom:
        ax.set_xlabel("")
    return qm


def plot_pseudosections(profile, predicted=None, *, path=None):
    """Observed (and predicted) apparent-resistivity and phase pseudo-sections.

    One column per mode and component (the tipper's real and imaginary
    parts for TIP, on a diverging scale centred at 0), one colour scale
    (with its unit) per column, periods on a log axis growing downwards.

    Parameters
    ----------
    profile : Profile
        With observed data.
    predicted : dict, optional
        ``{label: dpred_per_mode}``; one extra row per label.
    path : str, optional
        Save there (and close) instead of returning the figure.
    """
    from matplotlib.colors import LogNorm, Normalize

    rows = [
        ("observed", {m: np.where(np.isfinite(d.standard_deviation), d.dobs, np.nan) for m, d in profile.data.items()})
    ]
    rows += list((predicted or {}).items())
    fig, axes, cols = _pseudo_figure(profile, len(rows), row_height=2.3, extra_height=1.0)
    obs = {m: profile.observed(m) for m in profile.data}
    for j, (mode, comp) in enumerate(cols):
        ref = obs[mode][comp]
        if comp == "apparent_resistivity":
            lo, hi = np.nanpercentile(ref, [2, 98])
            norm, cmap = LogNorm(lo, hi if hi > lo else 2 * lo), "turbo_r"
        elif mode == "TIP":
            top = float(np.nanpercentile(np.abs(ref), 98)) if np.isfinite(ref).any() else 0.0
            norm, cmap = Normalize(-max(top, 0.01), max(top, 0.01)), "PuOr_r"
        else:
            ref = np.mod(ref, 180.0)
            lo, hi = np.nanpercentile(ref, [2, 98])
            norm, cmap = Normalize(lo, hi if hi > lo else lo + 1.0), "viridis"
        for i, (label, data) in enumerate(rows):
            ax = axes[i, j]
            values = np.where(np.isfinite(obs[mode][comp]), profile.split(data[mode], mode)[comp], np.nan)
            if comp == "phase":
                values = np.mod(values, 180.0)
            qm = _pseudo_panel(
                ax,
                profile,
                values,
                title=f"{mode} {_COMPONENT_NAMES[comp]}",
                row_label=label if j == 0 else None,
                top=i == 0,
                bottom=i == len(rows) - 1,
                norm=norm,
                cmap=cmap,
            )
        if comp == "apparent_resistivity":
            _colorbar(
                fig,
                qm,
                axes[:, j].tolist(),
                label=APPARENT_RESISTIVITY_LABEL,
                log=True,
                location="bottom",
                shrink=0.85,
                aspect=30,
            )
        else:
            label = TIPPER_LABEL if mode == "TIP" else PHASE_LABEL
            _colorbar(fig, qm, axes[:, j].tolist(), label=label, location="bottom", shrink=0.85, aspect=30)
    return _save(fig, path)


def plot_residual_pseudosections(
    profile: Profile,
    predicted: dict,
    *,
    path: str | None = None,
    limit: float = 3.0,
    title: str | None = None,
) -> Figure | str:
    """Normalised residuals ``(observed - predicted) / std`` as pseudo-sections.

    One per mode and component.

    Red: data above the prediction, blue: below; the colour scale is
    centred at 0 and saturates at ``+-limit``; grey marks dropped data.
    Each panel's title gives its RMS (``sqrt`` of its share of chi2).

    Parameters
    ----------
    profile : Profile
        With observed data.
    predicted : dict
        ``{label: dpred_per_mode}``: one row per label (e.g. per method).
    path : str, optional
        Save there (and close) instead of returning the figure.
    limit : float
        Colour limits ``(-limit, limit)`` (> 0).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure or str
    """
    if not limit > 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    rows = list(predicted.items())
    fig, axes, cols = _pseudo_figure(profile, len(rows), row_height=2.4, extra_height=1.1)
    qm = None
    for i, (label, dpred) in enumerate(rows):
        residuals = profile_residuals(profile, dpred)
        for j, (mode, comp) in enumerate(cols):
            ax = axes[i, j]
            r = residuals[mode][comp]
            finite = r[np.isfinite(r)]
            rms = f"RMS {np.sqrt(np.mean(finite**2)):.2f}" if finite.size else "no data"
            qm = _pseudo_panel(
                ax,
                profile,
                r,
                title=f"{mode} {_COMPONENT_NAMES[comp]}: {rms}",
                row_label=label if j == 0 else None,
                top=i == 0,
                bottom=i == len(rows) - 1,
                cmap="RdBu_r",
                vmin=-limit,
                vmax=limit,
            )
    cbar = fig.colorbar(
        qm, ax=axes.ravel().tolist(), label=RESIDUAL_LABEL, location="bottom", shrink=0.5, aspect=40, extend="both"
    )
    cbar.set_ticks(np.arange(-np.floor(limit), np.floor(limit) + 1))
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)
