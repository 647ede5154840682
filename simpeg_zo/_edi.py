r"""Field MT data from EDI files: reading, projection, rotation, conversion.

Pure functions and plain data; nothing here knows about meshes or
inversions (:mod:`simpeg_zo._field` turns an :class:`EDISurvey` into a
:class:`~simpeg_zo.Profile`).

Conventions
-----------
* Coordinates: x north, y east, z down (the EDI convention); azimuths in
  degrees east of north.
* Impedance in the EDI's field units (mV/km/nT), so
  :math:`\rho_a = |Z|^2 / (5 f)` (ohm-m) and the phase is ``angle(Z)``.
  With the usual time dependence the xy phase of a 1D earth lies in the
  first quadrant and the yx phase in the third.
* Rotating by the strike angle :math:`\theta` puts x' along strike:
  TE (E along strike) is :math:`Z'_{xy}`, TM is :math:`Z'_{yx}`. In SimPEG's
  2D frame (profile along x, strike along y) TE is its ``"yx"`` receiver
  (phase in the first quadrant) and TM its ``"xy"`` receiver (third
  quadrant), so the field phases are used as they are.
* Standard deviations: the relative error of the impedance
  :math:`e = \sigma_Z / |Z|` gives :math:`\sigma_\rho = 2 e \rho_a` and
  :math:`\sigma_\varphi = \arcsin(e)` (degrees); error floors as Occam2D
  users set them (10 % on apparent resistivity, "5 %" on phase, i.e.
  :math:`\arcsin(0.05) = 2.866` degrees) replace smaller values.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._tensor import estimate_strike, phase_tensor, rotate_impedance, rotate_with_missing

logger = logging.getLogger(__name__)

__all__ = [
    "EDIError",
    "EDIStation",
    "LineProjection",
    "read_edi",
    "read_edi_files",
    "project_stations",
    "rotate_impedance",
    "rotate_with_missing",
    "profile_tipper",
    "phase_tensor",
    "estimate_strike",
    "skew_band",
    "apparent_resistivity_phase",
    "phase_floor_degrees",
    "match_frequency",
]


EARTH_RADIUS = 6371008.8
#: Expected phase range (degrees) of each mode, SimPEG's convention.
PHASE_QUADRANT = {"TE": (0.0, 90.0), "TM": (-180.0, -90.0)}
#: Phase-tensor skew (degrees) below which data are taken as 2D.
SKEW_2D = 3.0


class EDIError(ValueError):
    """An EDI file that cannot be used; the message names the file."""


def phase_floor_degrees(percent: float) -> float:
    """Phase error floor in degrees from an impedance floor in percent.

    Occam2D and mtpy users give the phase floor as a percentage of the
    impedance: ``arcsin(p / 100)`` in degrees (5 % is 2.866 degrees).

    Examples
    --------
    >>> round(phase_floor_degrees(5.0), 3)
    2.866
    """
    return float(np.degrees(np.arcsin(min(float(percent) / 100.0, 1.0))))


@dataclass(frozen=True)
class EDIStation:
    """The impedance tensor of one EDI file.

    Attributes
    ----------
    name : str
    path : str
    latitude, longitude, elevation : float
        Decimal degrees and metres.
    frequencies : (n_frequencies,) numpy.ndarray
        Hz, as in the file.
    impedance : (n_frequencies, 2, 2) numpy.ndarray of complex
        Z (mV/km/nT), x north, y east.
    impedance_std : (n_frequencies, 2, 2) numpy.ndarray
        Standard deviation of each element (square root of the file's
        variance; NaN where the file has none).
    tipper : (n_frequencies, 2) numpy.ndarray of complex or None
        ``(Tzx, Tzy)``: x north, y east, z down (the EDI convention); NaN
        at frequencies where both are zero (filler) or not finite; None when
        the file has no tipper or only zero blocks.
    tipper_std : (n_frequencies, 2) numpy.ndarray or None
        Standard deviation of each element (NaN where the file has none).
    variances : bool
        Whether the file has variance blocks for the impedance (``ZXY.VAR``,
        ``ZYX.VAR``); optional in the EDI standard. Without them the
        readers take the error floors alone.

    Missing elements (the EDI filler 1.0E+32, or an off-diagonal element of
    exactly zero, which is no measurement) are NaN in ``impedance`` and
    ``impedance_std``.
    """

    name: str
    path: str
    latitude: float
    longitude: float
    elevation: float
    frequencies: np.ndarray
    impedance: np.ndarray
    impedance_std: np.ndarray
    tipper: np.ndarray | None = None
    tipper_std: np.ndarray | None = None
    variances: bool = True


#: Magnitudes from this on are the EDI "no data" filler (1.0E+32), not values.
EDI_EMPTY = 1e31


def _file_order(blocks: dict, name: str, freq: np.ndarray) -> np.ndarray | None:
    """A ``>NAME`` block's values in mt-metadata's frequency order (None where absent or of another length)."""
    values, file_freq = blocks.get(name), blocks.get("FREQ", np.zeros(0))
    if values is None or values.size != file_freq.size or file_freq.size != freq.size:
        return None
    order = np.array([match_frequency(file_freq, f) for f in freq])
    return values[order] if np.all(order >= 0) else None


def _missing_elements(z: np.ndarray, blocks: dict, freq: np.ndarray) -> np.ndarray:
    """Which impedance elements hold no measurement: not finite, the filler, or a zero off-diagonal.

    The filler is looked up in the file's text (``blocks``, in its own
    frequency order), as mt-metadata may have replaced it.
    """
    missing = ~np.isfinite(z) | (np.abs(z) >= EDI_EMPTY)
    off = np.zeros((2, 2), dtype=bool)
    off[0, 1] = off[1, 0] = True
    missing |= off & (z == 0)
    for (a, b), name in zip(((0, 0), (0, 1), (1, 0), (1, 1)), ("ZXX", "ZXY", "ZYX", "ZYY"), strict=True):
        for part in ("R", "I"):
            values = _file_order(blocks, name + part, freq)
            if values is not None:
                with np.errstate(invalid="ignore"):
                    missing[:, a, b] |= np.abs(values) >= EDI_EMPTY
    return missing


@contextlib.contextmanager
def _quiet_mt_metadata():
    """Silence mt-metadata's loguru messages while reading one file.

    mt-metadata logs through loguru (to stdout, at INFO); its remarks on a
    file are replaced by this module's :class:`EDIError` messages. Only
    mt-metadata's own records are switched off, and only inside the block.
    """
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover
        yield
        return
    logger.disable("mt_metadata")
    try:
        yield
    finally:
        logger.enable("mt_metadata")


def _header_has(path, key) -> bool:
    try:
        with open(path, errors="replace") as fh:
            for line in fh:
                text = line.strip().upper()
                if text.startswith(">") and not text.startswith(">HEAD"):
                    return False
                if text.startswith(key.upper()):
                    return True
    except OSError:
        return False
    return False


#: An elevation in the header: a number, optionally followed by m or ft.
_ELEVATION = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(m|ft|feet)?", re.IGNORECASE)


def _elevation(path, read) -> float:
    """The station elevation (m): the header's ELEV (``m`` or ``ft`` after it allowed), else REFELEV.

    mt-metadata reads an ELEV with a unit after it as 0, and a missing one
    as REFELEV or 0; a station at 0 m among neighbours at 1,300 m would
    carve a pit into the topography. NaN where the file gives no readable
    elevation (the profile then takes one from its neighbours).
    """
    for key in ("ELEV", "REFELEV"):
        given = _header_value(path, key)
        if given is None:
            continue
        match = _ELEVATION.fullmatch(given.strip())
        if match is None:
            return float("nan")
        value = float(match.group(1))
        return value * 0.3048 if (match.group(2) or "m").lower() in ("ft", "feet") else value
    try:
        value = float(read)
    except (TypeError, ValueError):
        return float("nan")
    # mt-metadata's value without any header key: its default 0 is no elevation
    return float("nan") if value == 0.0 or not np.isfinite(value) else value


def _header_value(path, key) -> str | None:
    """The text after ``KEY=`` in the ``>HEAD`` block, or None."""
    try:
        with open(path, errors="replace") as fh:
            for line in fh:
                text = line.strip()
                if text.startswith(">") and not text.upper().startswith(">HEAD"):
                    return None
                name, sep, value = text.partition("=")
                if sep and name.strip().upper() == key:
                    return value.strip().strip('"')
    except OSError:
        return None
    return None


def _coordinate(text: str) -> float:
    """Decimal degrees from ``-30.21`` or ``-30:12:48.5``; NaN if unreadable."""
    try:
        if ":" in text:
            parts = [float(v) for v in text.split(":")]
            sign = -1.0 if text.strip().startswith("-") else 1.0
            return sign * sum(abs(v) / 60.0**k for k, v in enumerate(parts))
        return float(text)
    except ValueError:
        return float("nan")


_REQUIRED_BLOCKS = ("ZXYR", "ZXYI", "ZYXR", "ZYXI")


def _check_blocks(path, blocks, n_frequencies):
    """Raise EDIError if an impedance block is missing or short.

    mt-metadata fills missing or truncated blocks with zeros; a partial file
    must not pass as data. ``blocks``: the file's :func:`_text_blocks`.
    """
    counts = {name: values.size for name, values in blocks.items()}
    for block in ("FREQ", *_REQUIRED_BLOCKS):
        if block not in counts:
            what = "frequencies" if block == "FREQ" else "impedance tensor: ZXYR/ZXYI/ZYXR/ZYXI"
            raise EDIError(f"{path}: no >{block} block (no {what})")
        if counts[block] != n_frequencies:
            raise EDIError(
                f"{path}: block >{block} has {counts[block]} values, expected {n_frequencies} "
                "(truncated or partial file?)"
            )


def read_edi(path: str | os.PathLike) -> EDIStation:
    """Read one EDI file with mt-metadata.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    EDIStation

    Raises
    ------
    EDIError
        When the file is missing, unreadable, has no impedance, no
        coordinates, or frequencies and impedances of different lengths; the
        message starts with the file name.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise EDIError(f"{path}: no such file")
    with _quiet_mt_metadata():
        return _read_edi(path)


