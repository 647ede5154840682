"""A ResNet-50 encoder-decoder in plain torch, and the losses.

The encoder is ResNet-50 (bottleneck blocks [3, 4, 6, 3], expansion 4) with
a width multiplier on every channel count (1.0 is the original 64-wide
stem), a 3x3 stride-1 stem without max pooling (pseudo-sections are a few
dozen cells wide, not 224) and strides 1, 2, 2, 2 in the four stages.  The
decoder upsamples back to full resolution with skip connections from each
stage (a U-Net on the ResNet encoder) and a 1x1 head gives one logit per
resistivity class and model cell.  The input pseudo-section is resized to
half the model grid (rounded up to a multiple of 8) on entry, so frequency
rows become depth rows, and the logits are resized to the exact model grid
at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from numpy.typing import ArrayLike

from ._torch import require_torch

torch = require_torch()
nn = torch.nn
F = torch.nn.functional

__all__ = [
    "ResNet50UNet",
    "MeanOfNetworks",
    "soft_dice_loss",
    "expected_log10_loss",
    "dice_coefficient",
    "LOSSES",
    "loss_function",
]

LAYERS = (3, 4, 6, 3)
EXPANSION = 4


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand; identity or projected shortcut."""

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        super().__init__()
        out = width * EXPANSION
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        nn.init.zeros_(self.bn3.weight)  # each block starts as the identity
        self.shortcut = None
        if stride != 1 or in_channels != out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


def _stage(in_channels, width, blocks, stride):
    layers = [Bottleneck(in_channels, width, stride)]
    layers += [Bottleneck(width * EXPANSION, width) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Up(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.body = nn.Sequential(_conv_bn_relu(cin + cskip, cout), _conv_bn_relu(cout, cout))

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], dim=1))


class ResNet50UNet(nn.Module):
    """ResNet-50 encoder with a U-Net decoder, pseudo-section to model grid.

    Parameters
    ----------
    in_channels : int
        Input channels (4: TE and TM log10 apparent resistivity and phase).
    n_classes : int
        Resistivity classes.
    output_shape : (int, int)
        Model grid (depth rows, columns).
    width : float
        Width multiplier (1.0: ResNet-50's 64-wide stem, 2048 channels at
        the bottom; 0.25 trains on a CPU).
    """

    def __init__(self, in_channels: int, n_classes: int, output_shape: Sequence[int], width: float = 0.25) -> None:
        super().__init__()
        base = max(4, int(round(64 * width)))
        self.output_shape = tuple(int(v) for v in output_shape)
        # the encoder works at half the model grid, rounded up to a multiple of 8
        self.work_shape = tuple(8 * math.ceil(v / 16) for v in self.output_shape)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, base, 3, padding=1, bias=False), nn.BatchNorm2d(base), nn.ReLU(inplace=True)
        )
        widths = [base, 2 * base, 4 * base, 8 * base]
        strides = [1, 2, 2, 2]
        stages, cin = [], base
        for w, n, s in zip(widths, LAYERS, strides, strict=True):
            stages.append(_stage(cin, w, n, s))
            cin = w * EXPANSION
        self.stages = nn.ModuleList(stages)
        outs = [w * EXPANSION for w in widths]
        self.up3 = _Up(outs[3], outs[2], 4 * base)
        self.up2 = _Up(4 * base, outs[1], 2 * base)
        self.up1 = _Up(2 * base, outs[0], base)
        self.head = nn.Conv2d(base, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(n, n_classes, *output_shape)`` of inputs ``(n, in_channels, h, w)``."""
        x = F.interpolate(x, size=self.work_shape, mode="bilinear", align_corners=True)
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        y = self.up3(feats[3], feats[2])
        y = self.up2(y, feats[1])
        y = self.up1(y, feats[0])
        logits = self.head(y)
        return F.interpolate(logits, size=self.output_shape, mode="bilinear", align_corners=True)


class MeanOfNetworks(nn.Module):
    """Several networks of one layout whose class probabilities are averaged.

    The forward pass returns the log of the mean probabilities, so a softmax
    of its output is the mean of the members' softmax outputs.

    Parameters
    ----------
    members : sequence of torch.nn.Module
        Networks with equal input and output shapes.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"MeanOfNetworks needs at least two members, got {len(members)}")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log of the mean class probabilities ``(n, n_classes, ...)``."""
        logp = torch.stack([torch.log_softmax(m(x), dim=1) for m in self.members])
        return torch.logsumexp(logp, dim=0) - math.log(len(self.members))


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft multi-class Dice loss, ``1 - mean_k Dice_k`` over the batch.

    Parameters
    ----------
    logits : (n, n_classes, ...) tensor
    target : (n, ...) tensor of int64 class indices
    """
    n_classes = logits.shape[1]
    p = torch.softmax(logits, dim=1)
    onehot = F.one_hot(target, n_classes).movedim(-1, 1).to(p.dtype)
    dims = (0,) + tuple(range(2, p.ndim))
    inter = (p * onehot).sum(dims)
    denom = p.sum(dims) + onehot.sum(dims)
    dice = (2.0 * inter + eps) / (denom + eps)
    return 1.0 - dice.mean()


