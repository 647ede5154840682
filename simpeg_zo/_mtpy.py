r"""mtpy-v2 data to a :class:`~simpeg_zo.Profile`.

mtpy-v2 (``pip install -e ".[mtpy]"``) keeps transfer functions in an
``MTData`` tree (``MTCollection.to_mt_data()`` gives one) and hands them to
other programs as a data frame, one row per station and period
(``MTData.to_dataframe()``; ``MTData.to_simpeg_2d()`` wraps the same frame in
impedance units of ohm). The frame's impedance tensor (``z_xx`` ... ``z_yy``),
its standard deviations (``z_*_error``) or mtpy's model errors
(``z_*_model_error``, from ``MTData.compute_model_errors()``), the station
coordinates and elevations become :class:`~simpeg_zo.EDIStation` objects
(:func:`stations_from_mt_dataframe`, pure, no mtpy import), which then take
the EDI path's own steps (:func:`~simpeg_zo._field.survey_from_stations`):
projection on the line, band, rotation to strike, TE/TM conversion, drops and
error floors. A profile read from mtpy is therefore the profile
:func:`simpeg_zo.read_edi_profile` builds from the same EDI files.

Conventions
-----------
* mtpy-v2's SimPEG export maps TE to ``Z_xy`` (SimPEG ``"yx"`` receivers)
  and TM to ``Z_yx`` (SimPEG ``"xy"``): the convention of this package
  (TE is ``Simulation2DMagneticField`` with ``"yx"``, TM
  ``Simulation2DElectricField`` with ``"xy"``), applied here after rotation
  to the strike.
* Impedances in mtpy's ``"mt"`` units (mV/km/nT) as in EDI files; frames in
  ohm (``to_simpeg_2d``) are converted (:math:`Z_{mt} = Z_{ohm} / (\mu_0
  \cdot 10^3)`).
* The tipper (``t_zx``, ``t_zy`` and their errors, z down as in EDI files)
  goes with the impedance: with ``modes`` including ``"TIP"`` it is rotated
  onto the profile (:func:`simpeg_zo._edi.profile_tipper`); all-zero
  columns (mtpy's filler) mean no tipper.
* Positions along the profile: the projection of the latitudes and
  longitudes on the best-fit line (as for EDI files), or mtpy's own
  ``profile_offset`` (``offsets="mtpy"``, e.g. after ``MTData.get_profile``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._edi import EDIError, EDIStation, clean_tipper
from ._field import EDISurvey, profile_from_survey, survey_from_stations

if TYPE_CHECKING:
    import pandas as pd

    from ._profile import Profile

__all__ = [
    "stations_from_mt_dataframe",
    "mt_dataframe",
    "read_mtpy_survey",
    "read_mtpy_profile",
]

#: Impedance in mV/km/nT per ohm: 1 / (mu0 * 1e3).
OHM_TO_MT = 1.0e4 / (4.0 * np.pi)
_COMPONENTS = (("xx", 0, 0), ("xy", 0, 1), ("yx", 1, 0), ("yy", 1, 1))
_ERRORS = {"data": "_error", "model": "_model_error"}


def _column(frame, name, default=np.nan):
    if name in frame.columns:
        return frame[name].to_numpy()
    return np.full(len(frame), default)


def _station_keys(frame) -> list:
    """One key per row: the station name (``survey.station`` for a name in several surveys)."""
    stations = [str(s) for s in frame["station"].to_numpy()]
    if "survey" not in frame.columns:
        return stations
    surveys = [str(s) for s in frame["survey"].to_numpy()]
    seen = {}
    for su, st in zip(surveys, stations, strict=True):
        seen.setdefault(st, set()).add(su)
    return [f"{su}.{st}" if len(seen[st]) > 1 else st for su, st in zip(surveys, stations, strict=True)]


def stations_from_mt_dataframe(
    frame: pd.DataFrame, *, errors: str = "data", impedance_units: str = "mt"
) -> list[EDIStation]:
    """Impedance tensors of an mtpy-v2 data frame, one station each.

    Parameters
    ----------
    frame : pandas.DataFrame
        mtpy-v2's layout (``MTData.to_dataframe()``): one row per station
        and period with ``station``, ``period``, ``latitude``,
        ``longitude``, ``elevation``, complex ``z_xx``, ``z_xy``, ``z_yx``,
        ``z_yy`` and their ``z_*_error`` / ``z_*_model_error``. ``survey``
        and ``profile_offset`` are optional.
    errors : {"data", "model"}
        Standard deviations: the measured ones (``z_*_error``, the EDI
        variances) or mtpy's model errors (``z_*_model_error``, set by
        ``MTData.compute_model_errors()``). The error floors of
        :func:`simpeg_zo.read_edi_survey` apply on top of either.
    impedance_units : {"mt", "ohm"}
        Units of the frame's impedances: mV/km/nT (``to_dataframe()``'s
        default) or ohm (``to_simpeg_2d().dataframe``).

    Returns
    -------
    list of EDIStation
        In order of first appearance; frequencies from the highest, as in
        EDI files; ``path`` is ``"mtpy:<survey>/<station>"``.

    Raises
    ------
    ValueError
        Missing columns, unknown ``errors`` or units, or ``errors="model"``
        with no model errors in the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(
    ...     {
    ...         "station": ["a", "a"],
    ...         "period": [0.1, 1.0],
    ...         "latitude": -30.0,
    ...         "longitude": 139.0,
    ...         "elevation": 50.0,
    ...         "z_xy": [10 + 10j, 3 + 3j],
    ...         "z_yx": [-10 - 10j, -3 - 3j],
    ...         "z_xy_error": 0.5,
    ...         "z_yx_error": 0.5,
    ...     }
    ... )
    >>> [st] = stations_from_mt_dataframe(frame)
    >>> st.frequencies, st.impedance.shape
    (array([10.,  1.]), (2, 2, 2))
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'data' or 'model', got {errors!r}")
    units = str(impedance_units).lower()
    if units not in ("mt", "ohm"):
        raise ValueError(f"impedance_units must be 'mt' or 'ohm', got {impedance_units!r}")
    missing = [c for c in ("station", "period", "latitude", "longitude") if c not in frame.columns]
    if not {"z_xy", "z_yx"} <= set(frame.columns):
        missing.append("z_xy/z_yx")
    if missing:
        raise ValueError(f"the frame has no column {', '.join(missing)} (mtpy-v2 MTData.to_dataframe() layout)")
    scale = OHM_TO_MT if units == "ohm" else 1.0
    suffix = _ERRORS[errors]
    keys = np.asarray(_station_keys(frame))
    surveys = _column(frame, "survey", "")
    period = np.asarray(frame["period"].to_numpy(), dtype=float)
    z = np.zeros((len(frame), 2, 2), dtype=complex)
    zs = np.full((len(frame), 2, 2), np.nan)
    for comp, a, b in _COMPONENTS:
        z[:, a, b] = np.asarray(_column(frame, f"z_{comp}", 0.0), dtype=complex) * scale
        zs[:, a, b] = np.asarray(_column(frame, f"z_{comp}{suffix}"), dtype=float) * scale
    if errors == "model":
        off = zs[:, [0, 1], [1, 0]]
        if not np.any(np.isfinite(off) & (off > 0)):
            raise ValueError(
                "the frame has no model errors (z_xy_model_error, z_yx_model_error); "
                "call MTData.compute_model_errors() first or use errors='data'"
            )
    t = np.zeros((len(frame), 2), dtype=complex)
    ts = np.full((len(frame), 2), np.nan)
    for col, comp in enumerate(("zx", "zy")):
        t[:, col] = np.asarray(_column(frame, f"t_{comp}", 0.0), dtype=complex)
        ts[:, col] = np.asarray(_column(frame, f"t_{comp}{suffix}"), dtype=float)
    lat, lon = _column(frame, "latitude"), _column(frame, "longitude")
    elev = _column(frame, "elevation", 0.0)
    out = []
    for key in dict.fromkeys(keys):
        rows = np.flatnonzero(keys == key)
        ok = np.isfinite(period[rows]) & (period[rows] > 0)
        rows = rows[ok][np.argsort(period[rows][ok], kind="stable")]  # highest frequency first
        if rows.size == 0:
            raise ValueError(f"station {key}: no positive periods")
        e = float(elev[rows[0]])
        tipper, tipper_std = clean_tipper(t[rows], ts[rows])
        out.append(
            EDIStation(
                name=str(key),
                path=f"mtpy:{surveys[rows[0]]}/{frame['station'].iloc[rows[0]]}",
                latitude=float(lat[rows[0]]),
                longitude=float(lon[rows[0]]),
                elevation=e if np.isfinite(e) else 0.0,
                frequencies=1.0 / period[rows],
                impedance=z[rows],
                impedance_std=zs[rows],
                tipper=tipper,
                tipper_std=tipper_std,
            )
        )
    return out


