"""Field data: the Paralana EDI profile and its published Occam2D inversion.

The files are third-party data kept outside the repository, in
``../shared/data/paralana`` relative to the repository root; every test here
is skipped when that folder is absent (and fails where ``../shared`` exists:
see ``conftest.py``).
"""

import csv
import logging
import os
import re
import shutil
import warnings

import numpy as np
import pytest

import simpeg_zo as sz

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARALANA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "paralana"))
OCCAM = os.path.join(PARALANA, "occam2d_mtpy_example")

pytestmark = pytest.mark.needs_shared(PARALANA)
#: The published Occam2D run's choices (OccamDataFile.dat).
OCCAM_CHOICES = {"fmin": 1.1, "strike": 7.0, "line_azimuth": 97.0, "band": "all"}


@pytest.fixture(scope="module")
def stations():
    return sz.read_edi_files(PARALANA)


@pytest.fixture(scope="module")
def occam_survey():
    return sz.read_edi_survey(PARALANA, **OCCAM_CHOICES)


def _stations_csv():
    with open(os.path.join(PARALANA, "stations.csv")) as fh:
        rows = [line for line in fh if not line.startswith("#")]
    return {r["station"]: r for r in csv.DictReader(rows)}


def _occam_data():
    """{(site, freq, type): (datum, error)} of OccamDataFile.dat (1-based)."""
    lines = open(os.path.join(OCCAM, "OccamDataFile.dat")).read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["SITE", "FREQ"]) + 1
    out = {}
    for line in lines[start:]:
        if not line.strip():
            continue
        s, f, t, d, e = line.split()
        out[int(s), int(f), int(t)] = (float(d), float(e))
    return out


def test_read_all_stations(stations):
    table = _stations_csv()
    assert len(stations) == 15
    for st in stations:
        row = table[st.name]
        assert st.frequencies.size == 43
        assert st.impedance.shape == (43, 2, 2)
        assert st.elevation == pytest.approx(float(row["elev_m"]))
        assert st.latitude == pytest.approx(float(row["lat"]), abs=1e-6)
        # the file's variances, as standard deviations
        assert np.all(st.impedance_std[:, 0, 1] > 0)


def test_projection_matches_stations_csv(stations):
    table = _stations_csv()
    proj = sz.project_stations([s.latitude for s in stations], [s.longitude for s in stations])
    assert proj.azimuth == pytest.approx(100.8, abs=0.05)
    for st, along, perp in zip(stations, proj.along, proj.perpendicular, strict=True):
        assert along == pytest.approx(1000 * float(table[st.name]["along_km"]), abs=1.5)
        assert perp == pytest.approx(1000 * float(table[st.name]["perp_km"]), abs=1.5)


def test_rotation_invariants(stations):
    z, zs = stations[0].impedance, stations[0].impedance_std
    z0, zs0 = sz.rotate_impedance(z, 0.0, zs)
    np.testing.assert_allclose(z0, z, rtol=0, atol=1e-12)
    np.testing.assert_allclose(zs0, zs, rtol=0, atol=1e-12)
    z90, zs90 = sz.rotate_impedance(z, 90.0, zs)
    # xy and yx swap (with a sign: the phase moves by 180 degrees)
    np.testing.assert_allclose(z90[:, 0, 1], -z[:, 1, 0], atol=1e-9)
    np.testing.assert_allclose(z90[:, 1, 0], -z[:, 0, 1], atol=1e-9)
    np.testing.assert_allclose(zs90[:, 0, 1], zs[:, 1, 0], atol=1e-12)
    np.testing.assert_allclose(z90[:, 0, 0], z[:, 1, 1], atol=1e-9)
    # apparent resistivity is invariant to the 180 degree sign
    f = stations[0].frequencies
    rho_xy90 = sz._edi.apparent_resistivity_phase(z90[:, 0, 1], zs90[:, 0, 1], f)[0]
    rho_yx = sz._edi.apparent_resistivity_phase(z[:, 1, 0], zs[:, 1, 0], f)[0]
    np.testing.assert_allclose(rho_xy90, rho_yx, rtol=1e-12)
    # the sum of squared off-diagonal moduli is invariant under rotation
    z33 = sz.rotate_impedance(z, 33.0)
    np.testing.assert_allclose(np.abs(z33[:, 0, 1] - z33[:, 1, 0]), np.abs(z[:, 0, 1] - z[:, 1, 0]), rtol=1e-9)


