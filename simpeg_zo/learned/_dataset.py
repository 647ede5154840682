"""Training-set production: draw models, simulate TE+TM with SimPEG, write shards.

Samples are simulated on the project's profile builder with a mesh planned
for throughput (one core cell per station, surface cells as thick as the
model grid's first row) and written in shards of ``shard_size`` samples.  A
shard is written to a temporary file and renamed when complete, so an
interrupted run never leaves a corrupt shard, and a rerun skips every shard
already on disk.  Each sample's generator is seeded by ``(seed, split,
index)``, so the set is identical however it is split over workers.

Work spreads over Dask workers (a ``LocalCluster`` by default, or an existing
scheduler); ``workers=0`` runs in this process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from .._files import atomic_write
from .._mesh import skin_depth
from .._profile import build_profile
from ._families import HALF, HELD_OUT_FAMILIES, QUARTER, TRAINING_FAMILIES, draw_parameters, elevation_function, paint

if TYPE_CHECKING:
    from .._spec import ModelSpec

__all__ = [
    "DatasetConfig",
    "Dataset",
    "default_depth_edges",
    "simulate_sample",
    "produce_dataset",
    "load_dataset",
]

SPLITS = {"train": 0, "test": 1}
MANIFEST = "dataset.json"


def default_depth_edges(depth_max: float, n_depths: int = 32, first: float | None = None) -> NDArray[np.float64]:
    """Depth edges (m) of the model grid.

    Geometric, ``n_depths`` rows from 0 to ``depth_max``, the first ``first``
    thick (default ``depth_max / 200``).
    """
    if depth_max <= 0 or n_depths < 2:
        raise ValueError("depth_max must be > 0 and n_depths >= 2")
    first = depth_max / 200.0 if first is None else float(first)
    if first * n_depths >= depth_max:
        return np.linspace(0.0, depth_max, n_depths + 1)
    g = brentq(lambda g: first * (g**n_depths - 1) / (g - 1) - depth_max, 1.0 + 1e-9, 10.0)
    return np.concatenate([[0.0], np.cumsum(first * g ** np.arange(n_depths))])


#: Settings added after the first sets were made, with the values those sets
#: were made with (a manifest without the key means that value).
LEGACY = {"perturbation": QUARTER}


@dataclass
class DatasetConfig:
    """What a training set holds and how it is simulated.

    Attributes
    ----------
    stations : (n_stations,) numpy.ndarray
        Station positions (m) of the survey the network is trained for.
    frequencies : (n_frequencies,) numpy.ndarray
        Frequencies (Hz), descending.
    depth_edges : (n_depths + 1,) numpy.ndarray
        Model-grid depth edges below the local surface (m); the model grid's
        columns sit at the stations.
    modes : tuple of str
        Always TE and TM (four input channels).
    log10_resistivity : (2,) tuple of float
        Range of the resistivity grid the families draw from (log10 ohm-m).
    noise_share : float
        Share of the samples with Gaussian noise.
    noise_relative : float
        Noise on apparent resistivity (fraction); phase gets half of it in
        radians (the same impedance error).
    topography_share : float
        Share of the samples with topography.
    perturbation : float
        Random perturbation of the training values around their grid steps,
        as a fraction of a step (0.5 by default: the values fill the range
        between the steps; 0.25 keeps them within a quarter step of the
        grid, the setting of sets made before this option existed).  The
        held-out split always draws midpoints between the steps.
    seed : int
        Seed of the whole set.
    shard_size : int
        Samples per shard file.
    cells_per_station, dz_surface :
        Simulation mesh (see :func:`simpeg_zo.build_profile`).  One core
        cell per station and surface cells half a skin depth thick at the
        highest frequency in the lowest resistivity (default): a throughput
        compromise measured at 0.5 % in apparent resistivity and 4 degrees
        in phase at the top frequency over the lowest resistivity, under
        1 % below it.
    survey : str
        Where the survey geometry came from (for reports).
    """

    stations: np.ndarray
    frequencies: np.ndarray
    depth_edges: np.ndarray
    modes: tuple = ("TE", "TM")
    log10_resistivity: tuple = (0.5, 3.5)
    noise_share: float = 0.5
    noise_relative: float = 0.05
    topography_share: float = 0.5
    perturbation: float = HALF
    seed: int = 0
    shard_size: int = 25
    cells_per_station: int = 1
    dz_surface: float | None = None
    survey: str = ""
    families: tuple = field(default=TRAINING_FAMILIES)
    held_out_families: tuple = field(default=HELD_OUT_FAMILIES)

    def __post_init__(self):
        self.stations = np.asarray(self.stations, dtype=float).ravel()
        self.frequencies = np.asarray(self.frequencies, dtype=float).ravel()
        self.depth_edges = np.asarray(self.depth_edges, dtype=float).ravel()
        self.modes = tuple(self.modes)
        self.log10_resistivity = tuple(float(v) for v in self.log10_resistivity)
        self.families = tuple(self.families)
        self.held_out_families = tuple(self.held_out_families)
        if self.stations.size < 2 or np.any(np.diff(self.stations) <= 0):
            raise ValueError("stations must be at least two increasing positions")
        if self.frequencies.size < 2 or np.any(self.frequencies <= 0):
            raise ValueError("frequencies must be at least two positive values")
        if self.depth_edges.size < 3 or self.depth_edges[0] != 0 or np.any(np.diff(self.depth_edges) <= 0):
            raise ValueError("depth_edges must start at 0 and increase")
        if self.modes != ("TE", "TM"):
            raise ValueError("the learned inversion uses both modes: modes=('TE', 'TM')")
        for name in ("noise_share", "topography_share"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if not 0 <= self.perturbation <= HALF:
            raise ValueError(f"perturbation must be in [0, {HALF}] (a fraction of a step), got {self.perturbation}")
        if self.shard_size < 1:
            raise ValueError("shard_size must be >= 1")

    @classmethod
    def from_survey(
        cls,
        stations: ArrayLike,
        frequencies: ArrayLike,
        *,
        frequency_step: int = 1,
        n_depths: int = 32,
        depth_max: float | None = None,
        survey: str = "",
        **options: Any,
    ) -> DatasetConfig:
        """A configuration for a survey given by its stations and frequencies.

        Every ``frequency_step``-th frequency is simulated (the network's
        input grid); the model grid reaches ``depth_max`` (default: the
        profile length) in ``n_depths`` geometric rows.
        """
        stations = np.sort(np.asarray(stations, float))
        freqs = np.asarray(frequencies, float)[::frequency_step]
        span = float(stations[-1] - stations[0])
        edges = default_depth_edges(span if depth_max is None else depth_max, n_depths)
        return cls(
            stations=stations,
            frequencies=freqs,
            depth_edges=edges,
            survey=f"{survey} (every {frequency_step} frequencies)",
            **options,
        )

    @classmethod
    def from_spec(cls, spec: ModelSpec, *, frequency_step: int = 5, **options: Any) -> DatasetConfig:
        """A configuration for the survey of a :class:`simpeg_zo.ModelSpec`.

        See :meth:`from_survey` for the options.
        """
        return cls.from_survey(
            spec.stations, spec.frequencies, frequency_step=frequency_step, survey=spec.name, **options
        )

    @property
    def span(self) -> float:
        return float(self.stations[-1] - self.stations[0])

    @property
    def depth_centres(self) -> np.ndarray:
        return 0.5 * (self.depth_edges[1:] + self.depth_edges[:-1])

    @property
    def mesh_dz(self) -> float:
        if self.dz_surface is not None:
            return float(self.dz_surface)
        return 0.5 * float(skin_depth(self.frequencies.max(), 10.0 ** self.log10_resistivity[0]))

    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else (list(v) if isinstance(v, tuple) else v)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> DatasetConfig:
        return cls(**{**LEGACY, **known_keys(cls, d)})

    def sample(self, split: str, index: int, solver: str = "auto") -> dict:
        return simulate_sample(self, split, index, solver=solver)

    @staticmethod
    def shard_arrays(samples: list) -> dict:
        return {
            "data": np.stack([s["data"] for s in samples]).astype(np.float32),
            "labels": np.stack([s["label"] for s in samples]).astype(np.float32),
            "elevations": np.stack([s["elevations"] for s in samples]).astype(np.float32),
            "noisy": np.array([s["noisy"] for s in samples]),
            "params": np.array([s["params"] for s in samples]),
        }


def known_keys(cls, d: dict) -> dict:
    """``d``, after checking that its keys are fields of the configuration class ``cls``."""
    unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"unknown dataset configuration keys: {sorted(unknown)}")
    return d


def config_from_dict(d: dict):
    """The configuration of a manifest: a survey's set or a general (random surveys) set."""
    if d.get("kind") == "general":
        from ._general import GeneralConfig

        return GeneralConfig.from_dict(d)
    return DatasetConfig.from_dict(d)


