"""Checks of a field survey's stations before a mesh is built: line geometry, elevations, odd stations.

Each names the stations it concerns, in a warning or an :class:`~simpeg_zo.EDIError`.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from ._edi import EDIError, project_stations

logger = logging.getLogger(__name__)

__all__ = ["check_spread", "fill_elevations", "usual_stations", "warn_off_line"]


def fill_elevations(stations, along):
    """Station elevations, those a file does not give (NaN) linear between its neighbours', with a warning."""
    elev = np.array([s.elevation for s in stations], dtype=float)
    lost = ~np.isfinite(elev)
    if lost.any():
        named = ", ".join(f"{s.name} ({os.path.basename(s.path)})" for s, x in zip(stations, lost, strict=True) if x)
        if lost.all():
            logger.warning("no station gives a readable elevation (ELEV in >HEAD): the profile is flat at 0 m")
            return np.zeros(elev.size)
        elev[lost] = np.interp(along[lost], along[~lost], elev[~lost])
        logger.warning("no readable elevation (ELEV in >HEAD) at %s: taken between the neighbours'", named)
    return elev


#: A station farther than this many median station spacings from the line
#: is named in a warning (2D inversion puts it on the line).
OFF_LINE_SPACINGS = 2.0


def warn_off_line(stations, along, perp, line_azimuth):
    """Warn of stations far off the line and of a given azimuth far from the stations' own line."""
    if len(stations) < 3:
        return
    spacing = float(np.median(np.diff(along)))
    off = np.flatnonzero(np.abs(perp) > OFF_LINE_SPACINGS * spacing)
    if off.size:
        logger.warning(
            "%d station(s) lie more than %g median spacings (%.4g m) off the line, projected onto it: %s",
            off.size,
            OFF_LINE_SPACINGS,
            OFF_LINE_SPACINGS * spacing,
            ", ".join(f"{stations[i].name} ({perp[i]:+.4g} m)" for i in off),
        )
    if line_azimuth is not None:
        fitted = project_stations([s.latitude for s in stations], [s.longitude for s in stations]).azimuth
        turn = abs((float(line_azimuth) - fitted + 90.0) % 180.0 - 90.0)
        if turn > 30.0:
            logger.warning(
                "the given line azimuth %.4g deg is %.0f deg off the stations' own line (%.4g deg)",
                line_azimuth,
                turn,
                fitted,
            )


#: A gap this many times longer than the rest of the line together is taken
#: for a coordinate error: its mesh would be mostly that gap (field lines:
#: Paralana 0.17, Capricorn cp2 0.72, two AMT clusters 4.5 km apart 1.1; a
#: latitude that lost its sign 2,200, another survey's file 170).
MAX_GAP_RATIO = 20.0


def check_spread(stations, along):
    """Raise EDIError where one gap makes up nearly the whole line (a coordinate error)."""
    gaps = np.diff(along)
    if gaps.size < 2:
        return
    i = int(np.argmax(gaps))
    rest = float(gaps.sum() - gaps[i])
    if gaps[i] > MAX_GAP_RATIO * rest:
        raise EDIError(
            f"the stations span {(along[-1] - along[0]) / 1e3:.4g} km, {gaps[i] / 1e3:.4g} km of it one gap "
            f"between {stations[i].name} ({os.path.basename(stations[i].path)}) and {stations[i + 1].name} "
            f"({os.path.basename(stations[i + 1].path)}), {gaps[i] / max(rest, 1e-9):.3g} times the rest of the "
            "line: check their LAT/LONG (a lost sign, another survey's file), or invert the two parts apart"
        )


#: A station whose median apparent resistivity lies this many decades from
#: the other stations' is named in a warning and does not size the mesh
#: (an impedance in ohm instead of mV/km/nT is 5.8 decades off).
ODD_STATION_DECADES = 3.0


def usual_stations(survey):
    """Which stations size the mesh: all but those whose apparent resistivities are decades off the others'."""
    ns = len(survey.names)
    logs = np.full(ns, np.nan)
    for j in range(ns):
        values = np.concatenate([survey.rho[m][:, j] for m in survey.impedance_modes])
        values = values[np.isfinite(values) & (values > 0)]
        if values.size:
            logs[j] = np.median(np.log10(values))
    usual = np.isfinite(logs)
    if usual.sum() < 3:  # too few to tell an odd one
        return np.ones(ns, dtype=bool)
    centre = np.median(logs[usual])
    odd = usual & (np.abs(logs - centre) > ODD_STATION_DECADES)
    if odd.any():
        logger.warning(
            "apparent resistivities %s decades from the other stations' (units of the impedance?): %s; "
            "they do not size the mesh",
            f"more than {ODD_STATION_DECADES:g}",
            ", ".join(f"{survey.names[j]} ({logs[j] - centre:+.1f})" for j in np.flatnonzero(odd)),
        )
    return usual & ~odd
