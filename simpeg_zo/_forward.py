"""Forward-only evaluation of SimPEG frequency-domain simulations.

SimPEG's ``fields`` keeps every frequency's factorisation (its Jacobian
products reuse them), so a profile with many frequencies holds many
factorisations at once. Methods that need no Jacobian product (ZO, the
network's start, synthetic data and training sets) only need the predicted
data: :func:`forward_dpred` factorises, solves and releases one frequency at a
time, so the peak memory is about one factorisation.

:class:`ForwardEngine` does the same for all the simulations of a data misfit
and, with ``workers > 1`` or a Dask ``scheduler`` address, spreads the
(simulation, frequency) solves over Dask worker processes: each worker keeps
its own copy of the simulations and receives only the model.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from typing import Sequence

import numpy as np

__all__ = ["forward_dpred", "ForwardEngine", "local_cluster"]

logger = logging.getLogger("simpeg_zo")


def _solve(simulation, frequency):
    A = simulation.getA(frequency)
    rhs = simulation.getRHS(frequency)
    solver = simulation.solver(A, **simulation.solver_opts)
    try:
        return solver * rhs
    finally:
        solver.clean()


def _frequency_data(simulation, model, frequencies):
    """``{frequency: data of its sources}`` for the given frequencies."""
    simulation.model = model
    fields = simulation.fieldsPair(simulation)
    slices = simulation.survey.get_all_slices()
    out = {}
    for frequency in frequencies:
        sources = simulation.survey.get_sources_by_frequency(frequency)
        fields[sources, simulation._solutionType] = _solve(simulation, frequency)
        block = []
        for src in sources:
            for rx in src.receiver_list:
                block.append((slices[src, rx], np.asarray(rx.eval(src, simulation.mesh, fields)).ravel()))
        out[float(frequency)] = block
    return out


def forward_dpred(simulation, model, *, frequencies=None) -> np.ndarray:
    """Predicted data of a SimPEG frequency-domain simulation, forward only.

    Factorises, solves and releases one frequency at a time (SimPEG's own
    ``dpred`` keeps every factorisation for Jacobian products), so the peak
    memory is about one factorisation.

    Parameters
    ----------
    simulation : simpeg.electromagnetics.base_1d or frequency-domain simulation
        Any simulation with ``getA``/``getRHS`` per frequency, such as the
        2D MT ``Simulation2DMagneticField`` and ``Simulation2DElectricField``.
    model : (n_param,) numpy.ndarray
    frequencies : sequence of float, optional
        Only these frequencies (the other data are NaN); default all.

    Returns
    -------
    (n_data,) numpy.ndarray
        In the survey's data order, as ``simulation.dpred(model)``.
    """
    freqs = simulation.survey.frequencies if frequencies is None else frequencies
    dpred = np.full(simulation.survey.nD, np.nan)
    for block in _frequency_data(simulation, model, freqs).values():
        for index, values in block:
            dpred[index] = values
    return dpred


class _Recipe:
    """How to rebuild a 2D MT simulation elsewhere (without its caches)."""

    def __init__(self, simulation):
        self.cls = type(simulation)
        self.kwargs = {
            "survey": simulation.survey,
            "solver": simulation.solver,
            "solver_opts": dict(simulation.solver_opts),
        }
        for name in ("sigmaMap", "rhoMap", "muMap", "muiMap"):
            value = getattr(simulation, name, None)
            if value is not None:
                self.kwargs[name] = value
        self.mesh = simulation.mesh

    def build(self):
        return self.cls(self.mesh, **self.kwargs)


_WORKER_LOCK = threading.Lock()
_WORKER_SIMULATIONS: dict = {}


def _worker_frequencies(key, recipe_bytes, model, frequencies):
    """Dask task: data of some frequencies of one simulation (built once per
    worker process and kept)."""
    with _WORKER_LOCK:
        sim = _WORKER_SIMULATIONS.get(key)
        if sim is None:
            sim = pickle.loads(recipe_bytes).build()
            if len(_WORKER_SIMULATIONS) >= 16:
                _WORKER_SIMULATIONS.clear()
            _WORKER_SIMULATIONS[key] = sim
        return _frequency_data(sim, model, frequencies)


def local_cluster(n_workers: int, **kwargs):
    """A local Dask cluster of single-threaded worker processes for
    simulations.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers so that
    freed memory goes back to the system at once; with the large, short-lived
    arrays of sparse assembly and factorisation that made every worker
    1.5 times slower than the same work in the parent process (measured). The
    workers here keep glibc's default; BLAS, OpenMP and MKL stay at one
    thread each.
    """
    import dask
    from dask.distributed import LocalCluster

    options = dict(n_workers=n_workers, threads_per_worker=1, processes=True,
                   dashboard_address=None, memory_limit=0)
    options.update(kwargs)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(**options)


class ForwardEngine:
    """Forward-only predicted data of several simulations, optionally on Dask.

    Parameters
    ----------
    simulations : sequence of SimPEG frequency-domain simulations
        E.g. the TE and TM simulations of a profile, or those of a data
        misfit.
    workers : int
        ``1`` (default): in this process, one frequency at a time. ``N > 1``:
        a local Dask cluster of ``N`` single-threaded worker processes,
        started here and closed by :meth:`close`.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``); its
        workers are used instead of a local cluster.

    Examples
    --------
    >>> import numpy as np
    >>> from simpeg_zo import build_profile
    >>> from simpeg_zo._forward import ForwardEngine
    >>> p = build_profile(np.linspace(0, 1000, 3), [10.0, 1.0], modes=["TE"],
    ...                   resistivity_range=(100, 100))
    >>> with ForwardEngine(list(p.simulations.values())) as engine:
    ...     d = engine.dpred(p.half_space(100.0))
    >>> np.round(d[0][:3], 1)
    array([100., 100., 100.])
    """

    def __init__(self, simulations: Sequence, *, workers: int = 1, scheduler: str | None = None):
        self.simulations = list(simulations)
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.scheduler = scheduler
        self._client = None
        self._cluster = None
        self._recipes = None
        self._token = f"{id(self):x}-{time.time_ns():x}"
        self.solve_count = 0
        if self.parallel:
            self._start()

    @property
    def parallel(self) -> bool:
        """Whether solves go to Dask workers."""
        return self.scheduler is not None or self.workers > 1

    @property
    def n_workers(self) -> int:
        """Workers solving frequencies (1 in this process)."""
        if self._client is None:
            return 1
        return max(len(self._client.scheduler_info().get("workers", {})), 1)

    def _start(self):
        try:
            from dask.distributed import Client
        except ImportError as err:  # pragma: no cover - dask is a dependency of the extra
            raise ImportError(
                "frequencies in parallel need Dask: install the 'dask' extra "
                "(pip install 'simpeg-zo[dask]')"
            ) from err
        if self.scheduler is not None:
            self._client = Client(self.scheduler, timeout="30s")
        else:
            self._cluster = local_cluster(self.workers)
            self._client = Client(self._cluster)
        recipes = [pickle.dumps(_Recipe(sim)) for sim in self.simulations]
        self._recipes = [self._client.scatter(r, broadcast=True, hash=False) for r in recipes]
        logger.info("forward engine: %d Dask worker(s)", self.n_workers)

    def dpred(self, model) -> list:
        """Predicted data of every simulation at ``model`` (forward only).

        Returns
        -------
        list of (n_data_i,) numpy.ndarray
            One vector per simulation, in each survey's data order.
        """
        model = np.asarray(model, dtype=float)
        if not self.parallel:
            out = [forward_dpred(sim, model) for sim in self.simulations]
        else:
            out = self._dpred_dask(model)
        self.solve_count += sum(len(sim.survey.frequencies) for sim in self.simulations)
        return out

    def _dpred_dask(self, model):
        client = self._client
        [model_future] = client.scatter([model], broadcast=True, hash=False)
        futures, owners = [], []
        # a few interleaved chunks of frequencies per worker and simulation:
        # balanced, and each worker sets a model up once per simulation
        n_chunks = 2 * self.n_workers
        for i, sim in enumerate(self.simulations):
            key = f"{self._token}-{i}"
            recipe = self._recipes[i]
            frequencies = [float(f) for f in sim.survey.frequencies]
            for k in range(min(n_chunks, len(frequencies))):
                futures.append(
                    client.submit(_worker_frequencies, key, recipe, model_future, frequencies[k::n_chunks],
                                  pure=False)
                )
                owners.append(i)
        out = [np.full(sim.survey.nD, np.nan) for sim in self.simulations]
        for i, result in zip(owners, client.gather(futures)):
            for block in result.values():
                for index, values in block:
                    out[i][index] = values
        return out

    def close(self):
        """Shut down the local cluster (an external scheduler is left running)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
