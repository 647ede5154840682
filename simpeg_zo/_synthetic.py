"""Synthetic profiles from model specifications: paint, simulate, add noise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._profile import Profile, build_profile

if TYPE_CHECKING:
    from ._spec import ModelSpec

__all__ = ["synthetic_profile", "paint_model"]


def paint_model(profile: Profile, spec: ModelSpec) -> NDArray[np.float64]:
    """The SimPEG model (log conductivity of the active cells) of a spec.

    Each active cell takes the spec's resistivity at its centre, depth
    measured below the profile's discrete ground surface.
    """
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    rho = spec.resistivity(x, profile.cell_depths)
    return profile.model_from_resistivity(rho)


def _resistivity_range(spec):
    values = [spec.background] + [s.resistivity for s in spec.structures]
    return float(min(values)), float(max(values))


def synthetic_profile(
    spec: ModelSpec, *, noise: bool = True, **profile_options: Any
) -> tuple[Profile, NDArray[np.float64]]:
    """Build a profile for a model specification and simulate its data.

    The mesh is sized for the spec's survey and resistivity range; the true
    model is painted on it, simulated with SimPEG (one forward solve per
    mode), Gaussian noise is added (relative on apparent resistivity,
    absolute in degrees on phase, seeded by the spec) and the spec's
    standard deviations attached.

    Parameters
    ----------
    spec : ModelSpec
        From :func:`simpeg_zo.load_spec`.
    noise : bool
        Add the spec's noise (default) or keep the exact responses.
    **profile_options
        Passed to :func:`simpeg_zo.build_profile`.

    Returns
    -------
    profile : Profile
        With observed data set.
    true_model : (n_active,) numpy.ndarray
        The painted model (log conductivity).
    """
    profile_options.setdefault("resistivity_range", _resistivity_range(spec))
    profile = build_profile(
        spec.stations,
        spec.frequencies,
        modes=spec.modes,
        elevation=spec.elevation if spec.topography is not None else None,
        **profile_options,
    )
    true_model = paint_model(profile, spec)
    clean = profile.dpred(true_model)
    rng = np.random.default_rng(spec.noise_seed)
    dobs = {}
    for mode in profile.modes:
        if mode == "TIP":
            tip = np.asarray(clean[mode], dtype=float)
            dobs[mode] = tip + spec.noise_tipper * rng.standard_normal(tip.shape) if noise else tip
            continue
        parts = profile.split(clean[mode], mode)
        rho, phase = parts["apparent_resistivity"], parts["phase"]
        if noise:
            rho = rho * (1.0 + spec.noise_relative * rng.standard_normal(rho.shape))
            phase = phase + spec.noise_phase_degrees * rng.standard_normal(phase.shape)
        dobs[mode] = profile.join(rho, phase)
    profile.set_data(
        dobs,
        relative_error=spec.error_relative,
        phase_error_degrees=spec.error_phase_degrees,
        tipper_error=spec.error_tipper,
    )
    return profile, true_model
