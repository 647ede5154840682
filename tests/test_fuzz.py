"""Fuzzing of the spec parser and the EDI reader (hypothesis).

Every damaged input ends in a clear error naming the file (``SpecError``,
``EDIError``) or in data that a documented step drops: never in another
exception. Damage: random truncations; NaN, inf, 1e300 and zero values;
missing and swapped blocks; garbage bytes; impossible coordinates; empty
files; duplicate stations; uneven frequency sets. The number of cases per
reader is set here (``MAX_EXAMPLES``); ``benchmarks/fuzz.py`` runs the same
strategies longer and records its counts in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import simpeg_zo as sz  # noqa: E402

PARALANA = Path(__file__).resolve().parents[2] / "shared" / "data" / "paralana"
TINY_SPEC = (Path(__file__).parent / "tiny_te.toml").read_text()
MAX_EXAMPLES = 120

#: values that replace a number
BAD_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e300", "-1e300", "0", "0.0", "-0", "1e-300", "abc", ""]


# ---------------------------------------------------------------- damage


def _tokens(text):
    """(start, end) of every number-like token."""
    import re

    return [m.span() for m in re.finditer(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?", text)]


def _blocks(text):
    """(name, start, end) of every ``>NAME`` block (to the next ``>``)."""
    lines = text.splitlines(keepends=True)
    out, pos, current = [], 0, None
    for line in lines:
        if line.lstrip().startswith(">"):
            if current is not None:
                out.append((current[0], current[1], pos))
            name = line.strip()[1:].split()[0] if len(line.strip()) > 1 else ""
            current = (name, pos)
        pos += len(line)
    if current is not None:
        out.append((current[0], current[1], pos))
    return out


@st.composite
def damaged(draw, text: str) -> bytes:
    """One kind of damage to ``text``, as the bytes of the file."""
    kind = draw(
        st.sampled_from(
            ["truncate", "number", "numbers", "drop_block", "swap_blocks", "garbage", "coordinates", "empty", "lines"]
        )
    )
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))].encode()
    if kind in ("number", "numbers"):
        spans = _tokens(text)
        k = 1 if kind == "number" else draw(st.integers(2, 40))
        chosen = sorted(set(draw(st.lists(st.integers(0, len(spans) - 1), min_size=k, max_size=k))), reverse=True)
        for i in chosen:
            a, b = spans[i]
            text = text[:a] + draw(st.sampled_from(BAD_NUMBERS)) + text[b:]
        return text.encode()
    blocks = _blocks(text)
    if kind == "drop_block" and blocks:
        _, a, b = blocks[draw(st.integers(0, len(blocks) - 1))]
        return (text[:a] + text[b:]).encode()
    if kind == "swap_blocks" and len(blocks) > 1:
        i, j = sorted(draw(st.lists(st.integers(0, len(blocks) - 1), min_size=2, max_size=2, unique=True)))
        (_, a1, b1), (_, a2, b2) = blocks[i], blocks[j]
        return (text[:a1] + text[a2:b2] + text[b1:a2] + text[a1:b1] + text[b2:]).encode()
    if kind == "garbage":
        at = draw(st.integers(0, len(text)))
        junk = draw(st.binary(min_size=1, max_size=64))
        raw = text.encode()
        return raw[:at] + junk + raw[at:]
    if kind == "coordinates":
        value = draw(st.sampled_from(["200", "-95", "nan", "1e300", "abc", "", "91.5", "-400"]))
        key = draw(st.sampled_from(["LAT", "LONG", "ELEV"]))
        import re

        return re.sub(rf"(?m)^(\s*{key}\s*=).*$", lambda m: m.group(1) + value, text, count=1).encode()
    if kind == "lines":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        n = draw(st.integers(1, 5))
        return "".join(lines[:i] + lines[i + n :]).encode()
    return b""


# ---------------------------------------------------------------- the spec parser


def _check_spec(raw: bytes, path: Path) -> str:
    path.write_bytes(raw)
    try:
        spec = sz.load_spec(str(path))
    except sz.SpecError as err:
        assert str(path) in str(err) or path.name in str(err), err
        assert "\n" not in str(err).strip() or len(str(err)) < 2000
        return "error"
    # a spec that loads is usable: finite, positive, ordered
    assert np.all(np.isfinite(spec.stations)) and np.all(np.diff(spec.stations) > 0)
    assert np.all(np.isfinite(spec.frequencies)) and np.all(spec.frequencies > 0)
    assert spec.background > 0 and np.isfinite(spec.background)
    for structure in spec.structures:
        value = getattr(structure, "resistivity", 1.0)
        assert np.isfinite(value) and value > 0
    return "ok"


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged(TINY_SPEC))
def test_damaged_specs_end_in_a_spec_error_or_a_valid_spec(raw, tmp_path):
    _check_spec(raw, tmp_path / "damaged.toml")


# ---------------------------------------------------------------- the EDI reader

needs_paralana = pytest.mark.needs_shared(str(PARALANA))
EDI_TEXT = (PARALANA / "pb23c.edi").read_text() if PARALANA.is_dir() else ">HEAD\n"


def _check_edi(raw: bytes, path: Path) -> str:
    path.write_bytes(raw)
    try:
        station = sz.read_edi(path)
    except sz.EDIError as err:
        assert str(err).startswith(str(path)), err
        return "error"
    assert np.all(np.isfinite(station.frequencies)) and np.all(station.frequencies > 0)
    assert abs(station.latitude) <= 90 and abs(station.longitude) <= 360
    assert station.impedance.shape == (station.frequencies.size, 2, 2)
    return "ok"


def _survey_folder(folder: Path, raw: bytes) -> Path:
    """``folder`` (emptied) with three good Paralana files and ``raw`` as ``damaged.edi``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name in ("pb25c.edi", "pb27c.edi", "pb29c.edi"):
        shutil.copy(PARALANA / name, folder / name)
    (folder / "damaged.edi").write_bytes(raw)
    return folder


