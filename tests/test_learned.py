"""Learned inversion: families, training-set production, network, SimPEG use."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

from simpeg_zo import build_profile
from simpeg_zo.learned import (
    HELD_OUT_FAMILIES,
    TRAINING_FAMILIES,
    DatasetConfig,
    ResistivityClasses,
    SurveyMismatchError,
    default_depth_edges,
    design_classes,
    draw_parameters,
    load_dataset,
    paint,
    produce_dataset,
    pseudo_sections,
    resample_sections,
)

torch = pytest.importorskip("torch")

from simpeg_zo.learned import (  # noqa: E402
    CNNStartingModel,
    LearnedInversion,
    ResNet50UNet,
    ResNetInverter,
    cnn_model,
    dice_coefficient,
    expected_log10_loss,
    soft_dice_loss,
    train_network,
)


def tiny_config(**kw):
    kw.setdefault("shard_size", 2)
    return DatasetConfig(
        stations=np.linspace(0.0, 800.0, 5),
        frequencies=np.array([1000.0, 100.0, 10.0]),
        depth_edges=default_depth_edges(800.0, 8),
        **kw,
    )


# ------------------------------------------------------------- families
def _grid_distance(values, lo, hi, steps):
    grid = np.linspace(lo, hi, steps)
    step = grid[1] - grid[0]
    return np.min(np.abs(np.asarray(values)[:, None] - grid[None, :]), axis=1) / step


def _resistivities(params):
    out = list(params["layers"]["resistivities"])
    out += [b["resistivity"] for b in params.get("blocks", [])]
    return out


def test_training_values_on_grid_and_held_out_values_between():
    rng = np.random.default_rng(0)
    train = [draw_parameters(rng, span=4000, depth_max=4000, perturbation=0.25) for _ in range(200)]
    test = [draw_parameters(rng, span=4000, depth_max=4000, held_out=True) for _ in range(200)]
    rho_train = np.log10(np.concatenate([_resistivities(p) for p in train]))
    rho_test = np.log10(np.concatenate([_resistivities(p) for p in test]))
    assert _grid_distance(rho_train, 0.5, 3.5, 7).max() <= 0.25 + 1e-9
    assert _grid_distance(rho_test, 0.5, 3.5, 7).min() >= 0.4 - 1e-9
    assert {p["family"] for p in train} == set(TRAINING_FAMILIES)
    assert set(HELD_OUT_FAMILIES) <= {p["family"] for p in test}


def test_half_step_perturbation_covers_the_values_between_the_steps():
    rng = np.random.default_rng(1)
    train = [draw_parameters(rng, span=4000, depth_max=4000, perturbation=0.5) for _ in range(300)]
    dist = _grid_distance(np.log10(np.concatenate([_resistivities(p) for p in train])), 0.5, 3.5, 7)
    assert dist.max() <= 0.5 + 1e-9
    # uniform over [0, 0.5]: the untrained band of the default (0.25-0.5) holds about half
    assert 0.4 < np.mean(dist > 0.25) < 0.6
    with pytest.raises(ValueError, match="perturbation"):
        tiny_config(perturbation=0.7)


def test_design_classes_centre_the_steps_and_the_held_out_midpoints():
    classes = design_classes((0.5, 3.5))
    assert classes.n_classes == 13
    np.testing.assert_allclose(np.diff(classes.edges), 0.25)
    np.testing.assert_allclose(classes.centres, np.arange(0.5, 3.51, 0.25))  # steps and midpoints
    rng = np.random.default_rng(2)
    test = [draw_parameters(rng, span=4000, depth_max=4000, held_out=True) for _ in range(200)]
    rho = np.log10(np.concatenate([_resistivities(p) for p in test]))
    edge = np.min(np.abs(rho[:, None] - classes.edges[None, :]), axis=1)
    # midpoint +- 0.1 step: at least 0.125 - 0.05 decade from any edge
    assert edge.min() >= 0.075 - 1e-9
    # the classes of the same width with edges on the steps put every held-out value near an edge
    shifted = ResistivityClasses((0.5, 3.5), 12)
    assert np.min(np.abs(rho[:, None] - shifted.edges[None, :]), axis=1).max() <= 0.05 + 1e-9
    with pytest.raises(ValueError, match="log10_resistivity"):
        design_classes((2.0, 1.0))


def test_a_set_made_before_a_setting_existed_resumes(tmp_path):
    import json

    config = tiny_config(perturbation=0.25)  # the setting of the first sets
    produce_dataset(tmp_path, config, train=2, workers=0)
    manifest = tmp_path / "dataset.json"
    d = json.loads(manifest.read_text())
    del d["config"]["perturbation"]  # as written before the setting existed
    manifest.write_text(json.dumps(d))
    assert load_dataset(tmp_path).config.perturbation == 0.25
    assert produce_dataset(tmp_path, config, train=2, workers=0)["skipped"] == 2
    with pytest.raises(ValueError, match="perturbation"):
        produce_dataset(tmp_path, tiny_config(), train=2, workers=0)  # today's default, 0.5


def test_paint_layers_and_transition_layers():
    params = {"family": "layers", "layers": {"depths": [100.0], "resistivities": [10.0, 1000.0], "transitions": [3]}}
    depth = np.array([10.0, 99.0, 101.0, 120.0, 149.0, 151.0, 500.0])
    rho = paint(params, np.zeros_like(depth), depth)
    # three 50/3 m transition steps at 1/4, 2/4, 3/4 of the way in log10
    np.testing.assert_allclose(np.log10(rho), [1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0])


def test_paint_fault_throw_and_block():
    params = {
        "family": "fault",
        "layers": {"depths": [200.0], "resistivities": [10.0, 1000.0], "transitions": [0]},
        "fault": {"x": 1000.0, "dip": 90.0, "throw": 300.0, "side": 1},
    }
    x = np.array([500.0, 500.0, 1500.0, 1500.0])
    z = np.array([150.0, 250.0, 450.0, 550.0])
    np.testing.assert_allclose(paint(params, x, z), [10.0, 1000.0, 10.0, 1000.0])
    params = {
        "family": "blocks",
        "layers": {"depths": [], "resistivities": [100.0], "transitions": []},
        "blocks": [{"x": 1000.0, "length": 400.0, "top": 100.0, "thickness": 50.0, "resistivity": 5.0}],
    }
    np.testing.assert_allclose(paint(params, [1000.0, 1000.0, 1300.0], [120.0, 200.0, 120.0]), [5.0, 100.0, 100.0])


# ------------------------------------------------------------- dataset
def test_dataset_resumes_and_does_not_depend_on_sharding(tmp_path):
    a = produce_dataset(tmp_path / "a", tiny_config(shard_size=2), train=3, test=2, workers=0)
    assert a["samples"] == 5 and a["skipped"] == 0
    again = produce_dataset(tmp_path / "a", tiny_config(shard_size=2), train=3, test=2, workers=0)
    assert again["samples"] == 0 and again["skipped"] == 5
    # a damaged shard is simulated again, the others are kept
    shard = tmp_path / "a" / "train" / "shard-00001.npz"
    shard.write_bytes(shard.read_bytes()[:100])
    fixed = produce_dataset(tmp_path / "a", tiny_config(shard_size=2), train=3, test=2, workers=0)
    assert fixed["samples"] == 1 and fixed["skipped"] == 4
    b = produce_dataset(tmp_path / "b", tiny_config(shard_size=3), train=3, test=2, workers=0)
    assert b["samples"] == 5
    da, db = load_dataset(tmp_path / "a"), load_dataset(tmp_path / "b")
    np.testing.assert_array_equal(da.data, db.data)
    np.testing.assert_array_equal(da.labels, db.labels)
    assert da.params == db.params
    assert load_dataset(tmp_path / "a", "test").data.shape == (2, 2, 2, 3, 5)
    with pytest.raises(ValueError, match="different 'seed'"):
        produce_dataset(tmp_path / "a", tiny_config(seed=1), train=3, workers=0)


def test_dataset_on_dask_workers(tmp_path):
    pytest.importorskip("dask.distributed")
    out = produce_dataset(tmp_path / "d", tiny_config(), train=2, test=0, workers=1)
    assert out["samples"] == 2 and out["workers"] == 1 and out["samples_per_minute_per_worker"] > 0
    serial = produce_dataset(tmp_path / "s", tiny_config(), train=2, test=0, workers=0)
    assert serial["samples"] == 2
    np.testing.assert_array_equal(load_dataset(tmp_path / "d").data, load_dataset(tmp_path / "s").data)


def test_half_space_sample_is_a_half_space(tmp_path):
    """A simulated half-space gives rho_a = rho and 45 degree phases."""
    profile = build_profile(np.linspace(0, 800, 5), [1000.0, 100.0, 10.0], resistivity_range=(100, 100))
    d = profile.dpred(profile.model_from_resistivity(100.0))
    data = np.stack(
        [
            np.stack([profile.split(d[m], m)["apparent_resistivity"], profile.split(d[m], m)["phase"]])
            for m in ("TE", "TM")
        ]
    )
    x = pseudo_sections(data)
    np.testing.assert_allclose(x[[0, 2]], 2.0, atol=0.01)
    np.testing.assert_allclose(x[[1, 3]], 45.0, atol=1.0)


# ------------------------------------------------------------- sections
def test_resampling_preserves_a_half_space():
    f = np.logspace(3, -1, 17)
    x = np.linspace(0, 4000, 41)
    sections = np.stack([np.full((17, 41), v) for v in (2.0, 45.0, 2.0, 45.0)])
    sections[0, 3, 5] = np.nan  # a missing datum is filled
    out = resample_sections(sections, f, x + 1000.0, np.logspace(3, -1, 6), np.linspace(0, 4000, 11))
    assert out.shape == (4, 6, 11)
    np.testing.assert_allclose(out[[0, 2]], 2.0)
    np.testing.assert_allclose(out[[1, 3]], 45.0)


def test_resampling_is_linear_in_log_frequency():
    f = np.logspace(3, -1, 5)
    x = np.linspace(0, 1000, 3)
    lin = np.log10(f)[:, None] + 0 * x
    sections = np.stack([lin, lin, lin, lin])
    gf = np.logspace(2.5, -0.5, 4)
    out = resample_sections(sections, f, x, gf, x)
    np.testing.assert_allclose(out[0], np.log10(gf)[:, None] + 0 * x)


def test_resampling_refuses_data_outside_the_network_grid():
    sections = np.zeros((4, 3, 3))
    with pytest.raises(SurveyMismatchError, match="do not cover"):
        resample_sections(sections, [100, 10, 1], [0, 500, 1000], [1000, 100, 10, 1, 0.1], [0, 500, 1000])
    with pytest.raises(SurveyMismatchError, match="long"):
        resample_sections(sections, [100, 10, 1], [0, 500, 1000], [100, 10, 1], [0, 2000, 4000])


def test_classes_round_trip():
    c = ResistivityClasses((0.5, 3.5), 12)
    np.testing.assert_array_equal(c.classify(c.centres), np.arange(12))
    assert c.classify([-5.0])[0] == 0 and c.classify([9.0])[0] == 11
    onehot = np.eye(12)[None, :, :]  # (1, classes, 12 cells)
    np.testing.assert_allclose(c.expected_log10(onehot)[0], c.centres)


# ------------------------------------------------------------- network
def test_resnet50_structure():
    net = ResNet50UNet(4, 5, (16, 9), width=0.0625)
    assert [len(s) for s in net.stages] == [3, 4, 6, 3]
    assert net.stages[3][0].conv3.out_channels == 4 * 8 * 4  # 8x base width, expansion 4
    y = net(torch.zeros(2, 4, 5, 9))
    assert y.shape == (2, 5, 16, 9)


def test_dice_of_a_perfect_prediction_is_one():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 6, size=(3, 8, 7))
    assert dice_coefficient(truth, truth, 6) == 1.0
    assert dice_coefficient((truth + 1) % 6, truth, 6) == 0.0
    logits = 50.0 * torch.nn.functional.one_hot(torch.from_numpy(truth), 6).movedim(-1, 1).double()
    assert float(soft_dice_loss(logits, torch.from_numpy(truth))) < 1e-6
    assert float(soft_dice_loss(torch.zeros_like(logits), torch.from_numpy(truth))) > 0.5


def test_expected_log10_loss_is_the_error_of_the_expected_model_in_class_widths():
    classes = ResistivityClasses((0.5, 3.5), 6)  # 0.5-decade classes
    centres = torch.from_numpy(classes.centres)
    k = torch.tensor([[[1, 4], [2, 2]]])
    sharp = 60.0 * torch.nn.functional.one_hot(k, 6).movedim(-1, 1).double()
    truth = centres[k]
    assert float(expected_log10_loss(sharp, truth, centres)) < 1e-12
    # a model one class too high everywhere is one class width off
    assert float(expected_log10_loss(sharp, truth - 0.5, centres)) == pytest.approx(1.0)
    # even probabilities give the mid-range, whatever the truth
    flat = torch.zeros_like(sharp)
    mid = torch.full_like(truth, 2.0)
    assert float(expected_log10_loss(flat, mid, centres)) < 1e-12
    assert float(expected_log10_loss(flat, mid + 0.25, centres)) == pytest.approx(0.5)


def test_combined_losses_are_the_sums_of_their_terms():
    from simpeg_zo._cli_learned import LOSS_NAMES
    from simpeg_zo.learned import LOSSES

    assert tuple(LOSSES) == LOSS_NAMES  # the CLI lists them without importing torch
    rng = np.random.default_rng(3)
    centres = torch.from_numpy(ResistivityClasses((0.5, 3.5), 6).centres)
    logits = torch.from_numpy(rng.standard_normal((2, 6, 4, 5)))
    k = torch.from_numpy(rng.integers(0, 6, (2, 4, 5)))
    log10 = centres[k] + 0.1
    dice = float(soft_dice_loss(logits, k))
    ce = float(torch.nn.functional.cross_entropy(logits, k))
    reg = float(expected_log10_loss(logits, log10, centres))
    assert min(dice, ce, reg) > 0.0
    expected = {
        "dice": dice,
        "cross-entropy": ce,
        "dice+cross-entropy": dice + ce,
        "dice+regression": dice + reg,
        "dice+cross-entropy+regression": dice + ce + reg,
    }
    for name, value in expected.items():
        assert float(LOSSES[name](logits, k, log10, centres)) == pytest.approx(value), name


def test_regression_term_makes_the_continuous_model_more_accurate():
    X, y = _toy_problem(48)
    Xv, yv = _toy_problem(24, seed=5)
    dice = _tiny(epochs=12, learning_rate=1e-2, seed=2).fit(X, y, validation=(Xv, yv))
    both = _tiny(epochs=12, learning_rate=1e-2, seed=2, loss="dice+regression").fit(X, y, validation=(Xv, yv))
    assert {"dice", "rms_log10"} <= set(both.history_[-1])
    rms = np.sqrt(np.mean((both.predict(Xv) - yv) ** 2))
    assert rms == pytest.approx(both.history_[-1]["rms_log10"])
    assert rms < np.sqrt(np.mean((dice.predict(Xv) - yv) ** 2))


def _toy_problem(n=24, seed=0):
    """Sections whose level sets the label: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(1.0, 3.0, n)
    X = np.stack(
        [
            np.stack([np.full((3, 5), v), np.full((3, 5), 45.0), np.full((3, 5), v), np.full((3, 5), 45.0)])
            for v in level
        ]
    ) + 0.01 * rng.standard_normal((n, 4, 3, 5))
    y = np.repeat(level[:, None, None], 8, 1).repeat(5, 2)
    return X, y


