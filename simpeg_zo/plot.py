"""Figures: model sections, misfit curves, pseudo-sections.

matplotlib is imported inside the functions, so ``import simpeg_zo`` does not
load it.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "plot_model",
    "plot_models",
    "plot_misfit_curves",
    "plot_pseudosections",
    "save_comparison_figures",
]


def _pyplot():
    # the backend is the caller's choice (MPLBACKEND, matplotlib.use, the
    # notebook's inline backend); the command line selects Agg itself
    import matplotlib.pyplot as plt

    return plt


def plot_model(profile, model, *, ax=None, title=None, clim=None, depth_max=None, cmap="turbo_r"):
    """Resistivity section of a model with stations and topography.

    Parameters
    ----------
    profile : Profile
    model : (n_active,) numpy.ndarray
        Log conductivity of the active cells.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    clim : (2,) tuple, optional
        Resistivity colour limits (ohm-m).
    depth_max : float, optional
        Depth below the highest station shown (m); default half the profile
        length.

    Returns
    -------
    matplotlib.collections.QuadMesh
    """
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    mesh = profile.mesh
    rho = np.full(mesh.n_cells, np.nan)
    rho[profile.active_cells] = np.exp(-np.asarray(model))
    if clim is None:
        finite = rho[np.isfinite(rho)]
        clim = (np.percentile(finite, 1), np.percentile(finite, 99))
    image = rho.reshape(mesh.shape_cells, order="F").T
    qm = ax.pcolormesh(
        mesh.nodes_x,
        mesh.nodes_y,
        np.ma.masked_invalid(image),
        norm=LogNorm(vmin=clim[0], vmax=clim[1]),
        cmap=cmap,
    )
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    depth_max = 0.5 * length if depth_max is None else depth_max
    pad = 0.05 * length
    top = float(profile.elevations.max())
    ax.set_xlim(profile.stations[0] - pad, profile.stations[-1] + pad)
    ax.set_ylim(top - depth_max, top + 0.08 * depth_max)
    ax.plot(profile.stations, profile.elevations, "v", color="k", ms=4, clip_on=False)
    surf_x = mesh.cell_centers_x
    ax.plot(surf_x, profile.surface, "-", color="0.2", lw=0.8)
    ax.set_xlabel("Distance (m)")
    ax.set_ylabel("Elevation (m)")
    if title:
        ax.set_title(title)
    return qm


def plot_models(comparison, *, path=None):
    """True and recovered models of a comparison, one panel each."""
    plt = _pyplot()
    names = list(comparison.results)
    n = len(names) + 1
    fig, axes = plt.subplots(n, 1, figsize=(8, 2.6 * n), sharex=True, squeeze=False)
    true = comparison.true_model
    clim = (float(np.exp(-true.max())) / 2, float(np.exp(-true.min())) * 2)
    qm = plot_model(comparison.profile, true, ax=axes[0, 0], title="true model", clim=clim)
    for ax, name in zip(axes[1:, 0], names):
        r = comparison.results[name]
        plot_model(
            comparison.profile,
            r.model,
            ax=ax,
            clim=clim,
            title=f"{name}: chi2 {r.chi2:.2f}, {r.iterations} it, {r.wall_seconds:.0f} s, "
            f"log10 RMSE {comparison.model_log10_rmse(r.model):.3f}",
        )
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    fig.colorbar(qm, ax=axes[:, 0].tolist(), label="Resistivity (ohm-m)", shrink=0.6)
    return _save(fig, path)


def plot_misfit_curves(results, *, path=None, target=1.0):
    """chi2 against iteration and against time for every method.

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
        a1.semilogy(it, chi, "o-", ms=3, label=name)
        a2.semilogy(sec, chi, "o-", ms=3, label=name)
    for ax, xl in ((a1, "Iteration"), (a2, "Elapsed time (s)")):
        ax.axhline(target, color="k", ls="--", lw=0.8)
        ax.set_xlabel(xl)
        ax.set_ylabel("chi2 = phi_d / N")
        ax.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_pseudosections(profile, predicted=None, *, path=None):
    """Observed (and predicted) apparent-resistivity and phase pseudo-sections.

    Parameters
    ----------
    profile : Profile
        With observed data.
    predicted : dict, optional
        ``{label: dpred_per_mode}``; one extra row per label.
    """
    plt = _pyplot()
    rows = [("observed", {m: np.where(np.isfinite(d.standard_deviation), d.dobs, np.nan)
                          for m, d in profile.data.items()})]
    rows += list((predicted or {}).items())
    cols = [(m, c) for m in profile.modes for c in ("apparent_resistivity", "phase")]
    fig, axes = plt.subplots(
        len(rows), len(cols), figsize=(3.4 * len(cols), 2.4 * len(rows)), squeeze=False
    )
    period = 1.0 / profile.frequencies
    obs = {m: profile.observed(m) for m in profile.data}
    for i, (label, data) in enumerate(rows):
        for j, (mode, comp) in enumerate(cols):
            ax = axes[i, j]
            values = profile.split(data[mode], mode)[comp]
            ref = obs[mode][comp]
            if comp == "apparent_resistivity":
                values, ref = np.log10(values), np.log10(ref)
                unit = "log10 rho_a"
            else:
                values, ref = np.mod(values, 180.0), np.mod(ref, 180.0)
                unit = "phase (deg)"
            lo, hi = np.nanpercentile(ref, [2, 98])
            qm = ax.pcolormesh(
                profile.stations, period, values, shading="nearest", vmin=lo, vmax=hi, cmap="viridis"
            )
            ax.set_yscale("log")
            ax.invert_yaxis()
            ax.set_title(f"{label} {mode} {unit}", fontsize=8)
            fig.colorbar(qm, ax=ax)
            if j == 0:
                ax.set_ylabel("Period (s)")
            if i == len(rows) - 1:
                ax.set_xlabel("Distance (m)")
    fig.tight_layout()
    return _save(fig, path)


def save_comparison_figures(comparison, directory) -> list:
    """Write the standard figures of a comparison; returns the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = [
        os.path.join(directory, "models.png"),
        os.path.join(directory, "misfit.png"),
        os.path.join(directory, "pseudosections.png"),
    ]
    plot_models(comparison, path=paths[0])
    plot_misfit_curves(comparison.results, path=paths[1])
    plot_pseudosections(
        comparison.profile,
        {name: r.dpred for name, r in comparison.results.items()},
        path=paths[2],
    )
    return paths


def _save(fig, path):
    if path is None:
        return fig
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