def _rng(config, split, index):
    return np.random.default_rng([config.seed, SPLITS[split], index])


def simulate_sample(config: DatasetConfig, split: str, index: int, *, solver: str = "auto") -> dict:
    """Draw, simulate and label one sample.

    Returns
    -------
    dict
        ``data`` (2 modes, 2 [apparent resistivity, phase in degrees as
        SimPEG gives it], n_frequencies, n_stations), ``label`` (log10
        resistivity on the model grid), ``elevations`` (at the stations),
        ``noisy``, ``params`` (JSON text).
    """
    rng = _rng(config, split, index)
    held_out = split == "test"
    families = config.families + (config.held_out_families if held_out else ())
    params = draw_parameters(
        rng,
        span=config.span,
        depth_max=float(config.depth_edges[-1]),
        held_out=held_out,
        families=families,
        log10_resistivity=config.log10_resistivity,
        topography_share=config.topography_share,
        perturbation=config.perturbation,
    )
    origin = float(config.stations[0])
    elevation = elevation_function(params, origin)
    lo, hi = config.log10_resistivity
    profile = build_profile(
        config.stations,
        config.frequencies,
        modes=config.modes,
        elevation=elevation,
        resistivity_range=(10.0**lo, 10.0**hi),
        cells_per_station=config.cells_per_station,
        dz_surface=config.mesh_dz,
        solver=solver,
    )
    x = profile.mesh.cell_centers[profile.active_cells, 0] - origin
    model = profile.model_from_resistivity(paint(params, x, profile.cell_depths))
    pred = profile.dpred(model)
    data = np.empty((2, 2, config.frequencies.size, config.stations.size))
    for i, mode in enumerate(config.modes):
        parts = profile.split(pred[mode], mode)
        data[i, 0], data[i, 1] = parts["apparent_resistivity"], parts["phase"]
    noisy = bool(rng.uniform() < config.noise_share)
    if noisy:
        e = config.noise_relative
        data[:, 0] *= 1.0 + e * rng.standard_normal(data[:, 0].shape)
        data[:, 1] += np.rad2deg(e / 2.0) * rng.standard_normal(data[:, 1].shape)
    label = np.log10(paint(params, config.stations[None, :] - origin, config.depth_centres[:, None]))
    return {
        "data": data,
        "label": label,
        "elevations": profile.elevations.copy(),
        "noisy": noisy,
        "params": json.dumps(params),
    }


