"""Tests of the TOML model specifications (simpeg_zo._spec)."""

import json
import math
import re

import numpy as np
import pytest

from simpeg_zo._spec import (
    ModelSpec,
    SpecError,
    Structure,
    list_presets,
    load_spec,
    parse_spec,
    preset_path,
)

EXAMPLE = """\
name = "block-topo"
[survey]
stations = { start = 0.0, stop = 4000.0, count = 41 }
frequencies = { max = 1.0e4, min = 1.0e-2, count = 61 }
modes = ["TE", "TM"]
[noise]
relative = 0.02
phase_degrees = 0.57
seed = 0
[errors]
relative = 0.05
phase_degrees = 1.43
[model]
background = 100.0
[[model.layers]]
top = 500.0
bottom = 1000.0
resistivity = 10.0
[[model.blocks]]
x = [1200.0, 2800.0]
depth = [500.0, 650.0]
resistivity = 500.0
[[model.polygons]]
vertices = [[1000.0, 0.0], [1400.0, 0.0], [2400.0, 3000.0], [2000.0, 3000.0]]
resistivity = 5.0
[topography]
x = [0.0, 2000.0, 4000.0]
elevation = [0.0, 60.0, 0.0]
"""

MINIMAL = """\
[survey]
stations = [0.0, 100.0, 200.0]
frequencies = [10.0, 1.0]
[model]
background = 100.0
"""


def spec_with(extra: str = "", *, survey: str | None = None, model: str = "") -> str:
    """A minimal valid document with extra top-level text and model tables."""
    survey = survey or "stations = [0.0, 100.0]\nfrequencies = [10.0, 1.0]"
    return f"{extra}\n[survey]\n{survey}\n[model]\nbackground = 100.0\n{model}\n"


# ----------------------------------------------------------------- example
def test_example_parses():
    spec = parse_spec(EXAMPLE, source="ex.toml")
    assert spec.name == "block-topo" and spec.source == "ex.toml"
    assert spec.stations.shape == (41,) and spec.stations[1] == 100.0
    assert spec.frequencies.shape == (61,)
    assert spec.frequencies[0] == 1e4 and spec.frequencies[-1] == 1e-2
    assert np.all(np.diff(spec.frequencies) < 0)
    assert spec.modes == ("TE", "TM")
    assert [s.kind for s in spec.structures] == ["layer", "block", "polygon"]
    assert (spec.noise_relative, spec.noise_phase_degrees, spec.noise_seed) == (0.02, 0.57, 0)
    assert (spec.error_relative, spec.error_phase_degrees) == (0.05, 1.43)
    assert spec.background == 100.0


def test_example_paints():
    spec = parse_spec(EXAMPLE)
    x = np.array([2500.0, 1200.0, 3500.0, 100.0, 3000.0, 1250.0, 2500.0])
    d = np.array([600.0, 100.0, 700.0, 50.0, 2000.0, 600.0, 650.0])
    rho = spec.resistivity(x, d)
    assert rho[0] == 500.0  # block over layer
    assert rho[1] == 5.0  # polygon near the surface
    assert rho[2] == 10.0  # layer
    assert rho[3] == 100.0
    assert rho[4] == 100.0
    assert rho[5] == 5.0  # polygon painted after the block
    assert rho[6] == 10.0  # block bottom exclusive: the layer shows


def test_resistivity_broadcasts():
    spec = parse_spec(EXAMPLE)
    rho = spec.resistivity(np.array([[2500.0], [3500.0]]), np.array([10.0, 600.0, 5000.0]))
    assert rho.shape == (2, 3)
    np.testing.assert_array_equal(rho, [[100.0, 500.0, 100.0], [100.0, 10.0, 100.0]])


