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


def _frequency_terms(simulation, model, frequencies, *, dobs=None, weights=None, groups=None,
                     directions=None):
    """Data, and optionally misfit gradients and Jacobian products, of some
    frequencies, each frequency factorised once and released.

    Mirrors SimPEG's ``Jtvec``/``Jvec`` frequency by frequency (adjoint and
    tangent solves on the same factorisation as the forward solve).

    Parameters
    ----------
    dobs, weights : (n_data,) numpy.ndarray, optional
        Observed data and weights; with them the gradients of
        ``sum(weights**2 * (d - dobs)**2)`` over each group are returned.
    groups : (n_data,) numpy.ndarray of int, optional
        Group label of every datum (default all 0); one gradient per label.
    directions : (n_model, k) numpy.ndarray, optional
        Model directions whose Jacobian products ``J @ directions`` are
        returned.

    Returns
    -------
    dict
        ``"data"``: list of (slice, values); ``"gradients"``: {label:
        (n_model,) array}; ``"jd"``: list of (slice, (n, k) array).
    """
    from simpeg.utils import Zero

    simulation.model = model
    fields = simulation.fieldsPair(simulation)
    slices = simulation.survey.get_all_slices()
    want_grad = dobs is not None
    if want_grad:
        labels = np.zeros(simulation.survey.nD, dtype=int) if groups is None else np.asarray(groups)
        names = [int(g) for g in np.unique(labels[np.asarray(weights) > 0])]
        gradients = {g: np.zeros(np.asarray(model).size) for g in names}
    else:
        gradients = {}
    data, jd = [], []
    for frequency in frequencies:
        A = simulation.getA(frequency)
        rhs = simulation.getRHS(frequency)
        solver = simulation.solver(A, **simulation.solver_opts)
        try:
            sources = simulation.survey.get_sources_by_frequency(frequency)
            fields[sources, simulation._solutionType] = solver * rhs
            for src in sources:
                for rx in src.receiver_list:
                    data.append((slices[src, rx], np.asarray(rx.eval(src, simulation.mesh, fields)).ravel()))
            current = {}
            for index, values in data[-sum(len(src.receiver_list) for src in sources):]:
                current[(index.start, index.stop)] = values
            for src in sources:
                u = fields[src, simulation._solutionType]
                if want_grad and names:
                    rhs_adj, dm_direct = [], []
                    for g in names:
                        df_du, df_dm = 0, 0
                        for rx in src.receiver_list:
                            sl = slices[src, rx]
                            d = current[(sl.start, sl.stop)]
                            w = np.asarray(weights)[sl]
                            v = 2.0 * w**2 * (d - np.asarray(dobs)[sl]) * (labels[sl] == g)
                            du_t, dm_t = rx.evalDeriv(src, simulation.mesh, fields, v=v, adjoint=True)
                            if not isinstance(du_t, Zero):
                                df_du = df_du + du_t
                            if not isinstance(dm_t, Zero):
                                df_dm = df_dm + dm_t
                        rhs_adj.append(np.asarray(df_du).reshape(-1) if not np.isscalar(df_du) else
                                       np.zeros(u.shape[0], dtype=complex))
                        dm_direct.append(df_dm)
                    lam = solver * np.column_stack(rhs_adj)
                    for j, g in enumerate(names):
                        lam_j = lam[:, j]
                        term = -simulation.getADeriv(frequency, u, lam_j, adjoint=True)
                        term = term + simulation.getRHSDeriv(frequency, src, lam_j, adjoint=True)
                        if not np.isscalar(dm_direct[j]):
                            term = term + dm_direct[j]
                        gradients[g] += np.real(np.asarray(term)).ravel()
                if directions is not None:
                    D = np.asarray(directions)
                    cols = []
                    for j in range(D.shape[1]):
                        dA = simulation.getADeriv(frequency, u, D[:, j], adjoint=False)
                        dR = simulation.getRHSDeriv(frequency, src, D[:, j])
                        cols.append(np.asarray(-dA + dR).reshape(-1))
                    du = solver * np.column_stack(cols)
                    for rx in src.receiver_list:
                        block = np.column_stack([
                            np.asarray(rx.evalDeriv(src, simulation.mesh, fields, du_dm_v=du[:, j], v=D[:, j])).ravel()
                            for j in range(D.shape[1])
                        ])
                        jd.append((slices[src, rx], block))
        finally:
            solver.clean()
    return {"data": data, "gradients": gradients, "jd": jd}


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
    for index, values in _frequency_terms(simulation, model, freqs)["data"]:
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