def _shard_path(directory, split, k):
    return pathlib.Path(directory) / split / f"shard-{k:05d}.npz"


def _shard_is_complete(path, expected) -> bool:
    try:
        with np.load(path) as f:
            return int(f["indices"].size) == expected
    except Exception:
        return False


def _write_shard(config_dict, split, k, start, stop, directory, solver="auto", warning_filters=None):
    """Simulate samples ``start..stop-1`` and write shard ``k`` atomically.

    ``warning_filters``: the calling process's ``warnings.filters``, so a
    worker process shows the warnings the caller would.
    """
    from threadpoolctl import threadpool_limits

    config = config_from_dict(config_dict)
    t0 = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        if warning_filters is not None:
            warnings.filters[:] = warning_filters
        samples = [config.sample(split, i, solver=solver) for i in range(start, stop)]
    seconds = time.perf_counter() - t0
    path = _shard_path(directory, split, k)
    with atomic_write(path) as fh:
        np.savez(fh, indices=np.arange(start, stop), seconds=np.float64(seconds), **config.shard_arrays(samples))
    return {"split": split, "shard": k, "samples": stop - start, "seconds": seconds}


def _check_manifest(directory, config):
    path = pathlib.Path(directory) / MANIFEST
    new = config.to_dict()
    if path.exists():
        try:
            # from_dict gives keys added since the set was made the value sets had before them
            old = config_from_dict(json.loads(path.read_text())["config"]).to_dict()
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a simpeg-zo dataset manifest ({err})") from None
        for key in new:
            if json.dumps(old[key]) != json.dumps(new[key]):
                raise ValueError(
                    f"{path}: the dataset there was made with a different {key!r}; "
                    "use another directory or the same settings to resume"
                )
    return path


