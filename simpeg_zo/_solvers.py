"""Direct solvers for the 2D MT system matrices, usable by SimPEG simulations.

Two :class:`pymatsolver.solvers.Base` subclasses (the interface SimPEG's
simulations accept as ``solver=``):

* :class:`Pardiso`: Intel MKL's PARDISO called through ``ctypes`` from the
  ``libmkl_rt`` that the ``mkl`` wheel installs (``pip install
  "simpeg-zo[pardiso]"``). Complex-symmetric mode for the (symmetric) TE and
  TM matrices, METIS fill-reducing ordering computed once per sparsity
  pattern and reused for every later matrix with the same pattern (every
  frequency and model of a profile), one thread unless asked otherwise.
* :class:`SuperLU`: SciPy's ``splu`` with the options that suit these
  matrices (symmetric mode, minimum-degree ordering on ``A + A^T``), with
  BLAS limited to one thread while it factorises and solves (threaded BLAS on
  the small dense blocks of SuperLU slowed factorisations a hundredfold on a
  busy machine).

:func:`default_solver` returns PARDISO when MKL loads and SuperLU otherwise;
:func:`get_solver` resolves a name (``"auto"``, ``"pardiso"``,
``"superlu"``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import hashlib
import logging
import os
import sys
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import scipy.sparse as sp
from pymatsolver.solvers import Base

__all__ = [
    "Pardiso",
    "SuperLU",
    "SolverUnavailableError",
    "default_solver",
    "get_solver",
    "pardiso_available",
    "SOLVER_NAMES",
]

logger = logging.getLogger(__name__)

#: Names accepted by :func:`get_solver` and ``--solver``.
SOLVER_NAMES = ("auto", "pardiso", "superlu")

#: Relative tolerance of the symmetry test: SimPEG's TE matrix is symmetric
#: only to rounding (``|A - A^T| / max|A|`` about 1e-16 to 1e-12).
SYMMETRY_RTOL = 1e-10


class SolverUnavailableError(ImportError):
    """The requested solver cannot be loaded on this machine."""


# --------------------------------------------------------------------- MKL
_MKL = None
_MKL_ERROR = None
_MKL_LOCK = threading.Lock()


def _mkl_candidates():
    """Paths where ``libmkl_rt`` may live, most specific first."""
    names = (
        "libmkl_rt.so.3",
        "libmkl_rt.so.2",
        "libmkl_rt.so",
        "libmkl_rt.dylib",
        "mkl_rt.dll",
        "mkl_rt.2.dll",
        "mkl_rt.3.dll",
    )
    env = os.environ.get("SIMPEG_ZO_MKL_RT")
    if env:
        yield env
    prefixes = [sys.prefix, getattr(sys, "base_prefix", sys.prefix)]
    for prefix in prefixes:
        for sub in ("lib", "Library/bin", "bin"):
            for name in names:
                yield os.path.join(prefix, sub, name)
    try:  # the files the mkl wheel installed
        from importlib import metadata

        for f in metadata.files("mkl") or ():
            if "mkl_rt" in f.name:
                yield str(f.locate())
    except Exception:  # not installed, or no RECORD
        pass
    found = ctypes.util.find_library("mkl_rt")
    if found:
        yield found
    for prefix in prefixes:
        yield from sorted(glob.glob(os.path.join(prefix, "lib", "libmkl_rt*")))


def _load_mkl():
    """The ``libmkl_rt`` library with PARDISO's 64-bit interface, or None."""
    global _MKL, _MKL_ERROR
    with _MKL_LOCK:
        if _MKL is not None or _MKL_ERROR is not None:
            return _MKL
        errors = []
        for path in dict.fromkeys(_mkl_candidates()):
            if not path or (os.path.isabs(path) and not os.path.exists(path)):
                continue
            try:
                lib = ctypes.CDLL(path)
                func = lib.pardiso_64
            except (OSError, AttributeError) as err:
                errors.append(f"{path}: {err}")
                continue
            i64p = ctypes.POINTER(ctypes.c_int64)
            func.restype = None
            func.argtypes = [
                ctypes.c_void_p,  # pt
                i64p,
                i64p,
                i64p,
                i64p,
                i64p,  # maxfct, mnum, mtype, phase, n
                ctypes.c_void_p,  # a
                ctypes.c_void_p,
                ctypes.c_void_p,  # ia, ja
                ctypes.c_void_p,  # perm
                i64p,  # nrhs
                ctypes.c_void_p,  # iparm
                i64p,  # msglvl
                ctypes.c_void_p,
                ctypes.c_void_p,  # b, x
                i64p,  # error
            ]
            try:
                lib.MKL_Set_Num_Threads_Local.restype = ctypes.c_int
                lib.MKL_Set_Num_Threads_Local.argtypes = [ctypes.c_int]
            except AttributeError as err:
                errors.append(f"{path}: {err}")
                continue
            _MKL = lib
            logger.debug("MKL PARDISO loaded from %s", path)
            return _MKL
        _MKL_ERROR = "; ".join(errors) or "libmkl_rt not found (install the 'pardiso' extra: pip install mkl)"
        return None


