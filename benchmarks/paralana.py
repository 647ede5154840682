"""Benchmark: the Paralana field profile, GN and ZO beside the published Occam2D run.

Inverts the data subset of the published Occam2D inversion (15 stations,
19 frequencies 78.125-1.171875 Hz, TE+TM, strike 7 deg, profile azimuth
97 deg, floors 10 % / 5 %) with SimPEG's Gauss-Newton recipe and with
Zohdy-Oldenburg (without and with the static-shift correction), evaluates the
published Occam2D model on the same SimPEG mesh, and runs the default
``simpeg-zo invert`` command (estimated strike, best-fit line, skew band).
Writes ``benchmarks/results/paralana.json`` and
``benchmarks/results/paralana_models.png``.

Usage::

    python benchmarks/paralana.py [--methods gn,gn-bostick,zo,zo-phase,zo-shift,zo-ss] [--skip-default] [--merge]

Every method runs with ``invert_profile``'s defaults (no static shifts);
a ``-shift`` suffix estimates per-station static shifts during the
iterations (``static_shift=True``; the report keeps the model's own chi2 and
``chi2_with_static_shift`` apart), ``-ss`` inverts the data corrected first
by the spatial-median filter and also scores the model on the uncorrected
data. ``--merge`` keeps the
runs of the existing results file that are not rerun (e.g. GN's) and draws
the rerun models into ``paralana_models_merged.png``.

The data are read from ``../shared/data/paralana`` (relative to the
repository root).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "paralana"))
RESULTS = os.path.join(HERE, "results")
OCCAM_CHOICES = {"fmin": 1.1, "strike": 7.0, "line_azimuth": 97.0, "band": "all"}


def _summary(result, profile):
    return {
        "chi2": float(result.chi2),
        "rms": float(np.sqrt(result.chi2)),
        "rms_percent": float(result.rms_percent),
        "iterations": int(result.iterations),
        "forward_solves": int(result.forward_solves),
        "wall_seconds": float(result.wall_seconds),
        "stop_reason": result.stop_reason,
        "n_data": int(profile.n_data),
        "history": result.history,
    }


def _log10_difference(profile, model, occam_model, depth_max):
    """RMS and mean of log10(rho_ours / rho_occam) under the stations."""
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    mask = (x >= profile.stations[0]) & (x <= profile.stations[-1]) & (profile.cell_depths <= depth_max)
    diff = (np.asarray(occam_model) - np.asarray(model))[mask] / np.log(10.0)
    return {"rms": float(np.sqrt(np.mean(diff**2))), "mean": float(np.mean(diff)), "depth_max_m": depth_max}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="gn,gn-bostick,zo,zo-phase,zo-ss")
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--merge", action="store_true", help="keep the other runs of the existing results")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    import simpeg_zo as sz
    from simpeg_zo.plot_field import plot_occam2d_comparison

    warnings.simplefilter("ignore")  # upstream deprecations
    os.makedirs(RESULTS, exist_ok=True)
    out = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "choices": OCCAM_CHOICES,
    }
    occam = sz.read_occam2d(os.path.join(DATA, "occam2d_mtpy_example"))
    with threadpool_limits(limits=1, user_api="blas"):
        survey = sz.read_edi_survey(DATA, **OCCAM_CHOICES)
        rho = np.concatenate([survey.rho[m].ravel() for m in survey.modes])
        lo, hi = np.nanpercentile(rho, [2, 98])
        # one mesh for both (the default range would follow the corrected data)
        mesh_range = (lo / 2.0, hi * 2.0)
        profile, survey = sz.read_edi_profile(DATA, resistivity_range=mesh_range, **OCCAM_CHOICES)
        profile_ss, survey_ss = sz.read_edi_profile(
            DATA, static_shift=True, resistivity_range=mesh_range, **OCCAM_CHOICES
        )
        out["n_data"] = profile.n_data
        out["mesh_cells"] = [int(n) for n in profile.mesh.shape_cells]
        t = time.perf_counter()
        m_occam = sz.occam2d_on_profile(occam, profile)
        d_occam = profile.dpred(m_occam)
        out["forward_seconds"] = time.perf_counter() - t
        out["occam2d_on_our_mesh"] = {
            "chi2": float(profile.chi2(d_occam)),
            "rms_percent": float(profile.rms_percent(d_occam)),
            "published_rms": occam.misfit,
            "published_iterations": occam.iteration,
        }
        print("Occam2D model on our mesh:", out["occam2d_on_our_mesh"])
        out["static_shift_factors"] = survey_ss.summary()["static_shift"]
        depth_max = 3000.0
        models, runs = {}, {}
        for name in args.methods.split(","):
            prof = profile_ss if name.endswith("-ss") else profile
            method = name.removesuffix("-ss").removesuffix("-shift")
            kwargs = {"static_shift": True} if name.endswith("-shift") else {}
            r = sz.invert_profile(prof, method, **kwargs)
            runs[name] = _summary(r, prof)
            runs[name]["log10_difference_to_occam2d"] = _log10_difference(prof, r.model, m_occam, depth_max)
            if name.endswith("-ss"):
                # the same model scored on the uncorrected data
                runs[name]["chi2_uncorrected_data"] = float(profile.chi2(profile.dpred(r.model)))
            if "static_shift" in r.extra:
                runs[name]["chi2_with_static_shift"] = r.extra["chi2_with_static_shift"]
                runs[name]["static_shift_factors"] = r.extra["static_shift"]
            models[f"{name}: chi2 {r.chi2:.2f}, {r.iterations} it, {r.wall_seconds:.0f} s"] = r.model
            print(name, {k: v for k, v in runs[name].items() if k != "history"})
        if args.merge and os.path.exists(os.path.join(RESULTS, "paralana.json")):
            with open(os.path.join(RESULTS, "paralana.json")) as fh:
                old = json.load(fh)
            runs = {**old.get("occam_subset", {}), **runs}
            if args.skip_default and "default_command" in old:
                out["default_command"] = old["default_command"]
        out["occam_subset"] = runs
        if "gn" in runs and "zo" in runs:
            out["gn_over_zo_wall"] = runs["gn"]["wall_seconds"] / runs["zo"]["wall_seconds"]
        # a merged run lacks the other runs' models: its figure goes apart
        figure = "paralana_models_merged.png" if args.merge else "paralana_models.png"
        plot_occam2d_comparison(
            profile,
            models,
            occam,
            depth_max=depth_max,
            path=os.path.join(RESULTS, figure),
        )
        if not args.skip_default:
            defaults = {}
            dprof, dsurvey = sz.read_edi_profile(DATA)
            for method in ("zo", "gn"):
                r = sz.invert_profile(dprof, method)
                defaults[method] = _summary(r, dprof)
                print("default", method, {k: v for k, v in defaults[method].items() if k != "history"})
            defaults["survey"] = {k: v for k, v in dsurvey.summary().items() if k not in ("stations",)}
            out["default_command"] = defaults
    with open(os.path.join(RESULTS, "paralana.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    print("written", os.path.join(RESULTS, "paralana.json"))


if __name__ == "__main__":
    main()
