"""The survey-neutral network: normalised grids, random surveys, ensembles and spread."""

import json

import numpy as np
import pytest

from simpeg_zo import build_profile
from simpeg_zo.learned._general import (
    GeneralConfig,
    draw_domains,
    draw_general_model,
    draw_random_field,
    draw_survey,
    general_arrays,
    load_general,
    paint_domains,
    paint_general,
    random_field,
    sample_profile,
    simulate_general_sample,
)
from simpeg_zo.learned._normalised import NormalisedGrid, normalised_input, normalised_label, normalised_to_cells


def _two_layer(profile_scale, rho_top, rho_bottom, thickness):
    """Profile data of a two-layer earth with a conductive block, at a length scale."""
    stations = np.linspace(0.0, 4000.0, 9) * profile_scale
    freqs = np.geomspace(300.0, 0.3, 7) / profile_scale**2
    profile = build_profile(stations, freqs, resistivity_range=(5.0, 1000.0), cells_per_station=2)
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    depth = profile.cell_depths
    rho = np.where(depth < thickness * profile_scale, rho_top, rho_bottom)
    s = profile_scale
    block = (np.abs(x - 2500.0 * s) < 600.0 * s) & (np.abs(depth - 800.0 * s) < 300 * s)
    rho = np.where(block, 5.0, rho)
    pred = profile.dpred(profile.model_from_resistivity(rho))
    out = np.empty((2, 2, freqs.size, stations.size))
    for i, mode in enumerate(("TE", "TM")):
        parts = profile.split(pred[mode], mode)
        out[i, 0], out[i, 1] = parts["apparent_resistivity"], parts["phase"]
    return out, freqs, stations


def test_normalised_input_is_the_same_for_a_survey_scaled_by_the_mt_scaling_law():
    """Lengths x 10 and periods x 100 leave rho_a and phase unchanged (2D
    MT's exact scaling), and resistivities x 10 with frequencies x 10 too:
    the simulated surveys give the same normalised input, within the
    simulation's accuracy, and the same label."""
    grid = NormalisedGrid(n_columns=24, n_rows=24)
    a, fa, xa = _two_layer(1.0, 100.0, 20.0, 300.0)
    b, fb, xb = _two_layer(10.0, 100.0, 20.0, 300.0)
    ia, ra, la = normalised_input(grid, a[:, 0], a[:, 1], fa, xa)
    ib, rb, lb = normalised_input(grid, b[:, 0], b[:, 1], fb, xb)
    assert lb == pytest.approx(10 * la)
    assert rb == pytest.approx(ra, rel=0.03)
    seen = (ia[2] > 0) & (ia[5] > 0)
    assert seen.mean() > 0.2
    for c in (0, 3):  # log10 rho_a / rho_ref
        assert np.max(np.abs(ia[c] - ib[c])[seen]) < 0.03
    for c in (1, 4):  # phase, degrees
        assert np.max(np.abs(ia[c] - ib[c])[seen]) < 1.5
    # resistivities and frequencies x 10: the same input exactly (rho_ref absorbs the level)
    ic, rc, _ = normalised_input(grid, 10 * a[:, 0], a[:, 1], 10 * fa, xa)
    assert rc == pytest.approx(10 * ra)
    np.testing.assert_allclose(ic, ia, atol=1e-9)

    def model(x, depth):
        return np.where(depth < 300.0 * (x.max() / 4000.0 if x.max() > 0 else 1), 2.0, 1.3)

    np.testing.assert_allclose(normalised_label(grid, model, la), normalised_label(grid, model, lb))


def test_half_space_input_is_flat_and_the_phase_is_45_degrees():
    grid = NormalisedGrid(n_columns=16, n_rows=20)
    freqs = np.geomspace(1000.0, 1.0, 10)
    stations = np.linspace(0.0, 2000.0, 6)
    rho = np.full((2, freqs.size, stations.size), 50.0)
    phase = np.stack([np.full(rho.shape[1:], 45.0), np.full(rho.shape[1:], -135.0)])  # SimPEG's TE / TM signs
    x, rho_ref, length = normalised_input(grid, rho, phase, freqs, stations)
    assert rho_ref == pytest.approx(50.0) and length == 2000.0
    assert np.allclose(x[[0, 3]], 0.0) and np.allclose(x[[1, 4]], 45.0)
    assert np.allclose(x[7], 0.0)  # the Bostick section of a half-space is the half-space
    # the rows between the Bostick depths of the top and bottom frequencies are seen, the others not
    from simpeg_zo import bostick_depth

    v = np.log10(bostick_depth(50.0, freqs) / length)
    inside = (grid.v >= v.min() - grid.row_step / 2) & (grid.v <= v.max() + grid.row_step / 2)
    np.testing.assert_array_equal(x[2].all(axis=1), inside)
    np.testing.assert_array_equal(x[5], x[2])


