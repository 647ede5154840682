"""
Forward TE and TM responses of a profile
========================================

Build a profile from a model specification (the ``block-topo`` preset: a
500 ohm-m block under a 60 m hill), simulate both modes with SimPEG and look
at the pseudo-sections. TE is ``Simulation2DMagneticField`` with ``"yx"``
receivers, TM is ``Simulation2DElectricField`` with ``"xy"`` receivers.
"""

import os

import simpeg_zo
from simpeg_zo.plot import plot_model, plot_pseudosections

SMALL = bool(os.environ.get("SIMPEG_ZO_SMALL"))

###############################################################################
# The specification: stations, frequencies, modes, noise, errors, structures.
spec = simpeg_zo.load_spec("block-topo")
if SMALL:
    spec = simpeg_zo.decimate_survey(spec, station_step=5, frequency_step=6)
print(spec.name, spec.stations.size, "stations,", spec.frequencies.size, "frequencies")

###############################################################################
# The profile: a tensor mesh sized from skin depths, active cells under the
# topography, receivers at the centre of the top ground cell, one SimPEG
# simulation per mode. ``synthetic_profile`` also paints the model, simulates
# it and adds the spec's noise.
profile, true_model = simpeg_zo.synthetic_profile(spec)
print("mesh", profile.mesh.shape_cells, "active cells", profile.n_active)
for mode, sim in profile.simulations.items():
    print(mode, type(sim).__name__, sim.survey.source_list[0].receiver_list[0].orientation)

###############################################################################
# The apparent resistivity over the block: TE barely sees a thin resistor,
# TM sees it more.
clean = profile.dpred(true_model)
for mode in profile.modes:
    rho = profile.split(clean[mode], mode)["apparent_resistivity"]
    print(mode, f"apparent resistivity range {rho.min():.1f} - {rho.max():.1f} ohm-m")

###############################################################################
# Figures: the true model and the observed pseudo-sections.
import matplotlib.pyplot as plt

plot_model(profile, true_model, title="block-topo: true model")
plot_pseudosections(profile)
if not SMALL:
    plt.show()
