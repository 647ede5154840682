"""Soundings of a data vector and the cells they correct, without SimPEG.

:class:`SoundingLayout` is a dataclass of arrays (built from a SimPEG data
misfit by :func:`simpeg_zo._layout.layout_from_misfit`);
:func:`sounding_state` reads each sounding's apparent resistivity and phase
out of a stacked data vector. The Zohdy-Oldenburg core
(:mod:`simpeg_zo._driver`) works on these alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.constants import mu_0

from ._bostick import fold_phase
from ._zo import ColumnGeometry

__all__ = ["SoundingLayout", "sounding_state"]


#: Data groups per frequency band: TE apparent resistivity (or real part),
#: TE phase (or imaginary part), the same for TM, then the tipper's real and
#: imaginary parts.
GROUPS_PER_BAND = 6


@dataclass(frozen=True)
class SoundingLayout:
    """Soundings of a data misfit and the cells they correct.

    Attributes
    ----------
    frequency : (n_soundings,) numpy.ndarray
    station : (n_soundings,) numpy.ndarray of int
    mode : (n_soundings,) numpy.ndarray of str
    rho_index, phase_index : (n_soundings,) numpy.ndarray of int
        Index of the apparent resistivity / phase in the stacked data vector
        (-1 where the sounding has none or its weight is zero).
    rho_weight : (n_soundings,) numpy.ndarray
        Inverse variance of ``ln(rho_a)`` (0 where unusable).
    real_index, imag_index : (n_soundings,) numpy.ndarray of int
        Index of the impedance's real / imaginary part (receivers with
        ``component="real"`` / ``"imag"``), -1 where the sounding has none;
        a sounding with both and no apparent resistivity or phase of its own
        takes them from the impedance.
    dobs, weights : (n_data,) numpy.ndarray
        Stacked observed data and data weights (``sqrt(multiplier) / std``).
    geometry : ColumnGeometry
    log_sigma_sign : float
        ``+1`` if the model is log conductivity, ``-1`` if log resistivity.
    term_slices : tuple of slice
        Each simulation's part of the stacked data vector.
    groups : (n_data,) numpy.ndarray of int
        Data group of every datum: ``2 * mode + component`` with mode 0 for
        TE, 1 for TM, 2 for the tipper and component 0 for apparent
        resistivity (or real part), 1 for phase (or imaginary part).
    data_frequency : (n_data,) numpy.ndarray
        Frequency of every datum.
    grid_shape : tuple of int
        ``mesh.shape_cells`` of a tensor mesh; ``()`` for a tree mesh.
    rows : tuple of numpy.ndarray
        For a mesh that is not a tensor mesh: the model cells of each row
        (same centre elevation), by increasing x (:func:`level_rows`).
    active : (n_cells,) numpy.ndarray of bool
        Cells of the model.
    cell_volume : (n_active,) numpy.ndarray
        Volumes (areas) of the model's cells.
    station_elevation : (n_stations,) numpy.ndarray, optional
        Receiver elevation (m) at each station.
    """

    frequency: np.ndarray
    station: np.ndarray
    mode: np.ndarray
    rho_index: np.ndarray
    phase_index: np.ndarray
    rho_weight: np.ndarray
    dobs: np.ndarray
    weights: np.ndarray
    geometry: ColumnGeometry
    log_sigma_sign: float
    term_slices: tuple = ()
    groups: np.ndarray | None = None
    data_frequency: np.ndarray | None = None
    grid_shape: tuple = ()
    active: np.ndarray | None = None
    cell_volume: np.ndarray | None = None
    rows: tuple = ()
    real_index: np.ndarray | None = None
    imag_index: np.ndarray | None = None
    station_elevation: np.ndarray | None = None

    @property
    def n_data(self) -> int:
        return int(np.count_nonzero(self.weights))

    @property
    def impedance(self) -> np.ndarray:
        """Soundings whose apparent resistivity and phase come from the impedance."""
        if self.real_index is None or self.imag_index is None:
            return np.zeros(self.rho_index.size, dtype=bool)
        return (self.real_index >= 0) & (self.imag_index >= 0)

    @property
    def has_rho(self) -> np.ndarray:
        """Soundings with an apparent resistivity (measured or from the impedance)."""
        return (self.rho_index >= 0) | self.impedance

    @property
    def has_phase(self) -> np.ndarray:
        """Soundings with a phase (measured or from the impedance)."""
        return (self.phase_index >= 0) | self.impedance

    def residual(self, dpred) -> np.ndarray:
        """Weighted residual ``W (dobs - dpred)``.

        Its squared norm is the data misfit.
        """
        return self.weights * (self.dobs - dpred)

    def step_residual(self, dpred) -> np.ndarray:
        """The weighted residual that steps aim at: phase differences as angles.

        As :meth:`residual`, with every phase datum's difference taken within
        +-180 degrees (:func:`angle_difference`). A predicted phase just
        across SimPEG's branch cut from its observed value (-179 against
        +179 degrees) is 2 degrees from it, not 358: a step that closes the
        2 degrees carries the prediction across the cut, where the misfit
        (of :meth:`residual`, SimPEG's) falls too.
        """
        difference = np.asarray(self.dobs - dpred, dtype=float)
        phase = self.phase_index[self.phase_index >= 0]
        difference[phase] = angle_difference(difference[phase])
        return self.weights * difference


def angle_difference(degrees):
    """A difference of angles (degrees) brought within [-180, 180)."""
    return np.mod(np.asarray(degrees, dtype=float) + 180.0, 360.0) - 180.0


def sounding_state(layout: SoundingLayout, data):
    """Apparent resistivity and folded phase of each sounding in ``data``.

    Returns
    -------
    rho : (n_soundings,) numpy.ndarray
        NaN where the sounding has no apparent resistivity.
    phase : (n_soundings,) numpy.ndarray
        Radians, first quadrant; NaN where the sounding has no phase.
    """
    data = np.asarray(data, dtype=float)
    rho = np.full(layout.rho_index.size, np.nan)
    has = layout.rho_index >= 0
    rho[has] = data[layout.rho_index[has]]
    phase = np.full(layout.phase_index.size, np.nan)
    hp = layout.phase_index >= 0
    phase[hp] = fold_phase(data[layout.phase_index[hp]])
    z = layout.impedance
    if z.any():
        # SimPEG's definitions: rho_a = |Z|^2 / (omega mu_0), phase = arg Z
        impedance = data[layout.real_index[z]] + 1j * data[layout.imag_index[z]]
        rho_z = np.abs(impedance) ** 2 / (2.0 * np.pi * layout.frequency[z] * mu_0)
        phase_z = fold_phase(np.rad2deg(np.angle(impedance)))
        rho[z] = np.where(has[z], rho[z], rho_z)
        phase[z] = np.where(hp[z], phase[z], phase_z)
    return rho, phase
