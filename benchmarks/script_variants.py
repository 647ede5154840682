"""Benchmark: ZO and GN on SimPEG scripts whose receivers look like field data.

Each variant is a plain SimPEG 2D MT script on a hand-built ``TensorMesh``
(36 core cells of 60 m with 8 padding cells x1.4 each side; 28 cells of 30 m
down with 16 padding cells x1.35), 13 stations over 1.8 km listed in random
order, 13 frequencies 0.1 Hz-1 kHz in ascending order, a 100/10/300 ohm-m
layered earth with a 1000 ohm-m and a 3 ohm-m block:

* ``subsets``: TE+TM apparent resistivity (4 %) and phase (1 degree); each
  frequency keeps its own random 70 % of the stations;
* ``rhoonly``: TE+TM apparent resistivity only (4 %);
* ``imp``: TM impedance, real and imaginary parts, 3 % of |Z| each.

Methods: ``gn`` (``InexactGaussNewton(maxIter=30, cg_maxiter=30)``,
``BetaEstimate_ByEig``, cooling by 4, ``TargetMisfit``) and ``zo`` (the
``opt = ...`` line swapped for ``ZohdyOldenburg(maxIter=30)``, with
``BostickStartingModel()`` first unless ``--no-bostick``), both from the
100 ohm-m half-space.

Usage::

    python benchmarks/script_variants.py subsets zo [--seed 0] [--no-bostick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CLASSES = {"TE": ("Simulation2DMagneticField", "yx"), "TM": ("Simulation2DElectricField", "xy")}
MODES = {"subsets": ("TE", "TM"), "rhoonly": ("TE", "TM"), "imp": ("TM",)}


def true_resistivity(cc):
    rho = np.full(len(cc), 100.0)
    rho[cc[:, 1] < -250] = 10.0
    rho[cc[:, 1] < -600] = 300.0
    rho[(np.abs(cc[:, 0] - 200) < 250) & (cc[:, 1] < -80) & (cc[:, 1] > -350)] = 1000.0
    rho[(np.abs(cc[:, 0] + 500) < 150) & (cc[:, 1] < -150) & (cc[:, 1] > -400)] = 3.0
    return rho


def misfit(mesh, variant, mode, stations, frequencies, rho, rng):
    """One mode's ``L2DataMisfit`` with noisy simulated data."""
    from simpeg import data, data_misfit, maps
    from simpeg.electromagnetics import natural_source as nsem

    import simpeg_zo

    name, orientation = CLASSES[mode]
    components = {"rhoonly": ("apparent_resistivity",), "imp": ("real", "imag")}.get(
        variant, ("apparent_resistivity", "phase")
    )
    sources = []
    for f in frequencies:
        at = stations[rng.random(stations.size) > 0.3] if variant == "subsets" else stations
        loc = np.c_[at, np.zeros(at.size)]
        receivers = [nsem.receivers.Impedance(loc, orientation=orientation, component=c) for c in components]
        sources.append(nsem.sources.Planewave(receivers, frequency=f))
    survey = nsem.Survey(sources)
    sim = getattr(nsem.simulation, name)(mesh, survey=survey, sigmaMap=maps.ExpMap(mesh), solver=simpeg_zo.Pardiso)
    d = sim.dpred(-np.log(rho))
    std, k = [], 0
    for src in survey.source_list:
        n = src.receiver_list[0].nD
        if variant == "imp":
            modulus = np.hypot(d[k : k + n], d[k + n : k + 2 * n])
            std += [0.03 * modulus, 0.03 * modulus]
        else:  # 4 % on apparent resistivity, 1 degree on phase
            for i, r in enumerate(src.receiver_list):
                part = d[k + i * n : k + (i + 1) * n]
                std.append(np.full(n, 1.0) if r.component == "phase" else 0.04 * np.abs(part))
        k += n * len(src.receiver_list)
    std = np.concatenate(std)
    dobs = d + std * rng.standard_normal(d.size)
    return data_misfit.L2DataMisfit(data=data.Data(survey, dobs=dobs, standard_deviation=std), simulation=sim)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variant", choices=sorted(MODES))
    parser.add_argument("method", choices=("gn", "zo"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-bostick", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from discretize import TensorMesh
    from simpeg import directives, inverse_problem, inversion, optimization, regularization

    import simpeg_zo

    rng = np.random.default_rng(args.seed)
    mesh = TensorMesh([[(60, 8, -1.4), (60, 36), (60, 8, 1.4)], [(30, 16, -1.35), (30, 28)]], origin="CN")
    mesh.origin = np.r_[mesh.origin[0], -mesh.h[1].sum()]
    rho = true_resistivity(mesh.cell_centers)
    stations = rng.permutation(np.linspace(-900, 900, 13))
    frequencies = np.logspace(-1, 3, 13)
    terms = [misfit(mesh, args.variant, m, stations, frequencies, rho, rng) for m in MODES[args.variant]]
    dmis = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    m0 = np.full(mesh.n_cells, -np.log(100.0))
    reg = regularization.WeightedLeastSquares(mesh, reference_model=m0, alpha_s=1e-4)
    beta = [directives.BetaEstimate_ByEig(beta0_ratio=1.0), directives.BetaSchedule(coolingFactor=4, coolingRate=1)]
    if args.method == "gn":
        opt, first = optimization.InexactGaussNewton(maxIter=30, cg_maxiter=30), []
    else:
        opt = simpeg_zo.ZohdyOldenburg(maxIter=30)
        first = [] if args.no_bostick else [simpeg_zo.BostickStartingModel()]
    directive_list = first + beta + [directives.TargetMisfit(chifact=1.0)]
    inv = inversion.BaseInversion(inverse_problem.BaseInvProblem(dmis, reg, opt), directiveList=directive_list)
    t0 = time.perf_counter()
    m = inv.run(m0)
    seconds = time.perf_counter() - t0
    n_data = sum(t.nD for t in terms)
    print(  # noqa: T201
        f"{args.variant} {args.method} seed {args.seed}: chi2 {float(dmis(m)) / n_data:.3f},"
        f" {opt.iter} iterations, {seconds:.1f} s, {n_data} data"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
