"""Benchmark: the 2D tipper (Tzx), its verification figures and a joint inversion.

1. 1D earths: the largest |Tzx| over stations and frequencies (half-space
   and a three-layer earth, 1 kHz-0.01 Hz, stations out to the mesh's core
   edges), with SuperLU and PARDISO.
2. A 2D reference: the derivative of Tzx with respect to the log
   conductivity of a buried block, against the first-order (Born) solution
   of the half-space Green's function (an independent semi-analytic
   solution; ``tests/test_tipper.py``), on meshes of 2, 4 and 8 cells per
   station interval: the largest relative difference per mesh.
3. The joint spec ``benchmarks/specs/tipper-conductor.toml`` (a conductor off
   the line's centre under a ridge) inverted by ``gn``, ``gn-bostick`` and
   ``zo`` from TE+TM and from TE+TM+TIP, side by side: chi2, iterations,
   time, and the conductor's position error (the centroid of the
   conductance anomaly in the core, against the block's centre).

Writes ``benchmarks/results/tipper.json`` and the "Tipper" section of
``BENCHMARKS.md``.

Usage::

    python benchmarks/tipper.py [--quick]
"""

from __future__ import annotations

import argparse
import json
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
sys.path.insert(0, os.path.join(ROOT, "tests"))

from _sections import write_section  # noqa: E402

START, END = "<!-- tipper:start -->", "<!-- tipper:end -->"
SPEC = os.path.join(HERE, "specs", "tipper-conductor.toml")
#: The block of the spec: centre (m along, m deep).
CONDUCTOR = (6500.0, 1650.0)


def one_dimensional(solver):
    from test_tipper import _cells, _tipper_simulation

    import simpeg_zo as sz

    p = sz.build_profile(
        np.linspace(-5000, 5000, 11), np.logspace(3, -2, 11), modes=["TE"], resistivity_range=(100, 100), solver=solver
    )
    _, z = _cells(p)
    sim = _tipper_simulation(p)
    out = {}
    for name, rho in (
        ("half-space 100 ohm-m", np.full(p.n_active, 100.0)),
        ("layers 100/5/1000 ohm-m", np.where(z > -500, 100.0, np.where(z > -3000, 5.0, 1000.0))),
    ):
        out[name] = float(np.abs(sim.dpred(p.model_from_resistivity(rho))).max())
    return out


def conductor_error(comparison, model):
    """Centroid of the conductance anomaly (log10 below the background) minus the block's centre."""
    p = comparison.profile
    cc = p.mesh.cell_centers[p.active_cells]
    depth = p.cell_depths
    area = p.mesh.cell_volumes[p.active_cells]
    excess = np.clip(np.log10(comparison.spec.background) - np.log10(p.resistivity(model)), 0.0, None)
    w = excess * area * (depth < 5000.0) * (cc[:, 0] >= p.stations[0]) * (cc[:, 0] <= p.stations[-1])
    x, d = float(np.sum(w * cc[:, 0]) / np.sum(w)), float(np.sum(w * depth) / np.sum(w))
    return {"x_m": x, "depth_m": d, "dx_m": x - CONDUCTOR[0], "ddepth_m": d - CONDUCTOR[1]}


def inversions(quick):
    import simpeg_zo as sz

    spec = sz.load_spec(SPEC)
    if quick:
        spec = spec.replace(stations=spec.stations[::2], frequencies=spec.frequencies[::2])
    out = {}
    for modes in (("TE", "TM"), ("TE", "TM", "TIP")):
        comp = sz.compare(spec.replace(modes=modes), ["gn", "gn-bostick", "zo"])
        key = "+".join(modes)
        out[key] = {"n_data": comp.profile.n_data, "methods": {}}
        for name, r in comp.results.items():
            entry = comp.method_summary(name)
            entry["conductor"] = conductor_error(comp, r.model)
            out[key]["methods"][name] = {
                k: entry[k]
                for k in ("chi2", "iterations", "forward_solves", "wall_seconds", "model_log10_rmse", "conductor")
                if k in entry
            }
        out[key]["true_model_conductor"] = conductor_error(comp, comp.true_model)
    return out


