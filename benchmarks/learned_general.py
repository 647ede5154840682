"""The survey-neutral network on the held-out split of a general set.

The held-out split draws the held-out families (dyke, graben), midpoints of
the families' steps, and survey geometries the training split never has
(three station clusters; 33-40 stations).  Reported, per network:

- layout-neutral Dice: the expected (continuous) section and the truth, both
  as log10(rho / rho_ref), binned into quarter-decade classes (the half-step
  classes of the families' grid) whose edges are shifted by eighths of a
  class, averaged over the eight layouts (as ``benchmarks/learned.py``);
- the median re-simulated chi2: the predicted section on the sample's own
  simulation mesh, simulated, against its noisy data with the 5 % errors
  the noise was drawn with (phase 1.43 degrees); beside it the chi2 of the
  Bostick section the network corrects and of the half-space at the
  reference resistivity;
- calibration of the spread: the share of cells whose truth lies within one
  spread of the expectation (target 60-75 %), on all cells and on the cells
  the data see (rows and columns with soundings);
- inference time per profile on one thread (normalised input, network, spread);
- the same on the crustal-domains models alone (sets with a domain share);
- the network's section with its correction scaled per station by the 1D
  check (as the learned methods use it, ``simpeg_zo.learned._consistency``):
  its chi2 and Dice on the chi2 samples, and the check's time.

Usage::

    python benchmarks/learned_general.py build/general NET [NET ...] \\
        --chi2-samples 200 --json benchmarks/results/learned_general.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np


def layout_neutral_dice(pred, truth, *, width=0.25, offsets=8, lo=-2.75, hi=2.75):
    """Per-section Dice of continuous sections in ``width`` classes, mean over shifted layouts."""
    from simpeg_zo.learned import ResistivityClasses, dice_coefficient

    n = int(round((hi - lo) / width))
    per = []
    for k in range(offsets):
        start = lo + k * width / offsets
        classes = ResistivityClasses((start, start + n * width), n)
        p, t = classes.classify(pred), classes.classify(truth)
        per.append([dice_coefficient(a, b, n) for a, b in zip(p, t, strict=True)])
    return np.mean(per, axis=0)


def resimulated_chi2(params_json, data, frequencies, stations, relative_log10):
    """chi2 of predicted sections (log10 rho, absolute, on the grid) on the sample's mesh.

    Where ``relative_log10`` has ``"network"`` and ``"bostick"``, the network's
    section with its correction scaled by the 1D check
    (:func:`simpeg_zo.learned._consistency.scaled_correction`, as the
    learned methods use it) is added as ``"checked"``. Returns the chi2 per
    section, the stations' scales and the check's seconds.
    """
    from simpeg_zo._layout import layout_from_misfit
    from simpeg_zo.learned._consistency import scaled_correction
    from simpeg_zo.learned._general import sample_profile
    from simpeg_zo.learned._normalised import NormalisedGrid, normalised_to_cells

    params = json.loads(str(params_json))
    profile, _ = sample_profile(params["survey"], params["model"])
    nf, ns = np.isfinite(frequencies).sum(), np.isfinite(stations).sum()
    d = np.asarray(data, dtype=float)[:, :, :nf, :ns]
    dobs = {m: profile.join(d[i, 0], d[i, 1]) for i, m in enumerate(("TE", "TM"))}
    profile.set_data(dobs, relative_error=0.05, phase_error_degrees=1.43)
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    grid = NormalisedGrid()
    models = {
        name: -np.log(10.0) * normalised_to_cells(grid, section, x, profile.cell_depths, stations[:ns])
        for name, section in relative_log10.items()
    }
    scale, seconds = None, None
    if "network" in models and "bostick" in models:
        layout = layout_from_misfit(profile.data_misfit())
        t0 = time.perf_counter()
        models["checked"], scale = scaled_correction(layout, models["bostick"], models["network"])
        seconds = time.perf_counter() - t0
    chi2 = {name: float(profile.chi2(profile.dpred(m))) for name, m in models.items()}
    return {"chi2": chi2, "scale": None if scale is None else scale.tolist(), "check_seconds": seconds}


def _chi2_job(job):
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    with threadpool_limits(1):
        return resimulated_chi2(*job)


def evaluate(net_path, X, y, arrays, rho_ref, *, chi2_samples, workers):
    from simpeg_zo.learned import ResNetInverter
    from simpeg_zo.learned._normalised import BOSTICK

    est = ResNetInverter.load(net_path)
    est.threads = 1
    mean, std = est.predict_spread(X)
    # inference time per profile, one thread, median of 20
    times = []
    for i in range(20):
        t0 = time.perf_counter()
        est.predict_spread(X[i % len(X)][None])
        times.append(time.perf_counter() - t0)
    inside = np.abs(y - mean) <= std
    seen = X[:, 2] + X[:, 5] > 0  # a TE or TM sounding near the cell
    b = X[:, BOSTICK]  # the network corrects the Bostick section
    dice = layout_neutral_dice(mean + b, y + b)
    dice_bostick = layout_neutral_dice(b, y + b)
    n = min(chi2_samples, len(X))
    jobs = []
    for i in range(n):
        log_ref = np.log10(rho_ref[i])
        sections = {
            "network": mean[i] + b[i] + log_ref,
            "bostick": b[i] + log_ref,
            "half-space": np.full_like(mean[i], log_ref),
        }
        jobs.append((arrays["params"][i], arrays["data"][i], arrays["frequencies"][i], arrays["stations"][i], sections))
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            chi2 = list(pool.map(_chi2_job, jobs))
    else:
        chi2 = [_chi2_job(j) for j in jobs]
    families = [json.loads(str(p))["model"]["family"]["family"] for p in arrays["params"]]
    kinds = [json.loads(str(p))["model"]["kind"] for p in arrays["params"]]
    layouts = [json.loads(str(p))["survey"]["layout"] for p in arrays["params"]]
    unseen_geometry = np.array(
        [
            lay == "three-clusters" or np.isfinite(s).sum() > 32
            for lay, s in zip(layouts, arrays["stations"], strict=True)
        ]
    )
    # a domains model's family gives its topography only
    unseen_family = np.array(
        [f in ("dyke", "graben") and k.startswith("family") for f, k in zip(families, kinds, strict=True)]
    )
    domains = np.array([k.startswith("domains") for k in kinds])
    net_chi2 = np.array([c["chi2"]["network"] for c in chi2])
    hs_chi2 = np.array([c["chi2"]["half-space"] for c in chi2])
    b_chi2 = np.array([c["chi2"]["bostick"] for c in chi2])
    checked_chi2 = np.array([c["chi2"]["checked"] for c in chi2])
    # the checked sections on the grid: each column's scale linear between the stations'
    u = []
    for i in range(n):
        st = np.asarray(arrays["stations"][i], dtype=float)
        st = st[np.isfinite(st)]
        u.append(np.interp(np.linspace(0.0, 1.0, mean.shape[-1]), (st - st[0]) / (st[-1] - st[0]), chi2[i]["scale"]))
    checked = np.array([b[i] + u[i][None, :] * mean[i] for i in range(n)])
    dice_checked = layout_neutral_dice(checked, y[:n] + b[:n]) if n else np.zeros(0)
    return {
        "network": str(net_path),
        "members": int(est.members),
        "spread_scale": getattr(est, "spread_scale_", None),
        "n": int(len(X)),
        "dice_layout_neutral": float(np.mean(dice)),
        "dice_unseen_family": float(np.mean(dice[unseen_family])) if unseen_family.any() else None,
        "dice_unseen_geometry": float(np.mean(dice[unseen_geometry])) if unseen_geometry.any() else None,
        "dice_domains": float(np.mean(dice[domains])) if domains.any() else None,
        "chi2_median_domains": float(np.median(net_chi2[domains[:n]])) if domains[:n].any() else None,
        "chi2_median_checked_domains": float(np.median(checked_chi2[domains[:n]])) if domains[:n].any() else None,
        "rms_log10": float(np.sqrt(np.mean((mean - y) ** 2))),
        "within_one_spread": float(np.mean(inside)),
        "within_one_spread_seen": float(np.mean(inside[seen])),
        "chi2_samples": n,
        "chi2_median": float(np.median(net_chi2)) if n else None,
        "chi2_median_unseen_geometry": float(np.median(net_chi2[unseen_geometry[:n]]))
        if unseen_geometry[:n].any()
        else None,
        "chi2_median_half_space": float(np.median(hs_chi2)) if n else None,
        "chi2_median_bostick": float(np.median(b_chi2)) if n else None,
        "network_below_bostick": float(np.mean(net_chi2 < b_chi2)) if n else None,
        "chi2_median_checked": float(np.median(checked_chi2)) if n else None,
        "checked_at_or_below_network": float(np.mean(checked_chi2 <= net_chi2 * (1 + 1e-9))) if n else None,
        "checked_over_network_gmean": float(np.exp(np.mean(np.log(checked_chi2 / net_chi2)))) if n else None,
        "dice_checked": float(np.mean(dice_checked)) if n else None,
        "dice_network_same_samples": float(np.mean(dice[:n])) if n else None,
        "scale_median": float(np.median(np.concatenate([c["scale"] for c in chi2]))) if n else None,
        "check_ms": 1000 * float(np.median([c["check_seconds"] for c in chi2])) if n else None,
        "dice_bostick": float(np.mean(dice_bostick)),
        "rms_log10_bostick": float(np.sqrt(np.mean((y) ** 2))),
        "inference_ms": 1000 * float(np.median(times)),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("networks", nargs="+")
    ap.add_argument("--chi2-samples", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    from simpeg_zo.learned._general import general_arrays, load_general
    from simpeg_zo.learned._normalised import reference_resistivity

    config, arrays = load_general(args.dataset, "test")
    X, y = general_arrays(arrays, config.normalised_grid, augment=False)
    rho_ref = []
    for i in range(len(X)):
        d = arrays["data"][i][:, 0]
        rho_ref.append(reference_resistivity(d[np.isfinite(d)]))
    rows = [
        evaluate(n, X, y, arrays, np.array(rho_ref), chi2_samples=args.chi2_samples, workers=args.workers)
        for n in args.networks
    ]
    for r in rows:
        print(json.dumps(r))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
