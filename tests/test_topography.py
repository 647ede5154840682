"""MT responses over topography: smooth between stations, convergent, and
equal to the first-order theory of a gentle hill.

Over a 2D surface z = h(x) on a half-space, to first order in the slope and
in the low-frequency (galvanic) limit, the TM electric field along the
surface is ``E / E0 = 1 - (|D| h)(x)``, with ``|D|`` the operator of Fourier
symbol ``|k|`` (the Hilbert transform of the slope); the magnetic field is
uniform, so ``rho_TM / rho = 1 - 2 |D| h``. For a Gaussian hill
``h = H exp(-x^2 / 2w^2)`` the hill-top value is ``1 - 2 sqrt(2/pi) H / w``.
"""

import numpy as np
import pytest

from simpeg_zo import build_profile
from simpeg_zo._mesh import band_levels, design_mesh, discrete_surface

STATIONS = np.linspace(0.0, 4000.0, 41)
TRAPEZOID = ([1000.0, 1500.0, 2000.0, 2500.0, 3000.0], [0.0, 60.0, 120.0, 60.0, 0.0])
# stations next to the trapezoid's slope breaks, where the true response has a kink
KINKS = [1000.0, 1500.0, 2000.0, 2500.0, 3000.0]


def _trapezoid(x):
    return np.interp(x, *TRAPEZOID)


def _rho(profile, mode, resistivity=100.0):
    d = profile.dpred(profile.half_space(resistivity))
    return profile.split(d[mode], mode)["apparent_resistivity"]


def _hill_profiles(mode, frequencies, elevation, **halved):
    base = build_profile(STATIONS, frequencies, modes=[mode], elevation=elevation, resistivity_range=(100.0, 100.0))
    dz = base.mesh.h[1][base.mesh.h[1] > 0].min()
    finer = build_profile(
        STATIONS,
        frequencies,
        modes=[mode],
        elevation=elevation,
        resistivity_range=(100.0, 100.0),
        cells_per_station=4,
        dz_surface=None,
        **halved,
    )
    return base, finer, dz


def _smooth_region(exclude, width=100.0):
    keep = np.ones(STATIONS.size, dtype=bool)
    for x in exclude:
        keep &= np.abs(STATIONS - x) > width + 1e-6
    return keep


@pytest.mark.parametrize("mode", ["TM", "TE"])
def test_no_station_to_station_stripes_over_a_smooth_hill(mode):
    """The issue's hill (0-120-0 m trapezoid, 100 ohm-m): ln rho_a varies
    smoothly between neighbouring stations and changes by < 3 % when the
    cells are halved. The old staircase put 55, 96, 134, 83 ohm-m on
    neighbouring stations."""
    freqs = np.array([1e3, 31.6, 1.0])
    base, finer, _ = _hill_profiles(mode, freqs, _trapezoid)
    assert finer.mesh.n_cells > 1.5 * base.mesh.n_cells
    r0, r1 = np.log(_rho(base, mode)), np.log(_rho(finer, mode))
    # station-to-station oscillation: second difference of the mesh error,
    # away from the slope breaks (and their neighbours)
    err = r0 - r1
    wiggle = np.abs(err[:, 1:-1] - 0.5 * (err[:, 2:] + err[:, :-2]))
    assert wiggle[:, _smooth_region(KINKS, 200.0)[1:-1]].max() < 0.01
    # mesh convergence where the true response is smooth
    assert np.abs(err[:, _smooth_region(KINKS)]).max() < 0.03


def test_tm_over_a_gentle_hill_matches_first_order_theory():
    """Gaussian hill 20 m high, w = 400 m, 0.1 Hz in 100 ohm-m (skin depth
    16 km): rho_TM / rho_flat = 1 - 2 |D| h within 1 % (the effect is 8 %)."""
    H, w = 20.0, 400.0
    x = np.linspace(-2000.0, 2000.0, 41)
    freqs = np.array([1.0, 0.1])

    def hill(s):
        return H * np.exp(-0.5 * (np.asarray(s) / w) ** 2)

    k = np.linspace(0.0, 40.0 / w, 20001)
    spectrum = H * w * np.sqrt(2 * np.pi) * np.exp(-0.5 * (k * w) ** 2)
    dh = np.array([np.trapezoid(k * spectrum * np.cos(k * xi), k) / np.pi for xi in x])
    expected = 1.0 - 2.0 * dh
    assert expected.min() < 0.93  # the hill matters
    top = np.isclose(x, 0.0)
    np.testing.assert_allclose(expected[top], 1 - 2 * np.sqrt(2 / np.pi) * H / w, rtol=1e-6)

    kwargs = dict(modes=["TM"], resistivity_range=(100.0, 100.0))
    hilly = build_profile(x, freqs, elevation=hill, **kwargs)
    flat = build_profile(x, freqs, **kwargs)
    ratio = _rho(hilly, "TM")[1] / _rho(flat, "TM")[1]
    np.testing.assert_allclose(ratio, expected, atol=0.01)


