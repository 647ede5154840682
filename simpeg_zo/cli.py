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

from ._cli_invert import add_invert_command
from ._cli_learned import add_learned_commands
from ._console import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    UserError,
    add_engine_options,
    check_modes,
    check_network,
    check_output_dir,
    check_output_file,
    check_solver,
    learned_errors,
    load_spec_arg,
    run_settings,
    sigterm_interrupts,
    split_list,
    use_agg,
)

__all__ = ["main"]


#: The demo's survey: block-topo with every second station and every second
#: frequency (21 stations x 31 frequencies, TE+TM); --quick thins it further.
#: The demo's survey: rugged-faults (500 m of relief, a dipping fault, a
#: resistive and two conductive layers), joint TE+TM, every 4th station and
#: frequency: no starting model fits it (the half-space scores chi2 in the
#: hundreds, the Bostick model about 7), so the times are inversion, not
#: start-up. --quick thins it to every 8th.
DEMO = {"spec": "rugged-faults", "station_step": 4, "frequency_step": 4}
DEMO_QUICK = {"spec": "rugged-faults", "station_step": 8, "frequency_step": 8}


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


def _write_json_atomically(path, report):
    """``report`` into ``path``, never half written (:func:`simpeg_zo._files.atomic_write`)."""
    from ._files import atomic_write

    with atomic_write(path, "w") as fh:
        json.dump(report, fh, indent=1)


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
    from ._result import InversionInterrupted

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

    def write_so_far(comparison):
        # the methods that finished, so that a killed run keeps them
        _write_json_atomically(json_path, {**comparison.to_dict(), "unfinished": True})

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
            on_result=write_so_far if json_path else None,
        )
        bar.update(1)
    except InversionInterrupted as stop:
        if stop.comparison is None:
            raise
        comparison = stop.comparison
    except learned_errors() as err:
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
        _write_json_atomically(json_path, report)
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
    check_network(args.network, methods)
    modes = check_modes(split_list(args.modes)) if args.modes else None
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

    add_invert_command(sub, common)

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
