"""Field profiles: EDI files to a SimPEG-ready :class:`~simpeg_zo.Profile`.

:func:`read_edi_survey` reads, projects, rotates and converts (see
:mod:`simpeg_zo._edi` for the conventions) into an :class:`EDISurvey`;
:meth:`EDISurvey.to_profile` designs the mesh (station elevations as
topography) and attaches the data; :func:`static_shift_factors` estimates
static shifts by a spatial median filter.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._edi import (
    FREQUENCY_RTOL,
    PHASE_QUADRANT,
    SKEW_2D,
    EDIError,
    EDIStation,
    apparent_resistivity_phase,
    estimate_strike,
    match_frequency,
    phase_floor_degrees,
    phase_tensor,
    profile_tipper,
    project_stations,
    read_edi_files,
    rotate_with_missing,
    skew_band,
)
from ._field_checks import check_spread, fill_elevations, usual_stations, warn_off_line
from ._profile import TIPPER_ERROR
from ._screen import _apply_screen, _screen_counts
from ._static import apply_static_shift, static_shift_factors

if TYPE_CHECKING:
    from ._profile import Profile

__all__ = [
    "EDISurvey",
    "read_edi_survey",
    "read_edi_profile",
    "survey_from_stations",
    "profile_from_survey",
    "static_shift_factors",
    "apply_static_shift",
    "BANDS",
]

logger = logging.getLogger(__name__)

#: The ``band`` choices: ``"screen"`` (the default) keeps every frequency and
#: screens each sounding (:mod:`simpeg_zo._screen`); ``"skew"`` keeps the
#: highest frequencies whose median phase-tensor skew is below 3 degrees
#: (:func:`skew_band`; ``"auto"`` is its former name); ``"all"`` keeps every
#: frequency unscreened. Unusable data (NaN, missing variance, phase in the
#: wrong quadrant) are dropped by all three.
BANDS = ("screen", "skew", "all")


@dataclass
class EDISurvey:
    """A profile of field data ready for 2D inversion.

    Arrays are ``(n_frequencies, n_stations)``, frequencies from the highest,
    stations in order along the profile; NaN marks a datum left out.

    Attributes
    ----------
    names, files : list of str
    along, perpendicular : (n_stations,) numpy.ndarray
        From :func:`project_stations` (m).
    elevations : (n_stations,) numpy.ndarray
    frequencies : (n_frequencies,) numpy.ndarray
    line_azimuth : float
    line_fitted : bool
    strike : float
        Degrees east of north; TE has E along it.
    strike_estimated : bool
    strike_spread : float or None
        Circular spread of the phase-tensor strikes (estimated strike only).
    band : dict
        How the frequencies were chosen.
    modes : tuple of str
        ``"TE"``, ``"TM"``, and ``"TIP"`` for the tipper.
    rho, phase, rho_std, phase_std : dict
        Per impedance mode (``"TE"``, ``"TM"``), SimPEG phase convention.
    error_floor : float
        Relative floor on apparent resistivity.
    phase_floor : float
        Floor on phase (degrees).
    dropped : list of dict
        ``station``, ``mode``, ``frequency``, ``reason`` of each sounding
        left out.
    downweighted : list of dict
        ``station``, ``mode``, ``frequency``, ``reason``, ``factor`` of each
        sounding whose errors the screen multiplied by ``factor``.
    screen : dict
        Per reason, ``{"dropped": n}`` or ``{"down-weighted": n}`` (empty
        when unscreened).
    static_shift : dict
        Per mode, the factor each station's apparent resistivity was divided
        by (empty when not corrected).
    tipper, tipper_std : numpy.ndarray or None
        With ``"TIP"`` in ``modes``: :math:`T_{zx}` in SimPEG's frame
        (:func:`simpeg_zo._edi.profile_tipper`; complex, NaN where left
        out) and its standard deviation after the floor.
    tipper_floor : float
        Absolute floor on the tipper's standard deviation.
    """

    names: list
    files: list
    along: np.ndarray
    perpendicular: np.ndarray
    elevations: np.ndarray
    frequencies: np.ndarray
    line_azimuth: float
    line_fitted: bool
    strike: float
    strike_estimated: bool
    strike_spread: float | None
    band: dict
    modes: tuple
    rho: dict
    phase: dict
    rho_std: dict
    phase_std: dict
    error_floor: float
    phase_floor: float
    dropped: list = field(default_factory=list)
    static_shift: dict = field(default_factory=dict)
    downweighted: list = field(default_factory=list)
    screen: dict = field(default_factory=dict)
    tipper: np.ndarray | None = None
    tipper_std: np.ndarray | None = None
    tipper_floor: float = TIPPER_ERROR

    @property
    def n_stations(self) -> int:
        return len(self.names)

    @property
    def n_data(self) -> int:
        """Usable data (apparent resistivities and phases, tipper parts, all modes)."""
        n = sum(np.isfinite(self.rho[m]).sum() + np.isfinite(self.phase[m]).sum() for m in self.impedance_modes)
        if self.tipper is not None:
            n += 2 * np.isfinite(self.tipper).sum()
        return int(n)

    @property
    def impedance_modes(self) -> tuple:
        """``modes`` without the tipper."""
        return tuple(m for m in self.modes if m != "TIP")

    def summary(self) -> dict:
        """JSON-ready description (stations, frequencies, choices, drops)."""
        return {
            "stations": [
                {
                    "name": n,
                    "file": os.path.basename(f),
                    "along_m": float(a),
                    "distance_from_line_m": float(p),
                    "elevation_m": float(e),
                }
                for n, f, a, p, e in zip(
                    self.names, self.files, self.along, self.perpendicular, self.elevations, strict=True
                )
            ],
            "frequencies": [float(f) for f in self.frequencies],
            "modes": list(self.modes),
            "line_azimuth_deg": float(self.line_azimuth),
            "line": "best fit" if self.line_fitted else "given",
            "strike_deg": float(self.strike),
            "strike": "estimated (phase tensor)" if self.strike_estimated else "given",
            "strike_spread_deg": None if self.strike_spread is None else float(self.strike_spread),
            "band": self.band,
            "error_floor_percent": 100.0 * float(self.error_floor),
            "phase_floor_deg": float(self.phase_floor),
            **(
                {
                    "tipper_floor": float(self.tipper_floor),
                    "tipper_stations": int(np.isfinite(self.tipper).any(axis=0).sum()),
                }
                if self.tipper is not None
                else {}
            ),
            "n_data": self.n_data,
            "dropped": list(self.dropped),
            "downweighted": list(self.downweighted),
            "screen": dict(self.screen),
            "static_shift": {
                m: {n: float(v) for n, v in zip(self.names, vals, strict=True)} for m, vals in self.static_shift.items()
            },
        }


def _frequency_table(stations, rtol=FREQUENCY_RTOL):
    """All distinct frequencies (highest first) and per station the index map."""
    allf = np.sort(np.concatenate([st.frequencies for st in stations]))[::-1]
    uniq = []
    for f in allf:
        if not uniq or abs(uniq[-1] - f) > rtol * f:
            uniq.append(f)
    return np.asarray(uniq)


def _select_band(freqs, stations, fmin, fmax, frequency_step, band):
    """Frequencies kept and a description of the choice."""
    desc = {}
    keep = np.ones(freqs.size, dtype=bool)
    explicit = fmin is not None or fmax is not None
    if band == "skew" and not explicit:
        keep = skew_band(stations, freqs)
        if not keep.any():
            raise EDIError(
                "no frequency has a median phase-tensor skew below "
                f"{SKEW_2D:g} degrees; give --fmin/--fmax (or band='all')"
            )
        desc["rule"] = f"highest frequencies with median phase-tensor skew |beta| < {SKEW_2D:g} deg"
    elif explicit:
        desc["rule"] = "given limits"
    else:
        desc["rule"] = "all frequencies"
    if band == "screen":
        desc["rule"] += ", each sounding screened"
    tol = 1e-6
    if fmin is not None:
        keep &= freqs >= fmin * (1 - tol)
    if fmax is not None:
        keep &= freqs <= fmax * (1 + tol)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise EDIError(
            f"no frequency in the band fmin={fmin}, fmax={fmax} (the files have {freqs.min():.4g}-{freqs.max():.4g} Hz)"
        )
    if frequency_step < 1:
        raise ValueError(f"frequency_step must be >= 1, got {frequency_step}")
    idx = idx[::frequency_step]
    desc.update(
        {
            "fmax_hz": float(freqs[idx].max()),
            "fmin_hz": float(freqs[idx].min()),
            "frequency_step": int(frequency_step),
            "n_frequencies": int(idx.size),
            "available": int(freqs.size),
        }
    )
    return freqs[idx], desc


def _checked_band(band):
    """The band's canonical name; ValueError naming the choices."""
    band = {"auto": "skew"}.get(band, band)
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}, got {band!r}")
    return band