def test_te_barely_sees_a_gentle_hill_at_low_frequency():
    x = np.linspace(-2000.0, 2000.0, 21)

    def hill(s):
        return 20.0 * np.exp(-0.5 * (np.asarray(s) / 400.0) ** 2)

    kwargs = dict(modes=["TE"], resistivity_range=(100.0, 100.0))
    hilly = build_profile(x, [1.0, 0.1], elevation=hill, **kwargs)
    flat = build_profile(x, [1.0, 0.1], **kwargs)
    ratio = _rho(hilly, "TE")[1] / _rho(flat, "TE")[1]
    np.testing.assert_allclose(ratio, 1.0, atol=0.005)


def test_valley_is_smooth_and_convergent():
    """A V-shaped valley 80 m deep, stations off the knots."""
    stations = np.linspace(37.0, 3937.0, 40)

    def valley(s):
        return np.interp(s, [0.0, 1200.0, 2000.0, 2800.0, 4000.0], [0.0, 0.0, -80.0, 0.0, 0.0])

    freqs = np.array([100.0, 1.0])
    kw = dict(modes=["TM"], elevation=valley, resistivity_range=(100.0, 100.0))
    base = build_profile(stations, freqs, **kw)
    finer = build_profile(stations, freqs, cells_per_station=4, **kw)
    r0, r1 = np.log(_rho(base, "TM")), np.log(_rho(finer, "TM"))

    def away(width):
        keep = np.ones(stations.size, dtype=bool)
        for knot in (1200.0, 2000.0, 2800.0):
            keep &= np.abs(stations - knot) > width
        return keep

    err = r0 - r1
    wiggle = np.abs(err[:, 1:-1] - 0.5 * (err[:, 2:] + err[:, :-2]))
    assert wiggle[:, away(200.0)[1:-1]].max() < 0.01
    assert np.abs(err[:, away(100.0)]).max() < 0.03


def test_band_levels_hold_every_anchor():
    anchors = [3.3, 7.1, 7.1005, 20.0]
    levels = band_levels(anchors, 0.0, 25.0, dz=4.0, tolerance=0.01)
    assert levels[0] == 0.0 and levels[-1] == 25.0
    assert np.all(np.diff(levels) <= 4.0 + 1e-9)
    for a in (3.3, 7.1, 20.0):
        assert np.min(np.abs(levels - a)) < 1e-12
    # anchors closer than the tolerance share one level
    assert np.sum(np.abs(levels - 7.1) < 0.01) == 1


def test_pads_sit_at_station_elevation_and_gaps_are_point_symmetric():
    stations = np.linspace(0.0, 1000.0, 11)

    def slope(s):
        return 0.123 * np.asarray(s, dtype=float)

    mesh = design_mesh(stations, [100.0, 1.0], elevation=slope, resistivity_range=(100, 100), cells_per_station=8)
    surface = discrete_surface(mesh, stations, slope)
    xc = mesh.cell_centers_x
    # every station's column (and its pad) is at the station's own elevation
    for s in stations:
        pad = np.abs(xc - s) <= 25.0 + 1e-9
        np.testing.assert_allclose(surface[pad], slope(s), atol=1e-9)
    # on a uniform slope the staircase of a gap is point-symmetric about its centre
    for a, b in zip(stations[2:5], stations[3:6], strict=True):
        inside = (xc > a + 1.0) & (xc < b - 1.0)
        z = surface[inside] - slope(a)
        np.testing.assert_allclose(z + z[::-1], slope(b) - slope(a), atol=1e-9)


def test_receivers_in_the_top_cell_of_each_station_pad():
    p = build_profile(STATIONS[::4], [100.0, 1.0], modes=["TM"], elevation=_trapezoid, resistivity_range=(100.0, 100.0))
    np.testing.assert_allclose(p.elevations, _trapezoid(p.stations), atol=1e-9)
    assert np.all(p.receiver_locations[:, 1] < p.elevations)
