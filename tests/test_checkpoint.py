"""Checkpoints of running inversions: written every iteration, resumed on the same trajectory."""

import pathlib

import numpy as np
import pytest

import simpeg_zo
from simpeg_zo._checkpoint import (
    Checkpoint,
    checkpointing,
    profile_fingerprint,
    read_checkpoint,
    write_checkpoint,
)
from simpeg_zo.cli import main

TINY = (pathlib.Path(__file__).parent / "tiny_te.toml").read_text()


@pytest.fixture(scope="module")
def tiny():
    profile, _ = simpeg_zo.synthetic_profile(simpeg_zo.parse_spec(TINY))
    return profile


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    path = tmp_path / "c.npz"
    ck = Checkpoint(np.arange(4.0), 3, 1.5, "gn", "gn", 0.25, "abc", reference=np.ones(4))
    write_checkpoint(path, ck)
    back = read_checkpoint(path)
    assert (back.iteration, back.chi2, back.method, back.stage, back.beta, back.fingerprint) == (
        3,
        1.5,
        "gn",
        "gn",
        0.25,
        "abc",
    )
    np.testing.assert_array_equal(back.model, ck.model)
    np.testing.assert_array_equal(back.reference, ck.reference)
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # written through a temporary file, then renamed
    write_checkpoint(path, Checkpoint(np.r_[0.0, np.nan], 1, 1.0, "zo", "zo", np.nan, "abc"))
    with pytest.raises(ValueError, match="c.npz: the checkpoint's model is not a finite vector"):
        read_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="c.npz: not a readable checkpoint"):
        read_checkpoint(path)


def test_fingerprint_tells_other_data_apart(tiny):
    a = profile_fingerprint(tiny, "gn")
    assert a == profile_fingerprint(tiny, "gn")
    assert a != profile_fingerprint(tiny, "zo")
    mode = next(iter(tiny.data))
    saved = tiny.data[mode].dobs.copy()
    try:
        tiny.data[mode].dobs[0] *= 1.01
        assert profile_fingerprint(tiny, "gn") != a
    finally:
        tiny.data[mode].dobs[:] = saved


@pytest.mark.parametrize("method", ["gn", "zo"])
def test_resumed_run_goes_on_from_the_checkpoint(tiny, tmp_path, method):
    """Two iterations with a checkpoint, then the rest from it: GN continues
    its own trajectory (same model, cooled beta and reference: the same
    chi2 at every later iteration as an uninterrupted run); ZO goes on from
    the model and reaches the target."""
    path = tmp_path / "c.npz"
    fingerprint = profile_fingerprint(tiny, method)
    with checkpointing(path, method, fingerprint):
        first = simpeg_zo.run_method(tiny, method, max_iter=2, target_chi2=1e-6)
    ck = read_checkpoint(path)
    assert ck.iteration == 2 and ck.method == method and ck.fingerprint == fingerprint
    np.testing.assert_allclose(ck.chi2, first.chi2, rtol=1e-10)
    np.testing.assert_allclose(ck.model, first.model, rtol=1e-12)
    with checkpointing(path, method, fingerprint, iteration_offset=ck.iteration):
        resumed = simpeg_zo.run_method(tiny, method, max_iter=5, resume_from=ck)
    assert resumed.extra["resumed_from"]["iteration"] == 2
    assert resumed.iterations <= 3  # the iterations left of max_iter
    np.testing.assert_allclose(resumed.history[0]["chi2"], ck.chi2, rtol=1e-10)  # it starts where the first stopped
    assert read_checkpoint(path).iteration == 2 + resumed.iterations
    if method == "gn":
        whole = simpeg_zo.run_method(tiny, "gn", max_iter=5)
        later = [h["chi2"] for h in whole.history if h["iteration"] > 2]
        np.testing.assert_allclose([h["chi2"] for h in resumed.history[1:]], later[: resumed.iterations], rtol=1e-6)
        assert resumed.chi2 == pytest.approx(whole.chi2, rel=1e-6)
    else:
        assert resumed.chi2 < ck.chi2
    with pytest.raises(ValueError, match="iteration limit"):
        simpeg_zo.run_method(tiny, method, max_iter=2, resume_from=ck)
    with pytest.raises(ValueError, match="does not resume"):
        simpeg_zo.run_method(tiny, "zo-gn", resume_from=ck)


def test_invert_resumes_an_unfinished_run_and_guards_other_checkpoints(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out = tmp_path / "out"
    args = ["invert", str(spec), "--method", "gn", "--out", str(out), "--no-figures"]
    # a run killed after two iterations leaves its checkpoint: as if --max-iter 2 had been cut short
    assert main([*args, "--max-iter", "2", "--target", "1e-6"]) == 0
    assert not (out / "checkpoint.npz").exists()  # a finished run removes it
    profile, _ = simpeg_zo.synthetic_profile(simpeg_zo.parse_spec(TINY))
    fingerprint = profile_fingerprint(profile, "gn", 1.0, False)
    with checkpointing(out / "checkpoint.npz", "gn", fingerprint):
        simpeg_zo.run_method(profile, "gn", max_iter=2, target_chi2=1e-6)
    capsys.readouterr()
    # another method, or a corrupt file: exit 2 and the file is left as it was
    assert main([*args[:2], "--method", "zo", *args[4:]]) == 2
    assert "checkpoint of another run" in capsys.readouterr().err
    assert (out / "checkpoint.npz").exists()
    # the same command resumes, and the finished run removes the checkpoint
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "resuming gn from" in captured.err and "iteration 2" in captured.err
    assert "resumed after iteration 2" in captured.out
    assert not (out / "checkpoint.npz").exists()
    (out / "checkpoint.npz").write_bytes(b"garbage")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not a readable checkpoint" in err and "--fresh" in err
    assert main([*args, "--fresh"]) == 0


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    from simpeg_zo._files import atomic_write

    path = tmp_path / "r.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path, "w") as fh:
        fh.write("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]
    with atomic_write(path, "w") as fh:
        fh.write("new")
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["r.json"]
