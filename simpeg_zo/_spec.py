"""TOML model specifications for synthetic 2D MT cases.

A specification describes a survey (stations, frequencies, modes), the noise
added to simulated data, the standard deviations assumed by inversions, and a
resistivity model: a background with layers, rectangular blocks and polygons
painted in file order (later wins), depths measured below the local ground
surface given by an optional piecewise-linear topography.  See
:func:`parse_spec` for the format and the ``presets`` folder for examples.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "SpecError",
    "Structure",
    "ModelSpec",
    "parse_spec",
    "load_spec",
    "list_presets",
    "preset_path",
]

_MODES = ("TE", "TM", "TIP")
#: The modes a spec has when it names none.
_DEFAULT_MODES = ("TE", "TM")
_DEFAULT_NOISE = {"relative": 0.02, "phase_degrees": 0.57, "seed": 0, "tipper": 0.01}
_KINDS = {"layers": "layer", "blocks": "block", "polygons": "polygon"}
_STRUCTURE_KEYS = {
    "layer": ({"top", "resistivity"}, {"bottom"}),
    "block": ({"x", "depth", "resistivity"}, set()),
    "polygon": ({"vertices", "resistivity"}, set()),
}
# ``[[model.layers]]`` style headers (whitespace and quotes allowed).
_HEADER = re.compile(
    r'^[ \t]*\[\[[ \t]*"?model"?[ \t]*\.[ \t]*"?(layers|blocks|polygons)"?[ \t]*\]\]',
    re.MULTILINE,
)


class SpecError(ValueError):
    """An invalid model specification; the message names source and key."""


def _fail(source: str, key: str, message: str) -> SpecError:
    return SpecError(f"{source}: {key} {message}" if key else f"{source}: {message}")


def _number(value: Any, key: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _fail(source, key, f"must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise _fail(source, key, f"must be finite, got {out!r}")
    return out


def _positive(value: Any, key: str, source: str, *, strict: bool = True) -> float:
    out = _number(value, key, source)
    if strict and out <= 0:
        raise _fail(source, key, f"must be > 0, got {out!r}")
    if not strict and out < 0:
        raise _fail(source, key, f"must be >= 0, got {out!r}")
    return out


def _integer(value: Any, key: str, source: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail(source, key, f"must be an integer, got {value!r}")
    if value < minimum:
        raise _fail(source, key, f"must be >= {minimum}, got {int(value)}")
    return int(value)


def _table(value: Any, key: str, source: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(source, key, f"must be a table, got {value!r}")
    return value


def _list(value: Any, key: str, source: str, *, min_length: int = 1) -> list:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise _fail(source, key, f"must be a list, got {value!r}")
    if len(value) < min_length:
        raise _fail(source, key, f"must have at least {min_length} entries, got {len(value)}")
    return list(value)


def _check_keys(table: dict, key: str, source: str, required: set, optional: set = frozenset()) -> None:
    allowed = set(required) | set(optional)
    for name in table:
        if name not in allowed:
            where = f"{key}.{name}" if key else str(name)
            expected = ", ".join(sorted(allowed))
            raise _fail(source, where, f"is not a known key (expected one of: {expected})")
    for name in sorted(required):
        if name not in table:
            raise _fail(source, f"{key}.{name}" if key else name, "is required")


def _numbers(value: Any, key: str, source: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        out = np.array(value, dtype=float).ravel()
        if out.size == 0:
            raise _fail(source, key, "must not be empty")
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise _fail(source, f"{key}[{bad[0]}]", f"must be finite, got {out[bad[0]]!r}")
        return out
    items = _list(value, key, source)
    return np.array([_number(v, f"{key}[{i}]", source) for i, v in enumerate(items)])


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.flags.writeable = False
    return array


def _stations(value: Any, source: str, key: str = "survey.stations") -> np.ndarray:
    if isinstance(value, dict):
        _check_keys(value, key, source, {"start", "stop", "count"})
        start = _number(value["start"], f"{key}.start", source)
        stop = _number(value["stop"], f"{key}.stop", source)
        count = _integer(value["count"], f"{key}.count", source, minimum=1)
        if count > 1 and stop <= start:
            raise _fail(source, f"{key}.stop", f"must be > start ({start!r}), got {stop!r}")
        return np.linspace(start, stop, count)
    out = _numbers(value, key, source)
    steps = np.flatnonzero(np.diff(out) <= 0)
    if steps.size:
        i = int(steps[0]) + 1
        got = f"got {out[i - 1]!r} then {out[i]!r}"
        raise _fail(source, key, f"must be strictly increasing, {got}")
    return out


def _frequencies(value: Any, source: str, key: str = "survey.frequencies") -> np.ndarray:
    if isinstance(value, dict):
        _check_keys(value, key, source, {"max", "min", "count"})
        fmax = _positive(value["max"], f"{key}.max", source)
        fmin = _positive(value["min"], f"{key}.min", source)
        count = _integer(value["count"], f"{key}.count", source, minimum=1)
        if fmin > fmax:
            raise _fail(source, f"{key}.min", f"must be <= max ({fmax!r}), got {fmin!r}")
        if count > 1 and fmin == fmax:
            raise _fail(source, f"{key}.min", f"must be < max when count > 1, got {fmin!r}")
        out = np.logspace(math.log10(fmax), math.log10(fmin), count)
        out[0] = fmax  # exact ends
        if count > 1:
            out[-1] = fmin
        return out
    out = _numbers(value, key, source)
    bad = np.flatnonzero(out <= 0)
    if bad.size:
        raise _fail(source, f"{key}[{bad[0]}]", f"must be > 0, got {out[bad[0]]!r}")
    out = np.sort(out)[::-1].copy()
    dup = np.flatnonzero(np.diff(out) == 0)
    if dup.size:
        raise _fail(source, key, f"has duplicate frequency {out[dup[0]]!r}")
    return out


def _modes(value: Any, source: str, key: str = "survey.modes") -> tuple[str, ...]:
    if isinstance(value, str):
        raise _fail(source, key, f"must be a list of modes, got {value!r}")
    items = _list(value, key, source)
    seen: list[str] = []
    for i, mode in enumerate(items):
        if not isinstance(mode, str) or mode.upper() not in _MODES:
            raise _fail(source, f"{key}[{i}]", f"must be 'TE', 'TM' or 'TIP', got {mode!r}")
        if mode.upper() in seen:
            raise _fail(source, f"{key}[{i}]", f"repeats mode {mode.upper()}")
        seen.append(mode.upper())
    if seen == ["TIP"]:
        raise _fail(source, key, "the tipper (TIP) needs TE or TM beside it")
    return tuple(m for m in _MODES if m in seen)


def _even_odd(vertices: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd (ray casting) point-in-polygon test, vectorised over points."""
    inside = np.zeros(x.shape, dtype=bool)
    xj, yj = vertices[-1]
    for xi, yi in vertices:
        if yi != yj:
            crosses = (yi > y) != (yj > y)
            x_cross = xi + (y - yi) * (xj - xi) / (yj - yi)
            inside ^= crosses & (x < x_cross)
        xj, yj = xi, yi
    return inside