def produce_dataset(
    directory: str | os.PathLike,
    config: DatasetConfig,
    *,
    train: int,
    test: int = 0,
    workers: int = 2,
    scheduler: str | None = None,
    progress: bool = False,
    solver: str = "auto",
) -> dict:
    """Produce (or resume) a training set in ``directory``.

    Parameters
    ----------
    directory : path-like
        Output folder: ``dataset.json``, ``train/shard-*.npz``,
        ``test/shard-*.npz``.
    config : DatasetConfig or GeneralConfig
        The set's survey, model grid and sampling, or (``GeneralConfig``)
        random surveys for a survey-neutral network.
    train, test : int
        Number of samples of each split (the test split draws held-out
        parameter values and families).
    workers : int
        Dask workers of a local cluster (one thread each); 0 runs in this
        process without Dask.
    scheduler : str, optional
        Address of an existing Dask scheduler (``workers`` is then ignored).
    progress : bool
        Show a progress bar.
    solver : {"auto", "pardiso", "superlu"}
        Direct solver of the simulations (the samples do not depend on it
        beyond rounding, so it is not part of the set's manifest).

    Returns
    -------
    dict
        ``samples`` simulated now, ``skipped`` (already on disk),
        ``seconds``, ``workers``, ``samples_per_minute_per_worker``.
    """
    directory = pathlib.Path(directory)
    if train < 0 or test < 0:
        raise ValueError("sample counts must be >= 0")
    directory.mkdir(parents=True, exist_ok=True)
    manifest = _check_manifest(directory, config)
    manifest.write_text(json.dumps({"config": config.to_dict(), "train": train, "test": test}, indent=1))
    jobs, skipped = [], 0
    for split, count in (("test", test), ("train", train)):  # the small test split first
        (directory / split).mkdir(exist_ok=True)
        for k, start in enumerate(range(0, count, config.shard_size)):
            stop = min(start + config.shard_size, count)
            if _shard_is_complete(_shard_path(directory, split, k), stop - start):
                skipped += stop - start
            else:
                jobs.append((split, k, start, stop))
    cfg = config.to_dict()
    total = sum(stop - start for _, _, start, stop in jobs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="sample", desc="simulating")
    t0 = time.perf_counter()
    n_workers = 1
    if workers == 0 and scheduler is None:
        for split, k, start, stop in jobs:
            _write_shard(cfg, split, k, start, stop, str(directory), solver)
            if bar is not None:
                bar.update(stop - start)
    elif jobs:
        n_workers = _run_dask(jobs, cfg, directory, workers, scheduler, bar, solver)
    seconds = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    rate = total / (seconds / 60.0) / n_workers if total else 0.0
    return {
        "samples": total,
        "skipped": skipped,
        "seconds": seconds,
        "workers": n_workers,
        "samples_per_minute_per_worker": rate,
    }


