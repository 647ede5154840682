"""Benchmark: the readers' fuzzing of ``tests/test_fuzz.py``, run longer.

The same damage (random truncations; NaN, inf, 1e300 and zero values;
missing and swapped blocks; garbage bytes; impossible coordinates; empty
files; deleted lines) to the tiny spec, to one Paralana EDI file read alone,
and to one EDI file among three good ones read as a survey. Counts the cases
that ended in the reader's error naming the file, in valid data (with drops
reported), and in anything else (a traceback: 0 expected). Writes
``benchmarks/results/fuzz.json`` and the "Fuzzing" section of BENCHMARKS.md.

Usage::

    python benchmarks/fuzz.py [--examples 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

from _sections import write_section  # noqa: E402

START, END = "<!-- fuzz:start -->", "<!-- fuzz:end -->"


def run(examples: int, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from test_fuzz import EDI_TEXT, TINY_SPEC, _check_edi, _check_spec, _check_survey, _survey_folder, damaged

    logging.getLogger("simpeg_zo").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp())
    report = {}

    def counted(name, strategy, check, n):
        counts = {"error naming the file": 0, "valid data": 0, "other exception": 0}
        failures = []

        @hseed(seed)
        @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(raw=strategy)
        def one(raw):
            try:
                outcome = check(raw)
            except Exception:  # a traceback a user would have seen
                counts["other exception"] += 1
                failures.append(traceback.format_exc(limit=3))
                return
            counts["error naming the file" if outcome == "error" else "valid data"] += 1

        t = time.perf_counter()
        one()
        report[name] = {"cases": sum(counts.values()), **counts, "seconds": time.perf_counter() - t}
        report[name]["first_failures"] = failures[:3]
        print(name, report[name])  # noqa: T201

    spec_path, edi_path = work / "damaged.toml", work / "damaged.edi"
    counted("spec parser (load_spec)", damaged(TINY_SPEC), lambda raw: _check_spec(raw, spec_path), examples)
    counted("EDI reader (read_edi)", damaged(EDI_TEXT), lambda raw: _check_edi(raw, edi_path), examples)

    def survey(raw):
        return _check_survey(_survey_folder(work / "edi", raw))

    counted("EDI survey (read_edi_survey, one damaged file of four)", damaged(EDI_TEXT), survey, max(examples // 4, 1))
    shutil.rmtree(work, ignore_errors=True)
    return report


def markdown(report: dict, examples: int, seed: int) -> str:
    lines = [
        START,
        "## Fuzzing of the readers (benchmarks/fuzz.py)",
        "",
        "Hypothesis-generated damage to the tiny spec and to a Paralana EDI file (random truncations; NaN, inf,"
        " 1e300 and zero values; missing and swapped blocks; garbage bytes; impossible coordinates; empty files;"
        f" deleted lines), seed {seed}. `tests/test_fuzz.py` runs the same strategies with fewer cases on every"
        " test run, plus duplicate stations, uneven frequency sets and `invert` on damaged copies of a profile.",
        "",
        "| reader | cases | error naming the file | valid data | other exception (traceback) | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in report.items():
        lines.append(
            f"| {name} | {r['cases']} | {r['error naming the file']} | {r['valid data']} | {r['other exception']} |"
            f" {r['seconds']:.0f} |"
        )
    lines.append(END)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    report = run(args.examples, args.seed)
    with open(HERE / "results" / "fuzz.json", "w") as fh:
        json.dump({"examples": args.examples, "seed": args.seed, "readers": report}, fh, indent=1)
    write_section(markdown(report, args.examples, args.seed), str(ROOT / "BENCHMARKS.md"), START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
