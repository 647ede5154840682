"""Evaluate the learned inversion on the held-out split of a training set.

Writes ``benchmarks/results/learned.json`` and prints a Markdown summary for
BENCHMARKS.md:

- segmentation metrics of the held-out sections (parameter values between
  the training steps, and two families the network never saw): Dice, mean
  IoU, pixel accuracy, RMS of log10 resistivity;
- Dice of the expected (continuous) model under two class layouts of half a
  resistivity step: edges on the steps and midpoints (where every held-out
  value sits on an edge) and the mean over eight offsets of the layout (no
  layout favoured), so networks with other classes compare;
- over-segmentation: predicted class interfaces (vertical and lateral class
  changes between neighbouring cells) against the truth's;
- data misfit (chi2 with 5 % / 1.43 degree errors) of the predicted models
  re-simulated with SimPEG on each sample's own mesh and topography;
- inference time per profile;
- with ``--ablation NET ...``: the same for further networks (the loss
  ablation), and with ``--ensemble NET NET ...`` for the mean probabilities
  of several networks;
- with ``--split validation``: the same on the validation split (the last
  200 training samples, never trained on), where the shipped network is
  chosen; the held-out split is never used for a choice.

Usage::

    python benchmarks/learned.py build/dataset-block-topo \
        --network simpeg_zo/learned/weights/block-topo.json \
        --ablation build/nets/block-topo-ce.json build/nets/block-topo-dice-ce.json \
        --workers 2
    python benchmarks/learned.py build/dataset-block-topo --split validation \
        --chi2-samples 60 --ablation build/nets/*.json --out validation.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

RESULTS = pathlib.Path(__file__).parent / "results"


def interfaces(classes):
    """Number of class changes between vertically and laterally adjacent cells."""
    c = np.asarray(classes)
    return int((np.diff(c, axis=-2) != 0).sum() + (np.diff(c, axis=-1) != 0).sum())


def iou(pred, truth, n_classes):
    scores = []
    for k in range(n_classes):
        a, b = pred == k, truth == k
        union = np.logical_or(a, b).sum()
        if union:
            scores.append(np.logical_and(a, b).sum() / union)
    return float(np.mean(scores))


def chi2_of_prediction(config, params, data, log10_grid):
    """Re-simulate a predicted section on the sample's mesh; chi2 against its data."""
    from simpeg_zo import build_profile
    from simpeg_zo.learned import grid_to_cells
    from simpeg_zo.learned._families import elevation_function

    origin = float(config.stations[0])
    lo, hi = config.log10_resistivity
    profile = build_profile(
        config.stations,
        config.frequencies,
        modes=config.modes,
        elevation=elevation_function(params, origin),
        resistivity_range=(10**lo, 10**hi),
        cells_per_station=config.cells_per_station,
        dz_surface=config.mesh_dz,
    )
    cells = grid_to_cells(
        log10_grid,
        config.stations,
        config.depth_edges,
        profile.mesh.cell_centers[profile.active_cells, 0],
        profile.cell_depths,
        config.stations,
    )
    dobs = {m: profile.join(data[i, 0], data[i, 1]) for i, m in enumerate(config.modes)}
    profile.set_data(dobs, relative_error=0.05, phase_error_degrees=1.43)
    model = -np.log(10.0) * cells
    return profile.chi2(profile.dpred(model))


def _chi2_job(job):
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    with threadpool_limits(1):  # one BLAS thread per process around SuperLU
        return chi2_of_prediction(*job)


def layout_dice(pred_log, y, log10_range, *, offsets=(0.0,)):
    """Per-section Dice of continuous models binned into half-step classes.

    ``offsets`` shift the layout, in class widths, from edges on the
    resistivity steps of ``log10_range`` (the grid of the model families).
    """
    from simpeg_zo.learned import ResistivityClasses, design_classes, dice_coefficient

    centred = design_classes(log10_range)  # half-step classes centred on the steps
    width = centred.edges[1] - centred.edges[0]
    n = centred.n_classes + 1
    per = []
    for offset in offsets:
        start = centred.edges[0] - 0.5 * width + offset * width  # offset 0: edges on the steps
        classes = ResistivityClasses((start, start + n * width), n)
        p, t = classes.classify(pred_log), classes.classify(y)
        per.append([dice_coefficient(a, b, n) for a, b in zip(p, t, strict=True)])
    return np.mean(per, axis=0)


