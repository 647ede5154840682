"""Dask workers for the forward engine: simulations rebuilt once per worker process.

A task carries only the model and the pickled recipe of its simulation
(class, mesh, survey, maps and solver, without SimPEG's caches); each worker
process builds the simulation on its first task and keeps it.
"""

from __future__ import annotations

import pickle
import threading

from ._terms import _frequency_terms

__all__ = ["local_cluster"]


class _Recipe:
    """How to rebuild a 2D MT simulation elsewhere (without its caches)."""

    def __init__(self, simulation):
        self.cls = type(simulation)
        self.kwargs = {
            "survey": simulation.survey,
            "solver": simulation.solver,
            "solver_opts": dict(simulation.solver_opts),
        }
        # the maps the script set (SimPEG derives their reciprocal partners)
        state = vars(simulation)
        for name in ("sigmaMap", "rhoMap", "muMap", "muiMap"):
            value = state.get("_" + name, getattr(simulation, name, None))
            if value is not None:
                self.kwargs[name] = value
        self.mesh = simulation.mesh

    def build(self):
        return self.cls(self.mesh, **self.kwargs)


_WORKER_LOCK = threading.Lock()
_WORKER_SIMULATIONS: dict = {}


def _worker_terms(key, recipe_bytes, model, frequencies, options):
    """Dask task: :func:`_frequency_terms` of some frequencies of one simulation.

    The simulation is built once per worker process and kept.
    """
    with _WORKER_LOCK:
        sim = _WORKER_SIMULATIONS.get(key)
        if sim is None:
            sim = pickle.loads(recipe_bytes).build()
            if len(_WORKER_SIMULATIONS) >= 16:
                _WORKER_SIMULATIONS.clear()
            _WORKER_SIMULATIONS[key] = sim
        return _frequency_terms(sim, model, frequencies, **options)


def local_cluster(n_workers: int, **kwargs):
    """A local Dask cluster of single-threaded worker processes for simulations.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers so that
    freed memory goes back to the system at once; with the large, short-lived
    arrays of sparse assembly and factorisation that made every worker
    1.5 times slower than the same work in the parent process (measured). The
    workers here keep glibc's default; BLAS, OpenMP and MKL stay at one
    thread each.
    """
    import dask
    from dask.distributed import LocalCluster

    options = dict(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=0)
    options.update(kwargs)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(**options)