def test_station_gaps_and_a_missing_mode_are_masked():
    grid = NormalisedGrid(n_columns=41, n_rows=12)
    freqs = np.geomspace(100.0, 1.0, 6)
    stations = np.r_[np.linspace(0.0, 300.0, 4), np.linspace(700.0, 1000.0, 4)]  # a gap of 400 m
    rho = np.full((2, freqs.size, stations.size), 100.0)
    rho[1] = np.nan  # no TM
    phase = np.full_like(rho, 45.0)
    x, _, _ = normalised_input(grid, rho, phase, freqs, stations)
    assert not x[5].any() and np.allclose(x[4], 45.0)
    seen_columns = x[2].max(axis=0) > 0
    in_gap = (grid.u > 0.45) & (grid.u < 0.55)
    assert not seen_columns[in_gap].any() and seen_columns[grid.u < 0.3].all()


def test_grid_sections_map_back_onto_cells():
    """A section linear in u and v is reproduced exactly inside the grid and held constant beyond."""
    grid = NormalisedGrid(n_columns=11, n_rows=9)
    section = 2.0 * grid.u[None, :] - 0.5 * grid.v[:, None]
    stations = np.array([100.0, 600.0, 1100.0])
    length = 1000.0
    u = np.array([0.0, 0.25, 0.9, 1.0, 1.5, -0.3])
    v = np.array([grid.v[1], -1.0, 0.0, grid.v[-1], -2.0, 5.0])
    cells = normalised_to_cells(grid, section, 100.0 + u * length, length * 10.0**v, stations)
    expected = 2.0 * np.clip(u, 0, 1) - 0.5 * np.clip(v, grid.v[0], grid.v[-1])
    np.testing.assert_allclose(cells, expected, atol=1e-12)


def test_random_field_has_its_standard_deviation_and_correlation():
    rng = np.random.default_rng(3)
    stds, near, far = [], [], []
    for _ in range(40):
        p = draw_random_field(rng, std=0.5)
        p["length_u"], p["length_w"] = 0.1, 0.5
        x = rng.uniform(0, 1000.0, 400)
        d = 1000.0 * 10.0 ** rng.uniform(-2, 0, 400)
        f = random_field(p, x, d, 1000.0)
        stds.append(f.std())
        near.append(random_field(p, 500.0, 100.0, 1000.0) * random_field(p, 510.0, 100.0, 1000.0))
        far.append(random_field(p, 100.0, 100.0, 1000.0) * random_field(p, 900.0, 100.0, 1000.0))
    assert np.sqrt(np.mean(np.square(stds))) == pytest.approx(0.5, rel=0.15)
    assert np.mean(near) > 0.15 and abs(np.mean(far)) < 0.08


def test_surveys_held_out_geometries_only_in_the_test_split():
    rng = np.random.default_rng(0)
    train = [draw_survey(rng) for _ in range(200)]
    test = [draw_survey(rng, held_out=True) for _ in range(200)]
    counts = [len(s["stations"]) for s in train]
    # stations closer than a quarter of the mean spacing are dropped: at most 32, at least 3
    assert min(counts) >= 3 and max(counts) <= 32
    assert not any(s["layout"] == "three-clusters" for s in train)
    assert any(s["layout"] == "three-clusters" for s in test)
    assert any(len(s["stations"]) > 32 for s in test)
    for s in train + test:
        x = np.asarray(s["stations"])
        f = np.asarray(s["frequencies"])
        assert x[0] == 0 and np.all(np.diff(x) > 0) and np.all(np.diff(f) < 0)
        assert 6 <= f.size <= 24


