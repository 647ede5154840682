"""Learned starts on field profiles, by the default command's settings.

Each profile is read as ``simpeg-zo invert FOLDER`` reads it (default band,
screen, topography), and each method runs on it one after another in this
process, with a wall-clock limit per run (a run past it is interrupted and
reports its best model, as Ctrl-C does).  Reported per method: the final
chi2, iterations, forward solves, seconds, the network's inference time and
spread, and the seconds to the GN level (the lower final chi2 of ``gn`` and
``gn-bostick``, not below 1) when those ran in the same call.

Usage::

    python benchmarks/learned_field.py ../shared/data/paralana \\
        --methods cnn,cnn-gn,cnn-zo,zo,gn,gn-bostick --limit 3600 \\
        --json benchmarks/results/learned_field_paralana.json
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import warnings

import numpy as np


class _Limit(Exception):
    pass


def _run(profile, method, limit, network):
    import simpeg_zo
    from simpeg_zo._result import InversionInterrupted

    def alarm(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(int(limit))
    t0 = time.perf_counter()
    stopped = False
    try:
        result = simpeg_zo.invert_profile(profile, method, estimator=network)
    except InversionInterrupted as stop:
        result, stopped = stop.result, True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    wall = time.perf_counter() - t0
    if result is None:
        return {"method": method, "error": "stopped before a model", "wall_seconds": wall}
    entry = {
        "method": method,
        "chi2": float(result.chi2),
        "iterations": int(result.iterations),
        "forward_solves": int(result.forward_solves),
        "wall_seconds": float(result.wall_seconds),
        "stop_reason": "time limit" if stopped else result.stop_reason,
        "history": [{"chi2": float(h["chi2"]), "seconds": float(h["seconds"])} for h in result.history],
        "n_data": int(profile.n_data) if hasattr(profile, "n_data") else None,
    }
    for key in ("inference_seconds", "network", "start"):
        if key in result.extra:
            entry[key] = result.extra[key]
    if "spread_log10" in result.extra:
        entry["spread_median"] = float(np.median(result.extra["spread_log10"]))
    return entry


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--methods", default="cnn,cnn-gn,cnn-zo")
    ap.add_argument("--limit", type=float, default=3600.0, help="seconds per run")
    ap.add_argument("--network", default=None)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("simpeg_zo").setLevel(logging.ERROR)
    import simpeg_zo
    from simpeg_zo._compare import time_to_gn

    profile, survey = simpeg_zo.read_edi_profile(args.folder)
    rows = {}
    for method in args.methods.split(","):
        rows[method] = _run(profile, method, args.limit, args.network)
        r = rows[method]
        print(
            f"{method}: chi2 {r.get('chi2', float('nan')):.3f}, {r.get('iterations')} it, "
            f"{r.get('forward_solves')} fwd, {r['wall_seconds']:.1f} s ({r.get('stop_reason')})"
            + (f", inference {1000 * r['inference_seconds']:.0f} ms" if "inference_seconds" in r else ""),
            flush=True,
        )
    levels = time_to_gn({m: r for m, r in rows.items() if "chi2" in r})
    if levels is not None:
        print(json.dumps(levels))
    out = {"folder": args.folder, "runs": rows, "time_to_gn": levels}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
