"""Figures for field profiles: station responses, comparison with Occam2D.

matplotlib is imported inside the functions.
"""

from __future__ import annotations

import numpy as np

from .plot import (
    APPARENT_RESISTIVITY_LABEL,
    PHASE_LABEL,
    RESISTIVITY_LABEL,
    _colorbar,
    _distance_axis,
    _label_stations,
    _plain_log_axis,
    _pyplot,
    _save,
    default_depth_max,
    plot_model,
    profile_depth_of_investigation,
    station_labels,
)

__all__ = ["plot_station_responses", "plot_occam2d_comparison", "plot_screen"]

_COLOURS = {"TE": "tab:blue", "TM": "tab:red"}


def plot_station_responses(profile, predicted=None, *, path=None, columns: int = 5):
    """Observed (error bars) and predicted apparent resistivity and phase.

    One pair of panels per station; log axes labelled with plain numbers
    (0.1, 1, 10).

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
    fig, axes = plt.subplots(2 * rows, cols, figsize=(2.6 * cols, 3.6 * rows), sharex=True, squeeze=False)
    period = 1.0 / profile.frequencies
    names = [f"{n} ({x / 1000.0:.1f} km)" for n, x in zip(station_labels(profile), profile.stations, strict=True)]
    styles = ["-", "--", ":", "-."]
    for i in range(rows * cols):
        a_rho, a_ph = axes[2 * (i // cols), i % cols], axes[2 * (i // cols) + 1, i % cols]
        if i >= n:
            a_rho.set_visible(False)
            a_ph.set_visible(False)
            continue
        for mode, d in profile.data.items():
            if mode == "TIP":  # the tipper has its own figure (plot_induction_arrows)
                continue
            obs = profile.split(d.dobs, mode)
            std = profile.split(d.standard_deviation, mode)
            c = _COLOURS.get(mode, "k")
            ok = np.isfinite(std["apparent_resistivity"][:, i])
            a_rho.errorbar(
                period[ok],
                obs["apparent_resistivity"][ok, i],
                std["apparent_resistivity"][ok, i],
                fmt="o",
                ms=2.5,
                color=c,
                lw=0.7,
                label=f"{mode} obs",
            )
            ok = np.isfinite(std["phase"][:, i])
            a_ph.errorbar(
                period[ok],
                np.mod(obs["phase"][ok, i], 180.0),
                std["phase"][ok, i],
                fmt="o",
                ms=2.5,
                color=c,
                lw=0.7,
            )
            for (label, dp), ls in zip((predicted or {}).items(), styles, strict=False):
                pr = profile.split(dp[mode], mode)
                a_rho.plot(period, pr["apparent_resistivity"][:, i], ls, color=c, lw=1, label=f"{mode} {label}")
                a_ph.plot(period, np.mod(pr["phase"][:, i], 180.0), ls, color=c, lw=1)
        a_rho.set_xscale("log")
        a_rho.set_yscale("log")
        a_ph.set_ylim(0, 90)
        a_ph.set_yticks([0, 45, 90])
        a_rho.set_title(names[i], fontsize=8)
        a_rho.tick_params(labelsize=7, which="both")
        a_ph.tick_params(labelsize=7, which="both")
        if i % cols == 0:
            a_rho.set_ylabel(APPARENT_RESISTIVITY_LABEL, fontsize=7)
            a_ph.set_ylabel(PHASE_LABEL, fontsize=7)
        if i >= n - cols:
            a_ph.set_xlabel("Period (s)", fontsize=8)
    for ax in axes.ravel():
        if ax.get_visible():
            _plain_log_axis(ax.xaxis, min_ticks=2)
            if ax.get_yscale() == "log":
                _plain_log_axis(ax.yaxis)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    legend_rows = int(np.ceil(len(labels) / 4))
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 4), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.025 * legend_rows + 0.01) / rows))
    return _save(fig, path)


def plot_occam2d_comparison(profile, models, occam, *, path=None, depth_max=None, clim=None):
    """Our models beside a published Occam2D model, on the same axes.

    Every panel shows the depth of investigation of the profile's data
    (:func:`simpeg_zo.plot.profile_depth_of_investigation`), shaded below.

    Parameters
    ----------
    profile : Profile
    models : dict
        ``{title: model}`` (log conductivity of the active cells).
    occam : Occam2DModel
        From :func:`simpeg_zo.read_occam2d`; drawn with its flat top at the
        mean station elevation, x from the first station.
    depth_max : float, optional
        Depth below the highest station shown (m); default a little below
        the deepest DOI (:func:`simpeg_zo.plot.default_depth_max`).
    clim : (2,) tuple, optional
        Resistivity colour limits (ohm-m); default those of the Occam2D
        model within the plotted area.
    """
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    length = float(profile.stations[-1] - profile.stations[0]) or 1000.0
    doi = profile_depth_of_investigation(profile)
    depth_max = default_depth_max(profile, doi) if depth_max is None else depth_max
    top = float(np.mean(profile.elevations))
    x0 = float(profile.stations[0])
    if clim is None:
        sel_x = (occam.x_nodes[:-1] >= 0) & (occam.x_nodes[:-1] <= length)
        sel_z = occam.depth_nodes[:-1] <= depth_max
        vals = 10.0 ** occam.log10_resistivity[np.ix_(sel_z, sel_x)]
        clim = (float(np.nanmin(vals)), float(np.nanmax(vals)))
    n = len(models) + 1
    fig, axes = plt.subplots(n, 1, figsize=(9, 3.0 * n), sharex=True, squeeze=False, layout="constrained")
    ax = axes[0, 0]
    qm = ax.pcolormesh(
        occam.x_nodes + x0,
        top - occam.depth_nodes,
        10.0**occam.log10_resistivity,
        norm=LogNorm(*clim),
        cmap="turbo_r",
        rasterized=True,
    )
    x_lim = (x0 - 0.05 * length, x0 + 1.05 * length)
    y_bottom = float(profile.elevations.max()) - depth_max
    if doi is not None and np.any(np.isfinite(doi)):
        ok = np.isfinite(doi)
        xs = np.concatenate([[x_lim[0]], profile.stations[ok], [x_lim[1]]])
        ys = top - np.concatenate([[doi[ok][0]], doi[ok], [doi[ok][-1]]])
        ax.fill_between(xs, ys, y_bottom, facecolor="white", alpha=0.6, edgecolor="none", zorder=2)
        ax.plot(xs, ys, "--", color="k", lw=0.9, zorder=3)
    ax.plot(
        occam.station_offsets + x0,
        np.full(occam.station_offsets.size, top),
        "v",
        color="k",
        mec="w",
        mew=0.5,
        ms=5,
        clip_on=False,
        zorder=5,
    )
    ax.set_xlim(*x_lim)
    ax.set_ylim(y_bottom, float(profile.elevations.max()) + 0.06 * depth_max)
    pad = _label_stations(ax, profile.stations, station_labels(profile))
    title = "Occam2D (published)"
    if occam.iteration is not None:
        title += f", iteration {occam.iteration}, RMS {occam.misfit:.2f}"
    ax.set_title(title, fontsize=9, pad=pad)
    ax.set_ylabel("Elevation (m)")
    for a, (label, model) in zip(axes[1:, 0], models.items(), strict=True):
        plot_model(
            profile,
            model,
            ax=a,
            clim=clim,
            depth_max=depth_max,
            doi=doi if doi is not None else False,
            stations=False,
            title=label,
        )
        a.plot(profile.stations, profile.elevations, "v", color="k", mec="w", mew=0.5, ms=4, clip_on=False)
    _distance_axis(axes[-1, 0], length)
    for a in axes[:-1, 0]:
        a.set_xlabel("")
    _colorbar(fig, qm, axes[:, 0].tolist(), label=RESISTIVITY_LABEL, log=True, shrink=0.6)
    return _save(fig, path)


_SCREEN_MARKERS = ("x", "v", "^", "s", "D", "P", "*", "<", ">")


def plot_screen(survey, *, path=None):
    """Kept, down-weighted and dropped soundings of a field survey, with reasons.

    One pseudo-section per mode: stations in order along the line (names
    above), period downwards; a grey dot per kept sounding, an open orange
    circle per down-weighted one (larger for a larger error factor), one
    marker per reason for the dropped ones; the legend counts each.

    Parameters
    ----------
    survey : EDISurvey
        From :func:`simpeg_zo.read_edi_survey` (its ``dropped`` and
        ``downweighted`` lists).
    path : str, optional
        Save there (and close) instead of returning the figure.
    """
    plt = _pyplot()
    names = list(survey.names)
    column = {n: i for i, n in enumerate(names)}
    freqs = np.unique(np.r_[survey.frequencies, [d["frequency"] for d in survey.dropped]])
    modes = list(survey.impedance_modes)
    fig, axes = plt.subplots(
        1, len(modes), figsize=(max(5.0, 0.45 * len(names) + 2.5) * len(modes), 4.8), squeeze=False, sharey=True
    )
    reasons = list(dict.fromkeys(d["reason"] for d in survey.dropped))
    markers = {r: _SCREEN_MARKERS[k % len(_SCREEN_MARKERS)] for k, r in enumerate(reasons)}
    palette = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:cyan", "k")
    colours = {r: palette[k % len(palette)] for k, r in enumerate(reasons)}
    for ax, mode in zip(axes[0], modes, strict=True):
        kept = np.isfinite(survey.rho[mode])
        j, i = np.nonzero(kept)
        ax.scatter(i, 1.0 / survey.frequencies[j], s=6, color="0.6", label=f"kept ({kept.sum()})", zorder=1)
        soft = [d for d in survey.downweighted if d["mode"] == mode]
        if soft:
            ax.scatter(
                [column[d["station"]] for d in soft],
                [1.0 / d["frequency"] for d in soft],
                s=[14 * d["factor"] for d in soft],
                facecolors="none",
                edgecolors="tab:orange",
                linewidths=0.8,
                label=f"errors inflated ({len(soft)})",
                zorder=2,
            )
        for reason in reasons:
            hits = [d for d in survey.dropped if d["mode"] == mode and d["reason"] == reason]
            if not hits:
                continue
            ax.scatter(
                [column[d["station"]] for d in hits],
                [1.0 / d["frequency"] for d in hits],
                marker=markers[reason],
                s=22,
                color=colours[reason],
                label=f"dropped: {reason} ({len(hits)})",
                zorder=3,
            )
        ax.set_yscale("log")
        ax.set_ylim(1.3 / freqs.min(), 0.77 / freqs.max())
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{mode}: {kept.sum()} of {kept.size} soundings kept", fontsize=9)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1, frameon=False)
        _plain_log_axis(ax.yaxis)
    axes[0, 0].set_ylabel("Period (s)")
    fig.tight_layout()
    return _save(fig, path)