def test_domains_paint_their_columns_on_either_side_of_dipping_contacts():
    params = {
        "contacts": [{"x": 1000.0, "dip": 90.0}, {"x": 3000.0, "dip": 45.0}],
        "columns": [
            {"depths": [], "log10": [0.5]},
            {"depths": [200.0, 800.0], "log10": [1.0, 2.0, 3.0]},
            {"depths": [100.0], "log10": [1.5, 2.5]},
        ],
    }
    # vertical contact at 1000 m; the 45-degree contact leans to +x: at depth d it lies at 3000 + d
    x = np.array([999.0, 1001.0, 1500.0, 1500.0, 1500.0, 3100.0, 3100.0, 3900.0, 4100.0])
    d = np.array([50.0, 50.0, 100.0, 500.0, 5000.0, 50.0, 150.0, 1000.0, 1000.0])
    np.testing.assert_array_equal(paint_domains(params, x, d), [0.5, 1.0, 1.0, 2.0, 3.0, 1.5, 1.0, 3.0, 2.5])
    model = {"kind": "domains", "family": {"family": "layers"}, "length": 4000.0, "domains": params}
    np.testing.assert_allclose(np.log10(paint_general(model, x, d)), paint_domains(params, x, d))
    # drawn: 1-3 contacts, one more column than contacts, interfaces increasing within depth_max
    rng = np.random.default_rng(3)
    for _ in range(50):
        p = draw_domains(rng, 4000.0, 3000.0)
        assert 1 <= len(p["contacts"]) <= 3 and len(p["columns"]) == len(p["contacts"]) + 1
        for col in p["columns"]:
            depths = np.asarray(col["depths"])
            assert len(col["log10"]) == depths.size + 1 and np.all(np.diff(depths) > 0)
            assert np.all((depths >= 10.0 - 1e-9) & (depths <= 3000.0))


def test_domain_share_draws_domains_and_old_sets_read_without_them():
    survey = draw_survey(np.random.default_rng(0))
    kinds = [draw_general_model(np.random.default_rng(i), survey, domain_share=0.0)["kind"] for i in range(40)]
    assert not any(k.startswith("domains") for k in kinds)
    kinds = [draw_general_model(np.random.default_rng(i), survey, domain_share=1.0)["kind"] for i in range(40)]
    assert all(k.startswith("domains") for k in kinds) and {"domains", "domains+field"} <= set(kinds)
    # without a domain share a drawn model is what sets made before domains drew
    a = draw_general_model(np.random.default_rng(7), survey)
    b = draw_general_model(np.random.default_rng(7), survey, domain_share=0.0)
    assert a == b
    old = {k: v for k, v in GeneralConfig().to_dict().items() if k != "domain_share"}
    assert GeneralConfig.from_dict(old).domain_share == 0.0
    assert GeneralConfig().domain_share > 0
    with pytest.raises(ValueError, match="domain_share"):
        GeneralConfig(domain_share=1.5)


def test_a_conductive_basin_wider_than_the_profile_splits_tm_from_te_at_low_frequencies():
    """Over a conductive cover that ends beyond the profile, TM's apparent
    resistivity falls below TE's once the induction length reaches the
    basin's edges (charges on them), while the high frequencies see a 1D
    earth: the split field data show and the families' models rarely do."""
    length = 10000.0
    survey = {"length": length, "stations": np.linspace(0, length, 11).tolist(), "frequencies": [100.0, 1.0, 0.01]}
    domains = {
        "contacts": [{"x": -0.5 * length, "dip": 90.0}, {"x": 1.5 * length, "dip": 90.0}],
        "columns": [
            {"depths": [], "log10": [3.0]},
            {"depths": [500.0], "log10": [1.0, 3.0]},
            {"depths": [], "log10": [3.0]},
        ],
    }
    model = {"kind": "domains", "family": {"family": "layers"}, "length": length, "domains": domains}
    profile, m = sample_profile(survey, model)
    pred = profile.dpred(m)
    te = profile.split(pred["TE"], "TE")["apparent_resistivity"]
    tm = profile.split(pred["TM"], "TM")["apparent_resistivity"]
    split = np.median(np.log10(tm / te), axis=1)
    assert abs(split[0]) < 0.02
    assert split[-1] < -0.5


