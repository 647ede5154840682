"""The subspace stage and the smoothing steps of :class:`simpeg_zo.ZohdyOldenburg`.

A mixin of the optimizer's methods that use Jacobian products (adjoint and
tangent solves on each evaluated model's own factorisations, no Jacobian
matrix): the subspace Gauss-Newton steps that continue where the
Zohdy-Oldenburg fixed point slows (:mod:`simpeg_zo._subspace`), and the
Occam steps that, once the target misfit is reached, lower the model's
roughness across the profile without raising its misfit.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from simpeg.objective_function import BaseObjectiveFunction, ComboObjectiveFunction
from simpeg.regularization import SmoothnessFirstOrder, SmoothnessFullGradient

from ._iteration import correction_directions, subspace_directions
from ._subspace import lateral_windows, smoothest_coefficients, subspace_coefficients, update_damping

__all__ = ["SubspaceStage", "roughness", "SMOOTHING_DAMPING", "SMOOTHING_MARGIN", "SMOOTHING_TOLERANCE"]

logger = logging.getLogger("simpeg_zo._optimizer")

#: Marquardt damping of the first smoothing trial (relative to the
#: unit-normed products): the model norm's step is long and the
#: linearised misfit holds only near the model, so smaller starts cost
#: rejected trials (forward solves) without changing the result (Paralana,
#: h-layers TE+TM).
SMOOTHING_DAMPING = 1.0

#: The smoothing steps aim their linearised misfit at this part of the
#: misfit they may not exceed (the misfit rises a little beyond the
#: linearisation).
SMOOTHING_MARGIN = 0.97

#: The smoothing steps stop once one lowers the roughness by less than this
#: part.
SMOOTHING_TOLERANCE = 0.02


def roughness(reg: BaseObjectiveFunction, orientation: str | None = "x") -> BaseObjectiveFunction:
    """The first-order smoothness terms of a SimPEG regularisation.

    The model norm of the smoothing steps: the derivative terms of ``reg``
    along ``orientation`` ("x": across the profile; None: every
    orientation), with their multipliers, nested combinations included,
    without the smallness (a distance to the reference model that on a
    padded mesh is dominated by the largest cells). Where ``reg`` has no
    such term, all its first-order smoothness terms; where it has none,
    ``reg`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from discretize import TensorMesh
    >>> from simpeg.regularization import WeightedLeastSquares
    >>> mesh = TensorMesh([[1.0] * 4, [1.0] * 3])
    >>> reg = WeightedLeastSquares(mesh, alpha_s=1.0, alpha_x=0.5, alpha_y=1.0)
    >>> layered = np.repeat([1.0, 2.0, 3.0], 4)  # varies with depth only
    >>> float(roughness(reg)(layered)), float(roughness(reg, None)(layered)) > 0
    (0.0, True)
    """
    terms = []

    def collect(objective, weight):
        if isinstance(objective, (SmoothnessFirstOrder, SmoothnessFullGradient)):
            terms.append((weight, objective))
        elif isinstance(objective, ComboObjectiveFunction):
            for multiplier, child in zip(objective.multipliers, objective.objfcts, strict=True):
                collect(child, weight * multiplier)

    collect(reg, 1.0)
    terms = [(w, o) for w, o in terms if w != 0]
    along = [(w, o) for w, o in terms if getattr(o, "orientation", None) == orientation]
    if orientation is not None and along:
        terms = along
    if not terms:
        return reg
    return ComboObjectiveFunction(objfcts=[o for _, o in terms], multipliers=[w for w, _ in terms])


class SubspaceStage:
    """Methods of :class:`simpeg_zo.ZohdyOldenburg` that use Jacobian products.

    The optimizer's state they read and set: ``_engine``, ``_settings``,
    ``_boundary``, ``_gradients``, ``_jd``, ``_jtj_diagonal``,
    ``_evaluated_diagonal``, ``_damping``, ``_pending``, ``_past_steps``,
    and the optimizer's ``_evaluate``, ``_count``, ``_gradient_request``
    and ``_record``.
    """

    def _subspace_directions(self, layout, x, dpred, gradients, depth, rho_obs, phase_obs, width, corrections=None):
        """Directions of a subspace step built at ``x``.

        Returns the directions (columns of a matrix) and the depths the joint
        correction moves to (:func:`simpeg_zo._iteration.subspace_directions`;
        ``corrections``: its ZO-correction part, where already taken at ``x``).
        """
        D, new_depth = subspace_directions(
            layout,
            x,
            dpred,
            depth,
            rho_obs,
            phase_obs,
            self._settings_of(width),
            gradients=gradients,
            **self._correction_options(),
            gradient_windows=self.subspace_gradient_windows,
            smoothing=self.subspace_smoothing,
            gradient_smoother=self._gradient_smoother,
            past_steps=self._past_steps,
            jtj_diagonal=self._jtj_diagonal,
            corrections=corrections,
        )
        return self._clean(D), new_depth

    def _correction_options(self):
        """The frequency bands and lateral windows of the ZO-correction directions."""
        return {"n_bands": self.subspace_bands, "windows": self.subspace_windows}

    def _settings_of(self, width):
        """The correction settings with the vertical smoothing ``width``."""
        return self._settings if width == self._settings.width else replace(self._settings, width=width)

    def _step_scale(self, step):
        """The factor (at most 1) that keeps ``step`` within ``max_log_step`` in every cell."""
        biggest = np.abs(step).max()
        return self.max_log_step / biggest if biggest > self.max_log_step else 1.0

    @staticmethod
    def _weighted_products(layout, jd):
        """``W J D`` from the per-simulation products ``jd`` (non-finite entries zeroed)."""
        B = layout.weights[:, None] * np.vstack(jd)
        B[~np.isfinite(B)] = 0.0
        return B

    def _clean(self, D):
        # the outermost mesh columns (padding, where the 1D boundary fields
        # are taken) stay as they are: their Jacobian products would cost a
        # 1D derivative per direction
        D = np.array(D, dtype=float)
        D[self._boundary] = 0.0
        return D[:, np.any(D != 0, axis=0)]

    def _subspace_iteration(self, layout, x, phi, dpred, gradients, depth, rho_obs, phase_obs, width):
        """One subspace Gauss-Newton step (see :mod:`simpeg_zo._subspace`).

        The Jacobian products of a model's directions are computed while the
        model itself is evaluated (one factorisation per frequency for both),
        so the directions are those built at the previous model plus the
        step that led here; only the first subspace iteration pays an extra
        factorisation pass for them.

        Returns ``(accepted, (x, phi, dpred), depths)``.
        """
        pending = self._pending
        if pending is not None and pending[0] is x:
            D, jd = pending[1], pending[2]
            # the directions built at x: those of the next step
            following, new_depth = self._subspace_directions(
                layout, x, dpred, gradients, depth, rho_obs, phase_obs, width
            )
        elif gradients and (self._jtj_diagonal is not None or not self.subspace_jacobi):
            # the Jacobian products of all directions built at x, which are
            # also the next step's
            D, new_depth = self._subspace_directions(layout, x, dpred, gradients, depth, rho_obs, phase_obs, width)
            following = D
            jd = self._engine.evaluate(x, directions=D)["jd"]
            self._count()
        else:
            # first subspace step: the directions that need no misfit
            # gradient (the ZO corrections, the past steps), whose products
            # come in the same pass as the gradients and the J^T W^T W J
            # diagonal (all from adjoint solves on one factorisation per
            # frequency); the gradient directions join from the next step
            corrections = correction_directions(
                layout, x, dpred, depth, rho_obs, phase_obs, self._settings_of(width), **self._correction_options()
            )
            D, new_depth = self._subspace_directions(
                layout, x, dpred, None, depth, rho_obs, phase_obs, width, corrections=corrections
            )
            out = self._engine.evaluate(x, directions=D, **self._gradient_request(), jtj_diagonal=self.subspace_jacobi)
            self._count()
            jd = out["jd"]
            gradients = out["gradients"]
            if self.subspace_jacobi:
                self._jtj_diagonal = out["jtj_diagonal"]
            following, _ = self._subspace_directions(
                layout, x, dpred, gradients, depth, rho_obs, phase_obs, width, corrections=corrections
            )
        B = self._weighted_products(layout, jd)
        r = layout.residual(dpred)
        for iter_ls in range(self.maxIterLS + 2):
            self.iterLS = iter_ls
            coefficients, predicted = subspace_coefficients(B, r, self._damping)
            move = D @ coefficients
            shrink = self._step_scale(move)
            if shrink < 1.0:
                move *= shrink
                new = r - shrink * (B @ coefficients)
                predicted = float(r @ r - new @ new)
            xt = self.projection(x + move)
            # a step predicted to reach chi2 <= 1 is likely the last: its
            # model is evaluated without the next directions' products
            last = phi - predicted <= layout.n_data
            D_next = None if last else self._clean(np.column_stack([following, move]))
            phi_t, dpred_t = self._evaluate(xt, directions=D_next)
            ratio = (phi - phi_t) / predicted if predicted > 0 else -1.0
            self._damping = update_damping(self._damping, ratio)
            logger.debug(
                "subspace: k=%d damping %.2e predicted %.3g actual %.3g",
                D.shape[1],
                self._damping,
                predicted,
                phi - phi_t,
            )
            if phi_t < phi:
                if self._evaluated_diagonal is not None:
                    self._jtj_diagonal = self._evaluated_diagonal
                self._remember(xt - x)
                self._pending = None if D_next is None else (xt, D_next, self._jd)
                return True, (xt, phi_t, dpred_t), new_depth
        return False, (x, phi, dpred), depth

    def _norm_directions(self, norm, layout, x):
        """The descent direction of the model norm ``norm`` at ``x``, whole and in one lateral window per station."""
        descent = -np.asarray(norm.deriv(x), dtype=float)
        geom = layout.geometry
        hats = lateral_windows(geom.cell_x, geom.station_x, geom.station_x.size)
        return np.column_stack([descent[:, None] * hats, descent])

    def _smoothing(self, layout, best, depth, rho_obs, phase_obs, width, n_data, t0):
        """Occam steps in the subspace once the target is reached.

        Each lowers the roughness across the profile of the inversion's
        regularisation (:func:`roughness` of ``inv.reg``) as far as the linearised misfit
        stays below the misfit the target was reached with
        (:func:`simpeg_zo._subspace.smoothest_coefficients`; aimed at
        ``SMOOTHING_MARGIN`` of it); a trial is kept where its misfit does
        not rise above that and its roughness falls. The directions: the
        subspace directions at the model the target was reached with, the
        roughness's descent directions at the current model and the last
        step. Returns the last model kept.
        """
        norm = roughness(self.parent.reg)
        x, phi, dpred = best
        allowed = phi
        damping = SMOOTHING_DAMPING
        data_directions, _ = self._subspace_directions(
            layout, x, dpred, self._gradients, depth, rho_obs, phase_obs, width
        )
        D = self._clean(np.column_stack([data_directions, self._norm_directions(norm, layout, x)]))
        jd = self._engine.evaluate(x, directions=D)["jd"]
        self._count()
        self.stage = "smoothing"
        for k in range(self.smoothing_steps):
            B = self._weighted_products(layout, jd)
            r = layout.residual(dpred)
            norm_x = float(norm(x))
            g = D.T @ np.asarray(norm.deriv(x), dtype=float)
            H = D.T @ (norm.deriv2(x) @ D)
            last = k == self.smoothing_steps - 1
            accepted = False
            for iter_ls in range(self.maxIterLS + 2):
                self.iterLS = iter_ls
                c, _, change = smoothest_coefficients(B, r, g, H, SMOOTHING_MARGIN * allowed, damping)
                if not change < 0:
                    break
                move = D @ c
                move *= self._step_scale(move)
                xt = self.projection(x + move)
                D_next = None
                if not last:
                    D_next = self._clean(
                        np.column_stack([data_directions, self._norm_directions(norm, layout, xt), move])
                    )
                phi_t, dpred_t = self._evaluate(xt, directions=D_next)
                norm_t = float(norm(xt))
                logger.debug(
                    "smoothing: roughness %.4g -> %.4g (predicted %.4g), phi_d %.4g -> %.4g (allowed %.4g)",
                    norm_x,
                    norm_t,
                    norm_x + change,
                    phi,
                    phi_t,
                    allowed,
                )
                # the Marquardt rule of the subspace stage: a kept trial counts
                # as a good prediction, a rejected one as a failed one
                accepted = phi_t <= allowed and norm_t < norm_x
                damping = update_damping(damping, 1.0 if accepted else -1.0)
                if accepted:
                    break
            if not accepted:
                break
            self.smoothing_steps_taken += 1
            x, phi, dpred = xt, phi_t, dpred_t
            if D_next is not None:
                D, jd = D_next, self._jd
            self._remember(move)
            self.f = phi
            self.doEndIteration(xt)
            self._record(phi, n_data, t0)
            if norm_x - norm_t < SMOOTHING_TOLERANCE * norm_x:
                break
        if not self.smoothing_steps_taken:
            self.stage = "subspace"
        return x, phi, dpred

    def _remember(self, step):
        self._past_steps.append(step)
        del self._past_steps[: -self.subspace_memory]