def pardiso_available() -> bool:
    """Whether MKL's PARDISO can be loaded (the ``mkl`` package installed)."""
    return _load_mkl() is not None


_PARDISO_ERRORS = {
    -1: "input inconsistent",
    -2: "not enough memory",
    -3: "reordering problem",
    -4: "zero pivot, numerical factorization or iterative refinement problem",
    -5: "unclassified (internal) error",
    -6: "reordering failed",
    -7: "diagonal matrix is singular",
    -8: "32-bit integer overflow problem",
    -9: "not enough memory for the out-of-core solver",
    -10: "error opening out-of-core files",
    -11: "read/write error with out-of-core files",
    -12: "pardiso_64 called from a 32-bit library",
}

# ----------------------------------------------------- ordering reuse cache
_ORDERINGS: OrderedDict = OrderedDict()
_ORDERINGS_LOCK = threading.Lock()
_ORDERINGS_MAX = 16


def _pattern_key(mtype, n, indptr, indices) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(np.int64([mtype, n, indices.size]).tobytes())
    h.update(indptr.tobytes())
    h.update(indices.tobytes())
    return h.hexdigest()


def _cached_ordering(key):
    with _ORDERINGS_LOCK:
        perm = _ORDERINGS.get(key)
        if perm is not None:
            _ORDERINGS.move_to_end(key)
        return perm


def _store_ordering(key, perm):
    with _ORDERINGS_LOCK:
        _ORDERINGS[key] = perm
        _ORDERINGS.move_to_end(key)
        while len(_ORDERINGS) > _ORDERINGS_MAX:
            _ORDERINGS.popitem(last=False)


def clear_orderings():
    """Forget the fill-reducing orderings and symbolic analyses kept for reuse."""
    with _ORDERINGS_LOCK:
        _ORDERINGS.clear()
        kept = [solver for pool in _ANALYSES.values() for solver in pool]
        _ANALYSES.clear()
    for solver in kept:
        solver._call(-1)


# PARDISO's symbolic analysis (phase 11: ordering and symbolic
# factorisation, about a third of a 2D MT factorisation) depends on the
# sparsity pattern only. A released symmetric solver's handle, its factors
# freed (phase 0), is kept here per pattern, and the next solver of that
# pattern factorises numerically (phase 22) on it. Symmetric matrices only:
# the unsymmetric mode's matching and scaling depend on the values.
_ANALYSES: OrderedDict = OrderedDict()
_ANALYSES_PER_PATTERN = 2


def _take_analysis(key):
    """A kept solver whose handle holds the analysis of pattern ``key``, or None."""
    with _ORDERINGS_LOCK:
        pool = _ANALYSES.get(key)
        return pool.pop() if pool else None


def _keep_analysis(solver) -> bool:
    """Keep a released solver's analysis for reuse; False where there is no room."""
    key = getattr(solver, "_key", None)
    if key is None:
        return False
    evicted = []
    with _ORDERINGS_LOCK:
        pool = _ANALYSES.setdefault(key, [])
        _ANALYSES.move_to_end(key)
        if len(pool) >= _ANALYSES_PER_PATTERN:
            return False
        solver._call(0)  # free the factors, keep the analysis
        keeper = Pardiso.__new__(Pardiso)  # the handle and the pattern, no factors
        handle = ("_lib", "n_threads", "_mtype", "_n", "_pt", "_iparm", "_perm", "_a", "_ia", "_ja", "_dummy")
        keeper.__dict__.update({k: getattr(solver, k) for k in handle})
        pool.append(keeper)
        while len(_ANALYSES) > _ORDERINGS_MAX:
            evicted.extend(_ANALYSES.popitem(last=False)[1])
    for old in evicted:
        old._call(-1)
    return True


