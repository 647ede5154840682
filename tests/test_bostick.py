"""Bostick transform against analytic half-space and layered-earth responses.

The layered-earth responses come from Wait's impedance recursion
(``simpeg_zo._bostick.layered_impedance``, checked against SimPEG's analytic
1D solution in ``test_consistency.py``; time dependence e^{+i omega t}, so a
half-space has phase +45 deg).
"""

import numpy as np
import pytest

from simpeg_zo import (
    bostick_depth,
    bostick_resistivity_phase,
    bostick_resistivity_slope,
    fold_phase,
    skin_depth,
)
from simpeg_zo._bostick import MU0, layered_impedance


def mt1d(resistivities, thicknesses, frequencies):
    """Exact 1D MT response of a layered earth (Wait's recursion, :func:`layered_impedance`).

    Parameters
    ----------
    resistivities : (n_layers,) sequence of float
        Layer resistivities (ohm-m), top first; the last is the basement.
    thicknesses : (n_layers - 1,) sequence of float
        Layer thicknesses (m).
    frequencies : (n_frequencies,) array_like

    Returns
    -------
    apparent_resistivity : (n_frequencies,) numpy.ndarray
        ``|Z|^2 / (omega mu0)``.
    phase : (n_frequencies,) numpy.ndarray
        ``arg(Z)`` in radians, in the first quadrant.
    """
    omega = 2 * np.pi * np.asarray(frequencies, dtype=float)
    impedance = layered_impedance(resistivities, thicknesses, frequencies)
    return np.abs(impedance) ** 2 / (omega * MU0), np.angle(impedance)


# 20 frequencies per decade: the slope transform needs a smooth sounding curve.
FREQUENCIES = np.logspace(5, -6, 221)
TWO_LAYER = ([100.0, 10.0], [1000.0])
H_TYPE = ([100.0, 10.0, 1000.0], [500.0, 500.0])


# --------------------------------------------------------------- half-space


def test_depth_is_skin_depth_over_sqrt2():
    f = np.logspace(4, -3, 15)
    for rho in (1.0, 100.0, 5000.0):
        depth = bostick_depth(np.full_like(f, rho), f)
        np.testing.assert_allclose(depth, skin_depth(f, rho) / np.sqrt(2), rtol=1e-12)
        np.testing.assert_allclose(depth, np.sqrt(rho / (2 * np.pi * f * MU0)), rtol=1e-12)


def test_depth_of_known_value():
    # sqrt(100 / (2 pi 1 Hz mu0)) = 3558.8 m
    assert float(bostick_depth(100.0, 1.0)) == pytest.approx(3558.81, abs=0.01)


@pytest.mark.parametrize("rho", [3.0, 100.0, 2500.0])
def test_half_space_transforms_are_exact(rho):
    f = np.logspace(3, -2, 11)
    rho_a, phase = mt1d([rho], [], f)
    np.testing.assert_allclose(rho_a, rho, rtol=1e-12)
    np.testing.assert_allclose(phase, np.pi / 4, rtol=1e-12)
    np.testing.assert_allclose(bostick_resistivity_slope(rho_a, f), rho, rtol=1e-10)
    np.testing.assert_allclose(bostick_resistivity_phase(rho_a, phase), rho, rtol=1e-10)
    # a constant curve with phase pi/4 gives the value to rounding
    flat = np.full(f.size, rho)
    np.testing.assert_allclose(bostick_resistivity_slope(flat, f), flat, rtol=1e-14)
    np.testing.assert_array_equal(bostick_resistivity_phase(flat, np.pi / 4), flat)


def test_slope_transform_along_other_axis():
    f = np.logspace(3, -3, 25)
    curves = np.stack([mt1d(*TWO_LAYER, f)[0], mt1d(*H_TYPE, f)[0]])  # (2, n_f)
    by_row = np.stack([bostick_resistivity_slope(c, f) for c in curves])
    np.testing.assert_allclose(bostick_resistivity_slope(curves, f, axis=1), by_row)
    np.testing.assert_allclose(bostick_resistivity_slope(curves.T, f, axis=0), by_row.T)


# ---------------------------------------------------------- layered earths


@pytest.mark.parametrize("model", [TWO_LAYER, H_TYPE], ids=["two-layer", "H-type"])
def test_limits_are_top_and_basement_resistivity(model):
    resistivities, thicknesses = model
    rho_a, phase = mt1d(resistivities, thicknesses, FREQUENCIES)
    for rho_b in (
        bostick_resistivity_slope(rho_a, FREQUENCIES),
        bostick_resistivity_phase(rho_a, phase),
    ):
        # 1e5 Hz: skin depth 16 m in the top layer
        assert rho_b[0] == pytest.approx(resistivities[0], rel=0.01)
        # 1e-6 Hz: skin depth 16,000 km in the basement
        assert rho_b[-1] == pytest.approx(resistivities[-1], rel=0.01)