def _checked_options(modes, error_floor, phase_floor, tipper_floor=TIPPER_ERROR):
    """Normalised modes and phase floor; ValueError on a bad option."""
    from ._profile import _normalise_modes

    modes = _normalise_modes(modes)
    if not (np.isfinite(tipper_floor) and tipper_floor > 0):
        raise ValueError(f"tipper_floor must be > 0, got {tipper_floor}")
    if error_floor < 0 or not np.isfinite(error_floor):
        raise ValueError(f"error_floor must be >= 0, got {error_floor}")
    phase_floor = phase_floor_degrees(5.0) if phase_floor is None else float(phase_floor)
    if phase_floor < 0 or not np.isfinite(phase_floor):
        raise ValueError(f"phase_floor must be >= 0, got {phase_floor}")
    return modes, phase_floor


def read_edi_survey(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    strike: float | None = None,
    line_azimuth: float | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    frequency_step: int = 1,
    band: str = "screen",
    modes: Sequence[str] = ("TE", "TM"),
    error_floor: float = 0.10,
    phase_floor: float | None = None,
    skip_bad: bool = False,
    tipper_floor: float = TIPPER_ERROR,
) -> EDISurvey:
    """Read EDI files into TE/TM apparent resistivity and phase on a line.

    Parameters
    ----------
    source : str, os.PathLike or sequence
        A folder of ``*.edi`` files or a list of files.
    strike : float, optional
        Geoelectric strike (degrees east of north); default estimated from
        the phase tensors (:func:`estimate_strike`) and reported.
    line_azimuth : float, optional
        Profile direction; default the best-fit line.
    fmin, fmax : float, optional
        Frequency band (Hz, inclusive).
    frequency_step : int
        Keep every n-th frequency of the band (from the highest).
    band : {"screen", "skew", "all"}
        ``"screen"``: every frequency (within ``fmin``/``fmax``), each
        sounding screened (:func:`simpeg_zo.screen_soundings`: error bars,
        phase-tensor skew, outliers of its sounding curve, Weidelt's
        dispersion relation), dropped or down-weighted with its reason;
        ``"skew"`` (formerly ``"auto"``): without ``fmin``/``fmax``, the
        highest frequencies whose median phase-tensor skew is below 3
        degrees (:func:`skew_band`); ``"all"``: every frequency, unscreened.
    modes : sequence of str
        ``"TE"``, ``"TM"``, and ``"TIP"`` for the tipper (its EDI ``TX``/``TY``
        blocks, rotated with the impedance; files with no tipper or only
        zero blocks lose their tipper data, with a warning, and the survey
        is refused when no file has one).
    error_floor : float
        Relative floor on apparent resistivity (0.10: 10 %).
    phase_floor : float, optional
        Floor on phase in degrees; default :func:`phase_floor_degrees` of
        5 % (2.866 degrees).
    skip_bad : bool
        Leave unreadable files out with a warning.
    tipper_floor : float
        Absolute floor on the standard deviation of the tipper's real and
        imaginary parts (0.02; 0.02-0.03 is usual).

    Returns
    -------
    EDISurvey
        Unusable data (NaN, zero or missing variance, phase in the wrong
        quadrant) and the screen's drops are NaN and listed in ``dropped``
        with their reasons, the screen's down-weighted soundings in
        ``downweighted``; a warning (logged, so shown whatever the warning
        filters) names each station that lost data and how many.
        Frequencies left without any sounding are removed.
    """
    _checked_options(modes, error_floor, phase_floor, tipper_floor)  # before reading any file
    _checked_band(band)
    stations = read_edi_files(source, skip_bad=skip_bad)
    return survey_from_stations(
        stations,
        strike=strike,
        line_azimuth=line_azimuth,
        fmin=fmin,
        fmax=fmax,
        frequency_step=frequency_step,
        band=band,
        modes=modes,
        error_floor=error_floor,
        phase_floor=phase_floor,
        tipper_floor=tipper_floor,
    )


