"""Invert one profile and write everything a user looks at afterwards.

:func:`invert_profile` runs a named method (the inverters of
:mod:`simpeg_zo._gn` and :mod:`simpeg_zo._runs`, or the learned ones when
:mod:`simpeg_zo.learned` provides them); :func:`misfit_tables` breaks the
misfit down by station and frequency; :func:`write_inversion` writes the
model (npz and a discretize-readable mesh), predicted data, RMS tables, the
misfit curve and figures, and returns the JSON-ready report.
"""

from __future__ import annotations

import csv
import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ._methods import METHODS, run_method
from ._profile import COMPONENTS, Profile
from ._result import InversionResult
from ._sections import profile_residuals
from .learned import LEARNED_METHODS

if TYPE_CHECKING:
    from ._field import EDISurvey

__all__ = [
    "INVERT_METHODS",
    "LEARNED_METHODS",
    "invert_profile",
    "misfit_tables",
    "inversion_report",
    "write_inversion",
]

#: Methods understood by :func:`invert_profile` and ``simpeg-zo invert``.
INVERT_METHODS = tuple(METHODS)


def invert_profile(profile: Profile, method: str, **options: Any) -> InversionResult:
    """Alias of :func:`simpeg_zo.run_method`, the name the field-data pages use.

    Same parameters (``target_chi2``, ``max_iter``, ``verbose``,
    ``estimator``, ``static_shift``, ``workers``, ``scheduler``), same
    methods (:data:`INVERT_METHODS` is :data:`simpeg_zo.METHODS`), same
    result; ``simpeg-zo invert`` runs it.

    Returns
    -------
    InversionResult
    """
    if options.get("static_shift") is None:
        options.pop("static_shift", None)
    return run_method(profile, method, **options)