def test_h_type_recovers_the_conductive_layer_qualitatively():
    rho_a, phase = mt1d(*H_TYPE, FREQUENCIES)
    for rho_b in (
        bostick_resistivity_slope(rho_a, FREQUENCIES),
        bostick_resistivity_phase(rho_a, phase),
    ):
        # the transform dips well below the top layer before rising to 1000
        assert rho_b.min() < 0.5 * H_TYPE[0][0]
        i_min = np.argmin(rho_b)
        assert 0 < i_min < FREQUENCIES.size - 1
        depth = bostick_depth(rho_a, FREQUENCIES)
        # the minimum sits around the conductive layer (500-1000 m), give or take
        assert 250.0 < depth[i_min] < 2000.0


@pytest.mark.parametrize(
    ("model", "factor"),
    # Weidelt's phase approximation phi ~ pi/4 (1 - m) is exact only for
    # smooth curves. Observed worst ratios over 1e5..1e-6 Hz: 1.32 for the
    # two-layer earth (contrast 10, near 63 Hz) and 2.19 for the H-type
    # earth (contrast 100 below a thin conductor, near 13 Hz).
    [(TWO_LAYER, 1.4), (H_TYPE, 2.4)],
    ids=["two-layer", "H-type"],
)
def test_slope_and_phase_transforms_agree(model, factor):
    rho_a, phase = mt1d(*model, FREQUENCIES)
    ratio = bostick_resistivity_slope(rho_a, FREQUENCIES) / bostick_resistivity_phase(rho_a, phase)
    assert np.max(np.abs(np.log(ratio))) < np.log(factor)
    # and typically much closer: the median disagreement is a few percent
    assert np.median(np.abs(np.log(ratio))) < np.log(1.05)


def _crossing_depth(depth, rho_b, level):
    """Bostick depth where log(rho_b) first crosses ``level`` (log-linear)."""
    log_rho = np.log(rho_b)
    sign = np.sign(log_rho - level)
    j = np.flatnonzero(np.diff(sign))[0]
    t = (level - log_rho[j]) / (log_rho[j + 1] - log_rho[j])
    return float(np.exp(np.log(depth[j]) + t * (np.log(depth[j + 1]) - np.log(depth[j]))))


@pytest.mark.parametrize(
    ("resistivities", "factor"),
    # Conductive basement: observed 1.03 (slope) and 1.11 (phase) times the
    # interface depth. Resistive basement: 1.22 and 1.53 (the Bostick depth
    # grows with sqrt(rho_a), so it overshoots into a resistor).
    [([100.0, 10.0], 1.5), ([10.0, 100.0], 1.6)],
    ids=["conductive-basement", "resistive-basement"],
)
def test_interface_depth_from_mid_value_crossing(resistivities, factor):
    h = 1000.0
    rho_a, phase = mt1d(resistivities, [h], FREQUENCIES)
    depth = bostick_depth(rho_a, FREQUENCIES)
    mid = 0.5 * (np.log(resistivities[0]) + np.log(resistivities[1]))
    for rho_b in (
        bostick_resistivity_slope(rho_a, FREQUENCIES),
        bostick_resistivity_phase(rho_a, phase),
    ):
        d = _crossing_depth(depth, rho_b, mid)
        assert h / factor < d < h * factor


def test_apparent_resistivity_rises_with_period_over_resistive_basement():
    rho_a, phase = mt1d([10.0, 100.0], [1000.0], FREQUENCIES)
    # phase below 45 deg where rho_a rises with period, above where it falls
    slope = np.gradient(np.log(rho_a), -np.log(FREQUENCIES))
    rising = slope > 0.05
    assert np.all(phase[rising] < np.pi / 4)


# ------------------------------------------------------------------ phase


def test_fold_phase_maps_simpeg_te_and_tm_to_pi_over_4():
    # SimPEG: TE ("yx") +45 deg, TM ("xy") -135 deg over a half-space
    np.testing.assert_allclose(fold_phase(45.0), np.pi / 4, rtol=1e-12)
    np.testing.assert_allclose(fold_phase(-135.0), np.pi / 4, rtol=1e-12)
    np.testing.assert_allclose(
        fold_phase(np.array([30.0, -150.0, 60.0, -120.0])), np.deg2rad([30.0, 30.0, 60.0, 60.0]), rtol=1e-12
    )


def test_fold_phase_stays_inside_the_first_quadrant():
    folded = fold_phase(np.array([0.0, 90.0, -180.0, 180.0, -90.0, 89.99, 0.01]))
    assert np.all(folded > 0)
    assert np.all(folded < np.pi / 2)
    # and the phase transform stays finite and positive there
    rho_b = bostick_resistivity_phase(100.0, folded)
    assert np.all(np.isfinite(rho_b)) and np.all(rho_b > 0)


def test_phase_transform_direction():
    # phase above 45 deg: conductor below -> Bostick resistivity below rho_a
    assert bostick_resistivity_phase(100.0, np.deg2rad(60.0)) < 100.0
    assert bostick_resistivity_phase(100.0, np.deg2rad(30.0)) > 100.0
    # exact values of rho_a (pi / (2 phi) - 1)
    assert bostick_resistivity_phase(100.0, np.deg2rad(60.0)) == pytest.approx(50.0)
    assert bostick_resistivity_phase(100.0, np.deg2rad(30.0)) == pytest.approx(200.0)
