"""The network inside SimPEG: a starting-model directive, an inversion, runs."""

from __future__ import annotations

import functools
import logging
import pathlib
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from simpeg import inversion
from simpeg.directives import InversionDirective

from .._layout import layout_from_misfit
from ._consistency import scaled_correction
from ._sections import grid_to_cells, resample_sections, sections_from_layout

if TYPE_CHECKING:
    from simpeg.inverse_problem import BaseInvProblem
    from simpeg.objective_function import BaseObjectiveFunction

    from .._layout import SoundingLayout
    from .._profile import Profile
    from .._result import InversionResult
    from ._estimator import ResNetInverter

logger = logging.getLogger(__name__)

__all__ = [
    "CNNStartingModel",
    "LearnedInversion",
    "cnn_model",
    "default_inverter",
    "shipped_networks",
    "serving_network",
    "run_learned",
    "LEARNED_METHODS",
]

WEIGHTS = pathlib.Path(__file__).parent / "weights"
#: The survey-neutral network: tried first, it serves any profile.
GENERAL_NETWORK = "general"
DEFAULT_NETWORK = GENERAL_NETWORK

#: Methods of :func:`run_learned` (and ``simpeg-zo compare``/``invert``).
LEARNED_METHODS = ("cnn", "cnn-gn", "cnn-zo", "cnn-zo1")


def shipped_networks() -> list:
    """Names of the networks shipped with the package (the survey-neutral one first)."""
    names = sorted(p.stem for p in WEIGHTS.glob("*.json"))
    return sorted(names, key=lambda n: n != GENERAL_NETWORK)


def default_inverter(name: str = DEFAULT_NETWORK) -> ResNetInverter:
    """Load a shipped network (default: the survey-neutral ``general`` network)."""
    from ._estimator import ResNetInverter

    path = WEIGHTS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no shipped network {name!r}; shipped: {', '.join(shipped_networks()) or 'none'}")
    return ResNetInverter.load(path)


def _estimator(estimator: ResNetInverter | str | pathlib.Path | None) -> ResNetInverter:
    if estimator is None:
        return default_inverter()
    if isinstance(estimator, (str, pathlib.Path)):
        from ._estimator import ResNetInverter

        p = pathlib.Path(estimator)
        if p.suffix or p.exists() or p.with_suffix(".json").exists():
            return ResNetInverter.load(p)
        return default_inverter(str(estimator))
    return estimator


def _network_input(est, sections, freqs, stations, elevations=None):
    """The network's input: an array, or ``(array, rho_ref)`` for a survey-neutral network."""
    from ._sections import SurveyMismatchError

    if est.normalised_:
        return _normalised_network_input(est, sections, freqs, stations, elevations)
    if not np.isfinite(sections).any(axis=(1, 2)).all():
        raise SurveyMismatchError("this network needs TE and TM data")
    grid = est.grid_
    if grid.get("stations") is None or grid.get("frequencies") is None:
        raise ValueError("the network has no survey grid in its metadata; fit it with grid=...")
    return resample_sections(sections, freqs, stations, grid["frequencies"], grid["stations"])


def _normalised_network_input(est, sections, freqs, stations, elevations=None):
    """``(x, rho_ref)`` of a survey-neutral network; ``sections`` as :func:`sections_from_layout` gives."""
    from ._normalised import NormalisedGrid, normalised_input

    grid = NormalisedGrid.from_dict(est.grid_)
    with np.errstate(invalid="ignore"):
        rho = 10.0 ** sections[0::2]
    x, rho_ref, _ = normalised_input(grid, rho, sections[1::2], freqs, stations, elevations)
    return x, rho_ref


