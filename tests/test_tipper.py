"""The 2D tipper receiver (Tzx of the TE mode): physics, derivatives, data.

Verified against 1D earths (no vertical field), the first-order solution of a
small body in a half-space (the exact derivative of Tzx, from the
half-space Green's function: an independent semi-analytic solution), mesh
convergence, Parkinson's convention, finite differences and the adjoint
identity.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy.constants import mu_0
from simpeg import tests as simpeg_tests
from simpeg.electromagnetics import natural_source as nsem

import simpeg_zo as sz
from simpeg_zo import ForwardEngine, Simulation2DMagneticField, Tipper
from simpeg_zo._field import profile_from_survey


def _tipper_simulation(profile, components=("real", "imag"), locations=None):
    locations = profile.receiver_locations if locations is None else locations
    return _te_simulation(profile, [Tipper(locations, orientation="zx", component=c) for c in components])


def _te_simulation(profile, receivers):
    """A TE simulation of the profile's mesh, map and solver with these receivers at every frequency."""
    sources = [nsem.sources.Planewave(receivers, frequency=f) for f in profile.frequencies]
    te = profile.simulations["TE"]
    return Simulation2DMagneticField(
        profile.mesh,
        survey=nsem.Survey(sources),
        sigmaMap=profile.mapping,
        solver=te.solver,
        solver_opts=te.solver_opts,
    )


def _cells(profile):
    cc = profile.mesh.cell_centers[profile.active_cells]
    return cc[:, 0], cc[:, 1]


@pytest.fixture(scope="module")
def wide_profile():
    """11 stations over 10 km, 1 kHz to 0.01 Hz: low frequencies reach the padding."""
    return sz.build_profile(
        np.linspace(-5000, 5000, 11), np.logspace(3, -2, 6), modes=["TE"], resistivity_range=(100, 100)
    )


@pytest.mark.parametrize("earth", ["half-space", "layered"])
def test_one_dimensional_earths_give_no_tipper(wide_profile, earth):
    """|Tzx| over a 1D earth at every station and frequency, and at points in
    the padding 2 % and 10 % of the mesh width from its edges: SimPEG's TE
    boundary fields (the 1D solution of the outermost columns at the sides,
    a uniform field at the top) make the solution independent of x, so Hz
    is rounding only (about 1e-7)."""
    p = wide_profile
    x, z = _cells(p)
    rho = np.full(p.n_active, 100.0)
    if earth == "layered":
        rho = np.where(z > -500, 100.0, np.where(z > -3000, 5.0, 1000.0))
    lo, hi = p.mesh.nodes_x[0], p.mesh.nodes_x[-1]
    edges = lo + (hi - lo) * np.array([0.02, 0.1, 0.9, 0.98])
    locations = np.r_[p.receiver_locations, np.c_[edges, np.full(4, p.receiver_locations[0, 1])]]
    d = _tipper_simulation(p, locations=locations).dpred(p.model_from_resistivity(rho))
    assert np.abs(d).max() <= 1e-5


def test_real_induction_arrows_point_towards_a_conductor(wide_profile):
    """Parkinson's convention: with z up (SimPEG's frame) the real arrow along
    the profile is +Re(Tzx); it points towards a buried conductor from both
    sides, and Tzx changes sign above it."""
    p = wide_profile
    x, z = _cells(p)
    rho = np.where((np.abs(x - 2000) < 700) & (z < -300) & (z > -1500), 1.0, 100.0)
    d = _tipper_simulation(p).dpred(p.model_from_resistivity(rho)).reshape(p.n_frequencies, 2, p.n_stations)
    real = d[2, 0]  # 10 Hz
    left, right = p.stations == 1000, p.stations == 3000
    assert real[left] > 0.1 and real[right] < -0.1
    assert abs(real[p.stations == 2000]) < 0.01


