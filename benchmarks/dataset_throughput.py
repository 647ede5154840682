"""Training-set throughput with 1 and 2 Dask workers, measured back to back.

Produces the same samples of the block-topo training set into two temporary
folders, once on a one-worker and once on a two-worker local cluster, and
prints samples per minute (total and per worker).  Cluster start-up is
included (it is part of what a user waits for).

Usage::

    python benchmarks/dataset_throughput.py --samples 24
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tempfile
import warnings

warnings.filterwarnings("ignore")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results" / "dataset_throughput.json"))
    args = parser.parse_args(argv)

    import simpeg_zo
    from simpeg_zo.learned import DatasetConfig, produce_dataset

    config = DatasetConfig.from_spec(simpeg_zo.load_spec("block-topo"), shard_size=4)
    rows = []
    for n in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            r = produce_dataset(tmp, config, train=args.samples, workers=n)
        r["samples_per_minute"] = r["samples"] / (r["seconds"] / 60.0)
        rows.append(r)
        print(
            f"{n} worker(s): {r['samples']} samples in {r['seconds']:.1f} s = {r['samples_per_minute']:.1f} "
            f"samples/min, {r['samples_per_minute_per_worker']:.1f} per worker"
        )
    if len(rows) > 1:
        print(f"speed-up {rows[-1]['samples_per_minute'] / rows[0]['samples_per_minute']:.2f}x")
    pathlib.Path(args.out).write_text(json.dumps({"config": config.survey, "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