def serving_network(dmisfit_or_layout: BaseObjectiveFunction | SoundingLayout) -> ResNetInverter:
    """The first shipped network whose frequency band and profile length the data cover.

    Parameters
    ----------
    dmisfit_or_layout : simpeg data misfit (TE + TM) or SoundingLayout

    Returns
    -------
    ResNetInverter
        Its ``name_`` is the shipped name.

    Raises
    ------
    SurveyMismatchError
        When no shipped network serves the data; the message gives each
        network's reason.
    """
    layout = _as_layout(dmisfit_or_layout)
    return _serving_network(*sections_from_layout(layout, both_modes=False), layout.station_elevation)[0]


def _as_layout(dmisfit_or_layout):
    from .._layout import SoundingLayout

    if isinstance(dmisfit_or_layout, SoundingLayout):
        return dmisfit_or_layout
    return layout_from_misfit(dmisfit_or_layout)


def _serving_network(sections, freqs, stations, elevations=None):
    """The first shipped network whose band and profile length the data serve."""
    from ._sections import SurveyMismatchError

    reasons = []
    for name in shipped_networks():
        est = _shipped(name)
        try:
            return est, _network_input(est, sections, freqs, stations, elevations)
        except SurveyMismatchError as err:
            reasons.append(f"{name}: {err}")
    raise SurveyMismatchError("no shipped network serves these data (" + "; ".join(reasons) + ")")


@functools.lru_cache(maxsize=8)
def _shipped(name):
    return default_inverter(name)


def _load(estimator):
    """The network of ``estimator`` loaded; ``None`` (every shipped network loaded) for the serving one.

    Each network runs once on zeros here, so the first profile's inference
    time is not torch's one-time set-up.
    """
    if estimator is not None:
        return _warm(_estimator(estimator))
    for name in shipped_networks():
        _warm(_shipped(name))
    return None


def _warm(est):
    if not getattr(est, "_warm", False):
        est.predict_proba(np.zeros((1, est.in_channels_, *est.input_shape_)))
        est._warm = True
    return est


def _predict(layout, est):
    """``(model, seconds, network, spread, base, scale)``: the network's model of a layout's data.

    ``est``: a loaded network, or ``None`` for the shipped network that
    serves the data (see :func:`_load`). ``seconds`` covers resampling, the
    network, the interpolation onto the cells and the 1D check. ``spread``:
    per cell, one standard deviation of log10 resistivity (a survey-neutral
    network's calibrated ensemble spread), or None. ``base``: the model of
    the Bostick section the survey-neutral network corrects, or None.
    ``scale``: per station, the share of the network's correction of that
    section its soundings support in 1D
    (:func:`simpeg_zo.learned._consistency.scaled_correction`; the model
    has it), or None.
    """
    t0 = time.perf_counter()
    sections, freqs, stations = sections_from_layout(layout, both_modes=False)
    elevations = layout.station_elevation
    if est is None:
        est, x = _serving_network(sections, freqs, stations, elevations)
    else:
        x = _network_input(est, sections, freqs, stations, elevations)
    geo = layout.geometry
    if est.normalised_:
        from ._normalised import BOSTICK, NormalisedGrid, normalised_to_cells

        x, rho_ref = x
        grid = NormalisedGrid.from_dict(est.grid_)
        mean, std = est.predict_spread(x[None])  # the correction of the Bostick section
        section = x[BOSTICK] + mean[0] + np.log10(rho_ref)
        cells = normalised_to_cells(grid, section, geo.cell_x, geo.cell_depth, geo.station_x)
        spread = normalised_to_cells(grid, std[0], geo.cell_x, geo.cell_depth, geo.station_x)
        base_cells = normalised_to_cells(
            grid, x[BOSTICK] + np.log10(rho_ref), geo.cell_x, geo.cell_depth, geo.station_x
        )
        base = -layout.log_sigma_sign * np.log(10.0) * base_cells
        model = -layout.log_sigma_sign * np.log(10.0) * cells
        model, scale = scaled_correction(layout, base, model)
        return model, time.perf_counter() - t0, est, spread, base, scale
    else:
        grid = est.grid_
        log10_rho = est.predict(x[None])[0]
        cells = grid_to_cells(
            log10_rho, grid["stations"], grid["depth_edges"], geo.cell_x, geo.cell_depth, geo.station_x
        )
    model = -layout.log_sigma_sign * np.log(10.0) * cells
    return model, time.perf_counter() - t0, est, None, None, None