def _born_tipper(x_rx, depth_rx, cell_x, cell_depth, cell_area, sigma, frequency):
    """dTzx/d(log sigma) of cells in a half-space of conductivity ``sigma``.

    The first-order field of the line currents ``sigma E_p dA`` (E_p the
    primary field, unit at the surface), from the half-space Green's function
    of E-polarisation in the wavenumber domain,
    ``E(k, d) = P (exp(u d) + (u - k) / (u + k) exp(-u d))`` with
    ``P = -i w mu I exp(-u h) / (2 u)`` and ``u^2 = k^2 + i w mu sigma``;
    ``Hz = -dE/dx / (i w mu)`` (z up), ``Hx = g exp(-g d) / (i w mu)``.
    """
    w = 2 * np.pi * frequency
    g2 = 1j * w * mu_0 * sigma
    g = np.sqrt(g2)
    hz = np.zeros(x_rx.size, dtype=complex)
    for xc, h, area in zip(cell_x, cell_depth, cell_area, strict=True):
        k = np.linspace(0.0, 80.0 / (h - depth_rx), 40001)
        u = np.sqrt(k**2 + g2)
        current = sigma * np.exp(-g * h) * area
        P = -(1j * w * mu_0 * current / (2 * u)) * np.exp(-u * h)
        e_k = P * (np.exp(u * depth_rx) + (u - k) / (u + k) * np.exp(-u * depth_rx))
        dedx = -np.trapezoid(k[None, :] * e_k[None, :] * np.sin(k[None, :] * (x_rx[:, None] - xc)), k, axis=1) / np.pi
        hz += -dedx / (1j * w * mu_0)
    return hz / (g * np.exp(-g * depth_rx) / (1j * w * mu_0))


def _born_difference(cells_per_station):
    sigma = 0.01
    stations = np.linspace(-4000, 4000, 9)
    p = sz.build_profile(
        stations, [10.0, 1.0], modes=["TE"], resistivity_range=(100, 100), cells_per_station=cells_per_station
    )
    x, z = _cells(p)
    block = (x > 500) & (x < 1500) & (z < -400) & (z > -900)
    m0 = np.full(p.n_active, np.log(sigma))
    jd = _tipper_simulation(p).Jvec(m0, block.astype(float)).reshape(p.n_frequencies, 2, p.n_stations)
    area = p.mesh.cell_volumes[p.active_cells][block]
    depth_rx = -p.receiver_locations[0, 1]
    worst = 0.0
    for i, f in enumerate(p.frequencies):
        reference = _born_tipper(stations, depth_rx, x[block], -z[block], area, sigma, f)
        numeric = jd[i, 0] + 1j * jd[i, 1]
        worst = max(worst, np.abs(numeric - reference).max() / np.abs(reference).max())
    return worst


def test_tipper_of_a_small_body_matches_the_half_space_solution_and_converges():
    """The derivative of Tzx with respect to the log conductivity of a
    buried block (exact to first order: the Born field of the block's
    currents) against the semi-analytic half-space solution: within 5 % on
    a mesh of 4 cells per station interval, and the difference falls as the
    mesh is refined (7.3 % -> 2.6 % at 10 Hz from 2 to 4 cells)."""
    coarse, fine = _born_difference(2), _born_difference(4)
    assert fine <= 0.05
    assert fine < 0.6 * coarse


@pytest.fixture(scope="module")
def conductor_case():
    p = sz.build_profile(np.linspace(-3000, 3000, 7), [100.0, 3.0, 0.1], modes=["TE"], resistivity_range=(30, 300))
    x, z = _cells(p)
    rho = np.where((np.abs(x - 800) < 600) & (z < -200) & (z > -1200), 3.0, 100.0)
    return p, p.model_from_resistivity(rho)


def test_tipper_derivative_matches_finite_differences(conductor_case):
    p, m = conductor_case
    sim = _tipper_simulation(p)
    rng = np.random.default_rng(3)

    def fun(model):
        return sim.dpred(model), lambda v: sim.Jvec(model, v)

    assert simpeg_tests.check_derivative(fun, m, num=3, plotIt=False, dx=0.2 * rng.standard_normal(m.size))


def test_tipper_adjoint_identity(conductor_case):
    p, m = conductor_case
    sim = _tipper_simulation(p)
    rng = np.random.default_rng(4)
    f = sim.fields(m)
    u, v = rng.standard_normal(m.size), rng.standard_normal(sim.survey.nD)
    a, b = v @ sim.Jvec(m, u, f=f), u @ sim.Jtvec(m, v, f=f)
    assert abs(a - b) <= 1e-10 * abs(a)


