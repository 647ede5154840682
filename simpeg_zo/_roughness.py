"""The roughness that the smoothing steps of :class:`simpeg_zo.ZohdyOldenburg` lower.

:func:`roughness` picks the first-order smoothness terms out of a SimPEG
regularisation; :class:`RegularizationRoughness` hands them to the
SimPEG-free driver (:class:`simpeg_zo._driver.Roughness`).
"""

from __future__ import annotations

import numpy as np
from simpeg.objective_function import BaseObjectiveFunction, ComboObjectiveFunction
from simpeg.regularization import SmoothnessFirstOrder, SmoothnessFullGradient

__all__ = ["roughness", "RegularizationRoughness"]


def roughness(reg: BaseObjectiveFunction, orientation: str | None = "x") -> BaseObjectiveFunction:
    """The first-order smoothness terms of a SimPEG regularisation.

    The model norm of the smoothing steps: the derivative terms of ``reg``
    along ``orientation`` ("x": across the profile; None: every
    orientation), with their multipliers, nested combinations included,
    without the smallness (a distance to the reference model that on a
    padded mesh is dominated by the largest cells). Where ``reg`` has no
    such term, all its first-order smoothness terms; where it has none,
    ``reg`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from discretize import TensorMesh
    >>> from simpeg.regularization import WeightedLeastSquares
    >>> mesh = TensorMesh([[1.0] * 4, [1.0] * 3])
    >>> reg = WeightedLeastSquares(mesh, alpha_s=1.0, alpha_x=0.5, alpha_y=1.0)
    >>> layered = np.repeat([1.0, 2.0, 3.0], 4)  # varies with depth only
    >>> float(roughness(reg)(layered)), float(roughness(reg, None)(layered)) > 0
    (0.0, True)
    """
    terms = []

    def collect(objective, weight):
        if isinstance(objective, (SmoothnessFirstOrder, SmoothnessFullGradient)):
            terms.append((weight, objective))
        elif isinstance(objective, ComboObjectiveFunction):
            for multiplier, child in zip(objective.multipliers, objective.objfcts, strict=True):
                collect(child, weight * multiplier)

    collect(reg, 1.0)
    terms = [(w, o) for w, o in terms if w != 0]
    along = [(w, o) for w, o in terms if getattr(o, "orientation", None) == orientation]
    if orientation is not None and along:
        terms = along
    if not terms:
        return reg
    return ComboObjectiveFunction(objfcts=[o for _, o in terms], multipliers=[w for w, _ in terms])


class RegularizationRoughness:
    """A SimPEG objective function as the driver's :class:`~simpeg_zo._driver.Roughness`.

    Parameters
    ----------
    objective : simpeg.objective_function.BaseObjectiveFunction
        E.g. ``roughness(inv_prob.reg)``.
    """

    def __init__(self, objective: BaseObjectiveFunction) -> None:
        self.objective = objective

    def value(self, x: np.ndarray) -> float:
        return float(self.objective(x))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.objective.deriv(x), dtype=float)

    def hessian_product(self, x: np.ndarray, directions: np.ndarray) -> np.ndarray:
        return np.asarray(self.objective.deriv2(x) @ directions, dtype=float)