def expected_log10_loss(logits: torch.Tensor, log10: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of the expected log10 resistivity, in class widths.

    The network's continuous model is the expectation of the class centres
    under its probabilities; this term trains that expectation directly.

    Parameters
    ----------
    logits : (n, n_classes, ...) tensor
    log10 : (n, ...) tensor
        True log10 resistivity, clipped into the class range.
    centres : (n_classes,) tensor
        Class centres (log10 ohm-m), evenly spaced.
    """
    p = torch.softmax(logits, dim=1)
    shape = [1, centres.numel()] + [1] * (p.ndim - 2)
    expected = (p * centres.reshape(shape)).sum(1)
    width = (centres[1] - centres[0]) if centres.numel() > 1 else 1.0
    return (expected - log10).abs().mean() / width


def _dice(logits, target, log10, centres):
    return soft_dice_loss(logits, target)


def _cross_entropy(logits, target, log10, centres):
    return F.cross_entropy(logits, target)


def _dice_ce(logits, target, log10, centres):
    return soft_dice_loss(logits, target) + F.cross_entropy(logits, target)


def _dice_regression(logits, target, log10, centres):
    return soft_dice_loss(logits, target) + expected_log10_loss(logits, log10, centres)


def _dice_ce_regression(logits, target, log10, centres):
    return _dice_ce(logits, target, log10, centres) + expected_log10_loss(logits, log10, centres)


#: Training losses by name; each is called as ``loss(logits, classes, log10, centres)``.
#: ``dice+regression`` adds :func:`expected_log10_loss` to the Dice loss, and
#: ``dice+cross-entropy+regression`` adds it to Dice plus cross-entropy.
LOSSES = {
    "dice": _dice,
    "cross-entropy": _cross_entropy,
    "dice+cross-entropy": _dice_ce,
    "dice+regression": _dice_regression,
    "dice+cross-entropy+regression": _dice_ce_regression,
}


def loss_function(name: str):
    """The loss of a name in :data:`LOSSES`."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {name!r}") from None


def dice_coefficient(predicted: ArrayLike, truth: ArrayLike, n_classes: int) -> float:
    """Hard multi-class Dice of class maps (numpy or torch).

    Averaged over the classes present in either map; 1 for a perfect
    prediction.
    """
    import numpy as np

    p = np.asarray(predicted).ravel()
    t = np.asarray(truth).ravel()
    scores = []
    for k in range(n_classes):
        a, b = p == k, t == k
        s = a.sum() + b.sum()
        if s:
            scores.append(2.0 * np.logical_and(a, b).sum() / s)
    return float(np.mean(scores)) if scores else 1.0
