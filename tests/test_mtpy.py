"""mtpy-v2 interoperability: mtpy's data to a Profile, the model and data out.

The conversion and the writers need no mtpy: their tests always run (the
Paralana ones where ``../shared/data/paralana`` exists). The round trips
through mtpy-v2 itself (``pip install -e ".[mtpy]"``) are skipped without it,
except where ``SIMPEG_ZO_REQUIRE_MTPY=1`` (CI installs the extra): there a
missing mtpy-v2 fails them.
"""

import base64
import os
import struct
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import simpeg_zo as sz
from simpeg_zo._export import occam2d_grid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARALANA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "paralana"))
#: The published Occam2D run's choices (as in test_edi.py).
OCCAM_CHOICES = {"fmin": 1.1, "strike": 7.0, "line_azimuth": 97.0, "band": "all"}

#: the Paralana EDI files (third-party, in ../shared): skip without ../shared,
#: fail where it exists (tests/conftest.py)
needs_paralana = pytest.mark.needs_shared(PARALANA)


# --------------------------------------------------------------------------- helpers
def _frame(rows):
    """A frame in mtpy-v2's layout from dicts (missing impedances zero)."""
    frame = pd.DataFrame(rows)
    for comp in ("xx", "xy", "yx", "yy"):
        for suffix in ("", "_error", "_model_error"):
            col = f"z_{comp}{suffix}"
            if col not in frame:
                frame[col] = 0.0
    return frame


def _frame_from_stations(stations, *, shuffle=None):
    """The mtpy-v2 data frame of EDI stations, built by hand (pure pandas)."""
    rows = []
    for st in stations:
        for k, f in enumerate(st.frequencies):
            row = {
                "survey": "paralana",
                "station": st.name,
                "latitude": st.latitude,
                "longitude": st.longitude,
                "elevation": st.elevation,
                "profile_offset": 0.0,
                "period": 1.0 / f,
            }
            for comp, (a, b) in {"xx": (0, 0), "xy": (0, 1), "yx": (1, 0), "yy": (1, 1)}.items():
                row[f"z_{comp}"] = st.impedance[k, a, b]
                row[f"z_{comp}_error"] = st.impedance_std[k, a, b]
                row[f"z_{comp}_model_error"] = 0.0
            rows.append(row)
    frame = pd.DataFrame(rows)
    if shuffle is not None:
        frame = frame.iloc[shuffle.permutation(len(frame))].reset_index(drop=True)
    return frame


def _small_profile(elevation=None):
    """Five stations, four frequencies, TE+TM, data of a 100 ohm-m half-space."""
    profile = sz.build_profile(
        np.linspace(0, 2000, 5),
        np.logspace(2, -1, 4),
        modes=("TE", "TM"),
        elevation=elevation,
        resistivity_range=(100, 100),
        station_names=[f"s{i}" for i in range(5)],
    )
    shape = (profile.n_frequencies, profile.n_stations)
    rng = np.random.default_rng(7)
    dobs = {
        "TE": profile.join(100 * np.exp(0.1 * rng.standard_normal(shape)), 45 + rng.standard_normal(shape)),
        "TM": profile.join(100 * np.exp(0.1 * rng.standard_normal(shape)), -135 + rng.standard_normal(shape)),
    }
    dobs["TM"][3] = np.nan  # one datum left out
    profile.set_data(dobs, relative_error=0.05, phase_error_degrees=1.5)
    return profile


def _layered_model(profile):
    """log conductivity varying with depth and along the profile."""
    depth = profile.cell_depths
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    log10_rho = 2.0 + 0.8 * np.sin(depth / 300.0) + 0.3 * np.tanh((x - 1000.0) / 400.0)
    return -np.log(10.0) * log10_rho


def _decode(array):
    """Values of a binary (base64, UInt32 header) VTK DataArray element."""
    raw = base64.b64decode(array.text.strip())
    (n,) = struct.unpack("<I", raw[:4])
    dtype = {"Float64": "<f8", "UInt8": "u1"}[array.get("type")]
    return np.frombuffer(raw[4 : 4 + n], dtype=dtype)


