"""The ZO iteration's SimPEG-free parts, on layouts built by hand."""

import numpy as np
import pytest
from scipy.constants import mu_0

from simpeg_zo._bostick import bostick_depth
from simpeg_zo._iteration import (
    JACOBI_FLOOR,
    CorrectionSettings,
    frequency_bands,
    shifted_response,
    stalled,
    subspace_directions,
    zo_correction,
)
from simpeg_zo._layout import GROUPS_PER_BAND, SoundingLayout, sounding_state
from simpeg_zo._zo import ColumnGeometry

FREQUENCIES = np.logspace(3, -1, 9)
CELL_DEPTH = np.logspace(0, 5, 60)


def one_station_layout(rho_obs, phase_obs=45.0, impedance=False):
    """One TE station over a column of 60 cells; data interleaved per frequency."""
    n = FREQUENCIES.size
    geometry = ColumnGeometry(
        station_x=np.array([0.0]),
        cell_x=np.zeros(CELL_DEPTH.size),
        cell_depth=CELL_DEPTH,
        column_cells=(np.arange(CELL_DEPTH.size),),
    )
    first, second = 2 * np.arange(n), 2 * np.arange(n) + 1
    rho_obs = np.broadcast_to(np.asarray(rho_obs, dtype=float), n)
    if impedance:
        modulus = np.sqrt(rho_obs * 2 * np.pi * FREQUENCIES * mu_0)
        phase = np.deg2rad(phase_obs)
        dobs = np.ravel(np.column_stack([modulus * np.cos(phase), modulus * np.sin(phase)]))
        weights = 1.0 / (0.025 * np.repeat(modulus, 2))
    else:
        dobs = np.ravel(np.column_stack([rho_obs, np.full(n, phase_obs)]))
        weights = np.ravel(np.column_stack([1 / (0.05 * rho_obs), np.full(n, 0.5)]))
    none = np.full(n, -1)
    return SoundingLayout(
        frequency=FREQUENCIES.copy(),
        station=np.zeros(n, dtype=int),
        mode=np.array(["TE"] * n),
        rho_index=none if impedance else first,
        phase_index=none if impedance else second,
        rho_weight=np.full(n, 400.0),
        dobs=dobs,
        weights=weights,
        geometry=geometry,
        log_sigma_sign=1.0,
        term_slices=(slice(0, 2 * n),),
        groups=np.tile([0, 1], n),
        data_frequency=np.repeat(FREQUENCIES, 2),
        grid_shape=(1, CELL_DEPTH.size),
        active=np.ones(CELL_DEPTH.size, dtype=bool),
        cell_volume=np.ones(CELL_DEPTH.size),
        real_index=first if impedance else none,
        imag_index=second if impedance else none,
    )


def doubled_half_space():
    """A 100 ohm-m model, its response, and data of 200 ohm-m."""
    layout = one_station_layout(200.0)
    x = np.full(CELL_DEPTH.size, -np.log(100.0))
    dpred = one_station_layout(100.0).dobs
    rho_obs, phase_obs = sounding_state(layout, layout.dobs)
    return layout, x, dpred, bostick_depth(rho_obs, FREQUENCIES), rho_obs, phase_obs


def test_zohdy_correction_doubles_a_half_space_where_the_data_are_twice_its_response():
    layout, x, dpred, depth, rho_obs, phase_obs = doubled_half_space()
    settings = CorrectionSettings(alpha=1.0, gamma=1.0, beta=0.0)
    step, new_depth = zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, settings)
    # Zohdy's ratio: rho -> rho * rho_obs / rho_calc, so log(sigma) falls by ln 2
    # everywhere (constant beyond the shallowest and deepest soundings)
    np.testing.assert_allclose(step, -np.log(2.0), rtol=1e-9)
    np.testing.assert_array_equal(new_depth, depth)  # beta = 0
    # alpha = 0.5 takes half the log step... of the ratio 1 + 0.5 (2 - 1)
    half = zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, CorrectionSettings(alpha=0.5, beta=0.0))[0]
    np.testing.assert_allclose(half, -np.log(1.5), rtol=1e-9)
    # masked out, the soundings correct nothing
    none = zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, settings, mask=np.zeros(9, dtype=bool))[0]
    np.testing.assert_array_equal(none, 0.0)


def test_a_fitted_model_is_a_fixed_point():
    layout = one_station_layout(100.0)
    x = np.full(CELL_DEPTH.size, -np.log(100.0))
    rho_obs, phase_obs = sounding_state(layout, layout.dobs)
    depth = bostick_depth(rho_obs, FREQUENCIES)
    step, new_depth = zo_correction(
        layout, x, layout.dobs, depth, rho_obs, phase_obs, CorrectionSettings(use_phase=True)
    )
    np.testing.assert_allclose(step, 0.0, atol=1e-12)
    np.testing.assert_allclose(new_depth, depth, rtol=1e-12)