def test_general_samples_are_deterministic_and_resume(tmp_path):
    from simpeg_zo.learned import produce_dataset

    config = GeneralConfig(shard_size=2, grid=NormalisedGrid(n_columns=16, n_rows=16).to_dict())
    one = simulate_general_sample(config, "train", 1)
    again = simulate_general_sample(config, "train", 1)
    np.testing.assert_array_equal(one["data"], again["data"])
    assert one["params"] == again["params"]
    out = produce_dataset(tmp_path, config, train=3, test=2, workers=0)
    assert out["samples"] == 5
    assert produce_dataset(tmp_path, config, train=3, test=2, workers=0)["skipped"] == 5
    cfg, arrays = load_general(tmp_path, "train")
    np.testing.assert_array_equal(arrays["data"][1], one["data"].astype(np.float32))
    X, y = general_arrays(arrays, cfg.normalised_grid)
    assert X.shape == (3, 8, 16, 16) and y.shape == (3, 16, 16) and np.isfinite(X).all()
    # the label is relative to the data's reference resistivity
    params = json.loads(str(arrays["params"][0]))
    assert params["survey"]["length"] > 0
    with pytest.raises(ValueError, match="load_general"):
        from simpeg_zo.learned import load_dataset

        load_dataset(tmp_path)


torch = pytest.importorskip("torch")


def test_ensemble_spread_is_calibrated_and_round_trips(tmp_path):
    from simpeg_zo.learned import ResNetInverter

    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 8, 16, 16))
    y = 0.5 * X[:, 0] + 0.2 * rng.standard_normal((24, 16, 16))
    grid = NormalisedGrid(n_columns=16, n_rows=16).to_dict()
    members = []
    for seed in range(2):
        est = ResNetInverter(
            epochs=2, batch_size=8, seed=seed, n_classes=10, log10_range=(-2.0, 2.0), mirror_average=False
        )
        members.append(est.fit(X[:16], y[:16], grid=grid))
    ens = ResNetInverter.combine(members)
    mean, std = ens.predict_spread(X[16:])
    assert mean.shape == std.shape == (8, 16, 16) and np.all(std > 0)
    np.testing.assert_allclose(mean, ens.predict(X[16:]), atol=1e-5)  # the mean of the members' expectations
    scale = ens.calibrate_spread(X[16:], y[16:])
    mean, std = ens.predict_spread(X[16:])
    assert np.mean(np.abs(y[16:] - mean) <= std) == pytest.approx(0.68, abs=0.01)
    ens.save(tmp_path / "ens")
    back = ResNetInverter.load(tmp_path / "ens")
    assert back.normalised_ and back.in_channels_ == 8 and back.spread_scale_ == pytest.approx(scale)
    np.testing.assert_allclose(back.predict_spread(X[16:])[1], std, rtol=1e-5)
    ens.save(tmp_path / "half", half=True)  # float16 weights: half the file, the same sections to 0.02 decade
    small = ResNetInverter.load(tmp_path / "half")
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "ens.pt").stat().st_size
    half_mean, half_std = small.predict_spread(X[16:])
    assert np.max(np.abs(half_mean - mean)) < 0.02 and np.max(np.abs(half_std - std)) < 0.02
    with pytest.raises(ValueError, match="8, n_rows"):
        back.predict(X[:, :4])


