"""Checkpoints of a running inversion, and resuming from them.

While :func:`checkpointing` is active, every SimPEG inversion the project
runs (Gauss-Newton, ZO and the stages of the hybrid and learned methods)
writes its last accepted model to one ``.npz`` file after each iteration,
atomically (a temporary file, then a rename), so that a run killed at any
moment leaves the model of its last finished iteration. The file also
holds the iteration, chi2, the method, the trade-off ``beta`` of the
Gauss-Newton runs and a fingerprint of the profile (data, errors, mesh,
active cells), so that a resumed run can refuse a checkpoint of other data.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import os
import pathlib
from dataclasses import dataclass

import numpy as np
from simpeg import directives

from ._files import atomic_write

__all__ = ["Checkpoint", "checkpointing", "profile_fingerprint", "read_checkpoint"]

logger = logging.getLogger(__name__)

#: Format of the checkpoint files (bumped when their keys change).
CHECKPOINT_VERSION = 1

_ACTIVE: contextvars.ContextVar[_Target | None] = contextvars.ContextVar("simpeg_zo_checkpoint", default=None)


@dataclass(frozen=True)
class _Target:
    path: pathlib.Path
    method: str
    fingerprint: str
    iteration_offset: int


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds.

    Attributes
    ----------
    model : numpy.ndarray
        The last accepted model (the inversion's model vector).
    iteration : int
        Iterations done when it was written (of the whole run, resumed parts included).
    chi2 : float
        The model's chi2.
    method : str
        The method of the run (``gn``, ``zo``, ``cnn-gn``, ...).
    stage : str
        ``"gn"`` or ``"zo"``: the optimizer that wrote it (the stage of a hybrid).
    beta : float
        Gauss-Newton's trade-off parameter of that iteration, before the
        cooling that follows it (NaN for ZO).
    fingerprint : str
        :func:`profile_fingerprint` of the inverted profile.
    reference : numpy.ndarray or None
        Gauss-Newton's reference model (None for ZO).
    """

    model: np.ndarray
    iteration: int
    chi2: float
    method: str
    stage: str
    beta: float
    fingerprint: str
    reference: np.ndarray | None = None


def profile_fingerprint(profile, *extra: object) -> str:
    """A hash of the profile's observed data, errors, mesh and active cells (and ``extra``)."""
    h = hashlib.sha256()
    for mode in sorted(profile.data):
        d = profile.data[mode]
        h.update(mode.encode())
        h.update(np.ascontiguousarray(d.dobs, dtype=float).tobytes())
        h.update(np.ascontiguousarray(d.standard_deviation, dtype=float).tobytes())
    for widths in profile.mesh.h:
        h.update(np.ascontiguousarray(widths, dtype=float).tobytes())
    h.update(np.ascontiguousarray(profile.mesh.origin, dtype=float).tobytes())
    h.update(np.ascontiguousarray(profile.active_cells, dtype=bool).tobytes())
    for value in extra:
        h.update(repr(value).encode())
    return h.hexdigest()


@contextlib.contextmanager
def checkpointing(path: str | os.PathLike, method: str, fingerprint: str, *, iteration_offset: int = 0):
    """Write a checkpoint after every iteration of the inversions run inside.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file (replaced at each iteration).
    method : str
        The method's name, stored with the model.
    fingerprint : str
        :func:`profile_fingerprint` of the profile.
    iteration_offset : int
        Iterations done before (a resumed run counts on from there).
    """
    token = _ACTIVE.set(_Target(pathlib.Path(path), method, fingerprint, int(iteration_offset)))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def checkpoint_directive() -> directives.InversionDirective | None:
    """The directive that writes the active checkpoint (None outside :func:`checkpointing`)."""
    target = _ACTIVE.get()
    return None if target is None else _WriteCheckpoint(target)


class _WriteCheckpoint(directives.InversionDirective):
    """Write the accepted model after every iteration (SimPEG's ``endIter``)."""

    def __init__(self, target: _Target, **kwargs):
        super().__init__(**kwargs)
        self.target = target

    def initialize(self):
        from ._optimizer import ZohdyOldenburg

        dmis = self.invProb.dmisfit
        terms = getattr(dmis, "objfcts", [dmis])
        self.n_data = max(int(sum(np.isfinite(t.data.standard_deviation).sum() for t in terms)), 1)
        self.stage = "zo" if isinstance(self.opt, ZohdyOldenburg) else "gn"

    def endIter(self):
        opt, inv_prob = self.opt, self.invProb
        model = getattr(opt, "xc", None)
        if model is None:
            return
        gn = self.stage == "gn"
        reference = getattr(inv_prob.reg, "reference_model", None) if gn else None
        write_checkpoint(
            self.target.path,
            Checkpoint(
                model=np.asarray(model, dtype=float),
                iteration=self.target.iteration_offset + int(opt.iter),
                chi2=float(getattr(inv_prob, "phi_d", np.nan)) / self.n_data,
                method=self.target.method,
                stage=self.stage,
                beta=float(getattr(inv_prob, "beta", np.nan)) if gn else np.nan,
                fingerprint=self.target.fingerprint,
                reference=None if reference is None else np.asarray(reference, dtype=float),
            ),
        )


def write_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (:func:`simpeg_zo._files.atomic_write`)."""
    path = pathlib.Path(path)
    with atomic_write(path) as fh:
        np.savez(
            fh,
            version=CHECKPOINT_VERSION,
            model=checkpoint.model,
            iteration=checkpoint.iteration,
            chi2=checkpoint.chi2,
            method=checkpoint.method,
            stage=checkpoint.stage,
            beta=checkpoint.beta,
            fingerprint=checkpoint.fingerprint,
            reference=np.zeros(0) if checkpoint.reference is None else checkpoint.reference,
        )
    logger.debug("checkpoint written to %s (iteration %d)", path, checkpoint.iteration)


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The checkpoint in ``path``.

    Raises
    ------
    ValueError
        Naming the file, when it is not a checkpoint of this format or its
        model is not finite.
    """
    path = pathlib.Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            version = int(f["version"])
            if version != CHECKPOINT_VERSION:
                raise ValueError(f"{path}: checkpoint format {version}, expected {CHECKPOINT_VERSION}")
            checkpoint = Checkpoint(
                model=np.array(f["model"], dtype=float),
                iteration=int(f["iteration"]),
                chi2=float(f["chi2"]),
                method=str(f["method"]),
                stage=str(f["stage"]),
                beta=float(f["beta"]),
                fingerprint=str(f["fingerprint"]),
                reference=np.array(f["reference"], dtype=float) if f["reference"].size else None,
            )
    except (OSError, KeyError, EOFError, TypeError, ValueError) as err:
        if isinstance(err, ValueError) and str(err).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from None
    for name, vector in (("model", checkpoint.model), ("reference model", checkpoint.reference)):
        if vector is not None and (vector.ndim != 1 or not np.all(np.isfinite(vector))):
            raise ValueError(f"{path}: the checkpoint's {name} is not a finite vector")
    return checkpoint
