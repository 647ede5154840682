"""Benchmark: a seeded random suite of user-style cases, zo against zo-paper, gn and gn-bostick.

Each case is a SimPEG 2D MT script drawn at random from a seed:

* mesh: a third written by hand as a user would (a ``TensorMesh`` with its
  own core size and padding factors), a sixth a ``TreeMesh``, the rest from
  the project's builder (:func:`simpeg_zo.build_profile`);
* model: layered, blocks, a dipping dike or a fault, conductive or
  resistive, with or without topography;
* stations: uniform, random spacing, or two clusters with a gap;
* band: 0.5 decade of high frequencies, 2 decades, 5 decades, or a sparse
  band of 3-6 frequencies;
* modes: TE, TM or both; data: apparent resistivity and phase, or the
  impedance's real and imaginary parts; noise 2-5 % with floors.

Methods, all on the case's own mesh, solver, data and errors:

* ``gn``: SimPEG's ``InexactGaussNewton`` with the project's GN settings
  (:data:`simpeg_zo._gn.GN_SETTINGS`: ``WeightedLeastSquares``,
  ``BetaEstimate_ByEig``, cooling by 2, Jacobi preconditioner,
  ``TargetMisfit``) from the half-space, with the project's guard of the
  line search (a trial whose forward solve fails or is not finite shortens
  the step, as in :func:`simpeg_zo.gauss_newton`; SimPEG's plain inverse
  problem raises there and ends the run);
* ``gn-bostick``: the same from the Bostick model;
* ``zo``: ``ZohdyOldenburg(maxIter=30)`` from the Bostick model;
* ``zo-paper``: the paper's method (``memory=0, subspace=False,
  lateral_coupling=0, frequency_window=0``).

Per case and method: the final chi2, the seconds to reach the better GN's
final chi2 (and the ratio against the faster GN), forward solves and
Jacobian products. Results are written per case as they finish (``--json``;
a rerun skips the cases already there).

Usage::

    python benchmarks/suite.py --seed 0 --cases 30 --json benchmarks/results/suite-0.json
    python benchmarks/suite.py --report 0,1  # the tables, into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

METHODS = ("gn", "gn-bostick", "zo", "zo-paper")


# ------------------------------------------------------------------ cases
def draw_case(seed: int, index: int) -> dict:
    """The specification of case ``index`` of ``seed`` (plain data, JSON-able)."""
    rng = np.random.default_rng([seed, index])
    u = rng.uniform()
    mesh = "hand" if u < 1 / 3 else ("tree" if u < 1 / 2 else "builder")
    n_st = int(rng.integers(8, 17))
    length = float(rng.choice([2000.0, 4000.0, 8000.0]))
    layout = str(rng.choice(["uniform", "random", "clusters"]))
    if layout == "uniform":
        stations = np.linspace(0, length, n_st)
    elif layout == "random":
        stations = np.sort(rng.uniform(0, length, n_st))
        stations = stations[np.r_[True, np.diff(stations) > 0.02 * length]]
    else:
        half = n_st // 2
        gap = rng.uniform(0.3, 0.5) * length
        a = np.linspace(0, (length - gap) / 2, half)
        stations = np.r_[a, a + (length + gap) / 2]
    stations = stations - stations.mean()
    band = str(rng.choice(["half-decade", "two-decades", "five-decades", "sparse"]))
    top = float(rng.uniform(2.0, 3.5))
    if band == "half-decade":
        frequencies = np.logspace(top, top - 0.5, 4)
    elif band == "two-decades":
        frequencies = np.logspace(top, top - 2, 9)
    elif band == "five-decades":
        frequencies = np.logspace(top, top - 5, 13)
    else:
        frequencies = np.sort(10 ** rng.uniform(top - 4, top, int(rng.integers(3, 7))))[::-1]
    scale = float(np.clip(length / 4, 300, 2000))  # structure depth scale (m)
    background = float(10 ** rng.uniform(1, 3))
    model = {
        "kind": str(rng.choice(["layered", "blocks", "dike", "fault"])),
        "background": background,
        "contrast": float(rng.choice([-1, 1]) * rng.uniform(0.7, 1.5)),  # decades
        "depth": float(rng.uniform(0.1, 0.6) * scale),
        "thickness": float(rng.uniform(0.2, 0.6) * scale),
        "x": float(rng.uniform(-0.3, 0.3) * length),
        "width": float(rng.uniform(0.1, 0.3) * length),
        "dip": float(rng.uniform(30, 80)),
        "layers": [float(10 ** (np.log10(background) + rng.uniform(-1, 1))) for _ in range(2)],
    }
    topography = bool(rng.uniform() < 0.4)
    return {
        "seed": seed,
        "index": index,
        "mesh": mesh,
        "stations": stations.tolist(),
        "station_layout": layout,
        "band": band,
        "frequencies": frequencies.tolist(),
        "modes": str(rng.choice(["TE", "TM", "TE+TM"])),
        "components": str(rng.choice(["rho-phase", "impedance"], p=[0.7, 0.3])),
        "noise": float(rng.uniform(0.02, 0.05)),
        "topography": {"height": float(rng.uniform(50, 250) * rng.choice([-1, 1])), "width": length / 4}
        if topography
        else None,
        "model": model,
        "core": float(rng.choice([25.0, 50.0])) if mesh == "hand" else None,
        "padding": float(rng.uniform(1.3, 1.5)) if mesh == "hand" else None,
    }


def _elevation(case):
    top = case["topography"]
    if top is None:
        return lambda x: np.zeros_like(np.asarray(x, dtype=float))
    return lambda x: top["height"] * np.exp(-((np.asarray(x, dtype=float) / top["width"]) ** 2))


def _resistivity(case, centres, depth):
    m = case["model"]
    x = centres[:, 0]
    rho = np.full(len(centres), m["background"])
    body = 10 ** (np.log10(m["background"]) + m["contrast"])
    if m["kind"] == "layered":
        rho[depth > m["depth"]] = m["layers"][0]
        rho[depth > m["depth"] + m["thickness"]] = m["layers"][1]
    elif m["kind"] == "blocks":
        inside = (np.abs(x - m["x"]) < m["width"] / 2) & (depth > m["depth"]) & (depth < m["depth"] + m["thickness"])
        rho[inside] = body
        other = (np.abs(x + m["x"]) < m["width"] / 3) & (depth > 2 * m["depth"])
        rho[other & (depth < 2 * m["depth"] + m["thickness"])] = 10 ** (np.log10(m["background"]) - m["contrast"])
    elif m["kind"] == "dike":
        offset = (depth - m["depth"]) / np.tan(np.deg2rad(m["dip"]))
        rho[(np.abs(x - m["x"] - offset) < m["width"] / 4) & (depth > m["depth"])] = body
    else:  # fault: a dipping contact, the other side of it changes below a depth
        offset = depth / np.tan(np.deg2rad(m["dip"]))
        rho[(x > m["x"] + offset) & (depth > m["depth"])] = body
    return rho


def _hand_mesh(case):
    import discretize

    st = np.asarray(case["stations"])
    h = case["core"]
    n_core = int(np.ceil((st.max() - st.min()) / h)) + 8
    rho_max = max(case["model"]["background"], 1000.0)
    f_min = min(case["frequencies"])
    reach = 1.5 * 503.0 * np.sqrt(rho_max / f_min)
    growth = case["padding"]
    n_pad = 1
    while h * np.sum(growth ** np.arange(1, n_pad + 1)) < reach and n_pad < 40:
        n_pad += 1
    hx = [(h, n_pad, -growth), (h, n_core), (h, n_pad, growth)]
    dz = h / 2
    n_z = int(np.ceil(1.5 * max(case["model"]["depth"] + case["model"]["thickness"], 500.0) / dz))
    hz = [(dz, n_pad + 4, -growth), (dz, n_z), (dz, 10, 1.5)]
    top = case["topography"]["height"] if case["topography"] else 0.0
    earth = h * 0 + dz * (np.sum(growth ** np.arange(1, n_pad + 5)) + n_z)
    # the core's top (ground level, or the hill's top) meets the air padding
    return discretize.TensorMesh([hx, hz], origin=["C", -earth + max(top, 0.0)])


def _tree_mesh(case):
    import discretize

    st = np.asarray(case["stations"])
    h = 25.0 if (st.max() - st.min()) < 5000 else 50.0
    rho_max = max(case["model"]["background"], 1000.0)
    reach = 2 * 503.0 * np.sqrt(rho_max / min(case["frequencies"]))
    n = int(2 ** np.ceil(np.log2(2 * (reach + st.max() - st.min()) / h)))
    mesh = discretize.TreeMesh([[(h, n)], [(h, n)]], origin=[-n * h / 2, -n * h / 2], diagonal_balance=False)
    x = np.linspace(st.min() - 3000, st.max() + 3000, 801)
    mesh.refine_surface(np.c_[x, _elevation(case)(x)], level=-1, padding_cells_by_level=[3, 3, 4, 4], finalize=False)
    depth = 1.5 * (case["model"]["depth"] + case["model"]["thickness"]) + 200
    mesh.refine_box([st.min() - 500, -depth], [st.max() + 500, 300.0], levels=-3, finalize=False)
    mesh.finalize()
    return mesh


def build(case, opt_factory):
    """The case's SimPEG objects; ``opt_factory()`` gives the optimizer.

    Returns ``(inversion, inverse problem, n_data, m0, m_true, simulations)``.
    """
    from discretize.utils import active_from_xyz
    from simpeg import data, data_misfit, inverse_problem, inversion, maps, optimization, regularization
    from simpeg.electromagnetics import natural_source as nsem

    import simpeg_zo
    from simpeg_zo._gn import GN_SETTINGS, _CountingInvProblem
    from simpeg_zo._profile import Simulation2DElectricField, Simulation2DMagneticField

    st = np.asarray(case["stations"])
    freqs = np.asarray(case["frequencies"])
    elevation = _elevation(case)
    if case["mesh"] == "builder":
        rho_bg = case["model"]["background"]
        profile = simpeg_zo.build_profile(
            st,
            freqs,
            modes=case["modes"].split("+"),
            elevation=elevation,
            resistivity_range=(min(rho_bg, 10.0), max(rho_bg * 10, 1000.0)),
        )
        mesh, active = profile.mesh, profile.active_cells
        locations = profile.receiver_locations
    else:
        mesh = _hand_mesh(case) if case["mesh"] == "hand" else _tree_mesh(case)
        x = np.linspace(mesh.nodes_x[0], mesh.nodes_x[-1], 4001)
        active = active_from_xyz(mesh, np.c_[x, elevation(x)])
        from simpeg_zo._mesh import surface_elevation

        # receivers on the discrete surface, as SimPEG's shift_to_discrete_topography puts them
        locations = np.c_[st, surface_elevation(mesh, active, st)]
    mapping = maps.ExpMap(mesh) * maps.InjectActiveCells(mesh, active, np.log(1e-8))
    centres = mesh.cell_centers[active]
    depth = elevation(centres[:, 0]) - centres[:, 1]
    m_true = -np.log(_resistivity(case, centres, depth))
    components = ("apparent_resistivity", "phase") if case["components"] == "rho-phase" else ("real", "imag")
    rng = np.random.default_rng([case["seed"], case["index"], 7])
    terms, sims = [], []
    classes = {"TE": (Simulation2DMagneticField, "yx"), "TM": (Simulation2DElectricField, "xy")}
    for mode in case["modes"].split("+"):
        cls, orientation = classes[mode]
        receivers = [nsem.receivers.Impedance(locations, orientation=orientation, component=c) for c in components]
        survey = nsem.Survey([nsem.sources.Planewave(receivers, frequency=f) for f in freqs])
        sim = cls(mesh, survey=survey, sigmaMap=mapping, solver=simpeg_zo.Pardiso)
        d = sim.dpred(m_true)
        first = np.tile(np.r_[np.ones(st.size), np.zeros(st.size)], freqs.size).astype(bool)
        noise = case["noise"]
        if components[0] == "apparent_resistivity":
            # relative error on rho_a, its phase equivalent (half, in radians) with a 0.5 deg floor
            std = np.where(first, noise * np.abs(d), max(np.rad2deg(noise / 2), 0.5))
        else:
            modulus = np.hypot(d[first], d[~first])
            std = np.repeat(np.maximum(noise / 2 * modulus, 1e-12).reshape(freqs.size, -1), 2, axis=0).ravel()
        dobs = d + std * rng.standard_normal(d.size)
        terms.append(
            data_misfit.L2DataMisfit(data=data.Data(survey, dobs=dobs, standard_deviation=std), simulation=sim)
        )
        sims.append(sim)
    dmis = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    # reference: the geometric mean of the data's apparent resistivity (a half-space)
    m0 = np.full(int(active.sum()), -np.log(case["model"]["background"]))
    reg = regularization.WeightedLeastSquares(
        mesh,
        active_cells=active,
        reference_model=m0,
        alpha_s=GN_SETTINGS["alpha_s"],
        alpha_x=GN_SETTINGS["alpha_x"],
        alpha_y=GN_SETTINGS["alpha_y"],
    )
    opt, directive_list = opt_factory()
    # GN as the project runs it: a line-search trial whose forward solve fails
    # or is not finite shortens the step (SimPEG's plain inverse problem
    # raises there and ends the run); ZO as a script writes it
    gn = isinstance(opt, optimization.InexactGaussNewton)
    inv_prob = (_CountingInvProblem if gn else inverse_problem.BaseInvProblem)(dmis, reg, opt)
    inv = inversion.BaseInversion(inv_prob, directiveList=directive_list)
    n_data = sum(s.survey.nD for s in sims)
    return inv, inv_prob, n_data, m0, m_true, sims


def _factory(method):
    from simpeg import directives, optimization

    import simpeg_zo
    from simpeg_zo._gn import GN_SETTINGS
    from simpeg_zo._methods import PAPER_OPTIONS

    def make():
        if method.startswith("gn"):
            s = GN_SETTINGS
            opt = optimization.InexactGaussNewton(maxIter=s["max_iter"], cg_maxiter=s["max_iter_cg"])
            dl = [
                directives.BetaEstimate_ByEig(beta0_ratio=s["beta0_ratio"], random_seed=0),
                directives.BetaSchedule(coolingFactor=s["cooling_factor"], coolingRate=s["cooling_rate"]),
                directives.TargetMisfit(chifact=1),
                directives.UpdatePreconditioner(),
            ]
            if method == "gn-bostick":
                dl.insert(0, simpeg_zo.BostickStartingModel())
            return opt, dl
        opt = simpeg_zo.ZohdyOldenburg(maxIter=30, **(PAPER_OPTIONS if method == "zo-paper" else {}))
        # the paper's method: the Bostick start alone, no restart from m0
        start = simpeg_zo.BostickStartingModel(fallback=method != "zo-paper")
        return opt, [start, directives.TargetMisfit(chifact=1)]

    return make


class _Clock:
    """A directive recording (seconds, chi2) at the start and after every iteration."""

    def __new__(cls, t0, n_data):
        from simpeg import directives

        class Clock(directives.InversionDirective):
            def initialize(self):
                self.history = []

            def endIter(self):
                self.history.append((time.perf_counter() - t0, float(self.invProb.phi_d) / n_data))

        return Clock()


def unseen_cells(dmisfit):
    """Cells within the station range the data do not see.

    Deeper than the depth of investigation (the deepest Bostick depth of the
    observed data, interpolated between stations) but not below three times
    the deepest one (the padding), or farther from every station than the
    local skin depth (sqrt(2) times the larger of the cell's depth and the
    shallowest Bostick depth).
    """
    from simpeg_zo._bostick import bostick_depth
    from simpeg_zo._layout import layout_from_misfit
    from simpeg_zo._soundings import sounding_state

    layout = layout_from_misfit(dmisfit)
    rho, _ = sounding_state(layout, layout.dobs)
    ok = np.isfinite(rho) & (rho > 0)
    depth = np.full(rho.size, np.nan)
    depth[ok] = bostick_depth(rho[ok], layout.frequency[ok])
    g = layout.geometry
    x = g.station_x
    doi = np.array([np.nanmax(np.r_[depth[layout.station == k], 0.0]) for k in range(x.size)])
    doi_cell = np.interp(g.cell_x, x, doi)
    nearest = np.abs(g.cell_x[:, None] - x[None, :]).min(axis=1)
    skin = np.sqrt(2) * np.maximum(g.cell_depth, np.nanmin(depth))
    inside = (g.cell_x >= x.min()) & (g.cell_x <= x.max()) & (g.cell_depth < 3 * np.nanmax(doi))
    return inside & ((g.cell_depth > doi_cell) | (nearest > skin))


def run_case(case, method):
    """Run one method on one case; returns its record."""
    import simpeg_zo
    from simpeg_zo._gn import _counting_jacobian_products, _silence

    holder = {}

    def factory():
        opt, dl = _factory(method)()
        holder["opt"] = opt
        return opt, dl

    inv, inv_prob, n_data, m0, m_true, sims = build(case, factory)
    opt = holder["opt"]
    _silence(opt)
    t0 = time.perf_counter()
    opt.clock_start = t0  # ZO's history counts from here (GN's from the clock directive)
    clock = _Clock(t0, n_data)
    inv.directiveList.dList.append(clock)
    clock.inversion = inv
    counts = {"jvec": 0, "jtvec": 0}
    error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if method.startswith("gn"):
                with _counting_jacobian_products(sims, counts):
                    model = inv.run(m0)
            else:
                model = inv.run(m0)
        except Exception as exc:  # a crash is a result too (GN's NaN line search)
            error = f"{type(exc).__name__}: {exc}"
            model = opt.xc if getattr(opt, "xc", None) is not None else m0
    seconds = time.perf_counter() - t0
    history = clock.history
    # the largest change from the start where the data do not see (the start:
    # the Bostick model, or the half-space of gn, or of a zo run that restarted from it)
    starts = [d.model for d in inv.directiveList.dList if isinstance(d, simpeg_zo.BostickStartingModel)]
    start = starts[0] if starts else m0
    if not method.startswith("gn") and any(h["step"] == "restart" for h in opt.history):
        start = m0
    unseen = unseen_cells(inv_prob.dmisfit)
    departure = float(np.max(np.abs(model - start)[unseen]) / np.log(10)) if unseen.any() else 0.0
    if not method.startswith("gn"):
        history = [(h["seconds"], h["chi2"]) for h in opt.history]
        counts = {"jvec": int(opt.jvec_products), "jtvec": int(opt.jtvec_products)}
    chi2 = min((h[1] for h in history), default=np.nan) if error else float(inv_prob.phi_d) / n_data
    _release(sims)
    return {
        "chi2": float(chi2),
        "seconds": seconds,
        "iterations": int(opt.iter),
        "history": history,
        "forward_solves": int(getattr(opt, "forward_solves", 0) or getattr(inv_prob, "forward_count", 0) or 0),
        "jacobian_products": counts,
        "stop_reason": getattr(opt, "stop_reason", None) or ("error" if error else None),
        "error": error,
        "n_data": int(n_data),
        "n_active": int(m0.size),
        "model_log10_rmse": float(np.sqrt(np.mean(((model - m_true) / np.log(10)) ** 2))),
        "unseen_departure_log10": departure,
        "unseen_cells": int(unseen.sum()),
    }


def _release(sims):
    """Free the factorisations a run leaves behind before the next run starts.

    SimPEG's simulations keep one factorisation per frequency (``Ainv``) for
    their Jacobian products; on a 90,000-cell mesh with 13 frequencies and
    two modes that is about 7 GB, held by reference cycles that Python's
    collector may keep through several runs (one suite process was killed
    for memory at 24 GB).
    """
    import gc

    from simpeg_zo._solvers import clear_orderings

    for sim in sims:
        for solver in getattr(sim, "Ainv", None) or []:
            if solver is not None:
                solver.clean()
        sim.__dict__.pop("Ainv", None)
    clear_orderings()
    gc.collect()


def time_to(history, level):
    for seconds, chi2 in history:
        if chi2 <= level * (1 + 1e-9):
            return seconds
    return None


def summarise(record, target=1.0):
    """Per case: the better GN's final chi2, the level, the ratios of the issue's checks.

    ``level``: the better GN's final chi2, not below the target where both
    stop (:func:`simpeg_zo._compare.time_to_gn`'s level); ``speedup``: the
    faster GN's seconds to the level over zo's (None: zo never reached it);
    ``error_over_gn``: zo's model error (log10 RMSE against the true model)
    over the better GN's.
    """
    runs = record["methods"]
    better_gn = min(("gn", "gn-bostick"), key=lambda m: runs[m]["chi2"])
    gn_final = runs[better_gn]["chi2"]
    level = max(target, gn_final)
    gn_times = [time_to(runs[m]["history"], level) for m in ("gn", "gn-bostick")]
    gn_times = [t for t in gn_times if t is not None]
    zo_time = time_to(runs["zo"]["history"], level)
    return {
        "gn_final": gn_final,
        "level": level,
        "zo_over_gn": runs["zo"]["chi2"] / gn_final,
        "zo_over_level": runs["zo"]["chi2"] / level,
        "zo_over_paper": runs["zo"]["chi2"] / runs["zo-paper"]["chi2"],
        # the models' distance from the true model (log10 RMSE), zo over the better GN's
        "error_over_gn": runs["zo"]["model_log10_rmse"] / runs[better_gn]["model_log10_rmse"],
        "speedup": None if zo_time is None or not gn_times else min(gn_times) / max(zo_time, 1e-9),
    }


def describe(case):
    return (
        f"{case['mesh']} {case['modes']} {case['components']} {case['model']['kind']}"
        f"{' topo' if case['topography'] else ''} {case['station_layout']} {case['band']}"
    )


def markdown(results):
    """The per-case table and the summary lines of the issue's checks."""
    lines = [
        "| seed | case | description | data | gn | gn-bostick | zo | zo-paper | zo / GN final | zo / level"
        " | zo / paper | ratio | unseen | model error zo / GN |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summaries = []
    for rec in results:
        s = summarise(rec)
        summaries.append(s)
        m = rec["methods"]
        ratio = "never" if s["speedup"] is None else f"{s['speedup']:.1f}x"
        lines.append(
            f"| {rec['case']['seed']} | {rec['case']['index']} | {describe(rec['case'])} | {m['zo']['n_data']} | "
            + " | ".join(f"{m[k]['chi2']:.3g}" for k in METHODS)
            + f" | {s['zo_over_gn']:.2f} | {s['zo_over_level']:.2f} | {s['zo_over_paper']:.2f} | {ratio}"
            + f" | {m['zo'].get('unseen_departure_log10', float('nan')):.2f} | {s['error_over_gn']:.2f} |"
        )
    if summaries:
        n = len(summaries)
        speed = [s["speedup"] or 0.0 for s in summaries]
        lines += [
            "",
            f"{n} cases: zo at or below zo-paper (within 2 %) in "
            f"{sum(s['zo_over_paper'] <= 1.02 for s in summaries)}; zo <= 1.1x the better GN's final chi2 in "
            f"{sum(s['zo_over_gn'] <= 1.1 for s in summaries)}, <= 1.1x the level (that chi2, not below 1) in "
            f"{sum(s['zo_over_level'] <= 1.1 for s in summaries)}; time to the level against the faster GN: "
            f"median {np.median(speed):.1f}x, worst {min(speed):.2f}x (0: never reached).",
        ]
        above = [s for s in summaries if s["zo_over_gn"] > 1.1]
        if above:
            errors = [s["error_over_gn"] for s in above]
            lines.append(
                f"Where zo ends above 1.1x the better GN's final chi2 ({len(above)} cases), its model is as close"
                f" to the true model or closer (model error within 5 %) in {sum(e <= 1.05 for e in errors)};"
                f" model error zo / GN: median {np.median(errors):.2f}, largest {max(errors):.2f}."
            )
    return "\n".join(lines)


def write_report(seeds):
    """The suite's section of BENCHMARKS.md from ``results/suite-SEED.json``."""
    from _sections import write_section

    parts = [
        "<!-- suite:start -->",
        "## Seeded random suite (benchmarks/suite.py)",
        "",
        "User-style SimPEG scripts drawn at random (mesh by hand, TreeMesh or the builder; layered, blocks,"
        " dikes, faults; uniform, random or clustered stations; half-decade, 2-decade, 5-decade or sparse"
        " bands; TE, TM or joint; rho/phase or impedance parts; 2-5 % noise). All four methods on each case's"
        " own mesh, solver, data and errors, one after another on one machine. Level: the better GN's final"
        " chi2, not below 1; ratio: the faster GN's seconds to the level over zo's. Unseen: the largest"
        " change (decades) from zo's start where the data do not see (below the depth of investigation or"
        " farther than a skin depth from every station, within the station range). Model error zo / GN:"
        " zo's log10-resistivity RMSE against the true model over the better GN's (below 1: zo's model is"
        " closer); GN's lower final chi2 where it ends below the target does not bring its model closer.",
    ]
    for seed in seeds:
        results = json.load(open(os.path.join(HERE, "results", f"suite-{seed}.json")))
        results = [r for r in results if set(METHODS) <= set(r["methods"])]
        parts += ["", f"### Seed {seed}", "", markdown(results)]
    parts.append("<!-- suite:end -->")
    write_section("\n".join(parts), os.path.join(ROOT, "BENCHMARKS.md"), "<!-- suite:start -->", "<!-- suite:end -->")
    print("\n".join(parts))  # noqa: T201


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=str, default="0-29", help="indices, e.g. 0-29 or 0,3,5")
    parser.add_argument("--json", default=None, help="results file (default benchmarks/results/suite-SEED.json)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--redo-errors",
        action="store_true",
        help="run again (all methods) the cases where a method ended in an error",
    )
    parser.add_argument(
        "--report",
        default=None,
        metavar="SEEDS",
        help="write the tables of these seeds' results (e.g. 0,1) into BENCHMARKS.md and stop",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    warnings.simplefilter("ignore")  # SciPy's and SimPEG's notices on every case
    if args.report:
        write_report([int(v) for v in args.report.split(",")])
        return 0
    path = args.json or os.path.join(HERE, "results", f"suite-{args.seed}.json")
    results = json.load(open(path)) if os.path.exists(path) else []
    if "-" in args.cases:
        lo, hi = (int(v) for v in args.cases.split("-"))
        indices = range(lo, hi + 1)
    else:
        indices = [int(v) for v in args.cases.split(",")]
    done = {
        (r["case"]["seed"], r["case"]["index"])
        for r in results
        if not (args.redo_errors and any(m.get("error") for m in r["methods"].values()))
    }
    for index in indices:
        if (args.seed, index) in done:
            continue
        case = draw_case(args.seed, index)
        record = {"case": case, "methods": {}}
        for method in args.methods.split(","):
            record["methods"][method] = run_case(case, method)
            r = record["methods"][method]
            print(  # noqa: T201
                f"case {index} ({describe(case)}): {method} chi2 {r['chi2']:.3f} in {r['seconds']:.1f} s"
                f" ({r['stop_reason']})",
                flush=True,
            )
        # a case run again replaces its earlier record
        results = [r for r in results if r["case"]["index"] != index] + [record]
        results.sort(key=lambda r: r["case"]["index"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
