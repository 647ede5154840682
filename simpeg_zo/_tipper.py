r"""The 2D tipper :math:`T_{zx} = H_z / H_x` of SimPEG's TE simulation.

SimPEG 0.25's :class:`simpeg.electromagnetics.natural_source.receivers.Tipper`
serves 3D meshes only, and its ``Simulation2DMagneticField`` refuses every
receiver but ``"yx"`` impedances. :class:`Tipper` adds the 2D case with the
class name, arguments and sign convention of SimPEG 0.26's
``receivers.Tipper(orientation="zx")``, so scripts carry over once 0.26
installs:

* x along the profile, z up (SimPEG's frame): :math:`T_{zx} = H_z/H_x` with
  :math:`H_z` positive up. The usual MT convention takes z down, so the EDI
  tipper component along the profile is :math:`-T_{zx}`
  (:func:`simpeg_zo._edi.profile_tipper`).
* Parkinson's real induction arrow (pointing towards conductors) along the
  profile is :math:`+\mathrm{Re}\,T_{zx}` in this frame.
* :math:`H_x` is taken on the x-edges and :math:`H_z` on the z-edges of the
  magnetic field solution, interpolated to ``locations_base`` and
  ``locations_h`` respectively (the same points unless a base station is
  given).

Over a 1D earth (flat ground) SimPEG's TE boundary conditions (the 1D
solution of the outermost columns on the left and right edges, a uniform
unit field at the top of the air, zero at the bottom) make the solution
independent of x, so :math:`H_z` vanishes to rounding at every station,
edges included (``tests/test_tipper.py``).
"""

from __future__ import annotations

from simpeg.electromagnetics.natural_source import receivers as _receivers

from ._derivatives import _tipper, _tipper_adjoint_sources, _tipper_tangent, is_tipper

__all__ = ["Tipper", "is_tipper"]


class Tipper(_receivers.Tipper):
    r"""Tipper receiver, 2D meshes included (:math:`T_{zx}` of the TE mode).

    The receiver of SimPEG 0.26 (``receivers.Tipper``) with the same
    arguments; in 2D only ``orientation="zx"`` exists. Use it with
    :class:`simpeg_zo.Simulation2DMagneticField` (SimPEG 0.25's own class
    refuses receivers other than ``"yx"`` impedances).

    Parameters
    ----------
    locations_h : (n_loc, n_dim) array_like
        Where the vertical (and, without a base, the horizontal) magnetic
        field is measured.
    locations_base : (n_loc, n_dim) array_like, optional
        Where the horizontal field is measured; default ``locations_h``.
    orientation : str
        ``"zx"`` in 2D; 3D meshes take SimPEG's own choices.
    component : {"real", "imag", "complex"}
        Real or imaginary part (``"complex"`` for display only).
    storeProjections : bool
        Keep the interpolation matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from simpeg_zo import Tipper
    >>> rx = Tipper(np.c_[np.linspace(-500, 500, 5), np.zeros(5)], orientation="zx", component="real")
    >>> rx.nD
    5
    """

    # the 2D formulas are the engine's (simpeg_zo._derivatives), projections kept per receiver

    def _check_2d(self):
        if self.orientation != "zx":
            raise ValueError(f"a 2D tipper has orientation 'zx', got {self.orientation!r}")

    def _eval_tipper(self, src, mesh, f):
        if mesh.dim != 2:
            return super()._eval_tipper(src, mesh, f)
        self._check_2d()
        return _tipper(self, src, mesh, f)[0]

    def _eval_tipper_deriv(self, src, mesh, f, du_dm_v=None, v=None, adjoint=False):
        if mesh.dim != 2:
            return super()._eval_tipper_deriv(src, mesh, f, du_dm_v=du_dm_v, v=v, adjoint=adjoint)
        self._check_2d()
        if adjoint:
            gh, _ = _tipper_adjoint_sources(self, src, mesh, f, v)
            return f._hDeriv(src, None, gh, adjoint=True)
        return _tipper_tangent(self, src, mesh, f, f._hDeriv(src, du_dm_v, v, adjoint=False))
