"""
Field data: the Paralana profile beside a published Occam2D inversion
=====================================================================

Fifteen broadband MT stations (EDI files) over 14 km at Paralana, South
Australia, and the Occam2D inversion of them shipped with mtpy. We read the
EDI files, take the same data subset as the published run (19 frequencies
78.125-1.171875 Hz, TE+TM, strike 7 degrees, profile azimuth 97 degrees,
floors 10 % on apparent resistivity and 5 % (2.866 degrees) on phase), invert
them with SimPEG's Gauss-Newton recipe and with Zohdy-Oldenburg, and draw our
models under the Occam2D one.

The data are third-party files kept outside the repository, in
``../shared/data/paralana`` (relative to the repository root).
"""

import os
import warnings

import simpeg_zo
from simpeg_zo.plot import misfit_text, plot_residual_pseudosections
from simpeg_zo.plot_field import plot_occam2d_comparison, plot_station_responses

SMALL = bool(os.environ.get("SIMPEG_ZO_SMALL"))
# this folder: from the file's path, else the working directory (sphinx-gallery
# runs each example in its own folder, without __file__)
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "paralana"))

if not os.path.isdir(DATA):
    print(f"Paralana data not found at {DATA}: nothing to do")
else:
    ###########################################################################
    # Read, project, rotate and convert. ``survey`` records every choice and
    # every datum left out; ``profile`` is a SimPEG-ready mesh with the
    # station elevations as topography.
    occam_choices = {"fmin": 1.1, "strike": 7.0, "line_azimuth": 97.0, "band": "all"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile, survey = simpeg_zo.read_edi_profile(
            DATA,
            frequency_step=6 if SMALL else 1,
            cells_per_station=2 if SMALL else 4,
            **occam_choices,
        )
    print(
        f"{profile.n_stations} stations, {profile.n_frequencies} frequencies, "
        f"{profile.n_data} data, mesh {profile.mesh.shape_cells}"
    )
    print("station distances from the line (m):", [round(float(p)) for p in survey.perpendicular])

    ###########################################################################
    # The published Occam2D model, evaluated with our SimPEG simulation: a
    # check of the TE/TM assignment and of the mesh.
    occam = simpeg_zo.read_occam2d(os.path.join(DATA, "occam2d_mtpy_example"))
    occam_model = simpeg_zo.occam2d_on_profile(occam, profile)
    print(f"Occam2D model on our mesh: chi2 {profile.chi2(profile.dpred(occam_model)):.2f}")

    ###########################################################################
    # Invert with GN and ZO (the same SimPEG data misfit, mesh and solver).
    max_iter = 1 if SMALL else None
    results = {m: simpeg_zo.invert_profile(profile, m, max_iter=max_iter) for m in ("gn", "zo")}
    for name, r in results.items():
        print(
            f"{name}: chi2 {r.chi2:.2f}, {r.iterations} iterations, "
            f"{r.forward_solves} forward solves, {r.wall_seconds:.0f} s"
        )

    ###########################################################################
    # Our models under the Occam2D model, down to a little below the depth of
    # investigation (the Bostick depth of each station's longest period,
    # dashed; shaded below), the fit at every station, and the normalised
    # residuals (observed - predicted) / standard deviation.
    plot_occam2d_comparison(
        profile,
        {f"{n}: {misfit_text(r)}": r.model for n, r in results.items()},
        occam,
    )
    plot_station_responses(profile, {n: r.dpred for n, r in results.items()})
    plot_residual_pseudosections(profile, {n: r.dpred for n, r in results.items()})