def test_te_tm_match_occam2d_data_file(occam_survey):
    """After rotation to 7 degrees, TE is Zxy and TM Zyx: our apparent
    resistivities and phases equal the published Occam2D data to rounding."""
    occ = _occam_data()
    names = open(os.path.join(OCCAM, "OccamDataFile.dat")).read().split("SITES:")[1].split()[1:16]
    assert occam_survey.frequencies.size == 19
    assert occam_survey.frequencies[0] == 78.125 and occam_survey.frequencies[-1] == 1.171875
    assert occam_survey.n_data == 1140 == len(occ)
    for site, name in enumerate(names, start=1):
        i = occam_survey.names.index(name)
        for j in range(19):
            for mode, (t_rho, t_phase), shift in (("TE", (1, 2), 0.0), ("TM", (5, 6), 180.0)):
                log_rho = np.log10(occam_survey.rho[mode][j, i])
                assert log_rho == pytest.approx(occ[site, j + 1, t_rho][0], abs=2e-4)
                assert occam_survey.phase[mode][j, i] + shift == pytest.approx(occ[site, j + 1, t_phase][0], abs=2e-3)


def test_error_floors(occam_survey):
    assert sz.phase_floor_degrees(5.0) == pytest.approx(2.866, abs=5e-4)
    occ = _occam_data()
    for mode in ("TE", "TM"):
        rho, rs = occam_survey.rho[mode], occam_survey.rho_std[mode]
        ps = occam_survey.phase_std[mode]
        assert np.all(rs >= 0.1 * rho * (1 - 1e-12))
        assert np.all(ps >= sz.phase_floor_degrees(5.0) - 1e-12)
    # where the file's error exceeds the floor, it is kept (Occam2D did the same)
    floor_log10 = 0.1 / np.log(10)
    i = occam_survey.names.index("pb43")  # site 2 in the Occam2D file
    rel = occam_survey.rho_std["TE"][:, i] / occam_survey.rho["TE"][:, i]
    above = rel > 0.1 + 1e-9
    assert above.any()
    occ_above = np.array([occ[2, j + 1, 1][1] > floor_log10 + 5e-4 for j in range(19)])
    np.testing.assert_array_equal(above[occ_above], True)
    # larger floors only ever raise the standard deviations
    loose = sz.read_edi_survey(PARALANA, error_floor=0.2, phase_floor=5.0, **OCCAM_CHOICES)
    assert np.all(loose.rho_std["TE"] >= occam_survey.rho_std["TE"])
    assert np.all(loose.phase_std["TM"] >= 5.0)


def test_default_band_strike_and_dropped_data(caplog):
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        full = sz.read_edi_survey(PARALANA, band="all")
    said = [r.getMessage() for r in caplog.records]
    assert any(re.match(r"pb33 \(pb33c.edi\): dropped 2 of 86 .*wrong quadrant", m) for m in said)
    assert full.frequencies.size == 43
    assert len(full.dropped) == 2
    assert {d["station"] for d in full.dropped} == {"pb33"}
    assert full.summary()["dropped"][0]["reason"] == "phase in the wrong quadrant"
    auto = sz.read_edi_survey(PARALANA, band="skew")
    # the phase-tensor skew keeps the 2D high-frequency band (Occam2D's 19 and two more)
    assert auto.band["fmax_hz"] == 78.125 and auto.band["n_frequencies"] == 21
    assert auto.strike_estimated and -10.0 < auto.strike < 10.0
    step = sz.read_edi_survey(PARALANA, frequency_step=3, **OCCAM_CHOICES)
    np.testing.assert_array_equal(step.frequencies, occam_survey_freqs()[::3])


def occam_survey_freqs():
    return sz.read_edi_survey(PARALANA, **OCCAM_CHOICES).frequencies


def _copy_with(tmp_path, bad_name, text_edit):
    folder = tmp_path / "edi"
    folder.mkdir()
    for name in ("pb44c.edi", "pb43c.edi", "pb42c.edi", "pb41c.edi"):
        shutil.copy(os.path.join(PARALANA, name), folder / name)
    path = folder / bad_name
    path.write_text(text_edit(path.read_text()))
    return folder