def cnn_model(
    dmisfit_or_layout: BaseObjectiveFunction | SoundingLayout,
    estimator: ResNetInverter | str | pathlib.Path | None = None,
    *,
    return_seconds: bool = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], float]:
    """The network's model of a SimPEG data misfit's observed data.

    The observed TE and TM apparent resistivities and phases are resampled
    onto the network's frequency x station grid, the network predicts log10
    resistivity on its model grid, and that section is interpolated onto
    the active cells (depth below each column's surface).

    Parameters
    ----------
    dmisfit_or_layout : simpeg data misfit (TE + TM) or SoundingLayout
    estimator : ResNetInverter, path or shipped name, optional
        Default: the first shipped network (see :func:`shipped_networks`)
        whose frequency band and profile length the data cover; a
        :class:`SurveyMismatchError` names each network's reason when none
        does.
    return_seconds : bool
        Also return the inference time (resampling, network, interpolation).

    Returns
    -------
    (n_active,) numpy.ndarray
        SimPEG model (log conductivity, or log resistivity for ``rhoMap``).
    """
    model, seconds, *_ = _predict(_as_layout(dmisfit_or_layout), _load(estimator))
    return (model, seconds) if return_seconds else model


class CNNStartingModel(InversionDirective):
    """Set the starting model of any SimPEG inversion to the network's model.

    Put it first in the directive list (GN or Zohdy-Oldenburg alike); the
    optimizer reads the model after the directives' ``initialize``.

    Parameters
    ----------
    estimator : ResNetInverter, path or shipped name, optional
        Default: the shipped network.
    set_reference : bool
        Also make it the reference model of the regularisation.

    Attributes
    ----------
    model : numpy.ndarray
        The network's model, after ``initialize``.
    inference_seconds : float
    """

    def __init__(
        self,
        estimator: ResNetInverter | str | pathlib.Path | None = None,
        set_reference: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.estimator = estimator
        self.set_reference = set_reference
        self.model = None
        self.inference_seconds = None

    def initialize(self) -> None:
        self.model, self.inference_seconds = cnn_model(self.invProb.dmisfit, self.estimator, return_seconds=True)
        self.invProb.model = self.model
        if self.set_reference:
            for obj in getattr(self.reg, "objfcts", [self.reg]):
                if hasattr(obj, "reference_model"):
                    obj.reference_model = self.model


class LearnedInversion(inversion.BaseInversion):
    """A SimPEG inversion started (or done) by the network.

    ``run(m0)`` returns the network's model when ``refine`` is False, or runs
    the inverse problem's own optimizer (Gauss-Newton, Zohdy-Oldenburg, ...)
    from it; ``m0`` is ignored either way (kept for the common call).

    Parameters
    ----------
    inv_prob : simpeg.inverse_problem.BaseInvProblem
    directiveList : list, optional
    estimator : ResNetInverter, path or shipped name, optional
    refine : bool
        Refine the network's model with ``inv_prob.opt``.
    set_reference : bool
        Use the network's model as the regularisation's reference model.
    """

    def __init__(
        self,
        inv_prob: BaseInvProblem,
        directiveList: list | None = None,
        *,
        estimator: ResNetInverter | str | pathlib.Path | None = None,
        refine: bool = True,
        set_reference: bool = True,
        **kwargs: Any,
    ) -> None:
        self.starting = CNNStartingModel(estimator, set_reference=set_reference)
        directives = [self.starting] + list(directiveList or [])
        super().__init__(inv_prob, directiveList=directives, **kwargs)
        self.refine = refine

    def run(self, m0: ArrayLike | None = None) -> NDArray[np.float64]:
        if self.refine:
            dummy = np.zeros(self.invProb.reg.mapping.shape[1]) if m0 is None else m0
            return super().run(dummy)
        self.invProb.model = cnn_model(self.invProb.dmisfit, self.starting.estimator)
        self.starting.model = self.invProb.model
        return self.invProb.model


#: Shortest step along the network's correction that ``cnn-gn`` measures: a
#: shorter best step (predicted from the correction's Jacobian product at
#: the Bostick section) keeps the Bostick section.
MIN_START_STEP = 1.0 / 16.0


def _measured_start(dmisfit, layout, model, base):
    """The start of ``cnn-gn``: the best-fitting step along the network's correction.

    ``dmisfit``: the profile's data misfit; ``layout``: its sounding layout.
    One pass at the Bostick section ``base`` takes the correction's
    Jacobian product (one tangent solve per frequency on the same
    factorisations) and so the linearised best step ``s`` in [0, 1] along
    ``model - base``; where ``s`` is at least :data:`MIN_START_STEP`,
    ``base + s (model - base)`` is measured too (a second forward solve)
    and the lower chi2 of the two wins. Returns the start and its report
    (``extra["start"]``).
    """
    from .._forward import EngineEvaluator, ForwardEngine
    from .._layout import misfit_simulations

    correction = np.asarray(model, dtype=float) - base
    n = max(layout.n_data, 1)

    def misfit(dpred):
        r = np.nan_to_num(layout.residual(dpred))
        return float(r @ r), r

    with ForwardEngine(misfit_simulations(dmisfit)) as engine:
        evaluator = EngineEvaluator(engine, layout, layout.groups)
        ev = evaluator(base, directions=correction[:, None])
        phi0, r = misfit(ev.dpred)
        b = np.nan_to_num(layout.weights * np.asarray(ev.jd, dtype=float)[:, 0])
        bb = float(b @ b)
        step = float(np.clip((b @ r) / bb, 0.0, 1.0)) if bb > 0 else 0.0
        measured = {0.0: phi0}
        if step >= MIN_START_STEP:
            measured[step], _ = misfit(evaluator(base + step * correction).dpred)
        best = min(measured, key=measured.get)
    return (
        base + best * correction,
        {
            "step": best,
            "predicted_step": step,
            "chi2": {f"{k:.4g}": v / n for k, v in measured.items()},
            "forward_solves": len(measured),
        },
    )


def run_learned(
    profile: Profile,
    method: str = "cnn",
    *,
    estimator: ResNetInverter | str | pathlib.Path | None = None,
    target_chi2: float = 1.0,
    max_iter: int | None = None,
    verbose: bool = False,
    **zo_options: Any,
) -> InversionResult:
    """Run a learned method on a profile.

    Parameters
    ----------
    profile : simpeg_zo.Profile
        Observed data: TE, TM or both for the survey-neutral network, both
        for a survey's own network.
    method : {"cnn", "cnn-gn", "cnn-zo", "cnn-zo1"}
        The network alone; Gauss-Newton from its model, also the reference
        model (with the survey-neutral network, the start is the
        better-fitting of the Bostick section it corrects and the linearised
        best step along its correction, one or two forward solves, in
        ``extra["start"]``); the default Zohdy-Oldenburg from its own
        Bostick start with the network's section as a guide
        (``ZohdyOldenburg.guide_model``: its difference from
        the start joins the subspace directions, so the steps take as much
        of it as the data ask for, at no extra forward solve);
        ``cnn-zo1``: one Zohdy-Oldenburg correction (with phase, no
        subspace stage, no step shortening) of the network's model, two
        forward solves in all (the network's model and the corrected one,
        kept only if it fits better).
    estimator : ResNetInverter, path or shipped name, optional
    **zo_options
        ``cnn-zo``: :class:`simpeg_zo.ZohdyOldenburg` options (``workers``,
        ``scheduler``, ``use_phase``).

    Returns
    -------
    simpeg_zo.InversionResult
        ``extra["inference_seconds"]`` holds the network's time (with the
        1D check of its correction); ``extra["correction_scale"]``, per
        station, the share of a survey-neutral network's correction kept.
    """
    from .._gn import gauss_newton
    from .._result import InversionResult
    from .._runs import zohdy_oldenburg

    if method not in LEARNED_METHODS:
        raise ValueError(f"unknown learned method {method!r}; choose from {', '.join(LEARNED_METHODS)}")
    loaded = _load(estimator)
    if "TIP" in profile.modes:
        logger.warning(
            "%s: the network reads TE/TM only and ignores the tipper; the tipper enters the misfit%s",
            method,
            " and the iterations" if method != "cnn" else "",
        )
    if profile.n_stations < 2:
        raise ValueError(
            f"{method} needs a profile of at least two stations (the network reads pseudo-sections), "
            f"got {profile.n_stations}; zo and gn invert a single station"
        )
    t0 = time.perf_counter()
    dmisfit = profile.data_misfit()
    layout = layout_from_misfit(dmisfit)
    model, seconds, est, spread, base, scale = _predict(layout, loaded)
    if scale is not None:
        logger.info(
            "%s: the stations' 1D responses keep %.0f-%.0f %% of the network's correction (median %.0f %%)",
            method,
            100 * scale.min(),
            100 * scale.max(),
            100 * np.median(scale),
        )
    start = {}
    if method == "cnn-gn" and base is not None:
        model, start = _measured_start(dmisfit, layout, model, base)
    before = time.perf_counter() - t0  # the network and the start's forward solves
    if method == "cnn":
        wall = time.perf_counter() - t0
        dpred = profile.dpred(model)
        chi2 = profile.chi2(dpred)
        result = InversionResult(
            method="cnn",
            model=model,
            dpred=dpred,
            chi2=chi2,
            rms_percent=profile.rms_percent(dpred),
            iterations=0,
            forward_solves=0,
            wall_seconds=wall,
            history=[{"iteration": 0, "chi2": chi2, "seconds": wall, "forward_solves": 0}],
            stop_reason="network prediction",
            target_chi2=target_chi2,
        )
    elif method == "cnn-gn":
        result = gauss_newton(
            profile,
            m0=model,
            reference=model,
            target_chi2=target_chi2,
            max_iter=max_iter,
            verbose=verbose,
            method_name="cnn-gn",
            t0=t0,
        )
    else:
        if method == "cnn-zo1":
            # one correction with phase of the network's model
            zo_options = {**zo_options, "max_iter": 1, "subspace": False, "maxIterLS": 0}
            start_options = {"m0": model, "bostick_start": False}
        else:
            # the default zo from its own Bostick start, the network's section among its subspace directions
            zo_options = {**zo_options, "max_iter": max_iter} if max_iter else zo_options
            start_options = {"bostick_start": True, "guide_model": model}
        zo_options.setdefault("use_phase", method == "cnn-zo1")
        result = zohdy_oldenburg(
            profile, target_chi2=target_chi2, verbose=verbose, method_name=method, **start_options, **zo_options
        )
        result.wall_seconds += before
        for h in result.history:
            h["seconds"] += before
    if start:  # the start's forward solves count
        result.forward_solves += start["forward_solves"]
        for h in result.history:
            h["forward_solves"] = h.get("forward_solves", 0) + start["forward_solves"]
    result.extra["inference_seconds"] = seconds
    result.extra["network"] = getattr(est, "name_", None)
    if scale is not None:
        result.extra["correction_scale"] = [float(v) for v in scale]
    if start:
        result.extra["start"] = start
    if spread is not None:
        result.extra["spread_log10"] = spread  # the network's section: one standard deviation per cell
    return result
