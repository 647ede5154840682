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
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._derivatives import _adjoint_rhs_count, _per_frequency
from ._driver import Evaluation
from ._terms import _frequency_terms, forward_dpred
from ._workers import _Recipe, _worker_terms, local_cluster

if TYPE_CHECKING:
    from simpeg.simulation import BaseSimulation

__all__ = ["forward_dpred", "ForwardEngine", "EngineEvaluator", "local_cluster"]

logger = logging.getLogger(__name__)

#: Default :attr:`ForwardEngine.max_rows_bytes`: 256 MiB of Jacobian rows.
MAX_ROWS_BYTES = 256 * 2**20


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
    >>> p = build_profile(np.linspace(0, 1000, 3), [10.0, 1.0], modes=["TE"], resistivity_range=(100, 100))
    >>> with ForwardEngine(list(p.simulations.values())) as engine:
    ...     d = engine.dpred(p.half_space(100.0))
    >>> np.allclose(d[0][:3], 100.0, rtol=0.01)  # a half-space: its resistivity, within 1 %
    True
    """

    def __init__(
        self, simulations: Sequence[BaseSimulation], *, workers: int = 1, scheduler: str | None = None
    ) -> None:
        self.simulations = list(simulations)
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.scheduler = scheduler
        self._client = None
        self._cluster = None
        self._recipes = None
        self._max_adjoint = None
        self._token = f"{id(self):x}-{time.time_ns():x}"
        #: Largest rows of ``J`` (``n_data * n_model`` values, in bytes) that
        #: :meth:`evaluate` hands back whole (``rows=True``)
        self.max_rows_bytes = MAX_ROWS_BYTES
        #: counts: factorisations (one per simulation and frequency), model
        #: evaluations, and Jacobian products as SimPEG's Jvec/Jtvec calls
        #: of each simulation (one solve per frequency; see evaluate)
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
    def max_adjoint_solves(self) -> int:
        """Most adjoint solves the rows of J take at one frequency.

        One per station and impedance (per datum for other receivers), over
        the sources of every simulation: where more directions than this
        ask for Jacobian products, they come from the rows of ``J``
        (:meth:`evaluate`).
        """
        if self._max_adjoint is None:
            self._max_adjoint = max(
                (_adjoint_rhs_count(src, sim.mesh) for sim in self.simulations for src in sim.survey.source_list),
                default=0,
            )
        return self._max_adjoint

    def rows_dtype(self, n_model: int) -> str | None:
        """Precision in which the rows of ``J`` of every datum fit in :attr:`max_rows_bytes`.

        ``"float64"`` where they fit in double precision, ``"float32"``
        where they fit only in single precision (products with the rows then
        carry a relative error near 1e-6, far below any datum's error), and
        None where they do not fit at all.
        """
        n_data = sum(int(sim.survey.nD) for sim in self.simulations)
        for dtype, size in (("float64", 8), ("float32", 4)):
            if n_data * int(n_model) * size <= self.max_rows_bytes:
                return dtype
        return None

    def rows_affordable(self, n_model: int) -> bool:
        """Whether the rows of ``J`` of every datum fit in :attr:`max_rows_bytes` (see :meth:`rows_dtype`)."""
        return self.rows_dtype(n_model) is not None

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
                "frequencies in parallel need Dask: install the 'dask' extra (pip install 'simpeg-zo[dask]')"
            ) from err
        if self.scheduler is not None:
            self._client = Client(self.scheduler, timeout="30s")
        else:
            self._cluster = local_cluster(self.workers)
            self._client = Client(self._cluster)
        recipes = [pickle.dumps(_Recipe(sim)) for sim in self.simulations]
        self._recipes = [self._client.scatter(r, broadcast=True, hash=False) for r in recipes]
        logger.info("forward engine: %d Dask worker(s)", self.n_workers)

    def dpred(self, model: ArrayLike) -> list[NDArray[np.float64]]:
        """Predicted data of every simulation at ``model`` (forward only).

        Returns
        -------
        list of (n_data_i,) numpy.ndarray
            One vector per simulation, in each survey's data order.
        """
        return self.evaluate(model)["dpred"]

    def evaluate(
        self,
        model: ArrayLike,
        *,
        dobs: Sequence[ArrayLike] | None = None,
        weights: Sequence[ArrayLike] | None = None,
        groups: Sequence[ArrayLike] | None = None,
        directions: ArrayLike | None = None,
        boundary_gradient: bool = True,
        jtj_diagonal: bool = False,
        rows: bool = False,
    ) -> dict:
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
            summed); default 0 for every datum.
        directions : (n_model, k) numpy.ndarray, optional
            Directions whose Jacobian products are returned: at each
            frequency from one tangent solve per direction or, where the
            directions outnumber :attr:`max_adjoint_solves`, from the rows of
            ``J`` (one adjoint solve per station and impedance, multiplied
            by the directions; the gradients and the diagonal then come
            from the same rows).
        boundary_gradient : bool
            Include the gradient's part through the 1D boundary fields of
            the outermost mesh columns (a 1D derivative per group).
        jtj_diagonal : bool
            Also return the diagonal of ``J^T diag(weights**2) J`` summed
            over the simulations (one adjoint solve per station and
            impedance on each frequency's factorisation; needs ``weights``).
        rows : bool
            Also return the rows of ``J`` (from the same adjoint solves;
            ``n_data * n_model`` values, in the precision of
            :meth:`rows_dtype`, double where they fit in no precision).

        Returns
        -------
        dict
            ``"dpred"``: list per simulation; ``"gradients"``: {label:
            (n_model,) array}; ``"jd"``: list per simulation of
            (n_data_i, k) arrays (with ``directions``); ``"rows"``: list per
            simulation of (n_data_i, n_model) views into ``"rows_stacked"``,
            the (n_data, n_model) rows of every simulation in one array
            (with ``rows``);
            ``"jtj_diagonal"``: (n_model,) array (with ``jtj_diagonal``).

        Notes
        -----
        ``jvec_products`` and ``jtvec_products`` count in the units of
        SimPEG's ``Jvec``/``Jtvec`` calls of one simulation (one solve per
        frequency), as Gauss-Newton's are counted: each gradient group is one
        ``Jtvec`` of every simulation that holds its data; tangent solves
        (one per direction and frequency) and adjoint solves (one per
        station and frequency) count as their number over the simulation's
        frequencies.
        """
        model = np.asarray(model, dtype=float)
        if jtj_diagonal and weights is None:
            raise ValueError("jtj_diagonal needs the data weights")
        rows_dtype = (self.rows_dtype(model.size) or "float64") if rows else None
        tasks = []
        for i in range(len(self.simulations)):
            options = {}
            if jtj_diagonal:
                options.update(
                    jtj_diagonal=True,
                    weights=np.asarray(weights[i], dtype=float),
                    boundary_gradient=bool(boundary_gradient),
                )
            if dobs is not None:
                options.update(
                    dobs=np.asarray(dobs[i], dtype=float),
                    weights=np.asarray(weights[i], dtype=float),
                    groups=None if groups is None else np.asarray(groups[i]),
                    boundary_gradient=bool(boundary_gradient),
                )
            if directions is not None:
                options["directions"] = np.asarray(directions, dtype=float)
            if rows:
                options.update(rows=True, rows_dtype=rows_dtype, boundary_gradient=bool(boundary_gradient))
            tasks.append(options)
        if not self.parallel:
            # one simulation at a time, merged as it comes (its rows of J are then dropped)
            results = (
                (i, _frequency_terms(sim, model, sim.survey.frequencies, **tasks[i]))
                for i, sim in enumerate(self.simulations)
            )
        else:
            results = self._evaluate_dask(model, tasks)
        out = {
            "dpred": [np.full(sim.survey.nD, np.nan) for sim in self.simulations],
            "gradients": {},
            "jd": None,
            "rows": None,
            "rows_stacked": None,
            "jtj_diagonal": np.zeros(model.size) if jtj_diagonal else None,
        }
        if rows:
            sizes = [int(sim.survey.nD) for sim in self.simulations]
            out["rows_stacked"] = np.full((sum(sizes), model.size), np.nan, dtype=rows_dtype)
            ends = np.cumsum(sizes)
            out["rows"] = [out["rows_stacked"][end - n : end] for n, end in zip(sizes, ends, strict=True)]
        if directions is not None:
            k = np.asarray(directions).shape[1]
            out["jd"] = [np.full((sim.survey.nD, k), np.nan) for sim in self.simulations]
        solves = [{"tangent": 0, "adjoint": 0} for _ in self.simulations]
        labels = [set() for _ in self.simulations]
        for i, res in results:
            for index, values in res["data"]:
                out["dpred"][i][index] = values
            for label, g in res["gradients"].items():
                out["gradients"][label] = out["gradients"].get(label, 0.0) + g
                labels[i].add(label)
            for index, block in res["jd"]:
                out["jd"][i][index] = block
            blocks = res.get("rows", [])
            while blocks:  # each block dropped once copied
                index, block = blocks.pop()
                out["rows"][i][index] = block
            if jtj_diagonal:
                out["jtj_diagonal"] += res["jtj_diagonal"]
            for kind, n in res["solves"].items():
                solves[i][kind] += n
        self.factorisations += sum(len(sim.survey.frequencies) for sim in self.simulations)
        self.forward_evaluations += 1
        # Jacobian products counted as SimPEG's Jvec/Jtvec calls of each
        # simulation (one solve per frequency): each gradient group one
        # J^T v of the simulations that hold its data, tangent and adjoint
        # solves by their number over the simulation's frequencies
        for i, sim in enumerate(self.simulations):
            n_freq = len(sim.survey.frequencies)
            self.jtvec_products += len(labels[i]) + _per_frequency(solves[i]["adjoint"], n_freq)
            self.jvec_products += _per_frequency(solves[i]["tangent"], n_freq)
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
                futures.append(
                    client.submit(
                        _worker_terms,
                        key,
                        self._recipes[i],
                        model_future,
                        frequencies[k::n_chunks],
                        options,
                        pure=False,
                    )
                )
                owners.append(i)
        return list(zip(owners, client.gather(futures), strict=True))

    def close(self) -> None:
        """Shut down the local cluster (an external scheduler is left running)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> ForwardEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # nothing to report from a finaliser
            pass


class EngineEvaluator:
    """:class:`simpeg_zo._driver.Evaluator` of SimPEG simulations through a :class:`ForwardEngine`.

    One call is one forward pass; gradients are per data group (mode,
    component, frequency band), products are stacked over the simulations.
    """

    def __init__(self, engine: ForwardEngine, layout, groups: np.ndarray) -> None:
        self.engine = engine
        self.layout = layout
        self.groups = groups

    def diagonal_is_free(self, n_directions: int) -> bool:
        # the diagonal comes from the rows of J, taken where the directions outnumber the stations
        return n_directions > self.engine.max_adjoint_solves

    def rows_affordable(self, n_model: int) -> bool:
        return self.engine.rows_affordable(n_model)

    def __call__(self, x, *, directions=None, gradients=False, diagonal=False, rows=False) -> Evaluation:
        layout = self.layout
        # every product and gradient includes the part through the 1D
        # boundary fields: the outermost columns move like any other
        request = {}
        if gradients or diagonal:
            request.update(
                dobs=[layout.dobs[sl] for sl in layout.term_slices],
                weights=[layout.weights[sl] for sl in layout.term_slices],
                groups=[self.groups[sl] for sl in layout.term_slices],
            )
        out = self.engine.evaluate(x, directions=directions, **request, jtj_diagonal=bool(diagonal), rows=bool(rows))
        return Evaluation(
            dpred=np.hstack(out["dpred"]),
            gradients=(out["gradients"] or None) if gradients or diagonal else None,
            jd=None if out["jd"] is None else np.vstack(out["jd"]),
            diagonal=out["jtj_diagonal"],
            rows=out["rows_stacked"],
        )
