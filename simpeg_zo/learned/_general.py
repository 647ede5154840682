"""Training samples for one network that serves any survey.

Each sample draws its own survey (profile length, station count and layout
with gaps, frequency band, topography) and its own model (a family of
:mod:`simpeg_zo.learned._families`, a Gaussian random field of log10
resistivity, or both), simulates TE and TM with SimPEG on the project's
profile builder, and stores the data as measured (padded arrays) with the
label on the normalised grid (:mod:`simpeg_zo.learned._normalised`).  The
network's inputs are made from the stored data when the set is loaded, so
augmentations (lost soundings, a missing mode) are drawn per sample from its
own seed.

The held-out (``test``) split draws the held-out families, midpoints of the
families' steps, and survey geometries the training split never has: three
station clusters, and station counts outside the training range.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._mesh import skin_depth
from .._profile import build_profile
from ._families import HALF, HELD_OUT_FAMILIES, TRAINING_FAMILIES, draw_parameters, elevation_function, paint
from ._normalised import BOSTICK, CHANNELS, NormalisedGrid, normalised_input, normalised_label

__all__ = [
    "GeneralConfig",
    "draw_survey",
    "draw_random_field",
    "random_field",
    "draw_general_model",
    "draw_domains",
    "paint_domains",
    "paint_general",
    "simulate_general_sample",
    "general_arrays",
    "load_general",
    "sample_profile",
]

MAX_FREQUENCIES = 24
MAX_STATIONS = 40
#: Station counts of the training split (the held-out split also draws outside).
TRAINING_STATIONS = (8, 32)
#: Bostick depth of the highest frequency in 100 ohm-m, log10(depth / L): the band's top.
BAND_TOP = (-3.4, -1.2)
#: Depth decades the band spans (twice as many frequency decades).
BAND_DEPTH_DECADES = (0.75, 2.25)
_RFF_FEATURES = 96
#: Simulation mesh: core cells per station interval, surface cells in skin
#: depths at the highest frequency in the lowest resistivity.
CELLS_PER_STATION = 2
DZ_SKIN_DEPTHS = 0.2
_LOG10_RANGE = (0.5, 3.5)


# ------------------------------------------------------------------ surveys
def draw_survey(rng: np.random.Generator, *, held_out: bool = False) -> dict:
    """Draw a survey: stations (m, from 0), frequencies (Hz, descending), layout.

    Training: 8-32 stations drawn, uniform, random or two clusters with a
    gap of 15-35 % of the profile; the held-out split adds three clusters
    and 6-7 or 33-40 stations.  Stations closer than a quarter of the mean
    spacing are dropped.
    """
    length = float(10.0 ** rng.uniform(3.3, 5.0))
    layouts = ("uniform", "random", "clusters") + (("three-clusters",) if held_out else ())
    layout = str(layouts[int(rng.integers(len(layouts)))])
    lo, hi = TRAINING_STATIONS
    if held_out and rng.uniform() < 0.5:
        n = int(rng.integers(6, 8)) if rng.uniform() < 0.5 else int(rng.integers(hi + 1, MAX_STATIONS + 1))
    else:
        n = int(rng.integers(lo, hi + 1))
    if layout == "uniform":
        u = np.linspace(0.0, 1.0, n)
        u[1:-1] += rng.uniform(-0.15, 0.15, n - 2) / (n - 1)
    elif layout == "random":
        u = np.sort(rng.uniform(0.0, 1.0, n - 2))
        u = np.concatenate([[0.0], u, [1.0]])
    else:
        k = 2 if layout == "clusters" else 3
        gaps = rng.uniform(0.15, 0.35, k - 1) / (k - 1)
        inside = 1.0 - gaps.sum()
        widths = rng.dirichlet(np.full(k, 3.0)) * inside
        counts = np.maximum(2, np.round(widths / widths.sum() * n).astype(int))
        u, start = [], 0.0
        for c in range(k):
            u.append(start + np.linspace(0.0, widths[c], counts[c]))
            start += widths[c] + (gaps[c] if c < k - 1 else 0.0)
        u = np.concatenate(u)
    u = np.unique(np.round(u / u[-1], 6))
    # keep stations at least a quarter of the mean spacing apart
    keep = [0]
    for i in range(1, u.size):
        if u[i] - u[keep[-1]] >= 0.25 / max(n - 1, 1):
            keep.append(i)
    if keep[-1] != u.size - 1:
        keep[-1] = u.size - 1
    u = u[keep]
    top = rng.uniform(*BAND_TOP)
    bottom = min(top + rng.uniform(*BAND_DEPTH_DECADES), 0.7)
    # Bostick depth in 100 ohm-m: sqrt(100 / (2 pi f mu0)) = 3559 / sqrt(f) m
    f_max = (3558.8 / (length * 10.0**top)) ** 2
    f_min = (3558.8 / (length * 10.0**bottom)) ** 2
    decades = np.log10(f_max / f_min)
    n_f = int(np.clip(round(decades * rng.uniform(3.0, 5.0)), 6, MAX_FREQUENCIES))
    return {
        "length": length,
        "layout": layout,
        "stations": (u * length).tolist(),
        "frequencies": np.geomspace(f_max, f_min, n_f).tolist(),
    }


# ------------------------------------------------------------ random fields
def draw_random_field(rng: np.random.Generator, std: float | None = None) -> dict:
    """A Gaussian random field of log10 resistivity (random Fourier features).

    Stationary in ``u = x / L`` and ``w = log10(depth / L)`` with a Gaussian
    covariance: correlation lengths 0.03-1 of the profile along it and
    0.15-1 decade of depth down.
    """
    k = _RFF_FEATURES
    return {
        "std": float(rng.uniform(0.25, 0.7) if std is None else std),
        "length_u": float(10.0 ** rng.uniform(-1.5, 0.0)),
        "length_w": float(10.0 ** rng.uniform(-0.8, 0.0)),
        "ku": np.round(rng.standard_normal(k), 5).tolist(),
        "kw": np.round(rng.standard_normal(k), 5).tolist(),
        "phase": np.round(rng.uniform(0.0, 2.0 * np.pi, k), 5).tolist(),
    }


def random_field(params: dict, x: ArrayLike, depth: ArrayLike, length: float) -> NDArray[np.float64]:
    """Values of a :func:`draw_random_field` field at positions and depths (m)."""
    x, depth = np.broadcast_arrays(np.asarray(x, float), np.asarray(depth, float))
    u = x / length
    # constant above the shallowest depth the band resolves (no layering finer than the mesh can hold)
    w = np.log10(np.maximum(depth, 10.0 ** params.get("w_min", -3.5) * length) / length)
    ku = np.asarray(params["ku"]) / params["length_u"]
    kw = np.asarray(params["kw"]) / params["length_w"]
    ph = np.asarray(params["phase"])
    arg = u[..., None] * ku + w[..., None] * kw + ph
    return params["std"] * np.sqrt(2.0 / ku.size) * np.cos(arg).sum(axis=-1)


# ------------------------------------------------------------------ domains
def draw_domains(rng: np.random.Generator, length: float, depth_max: float) -> dict:
    """Crustal domains: 1-3 dipping contacts between unrelated layered columns.

    The contacts cross the surface anywhere from 1.5 profile lengths before
    the first station to 1.5 after the last (so that a profile may lie
    inside one domain whose edges its low frequencies see), dipping 25-90
    degrees either way; each of the 2-4 domains has its own column of 1-3
    layers with interfaces between 1/300 of ``depth_max`` and ``depth_max``
    (log-uniform), each layer of any resistivity of the range, or, in half
    the columns of two or more layers, a conductive cover (the lowest 1.5
    decades) on a resistive basement (the highest 1.2).  Such models split TE
    and TM at low frequencies as field data do (TM falls over a conductive
    cover whose edges lie within the induction length), where the families'
    faults offset one column.
    """
    n = int(rng.integers(1, 4))
    lo, hi = _LOG10_RANGE
    contacts = [
        {"x": float(rng.uniform(-1.5, 2.5) * length), "dip": float(rng.uniform(25.0, 90.0) * rng.choice([-1, 1]))}
        for _ in range(n)
    ]
    contacts.sort(key=lambda c: c["x"])
    columns = []
    for _ in range(n + 1):
        k = int(rng.integers(1, 4))
        depths = np.sort(10.0 ** rng.uniform(np.log10(depth_max / 300.0), np.log10(depth_max), k - 1))
        values = rng.uniform(lo, hi, k)
        if k > 1 and rng.uniform() < 0.5:  # a conductive cover on a resistive basement
            values[0] = rng.uniform(lo, lo + 1.5)
            values[-1] = rng.uniform(hi - 1.2, hi)
        columns.append({"depths": depths.tolist(), "log10": values.tolist()})
    return {"contacts": contacts, "columns": columns}


def paint_domains(params: dict, x: ArrayLike, depth: ArrayLike) -> NDArray[np.float64]:
    """log10 resistivity of a :func:`draw_domains` model at positions and depths (m)."""
    x, depth = np.broadcast_arrays(np.asarray(x, float), np.asarray(depth, float))
    domain = np.zeros(x.shape, dtype=int)
    for c in params["contacts"]:
        # the contact's position at this depth; a positive dip leans towards +x
        lean = np.sign(c["dip"]) / np.tan(np.deg2rad(abs(c["dip"]))) if abs(c["dip"]) < 90 else 0.0
        domain += x > c["x"] + lean * depth
    out = np.empty(x.shape)
    for i, col in enumerate(params["columns"]):
        inside = domain == i
        layer = np.searchsorted(np.asarray(col["depths"], float), depth[inside])
        out[inside] = np.asarray(col["log10"])[layer]
    return out


# ------------------------------------------------------------------- models
def draw_general_model(
    rng: np.random.Generator, survey: dict, *, held_out: bool = False, domain_share: float = 0.0
) -> dict:
    """A model: a family, crustal domains, a random field, or either with a random field on it.

    Depths of the families scale with the Bostick depth of the band's lowest
    frequency in 100 ohm-m (capped at three profile lengths).  With
    ``domain_share`` > 0 that share of the models are :func:`draw_domains`
    (half of them with a random field on them); ``domain_share=0`` draws as
    sets made before domains existed.
    """
    length = survey["length"]
    f_min = min(survey["frequencies"])
    depth_max = float(min(3558.8 / np.sqrt(f_min) * 1.5, 3.0 * length))
    domains = None
    if domain_share > 0 and rng.uniform() < domain_share:
        domains = draw_domains(rng, length, depth_max)
        kind = "domains+field" if rng.uniform() < 0.5 else "domains"
    else:
        kind = ("family", "field", "family+field")[int(rng.choice(3, p=[0.35, 0.3, 0.35]))]
    families = TRAINING_FAMILIES + (HELD_OUT_FAMILIES if held_out else ())
    p = draw_parameters(
        rng,
        span=length,
        depth_max=depth_max,
        held_out=held_out,
        families=families,
        log10_resistivity=_LOG10_RANGE,
        topography_share=0.5,
        perturbation=HALF,
    )
    if p.get("topography"):
        p["topography"]["amplitude"] *= 0.3  # L/670 to L/67: the relief of MT profiles
    out = {"kind": kind, "family": p, "length": length}
    if domains is not None:
        out["domains"] = domains  # the family gives the topography only
    if kind == "field":
        out["mean"] = float(rng.uniform(1.0, 3.0))
        out["field"] = draw_random_field(rng)
    elif kind in ("family+field", "domains+field"):
        out["field"] = draw_random_field(rng, std=float(rng.uniform(0.1, 0.35)))
    if "field" in out:
        # the shallowest Bostick depth of the band in 100 ohm-m, less 0.3 decade
        f_max = max(survey["frequencies"])
        out["field"]["w_min"] = float(np.log10(3558.8 / np.sqrt(f_max) / length) - 0.3)
    return out


def paint_general(params: dict, x: ArrayLike, depth: ArrayLike) -> NDArray[np.float64]:
    """Resistivity (ohm-m) of a :func:`draw_general_model` model.

    ``x`` from the first station and ``depth`` below the local surface (m).
    Clipped to 10**0.25-10**3.75 ohm-m.
    """
    x, depth = np.broadcast_arrays(np.asarray(x, float), np.asarray(depth, float))
    kind = params["kind"]
    if kind == "field":
        log10 = params["mean"] + random_field(params["field"], x, depth, params["length"])
    else:
        if kind.startswith("domains"):
            log10 = paint_domains(params["domains"], x, depth)
        else:
            log10 = np.log10(paint(params["family"], x, depth))
        if kind.endswith("+field"):
            log10 = log10 + random_field(params["field"], x, depth, params["length"])
    lo, hi = _LOG10_RANGE
    return 10.0 ** np.clip(log10, lo - 0.25, hi + 0.25)


# ------------------------------------------------------------------ samples
@dataclass
class GeneralConfig:
    """A training set of random surveys for a survey-neutral network.

    Attributes
    ----------
    grid : dict
        :class:`NormalisedGrid` settings (``NormalisedGrid.to_dict``).
    noise_relative : float
        Gaussian noise on apparent resistivity (fraction; phase: half of it
        in radians), on every sample: 5 % as in the paper.
    seed : int
    shard_size : int
    survey : str
        Description for reports.
    domain_share : float
        Share of the models that are crustal domains
        (:func:`draw_domains`); sets made before they existed read as 0.
    """

    grid: dict = field(default_factory=lambda: NormalisedGrid().to_dict())
    noise_relative: float = 0.05
    seed: int = 0
    shard_size: int = 20
    survey: str = "random surveys (survey-neutral network)"
    kind: str = "general"
    domain_share: float = 0.4

    def __post_init__(self):
        NormalisedGrid.from_dict(self.grid)  # validates
        if not 0 <= self.domain_share <= 1:
            raise ValueError(f"domain_share must be in [0, 1], got {self.domain_share}")
        if not 0 <= self.noise_relative < 1:
            raise ValueError(f"noise_relative must be in [0, 1), got {self.noise_relative}")
        if self.shard_size < 1:
            raise ValueError("shard_size must be >= 1")

    @property
    def normalised_grid(self) -> NormalisedGrid:
        return NormalisedGrid.from_dict(self.grid)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> GeneralConfig:
        from ._dataset import known_keys

        return cls(**{"domain_share": 0.0, **known_keys(cls, d)})

    def sample(self, split: str, index: int, solver: str = "auto") -> dict:
        return simulate_general_sample(self, split, index, solver=solver)

    @staticmethod
    def shard_arrays(samples: list) -> dict:
        return {
            "data": np.stack([s["data"] for s in samples]).astype(np.float32),
            "frequencies": np.stack([s["frequencies"] for s in samples]),
            "stations": np.stack([s["stations"] for s in samples]),
            "elevations": np.stack([s["elevations"] for s in samples]).astype(np.float32),
            "labels": np.stack([s["label"] for s in samples]).astype(np.float32),
            "noisy": np.array([s["noisy"] for s in samples]),
            "params": np.array([s["params"] for s in samples]),
        }


def _pad(a, shape):
    out = np.full(shape, np.nan)
    out[tuple(slice(0, n) for n in np.shape(a))] = a
    return out


def sample_profile(survey: dict, model: dict, *, solver: str = "auto"):
    """``(profile, model vector)``: the simulation of a general sample (its stored ``params``)."""
    stations = np.asarray(survey["stations"])
    freqs = np.asarray(survey["frequencies"])
    elevation = elevation_function(model["family"], 0.0)
    x_probe = np.linspace(-0.5, 1.5, 201) * survey["length"]
    d_probe = np.geomspace(1e-3, 3.0, 60) * survey["length"]
    rho_probe = paint_general(model, x_probe[None, :], d_probe[:, None])
    rho_lo, rho_hi = float(rho_probe.min()), float(rho_probe.max())
    profile = build_profile(
        stations,
        freqs,
        modes=("TE", "TM"),
        elevation=elevation,
        resistivity_range=(rho_lo, max(rho_hi, 2 * rho_lo)),
        cells_per_station=CELLS_PER_STATION,
        dz_surface=DZ_SKIN_DEPTHS * float(skin_depth(freqs.max(), rho_lo)),
        solver=solver,
    )
    x = profile.mesh.cell_centers[profile.active_cells, 0]
    return profile, profile.model_from_resistivity(paint_general(model, x, profile.cell_depths))


def simulate_general_sample(config: GeneralConfig, split: str, index: int, *, solver: str = "auto") -> dict:
    """Draw a survey and a model, simulate TE and TM, label on the normalised grid.

    Returns
    -------
    dict
        ``data`` (2 modes, [apparent resistivity, phase in degrees], 24, 40)
        NaN-padded, ``frequencies`` (24,), ``stations`` (40,) and
        ``elevations`` (40,) NaN-padded, ``label`` (n_rows, n_columns)
        absolute log10 resistivity, ``noisy``, ``params`` (JSON text).
    """
    from ._dataset import SPLITS

    rng = np.random.default_rng([config.seed, SPLITS[split], index, 17])
    held_out = split == "test"
    survey = draw_survey(rng, held_out=held_out)
    model = draw_general_model(rng, survey, held_out=held_out, domain_share=config.domain_share)
    profile, m = sample_profile(survey, model, solver=solver)
    stations = np.asarray(survey["stations"])
    freqs = np.asarray(survey["frequencies"])
    pred = profile.dpred(m)
    data = np.empty((2, 2, freqs.size, stations.size))
    for i, mode in enumerate(("TE", "TM")):
        parts = profile.split(pred[mode], mode)
        data[i, 0], data[i, 1] = parts["apparent_resistivity"], parts["phase"]
    e = config.noise_relative
    noisy = e > 0
    if noisy:
        data[:, 0] *= 1.0 + e * rng.standard_normal(data[:, 0].shape)
        data[:, 1] += np.rad2deg(e / 2.0) * rng.standard_normal(data[:, 1].shape)
    grid = config.normalised_grid
    label = normalised_label(grid, lambda xx, dd: np.log10(paint_general(model, xx, dd)), survey["length"])
    return {
        "data": _pad(data, (2, 2, MAX_FREQUENCIES, MAX_STATIONS)),
        "frequencies": _pad(freqs, (MAX_FREQUENCIES,)),
        "stations": _pad(stations, (MAX_STATIONS,)),
        "elevations": _pad(profile.elevations, (MAX_STATIONS,)),
        "label": label,
        "noisy": noisy,
        "params": json.dumps({"survey": survey, "model": model}),
    }


# ------------------------------------------------------------------- inputs
def general_arrays(
    shard: dict, grid: NormalisedGrid, *, seed: int = 0, augment: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Network inputs and labels of stored general samples.

    Parameters
    ----------
    shard : dict
        Arrays of :meth:`GeneralConfig.shard_arrays` (several shards stacked).
    grid : NormalisedGrid
    seed : int
        Seeds the augmentations (per sample, with its position).
    augment : bool
        Static shifts (half the samples: each station and mode's apparent
        resistivities times a factor whose log10 has a 0.1 spread), lost
        soundings (40 %: 5-30 % of them at random) and a lost mode (10 %
        each for TE and TM).

    Returns
    -------
    X : (n, 8, n_rows, n_columns) numpy.ndarray
    y : (n, n_rows, n_columns) numpy.ndarray
        The correction of the Bostick section (the last channel of ``X``):
        log10 resistivity over the sample's reference resistivity, less
        that channel.
    """
    n = shard["data"].shape[0]
    X = np.empty((n, len(CHANNELS), grid.n_rows, grid.n_columns))
    y = np.empty((n, grid.n_rows, grid.n_columns))
    for i in range(n):
        rng = np.random.default_rng([seed, i, 23])
        f = shard["frequencies"][i]
        f = f[np.isfinite(f)]
        st = shard["stations"][i]
        st = st[np.isfinite(st)]
        d = np.array(shard["data"][i][:, :, : f.size, : st.size], dtype=float)
        rho, phase = d[:, 0], d[:, 1]
        if augment:
            if rng.uniform() < 0.5:  # static shifts: a factor per station and mode, 0.1 decade spread
                rho = rho * 10.0 ** (0.1 * rng.standard_normal((2, 1, rho.shape[2])))
            if rng.uniform() < 0.4:
                lost = rng.uniform(size=rho.shape) < rng.uniform(0.05, 0.3)
                rho[lost] = np.nan
            if rng.uniform() < 0.2:
                drop = int(rng.integers(2))
                rho[drop] = np.nan
        x, rho_ref, _ = normalised_input(grid, rho, phase, f, st, shard["elevations"][i][: st.size])
        X[i] = x
        y[i] = shard["labels"][i] - np.log10(rho_ref) - x[BOSTICK]
    return X, y


def load_general(directory, split: str = "train") -> tuple[GeneralConfig, dict]:
    """``(config, arrays)`` of one split of a general set (every complete shard).

    ``arrays`` holds the keys of :meth:`GeneralConfig.shard_arrays` and
    ``indices``, concatenated over the shards in order.
    """
    from ._dataset import read_split

    return read_split(
        directory,
        split,
        ("data", "frequencies", "stations", "elevations", "labels", "noisy", "params"),
        GeneralConfig,
        "a set for one survey; load it with simpeg_zo.learned.load_dataset",
    )
