"""Benchmark: mesh convergence of TE and TM responses over topography.

Half-spaces under smooth and rugged surfaces, simulated on the project's
default mesh and on meshes with the cells halved once and twice
(``cells_per_station`` x2, x4 and ``dz_surface`` /2, /4). For each case and
mode it reports, against the finest mesh:

* ``change``: the largest |ln rho_a| difference at stations away from slope
  breaks (where the true response is smooth), and at all stations;
* ``stripes``: the largest station-to-station oscillation of that
  difference, ``|e_i - (e_(i-1) + e_(i+1)) / 2|``, away from slope breaks
  (the quantity the old staircase made 30-70 %);
* for a gentle Gaussian hill, the TM response against the first-order
  theory ``rho / rho_flat = 1 - 2 |D| h``.

Writes ``benchmarks/results/topography.json`` and the "TE and TM over
topography" section of ``BENCHMARKS.md``.

Usage::

    python benchmarks/topography.py [--quick]
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

from _sections import write_section  # noqa: E402

START, END = "<!-- topography:start -->", "<!-- topography:end -->"


def _cases(quick):
    import simpeg_zo

    hill_x, hill_z = [1000.0, 1500.0, 2000.0, 2500.0, 3000.0], [0.0, 60.0, 120.0, 60.0, 0.0]
    cases = [
        {
            "name": "issue hill (0-120-0 m trapezoid)",
            "stations": np.linspace(0, 4000, 41),
            "frequencies": np.logspace(3, 0, 4 if quick else 7),
            "background": 100.0,
            "knots": hill_x,
            "elevation": lambda x: np.interp(x, hill_x, hill_z),
        },
        {
            "name": "Gaussian hill (120 m, w 500 m), stations off-grid",
            "stations": 37.0 + 100.0 * np.arange(41),
            "frequencies": np.logspace(3, 0, 4 if quick else 7),
            "background": 100.0,
            "knots": [],
            "elevation": lambda x: 120.0 * np.exp(-0.5 * ((np.asarray(x) - 2037.0) / 500.0) ** 2),
        },
        {
            "name": "V valley (80 m deep), stations off the knots",
            "stations": np.linspace(37.0, 3937.0, 40),
            "frequencies": np.logspace(3, 0, 4 if quick else 7),
            "background": 100.0,
            "knots": [1200.0, 2000.0, 2800.0],
            "elevation": lambda x: np.interp(x, [0, 1200, 2000, 2800, 4000], [0, 0, -80, 0, 0]),
        },
    ]
    for preset in ("block-topo", "rugged-faults"):
        spec = simpeg_zo.load_spec(preset)
        f = spec.frequencies
        cases.append(
            {
                "name": f"{preset} preset surface over {spec.background:g} ohm-m",
                "stations": spec.stations,
                "frequencies": np.logspace(np.log10(f.max()), np.log10(f.min()), 3 if quick else 5),
                "background": spec.background,
                "knots": list(spec.topography[0]),
                "elevation": spec.elevation,
            }
        )
    return cases


def _rho(case, mode, level):
    from simpeg_zo import build_profile
    from simpeg_zo._mesh import skin_depth

    rho = case["background"]
    f = case["frequencies"]
    dz0 = min(float(skin_depth(f.max(), rho)) / 5.0, float(np.median(np.diff(case["stations"]))) / 2.0)
    p = build_profile(
        case["stations"],
        f,
        modes=[mode],
        elevation=case["elevation"],
        resistivity_range=(rho, rho),
        cells_per_station=2 * 2**level,
        dz_surface=dz0 / 2**level,
    )
    t = time.perf_counter()
    d = p.dpred(p.half_space(rho))
    seconds = time.perf_counter() - t
    return np.log(p.split(d[mode], mode)["apparent_resistivity"]), p.mesh.shape_cells, seconds


def _away(stations, knots, width):
    keep = np.ones(stations.size, dtype=bool)
    for k in knots:
        keep &= np.abs(stations - k) > width + 1e-6
    return keep


def convergence(case, mode):
    spacing = float(np.median(np.diff(case["stations"])))
    runs = [_rho(case, mode, level) for level in range(3)]
    fine = runs[-1][0]
    smooth = _away(case["stations"], case["knots"], spacing)
    smooth2 = _away(case["stations"], case["knots"], 2 * spacing)[1:-1]
    out = {
        "case": case["name"],
        "mode": mode,
        "meshes": [[int(n) for n in r[1]] for r in runs],
        "seconds": [r[2] for r in runs],
        "levels": [],
    }
    for level in range(2):
        e = runs[level][0] - fine
        stripes = np.abs(e[:, 1:-1] - 0.5 * (e[:, 2:] + e[:, :-2]))
        out["levels"].append(
            {
                "change_smooth": float(np.abs(e[:, smooth]).max()) if smooth.any() else None,
                "change_all": float(np.abs(e).max()),
                "stripes_smooth": float(stripes[:, smooth2].max()) if smooth2.any() else None,
            }
        )
    return out


def first_order_check():
    from simpeg_zo import build_profile

    H, w = 20.0, 400.0
    x = np.linspace(-2000.0, 2000.0, 41)
    k = np.linspace(0.0, 40.0 / w, 20001)
    spectrum = H * w * np.sqrt(2 * np.pi) * np.exp(-0.5 * (k * w) ** 2)
    expected = 1 - 2 * np.array([np.trapezoid(k * spectrum * np.cos(k * xi), k) / np.pi for xi in x])
    rows = []
    for cps in (2, 4, 8):
        kw = dict(modes=["TM"], resistivity_range=(100.0, 100.0), cells_per_station=cps)
        hill = build_profile(x, [1.0, 0.1], elevation=lambda s: H * np.exp(-0.5 * (np.asarray(s) / w) ** 2), **kw)
        flat = build_profile(x, [1.0, 0.1], **kw)
        r = [p.split(p.dpred(p.half_space(100.0))["TM"], "TM")["apparent_resistivity"][1] for p in (hill, flat)]
        ratio = r[0] / r[1]
        rows.append(
            {
                "cells_per_station": cps,
                "max_abs_error": float(np.abs(ratio - expected).max()),
                "hill_top": float(ratio[20]),
                "theory_top": float(expected[20]),
            }
        )
    return rows


def markdown(report):
    lines = [
        START,
        "## TE and TM over topography: mesh convergence",
        "",
        f"Written by `python benchmarks/topography.py` on a {os.cpu_count()}-core machine "
        f"({report['date']}). Half-spaces under each surface; the default mesh (level 0) and "
        "the cells halved once (level 1) compared with the cells halved twice. `change`: largest "
        "|ln rho_a| difference at stations more than one spacing from a slope break (all stations "
        "in brackets); `stripes`: largest station-to-station oscillation of that difference at "
        "stations more than two spacings from a slope break.",
        "",
        "| surface | mode | meshes (default / x2 / x4) | change, default | stripes, default | change, x2 |",
        "|---|---|---|---|---|---|",
    ]

    def pct(v):
        return "-" if v is None else f"{100 * v:.2f} %"

    for r in report["convergence"]:
        m = " / ".join(f"{a}x{b}" for a, b in r["meshes"])
        l0, l1 = r["levels"]
        lines.append(
            f"| {r['case']} | {r['mode']} | {m} | {pct(l0['change_smooth'])} "
            f"({pct(l0['change_all'])}) | {pct(l0['stripes_smooth'])} | "
            f"{pct(l1['change_smooth'])} ({pct(l1['change_all'])}) |"
        )
    lines += [
        "",
        "Before the station pads and station-level nodes, the default mesh put 55, 96, 134, 83, "
        "101, 136 ohm-m on neighbouring stations of the issue hill (true response smooth, near "
        "100 ohm-m) and halving the cells moved values by up to 77 %.",
        "",
        "TM over a gentle Gaussian hill (20 m, w = 400 m) at 0.1 Hz against the first-order theory "
        "rho / rho_flat = 1 - 2 |D| h (hill-top theory "
        f"{report['first_order'][0]['theory_top']:.4f}):",
        "",
        "| cells per station | hill top | largest error over 41 stations |",
        "|---|---|---|",
    ]
    for r in report["first_order"]:
        lines.append(f"| {r['cells_per_station']} | {r['hill_top']:.4f} | {100 * r['max_abs_error']:.2f} % |")
    lines += ["", END]
    return "\n".join(lines)


def main(argv=None):
    import warnings

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frequencies")
    args = parser.parse_args(argv)
    os.makedirs(RESULTS, exist_ok=True)
    report = {"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(), "convergence": []}
    for case in _cases(args.quick):
        for mode in ("TM", "TE"):
            r = convergence(case, mode)
            l0 = r["levels"][0]
            print(
                f"{r['case']} {mode}: change {l0['change_smooth']} (all {l0['change_all']:.4f}), "
                f"stripes {l0['stripes_smooth']}, meshes {r['meshes']}",
                flush=True,
            )
            report["convergence"].append(r)
    report["first_order"] = first_order_check()
    print(report["first_order"], flush=True)
    with open(os.path.join(RESULTS, "topography.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    write_section(markdown(report), os.path.join(ROOT, "BENCHMARKS.md"), START, END)


if __name__ == "__main__":
    main()
