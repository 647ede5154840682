"""Learned 2D MT inversion: a ResNet-50 encoder-decoder trained with a Dice loss.

Training-set production (numpy, SimPEG and Dask) works without torch; the
network, the estimator and the learned runs need the ``cnn`` extra
(``pip install torch==2.13.0`` first for the CPU wheel, then
``pip install 'simpeg-zo[cnn]'``) and raise an ``ImportError`` naming it
otherwise.

Public API
----------
Training sets
    :class:`DatasetConfig`, :func:`produce_dataset`, :func:`load_dataset`,
    :class:`Dataset`, :func:`simulate_sample`, :func:`draw_parameters`,
    :func:`paint`, :func:`design_classes`, :data:`TRAINING_FAMILIES`, :data:`HELD_OUT_FAMILIES`
Survey-neutral network
    :class:`GeneralConfig` (random surveys), :func:`load_general`,
    :func:`general_arrays`, :class:`NormalisedGrid`,
    :func:`normalised_input`, :func:`normalised_to_cells`,
    :func:`train_general`
Sections and grids
    :func:`pseudo_sections`, :func:`resample_sections`,
    :class:`ResistivityClasses`, :func:`grid_to_cells`,
    :class:`SurveyMismatchError`
Network (torch)
    :class:`ResNetInverter`, :class:`ResNet50UNet`, :class:`MeanOfNetworks`,
    :func:`soft_dice_loss`,
    :func:`expected_log10_loss`,
    :func:`dice_coefficient`, :data:`LOSSES`, :func:`train_network`,
    :func:`dataset_arrays`
SimPEG
    :class:`CNNStartingModel`, :class:`LearnedInversion`, :func:`cnn_model`,
    :func:`run_learned`, :func:`default_inverter`, :func:`shipped_networks`,
    :func:`serving_network`
"""

from ._dataset import Dataset, DatasetConfig, default_depth_edges, load_dataset, produce_dataset, simulate_sample
from ._families import HELD_OUT_FAMILIES, TRAINING_FAMILIES, design_classes, draw_parameters, paint
from ._general import GeneralConfig, general_arrays, load_general
from ._normalised import NormalisedGrid, normalised_input, normalised_to_cells
from ._sections import ResistivityClasses, SurveyMismatchError, grid_to_cells, pseudo_sections, resample_sections
from ._simpeg import (
    LEARNED_METHODS,
    CNNStartingModel,
    LearnedInversion,
    cnn_model,
    default_inverter,
    run_learned,
    serving_network,
    shipped_networks,
)
from ._train import dataset_arrays, train_general, train_network

_TORCH_NAMES = {
    "ResNetInverter": "._estimator",
    "ResNet50UNet": "._network",
    "MeanOfNetworks": "._network",
    "soft_dice_loss": "._network",
    "expected_log10_loss": "._network",
    "dice_coefficient": "._network",
    "LOSSES": "._network",
}


def __getattr__(name):
    if name in _TORCH_NAMES:
        import importlib

        from ._torch import require_torch

        require_torch()  # an ImportError naming the cnn extra

        return getattr(importlib.import_module(_TORCH_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CNNStartingModel",
    "Dataset",
    "DatasetConfig",
    "HELD_OUT_FAMILIES",
    "LEARNED_METHODS",
    "LOSSES",
    "LearnedInversion",
    "ResNet50UNet",
    "MeanOfNetworks",
    "ResNetInverter",
    "ResistivityClasses",
    "SurveyMismatchError",
    "TRAINING_FAMILIES",
    "cnn_model",
    "default_depth_edges",
    "default_inverter",
    "dice_coefficient",
    "dataset_arrays",
    "draw_parameters",
    "design_classes",
    "grid_to_cells",
    "load_dataset",
    "paint",
    "produce_dataset",
    "pseudo_sections",
    "resample_sections",
    "run_learned",
    "serving_network",
    "shipped_networks",
    "simulate_sample",
    "soft_dice_loss",
    "expected_log10_loss",
    "train_network",
    "GeneralConfig",
    "general_arrays",
    "load_general",
    "NormalisedGrid",
    "normalised_input",
    "normalised_to_cells",
    "train_general",
]