def _check_survey(folder: Path) -> str:
    """A folder with one damaged file among good ones: an error naming it, or drops."""
    try:
        survey = sz.read_edi_survey(folder)
    except sz.EDIError as err:
        assert "damaged.edi" in str(err) or "pb" in str(err), err
        return "error"
    except ValueError as err:  # the documented input errors of the survey options
        pytest.fail(f"ValueError from damaged data: {err}")
    for mode in survey.modes:
        kept = np.isfinite(survey.rho[mode])
        assert np.all(survey.rho[mode][kept] > 0) and np.all(np.isfinite(survey.phase[mode][kept]))
        assert np.all(survey.rho_std[mode][kept] > 0) and np.all(survey.phase_std[mode][kept] > 0)
    assert survey.n_data > 0
    return "ok"


@needs_paralana
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged(EDI_TEXT))
def test_damaged_edi_files_end_in_an_edi_error_or_a_valid_station(raw, tmp_path):
    _check_edi(raw, tmp_path / "damaged.edi")


@needs_paralana
@settings(max_examples=MAX_EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=damaged(EDI_TEXT))
def test_a_damaged_file_among_good_ones_is_named_or_its_data_dropped(raw, tmp_path):
    _check_survey(_survey_folder(tmp_path / "edi", raw))