def _is_symmetric(A) -> bool:
    """Symmetry to a relative tolerance, in O(nnz).

    Same pattern as the transpose, and values equal to :data:`SYMMETRY_RTOL`
    of the largest.
    """
    A = A.tocsr()
    A.sum_duplicates()
    A.sort_indices()
    T = A.T.tocsr()
    T.sort_indices()
    if not (np.array_equal(A.indptr, T.indptr) and np.array_equal(A.indices, T.indices)):
        # explicit zeros can make the patterns differ: compare values
        diff = abs(A - T)
        return bool(diff.nnz == 0 or diff.max() <= SYMMETRY_RTOL * abs(A).max())
    if A.data.size == 0:
        return True
    return bool(np.max(np.abs(A.data - T.data)) <= SYMMETRY_RTOL * np.max(np.abs(A.data)))


class Pardiso(Base):
    """MKL PARDISO direct solver (through ``libmkl_rt``, no compiled wrapper).

    Factorises ``A`` on construction; ``solver @ b`` (or ``solver * b``)
    solves. Used by SimPEG simulations as ``solver=Pardiso``.

    Parameters
    ----------
    A : scipy.sparse matrix
        Square, real or complex.
    n_threads : int
        MKL threads used by this solver's calls (set thread-locally, so other
        users of MKL in the process are not affected).
    reuse_ordering : bool
        Reuse the METIS ordering of an earlier matrix with the same sparsity
        pattern (every frequency of a 2D MT profile shares one).
    is_symmetric : bool, optional
        Default: tested, to a relative tolerance of
        :data:`SYMMETRY_RTOL` (SimPEG's TE matrix is symmetric only to
        rounding). Symmetric matrices are factorised in (complex) symmetric
        mode from their upper triangle.
    **kwargs
        ``check_accuracy``, ``check_rtol``, ``check_atol``,
        ``is_positive_definite``, ``is_hermitian`` as in pymatsolver.

    Raises
    ------
    SolverUnavailableError
        When MKL cannot be loaded.
    RuntimeError
        When PARDISO reports an error (the message names it).
    """

    def __init__(
        self,
        A: sp.sparray | sp.spmatrix,
        *,
        n_threads: int = 1,
        reuse_ordering: bool = True,
        is_symmetric: bool | None = None,
        **kwargs: Any,
    ) -> None:
        lib = _load_mkl()
        if lib is None:
            raise SolverUnavailableError(f"MKL PARDISO is not available: {_MKL_ERROR}")
        A = sp.csr_matrix(A)
        if is_symmetric is None:
            is_symmetric = _is_symmetric(A)
        super().__init__(A, is_symmetric=bool(is_symmetric), is_hermitian=False, **kwargs)
        self._lib = lib
        self.n_threads = int(n_threads)
        self._complex = np.iscomplexobj(A.data)
        dtype = np.complex128 if self._complex else np.float64
        if self.is_symmetric:
            # symmetric to rounding: the upper triangle is the matrix
            M = sp.triu(A, format="csr")
            self._mtype = 6 if self._complex else -2
        else:
            M = A
            self._mtype = 13 if self._complex else 11
        M.sort_indices()
        M.sum_duplicates()
        # PARDISO wants every diagonal entry stored, even zero ones
        self._a = np.ascontiguousarray(M.data, dtype=dtype)
        self._ia = np.ascontiguousarray(M.indptr, dtype=np.int64)
        self._ja = np.ascontiguousarray(M.indices, dtype=np.int64)
        self._n = A.shape[0]
        self._pt = np.zeros(64, dtype=np.int64)
        self._iparm = np.zeros(64, dtype=np.int64)
        self._perm = np.zeros(self._n, dtype=np.int64)
        self._dummy = np.zeros(self._n, dtype=dtype)
        self._factored = False
        self._transposed = False
        self._set_iparm()
        key = _pattern_key(self._mtype, self._n, self._ia, self._ja) if reuse_ordering else None
        self._key = key if self.is_symmetric else None
        analysis = _take_analysis(self._key) if self._key is not None else None
        if analysis is not None:
            # the symbolic analysis of an earlier matrix of this pattern
            self._pt, self._iparm, self._perm = analysis._pt, analysis._iparm, analysis._perm
            self._call(22)  # numerical factorisation only
            self._factored = True
            return
        perm = _cached_ordering(key) if key is not None else None
        if perm is not None:
            self._perm[:] = perm
            self._iparm[4] = 1  # use the given permutation
        else:
            self._iparm[4] = 2  # return the computed permutation
        self._call(12)  # analysis and numerical factorisation
        self._factored = True
        if key is not None and perm is None:
            _store_ordering(key, self._perm.copy())
        self._iparm[4] = 0

    # ------------------------------------------------------------ internals
    def _set_iparm(self):
        p = self._iparm
        p[0] = 1  # values below, not defaults
        p[1] = 2  # METIS nested dissection
        p[7] = 0  # iterative refinement: automatic (only on perturbed pivots)
        symmetric = self._mtype in (6, -2)
        p[9] = 8 if symmetric else 13  # pivot perturbation 1e-8 / 1e-13
        p[10] = 0 if symmetric else 1  # scaling
        p[12] = 0 if symmetric else 1  # weighted matching
        p[17] = -1  # report the number of non-zeros in the factors
        p[20] = 1  # Bunch-Kaufman pivoting for symmetric indefinite
        p[23] = 0
        p[26] = 0  # no matrix check
        p[34] = 1  # zero-based indices

    def _call(self, phase, b=None, x=None, nrhs=1):
        i64 = ctypes.c_int64
        error = i64(0)
        if b is None:  # PARDISO may touch b and x in every phase
            b = x = self._dummy
        previous = self._lib.MKL_Set_Num_Threads_Local(self.n_threads)
        try:
            self._lib.pardiso_64(
                self._pt.ctypes.data,
                ctypes.byref(i64(1)),
                ctypes.byref(i64(1)),
                ctypes.byref(i64(self._mtype)),
                ctypes.byref(i64(phase)),
                ctypes.byref(i64(self._n)),
                self._a.ctypes.data,
                self._ia.ctypes.data,
                self._ja.ctypes.data,
                self._perm.ctypes.data,
                ctypes.byref(i64(nrhs)),
                self._iparm.ctypes.data,
                ctypes.byref(i64(0)),
                b.ctypes.data,
                x.ctypes.data,
                ctypes.byref(error),
            )
        finally:
            self._lib.MKL_Set_Num_Threads_Local(previous)
        if error.value != 0:
            what = _PARDISO_ERRORS.get(error.value, "unknown error")
            raise RuntimeError(f"PARDISO phase {phase} failed with error {error.value}: {what}")

    @property
    def factor_nonzeros(self) -> int:
        """Non-zeros in the factors (PARDISO's ``iparm(18)``)."""
        return int(self._iparm[17])

    def _solve_multiple(self, rhs):
        dtype = np.complex128 if self._complex else np.float64
        if not self._complex and np.iscomplexobj(rhs):
            return self._solve_multiple(np.real(rhs)) + 1j * self._solve_multiple(np.imag(rhs))
        b = np.asfortranarray(rhs, dtype=dtype)
        x = np.zeros_like(b, order="F")
        self._iparm[11] = 2 if (self._transposed and not self.is_symmetric) else 0
        self._call(33, b, x, nrhs=b.shape[1])
        # row-major for what follows (SciPy's sparse products copy a
        # column-major operand at every call)
        return np.ascontiguousarray(x)

    def _solve_single(self, rhs):
        return self._solve_multiple(np.asarray(rhs)[:, None])[:, 0]

    def transpose(self) -> Pardiso:
        """The solver of ``A.T`` on the same factorisation."""
        if self.is_symmetric:
            return self
        other = Pardiso.__new__(Pardiso)
        other.__dict__.update(self.__dict__)
        other._transposed = not self._transposed
        other._owner = self  # keeps the factorisation alive
        return other

    def clean(self) -> None:
        """Release PARDISO's memory (also done when the solver is collected).

        The factors are released; the symbolic analysis of a symmetric
        matrix is kept for the next matrix of the same pattern (a few per
        pattern, :func:`clear_orderings` releases them), which then needs
        the numerical factorisation only.
        """
        if getattr(self, "_factored", False) and not hasattr(self, "_owner"):
            self._factored = False
            if not _keep_analysis(self):
                self._call(-1)