def _frame_offsets(frame, stations) -> np.ndarray:
    """The ``profile_offset`` column at each station's first row."""
    if "profile_offset" not in frame.columns:
        raise ValueError("offsets='mtpy' needs a profile_offset column")
    keys = np.asarray(_station_keys(frame))
    values = np.asarray(frame["profile_offset"].to_numpy(), dtype=float)
    offsets = np.array([values[np.flatnonzero(keys == st.name)[0]] for st in stations])
    if offsets.size > 1 and np.all(offsets == offsets[0]):
        raise ValueError(
            "mtpy's profile_offset is the same for every station (not computed); "
            "use offsets='project' or MTData.get_profile(...) first"
        )
    return offsets


def mt_dataframe(data: Any, *, impedance_units: str = "mt") -> tuple[pd.DataFrame, str]:
    """The mtpy-v2 data frame of any mtpy-v2 container, and its units.

    Parameters
    ----------
    data : MTData, MTCollection, Simpeg2DData, MTDataFrame or pandas.DataFrame
        ``MTCollection`` through ``to_mt_data()``, ``MTData`` through
        ``to_dataframe(impedance_units="mt")``, mtpy's SimPEG 2D object
        (``MTData.to_simpeg_2d()``) through its ``dataframe`` (ohm).
    impedance_units : {"mt", "ohm"}
        Units of a plain frame (ignored for the containers, whose units are
        known).

    Returns
    -------
    frame : pandas.DataFrame
    impedance_units : str
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data, impedance_units
    if hasattr(data, "to_mt_data"):  # MTCollection
        data = data.to_mt_data()
    if hasattr(data, "to_dataframe") and hasattr(data, "add_station"):  # MTData
        return data.to_dataframe(impedance_units="mt"), "mt"
    if hasattr(data, "component_map") and hasattr(data, "dataframe"):  # Simpeg2DData
        return data.dataframe, "ohm"
    frame = getattr(data, "dataframe", None)  # MTDataFrame
    if isinstance(frame, pd.DataFrame):
        return frame, impedance_units
    raise TypeError(
        "expected an mtpy-v2 MTData, MTCollection, Simpeg2DData, MTDataFrame or a "
        f"pandas DataFrame, got {type(data).__name__}"
    )


def read_mtpy_survey(
    data: Any,
    *,
    errors: str = "data",
    offsets: str = "project",
    impedance_units: str = "mt",
    **survey_options: Any,
) -> EDISurvey:
    """mtpy-v2 data to TE/TM apparent resistivity and phase on a line.

    Parameters
    ----------
    data : MTData, MTCollection, Simpeg2DData, MTDataFrame or pandas.DataFrame
        See :func:`mt_dataframe`.
    errors : {"data", "model"}
        See :func:`stations_from_mt_dataframe`.
    offsets : {"project", "mtpy"}
        Station positions along the profile: the projection on the line
        (as :func:`simpeg_zo.read_edi_survey`) or mtpy's ``profile_offset``.
    impedance_units : {"mt", "ohm"}
        Units of a plain data frame.
    **survey_options
        As in :func:`simpeg_zo.read_edi_survey` (``strike``,
        ``line_azimuth``, ``fmin``, ``fmax``, ``frequency_step``, ``band``,
        ``modes``, ``error_floor``, ``phase_floor``).

    Returns
    -------
    EDISurvey
    """
    if offsets not in ("project", "mtpy"):
        raise ValueError(f"offsets must be 'project' or 'mtpy', got {offsets!r}")
    frame, units = mt_dataframe(data, impedance_units=impedance_units)
    stations = stations_from_mt_dataframe(frame, errors=errors, impedance_units=units)
    if offsets == "project":
        lat = np.array([s.latitude for s in stations])
        lon = np.array([s.longitude for s in stations])
        if lat.size > 1 and np.all(lat == lat[0]) and np.all(lon == lon[0]):
            raise EDIError(
                "all stations have the same coordinates (none in the data?); "
                "use offsets='mtpy' to take mtpy's profile_offset"
            )
        along = None
    else:
        along = _frame_offsets(frame, stations)
    return survey_from_stations(stations, offsets=along, **survey_options)


def read_mtpy_profile(
    data: Any,
    *,
    errors: str = "data",
    offsets: str = "project",
    impedance_units: str = "mt",
    static_shift: bool = False,
    topography: bool = True,
    cells_per_station: int = 4,
    resistivity_range: tuple[float, float] | None = None,
    mesh_options: dict | None = None,
    **survey_options: Any,
) -> tuple[Profile, EDISurvey]:
    """mtpy-v2 data to a :class:`~simpeg_zo.Profile` with observed data.

    The mtpy-v2 counterpart of :func:`simpeg_zo.read_edi_profile`, with the
    same steps and defaults: the result works with every inverter
    (:func:`simpeg_zo.invert_profile`, :func:`simpeg_zo.run_method`, a
    SimPEG inversion on ``profile.data_misfit()``).

    Parameters
    ----------
    data : MTData, MTCollection, Simpeg2DData, MTDataFrame or pandas.DataFrame
        See :func:`mt_dataframe`.
    errors, offsets, impedance_units
        See :func:`read_mtpy_survey`.
    static_shift, topography, cells_per_station, resistivity_range, mesh_options
        As in :func:`simpeg_zo.read_edi_profile`.
    **survey_options
        As in :func:`simpeg_zo.read_edi_survey`.

    Returns
    -------
    profile : Profile
    survey : EDISurvey

    Examples
    --------
    >>> from mtpy import MTData  # doctest: +SKIP
    >>> mt_data = MTData()  # doctest: +SKIP
    >>> mt_data.add_station(sorted(Path("edi_folder").glob("*.edi")))  # doctest: +SKIP
    >>> profile, survey = read_mtpy_profile(mt_data, fmin=1.0, strike=7.0)  # doctest: +SKIP
    """
    survey = read_mtpy_survey(data, errors=errors, offsets=offsets, impedance_units=impedance_units, **survey_options)
    return profile_from_survey(
        survey,
        static_shift=static_shift,
        topography=topography,
        cells_per_station=cells_per_station,
        resistivity_range=resistivity_range,
        mesh_options=mesh_options,
    )