def _tiny(**kw):
    kw = {"width": 0.0625, "n_classes": 6, "log10_range": (0.5, 3.5), "epochs": 3, "batch_size": 8, "threads": 1, **kw}
    return ResNetInverter(**kw)


def test_seeded_training_is_deterministic():
    X, y = _toy_problem()
    a = _tiny(seed=3).fit(X, y).predict(X)
    b = _tiny(seed=3).fit(X, y).predict(X)
    c = _tiny(seed=4).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0


def test_combined_networks_predict_the_mean_probabilities_and_round_trip(tmp_path):
    X, y = _toy_problem()
    a, b = _tiny(seed=3).fit(X, y), _tiny(seed=4, loss="dice+regression").fit(X, y)
    both = ResNetInverter.combine([a, b])
    assert both.members == 2 and both.loss == "dice | dice+regression"
    np.testing.assert_allclose(both.predict_proba(X), 0.5 * (a.predict_proba(X) + b.predict_proba(X)), atol=1e-5)
    loaded = ResNetInverter.load(both.save(tmp_path / "both"))
    np.testing.assert_allclose(loaded.predict(X), both.predict(X), atol=1e-6)
    with pytest.raises(ValueError, match="members=1"):
        loaded.fit(X, y)
    with pytest.raises(ValueError, match="at least two"):
        ResNetInverter.combine([a])
    other = _tiny(seed=3).fit(X + 1.0, y)  # other input normalisation: other data
    with pytest.raises(ValueError, match="normalisation"):
        ResNetInverter.combine([a, other])


