"""SimPEG directives: the Bostick starting model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from simpeg.directives import InversionDirective

from ._bostick import (
    bostick_depth,
    bostick_resistivity_phase,
    bostick_resistivity_slope,
)
from ._layout import SoundingLayout, layout_from_misfit, sounding_state
from ._optimizer import DEFAULT_WIDTH, ZohdyOldenburg
from ._zo import project_to_cells

if TYPE_CHECKING:
    from simpeg.objective_function import BaseObjectiveFunction

__all__ = ["BostickStartingModel", "bostick_model"]

_METHODS = ("phase", "slope", "average")


def _slope_per_sounding(layout: SoundingLayout, rho):
    """Niblett-Bostick resistivity along each (mode, station) sounding curve."""
    out = np.full(rho.size, np.nan)
    for mode in np.unique(layout.mode):
        for st in np.unique(layout.station):
            sel = np.flatnonzero((layout.mode == mode) & (layout.station == st) & np.isfinite(rho))
            if sel.size == 0:
                continue
            order = sel[np.argsort(-layout.frequency[sel])]
            out[order] = bostick_resistivity_slope(rho[order], layout.frequency[order])
    return out


def bostick_model(
    dmisfit_or_layout: BaseObjectiveFunction | SoundingLayout,
    *,
    method: str = "phase",
    width: float | None = None,
) -> NDArray[np.float64]:
    """Bostick model of the observed data, filled into the mesh.

    Every sounding gives a resistivity at its Bostick depth below its
    station; the log-resistivities are spread over the active cells by the
    same weighted least-squares interpolation as the Zohdy-Oldenburg
    corrections (log-depth under each station, linear between stations,
    edge values extended into the padding). TE and TM blend by their
    inverse variances.

    Parameters
    ----------
    dmisfit_or_layout : simpeg data misfit or SoundingLayout
    method : {"phase", "slope", "average"}
        Bostick resistivity from the phase (Weidelt), from the slope of the
        sounding curve (Niblett-Bostick), or the geometric mean of both.
        Soundings without phase use the slope.
    width : float, optional
        Vertical smoothing width in natural-log depth.

    Returns
    -------
    (n_active,) numpy.ndarray
        SimPEG model (log conductivity, or log resistivity for ``rhoMap``).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    layout = (
        dmisfit_or_layout if isinstance(dmisfit_or_layout, SoundingLayout) else layout_from_misfit(dmisfit_or_layout)
    )
    rho, phase = sounding_state(layout, layout.dobs)
    ok = np.isfinite(rho) & (rho > 0)
    slope = _slope_per_sounding(layout, np.where(ok, rho, np.nan))
    from_phase = np.where(np.isfinite(phase), bostick_resistivity_phase(rho, phase), slope)
    if method == "phase":
        rho_b = from_phase
    elif method == "slope":
        rho_b = slope
    else:
        rho_b = np.sqrt(from_phase * slope)
    keep = ok & np.isfinite(rho_b) & (rho_b > 0)
    depth = bostick_depth(rho[keep], layout.frequency[keep])
    log_rho = project_to_cells(
        np.log(rho_b[keep]),
        depth,
        layout.station[keep],
        layout.geometry,
        weights=layout.rho_weight[keep],
        width=width or DEFAULT_WIDTH,
    )
    return -layout.log_sigma_sign * log_rho


class BostickStartingModel(InversionDirective):
    """Set the starting model of any SimPEG inversion to the Bostick model.

    Put it first in the directive list; the optimizer reads its starting
    model after the directives' ``initialize``, so this replaces the ``m0``
    given to ``inversion.run``.

    Parameters
    ----------
    method : {"phase", "slope", "average"}
        See :func:`bostick_model`.
    width : float, optional
        Vertical smoothing width in natural-log depth.
    fallback : bool
        Hand ``m0`` to a :class:`simpeg_zo.ZohdyOldenburg` as the model to
        restart from where its steps stall above the target and ``m0`` fits
        better (``restart_models``): a Bostick model can fit far worse than
        a plain half-space (a TM phase out of its quadrant under topography,
        say), and the steps from it may find no way down. It costs one
        forward solve, at the first such stall only. False: the Bostick
        start alone (the paper's method). Other optimizers ignore it.

    Attributes
    ----------
    model : numpy.ndarray or None
        The Bostick model, once ``initialize`` ran.
    given_model : numpy.ndarray or None
        The model it replaced (the ``m0`` of ``inversion.run``).

    Examples
    --------
    >>> from simpeg_zo import BostickStartingModel
    >>> directive = BostickStartingModel(method="phase")
    """

    def __init__(self, method: str = "phase", width: float | None = None, fallback: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        self.method = method
        self.width = width
        self.fallback = bool(fallback)
        self.model = self.given_model = None

    def initialize(self) -> None:
        given = self.invProb.model
        given = self.given_model = None if given is None else np.asarray(given, dtype=float)
        self.model = bostick_model(self.invProb.dmisfit, method=self.method, width=self.width)
        usable = given is not None and given.shape == self.model.shape and bool(np.all(np.isfinite(given)))
        if self.fallback and usable and isinstance(self.invProb.opt, ZohdyOldenburg):
            self.invProb.opt.restart_models = [given]
        self.invProb.model = self.model