def test_a_survey_network_fine_tunes_the_survey_neutral_one(tmp_path):
    """``train_network(init=...)`` starts from the given network's weights,
    classes and normalisation, on the survey's samples put on the normalised
    grid (labels painted anew from each sample's parameters)."""
    from simpeg_zo.learned import DatasetConfig, ResNetInverter, default_depth_edges, produce_dataset, train_network
    from simpeg_zo.learned._train import survey_normalised_arrays

    config = DatasetConfig(
        stations=np.linspace(0.0, 800.0, 5),
        frequencies=np.array([1000.0, 100.0, 10.0]),
        depth_edges=default_depth_edges(800.0, 8),
        shard_size=3,
    )
    produce_dataset(tmp_path / "set", config, train=6, test=0, workers=0)
    grid = NormalisedGrid(n_columns=16, n_rows=16).to_dict()
    X, y, ds = survey_normalised_arrays(tmp_path / "set", grid)
    assert X.shape == (6, 8, 16, 16) and np.isfinite(X).all() and np.isfinite(y).all()
    general = ResNetInverter(epochs=1, batch_size=4, n_classes=10, log10_range=(-2.0, 2.0), mirror_average=False)
    general.fit(X, y, grid=grid)
    general.save(tmp_path / "general")
    tuned = train_network(
        tmp_path / "set",
        tmp_path / "tuned",
        init=tmp_path / "general",
        validation_samples=2,
        epochs=1,
        batch_size=4,
        learning_rate=1e-12,
        weight_decay=0.0,
    )
    assert tuned.normalised_ and tuned.n_classes == 10
    np.testing.assert_allclose(tuned.input_mean_, general.input_mean_)
    a = dict(general.network_.named_parameters())
    for name, p in tuned.network_.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), a[name].detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="init network"):
        train_network(
            tmp_path / "set", tmp_path / "bad", init=tmp_path / "general", validation_samples=2, epochs=1, n_classes=12
        )


def test_each_member_of_an_ensemble_fine_tunes_from_its_own_member(tmp_path):
    """``init_member`` picks the member of an ensemble ``init``: fine-tuning
    an ensemble keeps its members apart (with no learning, each is its own
    start)."""
    from simpeg_zo.learned import ResNetInverter

    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 8, 16, 16))
    y = 0.5 * X[:, 0]
    grid = NormalisedGrid(n_columns=16, n_rows=16).to_dict()
    opts = dict(epochs=1, batch_size=4, n_classes=10, log10_range=(-2.0, 2.0), mirror_average=False)
    members = [ResNetInverter(seed=k, **opts).fit(X, y, grid=grid) for k in range(2)]
    ResNetInverter.combine(members).save(tmp_path / "ens")
    for k in (0, 1, 2):
        tuned = ResNetInverter(init=tmp_path / "ens", init_member=k, learning_rate=1e-12, weight_decay=0.0, **opts)
        tuned.fit(X, y, grid=grid)
        start = dict(members[k % 2].network_.named_parameters())
        other = dict(members[(k + 1) % 2].network_.named_parameters())
        name, p = next((n, p) for n, p in tuned.network_.named_parameters() if p.ndim == 4)
        np.testing.assert_allclose(p.detach().numpy(), start[name].detach().numpy(), atol=1e-6)
        assert not np.allclose(p.detach().numpy(), other[name].detach().numpy(), atol=1e-3)


def test_cli_makes_and_trains_a_survey_neutral_ensemble(tmp_path, capsys):
    from simpeg_zo.cli import main
    from simpeg_zo.learned import ResNetInverter

    data = str(tmp_path / "set")
    args = ["dataset", "general", data, "--train", "5", "--test", "1", "--workers", "0", "--shard-size", "3", "-q"]
    assert main(args) == 0
    out = str(tmp_path / "net")
    common = ["--members", "2", "--epochs", "1", "--validation-samples", "2", "--batch-size", "2", "--threads", "1"]
    assert main(["train", data, out, *common, "--member", "5", "-q"]) == 2
    assert "member must be between 0 and 1" in capsys.readouterr().err
    assert main(["train", data, out, *common, "--member", "1", "-q"]) == 0
    assert (tmp_path / "set" / "members" / "net-member-1.pt").exists()
    assert main(["train", data, out, *common, "-q"]) == 0
    assert "2 member(s), spread calibrated" in capsys.readouterr().out
    net = ResNetInverter.load(out)
    assert net.members == 2 and net.normalised_ and net.spread_scale_ > 0
    assert main(["train", data, out + "2", "--init", out, "-q"]) == 2  # --init is for a survey's own set


