"""Train a network on a produced training set."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._dataset import load_dataset
from ._families import HALF, design_classes
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


def _validation_split(X, y, directory, validation_samples, limit, *, minimum):
    """``(X, y, validation, n_train, n_val)``: the last samples set aside, the first ``limit`` kept."""
    n_val = int(validation_samples)
    if n_val < minimum or n_val >= X.shape[0]:
        raise ValueError(
            f"validation_samples must be between {minimum} and {X.shape[0] - 1} (the training split of "
            f"{directory} has {X.shape[0]} samples), got {validation_samples}"
        )
    n_train = X.shape[0] - n_val
    if limit is not None:
        n_train = min(int(limit), n_train)
    validation = (X[-n_val:], y[-n_val:]) if n_val else None
    return X[:n_train], y[:n_train], validation, n_train, n_val


def train_network(
    directory: str | os.PathLike,
    out: str | os.PathLike,
    *,
    limit: int | None = None,
    validation_samples: int = 200,
    **params: Any,
) -> ResNetInverter:
    """Fit a :class:`ResNetInverter` on a training set and save it.

    The held-out (``test``) split is never read: it stays for evaluation.
    The last ``validation_samples`` samples of the training split are set
    aside as a fixed validation split, scored after every epoch (Dice and
    RMS log10 error, in the network's ``history``) and not trained on.

    Parameters
    ----------
    directory : path-like
        A folder written by :func:`produce_dataset`.
    out : path-like
        Where to save the network (``OUT.pt`` and ``OUT.json``); the epoch
        checkpoint goes to ``DIRECTORY/checkpoints/NAME.ckpt`` unless
        ``checkpoint`` is given, so an interrupted run resumes.
    limit : int, optional
        Train on at most the first ``limit`` samples (the validation split
        stays the same).
    validation_samples : int
        Size of the validation split (0: none).
    **params
        :class:`ResNetInverter` parameters.  Without ``log10_range`` and
        ``n_classes``, a set made with a half-step perturbation gets the
        classes of :func:`design_classes`; a set with less perturbation
        (whose values between the steps are untrained) gets 12 classes over
        its resistivity range.

    Returns
    -------
    ResNetInverter
    """
    from ._estimator import ResNetInverter

    out = pathlib.Path(out)
    start = None
    if params.get("init") is not None:
        from ._simpeg import _estimator

        start = _estimator(params["init"])
    if start is not None and start.normalised_:
        # fine-tuning the survey-neutral network: this survey's samples on its normalised grid
        X, y, ds = survey_normalised_arrays(directory, start.grid_)
        params.setdefault("log10_range", tuple(start.log10_range))
        params.setdefault("n_classes", start.n_classes)
        params.setdefault("width", start.width)
        params.setdefault("mirror_average", False)
    else:
        X, y, ds = dataset_arrays(directory, "train")
    X, y, validation, n_train, n_val = _validation_split(X, y, directory, validation_samples, limit, minimum=0)
    params.setdefault("checkpoint", str(pathlib.Path(directory) / "checkpoints" / f"{out.name}.ckpt"))
    if "log10_range" not in params and "n_classes" not in params and ds.config.perturbation >= HALF:
        # the training values fill the range: classes centred on steps and midpoints
        classes = design_classes(ds.config.log10_resistivity)
        params["log10_range"] = (float(classes.edges[0]), float(classes.edges[-1]))
        params["n_classes"] = classes.n_classes
    params.setdefault("log10_range", tuple(ds.config.log10_resistivity))
    est = ResNetInverter(**params)
    grid = {"stations": ds.config.stations, "frequencies": ds.config.frequencies, "depth_edges": ds.config.depth_edges}
    est.fit(X, y, grid=dict(start.grid_) if start is not None and start.normalised_ else grid, validation=validation)
    est.recipe_ = {
        "dataset": ds.config.to_dict(),
        "train_samples": int(n_train),
        "validation_samples": n_val,
        "families": sorted(set(ds.families[:n_train])),
        "noisy_share": float(np.mean(ds.noisy[:n_train])),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    est.save(out)
    return est


def survey_normalised_arrays(directory: str | os.PathLike, grid: dict, split: str = "train"):
    """``(X, y, dataset)``: a survey's set on the survey-neutral network's normalised grid.

    The inputs from the stored data (:func:`~simpeg_zo.learned.normalised_input`),
    the labels painted anew on the normalised grid from each sample's parameters.
    """
    from ._families import paint
    from ._normalised import BOSTICK, CHANNELS, NormalisedGrid, normalised_input, normalised_label

    g = NormalisedGrid.from_dict(grid)
    ds = load_dataset(directory, split)
    cfg = ds.config
    X = np.empty((len(ds), len(CHANNELS), g.n_rows, g.n_columns))
    y = np.empty((len(ds), g.n_rows, g.n_columns))
    for i in range(len(ds)):
        x, rho_ref, length = normalised_input(
            g, ds.data[i, :, 0], ds.data[i, :, 1], cfg.frequencies, cfg.stations, ds.elevations[i]
        )
        X[i] = x
        label = normalised_label(g, lambda xx, dd, p=ds.params[i]: np.log10(paint(p, xx, dd)), length)
        y[i] = label - np.log10(rho_ref) - x[BOSTICK]
    return X, y, ds


#: Classes of the survey-neutral network: log10(rho / rho_ref) in quarter decades.
GENERAL_LOG10_RANGE = (-2.25, 2.25)
GENERAL_N_CLASSES = 18


def general_training_arrays(directory: str | os.PathLike, split: str = "train", *, augment: bool = True):
    """``(X, y, config, arrays)`` of a general set: normalised inputs and relative labels."""
    from ._general import general_arrays, load_general

    config, arrays = load_general(directory, split)
    X, y = general_arrays(arrays, config.normalised_grid, seed=config.seed + 1000 * (split == "test"), augment=augment)
    return X, y, config, arrays


def train_general(
    directory: str | os.PathLike,
    out: str | os.PathLike,
    *,
    members: int = 4,
    member: int | None = None,
    limit: int | None = None,
    validation_samples: int = 300,
    **params: Any,
) -> ResNetInverter:
    """Train the survey-neutral network (a deep ensemble) on a general set and save it.

    Each member is a :class:`ResNetInverter` with its own seed, trained on
    the same inputs (saved as ``DIRECTORY/members/NAME-member-K``, each with
    its epoch checkpoint, so an interrupted run resumes at the member and
    epoch it reached); the ensemble averages their class probabilities and its
    spread is calibrated on the validation split (68 % of the cells within
    one spread, :meth:`ResNetInverter.calibrate_spread`).

    Parameters
    ----------
    directory : path-like
        A folder written by :func:`produce_dataset` with a
        :class:`~simpeg_zo.learned.GeneralConfig`.
    out : path-like
        Where to save the ensemble (``OUT.pt`` and ``OUT.json``).
    members : int
        Networks in the ensemble (1: a single network, its own spread).
    member : int, optional
        Train (or resume) only this member and return it, without the
        ensemble: members run in separate processes this way; a last call
        without ``member`` combines the saved members.
    limit : int, optional
        Train on at most the first ``limit`` samples.
    validation_samples : int
        The last samples of the training split, set aside (> 0).
    **params
        :class:`ResNetInverter` parameters; default classes
        :data:`GENERAL_LOG10_RANGE` in :data:`GENERAL_N_CLASSES` steps, the
        "dice+regression" loss and no mirror averaging (the members are the
        ensemble).  With ``init`` (for example ``"general"``), member k
        fine-tunes member k of that ensemble.

    Returns
    -------
    ResNetInverter
    """
    from ._estimator import ResNetInverter

    if int(members) < 1:
        raise ValueError(f"members must be >= 1, got {members}")
    if member is not None and not 0 <= int(member) < int(members):
        raise ValueError(f"member must be between 0 and {int(members) - 1}, got {member}")
    out = pathlib.Path(out)
    X, y, config, arrays = general_training_arrays(directory, "train")
    Xt, yt, validation, n_train, n_val = _validation_split(X, y, directory, validation_samples, limit, minimum=1)
    params.setdefault("log10_range", GENERAL_LOG10_RANGE)
    params.setdefault("n_classes", GENERAL_N_CLASSES)
    params.setdefault("loss", "dice+regression")
    params.setdefault("mirror_average", False)
    grid = config.normalised_grid.to_dict()
    base_seed = int(params.pop("seed", 0))
    fitted = []
    for k in range(int(members)) if member is None else [int(member)]:
        name = f"{out.name}-member-{k}" if members > 1 else out.name
        path = pathlib.Path(directory) / "members" / name
        if members > 1 and path.with_suffix(".json").exists():
            fitted.append(ResNetInverter.load(path))
            continue
        p = dict(params)
        p.setdefault("checkpoint", str(pathlib.Path(directory) / "checkpoints" / f"{name}.ckpt"))
        if p.get("init") is not None:
            p["init_member"] = k  # fine-tuning an ensemble: member k from its member k
        est = ResNetInverter(**{**p, "seed": base_seed + k})
        est.fit(Xt, yt, grid=grid, validation=validation)
        est.recipe_ = {
            "dataset": config.to_dict(),
            "train_samples": int(n_train),
            "validation_samples": n_val,
        }
        if members > 1:
            est.save(path)
        fitted.append(est)
    if member is not None and members > 1:
        return fitted[0]
    est = fitted[0] if len(fitted) == 1 else ResNetInverter.combine(fitted)
    if len(fitted) > 1:
        est.recipe_ = {"dataset": config.to_dict(), "train_samples": int(n_train), "validation_samples": n_val}
    est.calibrate_spread(*validation)
    out.parent.mkdir(parents=True, exist_ok=True)
    est.save(out, half=len(fitted) > 1)  # an ensemble's weights in float16 (half the file)
    return est
