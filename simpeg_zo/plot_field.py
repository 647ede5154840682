"""Figures for field profiles: station responses, comparison with Occam2D.

matplotlib is imported inside the functions.
"""

from __future__ import annotations

import numpy as np

from .plot import _pyplot, _save, plot_model

__all__ = ["plot_station_responses", "plot_occam2d_comparison"]

_COLOURS = {"TE": "tab:blue", "TM": "tab:red"}


def plot_station_responses(profile, predicted=None, *, path=None, columns: int = 5):
    """Observed (error bars) and predicted apparent resistivity and phase.

    One pair of panels per station.

    Parameters
    ----------
    profile : Profile
        With observed data.
    predicted : dict, optional
        ``{label: dpred_per_mode}``; one line style per label.
    path : str, optional
        Save there (and close) instead of returning the figure.
    columns : int
        Stations per row.
    """
    plt = _pyplot()
    n = profile.n_stations
    cols = min(columns, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        2 * rows, cols, figsize=(2.6 * cols, 3.6 * rows), sharex=True, squeeze=False
    )
    period = 1.0 / profile.frequencies
    names = profile.station_names or [f"{x:.0f} m" for x in profile.stations]
    styles = ["-", "--", ":", "-."]
    for i in range(rows * cols):
        a_rho, a_ph = axes[2 * (i // cols), i % cols], axes[2 * (i // cols) + 1, i % cols]
        if i >= n:
            a_rho.set_visible(False)
            a_ph.set_visible(False)
            continue
        for mode, d in profile.data.items():
            obs = profile.split(d.dobs, mode)
            std = profile.split(d.standard_deviation, mode)
            c = _COLOURS.get(mode, "k")
            ok = np.isfinite(std["apparent_resistivity"][:, i])
            a_rho.errorbar(
                period[ok], obs["apparent_resistivity"][ok, i], std["apparent_resistivity"][ok, i],
                fmt="o", ms=2.5, color=c, lw=0.7, label=f"{mode} obs",
            )
            ok = np.isfinite(std["phase"][:, i])
            a_ph.errorbar(
                period[ok], np.mod(obs["phase"][ok, i], 180.0), std["phase"][ok, i],
                fmt="o", ms=2.5, color=c, lw=0.7,
            )
            for (label, dp), ls in zip((predicted or {}).items(), styles, strict=False):
                pr = profile.split(dp[mode], mode)
                a_rho.plot(period, pr["apparent_resistivity"][:, i], ls, color=c, lw=1, label=f"{mode} {label}")
                a_ph.plot(period, np.mod(pr["phase"][:, i], 180.0), ls, color=c, lw=1)
        a_rho.set_xscale("log")
        a_rho.set_yscale("log")
        a_ph.set_ylim(0, 90)
        a_rho.set_title(names[i], fontsize=8)
        a_rho.tick_params(labelsize=7)
        a_ph.tick_params(labelsize=7)
        if i % cols == 0:
            a_rho.set_ylabel("rho_a (ohm-m)", fontsize=8)
            a_ph.set_ylabel("phase (deg)", fontsize=8)
        if i >= n - cols:
            a_ph.set_xlabel("Period (s)", fontsize=8)
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    return _save(fig, path)


def plot_occam2d_comparison(profile, models, occam, *, path=None, depth_max=None, clim=None):
    """Our models beside a published Occam2D model, on the same axes.

    Parameters
    ----------
    profile : Profile
    models : dict
        ``{title: model}`` (log conductivity of the active cells).
    occam : Occam2DModel
        From :func:`simpeg_zo.read_occam2d`; drawn with its flat top at the
        mean station elevation, x from the first station.
    depth_max : float, optional
        Default half the profile length.
    clim : (2,) tuple, optional
        Resistivity colour limits (ohm-m); default those of the Occam2D
        model within the plotted area.
    """
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    depth_max = 0.5 * length if depth_max is None else depth_max
    top = float(np.mean(profile.elevations))
    x0 = float(profile.stations[0])
    if clim is None:
        sel_x = (occam.x_nodes[:-1] >= 0) & (occam.x_nodes[:-1] <= length)
        sel_z = occam.depth_nodes[:-1] <= depth_max
        vals = 10.0 ** occam.log10_resistivity[np.ix_(sel_z, sel_x)]
        clim = (float(np.nanmin(vals)), float(np.nanmax(vals)))
    n = len(models) + 1
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.8 * n), sharex=True, squeeze=False)
    ax = axes[0, 0]
    qm = ax.pcolormesh(
        occam.x_nodes + x0,
        top - occam.depth_nodes,
        10.0 ** occam.log10_resistivity,
        norm=LogNorm(*clim),
        cmap="turbo_r",
    )
    ax.plot(occam.station_offsets + x0, np.full(occam.station_offsets.size, top), "v", color="k", ms=4)
    ax.set_xlim(x0 - 0.05 * length, x0 + 1.05 * length)
    ax.set_ylim(top - depth_max, top + 0.08 * depth_max)
    title = "Occam2D (published)"
    if occam.iteration is not None:
        title += f", iteration {occam.iteration}, RMS {occam.misfit:.2f}"
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("Elevation (m)")
    for a, (label, model) in zip(axes[1:, 0], models.items(), strict=True):
        plot_model(profile, model, ax=a, clim=clim, depth_max=depth_max, title=label)
        a.title.set_fontsize(9)
    for a in axes[:-1, 0]:
        a.set_xlabel("")
    fig.colorbar(qm, ax=axes[:, 0].tolist(), label="Resistivity (ohm-m)", shrink=0.6)
    return _save(fig, path)
