"""Forward accuracy of the project's meshes: COMMEMI 2D-1 and an outcropping
vertical contact.

COMMEMI 2D-1 (Zhdanov et al. 1997): a 0.5 ohm-m prism, |x| <= 0.5 km and
0.25 <= depth <= 2.25 km, in a 100 ohm-m half-space, periods 0.1 s and 10 s.
Published apparent resistivities are read from ``../shared/reference/commemi.json``
(beside the repository; it lists their sources).

The mesh is built by :func:`simpeg_zo.build_profile` with its own rules
(surface cells of about a fifth of the smallest skin depth, geometric growth,
skin-depth padding) and two choices that make the benchmark geometry exact:

* stations every 62.5 m, offset by half a cell, with one cell per station:
  the prism's sides at x = +-500 m fall on cell faces; responses at the
  published x are interpolated (log-linearly) between the two neighbouring
  stations;
* a surface cell height and growth factor (18.4 m and 1.1007, close to the
  defaults of 22.5 m and 1.1) chosen so that the prism's top and bottom fall
  on cell faces too. Cells cut by an interface otherwise shift results by
  several percent near x = 0 (the conductor's skin depth at 10 Hz is 112 m,
  and the cells at its top are about 40 m).

A refinement study (cells down to 31 m x 5 m, padding doubled) gave the
converged values quoted in the tolerance comments below.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from simpeg_zo import build_profile

_CANDIDATES = [
    # shared/ lies beside the repository (CI and developers' checkouts)
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "commemi.json",
    Path(__file__).resolve().parents[1] / "shared" / "reference" / "commemi.json",
]
REFERENCE = next((p for p in _CANDIDATES if p.exists()), _CANDIDATES[0])

RHO_HOST, RHO_PRISM = 100.0, 0.5
PRISM_HALF_WIDTH, PRISM_TOP, PRISM_BOTTOM = 500.0, 250.0, 2250.0
DX = 62.5
HALF_LENGTH = 16000.0

# Relative tolerances per published x (km): {x: tol}. Each is the larger of
# the published codes' spread (a few percent) and this mesh's error found by
# refinement (values below: this mesh / converged / published).
TOLERANCES = {
    # TE, T = 0.1 s. x = 0: 7.75 / 8.0 / 8.07 (the conductor's 112 m skin
    # depth is under-resolved by ~40 m cells); x = 0.5 km: on the prism's
    # edge, 13.8 / 14.1 / 14.1; x = 1 km: steep flank, 50.1 / 50.0 / 51.5.
    "ref_T0.1_TE": {0: 0.08, 0.5: 0.08, 1: 0.05, "far": 0.02},
    # TM, T = 0.1 s. x = 0: 9.11 / 9.5 / 9.86; x = 0.5: 43.2 / 44.4 / 46.4.
    "ref_T0.1_TM": {0: 0.10, 0.5: 0.10, 1: 0.02, "far": 0.02},
    # TM, T = 10 s (the reference file infers the mode; values from another
    # FEM code's test data). x = 0: 1.38 / 1.39 / 1.65 and x = 0.5: 39.6 /
    # 40.6 / 48.7 -- stable under refinement and domain size, so a real
    # disagreement of 16-18 % with this reference, far below the TE values
    # (2.4 and 3.2) that a mode mix-up would give. Farther out this mesh is
    # uniformly 2-2.7 % below the reference (domain size does not change it).
    "ref_T10_TM": {0: 0.25, 0.5: 0.25, 1: 0.04, "far": 0.04},
}
# frequency index in the profile (10 Hz, 0.1 Hz) and mode of each reference
SERIES = {"ref_T0.1_TE": (0, "TE"), "ref_T0.1_TM": (0, "TM"), "ref_T10_TM": (1, "TM")}


def _face_aligned_growth(top, bottom, n_top=9, n_bottom=27):
    """Growth factor and first cell height whose geometric cell faces fall
    exactly on depths ``top`` (after ``n_top`` cells) and ``bottom``."""
    ratio = bottom / top
    growth = brentq(lambda g: (g**n_bottom - 1) / (g**n_top - 1) - ratio, 1.0001, 1.5)
    return growth, top * (growth - 1) / (growth**n_top - 1)


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def commemi_2d1():
    growth, dz = _face_aligned_growth(PRISM_TOP, PRISM_BOTTOM)
    stations = np.arange(-HALF_LENGTH + DX / 2, HALF_LENGTH, DX)
    profile = build_profile(
        stations,
        [10.0, 0.1],
        modes=("TE", "TM"),
        resistivity_range=(RHO_PRISM, RHO_HOST),
        cells_per_station=1,
        dz_surface=dz,
        growth=growth,
    )
    mesh = profile.mesh
    depth_faces = -mesh.nodes_y[mesh.nodes_y <= 1e-6]
    for x_face in (-PRISM_HALF_WIDTH, PRISM_HALF_WIDTH):
        assert np.min(np.abs(mesh.nodes_x - x_face)) < 1e-6, "prism side not on a cell face"
    for z_face in (PRISM_TOP, PRISM_BOTTOM):
        assert np.min(np.abs(depth_faces - z_face)) < 1e-6, (
            "prism top/bottom not on a cell face: the mesh rules for flat ground changed"
        )
    centres = mesh.cell_centers[profile.active_cells]
    depth = profile.cell_depths
    inside = (np.abs(centres[:, 0]) < PRISM_HALF_WIDTH) & (depth > PRISM_TOP) & (depth < PRISM_BOTTOM)
    rho = np.where(inside, RHO_PRISM, RHO_HOST)
    data = profile.dpred(profile.model_from_resistivity(rho))
    rho_a = {mode: profile.split(data[mode], mode)["apparent_resistivity"] for mode in profile.modes}
    return profile, rho_a


@pytest.mark.needs_shared(REFERENCE)
@pytest.mark.parametrize("series", list(SERIES))
def test_commemi_2d1_apparent_resistivity(reference, commemi_2d1, series):
    profile, rho_a = commemi_2d1
    ref = reference["COMMEMI_2D-1"][series]
    x_km = np.asarray(ref["x_km"], dtype=float)
    published = np.asarray(ref["rho_a"], dtype=float)
    frequency_index, mode = SERIES[series]
    curve = rho_a[mode][frequency_index]
    computed = np.exp(np.interp(x_km * 1000.0, profile.stations, np.log(curve)))
    tolerances = TOLERANCES[series]
    report = []
    for x, c, p in zip(x_km, computed, published, strict=True):
        tol = tolerances.get(x, tolerances["far"])
        error = c / p - 1
        report.append(f"x={x:g} km: {c:.3g} vs {p:.3g} ({100 * error:+.1f} %, tol {100 * tol:g} %)")
        assert abs(error) <= tol, "\n".join(report)


def test_commemi_2d1_symmetry_and_far_field(commemi_2d1):
    profile, rho_a = commemi_2d1
    for mode in profile.modes:
        for curve in rho_a[mode]:
            # the model is symmetric about x = 0 and so are the stations
            np.testing.assert_allclose(curve, curve[::-1], rtol=1e-3)
    # 16 km away the half-space returns (0.1 s; 10 s TE still sees the prism)
    np.testing.assert_allclose(rho_a["TE"][0, [0, -1]], RHO_HOST, rtol=0.01)
    np.testing.assert_allclose(rho_a["TM"][:, [0, -1]], RHO_HOST, rtol=0.01)
    # TE over the conductor is lower at the longer period (more induction)
    centre = np.argmin(np.abs(profile.stations))
    assert rho_a["TE"][1, centre] < rho_a["TE"][0, centre]


# ------------------------------------------------------------ vertical contact


@pytest.fixture(scope="module")
def contact():
    """Quarter-spaces of 10 ohm-m (x < 0) and 100 ohm-m (x > 0); 20 m cells
    with stations at their centres near the contact (x = 0 is a cell face)."""
    dx = 20.0
    near = np.arange(dx / 2, 10 * dx, dx)
    stations = np.r_[-5000 - dx / 2, -2000 - dx / 2, -near[::-1], near, 2000 + dx / 2, 5000 + dx / 2]
    profile = build_profile(
        stations, [10.0, 1.0], modes=("TE", "TM"), resistivity_range=(10.0, 100.0), cells_per_station=1
    )
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    rho = np.where(x < 0, 10.0, 100.0)
    data = profile.dpred(profile.model_from_resistivity(rho))
    rho_a = {mode: profile.split(data[mode], mode)["apparent_resistivity"] for mode in profile.modes}
    return profile, rho_a


def _limits_at_contact(stations, curve):
    """log rho_a just left and right of x = 0, extrapolated linearly from the
    two nearest stations on each side (they are half a cell from it)."""
    i = np.searchsorted(stations, 0.0)
    log_rho = np.log(curve)
    left = log_rho[i - 1] + (log_rho[i - 1] - log_rho[i - 2]) / 2
    right = log_rho[i] - (log_rho[i + 1] - log_rho[i]) / 2
    return np.exp(left), np.exp(right)


@pytest.mark.parametrize("frequency_index", [0, 1], ids=["10Hz", "1Hz"])
def test_outcropping_contact_invariants(contact, frequency_index):
    # "outcropping_vertical_contact_invariants" in the reference file
    profile, rho_a = contact
    sigma_left, sigma_right = 1 / 10.0, 1 / 100.0
    te_left, te_right = _limits_at_contact(profile.stations, rho_a["TE"][frequency_index])
    tm_left, tm_right = _limits_at_contact(profile.stations, rho_a["TM"][frequency_index])
    # TE (E along strike, tangential) is continuous: observed 1.018 at 10 Hz
    # and 1.005 at 1 Hz on 20 m cells (1.009 / 1.003 on 10 m cells).
    assert te_right / te_left == pytest.approx(1.0, abs=0.03)
    # TM (E across the contact, J_x continuous) jumps by (s_left/s_right)^2
    # = 100: observed 93.2 at 10 Hz and 98.0 at 1 Hz on 20 m cells (96.7 /
    # 99.0 on 10 m cells; the error is the extrapolation over half a cell).
    assert tm_right / tm_left == pytest.approx((sigma_left / sigma_right) ** 2, rel=0.10)


def test_contact_far_field_is_one_dimensional(contact):
    profile, rho_a = contact
    # 5 km from the contact at 10 Hz: 10 and 3 skin depths into each side
    for mode in profile.modes:
        assert rho_a[mode][0, 0] == pytest.approx(10.0, rel=0.03)
        assert rho_a[mode][0, -1] == pytest.approx(100.0, rel=0.03)