def _table(results):
    lines = [
        "| 1D earth | largest abs(Tzx), SuperLU | PARDISO |",
        "|---|---|---|",
    ]
    for name, value in results["one_dimensional"]["superlu"].items():
        lines.append(f"| {name} | {value:.1e} | {results['one_dimensional']['pardiso'].get(name, float('nan')):.1e} |")
    lines += [
        "",
        "| cells per station interval | largest relative difference from the half-space solution |",
        "|---|---|",
    ]
    for k, v in results["born"].items():
        lines.append(f"| {k} | {100 * v:.1f} % |")
    lines += [
        "",
        "| data | method | chi2 | iterations | time (s) | conductor centroid error x / depth (m) |",
        "|---|---|---|---|---|---|",
    ]
    for key, block in results["inversions"].items():
        for name, m in block["methods"].items():
            c = m["conductor"]
            lines.append(
                f"| {key} ({block['n_data']} data) | {name} | {m['chi2']:.3f} | {m['iterations']} | "
                f"{m['wall_seconds']:.1f} | {c['dx_m']:+.0f} / {c['ddepth_m']:+.0f} |"
            )
        c = block["true_model_conductor"]
        lines.append(f"| {key} | true model | - | - | - | {c['dx_m']:+.0f} / {c['ddepth_m']:+.0f} |")
    cross = os.path.join(RESULTS, "tipper_simpeg026.json")
    if os.path.exists(cross):  # benchmarks/tipper_simpeg026.py, run apart (Python 3.12)
        with open(cross) as fh:
            c = json.load(fh)
        lines += [
            "",
            f"SimPEG {c['simpeg_026']}'s own `receivers.Tipper` on the same mesh "
            f"({c['stations']} stations, {c['frequencies']} frequencies; `benchmarks/tipper_simpeg026.py`): "
            f"largest abs(Tzx) over the half-space {c['half_space']['max_abs_simpeg_026']:.1e} "
            f"(simpeg_zo {c['half_space']['max_abs_simpeg_zo']:.1e}), over the layers "
            f"{c['layers']['max_abs_simpeg_026']:.1e} ({c['layers']['max_abs_simpeg_zo']:.1e}); over a conductor "
            f"the two differ by {c['conductor']['max_difference_all_relative']:.1e} of the largest abs(Tzx) "
            "at every station.",
        ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every second station and frequency of the spec")
    parser.add_argument("--from-json", action="store_true", help="rewrite the section from the saved results only")
    args = parser.parse_args(argv)
    if args.from_json:
        with open(os.path.join(RESULTS, "tipper.json")) as fh:
            results = json.load(fh)
        _write(results, results.get("quick", False))
        return
    from test_tipper import _born_difference

    t0 = time.perf_counter()
    results = {
        "machine": platform.platform(),
        "one_dimensional": {s: one_dimensional(s) for s in ("superlu", "pardiso")},
        "born": {str(n): _born_difference(n) for n in (2, 4, 8)},
    }
    results["inversions"] = inversions(args.quick)
    results["seconds"] = time.perf_counter() - t0
    results["quick"] = bool(args.quick)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "tipper.json"), "w") as fh:
        json.dump(results, fh, indent=1)
    _write(results, args.quick)


def _write(results, quick):
    text = (
        f"{START}\n## Tipper (Tzx)\n\n`python benchmarks/tipper.py` ({'quick' if quick else 'full'}; "
        f"{results['seconds']:.0f} s on {results['machine']}, one run per method, side by side). "
        "The conductor's position error is the centroid of the conductance anomaly in the core "
        "(log10 below the background, weighted by cell area) minus the block's centre; the true "
        "model's own row shows the metric's offset on this mesh.\n\n"
        f"{_table(results)}\n{END}"
    )
    write_section(text, os.path.join(ROOT, "BENCHMARKS.md"), START, END)
    print(_table(results))


if __name__ == "__main__":
    main()