def survey_from_stations(
    stations: list[EDIStation],
    *,
    offsets: np.ndarray | None = None,
    strike: float | None = None,
    line_azimuth: float | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    frequency_step: int = 1,
    band: str = "screen",
    modes: tuple[str, ...] = ("TE", "TM"),
    error_floor: float = 0.10,
    phase_floor: float | None = None,
    tipper_floor: float = TIPPER_ERROR,
) -> EDISurvey:
    """Impedance tensors (and tippers) of stations to TE/TM (TIP) data on a line.

    The steps of :func:`read_edi_survey` after reading: project, choose the
    band, rotate to strike, convert, drop unusable data, apply the floors.
    Any source of :class:`~simpeg_zo.EDIStation` (EDI files, mtpy-v2, see
    :func:`simpeg_zo.read_mtpy_survey`) goes through it.

    Parameters
    ----------
    stations : list of EDIStation
    offsets : (n_stations,) array_like, optional
        Positions along the profile (m) in the order of ``stations``;
        default the projection on the line (:func:`project_stations`). The
        projection still gives the line azimuth and the distances from it.
    strike, line_azimuth, fmin, fmax, frequency_step, band, modes, error_floor, phase_floor, tipper_floor
        As in :func:`read_edi_survey`.

    Returns
    -------
    EDISurvey
    """
    modes, phase_floor = _checked_options(modes, error_floor, phase_floor, tipper_floor)
    band = _checked_band(band)
    with_tipper = "TIP" in modes
    modes_z = tuple(m for m in modes if m != "TIP")
    stations = list(stations)
    if not stations:
        raise EDIError("no stations")
    proj = project_stations([s.latitude for s in stations], [s.longitude for s in stations], azimuth=line_azimuth)
    along = proj.along
    if offsets is not None:
        along = np.asarray(offsets, dtype=float).ravel()
        if along.shape != proj.along.shape or not np.all(np.isfinite(along)):
            raise ValueError("offsets must be finite, one per station")
    order = np.argsort(along, kind="stable")
    stations = [stations[i] for i in order]
    along, perp = along[order], proj.perpendicular[order]
    if np.any(np.diff(along) <= 0):
        dup = [f"{stations[i].name} and {stations[i + 1].name}" for i in np.flatnonzero(np.diff(along) <= 0)]
        raise EDIError(f"stations at the same distance along the line: {', '.join(dup)}")
    check_spread(stations, along)
    warn_off_line(stations, along, perp, line_azimuth)
    strike_estimated = strike is None
    spread = None
    if strike_estimated:
        strike, spread = estimate_strike(stations, line_azimuth=proj.azimuth)
    freqs, band_desc = _select_band(_frequency_table(stations), stations, fmin, fmax, frequency_step, band)
    nf, ns = freqs.size, len(stations)
    out = {k: {m: np.full((nf, ns), np.nan) for m in modes_z} for k in ("rho", "phase", "rs", "ps", "rs0", "ps0")}
    skew = np.full((nf, ns), np.nan)
    dropped = []
    element = {"TE": (0, 1), "TM": (1, 0)}
    for i, st in enumerate(stations):
        z, zs = rotate_with_missing(st.impedance, strike, st.impedance_std)
        if not st.variances:  # errors from the floors alone
            logger.warning(
                "%s (%s): no impedance variances (ZXY.VAR/ZYX.VAR): errors from the floors alone (%g %%, %.3g deg)",
                st.name,
                os.path.basename(st.path),
                100.0 * error_floor,
                phase_floor,
            )
        counts = {}
        for j, f in enumerate(freqs):
            k = match_frequency(st.frequencies, f)
            if k >= 0:
                skew[j, i] = phase_tensor(z[k])[1]
            for mode in modes_z:
                if k < 0:
                    reason = "frequency missing"
                else:
                    a, b = element[mode]
                    rho, ph, rs, ps = apparent_resistivity_phase(
                        z[k : k + 1, a, b], zs[k : k + 1, a, b], st.frequencies[k : k + 1]
                    )
                    rho, ph, rs, ps = rho[0], ph[0], rs[0], ps[0]
                    if not st.variances:
                        rs, ps = 0.0, 0.0  # the floors below
                    lo, hi = PHASE_QUADRANT[mode]
                    if not (np.isfinite(rho) and np.isfinite(ph)) or rho <= 0:
                        reason = "impedance NaN or zero"
                    elif not np.isfinite(rs):
                        reason = "variance zero or missing"
                    elif not (lo <= ph <= hi):
                        reason = "phase in the wrong quadrant"
                    else:
                        reason = None
                if reason is not None:
                    dropped.append({"station": st.name, "mode": mode, "frequency": float(f), "reason": reason})
                    counts[reason] = counts.get(reason, 0) + 1
                    continue
                out["rho"][mode][j, i] = rho
                out["phase"][mode][j, i] = ph
                out["rs0"][mode][j, i], out["ps0"][mode][j, i] = rs, ps
                out["rs"][mode][j, i] = max(rs, error_floor * rho)
                out["ps"][mode][j, i] = max(ps, phase_floor)
        if counts:
            detail = ", ".join(f"{n} {r}" for r, n in counts.items())
            logger.warning(
                "%s (%s): dropped %d of %d soundings (%s)",
                st.name,
                os.path.basename(st.path),
                sum(counts.values()),
                nf * len(modes_z),
                detail,
            )
    tipper = tipper_std = None
    if with_tipper:
        tipper, tipper_std = _survey_tipper(stations, freqs, strike, proj.azimuth, tipper_floor, dropped)
    downweighted = []
    if band == "screen":
        downweighted = _apply_screen(freqs, [s.name for s in stations], modes_z, out, skew, dropped)
    screen = _screen_counts(dropped, downweighted)
    # frequencies left without any sounding
    used = np.zeros(nf, dtype=bool)
    for mode in modes_z:
        used |= np.isfinite(out["rho"][mode]).any(axis=1)
    if not used.any():
        raise EDIError("no usable sounding left in the band")
    if not used.all():
        freqs = freqs[used]
        for key in out:
            for mode in modes_z:
                out[key][mode] = out[key][mode][used]
        if tipper is not None:
            tipper, tipper_std = tipper[used], tipper_std[used]
        band_desc["n_frequencies"] = int(used.sum())
        band_desc["fmax_hz"], band_desc["fmin_hz"] = float(freqs.max()), float(freqs.min())
        band_desc["removed_without_soundings"] = int((~used).sum())
    return EDISurvey(
        names=[s.name for s in stations],
        files=[s.path for s in stations],
        along=along,
        perpendicular=perp,
        elevations=fill_elevations(stations, along),
        frequencies=freqs,
        line_azimuth=proj.azimuth,
        line_fitted=proj.fitted,
        strike=float(strike),
        strike_estimated=strike_estimated,
        strike_spread=spread,
        band=band_desc,
        modes=modes,
        rho=out["rho"],
        phase=out["phase"],
        rho_std=out["rs"],
        phase_std=out["ps"],
        error_floor=float(error_floor),
        phase_floor=phase_floor,
        dropped=dropped,
        downweighted=downweighted,
        screen=screen,
        tipper=tipper,
        tipper_std=tipper_std,
        tipper_floor=float(tipper_floor),
    )


