"""Static shifts estimated during the direct inversion (``static_shift=True``)."""

import numpy as np
import pytest

import simpeg_zo
from simpeg_zo._layout import layout_from_misfit
from simpeg_zo._runs import zohdy_oldenburg
from simpeg_zo._soundings import sounding_state
from simpeg_zo._static import estimate_static_shifts

SHIFTED = [1, 3]  # stations whose TM apparent resistivity is multiplied by 2


def _small(shift_tm=None):
    """The H-type layered earth, TE+TM, 5 stations x 11 frequencies, noisy."""
    spec = simpeg_zo.load_spec("h-layers").replace(modes=("TE", "TM"))
    spec = spec.replace(stations=np.linspace(0.0, 4000.0, 5), frequencies=np.logspace(3, -2, 11))
    profile, true = simpeg_zo.synthetic_profile(spec, padding_skin_depths=1.5)
    if shift_tm:
        dobs = {}
        for mode in profile.modes:
            parts = profile.split(profile.data[mode].dobs, mode)
            rho = parts["apparent_resistivity"].copy()
            if mode == "TM":
                rho[:, shift_tm] *= 2.0
            dobs[mode] = profile.join(rho, parts["phase"])
        profile.set_data(dobs, relative_error=spec.error_relative, phase_error_degrees=spec.error_phase_degrees)
    return profile, true


@pytest.fixture(scope="module")
def shifted():
    return _small(SHIFTED)


def _estimate_at(profile, model):
    layout = layout_from_misfit(profile.data_misfit())
    d = profile.dpred(model)
    dpred = np.concatenate([d[m] for m in profile.modes])
    rho_obs, _ = sounding_state(layout, layout.dobs)
    rho_calc, _ = sounding_state(layout, dpred)
    weight = np.where(layout.rho_index >= 0, layout.rho_weight, 0.0)
    _, table = estimate_static_shifts(
        np.log(rho_obs / rho_calc), weight, layout.station, layout.mode, layout.geometry.station_x.size
    )
    return {m: np.exp(v) for m, v in table.items()}


def test_estimator_exact():
    # 2 stations, 2 modes, 3 frequencies; TM of station 1 shifted by 2
    station = np.tile(np.repeat([0, 1], 3), 2)
    mode = np.repeat(["TE", "TM"], 6)
    lr = np.zeros(12)
    lr[(mode == "TM") & (station == 1)] = np.log(2.0)
    per, table = estimate_static_shifts(lr, np.full(12, 1e6), station, mode, 2)
    f = {m: np.exp(v) for m, v in table.items()}
    assert f["TM"][1] / f["TE"][1] == pytest.approx(2.0, rel=1e-4)
    assert f["TM"][0] / f["TE"][0] == pytest.approx(1.0, rel=1e-4)
    # joint zero mean: geometric mean of all factors 1
    assert np.mean(np.concatenate(list(table.values()))) == pytest.approx(0.0, abs=1e-12)
    assert per[(mode == "TM") & (station == 1)] == pytest.approx(table["TM"][1])
    # nothing to explain: no shift; unusable soundings are ignored
    per0, table0 = estimate_static_shifts(np.zeros(12), np.full(12, 100.0), station, mode, 2)
    assert np.all(per0 == 0) and all(np.all(v == 0) for v in table0.values())
    w = np.full(12, 100.0)
    w[(mode == "TE") & (station == 0)] = 0.0
    _, t = estimate_static_shifts(lr, w, station, mode, 2)
    assert np.isnan(t["TE"][0])
    with pytest.raises(ValueError):
        estimate_static_shifts(lr, w, station, mode, 2, prior=0.0)


def test_recovers_applied_shift_at_true_model(shifted):
    profile, true = shifted
    f = _estimate_at(profile, true)
    ratio = f["TM"] / f["TE"]
    assert np.allclose(ratio[SHIFTED], 2.0, rtol=0.08)
    others = [i for i in range(5) if i not in SHIFTED]
    assert np.allclose(ratio[others], 1.0, atol=0.08)
    # no shift applied: the estimates stay near 1
    clean, true0 = _small()
    f0 = _estimate_at(clean, true0)
    assert all(np.allclose(v, 1.0, atol=0.06) for v in f0.values())


def test_zo_with_static_shift(shifted):
    profile, _ = shifted
    # column-wise corrections: the lateral coupling shares a station's
    # correction with its neighbours and the shift is identified less well
    # (measured: TM/TE factors 1.22-1.24 at the shifted stations against up
    # to 1.25 elsewhere)
    r = zohdy_oldenburg(profile, static_shift=True, lateral_coupling=0.0)
    # chi2 is the model's own misfit; the fit with the shifts has its own key
    assert r.chi2 == pytest.approx(profile.chi2(profile.dpred(r.model)))
    shifted_dpred = {}
    for mode, d in profile.dpred(r.model).items():
        parts = profile.split(d, mode)
        factor = np.asarray(r.extra["static_shift"]["factors"][mode], dtype=float)
        shifted_dpred[mode] = profile.join(parts["apparent_resistivity"] * factor[None, :], parts["phase"])
    assert r.extra["chi2_with_static_shift"] == pytest.approx(profile.chi2(shifted_dpred))
    assert r.extra["chi2_with_static_shift"] < 0.75 * r.chi2
    # and so in the iterations' record (printed and logged): chi2 is the model's own
    assert r.history[-1]["chi2"] == pytest.approx(r.chi2, rel=1e-6)
    assert r.history[-1]["chi2_with_static_shift"] == pytest.approx(r.extra["chi2_with_static_shift"], rel=1e-6)
    f = {m: np.asarray(v, dtype=float) for m, v in r.extra["static_shift"]["factors"].items()}
    ratio = f["TM"] / f["TE"]
    others = [i for i in range(5) if i not in SHIFTED]
    # inside the inversion the shift is only partly identified (the station's
    # model column takes up part of it): the shifted stations stand out, by
    # less than the applied factor 2
    assert ratio[SHIFTED].min() > max(1.25, ratio[others].max())
    assert r.extra["zo_options"]["static_shift"] is True


def test_option_off_leaves_zo_unchanged(shifted):
    profile, _ = shifted
    r = zohdy_oldenburg(profile, max_iter=2)
    assert r.extra["zo_options"]["static_shift"] is False
    assert "static_shift" not in r.extra and "chi2_with_static_shift" not in r.extra
    assert r.chi2 == pytest.approx(profile.chi2(profile.dpred(r.model)))
