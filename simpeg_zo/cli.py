"""The ``simpeg-zo`` command line.

Argument parsing, progress and printing only; the work is done by the
library. Results go to stdout; progress, warnings and errors to stderr
(``-v``/``-vv`` for more, ``-q`` for errors only). User mistakes (bad spec
files, unknown methods, impossible values, output paths that cannot be
written, flags that do not apply) print one line to stderr and exit with
code 2 before any simulation; Ctrl-C during ``invert`` or ``compare``
writes the best model so far and exits with code 130; a method that fails
during its iterations (an error after its starting model) has its best
model so far written and the command exits with code 3.

Everything the command changes for its run (logging levels and handlers,
warning filters, BLAS threads) is restored when :func:`main` returns.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np

from ._cli_learned import add_learned_commands
from ._console import (
    UserError,
    add_engine_options,
    check_output_dir,
    check_output_file,
    check_solver,
    load_spec_arg,
    run_settings,
    sigterm_interrupts,
    split_list,
    use_agg,
)

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_FAILED = 3  # a method failed during its iterations; its best model so far was written
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM

#: invert options that only mean something for EDI data
EDI_ONLY = (
    "fmin",
    "fmax",
    "band",
    "strike",
    "azimuth",
    "floor_rho",
    "floor_phase",
    "tipper_floor",
    "static_shift",
    "flat",
    "cells_per_station",
    "skip_bad",
)

#: The demo's survey: block-topo with every second station and every second
#: frequency (21 stations x 31 frequencies, TE+TM); --quick thins it further.
#: The demo's survey: rugged-faults (500 m of relief, a dipping fault, a
#: resistive and two conductive layers), joint TE+TM, every 4th station and
#: frequency: no starting model fits it (the half-space scores chi2 in the
#: hundreds, the Bostick model about 7), so the times are inversion, not
#: start-up. --quick thins it to every 8th.
DEMO = {"spec": "rugged-faults", "station_step": 4, "frequency_step": 4}
DEMO_QUICK = {"spec": "rugged-faults", "station_step": 8, "frequency_step": 8}


def _check_modes(modes):
    modes = [m.upper() for m in modes]
    bad = [m for m in modes if m not in ("TE", "TM", "TIP")]
    if bad or not modes:
        raise UserError(f"--modes: {','.join(modes) or '(none)'} is not a list of TE, TM and TIP (e.g. TE,TM,TIP)")
    if len(set(modes)) < len(modes):
        raise UserError(f"--modes: {','.join(modes)} names a mode twice")
    if set(modes) == {"TIP"}:
        raise UserError("--modes: the tipper (TIP) needs TE or TM beside it, e.g. TE,TM,TIP")
    return modes


def _check_methods(text):
    from ._methods import METHODS

    methods = split_list(text)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise UserError(f"--methods: unknown method(s) {', '.join(bad) or '(none)'}; choose from {', '.join(METHODS)}")
    return methods


def _table(report) -> str:
    head = (
        f"{'method':<11}{'chi2':>8}{'RMS %':>8}{'iter':>6}{'fwd':>6}{'wall s':>9}"
        f"{'t(chi2<=1.5)':>14}{'t(chi2<=1)':>12}{'log10 RMSE':>12}  converged"
    )
    lines = [head, "-" * len(head)]
    for name, m in report["methods"].items():
        s = m["seconds_to_chi2"]

        def fmt(v):
            return "-" if v is None else f"{v:.1f}"

        lines.append(
            f"{name:<11}{m['chi2']:>8.2f}{m['rms_percent']:>8.2f}{m['iterations']:>6d}"
            f"{m['forward_solves']:>6d}{m['wall_seconds']:>9.1f}{fmt(s['1.5']):>14}"
            f"{fmt(s['1']):>12}{m['model_log10_rmse']:>12.3f}  {m['converged']}"
        )
    return "\n".join(lines)


def _speedups(report) -> list:
    timing = report.get("time_to_gn")
    if not timing:
        return []
    out = [
        f"  time to GN's final chi2 ({timing['level']:.3g}; faster GN: "
        + ("never" if timing["gn_seconds"] is None else f"{timing['gn_seconds']:.1f} s")
        + "):"
    ]
    for name, t in timing["seconds"].items():
        ratio = timing["ratio"][name]
        if t is None:
            out.append(f"    {name:<15} never")
        elif name in ("gn", "gn-bostick"):
            out.append(f"    {name:<15} {t:.1f} s")
        else:
            sooner = "" if ratio is None else f": {ratio:.1f}x sooner than the faster GN"
            out.append(f"    {name:<15} {t:.1f} s{sooner}")
    return out


def _learned_errors():
    """Exceptions of the learned methods that are the user's to fix.

    No torch, no such network file, data the network cannot take.
    """
    from .learned import SurveyMismatchError

    return (ImportError, FileNotFoundError, SurveyMismatchError)


def _learned_lines(report) -> list:
    out = []
    for name, m in report["methods"].items():
        if "inference_seconds" in m:
            out.append(f"  {name}: network inference {m['inference_seconds'] * 1000:.0f} ms")
        saved = m.get("iterations_saved")
        if saved:
            to = saved.get("to_chi2_1.5")
            out.append(
                f"  {name} used {saved['total']:+d} fewer iterations than {saved['against']}"
                + ("" if to is None else f" ({to:+d} to chi2 <= 1.5)")
            )
    return out


def _run_compare(
    spec,
    methods,
    *,
    json_path,
    plots,
    max_iter,
    target,
    network=None,
    solver="auto",
    workers=1,
    scheduler=None,
    progress_line=None,
    show_bar=True,
):
    from tqdm.auto import tqdm

    from ._compare import compare
    from ._runs import InversionInterrupted

    stages = ["simulating data", *methods]
    bar = tqdm(total=len(stages), desc="compare", unit="step", file=sys.stderr, disable=not show_bar)
    state = {"n": 0}

    def progress(stage):
        if state["n"]:
            bar.update(1)
        state["n"] += 1
        bar.set_postfix_str(stage)

    if progress_line is not None:
        # each iterate's line on the bar (a second line on stderr would break it)
        progress_line.show = (lambda text: bar.set_postfix_str(text)) if show_bar else (lambda text: None)
    try:
        comparison = compare(
            spec,
            methods,
            target_chi2=target,
            max_iter=max_iter,
            progress=progress,
            estimator=network,
            solver=solver,
            workers=workers,
            scheduler=scheduler,
        )
        bar.update(1)
    except InversionInterrupted as stop:
        if stop.comparison is None:
            raise
        comparison = stop.comparison
    except _learned_errors() as err:
        raise UserError(str(err)) from None
    finally:
        bar.close()
        if progress_line is not None:
            progress_line.show = None
    report = comparison.to_dict()
    print(
        f"{spec.name}: {report['n_stations']} stations x {report['n_frequencies']} frequencies, "
        f"modes {'+'.join(report['modes'])}, {report['n_data']} data, mesh "
        f"{report['mesh_cells'][0]}x{report['mesh_cells'][1]}, solver {report['solver']}, one forward "
        f"{report['forward_seconds']:.2f} s"
    )
    print(_table(report))
    for line in _speedups(report) + _learned_lines(report):
        print(line)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(report, fh, indent=1)
        print(f"report written to {json_path}")
    if plots:
        from .plot import save_comparison_figures

        paths = save_comparison_figures(comparison, plots)
        print("figures: " + ", ".join(paths))
    return report


def _cmd_compare(args):
    methods = _check_methods(args.methods)
    if args.target <= 0:
        raise UserError(f"--target must be > 0, got {args.target}")
    _check_network(args.network, methods)
    modes = _check_modes(split_list(args.modes)) if args.modes else None
    check_output_file("--json", args.json)
    check_output_dir("--plots", args.plots)
    solver = check_solver(args.solver)
    step_s, step_f = args.station_step, args.frequency_step
    if args.quick:
        step_s, step_f = max(step_s, DEMO_QUICK["station_step"]), max(step_f, DEMO_QUICK["frequency_step"])
    spec = load_spec_arg(args.spec, modes=modes, station_step=step_s, frequency_step=step_f)
    report = _run_compare(
        spec,
        methods,
        json_path=args.json,
        plots=args.plots,
        max_iter=args.max_iter,
        target=args.target,
        network=args.network,
        solver=solver,
        workers=args.workers,
        scheduler=args.scheduler,
        progress_line=args.progress_line,
        show_bar=args.verbosity == 0,
    )
    return _interrupted_exit(report)


def _interrupted_exit(report) -> int:
    """0; 130 with one line on stderr when Ctrl-C cut the run short; 3 when a method failed."""
    if not report.get("interrupted"):
        failed = {name: m for name, m in report["methods"].items() if m.get("error")}
        for name, m in failed.items():
            print(
                f"simpeg-zo: {name} failed after {m['iterations']} iterations ({m['error']}); "
                f"its best model so far (chi2 {m['chi2']:.3g}) is in the results",
                file=sys.stderr,
            )
        return EXIT_FAILED if failed else 0
    done = ", ".join(
        f"{name} chi2 {m['chi2']:.3g} after {m['iterations']} iterations" for name, m in report["methods"].items()
    )
    print(f"simpeg-zo: interrupted; results so far written ({done})", file=sys.stderr)
    return EXIT_INTERRUPTED


def _check_network(network, methods):
    from ._invert import LEARNED_METHODS

    if network is not None and not any(m in LEARNED_METHODS for m in methods):
        raise UserError(f"--network applies only to the learned methods ({', '.join(LEARNED_METHODS)})")


def _cmd_demo(args):
    cfg = DEMO_QUICK if args.quick else DEMO
    methods = _check_methods(args.methods)
    check_output_file("--json", args.json)
    check_output_dir("--plots", args.plots)
    solver = check_solver(args.solver)
    spec = load_spec_arg(cfg["spec"], station_step=cfg["station_step"], frequency_step=cfg["frequency_step"])
    print(
        "simpeg-zo demo: SimPEG Gauss-Newton against Zohdy-Oldenburg direct inversion "
        f"on the '{cfg['spec']}' preset (TE+TM)"
    )
    t = time.perf_counter()
    report = _run_compare(
        spec,
        methods,
        json_path=args.json,
        plots=args.plots,
        max_iter=None,
        target=1.0,
        solver=solver,
        workers=args.workers,
        scheduler=args.scheduler,
        progress_line=args.progress_line,
        show_bar=args.verbosity == 0,
    )
    print(f"demo finished in {time.perf_counter() - t:.0f} s")
    return _interrupted_exit(report)


def _is_edi_source(data) -> bool:
    if os.path.isdir(data):
        return True
    return all(p.lower().endswith(".edi") for p in split_list(data)) and bool(split_list(data))


def _given_edi_options(args) -> list:
    """The EDI-only options given on the command line.

    Their defaults are None or False.
    """
    return [
        f"--{name.replace('_', '-')}"
        for name in EDI_ONLY
        if getattr(args, name) is not None and getattr(args, name) is not False
    ]


def _check_invert_args(args):
    """Every check of ``invert`` that needs no data.

    Method, values, output paths, and which options apply to the input.
    Returns whether the input is EDI data.
    """
    from ._invert import INVERT_METHODS
    from ._spec import list_presets

    if args.method not in INVERT_METHODS:
        raise UserError(f"--method: unknown method {args.method!r}; choose from {', '.join(INVERT_METHODS)}")
    if args.target <= 0:
        raise UserError(f"--target must be > 0, got {args.target}")
    _check_network(args.network, [args.method])
    if args.zo_shifts == "on" and args.method not in ("zo", "zo-phase"):
        raise UserError(f"--zo-shifts on applies only to --method zo or zo-phase, not {args.method}")
    edi = _is_edi_source(args.data)
    if not edi and not (os.path.isfile(args.data) or args.data in list_presets()):
        raise UserError(
            f"{args.data}: no such file, folder or preset; give a TOML spec file, a preset name "
            "(see `simpeg-zo presets`), or a folder of EDI files (or comma-separated .edi files)"
        )
    given = [] if edi else _given_edi_options(args)
    if given:
        raise UserError(f"{given[0]} applies only to EDI folders or files, not to {args.data} (a spec or preset)")
    _check_modes(split_list(args.modes))
    if args.tipper_floor is not None and not (np.isfinite(args.tipper_floor) and args.tipper_floor > 0):
        raise UserError(f"--tipper-floor must be > 0, got {args.tipper_floor}")
    for flag, value in (("--fmin", args.fmin), ("--fmax", args.fmax)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise UserError(f"{flag} must be a frequency > 0 Hz, got {value}")
    if args.fmin is not None and args.fmax is not None and args.fmin > args.fmax:
        raise UserError(f"--fmin {args.fmin} is above --fmax {args.fmax}")
    if args.floor_rho is not None and not (np.isfinite(args.floor_rho) and args.floor_rho >= 0):
        raise UserError(f"--floor-rho must be >= 0 percent, got {args.floor_rho}")
    if args.floor_phase is not None and not 0 <= args.floor_phase < 100:
        raise UserError(f"--floor-phase must be in [0, 100) percent, got {args.floor_phase}")
    if args.cells_per_station is not None and args.cells_per_station < 1:
        raise UserError(f"--cells-per-station must be >= 1, got {args.cells_per_station}")
    check_output_file("--json", args.json)
    check_output_dir("--out", args.out or "invert-output")
    return edi


def _cmd_invert(args):
    """Invert field data (EDI folder or files) or a spec's simulated data."""
    from ._invert import LEARNED_METHODS, invert_profile, write_inversion
    from ._runs import InversionInterrupted

    edi = _check_invert_args(args)
    solver = check_solver(args.solver)
    survey = None
    if edi:
        from ._edi import EDIError
        from ._field import read_edi_profile
        from ._profile import TIPPER_ERROR

        source = args.data if os.path.isdir(args.data) else split_list(args.data)
        try:
            profile, survey = read_edi_profile(
                source,
                strike=args.strike,
                line_azimuth=args.azimuth,
                fmin=args.fmin,
                fmax=args.fmax,
                frequency_step=args.frequency_step,
                band=args.band or "screen",
                modes=_check_modes(split_list(args.modes)),
                error_floor=(10.0 if args.floor_rho is None else args.floor_rho) / 100.0,
                phase_floor=_phase_floor(5.0 if args.floor_phase is None else args.floor_phase),
                tipper_floor=TIPPER_ERROR if args.tipper_floor is None else args.tipper_floor,
                static_shift=args.static_shift,
                topography=not args.flat,
                cells_per_station=4 if args.cells_per_station is None else args.cells_per_station,
                skip_bad=args.skip_bad,
                mesh_options={"solver": solver},
            )
        except (EDIError, ValueError) as err:
            raise UserError(str(err)) from None
    else:
        from ._synthetic import synthetic_profile

        spec = load_spec_arg(
            args.data,
            modes=_check_modes(split_list(args.modes)) if args.modes != "TE,TM" else None,
            frequency_step=args.frequency_step,
        )
        profile, _ = synthetic_profile(spec, solver=solver)
    desc = (
        f"{profile.n_stations} stations x {profile.n_frequencies} frequencies, "
        f"modes {'+'.join(profile.modes)}, {profile.n_data} data"
    )
    if survey is not None:
        band = survey.band
        desc += (
            f" ({band['fmax_hz']:.4g}-{band['fmin_hz']:.4g} Hz: {band['rule']}); strike "
            f"{survey.strike:.1f} deg ({'estimated' if survey.strike_estimated else 'given'}), line azimuth "
            f"{survey.line_azimuth:.1f} deg, {len(survey.dropped)} data dropped"
        )
    print(
        f"{args.data}: {desc}; mesh {profile.mesh.shape_cells[0]}x{profile.mesh.shape_cells[1]}, "
        f"solver {profile.solver}"
    )
    if survey is not None and survey.screen:
        print(screen_table(survey))
    sys.stdout.flush()
    interrupted = False
    try:
        shifts = args.zo_shifts == "on"
        result = invert_profile(
            profile,
            args.method,
            target_chi2=args.target,
            max_iter=args.max_iter,
            static_shift=shifts,
            estimator=args.network,
            workers=args.workers,
            scheduler=args.scheduler,
        )
    except InversionInterrupted as stop:
        if stop.result is None:
            raise
        result, interrupted = stop.result, True
    except _learned_errors() as err:
        if args.method in LEARNED_METHODS:
            raise UserError(f"--method {args.method}: {err}") from None
        raise
    if args.progress_line is not None:
        args.progress_line.end()
    out_dir = args.out or "invert-output"
    report = write_inversion(profile, result, out_dir, survey=survey, source=args.data, figures=not args.no_figures)
    print(
        f"{result.method}: chi2 {result.chi2:.3f} (RMS {np.sqrt(result.chi2):.3f}), rho_a RMS "
        f"{result.rms_percent:.1f} %, {result.iterations} iterations, {result.forward_solves} forward "
        f"solves, {result.wall_seconds:.1f} s ({result.stop_reason})"
    )
    parts = report["misfit_by_component"]
    print("chi2 by component: " + ", ".join(f"{k} {v['chi2']:.3g}" for k, v in parts.items() if v["n"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
        print(f"report written to {args.json}")
    print(f"outputs in {out_dir}")
    if interrupted:
        print(
            f"simpeg-zo: interrupted after {result.iterations} iterations; the best model so far "
            f"(chi2 {result.chi2:.3g}) is in {out_dir}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if result.extra.get("error"):
        print(
            f"simpeg-zo: {result.method} failed after {result.iterations} iterations "
            f"({result.extra['error']}); the best model so far (chi2 {result.chi2:.3g}) is in {out_dir}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return 0


def screen_table(survey) -> str:
    """The screen's soundings per reason, one row each, kept ones last."""
    rows = [(reason, c.get("dropped", 0), c.get("down-weighted", 0)) for reason, c in survey.screen.items()]
    kept = survey.n_data // 2
    width = max(len(r[0]) for r in rows + [("soundings kept (with down-weighted ones)", 0, 0)])
    lines = [f"{'screen':<{width}}  dropped  down-weighted"]
    lines += [f"{reason:<{width}}  {n:>7}  {m:>13}" for reason, n, m in rows]
    lines.append(f"{'soundings kept (with down-weighted ones)':<{width}}  {kept:>7}")
    return "\n".join(lines)


def _phase_floor(percent):
    from ._edi import phase_floor_degrees

    if percent < 0 or percent >= 100:
        raise UserError(f"--floor-phase must be in [0, 100) percent, got {percent}")
    return phase_floor_degrees(percent)


def _cmd_presets(args):
    from ._spec import list_presets, load_spec

    for name in list_presets():
        spec = load_spec(name)
        f = spec.frequencies
        print(
            f"{name:<15} {spec.stations.size:>4} stations {spec.stations[0]:.0f}-{spec.stations[-1]:.0f} m, "
            f"{f.size} frequencies {f.max():.3g}-{f.min():.3g} Hz, modes {'+'.join(spec.modes)}"
        )
    return 0


def _verbosity_options(top: bool) -> argparse.ArgumentParser:
    """-v/-q, accepted before and after the command name."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="more messages on stderr: -v every iteration, -vv debugging detail and SimPEG's notes",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="errors only on stderr (results still go to stdout)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _verbosity_options(top=False)
    parser = argparse.ArgumentParser(
        prog="simpeg-zo",
        description="Fast 2D MT inversion for SimPEG: Zohdy-Oldenburg direct inversion "
        "compared side by side with Gauss-Newton. Results go to stdout; progress, warnings "
        "and errors to stderr.",
        parents=[_verbosity_options(top=True)],
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compare", parents=[common], help="simulate a spec once and invert it with several methods")
    p.add_argument("spec", help="a spec file (TOML) or a preset name (see 'simpeg-zo presets')")
    p.add_argument(
        "--methods",
        default="gn,gn-bostick,zo,zo-phase",
        help="comma-separated: gn, gn-bostick, zo, zo-phase, zo-paper, zo-paper-phase, zo-gn, "
        "cnn, cnn-gn, cnn-zo, cnn-zo1 (default gn,gn-bostick,zo,zo-phase)",
    )
    p.add_argument(
        "--modes", default=None, help="override the spec's modes, e.g. TE, TE,TM or TE,TM,TIP (TIP: the tipper)"
    )
    p.add_argument("--json", default=None, help="write the report to this JSON file")
    p.add_argument("--plots", default=None, help="write figures into this folder")
    p.add_argument("--max-iter", type=int, default=None, help="iteration limit of every method")
    p.add_argument("--target", type=float, default=1.0, help="target chi2 (default 1)")
    p.add_argument("--station-step", type=int, default=1, help="use every N-th station")
    p.add_argument("--frequency-step", type=int, default=1, help="use every N-th frequency")
    p.add_argument("--quick", action="store_true", help="thin the survey for a fast look")
    p.add_argument(
        "--network",
        default=None,
        help="network of the cnn* methods: a saved ResNetInverter path or a shipped name (default: the "
        "survey-neutral shipped network, general)",
    )
    add_engine_options(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="GN (from the half-space and from the Bostick model) vs ZO on the "
        "rugged-faults preset, joint TE+TM, with figures",
    )
    p.add_argument("--quick", action="store_true", help="a smaller survey")
    p.add_argument("--methods", default="gn,gn-bostick,zo,zo-phase")
    p.add_argument("--json", default=None)
    p.add_argument("--plots", default="demo-output", help="figure folder (default demo-output)")
    add_engine_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "invert",
        parents=[common],
        help="invert field data (a folder or list of EDI files) or a spec's simulated data",
        description="Invert EDI files (or a spec file / preset's simulated data) with one method "
        "and write the model, predicted data, RMS tables, misfit curve, figures and a JSON report. "
        "Defaults for EDI data: the best-fit line, the phase-tensor strike, the highest frequencies "
        "whose median phase-tensor skew is below 3 deg, TE+TM, floors 10 % / 5 %. "
        "The published Occam2D run of the Paralana profile used --fmin 1.1 --strike 7 --azimuth 97.",
    )
    p.add_argument("data", help="a folder of .edi files, comma-separated .edi files, a spec file or a preset name")
    p.add_argument(
        "--method", default="zo", help="gn, gn-bostick, zo, zo-phase, zo-gn, cnn, cnn-gn, cnn-zo, cnn-zo1 (default zo)"
    )
    p.add_argument(
        "--network",
        default=None,
        help="network of the cnn* methods: a saved ResNetInverter path or a shipped name (default: the "
        "survey-neutral shipped network, general)",
    )
    p.add_argument("--json", default=None, help="also write the report to this JSON file")
    p.add_argument("--out", default=None, help="output folder (default invert-output)")
    p.add_argument("--fmin", type=float, default=None, help="EDI: lowest frequency (Hz) to invert")
    p.add_argument("--fmax", type=float, default=None, help="EDI: highest frequency (Hz) to invert")
    p.add_argument(
        "--band",
        choices=("screen", "skew", "auto", "all"),
        default=None,
        help="EDI: 'screen' (default) keeps every frequency and drops or down-weights each sounding "
        "by its error bar, phase-tensor skew, sounding curve and rho_a-phase consistency, with the "
        "reasons reported; 'skew' (old name 'auto'), without --fmin/--fmax, keeps the highest "
        "frequencies whose median phase-tensor skew is < 3 deg; 'all' keeps every frequency unscreened",
    )
    p.add_argument(
        "--frequency-step", type=int, default=1, help="use every N-th frequency (of the EDI band, or of the spec)"
    )
    p.add_argument("--strike", type=float, default=None, help="EDI: strike (deg E of N); default estimated")
    p.add_argument("--azimuth", type=float, default=None, help="EDI: profile azimuth (deg E of N); default best fit")
    p.add_argument(
        "--modes",
        default="TE,TM",
        help="TE, TM, TE,TM (default); add TIP for the tipper Tzx (EDI TX/TY), e.g. TE,TM,TIP",
    )
    p.add_argument(
        "--floor-rho", type=float, default=None, help="EDI: error floor on apparent resistivity, %% (default 10)"
    )
    p.add_argument(
        "--floor-phase",
        type=float,
        default=None,
        help="EDI: error floor on phase, %% of the impedance: arcsin(p/100) deg (default 5 = 2.866 deg)",
    )
    p.add_argument(
        "--tipper-floor",
        type=float,
        default=None,
        help="EDI: absolute error floor on the tipper's real and imaginary parts (default 0.02)",
    )
    p.add_argument(
        "--static-shift", action="store_true", help="EDI: correct static shifts (spatial median filter) first"
    )
    p.add_argument(
        "--zo-shifts",
        choices=["on", "off"],
        default="off",
        help="zo/zo-phase: also estimate one static-shift factor per station and mode during the "
        "iterations (default off; chi2 stays the model's own misfit, the fit with the shifts is "
        "reported as chi2_with_static_shift)",
    )
    p.add_argument("--flat", action="store_true", help="EDI: ignore station elevations")
    p.add_argument(
        "--cells-per-station", type=int, default=None, help="EDI: core cells per median station interval (default 4)"
    )
    p.add_argument("--skip-bad", action="store_true", help="EDI: leave unreadable EDI files out with a warning")
    p.add_argument("--max-iter", type=int, default=None, help="iteration limit")
    p.add_argument("--target", type=float, default=1.0, help="target chi2 (default 1)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    add_engine_options(p)
    p.set_defaults(func=_cmd_invert)

    p = sub.add_parser("presets", parents=[common], help="list the shipped model specifications")
    p.set_defaults(func=_cmd_presets)

    add_learned_commands(sub, common)
    return parser


def _check_counts(args):
    checked = ("max_iter", "station_step", "frequency_step", "epochs", "shard_size")
    for name in checked + (("workers",) if args.command != "dataset" else ()):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.quiet and args.verbose:
        raise UserError("-q/--quiet and -v/--verbose exclude each other")


def main(argv=None) -> int:
    """Entry point of the ``simpeg-zo`` command.

    Returns the exit code: 0, 2 for a mistake in the input (one line on
    stderr, before any simulation), 3 when a method failed during its
    iterations, 130 after Ctrl-C, 143 after SIGTERM (all three write the
    results found so far). Logging, warning
    filters and BLAS threads are set for the run and restored on return;
    figures use matplotlib's Agg backend unless pyplot is already loaded.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbosity = -1 if args.quiet else min(args.verbose, 2)
    args.progress_line = None
    try:
        _check_counts(args)
    except UserError as err:
        print(f"simpeg-zo: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    use_agg()
    with sigterm_interrupts() as terminated:
        code = _run(args)
    if terminated and code == EXIT_INTERRUPTED:
        code = EXIT_TERMINATED
    return code


def _run(args) -> int:
    from threadpoolctl import threadpool_limits

    with run_settings(args.verbosity) as progress_line:
        args.progress_line = progress_line
        try:
            # SuperLU calls BLAS on small blocks: threads gain nothing and, on a
            # busy machine, spin-waiting OpenBLAS threads slowed factorisations
            # from 0.24 s to over 100 s
            with threadpool_limits(limits=1, user_api="blas"):
                return int(args.func(args) or 0)
        except UserError as err:
            if progress_line is not None:
                progress_line.end()
            print(f"simpeg-zo: error: {err}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            if progress_line is not None:
                progress_line.end()
            print("simpeg-zo: interrupted before a model was ready; nothing written", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # stdout closed early (piped into head): stop quietly, as other tools do
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