def _rms(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return (float(np.sqrt(v.mean())), int(v.size)) if v.size else (None, 0)


#: Short names of the data components in tables and reports (``TE_rho``, ``TIP_real``, ...).
SHORT_NAMES = {"apparent_resistivity": "rho", "phase": "phase", "real": "real", "imag": "imag"}


def misfit_tables(profile: Profile, dpred: dict) -> dict:
    """Normalised RMS (``sqrt(chi2)``) per station and per frequency.

    Parameters
    ----------
    profile : Profile
        With observed data.
    dpred : dict
        Predicted data per mode.

    Returns
    -------
    dict
        ``{"stations": [...], "frequencies": [...]}``: one row per station
        (per frequency) with ``n`` and ``rms`` for all data and per mode and
        component (``TE_rho``, ``TE_phase``, ``TM_rho``, ``TM_phase``,
        ``TIP_real``, ``TIP_imag``).
    """
    # squared normalised residuals, (n_frequencies, n_stations) per mode and component
    r2 = {mode: {k: r**2 for k, r in parts.items()} for mode, parts in profile_residuals(profile, dpred).items()}
    names = profile.station_names or [f"{x:.0f}" for x in profile.stations]

    def row(select):
        out, allv = {}, []
        for mode in profile.modes:
            for key in COMPONENTS[mode]:
                short = SHORT_NAMES[key]
                v = select(r2[mode][key])
                allv.append(np.ravel(v))
                out[f"{mode}_{short}"], _ = _rms(v)
        out["rms"], out["n"] = _rms(np.concatenate(allv))
        return out

    stations = [
        {"station": n, "along_m": float(x), **row(lambda a, i=i: a[:, i])}
        for i, (n, x) in enumerate(zip(names, profile.stations, strict=False))
    ]
    freqs = [{"frequency_hz": float(f), **row(lambda a, j=j: a[j, :])} for j, f in enumerate(profile.frequencies)]
    return {"stations": stations, "frequencies": freqs}


def misfit_by_component(profile: Profile, dpred: dict) -> dict:
    """chi2 and RMS of each mode's components (``TE_rho``, ``TE_phase``, ``TIP_real``, ...).

    ``{name: {"n": n, "chi2": sum(r**2) / n, "rms": sqrt(chi2)}}`` over the
    data each component keeps, ``r`` the normalised residuals; the
    profile's chi2 is their ``n``-weighted mean.
    """
    out = {}
    for mode, parts in profile_residuals(profile, dpred).items():
        for key, r in parts.items():
            v = r[np.isfinite(r)]
            chi2 = float(np.mean(v**2)) if v.size else float("nan")
            out[f"{mode}_{SHORT_NAMES[key]}"] = {"n": int(v.size), "chi2": chi2, "rms": float(np.sqrt(chi2))}
    return out


def inversion_report(profile: Profile, result: InversionResult, *, survey=None, source=None) -> dict:
    """The JSON-ready report of one inversion.

    Keys: ``method``, ``source``, ``n_data``, ``chi2``, ``rms`` (normalised,
    ``sqrt(chi2)``), ``rms_percent`` (apparent resistivity, %),
    ``iterations``, ``forward_solves``, ``wall_seconds``, ``stop_reason``,
    ``converged``, ``interrupted`` (Ctrl-C: the best model so far),
    ``error`` (None, or the exception that ended the run: the best model
    so far),
    ``stations``, ``frequencies``, ``dropped``, ``history``,
    ``misfit_tables``, ``misfit_by_component`` (:func:`misfit_by_component`),
    ``mesh_cells`` and, for field data, the survey's
    choices (``strike_deg``, ``line_azimuth_deg``, ``band``, floors,
    ``static_shift``), ``lateral_roughness`` (RMS of log10-resistivity jumps
    between neighbouring stations down to the core depth, see
    :meth:`Profile.lateral_roughness`).
    """
    info = survey.summary() if survey is not None else {}
    names = profile.station_names or [f"{x:.0f}" for x in profile.stations]
    stations = info.pop(
        "stations",
        [
            {"name": n, "along_m": float(x), "elevation_m": float(z)}
            for n, x, z in zip(names, profile.stations, profile.elevations, strict=False)
        ],
    )
    info.pop("n_data", None)
    report = {
        "method": result.method,
        "source": source,
        "n_data": int(profile.n_data),
        "chi2": float(result.chi2),
        "rms": float(np.sqrt(result.chi2)),
        "rms_percent": float(result.rms_percent),
        "iterations": int(result.iterations),
        "forward_solves": int(result.forward_solves),
        "wall_seconds": float(result.wall_seconds),
        "stop_reason": result.stop_reason,
        "converged": bool(result.converged),
        "interrupted": bool(result.extra.get("interrupted", False)),
        "error": result.extra.get("error"),
        "target_chi2": float(result.target_chi2),
        "modes": list(profile.modes),
        "stations": stations,
        "frequencies": [float(f) for f in profile.frequencies],
        "dropped": info.pop("dropped", []),
        "mesh_cells": [int(n) for n in profile.mesh.shape_cells],
        "n_active_cells": int(profile.n_active),
        "history": result.history,
        "misfit_tables": misfit_tables(profile, result.dpred),
        "misfit_by_component": misfit_by_component(profile, result.dpred),
    }
    from ._compare import core_region

    depth_max = core_region(profile)[1]["depth"][1]
    report["lateral_roughness"] = {
        "log10_rms": profile.lateral_roughness(result.model, depth_max),
        "depth_max_m": float(depth_max),
    }
    report.update(info)
    if result.extra:
        report["extra"] = {k: v for k, v in result.extra.items() if _jsonable(v)}
    return report


def _jsonable(value) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _write_csv(path, rows):
    if not rows:
        return
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in r.items()})


