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

from ._plot_base import (  # noqa: F401  (helpers re-exported for plot_field and the tests)
    APPARENT_RESISTIVITY_LABEL,
    PHASE_LABEL,
    RESIDUAL_LABEL,
    RESISTIVITY_LABEL,
    SPREAD_LABEL,
    _colorbar,
    _distance_axis,
    _edges,
    _label_stations,
    _plain_log_axis,
    _plain_number,
    _pyplot,
    _save,
    _thinned_labels,
    station_labels,
)
from ._plot_pseudo import (  # noqa: F401
    GAP_SPACINGS,
    _station_cells,
    plot_pseudosections,
    plot_residual_pseudosections,
)
from ._plot_tipper import plot_induction_arrows
from ._sections import (
    depth_of_investigation,
    normalised_residuals,
    profile_depth_of_investigation,
    profile_residuals,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._profile import Profile
    from ._result import InversionResult

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


#: Share of the deepest DOI added below it in a section's default depth range.
DOI_MARGIN = 0.25


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
