"""Profiles: mesh, receivers and SimPEG simulations from stations and frequencies."""

import numpy as np
import pytest
from simpeg.electromagnetics import natural_source as nsem

from simpeg_zo import MODES, build_profile

STATIONS = np.linspace(0.0, 4000.0, 5)
FREQUENCIES = np.logspace(3, -1, 5)


@pytest.fixture(scope="module")
def flat_profile():
    return build_profile(STATIONS, FREQUENCIES, modes=("TE", "TM"), resistivity_range=(100, 100))


@pytest.fixture(scope="module")
def half_space_data(flat_profile):
    return flat_profile.dpred(flat_profile.model_from_resistivity(100.0))


def test_profile_shape(flat_profile):
    p = flat_profile
    assert p.modes == ("TE", "TM")
    assert p.n_stations == 5 and p.n_frequencies == 5
    np.testing.assert_array_equal(p.stations, STATIONS)
    np.testing.assert_array_equal(p.frequencies, FREQUENCIES)
    assert p.active_cells.shape == (p.mesh.n_cells,)
    assert p.n_active == int(p.active_cells.sum()) > 0
    assert p.cell_depths.shape == (p.n_active,)
    assert np.all(p.cell_depths > 0)
    np.testing.assert_allclose(p.elevations, 0.0, atol=1e-9)
    # one apparent resistivity and one phase per station and frequency
    for sim in p.simulations.values():
        assert sim.survey.nD == 2 * p.n_stations * p.n_frequencies


def test_simpeg_classes_and_orientations(flat_profile):
    te, tm = flat_profile.simulations["TE"], flat_profile.simulations["TM"]
    # SimPEG's own classes, with getJtJdiag added (nothing else overridden
    # but fields, which keeps a reference to its result)
    assert type(te).__mro__[2] is nsem.simulation.Simulation2DMagneticField
    assert type(tm).__mro__[2] is nsem.simulation.Simulation2DElectricField
    for sim in (te, tm):
        own = {k for cls in type(sim).__mro__[:2] for k in vars(cls) if not k.startswith("_")}
        assert own == {"fields", "getJtJdiag"}
    assert MODES["TE"][1] == "yx" and MODES["TM"][1] == "xy"
    for sim, orientation in ((te, "yx"), (tm, "xy")):
        for src in sim.survey.source_list:
            for rx in src.receiver_list:
                assert rx.orientation == orientation


@pytest.mark.parametrize(("mode", "phase"), [("TE", 45.0), ("TM", -135.0)])
def test_half_space_response(flat_profile, half_space_data, mode, phase):
    parts = flat_profile.split(half_space_data[mode], mode)
    rho_a, phi = parts["apparent_resistivity"], parts["phase"]
    assert rho_a.shape == (5, 5)
    np.testing.assert_allclose(rho_a, 100.0, rtol=0.02)
    np.testing.assert_allclose(phi, phase, atol=1.5)


def test_split_join_round_trip(flat_profile, half_space_data):
    p = flat_profile
    for mode in p.modes:
        parts = p.split(half_space_data[mode], mode)
        np.testing.assert_array_equal(p.join(parts["apparent_resistivity"], parts["phase"]), half_space_data[mode])


def test_model_from_resistivity_round_trip(flat_profile, rng):
    rho = 10 ** rng.uniform(0, 4, flat_profile.n_active)
    model = flat_profile.model_from_resistivity(rho)
    np.testing.assert_allclose(model, -np.log(rho))
    np.testing.assert_allclose(flat_profile.resistivity(model), rho)


