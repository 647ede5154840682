"""Benchmark: the forward engine's time and memory.

Measures, on this machine:

* PARDISO against SuperLU: one forward simulation of the full ``h-layers``
  (41 stations x 61 frequencies) and ``rugged-faults`` (101 x 38) presets,
  TE and TM, both solvers on the same mesh side by side in one process;
* forward time and peak resident memory against the number of frequencies,
  stations and cells (log-log slopes), forward only (one factorisation at a
  time) against SimPEG's ``dpred`` (every factorisation kept), both solvers;
  every memory point in a fresh process;
* parallel efficiency of the forward engine on 1 and 2 Dask workers
  (``T1 / (2 T2)``, median of interleaved repeats) on a profile with 31
  frequencies.

Writes ``benchmarks/results/scaling.json``, ``benchmarks/results/scaling.png``
and the "Forward engine" section of ``BENCHMARKS.md``.

Usage::

    python benchmarks/scaling.py [--quick] [--repeats 3]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from _sections import write_section  # noqa: E402

START, END = "<!-- scaling:start -->", "<!-- scaling:end -->"


def _quiet():
    import warnings

    warnings.filterwarnings("ignore")


def _profile(
    preset,
    *,
    station_step=1,
    frequency_step=1,
    n_stations=None,
    n_frequencies=None,
    cells_per_station=2,
    solver="auto",
    modes=None,
):
    import simpeg_zo
    from simpeg_zo._synthetic import _resistivity_range, paint_model

    spec = simpeg_zo.load_spec(preset)
    if n_stations is not None:  # same spacing, a longer or shorter line
        spacing = float(np.median(np.diff(spec.stations)))
        spec = spec.replace(stations=spec.stations[0] + spacing * np.arange(n_stations))
    if n_frequencies is not None:
        f = spec.frequencies
        spec = spec.replace(frequencies=np.logspace(np.log10(f.max()), np.log10(f.min()), n_frequencies))
    spec = simpeg_zo.decimate_survey(spec, station_step=station_step, frequency_step=frequency_step)
    if modes:
        spec = spec.replace(modes=tuple(modes))
    profile = simpeg_zo.build_profile(
        spec.stations,
        spec.frequencies,
        modes=spec.modes,
        elevation=spec.elevation if spec.topography is not None else None,
        resistivity_range=_resistivity_range(spec),
        cells_per_station=cells_per_station,
        solver=solver,
    )
    return profile, paint_model(profile, spec)


def measure(config: dict) -> dict:
    """One forward simulation in this (fresh) process: time and peak memory."""
    _quiet()
    from simpeg_zo._forward import forward_dpred
    from simpeg_zo._memory import PeakMemory

    path = config.pop("path")
    profile, model = _profile(**config)
    with PeakMemory(interval=0.01) as mem:
        t = time.perf_counter()
        for sim in profile.simulations.values():
            if path == "forward-only":
                forward_dpred(sim, model)
            else:
                sim.dpred(model)  # SimPEG keeps every factorisation in sim.Ainv
        seconds = time.perf_counter() - t
    return {
        **config,
        "path": path,
        "seconds": seconds,
        "peak_mb": mem.peak_mb,
        "baseline_mb": mem.baseline_mb,
        "n_cells": int(profile.mesh.n_cells),
        "n_frequencies": int(profile.n_frequencies),
        "n_stations": int(profile.n_stations),
        "solver_used": profile.solver,
    }


def in_fresh_process(config):
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(measure, dict(config)).result()


def solvers_side_by_side(repeats):
    """PARDISO/SuperLU forward time on the full presets, same mesh, one process."""
    from simpeg_zo._forward import forward_dpred
    from simpeg_zo._solvers import Pardiso, SuperLU

    out = []
    for preset in ("h-layers", "rugged-faults"):
        for mode in ("TE", "TM"):
            profile, model = _profile(preset, modes=[mode], solver="superlu")
            sim = profile.simulations[mode]
            times = {"superlu": [], "pardiso": []}
            for _ in range(repeats):
                for name, cls in (("superlu", SuperLU), ("pardiso", Pardiso)):
                    sim.solver = cls
                    t = time.perf_counter()
                    forward_dpred(sim, model)
                    times[name].append(time.perf_counter() - t)
            row = {
                "preset": preset,
                "mode": mode,
                "mesh": [int(n) for n in profile.mesh.shape_cells],
                "n_stations": int(profile.n_stations),
                "n_frequencies": int(profile.n_frequencies),
                "superlu_s": float(np.median(times["superlu"])),
                "pardiso_s": float(np.median(times["pardiso"])),
                "runs": repeats,
            }
            row["ratio"] = row["pardiso_s"] / row["superlu_s"]
            print(
                f"  {preset} {mode} {row['mesh']}: SuperLU {row['superlu_s']:.1f} s, "
                f"PARDISO {row['pardiso_s']:.1f} s, ratio {row['ratio']:.2f}",
                flush=True,
            )
            out.append(row)
    return out


def sweeps(quick):
    base = dict(preset="block-topo", station_step=2, frequency_step=1)
    freqs = [4, 8, 16, 32] if quick else [4, 8, 16, 32, 61]
    stations = [11, 21, 41] if quick else [11, 21, 41, 81]
    cells = [1, 2, 4] if quick else [1, 2, 4, 8]
    configs = []
    for n in freqs:
        configs.append(("frequencies", n, {**base, "n_frequencies": n}))
    for n in stations:
        configs.append(("stations", n, dict(preset="block-topo", n_stations=n, n_frequencies=8)))
    for c in cells:
        configs.append(("cells", c, {**base, "n_frequencies": 8, "cells_per_station": c}))
    rows = []
    for sweep, value, cfg in configs:
        for solver in ("superlu", "pardiso"):
            for path in ("forward-only", "simpeg"):
                if solver == "superlu" and path == "simpeg":
                    continue
                r = in_fresh_process({**cfg, "solver": solver, "path": path})
                r.update(sweep=sweep, value=value)
                print(
                    f"  {sweep}={value} {solver} {path}: {r['n_cells']} cells, {r['n_frequencies']} freq, "
                    f"{r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MB",
                    flush=True,
                )
                rows.append(r)
    return rows


def slopes(rows):
    out = {}
    for sweep, xkey in (("frequencies", "n_frequencies"), ("stations", "n_stations"), ("cells", "n_cells")):
        for solver, path in (("superlu", "forward-only"), ("pardiso", "forward-only"), ("pardiso", "simpeg")):
            sel = [r for r in rows if r["sweep"] == sweep and r["solver"] == solver and r["path"] == path]
            if len(sel) < 2:
                continue
            x = np.log([r[xkey] for r in sel])
            t = np.polyfit(x, np.log([r["seconds"] for r in sel]), 1)[0]
            m = np.polyfit(x, np.log([r["peak_mb"] - r["baseline_mb"] + 1.0 for r in sel]), 1)[0]
            out[f"{sweep}/{solver}/{path}"] = {"time": float(t), "memory": float(m)}
    return out


def parallel_efficiency(repeats):
    from simpeg_zo._forward import ForwardEngine

    profile, model = _profile("block-topo", frequency_step=2)
    sims = list(profile.simulations.values())
    serial = ForwardEngine(sims)
    with ForwardEngine(sims, workers=2) as two:
        two.dpred(model)  # workers build their simulations once
        t1, t2 = [], []
        for k in range(repeats):
            m = model * (1.0 + 0.01 * (k + 1))
            t = time.perf_counter()
            serial.dpred(m)
            t1.append(time.perf_counter() - t)
            t = time.perf_counter()
            two.dpred(m)
            t2.append(time.perf_counter() - t)
    a, b = float(np.median(t1)), float(np.median(t2))
    out = {
        "mesh": [int(n) for n in profile.mesh.shape_cells],
        "n_frequencies": int(profile.n_frequencies),
        "modes": list(profile.modes),
        "solver": profile.solver,
        "one_worker_s": t1,
        "two_workers_s": t2,
        "median_one_s": a,
        "median_two_s": b,
        "speedup": a / b,
        "efficiency": a / (2 * b),
    }
    print(f"  1 worker {a:.2f} s, 2 workers {b:.2f} s: speed-up {a / b:.2f}, efficiency {a / (2 * b):.0%}", flush=True)
    return out


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    for j, (sweep, xkey, label) in enumerate(
        (
            ("frequencies", "n_frequencies", "frequencies"),
            ("stations", "n_stations", "stations"),
            ("cells", "n_cells", "mesh cells"),
        )
    ):
        for solver, path_, style in (
            ("superlu", "forward-only", "s--"),
            ("pardiso", "forward-only", "o-"),
            ("pardiso", "simpeg", "^:"),
        ):
            sel = [r for r in rows if r["sweep"] == sweep and r["solver"] == solver and r["path"] == path_]
            if not sel:
                continue
            x = [r[xkey] for r in sel]
            name = f"{solver}, {'forward only' if path_ == 'forward-only' else 'SimPEG dpred (factors kept)'}"
            axes[0, j].loglog(x, [r["seconds"] for r in sel], style, label=name)
            axes[1, j].loglog(x, [r["peak_mb"] for r in sel], style, label=name)
        axes[0, j].set_title(f"against {label}")
        axes[1, j].set_xlabel(label)
    axes[0, 0].set_ylabel("forward time (s)")
    axes[1, 0].set_ylabel("peak resident memory (MB)")
    axes[0, 0].legend(fontsize=8)
    fig.savefig(path, dpi=110)


def markdown(report):
    lines = [
        START,
        "## Forward engine: solvers, memory, parallel frequencies",
        "",
        f"Written by `python benchmarks/scaling.py` on a {os.cpu_count()}-core {platform.machine()} "
        f"machine ({report['date']}, {report['elapsed_s'] / 60:.0f} min). "
        "Every simulation uses the project's mesh (station pads, station-level nodes).",
        "",
        "### PARDISO against SuperLU, full presets, same mesh, side by side",
        "",
        "| preset | mode | mesh | stations x frequencies | SuperLU (s) | PARDISO (s) | PARDISO / SuperLU |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["solvers"]:
        lines.append(
            f"| {r['preset']} | {r['mode']} | {r['mesh'][0]} x {r['mesh'][1]} | "
            f"{r['n_stations']} x {r['n_frequencies']} | {r['superlu_s']:.1f} | {r['pardiso_s']:.1f} | "
            f"{r['ratio']:.2f} |"
        )
    lines += [
        "",
        "One run per solver, one after the other in one process on the same mesh.",
        "",
        "### Time and peak memory against survey and mesh size",
        "",
        "One forward simulation (TE+TM, block-topo model) per row, each in a fresh process; peak is "
        "the resident memory of that process.",
        "",
        "| sweep | value | cells | frequencies | solver | evaluation | time (s) | peak (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["sweeps"]:
        lines.append(
            f"| {r['sweep']} | {r['value']} | {r['n_cells']} | {r['n_frequencies']} | {r['solver']} | "
            f"{'forward only' if r['path'] == 'forward-only' else 'SimPEG dpred'} | {r['seconds']:.2f} | "
            f"{r['peak_mb']:.0f} |"
        )
    lines += [
        "",
        "Log-log slopes (time; memory above the process's start):",
        "",
        "| sweep / solver / evaluation | time slope | memory slope |",
        "|---|---|---|",
    ]
    for k, v in report["slopes"].items():
        lines.append(f"| {k} | {v['time']:.2f} | {v['memory']:.2f} |")
    p = report["parallel"]
    lines += [
        "",
        "![scaling](benchmarks/results/scaling.png)",
        "",
        "### Frequencies in parallel (Dask)",
        "",
        f"block-topo, {p['n_frequencies']} frequencies, {'+'.join(p['modes'])}, mesh {p['mesh'][0]} x "
        f"{p['mesh'][1]}, {p['solver']}: one forward simulation in this process "
        f"{p['median_one_s']:.2f} s, on 2 local Dask workers {p['median_two_s']:.2f} s (median of "
        f"{len(p['one_worker_s'])} interleaved runs): speed-up {p['speedup']:.2f}, parallel efficiency "
        f"{p['efficiency']:.0%}.",
        "",
        END,
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sweeps")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--parts",
        default="solvers,parallel,sweeps",
        help="which parts to (re)measure; the others are read from the last scaling.json",
    )
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    _quiet()
    os.makedirs(RESULTS, exist_ok=True)
    t0 = time.perf_counter()
    json_path = os.path.join(RESULTS, "scaling.json")
    report = json.load(open(json_path)) if parts != {"solvers", "parallel", "sweeps"} else {}
    report.update(date=time.strftime("%Y-%m-%d"), machine=platform.platform(), cpus=os.cpu_count())
    if "solvers" in parts:
        print("solvers on the full presets", flush=True)
        # the full presets once per solver ("one run, side by side"): SuperLU
        # on rugged-faults alone takes several minutes
        report["solvers"] = solvers_side_by_side(1)
    if "parallel" in parts:
        print("parallel efficiency", flush=True)
        report["parallel"] = parallel_efficiency(args.repeats)
    if "sweeps" in parts:
        print("sweeps", flush=True)
        report["sweeps"] = sweeps(args.quick)
        report["slopes"] = slopes(report["sweeps"])
    report["elapsed_s"] = report.get("elapsed_s", 0.0) * (len(parts) < 3) + time.perf_counter() - t0
    with open(os.path.join(RESULTS, "scaling.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    plot(report["sweeps"], os.path.join(RESULTS, "scaling.png"))
    write_section(markdown(report), os.path.join(ROOT, "BENCHMARKS.md"), START, END)
    print(f"done in {report['elapsed_s'] / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