@pytest.mark.parametrize("route", ["single", "tangent", "rows"])
def test_engine_products_and_diagonal_with_tipper(conductor_case, route):
    """ForwardEngine's gradient, J D and J^T W^T W J diagonal on a survey of
    impedances and tippers (vectorised: one adjoint solve per station for
    both tipper parts) equal SimPEG's Jtvec/Jvec through the receiver's own
    evalDeriv; J D from tangent solves (one direction or a few) or from the
    rows of J (more directions than adjoint solves)."""
    p, m = conductor_case
    loc = p.receiver_locations
    rxs = [
        nsem.receivers.Impedance(loc, orientation="yx", component="apparent_resistivity"),
        Tipper(loc, orientation="zx", component="real"),
        Tipper(loc, orientation="zx", component="imag"),
    ]
    sim = _te_simulation(p, rxs)
    rng = np.random.default_rng(5)
    f = sim.fields(m)
    d = sim.dpred(m, f=f)
    dobs = d * (1 + 0.05 * rng.standard_normal(d.size))
    weights = 1.0 / (0.05 * np.abs(d) + 0.01)
    engine = ForwardEngine([sim])
    k = {"single": 1, "tangent": 2}.get(route, engine.max_adjoint_solves + 2)
    D = rng.standard_normal((m.size, k))
    assert engine.max_adjoint_solves == 2 * p.n_stations  # impedances and tippers: one solve per station each
    out = engine.evaluate(m, dobs=[dobs], weights=[weights], directions=D, jtj_diagonal=True)
    g = sim.Jtvec(m, 2 * weights**2 * (d - dobs), f=f)
    np.testing.assert_allclose(out["gradients"][0], g, atol=1e-9 * np.abs(g).max())
    for j in (0, D.shape[1] - 1):
        jv = sim.Jvec(m, D[:, j], f=f)
        np.testing.assert_allclose(out["jd"][0][:, j], jv, atol=1e-9 * np.abs(jv).max())
    J = np.column_stack([sim.Jvec(m, e, f=f) for e in np.eye(m.size)[:: max(m.size // 40, 1)]])
    diag = np.sum((weights[:, None] * J) ** 2, axis=0)
    np.testing.assert_allclose(out["jtj_diagonal"][:: max(m.size // 40, 1)], diag, rtol=1e-8, atol=1e-12 * diag.max())


def test_simulation_takes_tippers_and_refuses_other_orientations(wide_profile):
    p = wide_profile
    loc = p.receiver_locations
    bad = nsem.receivers.Impedance(loc, orientation="xy")
    survey = nsem.Survey([nsem.sources.Planewave([bad, Tipper(loc, orientation="zx")], frequency=1.0)])
    with pytest.raises(TypeError, match="'yx' impedances and 'zx' tippers"):
        Simulation2DMagneticField(p.mesh, survey=survey, sigmaMap=p.mapping)
    rx = Tipper(loc, orientation="zy")
    sim = _tipper_simulation(p)
    sim.survey = nsem.Survey([nsem.sources.Planewave([rx], frequency=1.0)])
    with pytest.raises(ValueError, match="orientation 'zx'"):
        sim.dpred(np.zeros(p.n_active))


def test_profile_and_spec_with_tipper():
    spec = sz.parse_spec(
        """
        [survey]
        stations = {start = 0, stop = 4000, count = 5}
        frequencies = {max = 10, min = 0.1, count = 3}
        modes = ["TIP", "TE"]
        [noise]
        tipper = 0.02
        [model]
        background = 100
        [[model.blocks]]
        x = [1500, 2500]
        depth = [300, 900]
        resistivity = 5
        """
    )
    assert spec.modes == ("TE", "TIP") and spec.error_tipper == 0.02
    p, _ = sz.synthetic_profile(spec, noise=False)
    assert p.modes == ("TE", "TIP") and p.impedance_modes == ("TE",)
    np.testing.assert_array_equal(p.data["TIP"].standard_deviation, 0.02)
    parts = p.observed("TIP")
    assert set(parts) == {"real", "imag"} and parts["real"].shape == (3, 5)
    assert np.abs(parts["real"]).max() > 0.05
    with pytest.raises(sz.SpecError, match="needs TE or TM"):
        sz.parse_spec('[survey]\nstations=[0, 1000]\nfrequencies=[1.0]\nmodes=["TIP"]\n[model]\nbackground=10\n')
    with pytest.raises(ValueError, match="needs TE or TM"):
        sz.build_profile([0.0, 1000.0], [1.0], modes=["TIP"])


# ---------------------------------------------------------------- field data
PARALANA = Path(__file__).resolve().parents[2] / "shared" / "data" / "paralana"
#: A TE+TM+TIP survey over a conductor, small enough for tests.
JOINT_SPEC = """
[survey]
stations = {start = 0, stop = 6000, count = 7}
frequencies = {max = 30, min = 0.1, count = 4}
modes = ["TE", "TM", "TIP"]
[model]
background = 100
[[model.blocks]]
x = [3500, 5000]
depth = [300, 1500]
resistivity = 3
"""


@pytest.fixture(scope="module")
def tipper_survey_files(tmp_path_factory):
    """A TE+TM+TIP synthetic profile written as EDI files (line to azimuth 30)."""
    spec = sz.parse_spec(JOINT_SPEC)
    profile, _ = sz.synthetic_profile(spec, noise=False)
    folder = tmp_path_factory.mktemp("edi_tipper")
    paths = sz.write_edi(profile, folder, latitude=-30.0, longitude=139.0, azimuth=30.0)
    return profile, folder, paths


def test_edi_tipper_round_trip_in_the_profile_frame(tipper_survey_files):
    """Tipper written as EDI TX/TY (z down, north/east) and read back through
    mt-metadata, rotated with the impedance onto the line: Tzx of the
    profile, its sign (z up) and the absolute error floor."""
    profile, folder, _ = tipper_survey_files
    survey = sz.read_edi_survey(folder, modes=["TE", "TM", "TIP"], band="all", tipper_floor=0.03)
    assert abs(survey.line_azimuth - 30.0) < 0.1 and abs(np.mod(survey.strike, 180) - 120.0) < 0.1
    obs = profile.observed("TIP")
    np.testing.assert_allclose(survey.tipper, obs["real"] + 1j * obs["imag"], atol=1e-6)
    np.testing.assert_allclose(survey.tipper_std, 0.03)  # the floor above the written 0.01
    p2, _ = profile_from_survey(survey)
    assert p2.modes == ("TE", "TM", "TIP")
    np.testing.assert_allclose(p2.observed("TIP")["real"], obs["real"], atol=1e-6)
    assert survey.summary()["tipper_stations"] == profile.n_stations


def test_stations_without_tipper_lose_only_their_tipper(tipper_survey_files, tmp_path, caplog):
    """A file whose tipper blocks are all zero (how many programs write a
    missing tipper) is reported and its tipper left out; its impedances stay."""
    profile, _, paths = tipper_survey_files
    for path in paths:
        text = open(path).read()
        if path == paths[2]:
            lines, out, zero = text.split("\n"), [], False
            for line in lines:
                if line.startswith(">"):
                    zero = line.split()[0] in (">TXR.EXP", ">TXI.EXP", ">TYR.EXP", ">TYI.EXP")
                    out.append(line)
                elif zero:
                    out.append(" ".join("0.000000E+00" for _ in line.split()))
                else:
                    out.append(line)
            text = "\n".join(out)
        (tmp_path / Path(path).name).write_text(text)
    with caplog.at_level("WARNING", logger="simpeg_zo"):
        survey = sz.read_edi_survey(tmp_path, modes=["TE", "TM", "TIP"], band="all")
    assert "1 of 7 stations have no tipper" in caplog.text
    assert np.isnan(survey.tipper[:, 2]).all() and np.isfinite(survey.tipper[:, [0, 1, 3]]).all()
    assert np.isfinite(survey.rho["TE"][:, 2]).all()
    assert sum(d["reason"] == "no tipper" for d in survey.dropped) == profile.n_frequencies


@pytest.mark.needs_shared(PARALANA)
def test_zero_filled_tipper_blocks_are_refused():
    """Paralana's files carry TX/TY blocks of zeros: no tipper, said before
    any mesh is built."""
    assert sz.read_edi(PARALANA / "pb23c.edi").tipper is None
    with pytest.raises(sz.EDIError, match="no file has a tipper"):
        sz.read_edi_survey(PARALANA, modes=["TE", "TM", "TIP"])


def test_occam2d_file_carries_the_tipper(tipper_survey_files, tmp_path):
    """Occam2D types 3/4 (tipper real/imag, z down: -Tzx) beside 1/2, 5/6."""
    profile, _, _ = tipper_survey_files
    files = sz.write_occam2d(profile, tmp_path)
    text = open(files["data"]).read().splitlines()
    start = next(i for i, line in enumerate(text) if line.upper().startswith("DATA BLOCKS"))
    rows = np.array([[float(v) for v in line.split()] for line in text[start + 2 :] if line.strip()])
    assert set(rows[:, 2].astype(int)) == {1, 2, 3, 4, 5, 6}
    site, freq = 3, 2
    real = rows[(rows[:, 0] == site) & (rows[:, 1] == freq) & (rows[:, 2] == 3)]
    assert real[0, 3] == pytest.approx(-profile.observed("TIP")["real"][freq - 1, site - 1], abs=1e-5)


def _frame_of(stations):
    """mtpy-v2's data-frame layout (impedance and tipper columns) of stations."""
    import pandas as pd

    rows = []
    for st in stations:
        for k, f in enumerate(st.frequencies):
            row = {
                "station": st.name,
                "period": 1.0 / f,
                "latitude": st.latitude,
                "longitude": st.longitude,
                "elevation": st.elevation,
            }
            for comp, a, b in (("xx", 0, 0), ("xy", 0, 1), ("yx", 1, 0), ("yy", 1, 1)):
                row[f"z_{comp}"], row[f"z_{comp}_error"] = st.impedance[k, a, b], st.impedance_std[k, a, b]
            for col, comp in enumerate(("zx", "zy")):
                row[f"t_{comp}"] = np.nan_to_num(st.tipper[k, col])
                row[f"t_{comp}_error"] = st.tipper_std[k, col]
            rows.append(row)
    return pd.DataFrame(rows)


def test_mtpy_frame_tipper_gives_the_edi_tipper(tipper_survey_files):
    """mtpy-v2's ``t_zx``/``t_zy`` columns take the EDI path's steps."""
    _, folder, paths = tipper_survey_files
    options = {"modes": ["TE", "TM", "TIP"], "band": "all"}
    edi = sz.read_edi_survey(folder, **options)
    stations = sz.read_edi_files(paths)
    frame = sz.read_mtpy_survey(_frame_of(stations), **options)
    np.testing.assert_allclose(frame.tipper, edi.tipper, rtol=1e-10)
    np.testing.assert_allclose(frame.tipper_std, edi.tipper_std, rtol=1e-10)


def test_tipper_through_mtpy_itself(tipper_survey_files):
    """EDI files with a tipper read by mtpy-v2 (MTData) give the EDI reader's tipper."""
    import os

    if not os.environ.get("SIMPEG_ZO_REQUIRE_MTPY"):
        pytest.importorskip("mtpy")
    from mtpy import MTData

    _, folder, paths = tipper_survey_files
    data = MTData()
    data.add_station(paths)
    options = {"modes": ["TE", "TM", "TIP"], "band": "all"}
    got = sz.read_mtpy_survey(data, **options)
    expected = sz.read_edi_survey(folder, **options)
    np.testing.assert_allclose(got.tipper, expected.tipper, rtol=1e-8, atol=1e-10)


def test_occam2d_tipper_reads_back_in_mtpy(tipper_survey_files, tmp_path):
    """mtpy-v2's Occam2D reader takes types 3/4 as t_zy (z down): -Tzx."""
    import os

    if not os.environ.get("SIMPEG_ZO_REQUIRE_MTPY"):
        pytest.importorskip("mtpy")
    from mtpy.modeling.occam2d import Occam2DData

    profile, _, _ = tipper_survey_files
    files = sz.write_occam2d(profile, tmp_path)
    data = Occam2DData()
    data.read_data_file(Path(files["data"]))
    frame = data.dataframe
    names = profile.station_names or [f"site{i + 1:03d}" for i in range(profile.n_stations)]
    obs = profile.observed("TIP")
    checked = 0
    for _, row in frame.iterrows():
        i = names.index(row.station)
        j = int(np.argmin(np.abs(profile.frequencies - 1.0 / row.period)))
        assert complex(row.t_zy) == pytest.approx(-(obs["real"][j, i] + 1j * obs["imag"][j, i]), abs=1e-5)
        checked += 1
    assert checked == profile.n_stations * profile.n_frequencies


def test_te_and_tipper_share_one_simulation():
    """With TE and TIP, one TE simulation carries both receivers: the data
    misfit has two terms (TE+TIP, TM), its misfit is the profile's, and the
    data equal those of the separate per-mode simulations."""
    spec = sz.parse_spec(JOINT_SPEC)
    p, m = sz.synthetic_profile(spec)
    dmis = p.data_misfit()
    sims = [term.simulation for term in dmis.objfcts]
    assert len(sims) == 2 and sims[1] is p.simulations["TM"]
    assert sims[0].survey.nD == p.data["TE"].nD + p.data["TIP"].nD
    d = p.dpred(m)
    for mode in p.modes:
        np.testing.assert_allclose(d[mode], p.simulations[mode].dpred(m), rtol=1e-9, atol=1e-12)
    assert dmis(m) == pytest.approx(p.chi2(d) * p.n_data, rel=1e-9)


def test_zrot_turns_the_tipper_back_with_the_impedance(tipper_survey_files, tmp_path):
    """>ZROT and >TROT blocks of 25 degrees (the files give impedance and
    tipper in axes turned by 25 degrees): both are turned back to
    north/east on reading."""
    profile, _, paths = tipper_survey_files
    folder = tmp_path / "turned"
    folder.mkdir()
    angle = 25.0
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    for path in paths:
        st = sz.read_edi(path)
        z, _ = sz._edi.rotate_impedance(st.impedance, angle, st.impedance_std)
        t = np.stack([c * st.tipper[:, 0] + s * st.tipper[:, 1], -s * st.tipper[:, 0] + c * st.tipper[:, 1]], axis=-1)
        text = Path(path).read_text()
        values = {"ZXX": z[:, 0, 0], "ZXY": z[:, 0, 1], "ZYX": z[:, 1, 0], "ZYY": z[:, 1, 1]}
        values.update(TX=t[:, 0], TY=t[:, 1])
        lines = text.splitlines(keepends=True)
        out, skip = [], False
        for ln in lines:
            head = ln.split()[0].upper() if ln.strip().startswith(">") else None
            if head is not None:
                skip = False
                name = head[1:]
                part = name[-1] if name[-1] in "RI" else None
                key = name[:-1] if part else None
                if name.endswith(".EXP"):
                    key, part = name[:-5], name[-5]
                if name in ("ZROT", "TROT"):  # the axes both are given in
                    out.append(ln)
                    out.append(" ".join([f"{angle}"] * z.shape[0]) + "\n")
                    skip = True
                    continue
                if key in values and part in ("R", "I"):
                    v = values[key].real if part == "R" else values[key].imag
                    out.append(ln)
                    out.append(" ".join(f"{x:.10e}" for x in v) + "\n")
                    skip = True
                    continue
            if not skip:
                out.append(ln)
        (folder / Path(path).name).write_text("".join(out))
    plain = sz.read_edi_survey(paths, modes=["TE", "TM", "TIP"], band="all")
    survey = sz.read_edi_survey(folder, modes=["TE", "TM", "TIP"], band="all")
    assert survey.strike == pytest.approx(plain.strike, abs=0.01)
    np.testing.assert_allclose(survey.tipper, plain.tipper, atol=1e-6)
    np.testing.assert_allclose(survey.rho["TM"], plain.rho["TM"], rtol=1e-6)