def test_combine_cli_writes_one_network_and_refuses_mismatches(tmp_path, capsys):
    from simpeg_zo.cli import main

    X, y = _toy_problem()
    _tiny(seed=3).fit(X, y).save(tmp_path / "a")
    _tiny(seed=4).fit(X, y).save(tmp_path / "b")
    _tiny(seed=3).fit(X + 1.0, y).save(tmp_path / "c")
    assert main(["combine", str(tmp_path / "ab"), str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    assert ResNetInverter.load(tmp_path / "ab.json").members == 2
    capsys.readouterr()
    assert main(["combine", str(tmp_path / "ac"), str(tmp_path / "a.json"), str(tmp_path / "c.json")]) == 2
    assert "normalisation" in capsys.readouterr().err and not (tmp_path / "ac.pt").exists()
    assert main(["combine", str(tmp_path / "ax"), str(tmp_path / "a.json"), str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_training_learns_and_save_load_round_trips(tmp_path):
    X, y = _toy_problem(48)
    est = _tiny(epochs=15, learning_rate=1e-2).fit(X, y)
    assert est.history_[-1]["loss"] < est.history_[0]["loss"]
    assert est.score(X, y) > 0.3
    est.save(tmp_path / "net")
    loaded = ResNetInverter.load(tmp_path / "net.json")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.get_params()["n_classes"] == 6
    proba = est.predict_proba(X[:2])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_mirror_average_makes_predictions_mirror_symmetric():
    X, y = _toy_problem()
    X[:, :, :, 0] += 0.5  # an asymmetric input
    est = _tiny(epochs=2, mirror_average=False).fit(X, y)
    plain = est.predict_proba(X[:3])
    assert np.abs(est.predict_proba(X[:3, ..., ::-1])[..., ::-1] - plain).max() > 1e-6
    est.set_params(mirror_average=True)
    both = est.predict_proba(X[:3])
    np.testing.assert_allclose(est.predict_proba(X[:3, ..., ::-1])[..., ::-1], both, atol=1e-6)
    np.testing.assert_allclose(both.sum(axis=1), 1.0, rtol=1e-6)


def test_training_resumes_from_checkpoint(tmp_path):
    X, y = _toy_problem()
    ckpt = tmp_path / "c.ckpt"
    full = _tiny(epochs=4, seed=1).fit(X, y).predict(X)
    _tiny(epochs=4, seed=1, checkpoint=ckpt).fit(X, y)  # writes the checkpoint each epoch
    resumed = _tiny(epochs=4, seed=1, checkpoint=ckpt).fit(X, y)  # nothing left to do
    assert len(resumed.history_) == 4
    np.testing.assert_array_equal(resumed.predict(X), full)
    with pytest.raises(ValueError, match="other parameters"):
        _tiny(epochs=4, seed=2, checkpoint=ckpt).fit(X, y)


def test_train_network_keeps_the_held_out_split_unread(tmp_path, monkeypatch):
    from simpeg_zo.learned import _train

    produce_dataset(tmp_path / "d", tiny_config(perturbation=0.25), train=6, test=2, workers=0)
    read = []
    real = _train.load_dataset
    monkeypatch.setattr(_train, "load_dataset", lambda d, split="train": read.append(split) or real(d, split))
    est = train_network(tmp_path / "d", tmp_path / "net", validation_samples=2, **_tiny(epochs=2).get_params())
    assert read == ["train"]
    assert est.recipe_["train_samples"] == 4 and est.recipe_["validation_samples"] == 2
    assert {"dice", "rms_log10"} <= set(est.history_[-1])
    assert est.input_shape_ == (3, 5) and (tmp_path / "net.json").exists()
    with pytest.raises(ValueError, match="validation_samples"):
        train_network(tmp_path / "d", tmp_path / "net2", validation_samples=6, **_tiny(epochs=1).get_params())
    # default classes: the range's 12 for a quarter-step set, design_classes for a half-step one
    params = {k: v for k, v in _tiny(epochs=1).get_params().items() if k not in ("n_classes", "log10_range")}
    est = train_network(tmp_path / "d", tmp_path / "net3", validation_samples=2, **params)
    np.testing.assert_allclose(est.classes_.edges, np.linspace(0.5, 3.5, 13))
    produce_dataset(tmp_path / "h", tiny_config(), train=3, workers=0)  # half-step by default
    est = train_network(tmp_path / "h", tmp_path / "net4", validation_samples=1, **params)
    np.testing.assert_allclose(est.classes_.edges, design_classes(tiny_config().log10_resistivity).edges)


def test_bad_inputs_are_refused():
    X, y = _toy_problem(4)
    with pytest.raises(ValueError, match="shape"):
        _tiny().fit(X[:, :2], y)
    with pytest.raises(ValueError, match="NaN"):
        bad = X.copy()
        bad[0, 0, 0, 0] = np.nan
        _tiny().fit(bad, y)
    with pytest.raises(RuntimeError, match="not fitted"):
        _tiny().predict(X)
    with pytest.raises(ValueError, match="loss"):
        _tiny(loss="hinge").fit(X, y)


# ------------------------------------------------------------- SimPEG
@pytest.fixture(scope="module")
def tiny_network():
    """A tiny network fitted on the tiny survey's grid (random labels)."""
    cfg = tiny_config()
    rng = np.random.default_rng(1)
    X = np.stack([np.stack([np.full((3, 5), v), np.full((3, 5), 45.0)] * 2) for v in rng.uniform(1, 3, 8)])
    y = np.repeat(X[:, 0, :1, :], 8, axis=1)
    grid = {"stations": cfg.stations, "frequencies": cfg.frequencies, "depth_edges": cfg.depth_edges}
    return _tiny(epochs=1).fit(X, y, grid=grid)


def _tiny_profile(n_freq=3):
    profile = build_profile(np.linspace(0, 800, 5), np.logspace(3, 1, n_freq), resistivity_range=(100, 100))
    d = profile.dpred(profile.model_from_resistivity(100.0))
    profile.set_data(d, relative_error=0.05, phase_error_degrees=1.43)
    return profile


def test_cnn_starting_model_and_learned_inversion(tiny_network):
    from simpeg import inverse_problem, regularization

    from simpeg_zo import ZohdyOldenburg

    profile = _tiny_profile(n_freq=5)  # another frequency grid: resampled
    model = cnn_model(profile.data_misfit(), tiny_network)
    assert model.shape == (profile.n_active,) and np.all(np.isfinite(model))
    reg = regularization.WeightedLeastSquares(profile.mesh, active_cells=profile.active_cells)
    inv_prob = inverse_problem.BaseInvProblem(profile.data_misfit(), reg, ZohdyOldenburg(maxIter=1))
    inv = LearnedInversion(inv_prob, estimator=tiny_network, refine=False)
    np.testing.assert_allclose(inv.run(), model)
    # refine=True runs the inverse problem's optimizer from the network's model
    opt = ZohdyOldenburg(maxIter=1, use_phase=True)
    inv_prob = inverse_problem.BaseInvProblem(profile.data_misfit(), reg, opt)
    inv = LearnedInversion(inv_prob, estimator=tiny_network, refine=True)
    refined = inv.run()
    np.testing.assert_allclose(inv.starting.model, model)
    assert opt.history[0]["chi2"] == pytest.approx(profile.chi2(profile.dpred(model)))
    assert opt.history[-1]["chi2"] <= opt.history[0]["chi2"] and refined.shape == model.shape
    directive = CNNStartingModel(tiny_network, set_reference=True)
    inv_prob = inverse_problem.BaseInvProblem(profile.data_misfit(), reg, ZohdyOldenburg(maxIter=1))
    from simpeg import inversion

    out = inversion.BaseInversion(inv_prob, directiveList=[directive]).run(np.zeros(profile.n_active))
    np.testing.assert_allclose(directive.model, model)
    np.testing.assert_allclose(reg.objfcts[0].reference_model, model)
    assert out.shape == model.shape


def test_cnn_refuses_another_survey(tiny_network):
    profile = build_profile(np.linspace(0, 3000, 5), [1000.0, 100.0, 10.0], resistivity_range=(100, 100))
    d = profile.dpred(profile.model_from_resistivity(100.0))
    profile.set_data(d, relative_error=0.05, phase_error_degrees=1.43)
    with pytest.raises(SurveyMismatchError, match="3000 m long"):
        cnn_model(profile.data_misfit(), tiny_network)


def test_import_without_torch_names_the_cnn_extra():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import simpeg_zo, simpeg_zo.learned as L\n"
        "assert simpeg_zo.CNNStartingModel\n"
        "try:\n    L.ResNetInverter\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'cnn' extra" in out


def test_compare_cli_reports_a_missing_network(capsys):
    from simpeg_zo.cli import main

    assert (
        main(
            [
                "compare",
                "block-topo",
                "--methods",
                "cnn",
                "--station-step",
                "20",
                "--frequency-step",
                "30",
                "--network",
                "/nonexistent/net.json",
            ]
        )
        == 2
    )
    assert "net" in capsys.readouterr().err


# ------------------------------------------------------------- shipped network
def _shipped():
    from simpeg_zo.learned import default_inverter, shipped_networks

    assert "block-topo" in shipped_networks()
    return default_inverter("block-topo")


def test_shipped_network_sees_a_half_space_as_a_half_space():
    """Data of a 100 ohm-m half-space on the block-topo survey give a model
    within a quarter decade of 100 ohm-m in the network's depth range."""
    import simpeg_zo

    net = _shipped()
    spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("block-topo"), station_step=4, frequency_step=6)
    profile = build_profile(spec.stations, spec.frequencies, resistivity_range=(100, 100), cells_per_station=1)
    d = profile.dpred(profile.model_from_resistivity(100.0))
    profile.set_data(d, relative_error=0.05, phase_error_degrees=1.43)
    model = cnn_model(profile.data_misfit(), net)
    shallow = profile.cell_depths < net.grid_["depth_edges"][-1]
    log10_rho = -model[shallow] / np.log(10.0)
    assert abs(np.median(log10_rho) - 2.0) < 0.25


def test_the_default_network_is_the_shipped_one_that_serves_the_data(tmp_path, monkeypatch, tiny_network):
    """Each shipped network serves its own survey; data that none serves
    are refused with every network's reason."""
    import shutil

    import simpeg_zo
    from simpeg_zo.learned import _simpeg, serving_network, shipped_networks

    assert "block-topo" in shipped_networks()
    shutil.copy(_simpeg.WEIGHTS / "block-topo.json", tmp_path / "block-topo.json")
    shutil.copy(_simpeg.WEIGHTS / "block-topo.pt", tmp_path / "block-topo.pt")
    tiny_network.save(tmp_path / "tiny")
    monkeypatch.setattr(_simpeg, "WEIGHTS", tmp_path)
    _simpeg._shipped.cache_clear()
    try:
        assert shipped_networks() == ["block-topo", "tiny"]
        for name in ("block-topo", "tiny"):
            grid = simpeg_zo.learned.default_inverter(name).grid_
            n = grid["frequencies"].size
            freqs = grid["frequencies"][np.unique(np.r_[0:n:3, n - 1])]
            profile = build_profile(grid["stations"][::4], freqs, cells_per_station=1)
            profile.set_data(
                profile.dpred(profile.model_from_resistivity(100.0)), relative_error=0.05, phase_error_degrees=1.43
            )
            assert serving_network(profile.data_misfit()).name_ == name
        spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("rugged-faults"), station_step=10, frequency_step=10)
        profile, _ = simpeg_zo.synthetic_profile(spec)
        with pytest.raises(SurveyMismatchError, match="block-topo: .*; tiny: "):
            serving_network(profile.data_misfit())
    finally:
        _simpeg._shipped.cache_clear()


def test_compare_reports_inference_time_and_iterations_saved():
    import simpeg_zo

    spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("block-topo"), station_step=8, frequency_step=10)
    report = simpeg_zo.compare(spec, ["zo-phase", "cnn", "cnn-zo"], max_iter=2).to_dict()
    cnn = report["methods"]["cnn"]
    assert cnn["iterations"] == 0 and cnn["forward_solves"] == 0 and 0 < cnn["inference_seconds"] < 1
    saved = report["methods"]["cnn-zo"]["iterations_saved"]
    assert saved["against"] == "zo-phase"
    assert saved["total"] == report["methods"]["zo-phase"]["iterations"] - report["methods"]["cnn-zo"]["iterations"]


def test_cnn_zo1_is_one_forward_only_correction_that_never_fits_worse():
    """cnn-zo1: the network's model and one ZO correction of it, two
    forward solves and no Jacobian product; the correction is kept only if
    it lowers the misfit, so its chi2 is at most the network's."""
    import simpeg_zo

    spec = simpeg_zo.decimate_survey(simpeg_zo.load_spec("block-topo"), station_step=8, frequency_step=10)
    profile, _ = simpeg_zo.synthetic_profile(spec)
    cnn = simpeg_zo.run_method(profile, "cnn")
    one = simpeg_zo.run_method(profile, "cnn-zo1", target_chi2=1e-6)
    assert one.forward_solves <= 2 and one.iterations <= 1
    assert one.extra["jacobian_products"] == {"jvec": 0, "jtvec": 0}
    assert one.chi2 <= cnn.chi2 * (1 + 1e-9)
    assert one.history[0]["chi2"] == pytest.approx(cnn.chi2, rel=1e-6)


PARALANA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "paralana"


@pytest.mark.needs_shared(PARALANA)
def test_dataset_for_an_edi_survey(tmp_path, capsys):
    """`simpeg-zo dataset` takes a field profile's survey: its projected
    stations and default band."""
    from simpeg_zo.cli import main

    out = tmp_path / "ds"
    assert (
        main(
            [
                "dataset",
                str(PARALANA),
                str(out),
                "--train",
                "1",
                "--test",
                "0",
                "--workers",
                "0",
                "--frequency-step",
                "7",
                "--depth-max",
                "5000",
                "--resistivity-range",
                "1",
                "1000",
            ]
        )
        == 0
    )
    ds = load_dataset(out)
    assert ds.config.stations.size == 15 and ds.config.frequencies.size == 7  # 43 (every frequency) taken every 7th
    assert ds.config.depth_edges[-1] == pytest.approx(5000.0)
    assert ds.config.log10_resistivity == (0.0, 3.0)
    assert main(["dataset", str(PARALANA), str(out), "--train", "1", "--resistivity-range", "10", "1"]) == 2
    assert main(["dataset", str(PARALANA), str(tmp_path / "p"), "--train", "1", "--perturbation", "0.7"]) == 2
    assert "perturbation must be in [0, 0.5]" in capsys.readouterr().err
