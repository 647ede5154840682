"""Benchmark: ZO swapped into SimPEG scripts a user writes, against the scripts' own GN.

The scripts (``tests/test_meshes.py``'s builder) use SimPEG's own 2D MT
classes on meshes built by hand: a ``TensorMesh`` and a ``TreeMesh`` under a
hill, 21 stations over 2 km, 4 frequencies (100-0.1 Hz), TE+TM, a conductor
in a 100 ohm-m half-space, 5 % / 2 degree errors (or 2.5 % of |Z| on the
impedance's parts). Methods, all from the script's own data, mesh and
solver:

* ``gn``: the script as written (``InexactGaussNewton(maxIter=30,
  cg_maxiter=30)`` from the 100 ohm-m half-space, beta from
  ``BetaEstimate_ByEig``, cooling by 2 every iteration, ``TargetMisfit``);
* ``gn-jacobi``: the same with SimPEG's Jacobi preconditioner
  (``UpdatePreconditioner``; the simulations get ``getJtJdiag`` from
  :func:`simpeg_zo.jtj_diagonal`), as an experienced user would run it;
* ``zo``, ``zo-phase``: the ``opt = ...`` line swapped for
  ``ZohdyOldenburg(maxIter=30[, use_phase=True])`` and
  ``BostickStartingModel()`` put first.

Runs interleaved, ``--repeats`` times; times are medians. Writes
``benchmarks/results/scripts.json`` and the "SimPEG scripts" section of
``BENCHMARKS.md``.

Usage::

    python benchmarks/scripts.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from _sections import write_section  # noqa: E402

RESULTS = os.path.join(HERE, "results")
START, END = "<!-- scripts:start -->", "<!-- scripts:end -->"
STATIONS = np.linspace(-1000.0, 1000.0, 21)
FREQUENCIES = np.logspace(2, -1, 4)
CASES = {
    "tensor": {"mesh": "tensor", "components": "rho-phase"},
    "tree": {"mesh": "tree", "components": "rho-phase"},
    "tensor-impedance": {"mesh": "tensor", "components": "impedance"},
}
METHODS = ("gn", "gn-jacobi", "zo", "zo-phase")


def run(case, method):
    from simpeg import directives, optimization
    from simpeg.electromagnetics import natural_source as nsem
    from test_meshes import IMPEDANCE, RHO_PHASE, _hill, script, tensor_mesh, tree_mesh

    import simpeg_zo
    from simpeg_zo._profile import Simulation2DElectricField, Simulation2DMagneticField

    spec = CASES[case]
    mesh = tensor_mesh() if spec["mesh"] == "tensor" else tree_mesh(_hill)
    components = RHO_PHASE if spec["components"] == "rho-phase" else IMPEDANCE
    if method.startswith("gn"):
        opt = optimization.InexactGaussNewton(maxIter=30, cg_maxiter=30)
        directive_list = [
            directives.BetaEstimate_ByEig(beta0_ratio=1.0, random_seed=0),
            directives.BetaSchedule(coolingFactor=2, coolingRate=1),
            directives.TargetMisfit(chifact=1),
        ]
        if method == "gn-jacobi":
            directive_list.append(directives.UpdatePreconditioner())
    else:
        opt = simpeg_zo.ZohdyOldenburg(maxIter=30, use_phase=method == "zo-phase")
        directive_list = [simpeg_zo.BostickStartingModel(), directives.TargetMisfit(chifact=1)]
    # gn-jacobi: SimPEG's classes with getJtJdiag added (simpeg_zo.jtj_diagonal)
    classes = (
        (Simulation2DMagneticField, Simulation2DElectricField)
        if method == "gn-jacobi"
        else (nsem.simulation.Simulation2DMagneticField, nsem.simulation.Simulation2DElectricField)
    )
    inv, inv_prob, dmis, m0, m_true, active = script(
        mesh,
        opt,
        components=components,
        directive_list=directive_list,
        stations=STATIONS,
        frequencies=FREQUENCIES,
        classes=classes,
    )
    n_data = sum(t.simulation.survey.nD for t in dmis.objfcts)
    t0 = time.perf_counter()
    model = inv.run(m0)
    seconds = time.perf_counter() - t0
    error = (model - m_true) / np.log(10.0)
    return {
        "chi2": float(inv_prob.phi_d / n_data),
        "iterations": int(opt.iter),
        "seconds": seconds,
        "n_data": int(n_data),
        "n_cells": int(mesh.n_cells),
        "forward_solves": int(getattr(opt, "forward_solves", 0)) or None,
        "stop_reason": getattr(opt, "stop_reason", None),
        "model_log10_rmse": float(np.sqrt(np.mean(error**2))),
    }


def markdown(report):
    lines = [
        START,
        "## ZO swapped into SimPEG scripts a user writes",
        "",
        f"Written by `python benchmarks/scripts.py` ({report['date']}, {report['cpus']} cores, "
        f"{report['repeats']} interleaved run(s), medians). SimPEG's own 2D MT classes on meshes built by hand "
        "(`tests/test_meshes.py`): 21 stations over 2 km under a 100 m hill, 4 frequencies (100-0.1 Hz), "
        "TE+TM, a 5 ohm-m conductor in 100 ohm-m; 5 % / 2 degrees (or 2.5 % of |Z| on each part). `gn`: "
        "the script as written (no preconditioner: SimPEG 0.25's 2D MT simulations cannot build it); "
        "`gn-jacobi`: with `UpdatePreconditioner` on simulations given `getJtJdiag`; `zo`/`zo-phase`: "
        "the `opt = ...` line swapped, `BostickStartingModel()` first. `ratio`: the faster GN's time over "
        "the method's, where it reached chi2 <= 1.",
        "",
        "| case | cells | data | method | chi2 | iterations | s | ratio | log10 RMSE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case, c in report["cases"].items():
        for m, e in c.items():
            ratio = f"{e['ratio']:.1f}x" if e["chi2"] <= 1.0 else f"- ({e['stop_reason']})"
            lines.append(
                f"| {case} | {e['n_cells']} | {e['n_data']} | {m} | {e['chi2']:.3f} | {e['iterations']} | "
                f"{e['seconds_median']:.1f} | {ratio} | {e['model_log10_rmse']:.3f} |"
            )
    lines += ["", END]
    return "\n".join(lines)


def main(argv=None):
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args(argv)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "cases": {},
    }
    for case in args.cases.split(","):
        runs = {m: [] for m in METHODS}
        for k in range(args.repeats):
            for m in METHODS:
                r = run(case, m)
                runs[m].append(r)
                print(
                    f"{case} run {k + 1}: {m:10s} chi2 {r['chi2']:.3f} {r['iterations']:3d} it {r['seconds']:6.1f} s",
                    flush=True,
                )
        out = {}
        for m in METHODS:
            entry = dict(runs[m][-1])
            entry["seconds_median"] = float(np.median([r["seconds"] for r in runs[m]]))
            del entry["seconds"]
            out[m] = entry
        fastest_gn = min(out["gn"]["seconds_median"], out["gn-jacobi"]["seconds_median"])
        for m in METHODS:
            out[m]["ratio"] = fastest_gn / out[m]["seconds_median"]
        report["cases"][case] = out
        with open(os.path.join(RESULTS, "scripts.json"), "w") as fh:
            json.dump(report, fh, indent=1)
    write_section(markdown(report), os.path.join(ROOT, "BENCHMARKS.md"), START, END)


if __name__ == "__main__":
    main()
