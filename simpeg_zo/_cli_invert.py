"""The ``invert`` command: field data (EDI) or a spec's simulated data, one method, outputs written."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from ._console import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    UserError,
    add_engine_options,
    check_modes,
    check_network,
    check_output_dir,
    check_output_file,
    check_solver,
    learned_errors,
    load_spec_arg,
    split_list,
)

__all__ = ["CHECKPOINT_FILE", "add_invert_command", "screen_table"]

#: The checkpoint of a running ``invert``, in its output folder.
CHECKPOINT_FILE = "checkpoint.npz"

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
    check_network(args.network, [args.method])
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
    check_modes(split_list(args.modes))
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
    from ._result import InversionInterrupted

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
                modes=check_modes(split_list(args.modes)),
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
            modes=check_modes(split_list(args.modes)) if args.modes != "TE,TM" else None,
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
    out_dir = args.out or "invert-output"
    shifts = args.zo_shifts == "on"
    checkpoint = _Checkpointing(args, profile, out_dir, shifts)
    sys.stdout.flush()
    interrupted = False
    if args.method in LEARNED_METHODS and profile.n_stations < 2:
        raise UserError(
            f"--method {args.method} needs at least two stations (the network reads pseudo-sections), "
            f"got {profile.n_stations}; zo or gn invert a single station"
        )
    try:
        with checkpoint.active():
            result = invert_profile(
                profile,
                args.method,
                target_chi2=args.target,
                max_iter=args.max_iter,
                static_shift=shifts,
                estimator=args.network,
                workers=args.workers,
                scheduler=args.scheduler,
                resume_from=checkpoint.resume_from,
            )
    except InversionInterrupted as stop:
        if stop.result is None:
            raise
        result, interrupted = stop.result, True
    except learned_errors() as err:
        if args.method in LEARNED_METHODS:
            raise UserError(f"--method {args.method}: {err}") from None
        raise
    if args.progress_line is not None:
        args.progress_line.end()
    report = write_inversion(profile, result, out_dir, survey=survey, source=args.data, figures=not args.no_figures)
    print(
        f"{result.method}: chi2 {result.chi2:.3f} (RMS {np.sqrt(result.chi2):.3f}), rho_a RMS "
        f"{result.rms_percent:.1f} %, {result.iterations} iterations, {result.forward_solves} forward "
        f"solves, {result.wall_seconds:.1f} s ({result.stop_reason})"
        + (f"; resumed after iteration {checkpoint.resume_from.iteration}" if checkpoint.resume_from else "")
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
            f"(chi2 {result.chi2:.3g}) is in {out_dir}{checkpoint.resume_note()}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if result.extra.get("error"):
        print(
            f"simpeg-zo: {result.method} failed after {result.iterations} iterations "
            f"({result.extra['error']}); the best model so far (chi2 {result.chi2:.3g}) is in {out_dir}"
            f"{checkpoint.resume_note()}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    checkpoint.finished()
    return 0


class _Checkpointing:
    """``invert``'s checkpoint: ``OUT/checkpoint.npz``, written after every iteration of a resumable method.

    Where ``OUT`` holds the checkpoint of an unfinished run of the same
    method, data, mesh and target, the run resumes from it (unless
    ``--fresh``); a checkpoint of another run is a usage error, so that
    nothing a user made is overwritten unasked. A run that ends normally
    removes it.
    """

    def __init__(self, args, profile, out_dir, shifts):
        from ._checkpoint import profile_fingerprint, read_checkpoint
        from ._methods import RESUMABLE, check_resume

        self.path = os.path.join(out_dir, CHECKPOINT_FILE)
        self.method = args.method
        self.enabled = args.method in RESUMABLE
        self.fingerprint = profile_fingerprint(profile, args.method, float(args.target), shifts)
        self.resume_from = None
        if not (self.enabled and os.path.exists(self.path)) or args.fresh:
            return
        try:
            found = read_checkpoint(self.path)
        except ValueError as err:
            raise UserError(f"{err}; give --fresh to start afresh (the file is then replaced)") from None
        if found.fingerprint != self.fingerprint or found.method != args.method:
            raise UserError(
                f"{self.path}: the checkpoint of another run (method {found.method!r}, or other data, mesh, "
                "target or --zo-shifts); give --fresh to start afresh and replace it, or another --out"
            )
        try:
            check_resume(args.method, found, args.max_iter)
        except ValueError as err:
            raise UserError(f"{self.path}: {err} (--max-iter); or give --fresh to start afresh") from None
        self.resume_from = found
        print(
            f"resuming {args.method} from {self.path}: iteration {found.iteration}, chi2 {found.chi2:.3g}",
            file=sys.stderr,
        )

    def active(self):
        from contextlib import nullcontext

        from ._checkpoint import checkpointing

        if not self.enabled:
            return nullcontext()
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        offset = 0 if self.resume_from is None else self.resume_from.iteration
        return checkpointing(self.path, self.method, self.fingerprint, iteration_offset=offset)

    def resume_note(self) -> str:
        if not (self.enabled and os.path.exists(self.path)):
            return ""
        return f"; rerun the same command to resume from its checkpoint ({self.path})"

    def finished(self):
        if self.enabled and os.path.exists(self.path):
            os.remove(self.path)


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


def _finite_angle(text: str) -> float:
    """An angle in degrees from the command line (argparse: a clear error, exit 2, where it is not finite)."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of degrees, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number of degrees, got {text!r}")
    return value


def add_invert_command(sub, common) -> None:
    """Add ``invert`` to the subcommands ``sub``."""
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
    p.add_argument("--strike", type=_finite_angle, default=None, help="EDI: strike (deg E of N); default estimated")
    p.add_argument(
        "--azimuth", type=_finite_angle, default=None, help="EDI: profile azimuth (deg E of N); default best fit"
    )
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
    p.add_argument(
        "--fresh",
        action="store_true",
        help="start afresh even where OUT holds the checkpoint of an unfinished run (it is replaced); "
        "without it, rerunning the same command resumes from that checkpoint",
    )
    add_engine_options(p)
    p.set_defaults(func=_cmd_invert)