def test_interleaved_headers_paint_in_file_order():
    model = """
[[model.blocks]]
x = [0.0, 100.0]
depth = [0.0, 100.0]
resistivity = 1.0
[[ model . layers ]]
top = 0.0
resistivity = 2.0
[[model.blocks]]
x = [0.0, 50.0]
depth = [0.0, 50.0]
resistivity = 3.0
[[model.polygons]]
vertices = [[60.0, 60.0], [90.0, 60.0], [90.0, 90.0]]
resistivity = 4.0
[[model.layers]]
top = 500.0
bottom = 600.0
resistivity = 5.0
"""
    spec = parse_spec(spec_with(model=model))
    assert [s.kind for s in spec.structures] == ["block", "layer", "block", "polygon", "layer"]
    assert [s.resistivity for s in spec.structures] == [1.0, 2.0, 3.0, 4.0, 5.0]
    # the layer (2) covers the first block; the second block (3) and polygon (4) win
    rho = spec.resistivity([70.0, 25.0, 85.0, 75.0], [80.0, 25.0, 70.0, 550.0])
    np.testing.assert_array_equal(rho, [2.0, 3.0, 4.0, 5.0])
    assert math.isinf(spec.structures[1].geometry["bottom"])


def test_inline_arrays_use_key_order():
    model = """
blocks = [{ x = [0.0, 100.0], depth = [0.0, 100.0], resistivity = 1.0 }]
layers = [{ top = 0.0, bottom = 200.0, resistivity = 2.0 }]
"""
    spec = parse_spec(spec_with(model=model))
    assert [s.kind for s in spec.structures] == ["block", "layer"]
    assert spec.resistivity(50.0, 50.0) == 2.0


def test_depth_below_local_surface():
    spec = parse_spec(EXAMPLE)
    np.testing.assert_allclose(
        spec.elevation([-100.0, 0.0, 1000.0, 2000.0, 3000.0, 5000.0]), [0.0, 0.0, 30.0, 60.0, 30.0, 0.0]
    )
    # the block top is 500 m below the local surface wherever it is
    block = spec.structures[1]
    assert block.contains(2000.0, 500.0) and not block.contains(2000.0, 499.0)
    # without topography the ground is flat at 0
    assert np.all(parse_spec(MINIMAL).elevation([1.0, 2.0]) == 0.0)
    one = parse_spec(spec_with("[topography]\nx = [5.0]\nelevation = [12.0]"))
    np.testing.assert_array_equal(one.elevation([-1e4, 0.0, 1e4]), 12.0)