@needs_paralana
def test_duplicate_stations_and_uneven_frequency_sets(tmp_path):
    """Two files of one station: an error naming both. Stations with
    different frequencies: the union of the frequencies, each station NaN
    (reported) where it has none."""
    folder = tmp_path / "dup"
    folder.mkdir()
    for name in ("pb25c.edi", "pb27c.edi"):
        shutil.copy(PARALANA / name, folder / name)
    shutil.copy(PARALANA / "pb25c.edi", folder / "copy.edi")
    with pytest.raises(sz.EDIError, match=r"station name 'pb25' also used by .*"):
        sz.read_edi_survey(folder)

    uneven = tmp_path / "uneven"
    uneven.mkdir()
    for name in ("pb25c.edi", "pb27c.edi", "pb29c.edi"):
        shutil.copy(PARALANA / name, uneven / name)
    text = (uneven / "pb29c.edi").read_text()
    # pb29 without its 10 lowest frequencies: every block loses its last values
    n = int(text.split("NFREQ=")[1].split()[0])
    out, current = [], None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(">"):
            current = s[1:].split()[0].upper() if len(s) > 1 else ""
            if current.startswith(("FREQ", "Z", "T", "R")):
                out.append(line.replace(f"//{n}", f"//{n - 10}"))
                continue
        out.append(line)
    # rewrite the data blocks with their first n - 10 values
    blocks, cleaned, values = _blocks("\n".join(out) + "\n"), [], None
    joined = "\n".join(out) + "\n"
    for name, a, b in blocks:
        head, *rest = joined[a:b].split("\n", 1)
        body = rest[0] if rest else ""
        nums = body.split()
        if name.upper().startswith(("FREQ", "Z", "TX", "TY")) and len(nums) == n:
            values = nums[: n - 10]
            body = "\n".join(" ".join(values[k : k + 6]) for k in range(0, len(values), 6)) + "\n"
        cleaned.append(head + "\n" + body)
    header = joined[: blocks[0][1]]
    (uneven / "pb29c.edi").write_text(header + "".join(cleaned).replace(f"NFREQ={n}", f"NFREQ={n - 10}"))
    survey = sz.read_edi_survey(uneven, band="all")
    i = survey.names.index("pb29")
    assert survey.frequencies.size == n
    assert np.isnan(survey.rho["TE"][-10:, i]).all() and np.isfinite(survey.rho["TE"][:-12, i]).any()
    missing = [d for d in survey.dropped if d["station"] == "pb29" and d["reason"] == "frequency missing"]
    assert len(missing) == 20  # 10 frequencies x 2 modes


# ---------------------------------------------------------------- the command line


@needs_paralana
@pytest.mark.parametrize(
    "damage, code",
    [
        ("truncate", 2),
        ("nan_impedance", 0),
        ("bad_latitude", 2),
        ("empty", 2),
    ],
)
def test_invert_on_damaged_copies_of_a_profile(damage, code, tmp_path, capsys):
    """`invert` on a damaged copy of a 4-station profile: exit 2 naming the
    file before any simulation, or exit 0 with the drops in the report."""
    from simpeg_zo.cli import main

    folder = tmp_path / "edi"
    folder.mkdir()
    for name in ("pb25c.edi", "pb27c.edi", "pb29c.edi", "pb30c.edi"):
        shutil.copy(PARALANA / name, folder / name)
    target = folder / "pb27c.edi"
    text = target.read_text()
    if damage == "truncate":
        target.write_text(text[: len(text) // 2])
    elif damage == "nan_impedance":
        head, tail = text.split(">ZXYR", 1)
        line_end = tail.index("\n")
        body = tail[line_end + 1 :].split("\n", 1)
        values = body[0].split()
        values[:3] = ["NaN", "inf", "1e300"]
        target.write_text(head + ">ZXYR" + tail[: line_end + 1] + "  ".join(values) + "\n" + body[1])
    elif damage == "bad_latitude":
        import re

        target.write_text(re.sub(r"(?m)^(\s*LAT=).*$", r"\g<1>200.0", text, count=1))
    else:
        target.write_text("")
    report = tmp_path / "r.json"
    argv = ["invert", str(folder), "--method", "zo", "--max-iter", "1", "--frequency-step", "6", "--no-figures"]
    got = main([*argv, "--out", str(tmp_path / "out"), "--json", str(report)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert got == code, err
    if code == 2:
        assert "pb27c.edi" in err and err.count("simpeg-zo: error") == 1
        assert not report.exists()
    else:
        dropped = json.loads(report.read_text())["dropped"]
        assert any(d["station"] == "pb27" and d["reason"] == "impedance NaN or zero" for d in dropped)
        assert "pb27" in err  # the notice of the drop
    assert os.path.isdir(folder)