# ------------------------------------------------------------------ SuperLU
#: SuperLU options for the (symmetric) 2D MT system matrices: a symmetric
#: ordering with diagonal pivots fills in about half as much as the default
#: COLAMD ordering and factorises twice as fast.
SUPERLU_OPTIONS = {
    "permc_spec": "MMD_AT_PLUS_A",
    "diag_pivot_thresh": 0.0,
    "options": {"SymmetricMode": True},
}

_THREADPOOLS = None


def _blas_one_thread():
    """A context that limits BLAS to one thread (threadpoolctl)."""
    global _THREADPOOLS
    from threadpoolctl import ThreadpoolController

    if _THREADPOOLS is None:
        _THREADPOOLS = ThreadpoolController()
    return _THREADPOOLS.limit(limits=1, user_api="blas")


class SuperLU(Base):
    """SciPy's SuperLU with BLAS limited to one thread around each call.

    Parameters
    ----------
    A : scipy.sparse matrix
    limit_threads : bool
        Limit BLAS to one thread while factorising and solving (default).
    **kwargs
        :func:`scipy.sparse.linalg.splu` options (default
        :data:`SUPERLU_OPTIONS`) and pymatsolver's ``check_*`` options.
    """

    def __init__(
        self,
        A: sp.sparray | sp.spmatrix,
        *,
        limit_threads: bool = True,
        permc_spec: str | None = None,
        diag_pivot_thresh: float | None = None,
        options: dict | None = None,
        relax: int | None = None,
        panel_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        from scipy.sparse.linalg import splu

        A = sp.csc_matrix(A)
        super().__init__(A, is_symmetric=False, is_hermitian=False, **kwargs)
        opts = {
            "permc_spec": SUPERLU_OPTIONS["permc_spec"] if permc_spec is None else permc_spec,
            "diag_pivot_thresh": (
                SUPERLU_OPTIONS["diag_pivot_thresh"] if diag_pivot_thresh is None else diag_pivot_thresh
            ),
            "options": dict(SUPERLU_OPTIONS["options"] if options is None else options),
        }
        if relax is not None:
            opts["relax"] = relax
        if panel_size is not None:
            opts["panel_size"] = panel_size
        self.limit_threads = bool(limit_threads)
        with self._threads():
            self._lu = splu(A, **opts)

    def _threads(self):
        if self.limit_threads:
            return _blas_one_thread()
        import contextlib

        return contextlib.nullcontext()

    def _solve_single(self, rhs):
        rhs = np.asarray(rhs)
        if np.iscomplexobj(rhs) and not np.iscomplexobj(self._lu.L.data[:1]):
            return self._solve_single(rhs.real) + 1j * self._solve_single(rhs.imag)
        with self._threads():
            return self._lu.solve(rhs)

    def _solve_multiple(self, rhs):
        rhs = np.asarray(rhs)
        if np.iscomplexobj(rhs) and not np.iscomplexobj(self._lu.L.data[:1]):
            return self._solve_multiple(rhs.real) + 1j * self._solve_multiple(rhs.imag)
        with self._threads():
            return self._lu.solve(np.asfortranarray(rhs))

    @property
    def _transpose_class(self):
        return None

    def transpose(self) -> SuperLU:
        """The solver of ``A.T`` on the same factorisation."""
        other = SuperLU.__new__(SuperLU)
        other.__dict__.update(self.__dict__)
        other._lu = _TransposedLU(self._lu)
        return other

    def clean(self) -> None:
        """Release the factorisation."""
        self._lu = None


class _TransposedLU:
    def __init__(self, lu):
        self._lu = lu
        self.L = lu.L

    def solve(self, rhs):
        return self._lu.solve(rhs, trans="T")


# ------------------------------------------------------------------ choice
def get_solver(name: str = "auto") -> tuple[type[Base], dict]:
    """Solver class and options for a solver name.

    Parameters
    ----------
    name : {"auto", "pardiso", "superlu"}
        ``"auto"``: PARDISO when MKL loads, SuperLU otherwise.

    Returns
    -------
    solver : type
        A :class:`pymatsolver.solvers.Base` subclass SimPEG accepts.
    solver_opts : dict

    Raises
    ------
    ValueError
        Unknown name.
    SolverUnavailableError
        ``"pardiso"`` where MKL does not load.
    """
    key = str(name).lower()
    if key not in SOLVER_NAMES:
        raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVER_NAMES)}")
    if key == "superlu":
        return SuperLU, {}
    if pardiso_available():
        return Pardiso, {}
    if key == "pardiso":
        raise SolverUnavailableError(
            "MKL PARDISO is not available on this machine "
            f"({_MKL_ERROR}); install the 'pardiso' extra (pip install mkl) or use the SuperLU fallback"
        )
    return SuperLU, {}


def default_solver() -> tuple[type[Base], dict]:
    """The solver used for every simulation of a profile by default.

    Returns
    -------
    solver : type
        :class:`Pardiso` when MKL's ``libmkl_rt`` loads (the ``pardiso``
        extra), :class:`SuperLU` otherwise.
    solver_opts : dict
    """
    return get_solver("auto")


def solver_name(solver) -> str:
    """Short name of a solver class for reports."""
    if isinstance(solver, type) and issubclass(solver, Pardiso):
        return "pardiso"
    if isinstance(solver, type) and issubclass(solver, SuperLU):
        return "superlu"
    return getattr(solver, "__name__", str(solver))