def _survey_tipper(stations, freqs, strike, line_azimuth, floor, dropped):
    """``(tipper, std)`` on the band, ``(n_frequencies, n_stations)``; appends to ``dropped``.

    Stations without a tipper (absent or zero blocks) lose their tipper
    data, with a warning; no station with a tipper is an EDIError.
    """
    nf, ns = freqs.size, len(stations)
    tipper = np.full((nf, ns), np.nan + 0j)
    std = np.full((nf, ns), np.nan)
    without = []
    for i, st in enumerate(stations):
        if st.tipper is None:
            without.append(st.name)
            for f in freqs:
                dropped.append({"station": st.name, "mode": "TIP", "frequency": float(f), "reason": "no tipper"})
            continue
        tzx, tstd = profile_tipper(st.tipper, st.tipper_std, strike, line_azimuth)
        lost = 0
        for j, f in enumerate(freqs):
            k = match_frequency(st.frequencies, f)
            if k < 0 or not np.isfinite(tzx[k]):
                reason = "frequency missing" if k < 0 else "tipper zero or NaN"
                dropped.append({"station": st.name, "mode": "TIP", "frequency": float(f), "reason": reason})
                lost += 1
                continue
            tipper[j, i] = tzx[k]
            std[j, i] = max(float(tstd[k]) if np.isfinite(tstd[k]) else 0.0, floor)
        if lost:
            logger.warning("%s (%s): dropped %d of %d tipper values", st.name, os.path.basename(st.path), lost, nf)
    if len(without) == ns:
        raise EDIError(
            "modes include TIP, but no file has a tipper (no TX/TY blocks, or only zeros): "
            + ", ".join(os.path.basename(s.path) for s in stations[:5])
            + (" ..." if ns > 5 else "")
        )
    if without:
        logger.warning(
            "%d of %d stations have no tipper (absent or zero blocks), their tipper is not used: %s",
            len(without),
            ns,
            ", ".join(without),
        )
    return tipper, std


