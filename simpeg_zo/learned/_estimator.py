"""``ResNetInverter``: a scikit-learn style estimator around the network."""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._sections import ResistivityClasses
from ._torch import require_torch

__all__ = ["ResNetInverter"]

FORMAT = "simpeg-zo-resnet-inverter/1"
#: Input channels a network may read: a survey's grid (4) or the normalised grid (8).
INPUT_CHANNELS = (4, 8)
_CHANNEL_NAMES = {
    4: ["TE log10 rho_a", "TE phase (deg, folded)", "TM log10 rho_a", "TM phase (deg, folded)"],
}


class ResNetInverter:
    """Learned 2D MT inversion: pseudo-sections in, resistivity sections out.

    Follows the scikit-learn estimator rules: the constructor only stores
    its parameters, :meth:`fit` learns the attributes ending in ``_``.

    Parameters
    ----------
    width : float
        Width multiplier of the ResNet-50 encoder (see
        :class:`~simpeg_zo.learned.ResNet50UNet`).
    n_classes : int
        Resistivity classes, log-spaced over ``log10_range``.
    log10_range : (2,) tuple of float
        Class range (log10 ohm-m); labels outside are clipped into it.
    loss : str
        Training loss, a name in :data:`~simpeg_zo.learned.LOSSES`: "dice"
        (soft multi-class Dice, the default), "cross-entropy",
        "dice+cross-entropy", "dice+regression" or
        "dice+cross-entropy+regression" (the regression term is the mean
        absolute error of the expected log10 resistivity, see
        :func:`~simpeg_zo.learned.expected_log10_loss`).
    epochs, batch_size, learning_rate, weight_decay :
        AdamW with a one-cycle learning-rate schedule.
    flip : bool
        Augment by mirroring the profile (a 2D earth mirrored along x has
        mirrored TE and TM responses).
    mirror_average : bool
        Predict with the mean of the class probabilities of the data and of
        the mirrored data (mirrored back): a prediction-time setting (on the
        block-topo validation split it raised Dice from 0.453 to 0.460 and
        lowered the median re-simulated chi2 from 8.5 to 8.3); it doubles
        the inference time.
    seed : int
        Seeds weights, shuffling and augmentation: equal seeds give equal
        networks on one machine.
    threads : int, optional
        torch CPU threads while fitting and predicting.
    checkpoint : path-like, optional
        Written after every epoch; :meth:`fit` resumes from it when it exists
        and was written with the same parameters.
    progress : bool
        Show a progress bar while fitting.
    init : path-like or str, optional
        A fitted network (path or shipped name) whose weights, classes and
        input normalisation start the training: fine-tuning (for example
        the survey-neutral ``general`` network on a survey's own set).
        Of an ensemble, member ``init_member``.
    init_member : int
        The member of an ensemble ``init`` that starts the training (modulo
        its number of members): each member of an ensemble fine-tuned from
        an ensemble starts from its own.
    members : int
        1: one network.  More: the mean class probabilities of that many
        networks trained separately on the same data, made with
        :meth:`combine` (such an estimator is not fitted itself).

    Attributes
    ----------
    network_ : ResNet50UNet or MeanOfNetworks
    classes_ : ResistivityClasses
    input_mean_, input_std_ : numpy.ndarray
        Per-channel normalisation of the inputs.
    grid_ : dict
        Survey grid (``stations``, ``frequencies``) and model grid
        (``depth_edges``; columns at the stations) the network maps between.
    name_ : str
        After :meth:`load`: the file name without its suffix (the shipped
        networks' names).
    history_ : list of dict
        Per epoch: ``loss``, ``seconds`` and, with validation data, ``dice``
        and ``rms_log10``.
    """

    def __init__(
        self,
        *,
        width: float = 0.25,
        n_classes: int = 12,
        log10_range: tuple[float, float] = (0.5, 3.5),
        loss: str = "dice",
        epochs: int = 60,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        flip: bool = True,
        mirror_average: bool = True,
        seed: int = 0,
        threads: int | None = None,
        checkpoint: str | os.PathLike | None = None,
        progress: bool = False,
        members: int = 1,
        init: str | os.PathLike | None = None,
        init_member: int = 0,
    ) -> None:
        self.width = width
        self.n_classes = n_classes
        self.log10_range = log10_range
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.flip = flip
        self.mirror_average = mirror_average
        self.seed = seed
        self.threads = threads
        self.checkpoint = checkpoint
        self.progress = progress
        self.members = members
        self.init = init
        self.init_member = init_member

    # ----------------------------------------------------------- sklearn API
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """Constructor parameters (scikit-learn protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> ResNetInverter:
        """Set constructor parameters (scikit-learn protocol)."""
        for name, value in params.items():
            if name not in self._param_names():
                raise ValueError(f"invalid parameter {name!r} for ResNetInverter")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"ResNetInverter({args})"

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise RuntimeError("this ResNetInverter is not fitted yet; call fit or load")

    def _check_x(self, X):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 3:
            X = X[None]
        channels = (self.in_channels_,) if hasattr(self, "input_mean_") else INPUT_CHANNELS
        if X.ndim != 4 or X.shape[1] not in channels:
            raise ValueError(
                f"X must have shape (n, {' or '.join(map(str, channels))}, n_rows, n_columns) (4: TE/TM log10 "
                "apparent resistivity and phase on a survey's grid; 8: the normalised channels of "
                f"simpeg_zo.learned.normalised_input), got {X.shape}"
            )
        if hasattr(self, "input_shape_") and tuple(X.shape[2:]) != self.input_shape_:
            raise ValueError(
                f"X has a {X.shape[2]} x {X.shape[3]} grid; this network "
                f"was trained on {self.input_shape_[0]} x {self.input_shape_[1]} (resample the data "
                "with simpeg_zo.learned.resample_sections or normalised_input)"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X holds NaN or infinite values")
        return X

    @property
    def in_channels_(self) -> int:
        """Input channels (4: a survey's grid; 8: the normalised grid)."""
        return int(np.size(self.input_mean_)) if hasattr(self, "input_mean_") else 4

    @property
    def normalised_(self) -> bool:
        """Whether the network reads the survey-neutral normalised grid."""
        return self.grid_.get("kind") == "normalised"

    def _torch(self):
        torch = require_torch()
        if self.threads:
            torch.set_num_threads(int(self.threads))
        return torch

    def _build(self, output_shape):
        from ._network import MeanOfNetworks, ResNet50UNet

        if int(self.members) > 1:
            return MeanOfNetworks(
                [
                    ResNet50UNet(self.in_channels_, self.n_classes, output_shape, width=self.width)
                    for _ in range(int(self.members))
                ]
            )
        return ResNet50UNet(self.in_channels_, self.n_classes, output_shape, width=self.width)

    @classmethod
    def combine(cls, estimators: list[ResNetInverter]) -> ResNetInverter:
        """One estimator predicting the mean class probabilities of several.

        The networks must share their survey and model grids, classes and
        input normalisation (trained on the same data) and their width;
        each may have its own loss or seed.

        Parameters
        ----------
        estimators : list of ResNetInverter
            Fitted single networks, at least two.

        Returns
        -------
        ResNetInverter
            With ``members = len(estimators)``; ``save`` and ``load`` keep
            all members in one pair of files.
        """
        from ._network import MeanOfNetworks

        estimators = list(estimators)
        if len(estimators) < 2:
            raise ValueError(f"combine needs at least two networks, got {len(estimators)}")
        first = estimators[0]
        for est in estimators:
            est._check_fitted()
            if int(est.members) != 1:
                raise ValueError("combine takes single networks, not combined ones")
            same = (
                est.input_shape_ == first.input_shape_
                and est.output_shape_ == first.output_shape_
                and est.width == first.width
                and np.allclose(est.classes_.edges, first.classes_.edges)
                and np.allclose(est.input_mean_, first.input_mean_)
                and np.allclose(est.input_std_, first.input_std_)
                and all(_same(est.grid_[k], first.grid_[k]) for k in first.grid_)
            )
            if not same:
                raise ValueError(
                    f"{getattr(est, 'name_', 'a network')}: other width, grids, classes or input normalisation than "
                    f"{getattr(first, 'name_', 'the first network')}; combine networks trained on the same data"
                )
        out = cls(**{**first.get_params(), "members": len(estimators)})
        out.loss = " | ".join(est.loss for est in estimators)
        for name in ("classes_", "input_shape_", "output_shape_", "input_mean_", "input_std_", "grid_"):
            setattr(out, name, getattr(first, name))
        out.network_ = MeanOfNetworks([est.network_ for est in estimators]).eval()
        out.history_ = []
        out.recipe_ = {"members": [getattr(est, "recipe_", None) for est in estimators]}
        return out

    def _normalise(self, X):
        return (X - self.input_mean_[None, :, None, None]) / self.input_std_[None, :, None, None]

    # ----------------------------------------------------------- training
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        grid: dict | None = None,
        validation: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> ResNetInverter:
        """Train on pseudo-sections ``X`` and log10-resistivity sections ``y``.

        Parameters
        ----------
        X : (n, 4, n_frequencies, n_stations) array_like
            From :func:`~simpeg_zo.learned.pseudo_sections`.
        y : (n, n_depths, n_columns) array_like
            log10 resistivity on the model grid.
        grid : dict, optional
            ``stations``, ``frequencies``, ``depth_edges`` of the grids
            (needed to use the network on SimPEG data; kept in the metadata).
        validation : (X, y) tuple, optional
            Scored after each epoch (Dice and RMS log10 error in
            :attr:`history_`); monitoring only, nothing is selected on it.

        Returns
        -------
        self
        """
        from ._network import loss_function

        torch = self._torch()
        X = self._check_x(X)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 3 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape (n, n_depths, n_columns) with n = {X.shape[0]}, got {y.shape}")
        if int(self.members) != 1:
            raise ValueError("fit trains one network (members=1); combine fitted networks with ResNetInverter.combine")
        lossf = loss_function(self.loss)
        start = self._initial_network(X, y) if self.init is not None else None
        self.classes_ = ResistivityClasses(self.log10_range, self.n_classes)
        self.input_shape_ = tuple(X.shape[2:])
        self.output_shape_ = tuple(y.shape[1:])
        if start is None:
            self.input_mean_ = X.mean(axis=(0, 2, 3)).astype(np.float64)
            self.input_std_ = np.maximum(X.std(axis=(0, 2, 3)), 1e-6).astype(np.float64)
        else:
            self.input_mean_, self.input_std_ = start.input_mean_.copy(), start.input_std_.copy()
        self.grid_ = _grid_dict(grid)
        torch.manual_seed(self.seed)
        self.network_ = self._build(self.output_shape_)
        if start is not None:
            from ._network import MeanOfNetworks

            net = start.network_
            if isinstance(net, MeanOfNetworks):
                net = net.members[int(self.init_member) % len(net.members)]
            self.network_.load_state_dict(net.state_dict())
        xt = torch.from_numpy(self._normalise(X).astype(np.float32))
        yt = torch.from_numpy(self.classes_.classify(y)).long()
        lo, hi = self.classes_.edges[0], self.classes_.edges[-1]
        yl = torch.from_numpy(np.clip(y, lo, hi).astype(np.float32))
        centres = torch.from_numpy(self.classes_.centres.astype(np.float32))
        n = xt.shape[0]
        steps = max(1, int(np.ceil(n / self.batch_size)))
        opt = torch.optim.AdamW(self.network_.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.learning_rate, total_steps=steps * self.epochs)
        gen = torch.Generator().manual_seed(self.seed)
        self.history_ = []
        start = self._resume(torch, opt, sched, gen)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.epochs, initial=start, unit="epoch", desc="training")
        for epoch in range(start, self.epochs):
            t0 = time.perf_counter()
            self.network_.train()
            order = torch.randperm(n, generator=gen)
            flips = torch.rand(steps, generator=gen) < 0.5
            total = 0.0
            for b in range(steps):
                idx = order[b * self.batch_size : (b + 1) * self.batch_size]
                xb, yb, lb = xt[idx], yt[idx], yl[idx]
                if self.flip and flips[b]:
                    xb, yb, lb = xb.flip(-1), yb.flip(-1), lb.flip(-1)
                opt.zero_grad()
                loss = lossf(self.network_(xb), yb, lb, centres)
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * idx.numel()
            record = {"epoch": epoch + 1, "loss": total / n, "seconds": time.perf_counter() - t0}
            if validation is not None:
                record.update(self._validation_scores(*validation))
            self.history_.append(record)
            self._save_checkpoint(torch, opt, sched, gen, epoch + 1)
            if bar is not None:
                bar.set_postfix({k: round(v, 4) for k, v in record.items() if k in ("loss", "dice")})
                bar.update(1)
        if bar is not None:
            bar.close()
        self.network_.eval()
        return self

    def _initial_network(self, X, y):
        """The network of ``init``, checked against the data and this estimator's settings."""
        from ._simpeg import _estimator

        start = _estimator(self.init)
        ok = (
            start.in_channels_ == X.shape[1]
            and start.input_shape_ == tuple(X.shape[2:])
            and start.output_shape_ == tuple(y.shape[1:])
            and start.width == self.width
            and start.n_classes == self.n_classes
            and np.allclose(start.log10_range, self.log10_range)
        )
        if not ok:
            raise ValueError(
                f"init network {self.init}: its channels, grids, width or classes "
                f"({start.in_channels_}, {start.input_shape_}, {start.output_shape_}, {start.width}, "
                f"{start.n_classes} over {tuple(start.log10_range)}) differ from this training's "
                f"({X.shape[1]}, {tuple(X.shape[2:])}, {tuple(y.shape[1:])}, {self.width}, {self.n_classes} over "
                f"{tuple(self.log10_range)})"
            )
        return start

    def _checkpoint_key(self):
        params = self.get_params()
        for name in ("checkpoint", "progress", "threads", "mirror_average", "members"):
            params.pop(name)
        params["init"] = None if self.init is None else str(self.init)
        return json.dumps(params, sort_keys=True, default=list)

    def _save_checkpoint(self, torch, opt, sched, gen, epoch):
        if not self.checkpoint:
            return
        path = pathlib.Path(self.checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(
            {
                "key": self._checkpoint_key(),
                "epoch": epoch,
                "network": self.network_.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "generator": gen.get_state(),
                "history": json.dumps(self.history_),
                "input_mean": torch.from_numpy(self.input_mean_),
                "input_std": torch.from_numpy(self.input_std_),
            },
            tmp,
        )
        tmp.replace(path)

    def _resume(self, torch, opt, sched, gen) -> int:
        if not self.checkpoint or not pathlib.Path(self.checkpoint).exists():
            return 0
        state = torch.load(self.checkpoint, weights_only=True)
        if state["key"] != self._checkpoint_key():
            raise ValueError(
                f"{self.checkpoint}: checkpoint written with other parameters; delete it or use the same ones to resume"
            )
        if not (
            np.allclose(state["input_mean"].numpy(), self.input_mean_)
            and np.allclose(state["input_std"].numpy(), self.input_std_)
        ):
            raise ValueError(f"{self.checkpoint}: checkpoint written for other training data")
        self.network_.load_state_dict(state["network"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        self.history_ = json.loads(state["history"])
        return int(state["epoch"])

    def _validation_scores(self, X, y):
        """Dice and RMS log10 error of the expected model on validation data."""
        from ._network import dice_coefficient

        y = np.asarray(y, dtype=float)
        proba = self.predict_proba(X)
        truth = self.classes_.classify(y)
        pred = proba.argmax(axis=1)
        dice = np.mean([dice_coefficient(p, t, self.n_classes) for p, t in zip(pred, truth, strict=True)])
        rms = np.sqrt(np.mean((self.classes_.expected_log10(proba) - y) ** 2))
        return {"dice": float(dice), "rms_log10": float(rms)}

    # ----------------------------------------------------------- prediction
    def _probabilities(self, X, networks):
        """Class probabilities of each network in ``networks`` (mirror-averaged where set)."""
        torch = self._torch()
        X = self._check_x(X)
        out = [[] for _ in networks]
        with torch.no_grad():
            xt = torch.from_numpy(self._normalise(X).astype(np.float32))
            for b in range(0, xt.shape[0], 256):
                xb = xt[b : b + 256]
                for k, net in enumerate(networks):
                    net.eval()
                    p = torch.softmax(net(xb), dim=1)
                    if self.mirror_average:
                        p = 0.5 * (p + torch.softmax(net(xb.flip(-1)), dim=1).flip(-1))
                    out[k].append(p.numpy())
        return [np.concatenate(o).astype(np.float64) for o in out]

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities, ``(n, n_classes, n_depths, n_columns)``."""
        self._check_fitted()
        return self._probabilities(X, [self.network_])[0]

    def predict_spread(self, X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """log10 resistivity and its spread (one standard deviation) per cell.

        The spread of a deep ensemble (``members > 1``): the variance of
        each member's class distribution about its own expectation, averaged
        over the members, plus the variance of the members' expectations.
        One network: its own distribution's variance.  Multiplied by
        ``spread_scale_`` where it was calibrated (:meth:`calibrate_spread`).

        Returns
        -------
        mean, std : (n, n_depths, n_columns) numpy.ndarray
        """
        self._check_fitted()
        from ._network import MeanOfNetworks

        nets = list(self.network_.members) if isinstance(self.network_, MeanOfNetworks) else [self.network_]
        c = self.classes_.centres.reshape(1, -1, 1, 1)
        means, variances = [], []
        for p in self._probabilities(X, nets):
            mu = (p * c).sum(axis=1)
            means.append(mu)
            variances.append((p * (c - mu[:, None]) ** 2).sum(axis=1))
        means = np.stack(means)
        var = np.mean(variances, axis=0) + means.var(axis=0)
        return means.mean(axis=0), np.sqrt(var) * float(getattr(self, "spread_scale_", 1.0))

    def calibrate_spread(self, X: ArrayLike, y: ArrayLike, coverage: float = 0.68) -> float:
        """Scale the spread so that ``coverage`` of the cells of ``(X, y)`` lie within one spread.

        Use sections the network was not trained on (a validation split);
        sets and returns ``spread_scale_``.
        """
        self.spread_scale_ = 1.0
        mean, std = self.predict_spread(X)
        ratio = np.abs(np.asarray(y, dtype=float) - mean) / np.maximum(std, 1e-9)
        self.spread_scale_ = float(np.quantile(ratio, coverage))
        return self.spread_scale_

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """log10 resistivity, ``(n, n_depths, n_columns)``.

        The expectation of the class centres under the predicted
        probabilities.
        """
        self._check_fitted()
        return self.classes_.expected_log10(self.predict_proba(X))

    def predict_classes(self, X: ArrayLike) -> NDArray[np.intp]:
        """Most probable class per cell, ``(n, n_depths, n_columns)``."""
        return self.predict_proba(X).argmax(axis=1)

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean multi-class Dice of the predicted classes against ``y`` (log10 resistivity).

        1 is a perfect prediction.
        """
        return self._validation_scores(X, y)["dice"]

    # ----------------------------------------------------------- files
    def save(self, path: str | os.PathLike, *, half: bool = False) -> pathlib.Path:
        """Write ``PATH.pt`` (state dict) and ``PATH.json`` (metadata).

        ``half``: store the floating-point weights in float16 (half the
        file; :meth:`load` casts them back to float32).

        Returns the path of the ``.json`` metadata file.
        """
        self._check_fitted()
        torch = self._torch()
        path = pathlib.Path(path)
        stem = path.with_suffix("") if path.suffix in (".pt", ".json") else path
        stem.parent.mkdir(parents=True, exist_ok=True)
        state = self.network_.state_dict()
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        torch.save(state, stem.with_suffix(".pt"))
        params = self.get_params()
        # run-time settings of this machine are not part of the network
        params["checkpoint"], params["threads"], params["progress"] = None, None, False
        params["init"] = None if self.init is None else str(self.init)
        params["log10_range"] = list(params["log10_range"])
        meta = {
            "format": FORMAT,
            "params": params,
            "input_shape": list(self.input_shape_),
            "output_shape": list(self.output_shape_),
            "classes": {"log10_edges": self.classes_.edges.tolist()},
            "normalisation": {
                "mean": self.input_mean_.tolist(),
                "std": self.input_std_.tolist(),
                "channels": _channel_names(self.in_channels_),
            },
            "grid": {
                k: (v if isinstance(v, str) or v is None else np.asarray(v).tolist()) for k, v in self.grid_.items()
            },
            "spread_scale": getattr(self, "spread_scale_", None),
            "history": self.history_,
            "recipe": getattr(self, "recipe_", None),
        }
        meta_path = stem.with_suffix(".json")
        meta_path.write_text(json.dumps(meta, indent=1))
        return meta_path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ResNetInverter:
        """Load a network written by :meth:`save` (``weights_only=True``)."""
        torch = require_torch()
        path = pathlib.Path(path)
        stem = path.with_suffix("") if path.suffix in (".pt", ".json") else path
        meta_path, weights_path = stem.with_suffix(".json"), stem.with_suffix(".pt")
        for p in (meta_path, weights_path):
            if not p.exists():
                raise FileNotFoundError(f"{p}: no such network file")
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as err:
            raise ValueError(f"{meta_path}: not valid JSON ({err})") from None
        if meta.get("format") != FORMAT:
            raise ValueError(f"{meta_path}: not a ResNetInverter metadata file (format {meta.get('format')!r})")
        params = dict(meta["params"])
        params["log10_range"] = tuple(params["log10_range"])
        est = cls(**params)
        est.classes_ = ResistivityClasses(est.log10_range, est.n_classes)
        est.input_shape_ = tuple(meta["input_shape"])
        est.output_shape_ = tuple(meta["output_shape"])
        est.input_mean_ = np.asarray(meta["normalisation"]["mean"], dtype=np.float64)
        est.input_std_ = np.asarray(meta["normalisation"]["std"], dtype=np.float64)
        est.grid_ = _grid_dict(meta["grid"])
        est.history_ = meta.get("history", [])
        est.recipe_ = meta.get("recipe")
        if meta.get("spread_scale") is not None:
            est.spread_scale_ = float(meta["spread_scale"])
        est.network_ = est._build(est.output_shape_)
        state = torch.load(weights_path, weights_only=True)
        est.network_.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        est.network_.eval()
        est.name_ = stem.name
        return est


def _channel_names(n):
    if n in _CHANNEL_NAMES:
        return _CHANNEL_NAMES[n]
    from ._normalised import CHANNELS

    return list(CHANNELS)


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return np.shape(a) == np.shape(b) and np.allclose(a, b)


def _grid_dict(grid):
    grid = dict(grid or {})
    if grid.get("kind") == "normalised":
        return {k: (tuple(v) if isinstance(v, list) else v) for k, v in grid.items()}
    out = {}
    for key in ("stations", "frequencies", "depth_edges"):
        v = grid.get(key)
        out[key] = None if v is None else np.asarray(v, dtype=float)
    return out
