"""Train a network on a produced training set."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._dataset import load_dataset
from ._sections import pseudo_sections

if TYPE_CHECKING:
    from ._dataset import Dataset
    from ._estimator import ResNetInverter

__all__ = ["train_network", "dataset_arrays"]


def dataset_arrays(
    directory: str | os.PathLike, split: str = "train", limit: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], Dataset]:
    """``(X, y, dataset)`` of one split: pseudo-sections and log10 labels."""
    ds = load_dataset(directory, split)
    n = len(ds) if limit is None else min(limit, len(ds))
    return pseudo_sections(ds.data[:n]), ds.labels[:n], ds


def train_network(
    directory: str | os.PathLike,
    out: str | os.PathLike,
    *,
    limit: int | None = None,
    validate: bool = True,
    **params: Any,
) -> ResNetInverter:
    """Fit a :class:`ResNetInverter` on a training set and save it.

    Parameters
    ----------
    directory : path-like
        A folder written by :func:`produce_dataset`.
    out : path-like
        Where to save the network (``OUT.pt`` and ``OUT.json``); the epoch
        checkpoint goes to ``DIRECTORY/checkpoints/NAME.ckpt`` unless
        ``checkpoint`` is given, so an interrupted run resumes.
    limit : int, optional
        Use only the first ``limit`` training samples.
    validate : bool
        Score Dice on the test split after each epoch (monitoring only).
    **params
        :class:`ResNetInverter` parameters.

    Returns
    -------
    ResNetInverter
    """
    from ._estimator import ResNetInverter

    out = pathlib.Path(out)
    X, y, ds = dataset_arrays(directory, "train", limit)
    params.setdefault("checkpoint", str(pathlib.Path(directory) / "checkpoints" / f"{out.name}.ckpt"))
    params.setdefault("log10_range", tuple(ds.config.log10_resistivity))
    est = ResNetInverter(**params)
    validation = None
    if validate and (pathlib.Path(directory) / "test").exists():
        try:
            Xt, yt, _ = dataset_arrays(directory, "test")
            validation = (Xt, yt)
        except FileNotFoundError:
            validation = None
    grid = {"stations": ds.config.stations, "frequencies": ds.config.frequencies, "depth_edges": ds.config.depth_edges}
    est.fit(X, y, grid=grid, validation=validation)
    est.recipe_ = {
        "dataset": ds.config.to_dict(),
        "train_samples": int(X.shape[0]),
        "families": sorted(set(ds.families[: X.shape[0]])),
        "noisy_share": float(np.mean(ds.noisy[: X.shape[0]])),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    est.save(out)
    return est