def test_partial_edi_is_an_error_naming_the_file(tmp_path, caplog):
    folder = _copy_with(tmp_path, "pb42c.edi", lambda t: t[: len(t) // 3])
    with pytest.raises(sz.EDIError, match=r"pb42c.edi: block >ZXYR has \d+ values, expected 43"):
        sz.read_edi_survey(folder)
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(folder, skip_bad=True, **OCCAM_CHOICES)
    assert any(re.match("skipping .*pb42c.edi", r.getMessage()) for r in caplog.records)
    assert survey.names == ["pb44", "pb43", "pb41"]


def test_zero_variance_is_dropped(tmp_path, caplog):
    def zero_first_variance(text):
        head, tail = text.split(">ZXY.VAR", 1)
        first_line_end = tail.index("\n", tail.index("\n") + 1)
        values = tail[tail.index("\n") + 1 : first_line_end].split()
        values[0] = "0.0"
        return head + ">ZXY.VAR" + tail[: tail.index("\n") + 1] + "   " + "   ".join(values) + tail[first_line_end:]

    folder = _copy_with(tmp_path, "pb43c.edi", zero_first_variance)
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(folder, strike=0.0, fmin=1.1, band="all")
    assert any(re.match("pb43 .*dropped 1 of 38", r.getMessage()) for r in caplog.records)
    assert survey.dropped == [
        {"station": "pb43", "mode": "TE", "frequency": 78.125, "reason": "variance zero or missing"}
    ]


def test_cli_errors_exit_2_without_traceback(tmp_path, capsys):
    from simpeg_zo.cli import main

    folder = _copy_with(tmp_path, "pb41c.edi", lambda t: t.replace("LAT=", "XLAT=").replace("LONG=", "XLONG="))
    assert main(["invert", str(folder), "--method", "zo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pb41c.edi: no station coordinates" in err
    assert main(["invert", str(tmp_path / "nothing"), "--method", "zo"]) == 2


def test_static_shift_spatial_median(occam_survey):
    from dataclasses import replace

    base = sz.static_shift_factors(occam_survey)
    i = occam_survey.names.index("pb37")
    rho = dict(occam_survey.rho)
    rho["TE"] = rho["TE"].copy()
    rho["TE"][:, i] *= 3.0
    shifted = sz.static_shift_factors(replace(occam_survey, rho=rho))
    assert shifted["TE"][i] == pytest.approx(3.0 * base["TE"][i], rel=0.15)
    # the phase is left alone, the other mode too
    np.testing.assert_allclose(shifted["TM"], base["TM"])


def test_occam2d_reader():
    occ = sz.read_occam2d(OCCAM)
    assert occ.iteration == 12 and occ.misfit == pytest.approx(1.0, abs=1e-5)
    assert occ.log10_resistivity.shape == (60, 82)
    assert np.all(np.isfinite(occ.log10_resistivity))
    # every station on a mesh node, the first at 0
    for x in occ.station_offsets:
        assert np.min(np.abs(occ.x_nodes - x)) < 1.0
    assert occ.station_offsets[-1] == pytest.approx(14004.2)


def test_short_zo_inversion_lowers_the_misfit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile, survey = sz.read_edi_profile(PARALANA, frequency_step=3, cells_per_station=2, **OCCAM_CHOICES)
    assert profile.n_stations == 15 and profile.n_frequencies == 7
    result = sz.invert_profile(profile, "zo", max_iter=2)
    assert result.history[-1]["chi2"] < result.history[0]["chi2"]
    table = sz.misfit_tables(profile, result.dpred)
    assert len(table["stations"]) == 15 and len(table["frequencies"]) == 7
    assert sum(r["n"] for r in table["stations"]) == profile.n_data


def _block_edit(name, edit):
    """A text edit of one ``>NAME`` data block: ``edit(values) -> values`` (strings)."""

    def change(text):
        lines = text.splitlines(keepends=True)
        start = next(i for i, ln in enumerate(lines) if ln.split() and ln.split()[0] == f">{name}")
        end = next(i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith(">"))
        values = edit(" ".join(lines[start + 1 : end]).split())
        body = ["  " + " ".join(values[i : i + 6]) + "\n" for i in range(0, len(values), 6)]
        return "".join(lines[: start + 1] + body + lines[end:])

    return change


def test_empty_filler_and_zero_off_diagonals_are_missing(tmp_path, caplog):
    """1.0E+32 (the EDI filler) in ZYXR at the five highest frequencies and
    an exactly zero ZXY at the lowest three: those soundings are missing
    ('impedance NaN or zero'), the other mode at those frequencies stays,
    and no filler enters the data, screened or not. They had come through
    as apparent resistivities near 1e-5 ohm-m with --band all (chi2 7e8)."""

    def fill(values):
        return ["1.0E+32"] * 5 + values[5:]

    def zero(values):
        return values[:-3] + ["0.0"] * 3

    def edit(text):
        return _block_edit("ZXYI", zero)(_block_edit("ZXYR", zero)(_block_edit("ZYXR", fill)(text)))

    folder = _copy_with(tmp_path, "pb42c.edi", edit)
    for band in ("all", "screen"):
        survey = sz.read_edi_survey(folder, strike=0.0, band=band)
        j = survey.names.index("pb42")
        lost = {(d["mode"], d["frequency"]) for d in survey.dropped if d["station"] == "pb42"}
        f = survey.frequencies
        assert {("TM", float(x)) for x in f[:5]} <= lost and {("TE", float(x)) for x in f[-3:]} <= lost
        for d in survey.dropped:
            if d["station"] == "pb42" and (d["mode"], d["frequency"]) in {("TM", float(x)) for x in f[:5]}:
                assert d["reason"] == "impedance NaN or zero"
        assert np.isfinite(survey.rho["TE"][:5, j]).all() and np.isfinite(survey.rho["TM"][-3:, j]).all()
        for m in ("TE", "TM"):
            assert np.nanmin(survey.rho[m]) > 0.1  # no filler became data


def test_a_file_without_variances_takes_the_floors(tmp_path, caplog):
    """The .VAR blocks are optional in the EDI standard: without them the
    error floors are the errors (and a warning says so), instead of every
    sounding being dropped."""

    def strip(text):
        lines, out, skip = text.splitlines(keepends=True), [], False
        for ln in lines:
            if ln.lstrip().startswith(">"):
                skip = ln.split()[0].upper().endswith(".VAR")
            if not skip:
                out.append(ln)
        return "".join(out)

    folder = _copy_with(tmp_path, "pb43c.edi", strip)
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(folder, strike=0.0, fmin=1.1, band="all", error_floor=0.1)
    assert any("pb43" in r.getMessage() and "floors alone" in r.getMessage() for r in caplog.records)
    j = survey.names.index("pb43")
    assert not any(d["station"] == "pb43" for d in survey.dropped)
    rel = survey.rho_std["TE"][:, j] / survey.rho["TE"][:, j]
    np.testing.assert_allclose(rel[np.isfinite(rel)], 0.1)
    assert np.isfinite(rel).sum() == survey.frequencies.size


def test_learned_method_on_a_single_station_exits_2(tmp_path, capsys):
    from simpeg_zo.cli import main

    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(os.path.join(PARALANA, "pb30c.edi"), folder / "pb30c.edi")
    code = main(["invert", str(folder), "--method", "cnn", "--no-figures", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "--method cnn needs at least two stations" in err and "Traceback" not in err


def test_a_station_far_off_the_line_is_an_error_naming_it(tmp_path):
    """A latitude that lost its sign puts a station 6,700 km away: the mesh
    would have needed 144,000 columns (the run was killed for memory).
    The reader names the gap's stations instead."""
    folder = _copy_with(tmp_path, "pb42c.edi", lambda t: t.replace("LAT=-", "LAT=", 1))
    with pytest.raises(sz.EDIError, match=r"67\d\d km of it one gap between .*pb42 \(pb42c.edi\)"):
        sz.read_edi_survey(folder)
    # the four stations themselves are a line, and so are they each occupied twice 10-20 m apart
    # (most gaps then short: the line is judged by its largest gap against the rest)
    (tmp_path / "ok").mkdir()
    ok = _copy_with(tmp_path / "ok", "pb42c.edi", lambda t: t)
    assert sz.read_edi_survey(ok).names == ["pb44", "pb43", "pb42", "pb41"]
    for name in ("pb44c.edi", "pb43c.edi", "pb42c.edi", "pb41c.edi"):
        text = (ok / name).read_text()
        lon = re.search(r"LONG=([-0-9.]+)", text).group(1)
        moved = text.replace(f"LONG={lon}", f"LONG={float(lon) + 0.00015:.6f}").replace('DATAID="', 'DATAID="r')
        (ok / f"r{name}").write_text(moved)
    assert len(sz.read_edi_survey(ok).names) == 8


def test_elevations_a_file_lacks_or_gives_with_a_unit(tmp_path, caplog):
    """mt-metadata reads ELEV=40 ft as 0 and a missing ELEV as 0: a pit in
    the topography. A unit after the number is read; a station without a
    readable elevation takes its neighbours' (linear along the line), with
    a warning naming it."""
    base = sz.read_edi_survey(_copy_with(tmp_path, "pb42c.edi", lambda t: t), strike=0.0, band="all")
    (tmp_path / "ft").mkdir()
    feet = _copy_with(tmp_path / "ft", "pb42c.edi", lambda t: re.sub(r"ELEV=[-0-9.]+", "ELEV=130 ft", t, count=1))
    survey = sz.read_edi_survey(feet, strike=0.0, band="all")
    assert survey.elevations[survey.names.index("pb42")] == pytest.approx(130 * 0.3048)
    (tmp_path / "none").mkdir()
    gone = _copy_with(tmp_path / "none", "pb42c.edi", lambda t: re.sub(r"\n\s*(REF)?ELEV=[-0-9.]+", "", t))
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(gone, strike=0.0, band="all")
    assert any("pb42 (pb42c.edi)" in r.getMessage() and "neighbours" in r.getMessage() for r in caplog.records)
    j = survey.names.index("pb42")
    between = np.interp(survey.along[j], survey.along[[j - 1, j + 1]], base.elevations[[j - 1, j + 1]])
    assert survey.elevations[j] == pytest.approx(between)
    assert 40.0 < survey.elevations[j] < 50.0


def test_frequencies_written_with_three_digits_match_the_others(tmp_path):
    """One file's frequencies with three significant digits (0.117 for
    0.1171875, 0.16 % off) are the same frequencies as the other files':
    they had made 13 new frequencies, and every other station was reported
    short of them."""

    def rounded(values):
        return [f"{float(v):.3g}" for v in values]

    base = sz.read_edi_survey(_copy_with(tmp_path, "pb42c.edi", lambda t: t), strike=0.0, band="all")
    (tmp_path / "r").mkdir()
    survey = sz.read_edi_survey(
        _copy_with(tmp_path / "r", "pb42c.edi", _block_edit("FREQ", rounded)), strike=0.0, band="all"
    )
    assert survey.frequencies.size == base.frequencies.size
    assert len(survey.dropped) == len(base.dropped)
    # rho_a from each file's own frequency: within the rounding
    np.testing.assert_allclose(survey.rho["TE"], base.rho["TE"], rtol=1e-2)


def test_zrot_turns_the_impedance_back_to_north(tmp_path):
    """Data given in axes turned by ZROT (here 30 degrees) are turned back
    before anything reads them: the strike and the soundings are those of
    the unturned files (the strike had come out 30 degrees off, silently).
    The tipper's turn: test_tipper."""
    names = ("pb44c.edi", "pb43c.edi", "pb42c.edi", "pb41c.edi")
    folder = tmp_path / "turned"
    folder.mkdir()
    for name in names:
        st = sz.read_edi(os.path.join(PARALANA, name))
        z, zs = sz._edi.rotate_impedance(st.impedance, 30.0, st.impedance_std)
        text = open(os.path.join(PARALANA, name)).read()
        blocks = {"ZXX": (0, 0), "ZXY": (0, 1), "ZYX": (1, 0), "ZYY": (1, 1)}
        for block, (a, b) in blocks.items():
            element = z[:, a, b]
            text = _block_edit(block + "R", lambda v, e=element: [f"{x:.8e}" for x in e.real])(text)
            text = _block_edit(block + "I", lambda v, e=element: [f"{x:.8e}" for x in e.imag])(text)
        n = st.frequencies.size
        rows = "".join("  " + " ".join(["30.0"] * len(range(i, min(i + 6, n)))) + "\n" for i in range(0, n, 6))
        text = text.replace(">ZXXR", f">ZROT // {n}\n{rows}>ZXXR", 1)
        (folder / name).write_text(text)
    plain = sz.read_edi_survey([os.path.join(PARALANA, n) for n in names], band="all")
    survey = sz.read_edi_survey(folder, band="all")
    assert survey.strike == pytest.approx(plain.strike, abs=0.01)
    for m in ("TE", "TM"):
        np.testing.assert_allclose(survey.rho[m], plain.rho[m], rtol=1e-6)
        np.testing.assert_allclose(survey.phase[m], plain.phase[m], atol=1e-5)


def test_a_short_block_is_named_and_far_stations_are_warned_of(tmp_path, caplog):
    """A block one value short is named (mt-metadata's own error had been
    'operands could not be broadcast'); a station 2.6 km off a line of
    0.85 km spacing, and a given azimuth 89 degrees off the stations' line,
    are named in warnings."""
    folder = _copy_with(tmp_path, "pb42c.edi", _block_edit("ZXYI", lambda v: v[:-1]))
    with pytest.raises(sz.EDIError, match=r"pb42c.edi: block >ZXYI has 42 values, expected 43"):
        sz.read_edi_survey(folder)
    off = tmp_path / "off"
    shutil.copytree(PARALANA, off, ignore=shutil.ignore_patterns("occam2d*"))
    path = off / "pb30c.edi"
    path.write_text(re.sub(r"LAT=-30\.(\d+)", "LAT=-30.19066", path.read_text(), count=1))
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        sz.read_edi_survey(off, strike=0.0)
        sz.read_edi_survey(PARALANA, strike=0.0, line_azimuth=10.0)
    said = [r.getMessage() for r in caplog.records]
    assert any("1 station(s) lie more than" in m and "pb30 (-26" in m for m in said)
    assert any("given line azimuth 10 deg is 89 deg off" in m for m in said)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        sz.read_edi_survey(PARALANA, strike=0.0, line_azimuth=97.0)
    assert not any("off the line" in r.getMessage() or "azimuth" in r.getMessage() for r in caplog.records)


def test_a_repeated_frequency_is_warned_of(tmp_path, caplog):
    """A frequency row written twice, the second with other impedances:
    the reader says so and uses the first (it had used the first silently)."""

    def repeat(block, scale):
        return _block_edit(block, lambda v: v[:19] + [f"{float(v[18]) * scale:.8e}"] + v[19:])

    def edit(text):
        for block in ("FREQ", "ZXXR", "ZXXI", "ZXYR", "ZXYI", "ZYXR", "ZYXI", "ZYYR", "ZYYI"):
            text = repeat(block, 1.0 if block == "FREQ" else 3.0)(text)
        for block in ("ZXX.VAR", "ZXY.VAR", "ZYX.VAR", "ZYY.VAR", "TXR", "TXI", "TX.VAR", "TYR", "TYI", "TY.VAR"):
            text = repeat(block, 1.0)(text) if f">{block}" in text else text
        return text.replace("NFREQ=43", "NFREQ=44").replace("// 43", "// 44")

    folder = _copy_with(tmp_path, "pb42c.edi", edit)
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        survey = sz.read_edi_survey(folder, strike=0.0, band="all")
    assert any("frequency 1.17188 Hz appears twice with different impedances" in r.getMessage() for r in caplog.records)
    (tmp_path / "p").mkdir()
    plain = sz.read_edi_survey(_copy_with(tmp_path / "p", "pb42c.edi", lambda t: t), strike=0.0, band="all")
    np.testing.assert_allclose(survey.rho["TE"], plain.rho["TE"], rtol=1e-9)


def test_a_station_decades_off_the_others_does_not_size_the_mesh(tmp_path, caplog):
    """One file's impedance in ohm instead of mV/km/nT (apparent resistivity
    5.8 decades low) had shrunk the surface cells: 1,881 rows instead of
    101 on the Paralana line. It is named in a warning and left out of the
    mesh's resistivity range (its data stay)."""
    scale = 4e-4 * np.pi

    def to_ohm(text):
        for block in ("ZXXR", "ZXXI", "ZXYR", "ZXYI", "ZYXR", "ZYXI", "ZYYR", "ZYYI"):
            text = _block_edit(block, lambda v: [f"{float(x) * scale:.8e}" for x in v])(text)
        for block in ("ZXX.VAR", "ZXY.VAR", "ZYX.VAR", "ZYY.VAR"):
            text = _block_edit(block, lambda v: [f"{float(x) * scale**2:.8e}" for x in v])(text)
        return text

    plain, _ = sz.read_edi_profile(_copy_with(tmp_path, "pb42c.edi", lambda t: t), band="all")
    (tmp_path / "ohm").mkdir()
    with caplog.at_level(logging.WARNING, logger="simpeg_zo"):
        profile, survey = sz.read_edi_profile(_copy_with(tmp_path / "ohm", "pb42c.edi", to_ohm), band="all")
    assert any("pb42 (-5.7)" in r.getMessage() and "do not size the mesh" in r.getMessage() for r in caplog.records)
    assert profile.mesh.shape_cells == plain.mesh.shape_cells
    assert np.nanmax(survey.rho["TE"][:, survey.names.index("pb42")]) < 1e-3


def test_an_empty_file_is_named_with_what_it_lacks(tmp_path):
    """A 0-byte .edi had given mt-metadata's "cannot be read as an EDI file ('freq')"."""
    (tmp_path / "empty.edi").write_text("")
    with pytest.raises(sz.EDIError, match=r"empty.edi: no >FREQ block \(no frequencies\)"):
        sz.read_edi(tmp_path / "empty.edi")
