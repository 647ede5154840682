"""The 1D check of a survey-neutral network's correction (simpeg_zo.learned._consistency)."""

import numpy as np
import pytest
from discretize import TensorMesh
from simpeg.electromagnetics.natural_source.utils.analytic_1d import getImpedance

from simpeg_zo import build_profile
from simpeg_zo._bostick import MU0, layered_impedance
from simpeg_zo._layout import layout_from_misfit, sounding_state
from simpeg_zo.learned._consistency import column_responses, correction_scale, scaled_correction


def _apparent(z, freqs):
    return np.abs(z) ** 2 / (2 * np.pi * np.asarray(freqs) * MU0), np.degrees(np.angle(z))


def test_layered_impedance_equals_simpegs_analytic_1d_solution():
    rng = np.random.default_rng(3)
    h = rng.uniform(5.0, 200.0, 12)  # bottom to top, as SimPEG's 1D mesh
    sigma = 10.0 ** rng.uniform(-3.0, -0.5, 12)
    freqs = np.geomspace(1e3, 1e-2, 11)
    reference = getImpedance(TensorMesh([h]), sigma, freqs)
    # top first: the cells, then the bottom cell's conductivity as the basement
    rho = np.tile(1.0 / np.r_[sigma[::-1], sigma[0]], (freqs.size, 1))
    z = layered_impedance(rho, np.tile(h[::-1], (freqs.size, 1)), freqs)
    # SimPEG's keeps displacement currents (relative size omega eps_0 / sigma < 1e-4 here)
    np.testing.assert_allclose(z, reference, rtol=1e-4)


def test_half_space_and_the_principle_of_equivalence():
    freqs = np.geomspace(1e4, 1e-3, 15)
    rho_a, phase = _apparent(layered_impedance(np.full((freqs.size, 1), 30.0), np.zeros((freqs.size, 0)), freqs), freqs)
    np.testing.assert_allclose(rho_a, 30.0, rtol=1e-12)
    np.testing.assert_allclose(phase, 45.0, atol=1e-10)
    # a zero-thickness layer changes nothing
    z0 = layered_impedance([[100.0, 1.0, 100.0]], [[0.0, 500.0]], 1.0)
    z1 = layered_impedance([[1.0, 100.0]], [[500.0]], 1.0)
    np.testing.assert_allclose(z0, z1, rtol=1e-12)
    # thin conductors of one conductance (10 S) at 1 km in 1000 ohm-m give one response
    # where the skin depth is much larger than the layer; both differ from
    # the earth without the conductor
    low = freqs[freqs < 1.0]
    thin = [[1000.0, 1.0, 1000.0], [1000.0, 2.0, 1000.0]]
    thickness = [[1000.0, 10.0], [1000.0, 20.0]]
    za, zb = (
        layered_impedance(np.tile(t, (low.size, 1)), np.tile(h, (low.size, 1)), low)
        for t, h in zip(thin, thickness, strict=True)
    )
    ra, pa = _apparent(za, low)
    rb, pb = _apparent(zb, low)
    np.testing.assert_allclose(ra, rb, rtol=0.02)
    np.testing.assert_allclose(pa, pb, atol=0.5)
    r_none, _ = _apparent(layered_impedance(np.full((low.size, 1), 1000.0), np.zeros((low.size, 0)), low), low)
    assert np.max(np.abs(np.log(ra / r_none))) > 0.5


@pytest.fixture(scope="module")
def layered_profile():
    """Noise-free data of a two-layer earth (100 over 20 ohm-m below 400 m) on the builder's mesh."""
    profile = build_profile(np.linspace(0.0, 2000.0, 5), np.geomspace(300.0, 1.0, 5), resistivity_range=(10, 1000))
    depth = profile.cell_depths
    truth = profile.model_from_resistivity(np.where(depth < 400.0, 100.0, 20.0))
    profile.set_data(profile.dpred(truth), relative_error=0.05, phase_error_degrees=1.43)
    return profile, truth, layout_from_misfit(profile.data_misfit())


def test_column_responses_of_a_layered_earth_match_the_2d_simulation(layered_profile):
    profile, truth, layout = layered_profile
    rho_obs, phase_obs = sounding_state(layout, layout.dobs)
    rho, phase = column_responses(layout, -layout.log_sigma_sign * truth)
    # the mesh's own discretisation error, not the 1D recursion's
    np.testing.assert_allclose(rho, rho_obs, rtol=0.05)
    np.testing.assert_allclose(np.degrees(phase), np.degrees(phase_obs), atol=1.5)
    # several models at once give the same values
    both_rho, _ = column_responses(layout, np.vstack([-layout.log_sigma_sign * truth, np.full(truth.size, 3.0)]))
    np.testing.assert_allclose(both_rho[0], rho)
    np.testing.assert_allclose(both_rho[1], np.exp(3.0), rtol=1e-9)


def test_the_scale_keeps_what_the_soundings_support(layered_profile):
    profile, truth, layout = layered_profile
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    half_space = profile.model_from_resistivity(np.full(truth.size, 50.0))
    # a correction to the truth: all of it at every station
    scale, misfits = correction_scale(layout, half_space, truth)
    np.testing.assert_array_equal(scale, 1.0)
    assert misfits.shape == (9, 5)
    # a correction away from the truth: none of it
    wrong = profile.model_from_resistivity(np.where(profile.cell_depths < 400.0, 10.0, 1.0))
    scale, _ = correction_scale(layout, truth, wrong)
    np.testing.assert_array_equal(scale, 0.0)
    # right under the first stations, wrong under the others: the model
    # keeps the correction where it is right
    mixed = np.where(x < 700.0, truth, wrong)
    model, scale = scaled_correction(layout, half_space, mixed)
    assert scale[0] == 1.0 and scale[1] >= 0.75 and np.all(scale[3:] <= 0.25)
    left = x < 0.0
    np.testing.assert_allclose(model[left], truth[left])
