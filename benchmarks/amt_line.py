"""Benchmark: the default command on a synthetic AMT line of two clusters, as EDI files.

A stand-in for a field AMT profile the project has not seen: 12 stations in
two clusters of six (random positions over 2.2 km each) with a 4.5 km gap,
36 frequencies from 10.4 kHz to 0.35 Hz, TE+TM, over a conductive cover, a
deeper conductor, a conductive fault dipping from one cluster to the other
and a 3000 ohm-m block under the second cluster, with topography. The data
are simulated on the spec's own mesh (3 % noise on apparent resistivity,
0.86 degrees on phase), then made field-like: a static shift per station
and mode (log-normal, 0.15 decade), and one station loses its TE impedance
at half its frequencies. They are written as EDI files along azimuth 70
(strike -20) and inverted by ``simpeg-zo invert FOLDER --method M`` with
every default, so the inversions run on the reader's own mesh, strike and
screen (no inverse crime).

Usage::

    python benchmarks/amt_line.py --seed 0 --methods zo,gn,gn-bostick [--limit 1500]

Writes the EDI files and the reports under ``build/amt_line/SEED`` and a
summary to ``benchmarks/results/amt_line-SEED.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def make_line(seed: int, folder: str) -> list:
    """Write the seed's line as EDI files into ``folder``; returns the station positions."""
    import simpeg_zo as sz

    rng = np.random.default_rng(seed)
    a = np.sort(rng.uniform(0, 2200, 6))
    a -= a[0]
    b = np.sort(rng.uniform(0, 2200, 6))
    b += a[-1] + 4500 - b[0]
    st = np.round(np.r_[a, b], 1)
    spec_text = f"""
name = "amt{seed}"
[survey]
stations = {st.tolist()}
frequencies = {{max = 10400.0, min = 0.35, count = 36}}
modes = ["TE", "TM"]
[noise]
relative = 0.03
phase_degrees = 0.86
seed = {seed}
[errors]
relative = 0.05
phase_degrees = 1.43
[model]
background = 300.0
[[model.layers]]
top = 0.0
bottom = {rng.uniform(80, 300):.1f}
resistivity = {10 ** rng.uniform(0.8, 1.8):.1f}
[[model.layers]]
top = {rng.uniform(600, 1200):.1f}
bottom = {rng.uniform(1500, 2500):.1f}
resistivity = {10 ** rng.uniform(0.3, 1.0):.1f}
[[model.polygons]]
vertices = [[{st[3]:.1f}, 150.0], [{st[3] + 300:.1f}, 150.0], [{st[8]:.1f}, 3000.0], [{st[8] - 300:.1f}, 3000.0]]
resistivity = {10 ** rng.uniform(0.0, 0.7):.2f}
[[model.blocks]]
x = [{st[9] - 200:.1f}, {st[9] + 600:.1f}]
depth = [300.0, 1200.0]
resistivity = 3000.0
[topography]
x = [{st[0] - 1000:.1f}, {st[5]:.1f}, {st[6]:.1f}, {st[-1] + 1000:.1f}]
elevation = [0.0, {rng.uniform(-80, 80):.1f}, {rng.uniform(50, 250):.1f}, 100.0]
"""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"amt{seed}.toml.txt"), "w") as fh:
        fh.write(spec_text)
    spec = sz.parse_spec(spec_text, source=f"amt{seed}")
    profile, _ = sz.synthetic_profile(spec)
    dobs = {}
    for mode in profile.modes:
        parts = profile.split(profile.data[mode].dobs, mode)
        shift = 10 ** rng.normal(0, 0.15, profile.n_stations)
        rho = parts["apparent_resistivity"] * shift[None, :]
        phase = parts["phase"].copy()
        if mode == "TE":
            gone = rng.choice(profile.n_frequencies, profile.n_frequencies // 2, replace=False)
            rho[gone, 4] = phase[gone, 4] = np.nan
        dobs[mode] = profile.join(rho, phase)
    profile.set_data(dobs, relative_error=spec.error_relative, phase_error_degrees=spec.error_phase_degrees)
    sz.write_edi(profile, folder, latitude=-21.0, longitude=131.0, azimuth=70.0)
    return st.tolist()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="zo,gn,gn-bostick")
    p.add_argument("--limit", type=int, default=1500, help="seconds per method")
    args = p.parse_args(argv)
    base = os.path.join(ROOT, "build", "amt_line", str(args.seed))
    edi = os.path.join(base, "edi")
    stations = make_line(args.seed, edi)
    summary = {"seed": args.seed, "stations": stations, "methods": {}}
    out_json = os.path.join(ROOT, "benchmarks", "results", f"amt_line-{args.seed}.json")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for method in args.methods.split(","):
        report = os.path.join(base, f"{method}.json")
        cmd = [sys.executable, "-m", "simpeg_zo.cli", "invert", edi, "--method", method, "--no-figures", "--fresh"]
        cmd += ["--out", os.path.join(base, method), "--json", report]
        try:
            subprocess.run(cmd, env=env, timeout=args.limit, check=False, capture_output=True)
        except subprocess.TimeoutExpired:
            summary["methods"][method] = {"timed_out": args.limit}
            continue
        with open(report) as fh:
            r = json.load(fh)
        summary["methods"][method] = {
            k: r[k] for k in ("chi2", "iterations", "forward_solves", "wall_seconds", "stop_reason", "n_data")
        }
        summary["methods"][method]["history"] = [(h["seconds"], h["chi2"]) for h in r["history"]]
        summary["methods"][method]["strike_deg"] = r["strike_deg"]
        with open(out_json, "w") as fh:
            json.dump(summary, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