def test_structure_boundaries_and_polygon():
    layer = Structure("layer", 10.0, {"top": 0.0, "bottom": 10.0})
    np.testing.assert_array_equal(layer.contains(0.0, [0.0, 9.99, 10.0]), [True, True, False])
    block = Structure("block", 1.0, {"x": (0.0, 1.0), "depth": (0.0, 1.0)})
    inside = block.contains([0.0, 1.0, 0.5], [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(inside, [True, False, False])
    poly = Structure("polygon", 1.0, {"vertices": [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]})
    inside = poly.contains([0.5, 1.5, -0.1], [0.5, 1.5, 0.5])
    np.testing.assert_array_equal(inside, [True, False, False])
    assert not poly.geometry["vertices"].flags.writeable


def test_defaults_and_case():
    spec = parse_spec(MINIMAL)
    assert spec.modes == ("TE", "TM")
    assert (spec.noise_relative, spec.noise_phase_degrees, spec.noise_seed) == (0.02, 0.57, 0)
    assert (spec.error_relative, spec.error_phase_degrees) == (0.02, 0.57)
    assert spec.structures == () and spec.topography is None
    assert spec.name == "spec"
    survey = 'stations = [0.0]\nfrequencies = [1.0, 10.0]\nmodes = ["tm", "te"]'
    spec = parse_spec(spec_with("[noise]\nrelative = 0.1", survey=survey))
    assert spec.modes == ("TE", "TM")
    assert spec.frequencies.tolist() == [10.0, 1.0]
    assert (spec.noise_relative, spec.noise_phase_degrees) == (0.1, 0.57)
    assert (spec.error_relative, spec.error_phase_degrees) == (0.1, 0.57)
    exact = parse_spec(
        spec_with("[noise]\nrelative = 0\nphase_degrees = 0\n[errors]\nrelative = 0.05\nphase_degrees = 1.0")
    )
    assert (exact.noise_relative, exact.noise_phase_degrees) == (0.0, 0.0)
    assert (exact.error_relative, exact.error_phase_degrees) == (0.05, 1.0)


def test_arrays_read_only_and_to_dict_json():
    spec = parse_spec(EXAMPLE)
    for array in (spec.stations, spec.frequencies, *spec.topography):
        assert not array.flags.writeable
    data = json.loads(json.dumps(spec.to_dict(), allow_nan=False))
    assert data["survey"]["modes"] == ["TE", "TM"]
    assert data["model"]["structures"][1] == {
        "kind": "block",
        "resistivity": 500.0,
        "x": [1200.0, 2800.0],
        "depth": [500.0, 650.0],
    }
    assert data["topography"]["elevation"] == [0.0, 60.0, 0.0]
    open_layer = parse_spec(spec_with(model="[[model.layers]]\ntop = 1.0\nresistivity = 1.0"))
    assert open_layer.to_dict()["model"]["structures"][0]["bottom"] is None


# ----------------------------------------------------------------- presets
@pytest.mark.parametrize(
    "name, n_stations, length, n_freq, fmax, fmin",
    [
        ("h-layers", 41, 4000.0, 61, 1e3, 1e-3),
        ("rugged-faults", 101, 20000.0, 38, 10**2.5, 10**-2.96),
        ("block-topo", 41, 4000.0, 61, 1e4, 1e-2),
    ],
)
def test_presets(name, n_stations, length, n_freq, fmax, fmin):
    assert name in list_presets()
    assert preset_path(name).is_file()
    spec = load_spec(name)
    assert spec.name == name and spec.source == f"preset {name}"
    assert spec.stations.size == n_stations
    assert spec.stations[0] == 0.0 and spec.stations[-1] == length
    assert spec.frequencies.size == n_freq
    assert spec.frequencies[0] == pytest.approx(fmax)
    assert spec.frequencies[-1] == pytest.approx(fmin)
    np.testing.assert_allclose(
        np.diff(np.log10(spec.frequencies)), (math.log10(fmin) - math.log10(fmax)) / (n_freq - 1)
    )
    assert spec.modes == ("TE", "TM")
    assert (spec.noise_relative, spec.noise_phase_degrees, spec.noise_seed) == (0.02, 0.57, 0)
    assert (spec.error_relative, spec.error_phase_degrees) == (0.05, 1.43)
    # the preset text starts with a comment; loading by path gives the same
    assert preset_path(name).read_text().startswith("#")
    assert load_spec(preset_path(name)).stations.size == n_stations


def test_preset_h_layers():
    spec = load_spec("h-layers")
    assert spec.topography is None
    np.testing.assert_array_equal(
        spec.resistivity(100.0, [0.0, 499.0, 500.0, 999.0, 1000.0, 1e5]), [100.0, 100.0, 10.0, 10.0, 1000.0, 1000.0]
    )


def test_preset_block_topo():
    spec = load_spec("block-topo")
    (block,) = spec.structures
    assert block.kind == "block" and block.resistivity == 500.0
    assert block.geometry == {"x": (1200.0, 2800.0), "depth": (500.0, 650.0)}
    elevation = spec.elevation(np.linspace(0.0, 4000.0, 401))
    assert elevation.max() - elevation.min() == pytest.approx(60.0)
    assert spec.background == 100.0
    assert spec.resistivity(2000.0, 575.0) == 500.0 and spec.resistivity(2000.0, 700.0) == 100.0


def test_preset_rugged_faults():
    spec = load_spec("rugged-faults")
    x, elevation = spec.topography
    assert elevation.max() - elevation.min() == pytest.approx(500.0)
    assert spec.background == 100.0
    assert spec.structures[-1].kind == "polygon"  # the fault cuts the layers
    assert spec.resistivity(2000.0, 600.0) == 20.0  # shallow conductor
    assert spec.resistivity(2000.0, 2000.0) == 1000.0
    assert spec.resistivity(2000.0, 4200.0) == 5.0
    fault_x = 8230.0 + 2000.0 / math.tan(math.radians(60.0))  # centre at 2 km depth
    assert spec.resistivity(fault_x, 2000.0) == 10.0
    assert spec.resistivity(fault_x - 400.0, 2000.0) == 1000.0


# ----------------------------------------------------------------- errors
def _survey(text: str) -> str:
    return spec_with(survey=text)


def _stations(value: str) -> str:
    return spec_with(survey=f"stations = {value}\nfrequencies = [1.0]")


def _frequencies(value: str) -> str:
    return spec_with(survey=f"stations = [0.0]\nfrequencies = {value}")


def _modes(value: str) -> str:
    return spec_with(survey=f"stations = [0.0]\nfrequencies = [1.0]\nmodes = {value}")


def _model(text: str) -> str:
    return spec_with(model=text)


def _background(value: str) -> str:
    return spec_with().replace("background = 100.0", f"background = {value}")


BLOCK = "[[model.blocks]]\nx = [0.0, 1.0]\ndepth = [0.0, 1.0]\nresistivity = 1.0\n"
LAYER = "[[model.layers]]\ntop = 0.0\nresistivity = 1.0\n"


def _polygon(vertices: str, resistivity: str = "1.0") -> str:
    return _model(f"[[model.polygons]]\nvertices = {vertices}\nresistivity = {resistivity}")


def _block(x: str = "[0.0, 1.0]", depth: str = "[0.0, 1.0]") -> str:
    return _model(f"[[model.blocks]]\nx = {x}\ndepth = {depth}\nresistivity = 1.0")


def _topography(text: str) -> str:
    return spec_with(f"[topography]\n{text}")


TRIANGLE = "[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]"
ERRORS = [
    # unknown keys at several levels
    (spec_with("colour = 1"), r"colour is not a known key"),
    (_survey("stations = [0.0]\nfrequencies = [1.0]\nextra = 1"), r"survey\.extra"),
    (_stations("{start = 0.0, stop = 1.0, count = 2, step = 1}"), r"survey\.stations\.step"),
    (spec_with("[noise]\nlevel = 1"), r"noise\.level"),
    (spec_with("[errors]\nabsolute = 1"), r"errors\.absolute"),
    (_model("thickness = 1"), r"model\.thickness"),
    (_model(BLOCK + BLOCK + "color = 'r'"), r"model\.blocks\[1\]\.color is not a known key"),
    (_topography("x = [0.0]\nelevation = [0.0]\nz = 1"), r"topography\.z"),
    # missing required keys
    ("[model]\nbackground = 1.0", r"survey is required"),
    (_model("[[model.layers]]\nresistivity = 1.0"), r"model\.layers\[0\]\.top is required"),
    (_model(BLOCK.replace("x = ", "y = ")), r"model\.blocks\[0\]\.y is not a known key"),
    # resistivities
    (
        _model(LAYER + BLOCK + BLOCK.replace("= 1.0\n", "= -5.0\n")),
        r"model\.blocks\[1\]\.resistivity must be > 0, got -5\.0",
    ),
    (_model(LAYER.replace("= 1.0", "= 0")), r"model\.layers\[0\]\.resistivity must be > 0"),
    (_polygon(TRIANGLE, "inf"), r"model\.polygons\[0\]\.resistivity must be finite"),
    (_background("-1.0"), r"model\.background must be > 0"),
    (_background("0.0"), r"model\.background must be > 0"),
    # empty ranges and bad survey values
    (_stations("{start = 0.0, stop = 1.0, count = 0}"), r"survey\.stations\.count must be >= 1"),
    (_stations("[]"), r"survey\.stations must have at least 1"),
    (_stations("{start = 5.0, stop = 1.0, count = 3}"), r"survey\.stations\.stop must be > start"),
    (_stations("[0.0, 2.0, 1.0]"), r"survey\.stations must be strictly increasing"),
    (_stations("[0.0, 0.0]"), r"survey\.stations must be strictly increasing"),
    (_frequencies("[]"), r"survey\.frequencies must have at least 1"),
    (_frequencies("[1.0, 0.0]"), r"survey\.frequencies\[1\] must be > 0"),
    (_frequencies("[1.0, 1.0]"), r"survey\.frequencies has duplicate"),
    (_frequencies("{max = 1.0, min = -1.0, count = 3}"), r"survey\.frequencies\.min must be > 0"),
    (_frequencies("{max = 0.0, min = 1.0, count = 3}"), r"survey\.frequencies\.max must be > 0"),
    (_frequencies("{max = 1.0, min = 10.0, count = 3}"), r"survey\.frequencies\.min must be <= max"),
    (_frequencies("{max = 1.0, min = 0.1, count = 0}"), r"survey\.frequencies\.count must be >= 1"),
    (_frequencies("{max = 1.0, count = 3}"), r"survey\.frequencies\.min is required"),
    # NaN / inf and wrong types
    (_stations("[0.0, nan]"), r"survey\.stations\[1\] must be finite"),
    (_frequencies("{max = inf, min = 1.0, count = 2}"), r"survey\.frequencies\.max must be finite"),
    (_stations("['a']"), r"survey\.stations\[0\] must be a number"),
    (_frequencies("[true]"), r"survey\.frequencies\[0\] must be a number"),
    (_stations("{start = 0.0, stop = 1.0, count = 2.0}"), r"survey\.stations\.count must be an integer"),
    (_stations("3.0"), r"survey\.stations must be a list"),
    (spec_with("name = 3"), r"name must be a string"),
    ("survey = 1\n[model]\nbackground = 1.0", r"survey must be a table"),
    (spec_with("[noise]\nseed = 1.5"), r"noise\.seed must be an integer"),
    (spec_with("[noise]\nseed = -1"), r"noise\.seed must be >= 0"),
    (spec_with("[noise]\nrelative = -0.1"), r"noise\.relative must be >= 0"),
    (spec_with("[noise]\nphase_degrees = nan"), r"noise\.phase_degrees must be finite"),
    (_background('"100"'), r"model\.background must be a number"),
    (_background("true"), r"model\.background must be a number"),
    (_model("[model.layers]\ntop = 0.0\nresistivity = 1.0"), r"model\.layers must be an array"),
    # structure geometry
    (
        _model("[[model.layers]]\ntop = 10.0\nbottom = 5.0\nresistivity = 1.0"),
        r"model\.layers\[0\]\.bottom must be > top",
    ),
    (_model("[[model.layers]]\ntop = -1.0\nresistivity = 1.0"), r"model\.layers\[0\]\.top must be >= 0"),
    (
        _model("[[model.layers]]\ntop = 0.0\nbottom = inf\nresistivity = 1.0"),
        r"model\.layers\[0\]\.bottom must be finite",
    ),
    (_block(x="[1.0, 0.0]"), r"model\.blocks\[0\]\.x must be increasing"),
    (_block(x="[0.0, 1.0, 2.0]"), r"model\.blocks\[0\]\.x must be a pair"),
    (_block(depth="[-1.0, 1.0]"), r"model\.blocks\[0\]\.depth\[0\] must be >= 0"),
    (_block(depth="5.0"), r"model\.blocks\[0\]\.depth must be a list"),
    (_polygon("[[0.0, 0.0], [1.0, 0.0]]"), r"model\.polygons\[0\]\.vertices must have at least 3"),
    (_polygon("[[0.0, 0.0], [1.0, 0.0], [2.0]]"), r"model\.polygons\[0\]\.vertices\[2\] must have at least 2"),
    (_polygon("[[0.0, 0.0], [1.0, nan], [2.0, 1.0]]"), r"model\.polygons\[0\]\.vertices\[1\]\[1\] must be finite"),
    (_polygon("[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]"), r"model\.polygons\[0\]\.vertices enclose no"),
    # bad modes
    (_modes("[]"), r"survey\.modes must have at least 1"),
    (_modes('["TE", "XY"]'), r"survey\.modes\[1\] must be 'TE', 'TM' or 'TIP'"),
    (_modes('["TE", "te"]'), r"survey\.modes\[1\] repeats"),
    (_modes('"TE"'), r"survey\.modes must be a list"),
    (_modes("[1]"), r"survey\.modes\[0\] must be 'TE', 'TM' or 'TIP'"),
    # bad topography
    (_topography("x = [0.0, 0.0]\nelevation = [1.0, 2.0]"), r"topography\.x must be strictly"),
    (_topography("x = [0.0, 1.0]\nelevation = [1.0]"), r"topography\.elevation must have as many"),
    (_topography("x = []\nelevation = []"), r"topography\.x must have at least 1"),
    (_topography("x = [0.0, 1.0]\nelevation = [1.0, inf]"), r"topography\.elevation\[1\] must be finite"),
    (_topography("x = [0.0]"), r"topography\.elevation is required"),
    (spec_with("topography = [1.0]"), r"topography must be a table"),
    # zero errors
    (spec_with("[noise]\nrelative = 0.0"), r"errors\.relative defaults to noise\.relative, which is 0"),
    (
        spec_with("[noise]\nphase_degrees = 0\n[errors]\nrelative = 0.1"),
        r"errors\.phase_degrees defaults to noise\.phase_degrees",
    ),
    (spec_with("[errors]\nrelative = 0.0"), r"errors\.relative must be > 0"),
]


@pytest.mark.parametrize("text, pattern", ERRORS)
def test_errors_name_source_and_key(text, pattern):
    with pytest.raises(SpecError, match=r"^spec\.toml: .*" + pattern):
        parse_spec(text, source="spec.toml")


def test_spec_error_is_value_error():
    assert issubclass(SpecError, ValueError)


def test_toml_syntax_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[survey]\nstations = [0.0,\n[model\n")
    with pytest.raises(SpecError, match=re.escape(str(path)) + r": invalid TOML: .*line \d+"):
        load_spec(path)
    with pytest.raises(SpecError, match=r"^<string>: invalid TOML"):
        parse_spec("a = = 1")


def test_missing_file_lists_presets(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SpecError, match=re.escape(str(missing)) + r": no such file.*h-layers"):
        load_spec(missing)
    presets = "block-topo, h-layers, rugged-faults"
    with pytest.raises(SpecError, match=r"no-such-preset: no such file.*" + presets):
        load_spec("no-such-preset")
    with pytest.raises(SpecError, match=r"preset nope: no such preset"):
        preset_path("nope")


def test_load_from_file_names_file_in_errors(tmp_path):
    path = tmp_path / "case.toml"
    path.write_text(spec_with(model="[[model.layers]]\ntop = 0.0\nresistivity = -1.0"))
    pattern = re.escape(str(path)) + r": model\.layers\[0\]\.resistivity"
    with pytest.raises(SpecError, match=pattern):
        load_spec(str(path))
    path.write_text(MINIMAL)
    spec = load_spec(str(path))
    assert spec.name == "case" and spec.source == str(path)


def test_preset_errors_name_preset():
    spec = load_spec("h-layers")
    with pytest.raises(SpecError, match=r"^preset h-layers: survey\.frequencies\[0\] must be > 0"):
        spec.replace(frequencies=[-1.0])


# ----------------------------------------------------------------- replace
def test_replace_revalidates():
    spec = load_spec("block-topo")
    quick = spec.replace(
        stations={"start": 0.0, "stop": 4000.0, "count": 5}, frequencies=[1.0, 100.0, 10.0], modes=["tm"]
    )
    assert quick.stations.tolist() == [0.0, 1000.0, 2000.0, 3000.0, 4000.0]
    assert quick.frequencies.tolist() == [100.0, 10.0, 1.0]
    assert quick.modes == ("TM",)
    assert not quick.frequencies.flags.writeable
    assert quick.structures is spec.structures and quick.source == spec.source
    assert spec.frequencies.size == 61  # the original is unchanged
    quick = spec.replace(frequencies=np.array([1e3, 1e-1]))
    assert quick.frequencies.tolist() == [1e3, 1e-1]
    with pytest.raises(SpecError, match=r"survey\.stations must be strictly increasing"):
        spec.replace(stations=[3.0, 1.0])
    with pytest.raises(SpecError, match=r"survey\.frequencies\.count must be >= 1"):
        spec.replace(frequencies={"max": 10.0, "min": 1.0, "count": 0})
    with pytest.raises(SpecError, match=r"survey\.modes\[0\]"):
        spec.replace(modes=["XY"])
    with pytest.raises(SpecError, match=r"errors\.relative must be > 0"):
        spec.replace(error_relative=0.0)
    with pytest.raises(SpecError, match=r"model\.background must be > 0"):
        spec.replace(background=0.0)


def test_model_spec_direct_construction():
    spec = ModelSpec(
        name="direct",
        stations=[0.0, 10.0],
        frequencies=[1.0, 10.0],
        modes=("TE",),
        background=50.0,
        topography=([0.0, 10.0], [0.0, 5.0]),
    )
    assert spec.frequencies.tolist() == [10.0, 1.0]
    assert spec.elevation(5.0) == pytest.approx(2.5)
    assert spec.resistivity([1.0, 2.0], 3.0).tolist() == [50.0, 50.0]
