"""Benchmark: simpeg_zo's 2D Tipper against SimPEG 0.26's own receivers.Tipper.

SimPEG 0.26 (the first with a 2D tipper) needs Python >= 3.12; this project
runs on SimPEG 0.25 and Python 3.11. The script builds the meshes and models
here, has a Python 3.12 environment with SimPEG 0.26 (``--python``) simulate
``receivers.Tipper(orientation="zx")`` on the same mesh, conductivities,
stations and frequencies, and compares:

* over 1D earths (a half-space and three layers): the largest |Tzx| of each;
* over a 2D model (a conductor off the centre of the line): the largest
  difference, relative to the largest |Tzx|, at stations away from the mesh
  edges (SimPEG 0.26's open report concerns the boundary region).

A cross-check of two implementations on one mesh, not a verification (see
``tests/test_tipper.py`` for that). Writes ``benchmarks/results/tipper_simpeg026.json``.

Usage::

    python3.12 -m venv /tmp/venv312 && /tmp/venv312/bin/pip install "simpeg==0.26.*"
    python benchmarks/tipper_simpeg026.py --python /tmp/venv312/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

#: Run by the Python 3.12 interpreter: SimPEG 0.26's tipper on the given mesh.
REMOTE = r"""
import sys, numpy as np, discretize, simpeg
from simpeg.electromagnetics import natural_source as nsem
from simpeg import maps
case = np.load(sys.argv[1])
mesh = discretize.TensorMesh([case["hx"], case["hz"]], origin=case["origin"])
loc = case["locations"]
rxs = [nsem.receivers.Tipper(loc, orientation="zx", component=c) for c in ("real", "imag")]
sources = [nsem.sources.Planewave(rxs, frequency=f) for f in case["frequencies"]]
sim = nsem.simulation.Simulation2DMagneticField(mesh, survey=nsem.Survey(sources), sigmaMap=maps.IdentityMap(mesh))
out = {name: sim.dpred(case[name]) for name in case["models"]}
np.savez(sys.argv[2], version=simpeg.__version__, **out)
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="a Python 3.12 interpreter with simpeg 0.26 installed")
    args = parser.parse_args(argv)
    from test_tipper import _cells, _tipper_simulation

    import simpeg_zo as sz

    stations = np.linspace(-5000, 5000, 21)
    p = sz.build_profile(stations, np.logspace(3, -2, 11), modes=["TE"], resistivity_range=(100, 100))
    x, z = _cells(p)
    models = {
        "half_space": np.full(p.n_active, 100.0),
        "layers": np.where(z > -500, 100.0, np.where(z > -3000, 5.0, 1000.0)),
        "conductor": np.where((np.abs(x - 1500) < 700) & (z < -300) & (z > -1500), 1.0, 100.0),
    }
    ours = {k: _tipper_simulation(p).dpred(p.model_from_resistivity(v)) for k, v in models.items()}
    with tempfile.TemporaryDirectory() as tmp:
        sigma = {k: p.mapping * p.model_from_resistivity(v) for k, v in models.items()}
        case = os.path.join(tmp, "case.npz")
        np.savez(
            case,
            hx=p.mesh.h[0],
            hz=p.mesh.h[1],
            origin=np.asarray(p.mesh.origin),
            locations=p.receiver_locations,
            frequencies=p.frequencies,
            models=np.array(list(models)),
            **sigma,
        )
        script = os.path.join(tmp, "remote.py")
        with open(script, "w") as fh:
            fh.write(REMOTE)
        result = os.path.join(tmp, "out.npz")
        subprocess.run([args.python, script, case, result], check=True)
        theirs = dict(np.load(result))
    n = p.n_stations
    inner = np.abs(stations) <= 3000.0  # away from the mesh edges
    report = {"simpeg_026": str(theirs.pop("version")), "stations": n, "frequencies": p.n_frequencies}
    for name in models:
        a = ours[name].reshape(p.n_frequencies, 2, n)
        b = theirs[name].reshape(p.n_frequencies, 2, n)
        entry = {"max_abs_simpeg_zo": float(np.abs(a).max()), "max_abs_simpeg_026": float(np.abs(b).max())}
        if name == "conductor":
            scale = np.abs(a[:, :, inner]).max()
            entry["max_difference_inner_relative"] = float(np.abs(a - b)[:, :, inner].max() / scale)
            entry["max_difference_all_relative"] = float(np.abs(a - b).max() / scale)
        report[name] = entry
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "tipper_simpeg026.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