def _worker_terms(key, recipe_bytes, model, frequencies, options):
    """Dask task: :func:`_frequency_terms` of some frequencies of one
    simulation (built once per worker process and kept)."""
    with _WORKER_LOCK:
        sim = _WORKER_SIMULATIONS.get(key)
        if sim is None:
            sim = pickle.loads(recipe_bytes).build()
            if len(_WORKER_SIMULATIONS) >= 16:
                _WORKER_SIMULATIONS.clear()
            _WORKER_SIMULATIONS[key] = sim
        return _frequency_terms(sim, model, frequencies, **options)


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
        #: counts: factorisations (one per simulation and frequency), model
        #: evaluations, and Jacobian products (each gradient group is one
        #: J^T v over the whole survey, each direction one J v)
        self.factorisations = 0
        self.forward_evaluations = 0
        self.jvec_products = 0
        self.jtvec_products = 0
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
        return self.evaluate(model)["dpred"]

    def evaluate(self, model, *, dobs=None, weights=None, groups=None, directions=None) -> dict:
        """Data and, on request, misfit gradients and Jacobian products.

        One factorisation per (simulation, frequency), released after its
        forward, adjoint and tangent solves.

        Parameters
        ----------
        model : (n_model,) numpy.ndarray
        dobs, weights : list of (n_data_i,) numpy.ndarray, optional
            Per simulation; with them, the gradient of
            ``sum(weights**2 * (dpred - dobs)**2)`` is returned per group.
        groups : list of (n_data_i,) numpy.ndarray of int, optional
            Group label of every datum (labels shared across simulations are
            summed); default one group per simulation... all 0.
        directions : (n_model, k) numpy.ndarray, optional
            Directions whose Jacobian products are returned.

        Returns
        -------
        dict
            ``"dpred"``: list per simulation; ``"gradients"``: {label:
            (n_model,) array}; ``"jd"``: list per simulation of
            (n_data_i, k) arrays (with ``directions``).
        """
        model = np.asarray(model, dtype=float)
        tasks = []
        for i, sim in enumerate(self.simulations):
            options = {}
            if dobs is not None:
                options.update(dobs=np.asarray(dobs[i], dtype=float), weights=np.asarray(weights[i], dtype=float),
                               groups=None if groups is None else np.asarray(groups[i]))
            if directions is not None:
                options["directions"] = np.asarray(directions, dtype=float)
            tasks.append(options)
        if not self.parallel:
            results = [(i, _frequency_terms(sim, model, sim.survey.frequencies, **tasks[i]))
                       for i, sim in enumerate(self.simulations)]
        else:
            results = self._evaluate_dask(model, tasks)
        out = {"dpred": [np.full(sim.survey.nD, np.nan) for sim in self.simulations], "gradients": {}, "jd": None}
        if directions is not None:
            k = np.asarray(directions).shape[1]
            out["jd"] = [np.full((sim.survey.nD, k), np.nan) for sim in self.simulations]
        for i, res in results:
            for index, values in res["data"]:
                out["dpred"][i][index] = values
            for label, g in res["gradients"].items():
                out["gradients"][label] = out["gradients"].get(label, 0.0) + g
            for index, block in res["jd"]:
                out["jd"][i][index] = block
        n_freq = sum(len(sim.survey.frequencies) for sim in self.simulations)
        self.factorisations += n_freq
        self.forward_evaluations += 1
        if dobs is not None:
            self.jtvec_products += len(out["gradients"])
        if directions is not None:
            self.jvec_products += np.asarray(directions).shape[1]
        return out

    def _evaluate_dask(self, model, tasks):
        client = self._client
        [model_future] = client.scatter([model], broadcast=True, hash=False)
        futures, owners = [], []
        # a few interleaved chunks of frequencies per worker and simulation:
        # balanced, and each worker sets a model up once per simulation
        n_chunks = 2 * self.n_workers
        for i, sim in enumerate(self.simulations):
            key = f"{self._token}-{i}"
            options = tasks[i]
            if options:
                [options] = client.scatter([options], broadcast=True, hash=False)
            frequencies = [float(f) for f in sim.survey.frequencies]
            for k in range(min(n_chunks, len(frequencies))):
                futures.append(client.submit(_worker_terms, key, self._recipes[i], model_future,
                                             frequencies[k::n_chunks], options, pure=False))
                owners.append(i)
        return list(zip(owners, client.gather(futures)))

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