def _read_edi(path) -> EDIStation:
    from mt_metadata.transfer_functions.core import TF

    blocks = _text_blocks(path)
    # a missing or short block is named before mt-metadata trips over it
    _check_blocks(path, blocks, blocks["FREQ"].size if "FREQ" in blocks else 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tf = TF(fn=path)
            tf.read()
    except Exception as err:  # mt-metadata raises many kinds
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise EDIError(f"{path}: cannot be read as an EDI file ({msg})") from None
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero period of a damaged file
            freq = np.asarray(tf.frequency, dtype=float)
        has_z = bool(tf.has_impedance())
    except Exception:
        freq, has_z = np.zeros(0), False
    if freq.size == 0:
        raise EDIError(f"{path}: no frequencies (missing >FREQ block?)")
    if not has_z:
        raise EDIError(f"{path}: no impedance tensor (ZXYR/ZXYI/ZYXR/ZYXI blocks)")
    z = np.asarray(tf.impedance.values, dtype=complex)
    if z.shape != (freq.size, 2, 2):
        raise EDIError(f"{path}: impedance has shape {z.shape}, expected ({freq.size}, 2, 2) (truncated data blocks?)")
    _check_blocks(path, blocks, freq.size)
    _warn_repeated_frequencies(path, freq, z)
    if not _has_end(path):
        logger.warning("%s: no >END line: the file may be cut short", path)
    if not np.all(np.isfinite(freq)) or np.any(freq <= 0):
        raise EDIError(f"{path}: frequencies must be positive and finite")
    try:
        err = np.asarray(tf.impedance_error.values, dtype=float)
    except Exception:
        err = np.full(z.shape, np.nan)
    if err.shape != z.shape:
        err = np.full(z.shape, np.nan)
    variances = any(f"{e}.VAR" in blocks for e in ("ZXY", "ZYX"))
    if not variances:
        err = np.full(z.shape, np.nan)
    missing = _missing_elements(z, blocks, freq)
    z, err = np.where(missing, np.nan, z), np.where(missing, np.nan, err)
    zrot = _file_order(blocks, "ZROT", freq)
    if zrot is not None and np.any(zrot != 0):
        # data given in axes turned by ZROT (x towards ZROT, clockwise from north): back to north/east
        if not np.all(np.isfinite(zrot)):
            raise EDIError(f"{path}: block >ZROT has values that are not numbers")
        turned = [rotate_with_missing(z[k], -zrot[k], err[k]) for k in range(freq.size)]
        z, err = np.array([t[0] for t in turned]), np.array([t[1] for t in turned])
    lat, lon = float(tf.latitude or 0.0), float(tf.longitude or 0.0)
    if not (_header_has(path, "LAT") and _header_has(path, "LONG")) and lat == 0 and lon == 0:
        raise EDIError(f"{path}: no station coordinates (LAT/LONG in >HEAD)")
    for key, limit in (("LAT", 90.0), ("LONG", 360.0)):
        # mt-metadata replaces an unreadable LAT/LONG by the >=DEFINEMEAS
        # reference silently: the header's own value decides
        given = _header_value(path, key)
        if given is not None and not abs(_coordinate(given)) <= limit:
            raise EDIError(f"{path}: invalid coordinate {key}={given!r} in >HEAD")
    if not (np.isfinite(lat) and np.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 360:
        raise EDIError(f"{path}: invalid coordinates LAT={lat}, LONG={lon}")
    elev = _elevation(path, tf.elevation)
    name = str(tf.station or os.path.splitext(os.path.basename(path))[0])
    tipper, tipper_std = _read_tipper(tf, blocks, freq)
    trot = _file_order(blocks, "TROT", freq)
    trot = zrot if trot is None else trot  # without TROT the tipper shares the impedance's axes
    if tipper is not None and trot is not None and np.all(np.isfinite(trot)) and np.any(trot != 0):
        t = np.radians(trot)
        c, sn = np.cos(t), np.sin(t)
        # T' = R T with R = [[c, s], [-s, c]]: back with the transpose
        tipper = np.stack([c * tipper[:, 0] - sn * tipper[:, 1], sn * tipper[:, 0] + c * tipper[:, 1]], axis=-1)
        if tipper_std is not None:
            vx, vy = tipper_std[:, 0] ** 2, tipper_std[:, 1] ** 2
            tipper_std = np.sqrt(np.stack([c**2 * vx + sn**2 * vy, sn**2 * vx + c**2 * vy], axis=-1))
    return EDIStation(
        name=name,
        path=path,
        latitude=lat,
        longitude=lon,
        elevation=elev,
        frequencies=freq,
        impedance=z,
        impedance_std=err,
        tipper=tipper,
        tipper_std=tipper_std,
        variances=variances,
    )


#: EDI tipper blocks as some programs write them (without the standard
#: ``.EXP`` suffix, which mt-metadata reads): real, imaginary, variance.
_TIPPER_BLOCKS = {"TX": ("TXR", "TXI", "TX.VAR"), "TY": ("TYR", "TYI", "TY.VAR")}


def _warn_repeated_frequencies(path, freq, z):
    """Warn where a frequency appears twice (the readers use the first) and its impedances differ."""
    order = np.argsort(freq)
    f, zz = freq[order], z[order]
    same = np.flatnonzero(np.abs(np.diff(f)) <= FREQUENCY_RTOL * f[1:])
    for i in same:
        differ = not np.allclose(zz[i], zz[i + 1], rtol=1e-6, equal_nan=True)
        logger.warning(
            "%s: frequency %.6g Hz appears twice%s; the first is used",
            path,
            f[i],
            " with different impedances" if differ else "",
        )


def _has_end(path) -> bool:
    """Whether the file has its closing ``>END`` line."""
    with open(path, errors="replace") as fh:
        return any(line.strip().upper().startswith(">END") for line in fh)


def _text_blocks(path):
    """Every ``>NAME`` data block of an EDI file as an array of numbers (NaN for a word that is none)."""
    blocks, current = {}, None
    with open(path, errors="replace") as fh:
        for line in fh:
            text = line.strip()
            if text.startswith(">"):
                words = text[1:].split()
                current = words[0].upper() if words and not words[0].startswith("!") else None
                if current is not None:
                    blocks[current] = []
                continue
            if current is not None:
                for word in text.split():
                    try:
                        blocks[current].append(float(word))
                    except ValueError:
                        blocks[current].append(np.nan)
    return {k: np.asarray(v, dtype=float) for k, v in blocks.items()}


def _read_tipper(tf, blocks, freq):
    """The file's tipper ``(n, 2)`` and its standard deviations, or (None, None).

    Through mt-metadata (the standard ``TXR.EXP`` ... blocks); blocks
    without the ``.EXP`` suffix, which mt-metadata skips, are read from the
    text and matched to mt-metadata's frequency order. Frequencies where
    both elements are zero (the filler of files without a tipper) become
    NaN; a file whose tipper is all zero or absent gives None.
    """
    t = terr = None
    try:
        if tf.has_tipper():
            t = np.asarray(tf.tipper.values, dtype=complex).reshape(freq.size, 2)
            terr = np.asarray(tf.tipper_error.values, dtype=float).reshape(freq.size, 2)
    except Exception:  # an unusual tipper layout: read the text below
        t = terr = None
    if t is None:
        parts = {n: _file_order(blocks, n, freq) for pair in _TIPPER_BLOCKS.values() for n in pair}
        if all(parts[n] is not None for pair in _TIPPER_BLOCKS.values() for n in pair[:2]):
            t = np.zeros((freq.size, 2), dtype=complex)
            terr = np.full((freq.size, 2), np.nan)
            for col, (re_name, im_name, var_name) in enumerate(_TIPPER_BLOCKS.values()):
                # parts set apart: 1j * inf would warn (clean_tipper drops non-finite values either way)
                t[:, col].real, t[:, col].imag = parts[re_name], parts[im_name]
                if parts[var_name] is not None:
                    terr[:, col] = np.sqrt(np.abs(parts[var_name]))
    if t is None:
        return None, None
    return clean_tipper(t, terr)


def clean_tipper(tipper, tipper_std):
    """``(tipper, std)`` with filler removed, or ``(None, None)``.

    A frequency whose two elements are both zero (how programs fill a
    missing tipper) or not finite becomes NaN; no usable frequency gives
    ``(None, None)``; non-positive standard deviations become NaN.
    """
    t = np.asarray(tipper, dtype=complex).reshape(-1, 2)
    terr = np.asarray(tipper_std, dtype=float).reshape(-1, 2)
    filler = ~np.isfinite(t).all(axis=1) | np.all(t == 0, axis=1)
    t = np.where(filler[:, None], np.nan + 0j, t)
    if not np.isfinite(t).any():
        return None, None
    return t, np.where(np.isfinite(terr) & (terr > 0), terr, np.nan)


def profile_tipper(
    tipper: ArrayLike, tipper_std: ArrayLike | None, strike: float, line_azimuth: float
) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
    r"""The tipper of a 2D profile, :math:`T_{zx}` in SimPEG's frame.

    The EDI tipper ``(Tzx, Tzy)`` (x north, y east, z down) is projected on
    the direction across strike, :math:`\beta = \theta + 90^\circ`, turned
    to point along the line (azimuth ``line_azimuth``, the direction of
    increasing distance), and its sign changed for SimPEG's z up:
    :math:`T = -s\,(T_x \cos\beta + T_y \sin\beta)` with
    :math:`s = \operatorname{sign}\cos(\beta - \alpha)`. The impedance is
    rotated to the same strike, so TE, TM and the tipper share one frame.

    Parameters
    ----------
    tipper : (n, 2) array_like of complex
    tipper_std : (n, 2) array_like or None
        Standard deviations of the two elements (NaN where unknown).
    strike, line_azimuth : float
        Degrees east of north.

    Returns
    -------
    tzx : (n,) numpy.ndarray of complex
    std : (n,) numpy.ndarray
        NaN where an element's standard deviation is unknown.

    Examples
    --------
    A line to the east across a north strike: the east component, sign
    changed (z up).

    >>> t, _ = profile_tipper(np.array([[0.1 + 0j, 0.3 + 0.1j]]), None, 0.0, 90.0)
    >>> complex(np.round(t[0], 6))
    (-0.3-0.1j)
    """
    t = np.asarray(tipper, dtype=complex).reshape(-1, 2)
    beta = np.radians(float(strike) + 90.0)
    sign = 1.0 if np.cos(beta - np.radians(float(line_azimuth))) >= 0 else -1.0
    c, s_ = np.cos(beta), np.sin(beta)
    tzx = -sign * (t[:, 0] * c + t[:, 1] * s_)
    if tipper_std is None:
        return tzx, np.full(tzx.shape, np.nan)
    e = np.asarray(tipper_std, dtype=float).reshape(-1, 2)
    return tzx, np.sqrt((e[:, 0] * c) ** 2 + (e[:, 1] * s_) ** 2)


def _edi_paths(source) -> list:
    if isinstance(source, (str, os.PathLike)):
        source = os.fspath(source)
        if os.path.isdir(source):
            paths = sorted(os.path.join(source, n) for n in os.listdir(source) if n.lower().endswith(".edi"))
            if not paths:
                raise EDIError(f"{source}: no .edi files in this folder")
            return paths
        if os.path.isfile(source):
            return [source]
        raise EDIError(f"{source}: no such file or folder")
    paths = [os.fspath(p) for p in source]
    if not paths:
        raise EDIError("no EDI files given")
    return paths


def read_edi_files(
    source: str | os.PathLike | Sequence[str | os.PathLike], *, skip_bad: bool = False
) -> list[EDIStation]:
    """Read a folder (its ``*.edi`` files) or a list of EDI files.

    Parameters
    ----------
    source : str, os.PathLike or sequence of them
    skip_bad : bool
        Leave unreadable files out with a warning instead of raising.

    Returns
    -------
    list of EDIStation
        In file-name order (use :func:`project_stations` to order them
        along the profile).
    """
    stations, names = [], {}
    for path in _edi_paths(source):
        try:
            st = read_edi(path)
            if st.name in names:
                raise EDIError(f"{path}: station name {st.name!r} also used by {names[st.name]}")
        except EDIError as err:
            if not skip_bad:
                raise
            logger.warning("skipping %s", err)
            continue
        names[st.name] = path
        stations.append(st)
    if not stations:
        raise EDIError("no usable EDI file")
    return stations


@dataclass(frozen=True)
class LineProjection:
    """Stations projected on a straight line.

    Attributes
    ----------
    along : (n,) numpy.ndarray
        Distance along the line (m), 0 at the first station.
    perpendicular : (n,) numpy.ndarray
        Signed distance from the line (m, positive to the right looking
        along the line).
    azimuth : float
        Line direction, degrees east of north in [0, 180).
    fitted : bool
        Whether the azimuth is the best-fit line (False: given).
    """

    along: np.ndarray
    perpendicular: np.ndarray
    azimuth: float
    fitted: bool


def project_stations(latitudes: ArrayLike, longitudes: ArrayLike, *, azimuth: float | None = None) -> LineProjection:
    """Project stations on the best-fit straight line (or a given one).

    A local equirectangular projection about the mean position; the best
    line is the principal axis of the station positions (total least
    squares), through their centroid.

    Parameters
    ----------
    latitudes, longitudes : (n,) array_like
        Decimal degrees.
    azimuth : float, optional
        Line direction in degrees east of north; default the best fit.

    Returns
    -------
    LineProjection
    """
    lat = np.asarray(latitudes, dtype=float)
    lon = np.asarray(longitudes, dtype=float)
    lat0, lon0 = lat.mean(), lon.mean()
    north = np.radians(lat - lat0) * EARTH_RADIUS
    east = np.radians(lon - lon0) * EARTH_RADIUS * np.cos(np.radians(lat0))
    fitted = azimuth is None
    if fitted:
        if lat.size < 2:
            azimuth = 90.0
        else:
            xy = np.c_[east, north]
            _, _, vt = np.linalg.svd(xy - xy.mean(axis=0), full_matrices=False)
            azimuth = float(np.degrees(np.arctan2(vt[0, 0], vt[0, 1])))
    azimuth = float(np.mod(azimuth, 180.0))
    a = np.radians(azimuth)
    ux, uy = np.sin(a), np.cos(a)  # unit vector (east, north)
    # east/north are relative to the centroid: the line passes through it
    along = east * ux + north * uy
    perp = east * uy - north * ux
    return LineProjection(along=along - along.min(), perpendicular=perp, azimuth=azimuth, fitted=fitted)


def skew_band(stations, frequencies, *, threshold: float = SKEW_2D) -> np.ndarray:
    """The highest-frequency band whose data look 2D.

    Frequencies from the highest down to the first whose median phase-tensor
    skew ``|beta|`` over the stations reaches ``threshold`` degrees.

    Parameters
    ----------
    stations : list of EDIStation
    frequencies : (n,) numpy.ndarray
        Candidate frequencies (Hz), any order.
    threshold : float

    Returns
    -------
    (n,) numpy.ndarray of bool
        Which of ``frequencies`` are in the band.
    """
    frequencies = np.asarray(frequencies, dtype=float)
    med = np.full(frequencies.size, np.nan)
    for k, f in enumerate(frequencies):
        vals = []
        for st in stations:
            j = match_frequency(st.frequencies, f)
            if j >= 0:
                vals.append(abs(phase_tensor(st.impedance[j])[1]))
        vals = np.asarray(vals)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            med[k] = np.median(vals)
    keep = np.zeros(frequencies.size, dtype=bool)
    for k in np.argsort(-frequencies):
        if not (np.isfinite(med[k]) and med[k] < threshold):
            break
        keep[k] = True
    return keep


#: Relative tolerance within which two files' frequencies are one: files
#: written with three significant digits (0.117 for 0.1171875) still match,
#: and MT frequencies are at least 5 % apart (40 per decade).
FREQUENCY_RTOL = 1e-2


def match_frequency(values, f, rtol=FREQUENCY_RTOL) -> int:
    """Index of the value in ``values`` nearest ``f`` within a relative tolerance, or -1."""
    d = np.abs(np.asarray(values, dtype=float) - f)
    if d.size == 0:
        return -1
    i = int(np.argmin(d))
    return i if d[i] <= rtol * f else -1


def apparent_resistivity_phase(impedance, impedance_std, frequencies):
    """Apparent resistivity and phase of one impedance element.

    Parameters
    ----------
    impedance : (n,) numpy.ndarray of complex
        mV/km/nT.
    impedance_std : (n,) numpy.ndarray
    frequencies : (n,) numpy.ndarray

    Returns
    -------
    rho, phase, rho_std, phase_std : numpy.ndarray
        ohm-m, degrees in (-180, 180], ohm-m, degrees (NaN std where the
        file has no usable variance).

    Examples
    --------
    >>> import numpy as np
    >>> rho, phase, _, _ = apparent_resistivity_phase(np.array([10 + 10j]), np.array([0.5]), np.array([8.0]))
    >>> float(np.round(rho[0], 3)), float(phase[0])
    (5.0, 45.0)
    """
    z = np.asarray(impedance, dtype=complex)
    f = np.asarray(frequencies, dtype=float)
    with np.errstate(all="ignore"):
        rho = np.abs(z) ** 2 / (5.0 * f)
        phase = np.degrees(np.angle(z))
        rel = np.asarray(impedance_std, dtype=float) / np.abs(z)
        rel = np.where(np.isfinite(rel) & (rel > 0), rel, np.nan)
        rho_std = 2.0 * rel * rho
        phase_std = np.degrees(np.arcsin(np.minimum(rel, 1.0)))
    return rho, phase, rho_std, phase_std
