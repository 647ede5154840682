"""Model families of the training set: layers, blocks, faults, traps.

The production strategy of the learned inversion: every structural variable
(depth, thickness, length, position, resistivity, dip, throw, number of
transition layers) takes a value from a controlled grid of steps plus a random
perturbation (half a step by default: the values fill the range between the
steps), so the set is diverse but its coverage is known.  A *held-out* draw
(the test split) takes the midpoints between grid steps instead, and may use two
families the training set never contains (``dyke`` and ``graben``).

Every family is a pure function ``paint(params, x, depth) -> resistivity``
of a JSON-serialisable parameter dictionary, so each sample can be rebuilt
from what its shard stores.  Lengths scale with the survey: ``span`` is the
profile length and ``depth_max`` the bottom of the model grid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._sections import ResistivityClasses

__all__ = ["TRAINING_FAMILIES", "HELD_OUT_FAMILIES", "draw_parameters", "paint", "design_classes"]

#: Families of the training split.
TRAINING_FAMILIES = ("layers", "blocks", "fault", "trap")
#: Families that only the held-out (test) split uses.
HELD_OUT_FAMILIES = ("dyke", "graben")

QUARTER = 0.25  # training perturbation of the first sets, in grid steps
HALF = 0.5  # the largest: training values fill the range between the steps
TEST_JITTER = 0.1  # held-out perturbation around a midpoint, in grid steps
RESISTIVITY_STEPS = 7  # log-spaced resistivity values of the grid


def design_classes(log10_resistivity: tuple[float, float] = (0.5, 3.5)) -> ResistivityClasses:
    """Segmentation classes centred on the resistivities the families draw.

    One class per resistivity step of the grid and one per midpoint between
    two steps (``2 * (RESISTIVITY_STEPS - 1) + 1`` classes, half a step
    wide), so neither the training steps nor the held-out midpoints lie on a
    class edge.  Classes of the same width whose edges sat on the steps and
    midpoints would put almost every held-out value on an edge, where the
    class is decided by the test jitter rather than by the model.  Only a
    training set drawn with a half-step perturbation has labels in every
    one of these classes (with a quarter step, the midpoint classes stay
    empty).

    Parameters
    ----------
    log10_resistivity : (2,) tuple of float
        Range of the resistivity grid (log10 ohm-m), as in
        :func:`draw_parameters`.

    Returns
    -------
    ResistivityClasses
    """
    lo, hi = (float(v) for v in log10_resistivity)
    if not hi > lo:
        raise ValueError(f"log10_resistivity must increase, got {log10_resistivity}")
    half_class = (hi - lo) / (RESISTIVITY_STEPS - 1) / 4.0
    return ResistivityClasses((lo - half_class, hi + half_class), 2 * (RESISTIVITY_STEPS - 1) + 1)


class _Stepper:
    """Draw stepped-plus-perturbed values of the structural variables."""

    def __init__(self, rng, *, held_out, span, depth_max, log10_resistivity, perturbation):
        self.rng = rng
        self.perturbation = perturbation
        self.held_out = held_out
        self.span = span
        self.depth_max = depth_max
        self.log10_rho = log10_resistivity

    def value(self, lo, hi, steps, *, log=False):
        a, b = (np.log10(lo), np.log10(hi)) if log else (lo, hi)
        grid = np.linspace(a, b, steps)
        step = grid[1] - grid[0]
        if self.held_out:
            k = self.rng.integers(steps - 1)
            v = 0.5 * (grid[k] + grid[k + 1]) + TEST_JITTER * step * self.rng.uniform(-1, 1)
        else:
            k = self.rng.integers(steps)
            v = grid[k] + self.perturbation * step * self.rng.uniform(-1, 1)
        return float(10.0**v if log else v)

    def integer(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def resistivity(self):
        lo, hi = self.log10_rho
        return self.value(10.0**lo, 10.0**hi, RESISTIVITY_STEPS, log=True)

    def depth(self):
        return self.value(self.depth_max / 100.0, self.depth_max / 2.0, 7, log=True)

    def thickness(self):
        return self.value(self.depth_max / 60.0, self.depth_max / 3.0, 5, log=True)

    def length(self):
        return self.value(self.span / 12.0, 0.75 * self.span, 5, log=True)

    def position(self):
        return self.value(0.1 * self.span, 0.9 * self.span, 9)

    def dip(self):
        return self.value(30.0, 90.0, 5)

    def throw(self):
        return self.value(self.depth_max / 40.0, self.depth_max / 5.0, 5, log=True)

    def layers(self, n_min, n_max):
        n = self.integer(n_min, n_max)
        depths = sorted(self.depth() for _ in range(n - 1))
        for i in range(1, len(depths)):  # keep interfaces apart
            depths[i] = max(depths[i], 1.3 * depths[i - 1])
        rho = [self.resistivity() for _ in range(n)]
        transitions = [self.integer(0, 3) for _ in range(n - 1)]
        return {"depths": depths, "resistivities": rho, "transitions": transitions}


def _topography(s: _Stepper, share):
    if s.rng.uniform() >= share:
        return None
    shape = ("hill", "valley", "ramp")[int(s.rng.integers(3))]
    return {
        "shape": shape,
        "amplitude": s.value(s.span / 200.0, s.span / 20.0, 4, log=True),
        "centre": s.position(),
        "width": s.length() / 2.0,
    }


def draw_parameters(
    rng: np.random.Generator,
    *,
    span: float,
    depth_max: float,
    held_out: bool = False,
    families: Sequence[str] | None = None,
    log10_resistivity: tuple[float, float] = (0.5, 3.5),
    topography_share: float = 0.5,
    perturbation: float = HALF,
) -> dict:
    """Draw the parameters of one model.

    Parameters
    ----------
    rng : numpy.random.Generator
        The sample's own generator.
    span, depth_max : float
        Profile length and model-grid depth (m); lengths scale with them.
    held_out : bool
        Midpoints between grid steps (test split) instead of grid steps.
    families : sequence of str, optional
        Families to choose from; default :data:`TRAINING_FAMILIES`, plus
        :data:`HELD_OUT_FAMILIES` when ``held_out``.
    log10_resistivity : (2,) tuple
        Range of the resistivity grid (log10 ohm-m).
    topography_share : float
        Probability that the model has topography.
    perturbation : float
        Training values: random perturbation around the grid steps, as a
        fraction of a step (0.5 covers the whole range between the steps).

    Returns
    -------
    dict
        JSON-serialisable; ``paint(params, x, depth)`` rebuilds the model.
    """
    if families is None:
        families = TRAINING_FAMILIES + (HELD_OUT_FAMILIES if held_out else ())
    s = _Stepper(
        rng,
        held_out=held_out,
        span=span,
        depth_max=depth_max,
        log10_resistivity=log10_resistivity,
        perturbation=perturbation,
    )
    family = str(families[int(rng.integers(len(families)))])
    p: dict = {"family": family}
    if family == "layers":
        p["layers"] = s.layers(2, 4)
    elif family == "blocks":
        p["layers"] = s.layers(1, 2)
        p["blocks"] = []
        for _ in range(s.integer(1, 2)):
            top = s.depth()
            p["blocks"].append(
                {
                    "x": s.position(),
                    "length": s.length(),
                    "top": top,
                    "thickness": s.thickness(),
                    "resistivity": s.resistivity(),
                }
            )
    elif family == "fault":
        p["layers"] = s.layers(2, 3)
        p["fault"] = {"x": s.position(), "dip": s.dip(), "throw": s.throw(), "side": int(rng.choice([-1, 1]))}
    elif family == "trap":
        cover = s.depth()
        p["layers"] = {
            "depths": [cover, cover + s.thickness()],
            "resistivities": [s.resistivity(), s.resistivity(), s.resistivity()],
            "transitions": [s.integer(0, 3), s.integer(0, 3)],
        }
        p["fold"] = {"x": s.position(), "width": s.length() / 2.0, "height": 0.8 * cover * s.value(0.2, 1.0, 5)}
    elif family == "dyke":
        p["layers"] = s.layers(1, 2)
        p["dyke"] = {
            "x": s.position(),
            "top": s.depth(),
            "dip": s.dip(),
            "width": s.thickness() / 3.0,
            "length": s.depth() * 2.0,
            "resistivity": s.resistivity(),
        }
    elif family == "graben":
        p["layers"] = s.layers(2, 3)
        p["graben"] = {"x": s.position(), "width": s.length() / 2.0, "dip": s.dip(), "throw": s.throw()}
    else:
        raise ValueError(f"unknown model family {family!r}")
    p["topography"] = _topography(s, topography_share)
    return p


# ---------------------------------------------------------------- painting
def _column(layers, depth):
    """log10 resistivity of a layered column with transition layers."""
    d = np.asarray(layers["depths"], dtype=float)
    r = np.log10(np.asarray(layers["resistivities"], dtype=float))
    out = np.full(np.shape(depth), r[0])
    bounds = np.concatenate([[0.0], d, [np.inf]])
    for i, (top, n_t) in enumerate(zip(d, layers["transitions"], strict=True), start=1):
        out = np.where(depth >= top, r[i], out)
        if n_t:
            width = 0.5 * min(top - bounds[i - 1], bounds[i + 1] - top, top)
            for k in range(n_t):
                a = top + k * width / n_t
                b = top + (k + 1) * width / n_t
                value = r[i - 1] + (k + 1) / (n_t + 1) * (r[i] - r[i - 1])
                out = np.where((depth >= a) & (depth < b), value, out)
    return out


def _fault_side(x, depth, x0, dip, side):
    """True on the hanging-wall side of a plane through (x0, 0)."""
    shift = depth / np.tan(np.deg2rad(max(dip, 1e-3))) if dip < 90 else 0.0
    return side * (x - (x0 + side * shift)) > 0


def paint(params: dict, x: ArrayLike, depth: ArrayLike) -> NDArray[np.float64]:
    """Resistivity (ohm-m) of a drawn model at positions and depths.

    Parameters
    ----------
    params : dict
        From :func:`draw_parameters`.
    x, depth : numpy.ndarray
        Position along the profile and depth below the local surface (m),
        broadcastable.
    """
    x, depth = np.broadcast_arrays(np.asarray(x, float), np.asarray(depth, float))
    family = params["family"]
    layers = params["layers"]
    if family == "fault":
        f = params["fault"]
        down = _fault_side(x, depth, f["x"], f["dip"], f["side"])
        out = np.where(down, _column(layers, depth - f["throw"]), _column(layers, depth))
        # the top layer fills the space the throw opens
        out = np.where(down & (depth < f["throw"]), np.log10(layers["resistivities"][0]), out)
    elif family == "graben":
        g = params["graben"]
        left = _fault_side(x, depth, g["x"] - g["width"] / 2, g["dip"], +1)
        right = _fault_side(x, depth, g["x"] + g["width"] / 2, g["dip"], -1)
        down = left & right
        out = np.where(down, _column(layers, depth - g["throw"]), _column(layers, depth))
        out = np.where(down & (depth < g["throw"]), np.log10(layers["resistivities"][0]), out)
    elif family == "trap":
        f = params["fold"]
        lift = f["height"] * np.exp(-(((x - f["x"]) / f["width"]) ** 2))
        out = _column(layers, depth + lift)
        out = np.where(depth < layers["depths"][0] - lift, np.log10(layers["resistivities"][0]), out)
    else:
        out = _column(layers, depth)
    for b in params.get("blocks", []):
        inside = (np.abs(x - b["x"]) <= b["length"] / 2) & (depth >= b["top"]) & (depth <= b["top"] + b["thickness"])
        out = np.where(inside, np.log10(b["resistivity"]), out)
    if "dyke" in params:
        k = params["dyke"]
        along = depth - k["top"]
        centre = k["x"] + along / np.tan(np.deg2rad(k["dip"]))
        inside = (along >= 0) & (along <= k["length"]) & (np.abs(x - centre) <= k["width"] / 2)
        out = np.where(inside, np.log10(k["resistivity"]), out)
    return 10.0**out


def elevation_function(params: dict, origin: float = 0.0):
    """Ground elevation (m) as a function of x for a drawn model, or None."""
    t = params.get("topography")
    if not t:
        return None

    def elevation(x):
        u = (np.asarray(x, float) - origin - t["centre"]) / t["width"]
        if t["shape"] == "ramp":
            return t["amplitude"] * 0.5 * (1.0 + np.tanh(u))
        sign = 1.0 if t["shape"] == "hill" else -1.0
        return sign * t["amplitude"] * np.exp(-(u**2))

    return elevation
