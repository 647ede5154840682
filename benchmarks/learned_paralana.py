"""The shipped network that serves the Paralana profile (all 43 frequencies).

Writes ``benchmarks/results/learned_paralana_broadband.json``: chi2 of the
half-space, of the network's model and of ``cnn-zo1`` (one forward-only ZO
correction of it). Needs ``../shared/data/paralana``.
"""

import json
import pathlib
import warnings

import simpeg_zo
from simpeg_zo import learned

RESULTS = pathlib.Path(__file__).parent / "results"
DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "paralana"

if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    profile, survey = simpeg_zo.read_edi_profile(DATA, band="all")
    out = {"n_data": int(profile.n_data), "half_space_chi2": float(profile.chi2(profile.dpred(profile.half_space())))}
    out["network"] = learned.serving_network(profile.data_misfit()).name_
    for method in ("cnn", "cnn-zo1"):
        r = simpeg_zo.run_method(profile, method)
        out[method] = {
            "chi2": r.chi2,
            "forward_solves": r.forward_solves,
            "wall_seconds": r.wall_seconds,
            "inference_seconds": r.extra["inference_seconds"],
        }
    print(json.dumps(out, indent=1))
    (RESULTS / "learned_paralana_broadband.json").write_text(json.dumps(out, indent=1))