def _survey_to_profile(survey, *, topography, cells_per_station, resistivity_range, **mesh_options):
    from ._profile import build_profile

    rho = np.concatenate([survey.rho[m][np.isfinite(survey.rho[m])] for m in survey.impedance_modes])
    if rho.size == 0:
        raise EDIError("no usable apparent resistivity left after dropping bad data")
    if resistivity_range is None:
        usual = usual_stations(survey)
        rho = np.concatenate(
            [survey.rho[m][:, usual][np.isfinite(survey.rho[m][:, usual])] for m in survey.impedance_modes]
        )
        lo, hi = np.percentile(rho, [2, 98])
        resistivity_range = (float(lo) / 2.0, float(hi) * 2.0)
    profile = build_profile(
        survey.along,
        survey.frequencies,
        modes=survey.modes,
        elevation=survey.elevations if topography else None,
        resistivity_range=resistivity_range,
        cells_per_station=cells_per_station,
        station_names=survey.names,
        **mesh_options,
    )
    dobs = {m: profile.join(survey.rho[m], survey.phase[m]) for m in survey.impedance_modes}
    floor = {m: profile.join(survey.rho_std[m], survey.phase_std[m]) for m in survey.impedance_modes}
    if survey.tipper is not None and "TIP" in survey.modes:
        dobs["TIP"] = profile.join(survey.tipper.real, survey.tipper.imag)
        floor["TIP"] = profile.join(survey.tipper_std, survey.tipper_std)
    profile.set_data(
        dobs,
        relative_error=max(survey.error_floor, 1e-12),
        phase_error_degrees=max(survey.phase_floor, 1e-12),
        floor=floor,
        tipper_error=survey.tipper_floor,
    )
    return profile