# --------------------------------------------------------------------------- conversion (no mtpy)
def test_frame_to_stations_layout_and_units():
    frame = _frame(
        [
            {
                "survey": "s",
                "station": "a",
                "latitude": -30.0,
                "longitude": 139.0,
                "elevation": 10.0,
                "period": p,
                "z_xy": 1 + 1j,
                "z_yx": -2 - 2j,
                "z_xy_error": 0.1,
                "z_yx_error": 0.2,
                "z_xy_model_error": 0.3,
                "z_yx_model_error": 0.4,
            }
            for p in (1.0, 0.01, 0.1)
        ]
    )
    [st] = sz.stations_from_mt_dataframe(frame)
    assert st.name == "a" and st.path == "mtpy:s/a"
    np.testing.assert_allclose(st.frequencies, [100.0, 10.0, 1.0])  # highest first, as EDI files
    np.testing.assert_allclose(st.impedance[:, 0, 1], 1 + 1j)
    np.testing.assert_allclose(st.impedance[:, 1, 0], -2 - 2j)
    np.testing.assert_allclose(st.impedance_std[:, 0, 1], 0.1)
    [model] = sz.stations_from_mt_dataframe(frame, errors="model")
    np.testing.assert_allclose(model.impedance_std[:, 1, 0], 0.4)
    # to_simpeg_2d's frame is in ohm: Z_mt = Z_ohm / (mu0 1e3)
    [ohm] = sz.stations_from_mt_dataframe(frame, impedance_units="ohm")
    np.testing.assert_allclose(ohm.impedance, st.impedance / (4e-7 * np.pi * 1e3))
    np.testing.assert_allclose(ohm.impedance_std, st.impedance_std / (4e-7 * np.pi * 1e3))


def test_frame_errors_are_explained():
    frame = _frame([{"station": "a", "latitude": 0.0, "longitude": 0.0, "period": 1.0, "z_xy": 1j, "z_yx": -1j}])
    with pytest.raises(ValueError, match="compute_model_errors"):
        sz.stations_from_mt_dataframe(frame, errors="model")
    with pytest.raises(ValueError, match="errors must be 'data' or 'model'"):
        sz.stations_from_mt_dataframe(frame, errors="variance")
    with pytest.raises(ValueError, match="impedance_units"):
        sz.stations_from_mt_dataframe(frame, impedance_units="SI")
    with pytest.raises(ValueError, match="no column latitude"):
        sz.stations_from_mt_dataframe(frame.drop(columns="latitude"))
    with pytest.raises(TypeError, match="MTData"):
        sz.read_mtpy_survey(object())
    with pytest.raises(ValueError, match="offsets must be"):
        sz.read_mtpy_survey(frame, offsets="utm")


def test_same_station_in_two_surveys_is_kept_apart():
    rows = [
        {
            "survey": su,
            "station": "a",
            "latitude": lat,
            "longitude": 139.0,
            "period": 1.0,
            "z_xy": 1 + 1j,
            "z_yx": -1 - 1j,
        }
        for su, lat in (("north", -30.0), ("south", -31.0))
    ]
    names = [st.name for st in sz.stations_from_mt_dataframe(_frame(rows))]
    assert names == ["north.a", "south.a"]