def _predicted_rows(profile, dpred):
    names = profile.station_names or [f"{x:.0f}" for x in profile.stations]
    rows = []
    # TE/TM rows fill rho_* and phase_*, tipper rows (mode TIP) tzx_real_*
    # and tzx_imag_*: one set of columns for every row
    columns = {"apparent_resistivity": "rho", "phase": "phase", "real": "tzx_real", "imag": "tzx_imag"}
    shown = [c for c in columns if any(c in COMPONENTS[m] for m in profile.data)]
    for mode, d in profile.data.items():
        obs = profile.split(d.dobs, mode)
        std = profile.split(d.standard_deviation, mode)
        pred = profile.split(dpred[mode], mode)
        for j, f in enumerate(profile.frequencies):
            for i, n in enumerate(names):
                row = {"station": n, "along_m": float(profile.stations[i]), "mode": mode, "frequency_hz": float(f)}
                for key in shown:
                    short = columns[key]
                    ok = key in obs and np.isfinite(std[key][j, i])
                    row[f"{short}_obs"] = float(obs[key][j, i]) if ok else None
                    row[f"{short}_std"] = float(std[key][j, i]) if ok else None
                    row[f"{short}_pred"] = float(pred[key][j, i]) if key in pred else None
                rows.append(row)
    return rows


def write_inversion(
    profile: Profile,
    result: InversionResult,
    out_dir: str | os.PathLike,
    *,
    survey: EDISurvey | None = None,
    source: str | None = None,
    figures: bool = True,
) -> dict:
    """Write an inversion's outputs into a folder.

    Files: ``model.npz`` (``model`` = log conductivity of the active cells,
    ``resistivity`` on the whole mesh with NaN in the air, ``active_cells``,
    ``hx``, ``hz``, ``origin``, stations, elevations, frequencies),
    ``mesh.json`` (``discretize.load_mesh``), ``predicted.csv``,
    ``rms_stations.csv``, ``rms_frequencies.csv``, ``report.json`` and,
    with ``figures``, ``misfit.png``, ``model.png``, ``responses.png``,
    ``residuals.png`` (with a tipper also ``tipper.png``, induction arrows,
    and ``pseudosections.png``, observed against predicted) and, for field data with soundings dropped or
    down-weighted, ``screen.png`` (:func:`simpeg_zo.plot_field.plot_screen`).

    Returns
    -------
    dict
        The report (:func:`inversion_report`) with ``files`` added.
    """
    os.makedirs(out_dir, exist_ok=True)
    report = inversion_report(profile, result, survey=survey, source=source)
    mesh = profile.mesh
    rho = np.full(mesh.n_cells, np.nan)
    rho[profile.active_cells] = np.exp(-np.asarray(result.model))
    files = {}

    def path(name):
        files[name.split(".")[0]] = p = os.path.join(out_dir, name)
        return p

    np.savez(
        path("model.npz"),
        model=np.asarray(result.model),
        resistivity=rho,
        active_cells=profile.active_cells,
        hx=mesh.h[0],
        hz=mesh.h[1],
        origin=np.asarray(mesh.origin),
        stations=profile.stations,
        elevations=profile.elevations,
        frequencies=profile.frequencies,
        station_names=np.asarray(profile.station_names or [], dtype=str),
    )
    mesh.save(path("mesh.json"))
    _write_csv(path("predicted.csv"), _predicted_rows(profile, result.dpred))
    _write_csv(path("rms_stations.csv"), report["misfit_tables"]["stations"])
    _write_csv(path("rms_frequencies.csv"), report["misfit_tables"]["frequencies"])
    if figures:
        from .plot import plot_inversion, plot_misfit_curves, plot_residual_pseudosections, result_predictions
        from .plot_field import plot_station_responses

        plot_misfit_curves({result.method: result}, path=path("misfit.png"), target=result.target_chi2)
        plot_inversion(profile, result, path=path("model.png"))
        predictions = result_predictions(profile, result)
        plot_station_responses(profile, predictions, path=path("responses.png"))
        plot_residual_pseudosections(profile, predictions, path=path("residuals.png"))
        if "TIP" in profile.data:
            from .plot import plot_induction_arrows, plot_pseudosections

            plot_induction_arrows(profile, predictions, path=path("tipper.png"))
            plot_pseudosections(profile, predictions, path=path("pseudosections.png"))
        if survey is not None and (survey.dropped or survey.downweighted):
            from .plot_field import plot_screen

            plot_screen(survey, path=path("screen.png"))
    report["files"] = dict(files)
    report["files"]["report"] = os.path.join(out_dir, "report.json")
    with open(report["files"]["report"], "w") as fh:
        json.dump(report, fh, indent=1)
    return report