def _run_dask(jobs, cfg, directory, workers, scheduler, bar, solver):
    try:
        from dask.distributed import Client, as_completed
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            "producing a training set on workers needs Dask: pip install 'simpeg-zo[dask]' "
            "(or pass workers=0 to run in this process)"
        ) from err
    cluster = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        if workers < 1:
            raise ValueError("workers must be >= 1 for a local cluster")
        from .._workers import local_cluster

        cluster = local_cluster(workers, dashboard_address=":0")
        client = Client(cluster)
    try:
        n_workers = max(1, len(client.scheduler_info()["workers"]))
        filters = list(warnings.filters)
        futures = [
            client.submit(_write_shard, cfg, split, k, start, stop, str(directory), solver, filters, pure=False)
            for split, k, start, stop in jobs
        ]
        for fut in as_completed(futures):
            result = fut.result()
            if bar is not None:
                bar.update(result["samples"])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return n_workers


@dataclass
class Dataset:
    """A split of a training set loaded in memory.

    Attributes
    ----------
    config : DatasetConfig
    data : (n, 2, 2, n_frequencies, n_stations) numpy.ndarray
        Apparent resistivity and phase (degrees, SimPEG's sign) per mode.
    labels : (n, n_depths, n_stations) numpy.ndarray
        log10 resistivity on the model grid.
    elevations : (n, n_stations) numpy.ndarray
    noisy : (n,) numpy.ndarray of bool
    params : list of dict
    indices : (n,) numpy.ndarray
    """

    config: DatasetConfig
    data: np.ndarray
    labels: np.ndarray
    elevations: np.ndarray
    noisy: np.ndarray
    params: list
    indices: np.ndarray

    def __len__(self) -> int:
        return int(self.indices.size)

    @property
    def families(self) -> list:
        return [p["family"] for p in self.params]


def read_split(directory: str | os.PathLike, split: str, keys, kind: type, other: str):
    """``(config, arrays)``: the manifest and every complete shard of one split.

    ``keys``: the arrays to read (``indices`` is added), concatenated over
    the shards in order. ``kind``: the configuration class the set must
    have; ``other``: the loader to name when it has the other one.
    """
    directory = pathlib.Path(directory)
    manifest = directory / MANIFEST
    if not manifest.exists():
        raise FileNotFoundError(f"{directory}: no {MANIFEST}; not a simpeg-zo dataset folder")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    config = config_from_dict(json.loads(manifest.read_text())["config"])
    if not isinstance(config, kind):
        raise ValueError(f"{directory}: {other}")
    parts = {k: [] for k in ("indices", *keys)}
    for path in sorted((directory / split).glob("shard-*.npz")):
        with np.load(path) as f:
            for k in parts:
                parts[k].append(f[k])
    if not parts["indices"]:
        raise FileNotFoundError(f"{directory / split}: no shards")
    return config, {k: np.concatenate(v) for k, v in parts.items()}


def load_dataset(directory: str | os.PathLike, split: str = "train") -> Dataset:
    """Load every complete shard of one split of a produced training set."""
    config, arrays = read_split(
        directory,
        split,
        ("data", "labels", "elevations", "noisy", "params"),
        DatasetConfig,
        "a set of random surveys; load it with simpeg_zo.learned.load_general",
    )
    return Dataset(
        config=config,
        data=arrays["data"].astype(np.float64),
        labels=arrays["labels"].astype(np.float64),
        elevations=arrays["elevations"].astype(np.float64),
        noisy=arrays["noisy"].astype(bool),
        params=[json.loads(str(p)) for p in arrays["params"]],
        indices=arrays["indices"],
    )