def test_learned_starts_measure_steps_along_the_networks_correction(tmp_path):
    """cnn-gn starts from the better-fitting of the Bostick section the
    network corrects and the linearised best step along the correction (one
    or two forward solves, counted); cnn-zo is the default zo from its own
    Bostick start, with the network's section as a guide among its subspace
    directions (no extra solve: its start is zo's, at zo's cost); cnn alone
    is the network's section."""
    from simpeg_zo._runs import zohdy_oldenburg
    from simpeg_zo.learned import ResNetInverter, run_learned

    rng = np.random.default_rng(1)
    grid = NormalisedGrid(n_columns=16, n_rows=16).to_dict()
    net = ResNetInverter(epochs=1, batch_size=4, n_classes=10, log10_range=(-2.0, 2.0), mirror_average=False)
    net.fit(rng.standard_normal((8, 8, 16, 16)), 0.5 * rng.standard_normal((8, 16, 16)), grid=grid)
    net.save(tmp_path / "net")
    profile = _two_layer_profile()
    alone = run_learned(profile, "cnn", estimator=tmp_path / "net")
    assert "start" not in alone.extra and alone.extra["spread_log10"].shape == alone.model.shape
    gn = run_learned(profile, "cnn-gn", estimator=tmp_path / "net", max_iter=1)
    start = gn.extra["start"]
    assert "0" in start["chi2"] and start["forward_solves"] == len(start["chi2"])
    assert start["chi2"][f"{start['step']:.4g}"] == min(start["chi2"].values())
    assert gn.history[0]["chi2"] == pytest.approx(min(start["chi2"].values()), rel=1e-6)
    zo = run_learned(profile, "cnn-zo", estimator=tmp_path / "net", max_iter=1)
    plain = zohdy_oldenburg(profile, max_iter=1)
    assert "start" not in zo.extra
    assert zo.history[0]["chi2"] == pytest.approx(plain.history[0]["chi2"], rel=1e-12)
    assert zo.history[0]["forward_solves"] == plain.history[0]["forward_solves"]
    # the guide changes the first step (a subspace step: the rows of J are kept)
    assert zo.history[1]["chi2"] != pytest.approx(plain.history[1]["chi2"], rel=1e-9)
    with pytest.raises(ValueError, match="guide_model has shape"):
        zohdy_oldenburg(profile, max_iter=1, guide_model=np.zeros(3))


def test_a_guide_model_without_subspace_steps_is_named_in_a_warning(caplog):
    from simpeg_zo._optimizer_setup import guide_direction

    x = np.zeros(4)
    with caplog.at_level("WARNING", logger="simpeg_zo"):
        np.testing.assert_array_equal(guide_direction(np.ones(4), x, used=True), np.ones(4))
        assert not caplog.records
        guide_direction(np.ones(4), x, used=False)
    assert "guide_model is not used" in caplog.text
    assert guide_direction(None, x) is None


def _two_layer_profile():
    profile = build_profile(np.linspace(0.0, 2000.0, 6), np.geomspace(300.0, 1.0, 5), resistivity_range=(10, 1000))
    depth = profile.cell_depths
    profile.set_data(
        profile.dpred(profile.model_from_resistivity(np.where(depth < 400.0, 100.0, 20.0))),
        relative_error=0.05,
        phase_error_degrees=1.43,
    )
    return profile


def test_measured_start_takes_the_linearised_best_step():
    """Toward the true model the predicted step is near 1 and fits better
    than the base (two solves); away from it the step is 0 (one solve), and
    the start's chi2 is that of its model."""
    from simpeg_zo._layout import layout_from_misfit
    from simpeg_zo.learned._simpeg import _measured_start

    profile = _two_layer_profile()
    depth = profile.cell_depths
    true = profile.model_from_resistivity(np.where(depth < 400.0, 100.0, 20.0))
    base = profile.model_from_resistivity(np.full(depth.shape, 50.0))
    dmisfit = profile.data_misfit()
    layout = layout_from_misfit(dmisfit)
    model, info = _measured_start(dmisfit, layout, true, base)
    assert 0.7 < info["predicted_step"] <= 1.0 and info["forward_solves"] == 2
    assert info["step"] == info["predicted_step"]
    assert info["chi2"][f"{info['step']:.4g}"] < 0.2 * info["chi2"]["0"]
    np.testing.assert_allclose(model, base + info["step"] * (true - base))
    assert profile.chi2(profile.dpred(model)) == pytest.approx(info["chi2"][f"{info['step']:.4g}"], rel=1e-6)
    model, info = _measured_start(dmisfit, layout, base - (true - base), base)
    assert info["predicted_step"] == 0.0 and info["forward_solves"] == 1
    np.testing.assert_array_equal(model, base)
