"""simpeg_zo: fast 2D magnetotelluric inversion for SimPEG.

Zohdy-Oldenburg direct inversion (Jacobian-free, from a Bostick start) as a
drop-in SimPEG optimizer, compared side by side with SimPEG's Gauss-Newton.

Public API
----------
Profiles and data
    :func:`build_profile`, :class:`Profile`, :func:`synthetic_profile`,
    :func:`paint_model`
Forward engine
    :class:`Pardiso`, :class:`SuperLU` (pymatsolver solvers SimPEG accepts),
    :func:`default_solver`, :func:`get_solver`, :func:`pardiso_available`,
    :class:`SolverUnavailableError`, :func:`forward_dpred` (forward only, one
    factorisation at a time), :class:`ForwardEngine` (frequencies on Dask
    workers)
Model specifications
    :func:`load_spec`, :func:`parse_spec`, :class:`ModelSpec`,
    :class:`SpecError`, :func:`list_presets`
Bostick transform
    :func:`bostick_depth`, :func:`bostick_resistivity_slope`,
    :func:`bostick_resistivity_phase`, :func:`fold_phase`,
    :func:`bostick_model`, :class:`BostickStartingModel`
Zohdy-Oldenburg
    :class:`ZohdyOldenburg` (a ``simpeg.optimization.Minimize``),
    :func:`resistivity_update`, :func:`phase_log_correction`,
    :func:`depth_update`
Running and comparing
    :func:`gauss_newton`, :func:`zohdy_oldenburg`, :func:`run_method`,
    :data:`METHODS`, :data:`GN_SETTINGS`, :func:`compare`,
    :class:`Comparison`, :class:`InversionResult`,
    :class:`InversionInterrupted` (Ctrl-C, with the best model so far),
    :func:`checkpointing`, :func:`read_checkpoint`, :class:`Checkpoint`,
    :func:`profile_fingerprint` (a model written every iteration, and
    ``run_method(..., resume_from=...)``)

Learned inversion
    :class:`CNNStartingModel`, :class:`LearnedInversion`; the rest
    (training sets, the ResNet-50 network, :class:`ResNetInverter`) in
    :mod:`simpeg_zo.learned` (torch: the ``cnn`` extra).

Field data (EDI) and published Occam2D models
    :func:`read_edi_profile`, :func:`read_edi_survey`, :class:`EDISurvey`,
    :func:`read_edi`, :func:`read_edi_files`, :class:`EDIStation`,
    :class:`EDIError`, :func:`project_stations`, :func:`rotate_impedance`,
    :func:`estimate_strike`, :func:`phase_floor_degrees`,
    :func:`static_shift_factors`, :func:`invert_profile`,
    :func:`misfit_tables`, :func:`write_inversion`, :func:`read_occam2d`,
    :class:`Occam2DModel`, :func:`occam2d_on_profile`

mtpy-v2 and other programs
    :func:`read_mtpy_profile`, :func:`read_mtpy_survey`,
    :func:`stations_from_mt_dataframe` (mtpy-v2's ``MTData`` and its data
    frame to a :class:`Profile`; the ``mtpy`` extra for mtpy itself, none
    for the conversion); :func:`write_vtr` (the model as a VTK ``.vtr``
    file for ParaView), :func:`write_occam2d` (data, responses and model in
    Occam2D's formats, which mtpy-v2 reads)

Figures are in :mod:`simpeg_zo.plot` and :mod:`simpeg_zo.plot_field` (matplotlib loads only there).
"""

import logging as _logging
from importlib import metadata as _metadata