def test_single_mode(flat_profile):
    p = build_profile(STATIONS, FREQUENCIES[:2], modes=["tm"], resistivity_range=(100, 100))
    assert p.modes == ("TM",)
    assert set(p.simulations) == {"TM"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stations": [0.0, 200.0, 100.0]}, "increasing"),
        ({"stations": [0.0, 100.0, 100.0]}, "increasing"),
        ({"stations": []}, "stations"),
        ({"stations": [0.0, np.nan]}, "stations"),
        ({"frequencies": [10.0, -1.0]}, "frequencies"),
        ({"frequencies": [10.0, 0.0]}, "frequencies"),
        ({"frequencies": []}, "frequencies"),
        ({"modes": ("TE", "XY")}, "mode"),
        ({"modes": ()}, "mode"),
        ({"modes": ("TE", "te")}, "twice"),
        ({"resistivity_range": (100.0, 10.0)}, "resistivity_range"),
        ({"resistivity_range": (0.0, 10.0)}, "resistivity_range"),
        ({"elevation": [0.0, 10.0]}, "elevation"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    args = {"stations": [0.0, 100.0, 200.0], "frequencies": [10.0, 1.0]}
    args.update(kwargs)
    stations, frequencies = args.pop("stations"), args.pop("frequencies")
    with pytest.raises(ValueError, match=match):
        build_profile(stations, frequencies, **args)


# -------------------------------------------------------------- topography


def hill(x):
    """A 150 m hill over a 60 m step: rugged enough to cross many cells."""
    x = np.asarray(x, dtype=float)
    return 150.0 * np.exp(-(((x - 1500.0) / 600.0) ** 2)) + 60.0 * (x > 2500.0)


@pytest.fixture(scope="module")
def hill_profile():
    stations = np.linspace(0.0, 4000.0, 21)
    # 1 kHz in 100 ohm-m: surface cells of a fifth of a 160 m skin depth
    return build_profile(stations, [1000.0, 1.0], modes=("TE", "TM"), elevation=hill, resistivity_range=(100, 100))


def _cell_index(mesh, points):
    ix = np.searchsorted(mesh.nodes_x, points[:, 0]) - 1
    iz = np.searchsorted(mesh.nodes_y, points[:, 1]) - 1
    return ix + mesh.shape_cells[0] * iz, ix, iz


def test_receivers_sit_in_the_top_ground_cell(hill_profile):
    p = hill_profile
    index, ix, iz = _cell_index(p.mesh, p.receiver_locations)
    np.testing.assert_array_equal(p.receiver_locations[:, 0], p.stations)
    assert np.all(p.active_cells[index]), "a receiver is in the air"
    above = ix + p.mesh.shape_cells[0] * (iz + 1)
    assert not np.any(p.active_cells[above]), "a receiver is buried below the top ground cell"
    # receivers lie below the discrete surface at each station
    assert np.all(p.receiver_locations[:, 1] < p.elevations)


def test_elevations_follow_topography(hill_profile):
    p = hill_profile
    _, _, iz = _cell_index(p.mesh, p.receiver_locations)
    dz = p.mesh.h[1][iz]
    assert np.all(np.abs(p.elevations - hill(p.stations)) <= dz + 1e-9)
    # the surface does rise over the hill and the step
    assert p.elevations.max() - p.elevations.min() > 150.0 - 2 * dz.max()
    assert dz.max() < 50.0
    # and cell depths are measured from it: positive under ground
    assert np.all(p.cell_depths > 0)


def test_elevation_as_station_values():
    stations = np.linspace(0.0, 2000.0, 11)
    elevation = np.linspace(0.0, 100.0, 11)
    p = build_profile(stations, [100.0], modes=("TE",), elevation=elevation, resistivity_range=(100, 100))
    index, ix, iz = _cell_index(p.mesh, p.receiver_locations)
    assert np.all(p.active_cells[index])
    assert np.all(np.abs(p.elevations - elevation) <= p.mesh.h[1][iz] + 1e-9)


def test_half_space_under_topography_is_mostly_unaffected_at_low_frequency(hill_profile):
    # at 1 Hz the skin depth (5 km) dwarfs the 150 m hill: TE stays near
    # 100 ohm-m; a loose check that the topographic mesh and air mapping work
    p = hill_profile
    data = p.dpred(p.model_from_resistivity(100.0))
    rho_te = p.split(data["TE"], "TE")["apparent_resistivity"]
    np.testing.assert_allclose(rho_te[1], 100.0, rtol=0.1)
    phase_tm = p.split(data["TM"], "TM")["phase"]
    assert np.all((phase_tm[1] < -120.0) & (phase_tm[1] > -150.0))
