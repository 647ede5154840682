r"""The Bostick transform of MT soundings, as pure functions.

For a sounding with apparent resistivity :math:`\rho_a(T)` and phase
:math:`\varphi(T)` (first quadrant, radians):

* Bostick depth :math:`D = \sqrt{\rho_a / (\omega \mu_0)}` (skin depth over
  :math:`\sqrt 2`), below the station's own surface;
* resistivity from the slope (Niblett-Bostick)
  :math:`\rho_B = \rho_a (1 + m) / (1 - m)`, :math:`m = d\log\rho_a/d\log T`;
* resistivity from the phase (Weidelt's approximation
  :math:`\varphi \approx \tfrac{\pi}{4}(1 - m)`)
  :math:`\rho_B = \rho_a (\pi / (2\varphi) - 1)`.

Over a uniform half-space both give the half-space resistivity at every
period.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Vacuum permeability (H/m), as SimPEG's 2D MT code uses it.
MU0 = 4e-7 * np.pi


__all__ = [
    "bostick_depth",
    "bostick_resistivity_slope",
    "bostick_resistivity_phase",
    "fold_phase",
    "layered_impedance",
]

#: Largest absolute log-log slope used by the slope transform; 1D responses
#: satisfy |m| < 1, and noise near that bound would blow the transform up.
MAX_SLOPE = 0.9
#: Phase is kept inside (PHASE_MARGIN, pi/2 - PHASE_MARGIN) radians.
PHASE_MARGIN = np.deg2rad(1.0)


def bostick_depth(apparent_resistivity: ArrayLike, frequency: ArrayLike) -> NDArray[np.float64]:
    """Bostick depth of a sounding.

    Parameters
    ----------
    apparent_resistivity : numpy.ndarray
        Apparent resistivity (ohm-m).
    frequency : numpy.ndarray
        Frequency (Hz), broadcastable against ``apparent_resistivity``.

    Returns
    -------
    numpy.ndarray
        ``sqrt(rho_a / (2 pi f mu0))`` in metres.

    Examples
    --------
    >>> round(float(bostick_depth(100.0, 1.0)), 1)
    3558.8
    """
    rho = np.asarray(apparent_resistivity, dtype=float)
    omega = 2 * np.pi * np.asarray(frequency, dtype=float)
    return np.sqrt(rho / (omega * MU0))


def _log_slope(apparent_resistivity, frequency, axis):
    """D log(rho_a) / d log(T) along ``axis`` (second-order differences)."""
    rho = np.asarray(apparent_resistivity, dtype=float)
    log_period = -np.log(np.asarray(frequency, dtype=float))
    if rho.shape[axis] < 2:
        return np.zeros_like(rho)
    return np.gradient(np.log(rho), log_period, axis=axis)


def bostick_resistivity_slope(
    apparent_resistivity: ArrayLike, frequency: ArrayLike, *, axis: int = 0
) -> NDArray[np.float64]:
    """Niblett-Bostick resistivity from the slope of the sounding curve.

    Parameters
    ----------
    apparent_resistivity : (..., n_frequencies, ...) numpy.ndarray
        Apparent resistivity (ohm-m), frequencies along ``axis``.
    frequency : (n_frequencies,) numpy.ndarray
        Frequencies (Hz), monotonic.
    axis : int
        Frequency axis of ``apparent_resistivity``.

    Returns
    -------
    numpy.ndarray
        ``rho_a (1 + m) / (1 - m)`` with ``m`` clipped to ``[-0.9, 0.9]``.
    """
    rho = np.asarray(apparent_resistivity, dtype=float)
    m = np.clip(_log_slope(rho, frequency, axis), -MAX_SLOPE, MAX_SLOPE)
    return rho * (1.0 + m) / (1.0 - m)


def fold_phase(phase_degrees: ArrayLike) -> NDArray[np.float64]:
    """Phase in radians folded into the first quadrant.

    SimPEG's TE (``"yx"``) phase over a half-space is +45 degrees and its TM
    (``"xy"``) phase is -135 degrees; both fold to pi/4. The result is kept a
    degree away from 0 and 90 degrees.
    """
    phi = np.deg2rad(np.mod(np.asarray(phase_degrees, dtype=float), 180.0))
    return np.clip(phi, PHASE_MARGIN, np.pi / 2 - PHASE_MARGIN)


def bostick_resistivity_phase(apparent_resistivity: ArrayLike, phase: ArrayLike) -> NDArray[np.float64]:
    """Bostick resistivity from the impedance phase.

    Parameters
    ----------
    apparent_resistivity : numpy.ndarray
        Apparent resistivity (ohm-m).
    phase : numpy.ndarray
        Phase in radians, first quadrant (see :func:`fold_phase`).

    Returns
    -------
    numpy.ndarray
        ``rho_a (pi / (2 phi) - 1)``.

    Examples
    --------
    >>> float(bostick_resistivity_phase(100.0, 3.141592653589793 / 4))
    100.0
    """
    rho = np.asarray(apparent_resistivity, dtype=float)
    phi = np.clip(np.asarray(phase, dtype=float), PHASE_MARGIN, np.pi / 2 - PHASE_MARGIN)
    return rho * (np.pi / (2.0 * phi) - 1.0)


def layered_impedance(resistivity: ArrayLike, thickness: ArrayLike, frequency: ArrayLike) -> NDArray[np.complex128]:
    r"""Surface impedance of layered earths (the recursion of Wait, 1954).

    Parameters
    ----------
    resistivity : (..., n_layers) array_like
        Layer resistivities (ohm-m), top first; the last is the basement.
    thickness : (..., n_layers - 1) array_like
        Thicknesses (m) of all layers but the basement; zero-thickness
        layers are allowed (they do nothing).
    frequency : (...) array_like
        Frequency (Hz) of each earth (broadcast against the leading axes).

    Returns
    -------
    (...) numpy.ndarray of complex
        ``Z = E / H`` with :math:`e^{i \omega t}`: apparent resistivity
        ``|Z|**2 / (omega mu_0)``, phase ``angle(Z)`` (45 degrees over a
        half-space).

    Examples
    --------
    >>> z = layered_impedance([100.0], np.zeros(0), 1.0)
    >>> round(float(abs(z) ** 2 / (2 * np.pi * MU0)), 6), round(float(np.degrees(np.angle(z))), 6)
    (100.0, 45.0)
    """
    rho = np.asarray(resistivity, dtype=float)
    h = np.asarray(thickness, dtype=float)
    if rho.shape[-1] != h.shape[-1] + 1:
        raise ValueError(f"resistivity needs one more layer than thickness, got {rho.shape} and {h.shape}")
    omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
    iwm = 1j * omega * MU0
    z = np.sqrt(iwm * rho[..., -1])
    for j in range(h.shape[-1] - 1, -1, -1):
        k = np.sqrt(iwm / rho[..., j])
        intrinsic = iwm / k
        t = np.tanh(k * h[..., j])
        z = intrinsic * (z + intrinsic * t) / (intrinsic + z * t)
    return z
