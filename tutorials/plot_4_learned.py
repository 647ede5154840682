"""
Learned inversion: a ResNet-50 model in milliseconds, or as a starting model
============================================================================

The package ships two networks, each trained for one survey: ``block-topo``
(41 stations over 4 km, 1e4-1e-2 Hz, TE+TM) and ``broadband`` (29 stations
over 14 km, 100-0.01 Hz). :func:`simpeg_zo.learned.serving_network` picks the
one whose band and profile length the data cover. This tutorial

1. inverts a profile with the network alone (:class:`simpeg_zo.LearnedInversion`
   with ``refine=False``);
2. uses it as the starting (and reference) model of a standard SimPEG
   Gauss-Newton script with the :class:`simpeg_zo.CNNStartingModel`
   directive, the only change to the script;
3. shows the recipe to train a network for another survey: produce a training
   set, train, load.
"""

import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
from simpeg import directives, inverse_problem, inversion, optimization, regularization

import simpeg_zo
from simpeg_zo import learned
from simpeg_zo.plot import plot_model

SMALL = bool(os.environ.get("SIMPEG_ZO_SMALL"))

###############################################################################
# Data: the resistive block under a hill, on a thinned survey. The data grid
# differs from the network's (13 frequencies); it is resampled onto it.
spec = simpeg_zo.load_spec("block-topo")
spec = simpeg_zo.decimate_survey(spec, station_step=4 if SMALL else 2, frequency_step=6 if SMALL else 2)
profile, true_model = simpeg_zo.synthetic_profile(spec)
net = learned.serving_network(profile.data_misfit())
print(
    f"shipped networks: {learned.shipped_networks()}; {net.name_!r} serves these data; trained on "
    f"{net.recipe_['train_samples']} samples, loss {net.loss!r}"
)

###############################################################################
# 1. The network alone: ``LearnedInversion(refine=False)``.
reg = regularization.WeightedLeastSquares(profile.mesh, active_cells=profile.active_cells)
inv_prob = inverse_problem.BaseInvProblem(profile.data_misfit(), reg, optimization.InexactGaussNewton())
t = time.perf_counter()
m_cnn = simpeg_zo.LearnedInversion(inv_prob, estimator=net, refine=False).run()
print(f"network model in {1000 * (time.perf_counter() - t):.0f} ms, chi2 {profile.chi2(profile.dpred(m_cnn)):.2f}")

###############################################################################
# 2. A standard Gauss-Newton script; ``CNNStartingModel`` goes first.
m0 = profile.half_space()
reg = regularization.WeightedLeastSquares(
    profile.mesh,
    active_cells=profile.active_cells,
    reference_model=m0,
    alpha_s=1e-5,
    alpha_x=0.2,
    alpha_y=1.0,
)
opt = optimization.InexactGaussNewton(maxIter=2 if SMALL else 10, cg_maxiter=30)
inv_prob = inverse_problem.BaseInvProblem(profile.data_misfit(), reg, opt)
directive_list = [
    simpeg_zo.CNNStartingModel(net, set_reference=True),
    directives.BetaEstimate_ByEig(beta0_ratio=1.0),
    directives.BetaSchedule(coolingFactor=2, coolingRate=1),
    directives.TargetMisfit(chifact=1),
]
m_gn = inversion.BaseInversion(inv_prob, directiveList=directive_list).run(m0)
print(f"CNN-started GN: chi2 {profile.chi2(profile.dpred(m_gn)):.2f} after {opt.iter} iterations")

fig, axes = plt.subplots(3, 1, figsize=(7, 9), sharex=True)
for ax, model, title in zip(axes, (true_model, m_cnn, m_gn), ("true", "network", "network + GN"), strict=True):
    plot_model(profile, model, ax=ax, title=title, clim=(30, 1000), depth_max=1500)
fig.tight_layout()

###############################################################################
# 3. Training a network for another survey. ``simpeg-zo dataset SURVEY DIR``
# and ``simpeg-zo train DIR NET`` do the same from the command line; the
# shipped network's recipe is ``make weights``. Here a toy run: a few samples,
# a narrow network, one epoch.
with tempfile.TemporaryDirectory() as tmp:
    config = learned.DatasetConfig(
        stations=np.linspace(0.0, 2000.0, 6),
        frequencies=np.logspace(3, 0, 4),
        depth_edges=learned.default_depth_edges(2000.0, 8),
    )
    summary = learned.produce_dataset(tmp, config, train=4 if SMALL else 40, test=2, workers=0)
    print(f"{summary['samples']} samples, {summary['samples_per_minute_per_worker']:.0f} per minute")
    # the last samples of the training split validate each epoch (the
    # held-out split is left for the final score)
    toy = learned.train_network(
        tmp,
        os.path.join(tmp, "toy"),
        validation_samples=1 if SMALL else 8,
        width=0.0625,
        epochs=1 if SMALL else 10,
        batch_size=4,
        n_classes=6,
    )
    print(f"validation Dice after the last epoch {toy.history_[-1]['dice']:.2f}")
    X, y, _ = learned.dataset_arrays(tmp, "test")
    print(f"toy network: held-out Dice {toy.score(X, y):.2f}")