def test_impedance_soundings_are_corrected_like_apparent_resistivities():
    x = np.full(CELL_DEPTH.size, -np.log(100.0))
    steps = []
    for impedance in (False, True):
        layout = one_station_layout(200.0, impedance=impedance)
        dpred = one_station_layout(100.0, impedance=impedance).dobs
        rho_obs, phase_obs = sounding_state(layout, layout.dobs)
        np.testing.assert_allclose(rho_obs, 200.0, rtol=1e-12)
        np.testing.assert_allclose(np.rad2deg(phase_obs), 45.0, atol=1e-9)
        depth = bostick_depth(rho_obs, FREQUENCIES)
        steps.append(zo_correction(layout, x, dpred, depth, rho_obs, phase_obs, CorrectionSettings(beta=0.0))[0])
    np.testing.assert_allclose(steps[1], steps[0], rtol=1e-9)


@pytest.mark.parametrize("impedance", [False, True])
def test_shifted_response_scales_apparent_resistivity_and_keeps_phase(impedance):
    layout = one_station_layout(50.0, phase_obs=30.0, impedance=impedance)
    shift = np.full(FREQUENCIES.size, np.log(3.0))
    rho, phase = sounding_state(layout, shifted_response(layout, layout.dobs, shift))
    np.testing.assert_allclose(rho, 150.0, rtol=1e-12)
    np.testing.assert_allclose(np.rad2deg(phase), 30.0, atol=1e-9)
    assert shifted_response(layout, layout.dobs, None) is layout.dobs


def test_subspace_directions_count():
    layout, x, dpred, depth, rho_obs, phase_obs = doubled_half_space()
    rng = np.random.default_rng(0)
    # TE apparent resistivity and phase in two frequency bands (GROUPS_PER_BAND labels apart)
    gradients = {g: rng.standard_normal(CELL_DEPTH.size) for g in (0, 1, GROUPS_PER_BAND, GROUPS_PER_BAND + 1)}
    past = [rng.standard_normal(CELL_DEPTH.size)]
    D, _ = subspace_directions(
        layout, x, dpred, depth, rho_obs, phase_obs, CorrectionSettings(), gradients=gradients, past_steps=past
    )
    # joint correction + 1 mode x 3 bands x 1 window (one station) + 4 group
    # gradients + 1 mode x 1 window + 1 past step
    assert D.shape == (CELL_DEPTH.size, 1 + 3 + 4 + 1 + 1)
    np.testing.assert_array_equal(D[:, -1], past[0])
    # Jacobi scaling: the gradient directions again, divided by the
    # diagonal (plus its floor), normalised; a zero or NaN diagonal adds none
    diag = np.logspace(0, -6, CELL_DEPTH.size)
    Dj, _ = subspace_directions(
        layout,
        x,
        dpred,
        depth,
        rho_obs,
        phase_obs,
        CorrectionSettings(),
        gradients=gradients,
        past_steps=past,
        jtj_diagonal=diag,
        smoothing=0.0,
    )
    assert Dj.shape == (CELL_DEPTH.size, 1 + 3 + 2 * (4 + 1) + 1)
    np.testing.assert_array_equal(Dj[:, :4], D[:, :4])
    plain = -gradients[0] / np.abs(gradients[0]).max()
    np.testing.assert_allclose(Dj[:, 4], plain, rtol=1e-12)
    scaled = -gradients[0] / (diag + JACOBI_FLOOR * diag.max())
    np.testing.assert_allclose(Dj[:, 9], scaled / np.abs(scaled).max(), rtol=1e-12)
    # the deep, poorly sensed cells move most in the scaled direction
    assert np.argmax(np.abs(Dj[:, 9])) > np.argmax(np.abs(Dj[:, 4]))
    for bad in (np.zeros(CELL_DEPTH.size), np.full(CELL_DEPTH.size, np.nan)):
        Db, _ = subspace_directions(
            layout, x, dpred, depth, rho_obs, phase_obs, CorrectionSettings(), gradients=gradients, jtj_diagonal=bad
        )
        assert Db.shape[1] == D.shape[1] - 1


def test_frequency_bands_and_stall_rule():
    assert frequency_bands(FREQUENCIES, 3).tolist() == [2, 2, 2, 1, 1, 1, 0, 0, 0]
    assert frequency_bands([10.0, 10.0], 3).tolist() == [0, 0]
    assert not stalled([10.0, 9.0], 3, 0.02)
    assert stalled([10.0, 9.95, 9.9, 9.85], 3, 0.02)
    assert not stalled([10.0, 9.0, 8.0, 7.0], 3, 0.02)
    # near the target a 1.5 % fall over 3 iterations is half of what is left
    assert stalled([1.03, 1.025, 1.02, 1.015], 3, 0.02)
    assert not stalled([1.03, 1.025, 1.02, 1.015], 3, 0.02, target=1.0)
    assert stalled([1.5, 1.499, 1.498, 1.497], 3, 0.02, target=1.0)