def read_edi_profile(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    static_shift: bool = False,
    topography: bool = True,
    cells_per_station: int = 4,
    resistivity_range: tuple[float, float] | None = None,
    mesh_options: dict | None = None,
    **survey_options: Any,
) -> tuple[Profile, EDISurvey]:
    """EDI files to a :class:`~simpeg_zo.Profile` with observed data.

    Parameters
    ----------
    source : str, os.PathLike or sequence
        A folder of EDI files or a list of files.
    static_shift : bool
        Correct static shifts first (:func:`static_shift_factors`).
    topography : bool
        Use the station elevations as topography (linear between stations).
    cells_per_station : int
        Horizontal core cells per (median) station interval.
    resistivity_range : (2,) tuple, optional
        Mesh design range; default half the 2nd and twice the 98th
        percentile of the observed apparent resistivities.
    mesh_options : dict, optional
        More options of :func:`simpeg_zo.build_profile`.
    **survey_options
        Options of :func:`read_edi_survey` (``strike``, ``line_azimuth``,
        ``fmin``, ``fmax``, ``frequency_step``, ``band``, ``modes``,
        ``error_floor``, ``phase_floor``, ``skip_bad``).

    Returns
    -------
    profile : Profile
    survey : EDISurvey
        What was read, chosen and dropped (``survey.summary()`` is
        JSON-ready).

    Examples
    --------
    >>> from simpeg_zo import read_edi_profile  # doctest: +SKIP
    >>> profile, survey = read_edi_profile("edi_folder", fmin=1.0, strike=7.0)  # doctest: +SKIP
    """
    survey = read_edi_survey(source, **survey_options)
    return profile_from_survey(
        survey,
        static_shift=static_shift,
        topography=topography,
        cells_per_station=cells_per_station,
        resistivity_range=resistivity_range,
        mesh_options=mesh_options,
    )


def profile_from_survey(
    survey: EDISurvey,
    *,
    static_shift: bool = False,
    topography: bool = True,
    cells_per_station: int = 4,
    resistivity_range: tuple[float, float] | None = None,
    mesh_options: dict | None = None,
) -> tuple[Profile, EDISurvey]:
    """An :class:`EDISurvey` to a :class:`~simpeg_zo.Profile` with its data.

    The second half of :func:`read_edi_profile` (options as there), for
    surveys from any source.

    Returns
    -------
    profile : Profile
    survey : EDISurvey
        ``survey``, with its static shifts when ``static_shift``.
    """
    if static_shift:
        survey = apply_static_shift(survey, static_shift_factors(survey))
    profile = _survey_to_profile(
        survey,
        topography=topography,
        cells_per_station=cells_per_station,
        resistivity_range=resistivity_range,
        **(mesh_options or {}),
    )
    return profile, survey