@dataclass(frozen=True)
class Structure:
    """One painted structure of a model.

    Attributes
    ----------
    kind : str
        ``"layer"``, ``"block"`` or ``"polygon"``.
    resistivity : float
        Resistivity (ohm-m) inside the structure.
    geometry : dict
        Layer: ``{"top": float, "bottom": float}`` (``bottom`` may be
        ``inf``); block: ``{"x": (x0, x1), "depth": (d0, d1)}``; polygon:
        ``{"vertices": (n, 2) read-only array of (x, depth)}``.  Depths are
        metres below the local ground surface.
    """

    kind: str
    resistivity: float
    geometry: dict

    def __post_init__(self) -> None:
        if self.kind not in _STRUCTURE_KEYS:
            raise ValueError(f"kind must be 'layer', 'block' or 'polygon', got {self.kind!r}")
        g = dict(self.geometry)
        if self.kind == "layer":
            g = {"top": float(g["top"]), "bottom": float(g.get("bottom", math.inf))}
        elif self.kind == "block":
            g = {"x": tuple(map(float, g["x"])), "depth": tuple(map(float, g["depth"]))}
        else:
            g = {"vertices": _readonly(np.reshape(g["vertices"], (-1, 2)))}
        object.__setattr__(self, "geometry", g)
        object.__setattr__(self, "resistivity", float(self.resistivity))

    def contains(self, x: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Whether points lie inside the structure.

        Parameters
        ----------
        x, depth : array_like
            Positions along the profile and depths below the local surface
            (m), broadcast against each other.

        Returns
        -------
        numpy.ndarray of bool
            Of the broadcast shape.  Layers and blocks include their top and
            left edges and exclude their bottom and right edges.
        """
        x, depth = np.broadcast_arrays(np.asarray(x, float), np.asarray(depth, float))
        g = self.geometry
        if self.kind == "layer":
            return (depth >= g["top"]) & (depth < g["bottom"])
        if self.kind == "block":
            (x0, x1), (d0, d1) = g["x"], g["depth"]
            return (x >= x0) & (x < x1) & (depth >= d0) & (depth < d1)
        return _even_odd(g["vertices"], x, depth)

    def to_dict(self) -> dict:
        """A plain JSON-able description (an infinite bottom becomes ``None``)."""
        g = self.geometry
        if self.kind == "layer":
            bottom = None if math.isinf(g["bottom"]) else g["bottom"]
            geometry: dict = {"top": g["top"], "bottom": bottom}
        elif self.kind == "block":
            geometry = {"x": list(g["x"]), "depth": list(g["depth"])}
        else:
            geometry = {"vertices": g["vertices"].tolist()}
        return {"kind": self.kind, "resistivity": self.resistivity, **geometry}


def _structure(kind: str, table: Any, key: str, source: str) -> Structure:
    table = _table(table, key, source)
    required, optional = _STRUCTURE_KEYS[kind]
    _check_keys(table, key, source, required, optional)
    rho = _positive(table["resistivity"], f"{key}.resistivity", source)
    if kind == "layer":
        top = _positive(table["top"], f"{key}.top", source, strict=False)
        bottom = math.inf
        if "bottom" in table:
            bottom = _number(table["bottom"], f"{key}.bottom", source)
            if bottom <= top:
                raise _fail(source, f"{key}.bottom", f"must be > top ({top!r}), got {bottom!r}")
        return Structure("layer", rho, {"top": top, "bottom": bottom})
    if kind == "block":
        pairs = {}
        for name in ("x", "depth"):
            items = _list(table[name], f"{key}.{name}", source, min_length=2)
            if len(items) != 2:
                raise _fail(source, f"{key}.{name}", f"must be a pair [start, end], got {items!r}")
            lo, hi = (_number(v, f"{key}.{name}[{i}]", source) for i, v in enumerate(items))
            if hi <= lo:
                raise _fail(source, f"{key}.{name}", f"must be increasing, got [{lo!r}, {hi!r}]")
            pairs[name] = (lo, hi)
        if pairs["depth"][0] < 0:
            raise _fail(source, f"{key}.depth[0]", f"must be >= 0, got {pairs['depth'][0]!r}")
        return Structure("block", rho, pairs)
    items = _list(table["vertices"], f"{key}.vertices", source, min_length=3)
    vertices = []
    for i, pair in enumerate(items):
        where = f"{key}.vertices[{i}]"
        pair = _list(pair, where, source, min_length=2)
        if len(pair) != 2:
            raise _fail(source, where, f"must be an (x, depth) pair, got {pair!r}")
        vertices.append([_number(v, f"{where}[{j}]", source) for j, v in enumerate(pair)])
    v = np.array(vertices)
    area = 0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
    if area == 0:
        raise _fail(source, f"{key}.vertices", "enclose no area")
    return Structure("polygon", rho, {"vertices": v})


def _structures(model: dict, text: str, source: str) -> tuple[Structure, ...]:
    present = {}
    for name in model:
        if name in _KINDS:
            value = model[name]
            if isinstance(value, dict):  # a single [model.layers] table
                message = f"must be an array of tables ([[model.{name}]]), got a table"
                raise _fail(source, f"model.{name}", message)
            present[name] = _list(value, f"model.{name}", source, min_length=0)
    headers = [m.group(1) for m in _HEADER.finditer(text)]
    if all(headers.count(name) == len(items) for name, items in present.items()):
        order = headers  # file order recovered from the [[model.X]] headers
    else:  # inline arrays: the order in which the keys were defined
        order = [name for name, items in present.items() for _ in items]
    counters = dict.fromkeys(present, 0)
    out = []
    for name in order:
        i = counters[name]
        counters[name] += 1
        out.append(_structure(_KINDS[name], present[name][i], f"model.{name}[{i}]", source))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A validated synthetic 2D MT case.

    Arrays are read-only; use :meth:`replace` to derive a modified copy.
    Construction (and :meth:`replace`) validates the survey, noise, error
    and background fields and raises :class:`SpecError` on bad values.

    Attributes
    ----------
    name : str
        A label.
    stations : (n_stations,) numpy.ndarray
        Station positions along the profile (m), increasing.
    frequencies : (n_frequencies,) numpy.ndarray
        Frequencies (Hz), highest first.
    modes : tuple of str
        Subset of ``("TE", "TM", "TIP")`` in that order (TIP: the tipper
        ``Tzx``, with TE or TM).
    background : float
        Background resistivity (ohm-m).
    structures : tuple of Structure
        Painted in order, later wins.
    noise_relative, noise_phase_degrees, noise_seed
        Gaussian noise added to simulated data: relative on apparent
        resistivity, absolute in degrees on phase, and the generator seed.
    noise_tipper : float
        Absolute Gaussian noise on the tipper's real and imaginary parts.
    error_relative, error_phase_degrees, error_tipper
        Standard deviations assumed by inversions.
    topography : tuple of numpy.ndarray or None
        ``(x, elevation)`` knots of the piecewise-linear ground surface;
        ``None`` for flat ground at elevation 0.
    source : str
        Where the specification came from (used in error messages).
    """

    name: str
    stations: np.ndarray
    frequencies: np.ndarray
    modes: tuple[str, ...]
    background: float
    structures: tuple[Structure, ...] = ()
    noise_relative: float = 0.02
    noise_phase_degrees: float = 0.57
    noise_seed: int = 0
    error_relative: float = 0.02
    error_phase_degrees: float = 0.57
    noise_tipper: float = 0.01
    error_tipper: float = 0.01
    topography: tuple[np.ndarray, np.ndarray] | None = None
    source: str = "<string>"

    def __post_init__(self) -> None:
        src = str(self.source)
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("source", src)
        if not isinstance(self.name, str):
            raise _fail(src, "name", f"must be a string, got {self.name!r}")
        set_("stations", _readonly(_stations(self.stations, src)))
        set_("frequencies", _readonly(_frequencies(self.frequencies, src)))
        set_("modes", _modes(self.modes, src))
        set_("background", _positive(self.background, "model.background", src))
        structures = tuple(self.structures)
        for i, s in enumerate(structures):
            if not isinstance(s, Structure):
                raise _fail(src, f"structures[{i}]", f"must be a Structure, got {s!r}")
        set_("structures", structures)
        set_("noise_relative", _positive(self.noise_relative, "noise.relative", src, strict=False))
        set_(
            "noise_phase_degrees",
            _positive(self.noise_phase_degrees, "noise.phase_degrees", src, strict=False),
        )
        set_("noise_seed", _integer(self.noise_seed, "noise.seed", src, minimum=0))
        set_("noise_tipper", _positive(self.noise_tipper, "noise.tipper", src, strict=False))
        for key in ("relative", "phase_degrees", "tipper"):
            set_(f"error_{key}", _positive(getattr(self, f"error_{key}"), f"errors.{key}", src))
        if self.topography is not None:
            x, elevation = _topography_arrays(self.topography, src)
            set_("topography", (_readonly(x), _readonly(elevation)))

    def elevation(self, x: Any) -> np.ndarray:
        """Ground elevation (m) at positions ``x``.

        Linear between the topography knots, constant beyond the ends, and 0
        everywhere without topography.
        """
        x = np.asarray(x, dtype=float)
        if self.topography is None:
            return np.zeros_like(x)
        return np.interp(x, *self.topography)

    def resistivity(self, x: Any, depth: Any) -> np.ndarray:
        """Resistivity (ohm-m) at ``x`` (m) and ``depth`` below the local surface (m).

        The background with every structure painted over it in order; ``x``
        and ``depth`` are broadcast against each other.
        """
        x, depth = np.broadcast_arrays(np.asarray(x, float), np.asarray(depth, float))
        out = np.full(x.shape, self.background)
        for s in self.structures:
            out[s.contains(x, depth)] = s.resistivity
        return out

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed, validated again.

        Stations, frequencies and modes may be given in any form the file
        accepts (e.g. ``frequencies={"max": 1e3, "min": 1e-1, "count": 9}``).
        """
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """A plain JSON-able description (lists, floats and strings)."""
        topo = None
        if self.topography is not None:
            topo = {"x": self.topography[0].tolist(), "elevation": self.topography[1].tolist()}
        return {
            "name": self.name,
            "source": self.source,
            "survey": {
                "stations": self.stations.tolist(),
                "frequencies": self.frequencies.tolist(),
                "modes": list(self.modes),
            },
            "noise": {
                "relative": self.noise_relative,
                "phase_degrees": self.noise_phase_degrees,
                "seed": self.noise_seed,
                "tipper": self.noise_tipper,
            },
            "errors": {
                "relative": self.error_relative,
                "phase_degrees": self.error_phase_degrees,
                "tipper": self.error_tipper,
            },
            "model": {
                "background": self.background,
                "structures": [s.to_dict() for s in self.structures],
            },
            "topography": topo,
        }


def _topography_arrays(value: Any, source: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(value, dict):
        _check_keys(value, "topography", source, {"x", "elevation"})
        x, elevation = value["x"], value["elevation"]
    else:
        x, elevation = value
    x = _numbers(x, "topography.x", source)
    elevation = _numbers(elevation, "topography.elevation", source)
    if x.size != elevation.size:
        raise _fail(
            source,
            "topography.elevation",
            f"must have as many entries as topography.x ({x.size}), got {elevation.size}",
        )
    if np.any(np.diff(x) <= 0):
        raise _fail(source, "topography.x", f"must be strictly increasing, got {x.tolist()}")
    return x, elevation


def _default_name(source: str) -> str:
    if source.startswith("preset "):
        return source[len("preset ") :]
    if source.startswith("<"):
        return "spec"
    return pathlib.Path(source).stem or "spec"


def _error(errors: dict, key: str, noise: float, source: str) -> float:
    if key in errors:
        return _positive(errors[key], f"errors.{key}", source)
    if noise == 0:
        raise _fail(
            source,
            f"errors.{key}",
            f"defaults to noise.{key}, which is 0; set [errors] {key} explicitly (> 0)",
        )
    return noise


def parse_spec(text: str, *, source: str = "<string>") -> ModelSpec:
    """Parse and validate a model specification written in TOML.

    Parameters
    ----------
    text : str
        The TOML document: optional ``name``; ``[survey]`` with ``stations``
        (``{start, stop, count}`` or a list, m), ``frequencies``
        (``{max, min, count}`` log-spaced or a list, Hz) and optional
        ``modes`` (default ``["TE", "TM"]``; ``"TIP"`` adds the tipper);
        optional ``[noise]`` (``relative``, ``phase_degrees``, ``seed``,
        ``tipper``; defaults 0.02, 0.57, 0, 0.01); optional ``[errors]``
        (``relative``, ``phase_degrees``, ``tipper``; default the noise
        levels); ``[model]`` with ``background`` and arrays of
        ``layers`` (``top``, optional ``bottom``), ``blocks`` (``x``,
        ``depth`` pairs) and ``polygons`` (``vertices`` of (x, depth)), each
        with a ``resistivity``; optional ``[topography]`` (``x``,
        ``elevation``).  Depths are below the local ground surface.
        Structures are painted in file order across kinds, later wins.
    source : str
        Named in error messages and stored on the result.

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        On TOML syntax errors, unknown keys, wrong types, non-finite or
        out-of-range values; the message names the source and dotted key.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: invalid TOML: {exc}") from None
    _check_keys(doc, "", source, {"survey", "model"}, {"name", "noise", "errors", "topography"})
    name = doc.get("name", _default_name(source))
    if not isinstance(name, str):
        raise _fail(source, "name", f"must be a string, got {name!r}")

    survey = _table(doc["survey"], "survey", source)
    _check_keys(survey, "survey", source, {"stations", "frequencies"}, {"modes"})
    stations = _stations(survey["stations"], source)
    frequencies = _frequencies(survey["frequencies"], source)
    modes = _modes(survey.get("modes", list(_DEFAULT_MODES)), source)

    noise = _table(doc.get("noise", {}), "noise", source)
    _check_keys(noise, "noise", source, set(), set(_DEFAULT_NOISE))
    noise = {**_DEFAULT_NOISE, **noise}
    relative = _positive(noise["relative"], "noise.relative", source, strict=False)
    phase = _positive(noise["phase_degrees"], "noise.phase_degrees", source, strict=False)
    seed = _integer(noise["seed"], "noise.seed", source, minimum=0)
    tipper = _positive(noise["tipper"], "noise.tipper", source, strict=False)

    errors = _table(doc.get("errors", {}), "errors", source)
    _check_keys(errors, "errors", source, set(), {"relative", "phase_degrees", "tipper"})
    error_relative = _error(errors, "relative", relative, source)
    error_phase = _error(errors, "phase_degrees", phase, source)
    error_tipper = _error(errors, "tipper", tipper, source)

    model = _table(doc["model"], "model", source)
    _check_keys(model, "model", source, {"background"}, set(_KINDS))
    background = _positive(model["background"], "model.background", source)
    structures = _structures(model, text, source)

    topography = None
    if "topography" in doc:
        topography = _topography_arrays(_table(doc["topography"], "topography", source), source)

    return ModelSpec(
        name=name,
        stations=stations,
        frequencies=frequencies,
        modes=modes,
        background=background,
        structures=structures,
        noise_relative=relative,
        noise_phase_degrees=phase,
        noise_seed=seed,
        error_relative=error_relative,
        error_phase_degrees=error_phase,
        noise_tipper=tipper,
        error_tipper=error_tipper,
        topography=topography,
        source=source,
    )


def _presets_dir():
    return resources.files("simpeg_zo") / "presets"


def list_presets() -> list[str]:
    """Names of the bundled model specifications (sorted)."""
    folder = _presets_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> pathlib.Path:
    """Path of the bundled specification ``name`` (see :func:`list_presets`).

    Raises
    ------
    SpecError
        If there is no such preset.
    """
    names = list_presets()
    if name not in names:
        raise SpecError(f"preset {name}: no such preset (available: {', '.join(names) or 'none'})")
    return pathlib.Path(str(_presets_dir() / f"{name}.toml"))


def load_spec(spec: str | os.PathLike[str]) -> ModelSpec:
    """Load a model specification from a preset name or a TOML file.

    Parameters
    ----------
    spec : str or os.PathLike
        A preset name (see :func:`list_presets`), or the path of a ``.toml``
        file.  A string equal to a preset name always means the preset.

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        If the file is missing or unreadable (the message lists the
        presets) or the specification is invalid.
    """
    if isinstance(spec, str) and spec in list_presets():
        path, source = preset_path(spec), f"preset {spec}"
    else:
        path = pathlib.Path(spec)
        source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        missing = isinstance(exc, FileNotFoundError)
        reason = "no such file" if missing else f"cannot be read ({exc})"
        presets = ", ".join(list_presets()) or "none"
        raise SpecError(f"{source}: {reason}; give a .toml file or a preset: {presets}") from None
    return parse_spec(text, source=source)
