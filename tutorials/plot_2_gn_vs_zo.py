"""
Gauss-Newton or Zohdy-Oldenburg: a one-line swap
================================================

A standard SimPEG 2D MT inversion script, run twice: once with SimPEG's
``InexactGaussNewton`` and once with :class:`simpeg_zo.ZohdyOldenburg`. The
only changes are the ``opt = ...`` line and, optionally, the Bostick starting
model directive put first in the directive list.
"""

import os
import time

import numpy as np
from simpeg import directives, inverse_problem, inversion, optimization, regularization

import simpeg_zo

SMALL = bool(os.environ.get("SIMPEG_ZO_SMALL"))

###############################################################################
# Data: the H-type layered earth of the paper (100 / 10 / 1000 ohm-m), TE.
spec = simpeg_zo.load_spec("h-layers").replace(modes=("TE",))
spec = simpeg_zo.decimate_survey(spec, station_step=10 if SMALL else 2, frequency_step=6 if SMALL else 3)
profile, true_model = simpeg_zo.synthetic_profile(spec)
m0 = profile.half_space()


def run(opt, extra_directives=()):
    """The usual SimPEG recipe; only ``opt`` changes between runs."""
    dmis = profile.data_misfit()
    reg = regularization.WeightedLeastSquares(
        profile.mesh,
        active_cells=profile.active_cells,
        reference_model=m0,
        alpha_s=1e-5,
        alpha_x=0.2,
        alpha_y=1.0,
    )
    inv_prob = inverse_problem.BaseInvProblem(dmis, reg, opt)
    directive_list = [
        *extra_directives,
        directives.BetaEstimate_ByEig(beta0_ratio=1.0),
        directives.BetaSchedule(coolingFactor=2, coolingRate=1),
        directives.TargetMisfit(chifact=1),
    ]
    inv = inversion.BaseInversion(inv_prob, directiveList=directive_list)
    t = time.perf_counter()
    model = inv.run(m0)
    return model, time.perf_counter() - t, inv_prob.phi_d / profile.n_data


###############################################################################
# Gauss-Newton, as SimPEG users write it.
opt = optimization.InexactGaussNewton(maxIter=2 if SMALL else 30, cg_maxiter=10 if SMALL else 30)
m_gn, t_gn, chi2_gn = run(opt)

###############################################################################
# Zohdy-Oldenburg: change the ``opt`` line, add the Bostick start.
opt = simpeg_zo.ZohdyOldenburg(maxIter=3 if SMALL else 30, use_phase=True)
m_zo, t_zo, chi2_zo = run(opt, [simpeg_zo.BostickStartingModel()])
print(f"ZO: {opt.iter} iterations, {opt.forward_solves} forward solves, stop: {opt.stop_reason}")

###############################################################################
# Compare: misfit, time, and the model against the truth.
for name, m, t, chi2 in (("GN", m_gn, t_gn, chi2_gn), ("ZO", m_zo, t_zo, chi2_zo)):
    err = np.sqrt(np.mean(((m - true_model) / np.log(10)) ** 2))
    print(f"{name}: chi2 {chi2:.2f} in {t:.1f} s, log10 model RMSE {err:.3f}")

import matplotlib.pyplot as plt

from simpeg_zo.plot import plot_model

fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
clim = (5, 2000)
plot_model(profile, true_model, ax=axes[0], title="true", clim=clim, depth_max=2500)
plot_model(profile, m_gn, ax=axes[1], title=f"Gauss-Newton ({t_gn:.0f} s)", clim=clim, depth_max=2500)
plot_model(profile, m_zo, ax=axes[2], title=f"Zohdy-Oldenburg ({t_zo:.0f} s)", clim=clim, depth_max=2500)
if not SMALL:
    plt.show()