@needs_paralana
def test_frame_of_paralana_gives_the_edi_survey(rng):
    """The mtpy-v2 layout of the EDI stations (rows shuffled) goes through
    the EDI path's own steps: the same survey, value for value."""
    stations = sz.read_edi_files(PARALANA)
    frame = _frame_from_stations(stations, shuffle=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edi = sz.read_edi_survey(PARALANA, **OCCAM_CHOICES)
        got = sz.read_mtpy_survey(frame, **OCCAM_CHOICES)
    assert got.names == edi.names
    np.testing.assert_allclose(got.along, edi.along, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.elevations, edi.elevations)
    np.testing.assert_allclose(got.frequencies, edi.frequencies)
    for mode in edi.modes:
        for key in ("rho", "phase", "rho_std", "phase_std"):
            np.testing.assert_allclose(getattr(got, key)[mode], getattr(edi, key)[mode], rtol=1e-12)
    # mtpy's own profile offsets when asked for
    frame["profile_offset"] = frame["station"].map(dict(zip(edi.names, 2.0 * edi.along + 5.0, strict=True)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        offset = sz.read_mtpy_survey(frame, offsets="mtpy", **OCCAM_CHOICES)
    np.testing.assert_allclose(offset.along, 2.0 * edi.along + 5.0)
    frame["profile_offset"] = 0.0
    with pytest.raises(ValueError, match="profile_offset is the same"):
        sz.read_mtpy_survey(frame, offsets="mtpy", **OCCAM_CHOICES)


# --------------------------------------------------------------------------- writers (no mtpy)
def test_vtr_holds_the_model_on_the_mesh(tmp_path):
    profile = _small_profile(elevation=lambda x: 60.0 * np.sin(x / 700.0))
    model = _layered_model(profile)
    path = sz.write_vtr(profile, model, tmp_path / "model")
    assert path.endswith("model.vtr")
    root = ET.parse(path).getroot()
    assert root.get("type") == "RectilinearGrid"
    nx, nz = profile.mesh.shape_cells
    assert root.find("RectilinearGrid").get("WholeExtent") == f"0 {nx} 0 1 0 {nz}"
    arrays = {a.get("Name"): _decode(a) for a in root.iter("DataArray")}
    np.testing.assert_array_equal(arrays["x"], profile.mesh.nodes_x)
    np.testing.assert_array_equal(arrays["z"], profile.mesh.nodes_y)
    rho = arrays["resistivity"]
    np.testing.assert_array_equal(rho[profile.active_cells], np.exp(-model))
    assert np.all(np.isnan(rho[~profile.active_cells]))
    np.testing.assert_array_equal(arrays["active"], profile.active_cells.astype(np.uint8))
    with pytest.raises(ValueError, match="active cells"):
        sz.write_vtr(profile, model[:-1], tmp_path / "bad.vtr")


def test_vtr_reads_back_in_discretize(tmp_path):
    pytest.importorskip("vtk")
    import discretize

    profile = _small_profile(elevation=lambda x: 60.0 * np.sin(x / 700.0))
    model = _layered_model(profile)
    path = sz.write_vtr(profile, model, tmp_path / "model.vtr", thickness=50.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # discretize suggests pyvista
        mesh, models = discretize.TensorMesh.read_vtk(path)
    np.testing.assert_allclose(mesh.h[0], profile.mesh.h[0])
    np.testing.assert_allclose(mesh.h[1], [50.0])
    np.testing.assert_allclose(mesh.h[2], profile.mesh.h[1])
    np.testing.assert_allclose(mesh.origin, [profile.mesh.origin[0], -25.0, profile.mesh.origin[1]])
    np.testing.assert_array_equal(models["active"], profile.active_cells.astype(np.uint8))
    np.testing.assert_allclose(models["log10_resistivity"][profile.active_cells], -model / np.log(10.0))


def test_occam2d_files_read_back_here(tmp_path):
    """Flat ground: data file, response and model read back by
    simpeg_zo.read_occam2d; the model maps back onto the profile exactly."""
    profile = _small_profile()
    model = _layered_model(profile)
    dpred = {m: d.dobs * 1.01 for m, d in profile.data.items()}
    files = sz.write_occam2d(profile, tmp_path, model=model, dpred=dpred)
    assert set(files) == {"data", "response", "mesh", "regularisation", "iteration"}
    occam = sz.read_occam2d(tmp_path, iteration_file=os.path.basename(files["iteration"]))
    assert occam.station_names == profile.station_names
    np.testing.assert_allclose(occam.station_offsets, profile.stations - profile.stations[0], atol=1e-3)
    np.testing.assert_allclose(occam.frequencies, profile.frequencies, rtol=1e-8)
    np.testing.assert_allclose(sz.occam2d_on_profile(occam, profile), model, rtol=1e-6)
    # stations sit on Occam2D mesh nodes
    assert np.min(np.abs(occam.x_nodes[:, None] - occam.station_offsets[None, :]), axis=0).max() < 1e-3
    lines = open(files["data"]).read().splitlines()
    n_blocks = int(next(line for line in lines if line.startswith("DATA BLOCKS")).split(":")[1])
    assert n_blocks == profile.n_data == 2 * 2 * 5 * 4 - 1
    assert len(open(files["response"]).read().splitlines()) == n_blocks


def test_occam2d_grid_follows_the_local_ground():
    """Each block holds the model at its depth below its own column's ground."""
    profile = _small_profile(elevation=lambda x: 60.0 * np.sin(x / 700.0))
    model = _layered_model(profile)
    x_nodes, depth_nodes, grid = occam2d_grid(profile, model)
    assert grid.shape == (depth_nodes.size - 1, x_nodes.size - 1)
    assert depth_nodes[0] == 0 and np.all(np.diff(depth_nodes) > 0)
    mesh = profile.mesh
    rho = np.full(mesh.n_cells, np.nan)
    rho[profile.active_cells] = np.exp(-model)
    x = 0.5 * (x_nodes[:-1] + x_nodes[1:])
    ground = profile.surface[np.searchsorted(mesh.nodes_x, x) - 1]
    bottom = mesh.nodes_y[0] + 1e-6
    for r, depth in enumerate(0.5 * (depth_nodes[:-1] + depth_nodes[1:])):
        cells = mesh.point2index(np.c_[x, np.maximum(ground - depth, bottom)])
        np.testing.assert_allclose(grid[r], np.log10(rho[cells]))
    # the stations are on nodes of the Occam2D grid
    assert np.min(np.abs(x_nodes[:, None] - profile.stations[None, :]), axis=0).max() < 1e-9


# --------------------------------------------------------------------------- through mtpy-v2
@pytest.fixture(scope="module")
def mt_data():
    if not os.environ.get("SIMPEG_ZO_REQUIRE_MTPY"):
        pytest.importorskip("mtpy")
    from mtpy import MTData

    data = MTData()
    paths = sorted(os.path.join(PARALANA, n) for n in os.listdir(PARALANA) if n.endswith(".edi"))
    data.add_station(paths)
    return data


@pytest.fixture(scope="module")
def edi_profile():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sz.read_edi_profile(PARALANA, **OCCAM_CHOICES)


@pytest.fixture(scope="module")
def mtpy_profile(mt_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sz.read_mtpy_profile(mt_data, **OCCAM_CHOICES)


def _assert_same_profile(got, expected):
    (p, s), (q, t) = got, expected
    assert p.station_names == q.station_names and s.names == t.names
    np.testing.assert_allclose(p.stations, q.stations, rtol=0, atol=1e-3)  # m
    np.testing.assert_allclose(p.elevations, q.elevations)
    np.testing.assert_allclose(p.frequencies, q.frequencies, rtol=1e-10)
    assert p.mesh.shape_cells == q.mesh.shape_cells and p.modes == q.modes
    assert p.n_data == q.n_data
    for mode in q.modes:
        np.testing.assert_allclose(p.data[mode].dobs, q.data[mode].dobs, rtol=1e-9)
        np.testing.assert_allclose(p.data[mode].standard_deviation, q.data[mode].standard_deviation, rtol=1e-9)


@needs_paralana
def test_mtdata_profile_is_the_edi_profile(mtpy_profile, edi_profile):
    _assert_same_profile(mtpy_profile, edi_profile)
    assert mtpy_profile[0].n_data == 1140  # the published Occam2D data subset


@needs_paralana
def test_mtpy_simpeg_2d_export_gives_the_same_profile(mt_data, edi_profile):
    """mtpy-v2's SimPEG 2D object (impedances in ohm) as input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = sz.read_mtpy_profile(mt_data.to_simpeg_2d(), **OCCAM_CHOICES)
    _assert_same_profile(got, edi_profile)


@needs_paralana
def test_te_tm_as_mtpy_hands_them_to_simpeg(mt_data):
    """Unrotated, TE/TM are mtpy's Simpeg2DData te/tm data: rho and phase of
    Z_xy on SimPEG's "yx" receivers and of Z_yx on "xy"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile, survey = sz.read_mtpy_profile(mt_data, strike=0.0, band="all")
        sim2d = mt_data.to_simpeg_2d()
        frequencies = sim2d.frequencies  # lowest first
        names = list(sim2d.dataframe.groupby("station").nth(0).station)
        ns, nf = sim2d.n_stations, sim2d.n_frequencies
        theirs = {"TE": sim2d.te_observations, "TM": sim2d.tm_observations}
    for mode in ("TE", "TM"):
        receiver = profile.simulations[mode].survey.source_list[0].receiver_list[0]
        assert sim2d.component_map[mode.lower()]["simpeg"] == receiver.orientation == sz.MODES[mode][1]
    order = [profile.station_names.index(n) for n in names]
    for mode in ("TE", "TM"):
        obs = profile.observed(mode)
        j = [int(np.argmin(np.abs(profile.frequencies - f))) for f in frequencies]
        v = theirs[mode].reshape(nf, 2, ns)
        ours_rho = obs["apparent_resistivity"][np.ix_(j, order)]
        ours_phase = obs["phase"][np.ix_(j, order)]
        ok = np.isfinite(ours_rho)
        assert ok.mean() > 0.9
        np.testing.assert_allclose(ours_rho[ok], v[:, 0, :][ok], rtol=1e-6)
        np.testing.assert_allclose(ours_phase[ok], v[:, 1, :][ok], atol=1e-6)


@needs_paralana
def test_model_errors_of_mtpy(mt_data):
    data = mt_data.copy()
    data.compute_model_errors(z_error_value=5, z_error_type="geometric_mean", z_floor=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = sz.read_mtpy_survey(data, errors="model", **OCCAM_CHOICES)
        plain = sz.read_mtpy_survey(mt_data, errors="data", **OCCAM_CHOICES)
    for mode in survey.modes:
        ok = np.isfinite(survey.rho[mode])
        assert ok.sum() > 0.9 * ok.size
        assert np.all(survey.rho_std[mode][ok] >= 0.10 * survey.rho[mode][ok] * (1 - 1e-12))
        assert np.all(survey.phase_std[mode][ok] >= sz.phase_floor_degrees(5.0) - 1e-12)
        assert not np.allclose(survey.rho_std[mode][ok], plain.rho_std[mode][ok])


@needs_paralana
def test_outputs_read_back_with_mtpy(tmp_path, mtpy_profile):
    from pathlib import Path

    from mtpy import MTData
    from mtpy.modeling.occam2d import Occam2DData, Occam2DModel

    profile, survey = mtpy_profile
    model = sz.bostick_model(profile.data_misfit())
    dpred = {m: d.dobs * np.where(np.arange(d.dobs.size) % 2, 1.0, 1.05) for m, d in profile.data.items()}
    files = sz.write_occam2d(profile, tmp_path, model=model, dpred=dpred, survey=survey)

    data = Occam2DData()
    data.read_data_file(Path(files["data"]))
    assert data.profile_angle == pytest.approx(survey.line_azimuth, abs=0.05)
    assert data.geoelectric_strike == pytest.approx(7.0)
    assert data.model_mode == "log_te_tm"
    frame = data.dataframe
    names = profile.station_names
    assert sorted(frame.station.unique()) == sorted(names)
    offsets = frame.groupby("station").profile_offset.first()
    np.testing.assert_allclose([offsets[n] for n in names], profile.stations, atol=1e-3)
    columns = {"TE": ("res_xy", "phase_xy"), "TM": ("res_yx", "phase_yx")}
    for mode, (rho_col, phase_col) in columns.items():
        obs = profile.observed(mode)
        std = profile.split(profile.data[mode].standard_deviation, mode)
        for (name, period), row in frame.set_index(["station", "period"]).iterrows():
            i, j = names.index(name), int(np.argmin(np.abs(profile.frequencies - 1.0 / period)))
            if not np.isfinite(obs["apparent_resistivity"][j, i]):
                continue
            assert row[rho_col] == pytest.approx(obs["apparent_resistivity"][j, i], rel=1e-5)
            assert row[phase_col] == pytest.approx(obs["phase"][j, i], abs=1e-5)
            # mtpy reads the log10 error back times ln 10: the relative error
            rel = std["apparent_resistivity"][j, i] / obs["apparent_resistivity"][j, i]
            assert row[f"{rho_col}_model_error"] == pytest.approx(rel, rel=1e-4)
            assert row[f"{phase_col}_model_error"] == pytest.approx(std["phase"][j, i], abs=1e-5)

    data.read_response_file(Path(files["response"]))
    frame = data.dataframe
    # mtpy-v2 2.1 numbers the response file's sites in alphabetical order of
    # their names, not in the data file's order (its reader does the same with
    # the published Paralana run); pb35 is 8th either way
    i = names.index("pb35")
    assert sorted(names).index("pb35") == i
    for mode, (rho_col, phase_col) in columns.items():
        pred = profile.split(dpred[mode], mode)
        for _, row in frame[frame.station == "pb35"].iterrows():
            j = int(np.argmin(np.abs(profile.frequencies - 1.0 / row.period)))
            assert row[rho_col] == pytest.approx(pred["apparent_resistivity"][j, i], rel=1e-5)
            assert row[phase_col] == pytest.approx(pred["phase"][j, i], abs=1e-5)

    tree = MTData()
    tree.from_occam2d(Path(files["data"]))
    assert sorted(s.split("/")[-1] for s in tree.station_paths) == sorted(names)

    occam_model = Occam2DModel(iter_fn=Path(files["iteration"]))
    occam_model.build_model()
    x_nodes, depth_nodes, grid = occam2d_grid(profile, model)
    np.testing.assert_allclose(occam_model.model_values, grid.ravel(), atol=1e-6)
    np.testing.assert_allclose(np.flipud(occam_model.res_model), grid, atol=1e-6)

    # and back onto the profile with simpeg_zo's own reader
    occam = sz.read_occam2d(tmp_path, iteration_file=os.path.basename(files["iteration"]))
    back = sz.occam2d_on_profile(occam, profile)
    assert np.mean(np.abs(back - model) < 1e-6) > 0.95


@needs_paralana
def test_mtpy_profile_inverts(mt_data):
    """A decimated mtpy-built profile goes through an inverter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile, _ = sz.read_mtpy_profile(
            mt_data, fmin=5.0, frequency_step=4, modes=["TE"], **{k: v for k, v in OCCAM_CHOICES.items() if k != "fmin"}
        )
        result = sz.invert_profile(profile, "zo-paper", max_iter=2)
    assert result.iterations >= 1 and np.isfinite(result.chi2)