def evaluate(est, X, y, ds, *, chi2_samples, label, workers=1, rows=None):
    """Metrics of one network on ``X, y``: rows ``rows`` (default all) of ``ds``."""
    from simpeg_zo.learned import dice_coefficient

    n_classes = est.n_classes
    t = time.perf_counter()
    proba = est.predict_proba(X)
    batch_seconds = time.perf_counter() - t
    pred_log = est.classes_.expected_log10(proba)
    pred = proba.argmax(axis=1)
    truth = est.classes_.classify(y)
    single = []
    for i in range(min(20, len(X))):
        t = time.perf_counter()
        est.predict(X[i : i + 1])
        single.append(time.perf_counter() - t)
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    held_family = np.array([ds.families[i] in ds.config.held_out_families for i in rows])
    per = {
        "dice": np.array([dice_coefficient(p, q, n_classes) for p, q in zip(pred, truth, strict=True)]),
        "iou": np.array([iou(p, q, n_classes) for p, q in zip(pred, truth, strict=True)]),
        "accuracy": np.array([(p == q).mean() for p, q in zip(pred, truth, strict=True)]),
        "rms_log10": np.sqrt(((pred_log - y) ** 2).mean(axis=(1, 2))),
        "interfaces_pred": np.array([interfaces(p) for p in pred], dtype=float),
        "interfaces_true": np.array([interfaces(q) for q in truth], dtype=float),
        "dice_edges_on_steps": layout_dice(pred_log, y, ds.config.log10_resistivity),
        "dice_offset_mean": layout_dice(pred_log, y, ds.config.log10_resistivity, offsets=np.arange(8) / 8.0),
    }
    out = {"network": label, "n_sections": int(len(X))}
    for name, sel in (("all", slice(None)), ("seen_families", ~held_family), ("unseen_families", held_family)):
        out[name] = {k: float(np.mean(v[sel])) for k, v in per.items()}
        out[name]["n"] = int(np.size(per["dice"][sel]))
        out[name]["interface_ratio"] = out[name]["interfaces_pred"] / max(out[name]["interfaces_true"], 1e-9)
    out["inference_ms_per_profile"] = 1000 * float(np.median(single))
    out["inference_ms_per_profile_batched"] = 1000 * batch_seconds / len(X)
    if chi2_samples:
        from concurrent.futures import ProcessPoolExecutor

        from tqdm import tqdm

        idx = range(min(chi2_samples, len(X)))
        jobs = [(ds.config, ds.params[rows[i]], ds.data[rows[i]], pred_log[i]) for i in idx]
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            chi = np.array(
                list(
                    tqdm(
                        pool.map(_chi2_job, jobs),
                        total=len(jobs),
                        desc=f"re-simulating {label}",
                        file=sys.stderr,
                    )
                )
            )
        out["chi2_per_section"] = chi.tolist()
        out["chi2"] = {
            "median": float(np.median(chi)),
            "mean": float(np.mean(chi)),
            "share_below_1.5": float(np.mean(chi <= 1.5)),
            "share_below_10": float(np.mean(chi <= 10)),
            "n": int(chi.size),
        }
        fam = held_family[: chi.size]
        out["chi2"]["median_seen_families"] = float(np.median(chi[~fam])) if (~fam).any() else None
        out["chi2"]["median_unseen_families"] = float(np.median(chi[fam])) if fam.any() else None
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--network", default=None, help="default: the shipped block-topo network")
    parser.add_argument("--ablation", nargs="*", default=[], help="further networks (e.g. trained with other losses)")
    parser.add_argument("--ensemble", nargs="*", default=[], help="networks whose mean probabilities form one row")
    parser.add_argument("--split", choices=["test", "validation"], default="test")
    parser.add_argument("--validation-samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="processes for the re-simulation")
    parser.add_argument("--chi2-samples", type=int, default=120)
    parser.add_argument("--out", default=str(RESULTS / "learned.json"))
    args = parser.parse_args(argv)

    from simpeg_zo.learned import ResNetInverter, dataset_arrays, default_inverter

    X, y, ds = dataset_arrays(args.dataset, "test" if args.split == "test" else "train")
    rows = np.arange(len(X))
    if args.split == "validation":  # the last samples of the training split, as in simpeg-zo train
        rows = rows[-args.validation_samples :]
        X, y = X[rows], y[rows]
    nets = [
        (
            "shipped" if args.network is None else args.network,
            default_inverter("block-topo") if args.network is None else ResNetInverter.load(args.network),
        )
    ]
    nets += [(path, ResNetInverter.load(path)) for path in args.ablation]
    if args.ensemble:
        members = [ResNetInverter.load(path) for path in args.ensemble]
        nets.append((" + ".join(args.ensemble), ResNetInverter.combine(members)))
    report = {
        "dataset": str(args.dataset),
        "split": args.split,
        "test_sections": int(len(X)),
        "families": {f: [ds.families[i] for i in rows].count(f) for f in sorted(set(ds.families))},
        "networks": [],
    }
    for label, est in nets:
        r = evaluate(est, X, y, ds, chi2_samples=args.chi2_samples, label=label, workers=args.workers, rows=rows)
        r["loss"] = est.loss
        r["members"] = int(est.members)
        r["train_samples"] = (est.recipe_ or {}).get("train_samples")
        r["epochs"] = est.epochs
        r["width"] = est.width
        r["parameters"] = int(sum(p.numel() for p in est.network_.parameters()))
        seconds = [h["seconds"] for h in est.history_ if "seconds" in h]
        r["seconds_per_epoch"] = float(np.median(seconds)) if seconds else None
        report["networks"].append(r)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"held-out sections: {report['test_sections']} ({report['families']})\n")
    print(
        "| network (loss) | subset | n | Dice | mean IoU | pixel acc. | RMS log10 | interfaces pred/true "
        "| Dice, edges on steps | Dice, offset mean |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in report["networks"]:
        for sub in ("all", "seen_families", "unseen_families"):
            m = r[sub]
            print(
                f"| {r['loss']} | {sub} | {m['n']} | {m['dice']:.3f} | {m['iou']:.3f} | {m['accuracy']:.3f} | "
                f"{m['rms_log10']:.3f} | {m['interfaces_pred']:.0f}/{m['interfaces_true']:.0f} "
                f"({m['interface_ratio']:.2f}) | {m['dice_edges_on_steps']:.3f} | {m['dice_offset_mean']:.3f} |"
            )
    print()
    for r in report["networks"]:
        line = f"{r['loss']}: inference {r['inference_ms_per_profile']:.1f} ms per profile"
        if "chi2" in r:
            c = r["chi2"]
            line += (
                f"; re-simulated chi2 median {c['median']:.2f}, mean {c['mean']:.2f}, "
                f"{100 * c['share_below_1.5']:.0f} % <= 1.5, {100 * c['share_below_10']:.0f} % <= 10 (n={c['n']}; "
                f"median seen families {c['median_seen_families']}, unseen {c['median_unseen_families']})"
            )
        if "width" in r:
            line += f"; width {r['width']}, {r['parameters']} parameters, {r['seconds_per_epoch']} s per epoch"
        print(line)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
