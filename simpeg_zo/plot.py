"""Figures: model sections, misfit curves, pseudo-sections, residuals.

Model sections show the stations (named), the topography and the depth of
investigation (:func:`depth_of_investigation`, the Bostick depth of each
station's longest period), with the section below it shaded and the depth
range ending a little below it; titles give the model's own chi2 and, under
its own name, the fit with static-shift factors when those were estimated.
Every colour bar carries its unit; log axes are labelled 1, 10, 100.

matplotlib is imported inside the functions, so ``import simpeg_zo`` does not
load it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ._plot_tipper import plot_induction_arrows
from ._profile import COMPONENTS
from ._sections import (
    depth_of_investigation,
    normalised_residuals,
    profile_depth_of_investigation,
    profile_residuals,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._profile import Profile
    from ._runs import InversionResult

__all__ = [
    "depth_of_investigation",
    "profile_depth_of_investigation",
    "normalised_residuals",
    "profile_residuals",
    "default_depth_max",
    "station_labels",
    "misfit_text",
    "static_shift_prediction",
    "result_predictions",
    "plot_model",
    "plot_inversion",
    "plot_models",
    "plot_misfit_curves",
    "plot_pseudosections",
    "plot_residual_pseudosections",
    "plot_induction_arrows",
    "save_comparison_figures",
]


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
#: Share of the deepest DOI added below it in a section's default depth range.
DOI_MARGIN = 0.25


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


def misfit_text(result: InversionResult) -> str:
    r"""The misfit of a result for a title.

    The model's own :math:`\chi^2` and, when static-shift factors were
    estimated, the fit with them under its own name.

    Parameters
    ----------
    result : InversionResult

    Returns
    -------
    str
        E.g. ``"$\chi^2$ 1.40"`` or
        ``"$\chi^2$ 1.40 (model) / 1.10 with static-shift factors"``.
    """
    text = rf"$\chi^2$ {result.chi2:.2f}"
    shifted = (getattr(result, "extra", None) or {}).get("chi2_with_static_shift")
    if shifted is not None:
        text += f" (model) / {shifted:.2f} with static-shift factors"
    return text


def static_shift_prediction(profile: Profile, result: InversionResult) -> dict | None:
    """The prediction of a result's model times its static-shift factors.

    Parameters
    ----------
    profile : Profile
    result : InversionResult
        From a ZO run with ``static_shift``: ``extra["static_shift"]`` holds
        one factor per station and mode (None where none was estimated).

    Returns
    -------
    dict or None
        Predicted data per mode with the apparent resistivities multiplied
        by the factors; None when the result has no factors.
    """
    table = ((getattr(result, "extra", None) or {}).get("static_shift") or {}).get("factors")
    if not table:
        return None
    out = {}
    for mode, d in result.dpred.items():
        if mode == "TIP":  # no static shift on the tipper
            out[mode] = d
            continue
        f = np.array([1.0 if v is None else float(v) for v in table.get(mode, [None] * profile.n_stations)])
        parts = profile.split(d, mode)
        out[mode] = profile.join(parts["apparent_resistivity"] * f[None, :], parts["phase"])
    return out


def result_predictions(profile: Profile, result: InversionResult) -> dict:
    """``{label: dpred}`` of a result for the data figures.

    The model's own prediction and, when static-shift factors were
    estimated, the prediction with them (labelled so).
    """
    shifted = static_shift_prediction(profile, result)
    if shifted is None:
        return {result.method: result.dpred}
    return {f"{result.method} (model)": result.dpred, f"{result.method} with static-shift factors": shifted}


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


def _resolve_doi(profile, doi):
    if doi is True:
        return profile_depth_of_investigation(profile)
    if doi is False or doi is None:
        return None
    values = np.asarray(doi, dtype=float).ravel()
    if values.size != profile.n_stations:
        raise ValueError(f"doi needs one depth per station ({profile.n_stations}), got {values.size}")
    return values


def default_depth_max(profile: Profile, doi: np.ndarray | None = None) -> float:
    """Depth range of a section below its highest station (m).

    A quarter more than the deepest depth of investigation (the mesh's
    padding below carries no information), half the profile length without
    data.

    Parameters
    ----------
    profile : Profile
    doi : (n_stations,) numpy.ndarray, optional
        Depth of investigation per station; default that of the profile's
        observed data (:func:`profile_depth_of_investigation`).

    Returns
    -------
    float
    """
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    doi = profile_depth_of_investigation(profile) if doi is None else np.asarray(doi, dtype=float)
    top = float(profile.elevations.max())
    if doi is None or not np.any(np.isfinite(doi)):
        depth = 0.5 * length
    else:
        deepest = float(np.nanmax(top - (profile.elevations - doi)))
        depth = (1.0 + DOI_MARGIN) * deepest
    return float(min(depth, top - profile.mesh.nodes_y[0]))


def plot_model(
    profile: Profile,
    model: np.ndarray,
    *,
    ax=None,
    title: str | None = None,
    clim=None,
    depth_max: float | None = None,
    cmap: str = "turbo_r",
    doi=True,
    shade_below_doi: bool = True,
    stations: bool = True,
    colorbar: bool = False,
    spread: bool = False,
):
    """Resistivity section of a model (or, with ``spread``, of its uncertainty).

    With stations, topography and the depth of investigation.

    Parameters
    ----------
    profile : Profile
    model : (n_active,) numpy.ndarray
        Log conductivity of the active cells.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    clim : (2,) tuple, optional
        Resistivity colour limits (ohm-m); default the 2nd and 98th
        percentiles of the cells inside the drawn area.
    depth_max : float, optional
        Depth below the highest station shown (m); default
        :func:`default_depth_max` (a little below the deepest DOI).
    cmap : str
    doi : bool or (n_stations,) numpy.ndarray
        Depth of investigation below each station (m): True takes that of
        the profile's observed data (:func:`profile_depth_of_investigation`),
        False draws none. Drawn as a dashed line, linear between stations.
    shade_below_doi : bool
        Cover the section below the DOI with semi-transparent white.
    stations : bool
        Station triangles on the surface and their names (rotated, above the
        axes; ``S01``... for profiles without names).
    colorbar : bool
        Add a colour bar with its unit beside ``ax``.
    spread : bool
        ``model`` is a spread of log10 resistivity per active cell (one
        standard deviation, as a learned section's ``spread_log10``), drawn
        on a linear scale from 0 (``clim``: its limits).

    Returns
    -------
    matplotlib.collections.QuadMesh
    """
    from matplotlib.colors import LogNorm, Normalize

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.6))
    mesh = profile.mesh
    rho = np.full(mesh.n_cells, np.nan)
    rho[profile.active_cells] = np.asarray(model) if spread else np.exp(-np.asarray(model))
    if spread and cmap == "turbo_r":
        cmap = "magma_r"
    doi = _resolve_doi(profile, doi)
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    depth_max = default_depth_max(profile, doi) if depth_max is None else float(depth_max)
    pad = 0.05 * length
    top = float(profile.elevations.max())
    x_lim = (profile.stations[0] - pad, profile.stations[-1] + pad)
    y_lim = (top - depth_max, top + 0.06 * depth_max)
    if clim is None:
        xc, yc = mesh.cell_centers[:, 0], mesh.cell_centers[:, 1]
        shown = np.isfinite(rho) & (xc >= x_lim[0]) & (xc <= x_lim[1]) & (yc >= y_lim[0])
        finite = rho[shown] if shown.any() else rho[np.isfinite(rho)]
        clim = (0.0, np.percentile(finite, 98)) if spread else (np.percentile(finite, 2), np.percentile(finite, 98))
        if clim[1] <= clim[0]:
            clim = (clim[0], clim[0] + 1.0) if spread else (clim[0] / 2.0, clim[0] * 2.0)
    image = rho.reshape(mesh.shape_cells, order="F").T
    qm = ax.pcolormesh(
        mesh.nodes_x,
        mesh.nodes_y,
        np.ma.masked_invalid(image),
        norm=Normalize(vmin=clim[0], vmax=clim[1]) if spread else LogNorm(vmin=clim[0], vmax=clim[1]),
        cmap=cmap,
        rasterized=True,
    )
    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.plot(mesh.cell_centers_x, profile.surface, "-", color="0.15", lw=0.8)
    if doi is not None and np.any(np.isfinite(doi)):
        ok = np.isfinite(doi)
        xs = np.concatenate([[x_lim[0]], profile.stations[ok], [x_lim[1]]])
        bottom = profile.elevations[ok] - doi[ok]
        ys = np.concatenate([[bottom[0]], bottom, [bottom[-1]]])
        if shade_below_doi:
            ax.fill_between(xs, ys, y_lim[0], facecolor="white", alpha=0.6, edgecolor="none", zorder=2)
        ax.plot(xs, ys, "--", color="k", lw=0.9, zorder=3)
        ax.annotate(
            "DOI",
            xy=(xs[-1], ys[-1]),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
            style="italic",
        )
    title_pad = None
    if stations:
        ax.plot(profile.stations, profile.elevations, "v", color="k", mec="w", mew=0.5, ms=5, clip_on=False, zorder=5)
        title_pad = _label_stations(ax, profile.stations, station_labels(profile))
    _distance_axis(ax, length)
    ax.set_ylabel("Elevation (m)")
    if title:
        ax.set_title(title, fontsize=9, pad=title_pad if title_pad is not None else 6.0)
    if colorbar:
        label = SPREAD_LABEL if spread else RESISTIVITY_LABEL
        _colorbar(ax.figure, qm, ax, label=label, log=not spread, pad=0.015, fraction=0.04)
    return qm


def plot_inversion(
    profile: Profile,
    result: InversionResult,
    *,
    path: str | None = None,
    depth_max: float | None = None,
    clim: tuple | None = None,
) -> Figure | str:
    """Resistivity section of one inversion result, titled with its misfit.

    A learned section (``cnn``) with a spread (``extra["spread_log10"]``)
    gets a second panel: the spread.

    Parameters
    ----------
    profile : Profile
        With the observed data the result was inverted from.
    result : InversionResult
    path : str, optional
        Save there (and close) instead of returning the figure.
    depth_max, clim :
        See :func:`plot_model`.

    Returns
    -------
    matplotlib.figure.Figure or str
    """
    plt = _pyplot()
    spread = result.extra.get("spread_log10") if result.method == "cnn" else None
    rows = 1 if spread is None else 2
    fig, axes = plt.subplots(rows, 1, figsize=(9, 3.8 * rows), layout="constrained", squeeze=False, sharex=True)
    plot_model(
        profile,
        result.model,
        ax=axes[0, 0],
        depth_max=depth_max,
        clim=clim,
        colorbar=True,
        title=f"{result.method}: {misfit_text(result)}, {result.iterations} iterations, {result.wall_seconds:.0f} s",
    )
    if spread is not None:
        plot_model(
            profile,
            np.asarray(spread),
            ax=axes[1, 0],
            depth_max=depth_max,
            colorbar=True,
            spread=True,
            stations=False,
            title="the network's spread: one standard deviation of log10 resistivity (calibrated)",
        )
    return _save(fig, path)


def plot_models(comparison, *, path=None):
    """True and recovered models of a comparison, one panel each.

    The DOI is drawn on the true model and shaded on the recovered ones; the
    depth range ends a little below the DOI or at twice the depth of the
    region where the models are scored (``comparison.core``), whichever is
    shallower.
    """
    plt = _pyplot()
    names = list(comparison.results)
    n = len(names) + 1
    fig, axes = plt.subplots(n, 1, figsize=(8, 2.9 * n), sharex=True, squeeze=False, layout="constrained")
    true = comparison.true_model
    clim = (float(np.exp(-true.max())) / 2, float(np.exp(-true.min())) * 2)
    profile = comparison.profile
    doi = profile_depth_of_investigation(profile)
    depth_max = default_depth_max(profile, doi)
    core_depth = float((comparison.core or {}).get("depth", [0.0, 0.0])[1])
    if core_depth > 0:
        depth_max = min(depth_max, 2.0 * core_depth)
    qm = plot_model(
        profile,
        true,
        ax=axes[0, 0],
        title="true model",
        clim=clim,
        depth_max=depth_max,
        doi=doi if doi is not None else False,
        shade_below_doi=False,
    )
    for ax, name in zip(axes[1:, 0], names, strict=True):
        r = comparison.results[name]
        plot_model(
            profile,
            r.model,
            ax=ax,
            clim=clim,
            depth_max=depth_max,
            doi=doi if doi is not None else False,
            stations=False,
            title=f"{name}: {misfit_text(r)}, {r.iterations} it, {r.wall_seconds:.0f} s, "
            f"log10 RMSE {comparison.model_log10_rmse(r.model):.3f}",
        )
        ax.plot(profile.stations, profile.elevations, "v", color="k", mec="w", mew=0.5, ms=4, clip_on=False)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    _colorbar(fig, qm, axes[:, 0].tolist(), label=RESISTIVITY_LABEL, log=True, shrink=0.6)
    return _save(fig, path)


def plot_misfit_curves(results, *, path=None, target=1.0):
    """chi2 against iteration and against time for every method.

    A method that estimated static-shift factors records the misfit *with*
    them at every iteration; its curve says so, and its final model's own
    misfit is marked with an open circle.

    Parameters
    ----------
    results : dict
        :class:`InversionResult` per method.
    """
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, r in results.items():
        it = [h["iteration"] for h in r.history]
        chi = [h["chi2"] for h in r.history]
        sec = [h["seconds"] for h in r.history]
        shifted = (r.extra or {}).get("chi2_with_static_shift") is not None
        label = f"{name} (with static-shift factors)" if shifted else name
        (line,) = a1.semilogy(it, chi, "o-", ms=3, label=label)
        a2.semilogy(sec, chi, "o-", ms=3, label=label, color=line.get_color())
        if shifted and it:
            for ax, x in ((a1, it[-1]), (a2, sec[-1])):
                ax.plot(
                    [x],
                    [r.chi2],
                    "o",
                    mfc="none",
                    mec=line.get_color(),
                    ms=7,
                    label=f"{name}: model alone" if ax is a1 else None,
                )
    for ax, xl in ((a1, "Iteration"), (a2, "Elapsed time (s)")):
        ax.axhline(target, color="k", ls="--", lw=0.8)
        ax.set_xlabel(xl)
        ax.set_ylabel(r"$\chi^2 = \phi_d / N$")
        ax.grid(True, which="both", alpha=0.3)
        _plain_log_axis(ax.yaxis)
    a1.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _edges(values, *, log=False):
    """Cell edges around monotonic centres (geometric midpoints if ``log``)."""
    v = np.log(np.asarray(values, dtype=float)) if log else np.asarray(values, dtype=float)
    if v.size == 1:
        e = np.array([v[0] - 0.5, v[0] + 0.5]) if not log else np.array([v[0] - 0.25, v[0] + 0.25])
    else:
        mid = 0.5 * (v[1:] + v[:-1])
        e = np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])
    return np.exp(e) if log else e


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


def save_comparison_figures(comparison, directory) -> list:
    """Write the standard figures of a comparison.

    Returns the paths (``models.png``, ``misfit.png``,
    ``pseudosections.png``, ``residuals.png``).
    """
    os.makedirs(directory, exist_ok=True)
    paths = [
        os.path.join(directory, "models.png"),
        os.path.join(directory, "misfit.png"),
        os.path.join(directory, "pseudosections.png"),
        os.path.join(directory, "residuals.png"),
    ]
    predicted = {name: r.dpred for name, r in comparison.results.items()}
    plot_models(comparison, path=paths[0])
    plot_misfit_curves(comparison.results, path=paths[1])
    plot_pseudosections(comparison.profile, predicted, path=paths[2])
    plot_residual_pseudosections(comparison.profile, predicted, path=paths[3])
    return paths


def _save(fig, path):
    if path is None:
        return fig
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
