r"""Exact optimal transport for the course's checks: the Wasserstein-1 distance on the line and between point sets.

The Wasserstein-1 distance between two distributions is the least average distance mass must travel to turn
one into the other:

.. math:: W_1(p, q) = \inf_{\gamma \in \Pi(p, q)} E_{(x, y) \sim \gamma} \lVert x - y \rVert,                 (1)

where :math:`\Pi(p, q)` is the set of couplings (joint laws with marginals :math:`p` and :math:`q`).

*On the line* the optimal plan is monotone (the i-th quantile of p goes to the i-th quantile of q), so

.. math:: W_1(p, q) = \int_0^1 |F_p^{-1}(u) - F_q^{-1}(u)|\,du = \int |F_p(x) - F_q(x)|\,dx.                  (2)

*Between two sets of n points with weights 1/n* every coupling is an n x n doubly stochastic matrix over n,
the cost is linear in it, and the extreme points of that set are the permutation matrices (Birkhoff-von
Neumann), so an optimal plan is a permutation:

.. math:: W_1 = \min_{\sigma} \frac1n \sum_i \lVert x_i - y_{\sigma(i)} \rVert,                              (3)

solved exactly by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``, a well-tested solver we
would otherwise write by hand). The same assignment with squared distances is the minibatch optimal-transport
coupling of flow matching.

Symbols and shapes

==============  ====================================================================
``x``, ``y``    two point sets ``(n, d)`` (equal sizes for (3))
``sigma``       the optimal assignment: ``x[i]`` is paired with ``y[sigma[i]]``, ``(n,)``
``log_p``       log-densities on a uniform grid of the line, ``(G,)``; ``cell`` its spacing
``power``       the cost :math:`\lVert x - y \rVert^{power}` (1: W1; 2: the squared-distance coupling)
==============  ====================================================================

Everything is computed in float64 on the CPU (the solver is SciPy's) and returned as Python floats or CPU
tensors; inputs may live on any device.
"""
from __future__ import annotations

import numpy as np
import torch

from .checks import check_choice, check_positive_float, check_tensor
from .grading import reference

__all__ = ["optimal_assignment", "wasserstein1_points", "wasserstein1_line"]

POWERS = (1, 2)


def _check_sets(x: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(x, "x", ndim=2, floating=True)
    check_tensor(y, "y", shape=(None, x.shape[1]), floating=True)  # type: ignore[union-attr]
    if x.shape[0] == 0 or x.shape[0] != y.shape[0]:  # type: ignore[union-attr]
        raise ValueError(f"x and y must hold the same positive number of points (an exact plan between equal "
                         f"weights is a permutation); got {x.shape[0]} and {y.shape[0]}")  # type: ignore[union-attr]
    for name, t in (("x", x), ("y", y)):
        if not torch.isfinite(t).all():  # type: ignore[arg-type]
            raise ValueError(f"{name} must hold finite points (no NaN or inf)")
    return x.detach().double().cpu(), y.detach().double().cpu()  # type: ignore[union-attr]


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def optimal_assignment(x: torch.Tensor, y: torch.Tensor, power: int = 1) -> torch.Tensor:
    r"""The permutation :math:`\sigma` minimising :math:`\sum_i \lVert x_i - y_{\sigma(i)} \rVert^{power}`   (3).

    ``x (n, d)``, ``y (n, d)`` -> ``sigma (n,)`` long on the CPU, so that ``y[sigma]`` is ``y`` reordered to
    pair with ``x``. Exact (Hungarian algorithm); ``power=2`` gives the squared-distance coupling.
    """
    from scipy.optimize import linear_sum_assignment

    check_choice(power, "power", POWERS)
    x64, y64 = _check_sets(x, y)
    cost = torch.cdist(x64, y64) ** power  # C_ij = |x_i - y_j|^power
    rows, cols = linear_sum_assignment(cost.numpy())
    sigma = np.empty_like(cols)
    sigma[rows] = cols
    return torch.from_numpy(sigma).long()


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def wasserstein1_points(x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Exact :math:`W_1` between two equal-size point sets with uniform weights, (3): ``(n, d), (n, d) -> float``."""
    sigma = optimal_assignment(x, y, power=1)
    x64, y64 = x.detach().double().cpu(), y.detach().double().cpu()
    return float((x64 - y64[sigma]).norm(dim=1).mean())  # (1/n) sum_i |x_i - y_sigma(i)|


def wasserstein1_line(log_p: torch.Tensor, log_q: torch.Tensor, cell: float) -> float:
    r""":math:`W_1(p, q) = \int |F_p - F_q|\,dx` on a uniform grid of the line, (2).

    ``log_p``, ``log_q``: ``(G,)`` log-densities at the grid points (``-inf`` for zero density), ``cell`` the
    spacing. The CDFs are cumulative sums of the normalised masses, so each density is renormalised over the
    grid first; the grid must cover the mass of both (each sum times ``cell`` within 1e-3 of 1).
    """
    for name, t in (("log_p", log_p), ("log_q", log_q)):
        check_tensor(t, name, ndim=1, floating=True)
        if torch.isnan(t).any() or (t == float("inf")).any():
            raise ValueError(f"{name} must hold log-densities: finite values or -inf (zero density)")
    if log_q.shape != log_p.shape:
        raise ValueError(f"log_q must have the same shape as log_p, {tuple(log_p.shape)}; got {tuple(log_q.shape)}")
    cell = check_positive_float(cell, "cell")
    masses = []
    for name, t in (("log_p", log_p), ("log_q", log_q)):
        mass = torch.exp(t.double()) * cell  # p(x_i) dx
        total = float(mass.sum())
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"{name} must be a density whose mass on the grid is 1 (sum exp({name}) * cell); got "
                             f"{total:.4g}. Widen or refine the grid, or check cell (the grid spacing)")
        masses.append(mass / mass.sum())
    cdf_gap = torch.cumsum(masses[0] - masses[1], dim=0)  # F_p(x_i) - F_q(x_i)
    return float(cdf_gap.abs().sum() * cell)  # int |F_p - F_q| dx                                    (2)
