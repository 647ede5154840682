"""Benchmark: peak resident memory of ZO and GN on a field-sized profile.

The profile is ``benchmarks/specs/field-25x57.toml``: 25 stations over 78 km,
57 frequencies from 10 kHz to 0.6 Hz, TE+TM (5,700 data), with the ``invert``
command's mesh (4 cells per station). Each run is a fresh process whose peak
resident memory (with any Dask worker processes) is sampled every 20 ms:

* ``zo-phase`` (forward only: one factorisation at a time) for a few
  iterations, on 1 and on 2 Dask workers;
* ``gn`` for one iteration (SimPEG keeps every frequency's factorisation for
  its Jacobian products);
* with ``--baseline PATH`` (a checkout of an earlier commit), ``zo-phase`` of
  that code on the same spec, for the before/after figure.

Writes ``benchmarks/results/memory.json`` and the "Peak memory" section of
``BENCHMARKS.md``.

Usage::

    python benchmarks/memory.py [--baseline /path/to/old/checkout] [--iterations 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
SPEC = os.path.join(HERE, "specs", "field-25x57.toml")
START, END = "<!-- memory:start -->", "<!-- memory:end -->"
sys.path.insert(0, HERE)
from _sections import write_section  # noqa: E402

RUNNER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import psutil, threading
import simpeg_zo
spec_path, method, iterations, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
peak = [0]
stop = threading.Event()
def sample():
    p = psutil.Process()
    while not stop.wait(0.02):
        rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
        peak[0] = max(peak[0], rss)
threading.Thread(target=sample, daemon=True).start()
spec = simpeg_zo.load_spec(spec_path)
profile, _ = simpeg_zo.synthetic_profile(spec, cells_per_station=4)
before = psutil.Process().memory_info().rss
kwargs = {"max_iter": iterations}
if workers > 1:
    kwargs["workers"] = workers
t = time.perf_counter()
try:
    result = simpeg_zo.run_method(profile, method, **kwargs)
except TypeError:  # an earlier version without workers
    kwargs.pop("workers", None)
    result = simpeg_zo.run_method(profile, method, **kwargs)
seconds = time.perf_counter() - t
stop.set()
print(json.dumps({"method": method, "workers": workers, "peak_mb": peak[0] / 2**20,
                  "before_mb": before / 2**20, "seconds": seconds, "chi2": result.chi2,
                  "iterations": result.iterations, "forward_solves": result.forward_solves,
                  "mesh": [int(n) for n in profile.mesh.shape_cells], "n_data": int(profile.n_data),
                  "solver": getattr(profile, "solver", "superlu")}))
"""


def run(path, method, iterations, workers=1):
    env = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, SPEC, method, str(iterations), str(workers)],
        env=env,
        capture_output=True,
        text=True,
        cwd=path,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    row = json.loads(out.stdout.strip().splitlines()[-1])
    if os.path.samefile(path, ROOT):
        row["code"] = "this"
    else:
        commit = subprocess.run(
            ["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        row["code"] = f"before (commit {commit or path})"
    print(
        f"  {row['code']} {method} workers={workers}: peak {row['peak_mb']:.0f} MB, {row['seconds']:.0f} s, "
        f"chi2 {row['chi2']:.2f} after {row['iterations']} it, mesh {row['mesh']}",
        flush=True,
    )
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="checkout of an earlier commit to measure too")
    parser.add_argument("--iterations", type=int, default=2)
    args = parser.parse_args(argv)
    rows = [
        run(ROOT, "zo-phase", args.iterations),
        run(ROOT, "zo-phase", args.iterations, workers=2),
        run(ROOT, "gn", 1),
    ]
    if args.baseline:
        rows.append(run(args.baseline, "zo-phase", args.iterations))
    report = {"date": time.strftime("%Y-%m-%d"), "spec": os.path.relpath(SPEC, ROOT), "rows": rows}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "memory.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    lines = [
        START,
        "## Peak memory on a field-sized profile",
        "",
        f"Written by `python benchmarks/memory.py` ({report['date']}): `{report['spec']}`, "
        f"{rows[0]['n_data']} data, mesh {rows[0]['mesh'][0]} x {rows[0]['mesh'][1]} (4 cells per "
        "station), each run in a fresh process; peak resident memory of the process and its Dask "
        "workers.",
        "",
        "| code | method | workers | iterations | peak memory (MB) | wall (s) | chi2 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['code']} | {r['method']} | {r['workers']} | {r['iterations']} | "
            f"{r['peak_mb']:.0f} | {r['seconds']:.0f} | {r['chi2']:.2f} |"
        )
    lines += [
        "",
        "ZO evaluates forward only (each frequency factorised, solved and released); GN keeps "
        "SimPEG's stored factorisations, which its Jacobian products need.",
        "",
        END,
    ]
    write_section("\n".join(lines), os.path.join(ROOT, "BENCHMARKS.md"), START, END)


if __name__ == "__main__":
    main()