from ._bostick import (
    bostick_depth,
    bostick_resistivity_phase,
    bostick_resistivity_slope,
    fold_phase,
)
from ._checkpoint import Checkpoint, checkpointing, profile_fingerprint, read_checkpoint
from ._compare import Comparison, compare, core_region, decimate_survey
from ._derivatives import jtj_diagonal
from ._directives import BostickStartingModel, bostick_model
from ._edi import (
    EDIError,
    EDIStation,
    estimate_strike,
    phase_floor_degrees,
    project_stations,
    read_edi,
    read_edi_files,
    rotate_impedance,
)
from ._export import write_edi, write_occam2d, write_vtr
from ._field import EDISurvey, read_edi_profile, read_edi_survey
from ._forward import ForwardEngine, forward_dpred
from ._gn import GN_SETTINGS, LOG_CONDUCTIVITY_BOUNDS, gauss_newton
from ._invert import invert_profile, misfit_tables, write_inversion
from ._mesh import skin_depth
from ._methods import METHODS, run_method
from ._mtpy import read_mtpy_profile, read_mtpy_survey, stations_from_mt_dataframe
from ._occam2d import Occam2DModel, occam2d_on_profile, read_occam2d
from ._optimizer import ZohdyOldenburg
from ._profile import MODES, Profile, Simulation2DElectricField, Simulation2DMagneticField, build_profile
from ._result import InversionInterrupted, InversionResult
from ._runs import zohdy_oldenburg
from ._screen import screen_soundings, weidelt_phase
from ._solvers import Pardiso, SolverUnavailableError, SuperLU, default_solver, get_solver, pardiso_available
from ._spec import ModelSpec, SpecError, list_presets, load_spec, parse_spec
from ._static import static_shift_factors
from ._synthetic import paint_model, synthetic_profile
from ._tipper import Tipper
from ._zo import depth_update, phase_log_correction, resistivity_update
from .learned import CNNStartingModel, LearnedInversion

# the library logs through "simpeg_zo" and its module loggers and configures
# no handler: where its messages go is the application's choice
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

try:  # the version is written once, in pyproject.toml
    __version__ = _metadata.version("simpeg-zo")
except _metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "BostickStartingModel",
    "CNNStartingModel",
    "Checkpoint",
    "checkpointing",
    "profile_fingerprint",
    "read_checkpoint",
    "ForwardEngine",
    "Pardiso",
    "SolverUnavailableError",
    "SuperLU",
    "default_solver",
    "forward_dpred",
    "jtj_diagonal",
    "get_solver",
    "pardiso_available",
    "Comparison",
    "GN_SETTINGS",
    "LOG_CONDUCTIVITY_BOUNDS",
    "InversionInterrupted",
    "InversionResult",
    "LearnedInversion",
    "METHODS",
    "MODES",
    "ModelSpec",
    "Profile",
    "Simulation2DElectricField",
    "Simulation2DMagneticField",
    "SpecError",
    "Tipper",
    "ZohdyOldenburg",
    "bostick_depth",
    "bostick_model",
    "bostick_resistivity_phase",
    "bostick_resistivity_slope",
    "build_profile",
    "compare",
    "core_region",
    "decimate_survey",
    "depth_update",
    "fold_phase",
    "gauss_newton",
    "list_presets",
    "load_spec",
    "paint_model",
    "parse_spec",
    "phase_log_correction",
    "resistivity_update",
    "run_method",
    "screen_soundings",
    "skin_depth",
    "synthetic_profile",
    "weidelt_phase",
    "zohdy_oldenburg",
    # field data
    "EDIError",
    "EDIStation",
    "EDISurvey",
    "Occam2DModel",
    "estimate_strike",
    "invert_profile",
    "misfit_tables",
    "occam2d_on_profile",
    "phase_floor_degrees",
    "project_stations",
    "read_edi",
    "read_edi_files",
    "read_edi_profile",
    "read_edi_survey",
    "read_occam2d",
    "rotate_impedance",
    "static_shift_factors",
    "write_inversion",
    # mtpy-v2 and other programs
    "read_mtpy_profile",
    "read_mtpy_survey",
    "stations_from_mt_dataframe",
    "write_edi",
    "write_occam2d",
    "write_vtr",
]


def __dir__():
    return __all__
