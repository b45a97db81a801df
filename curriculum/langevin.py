r"""Langevin dynamics: sampling from a density known through its score :math:`\nabla_x \log p(x)` only.

The overdamped Langevin SDE :math:`dX_t = \nabla \log p(X_t)\,dt + \sqrt{2}\,dW_t` has :math:`p` as its
stationary distribution (the Fokker-Planck equation's right-hand side vanishes at :math:`p`). Its Euler-Maruyama
discretisation with step :math:`h` is the unadjusted Langevin algorithm (ULA):

.. math:: x_{k+1} = x_k + h\,\nabla_x \log p(x_k) + \sqrt{2h}\,\varepsilon_k,\quad \varepsilon_k \sim N(0, I).  (1)

The step and the noise belong together: drift :math:`h` and noise variance :math:`2h` (written with a step
:math:`\eta = h` on the score, the noise scale is :math:`\sqrt{2\eta}`). Without a Metropolis correction the chain
is biased for every :math:`h > 0`. On :math:`N(0, s^2)` the chain is the AR(1) recursion
:math:`x_{k+1} = (1 - h/s^2)\,x_k + \sqrt{2h}\,\varepsilon_k`, whose stationary variance is

.. math:: v(h) = \frac{2h}{1 - (1 - h/s^2)^2} = \frac{s^2}{1 - h / (2 s^2)},\qquad 0 < h < 2 s^2,              (2)

larger than :math:`s^2` by the factor :math:`1/(1 - h/(2s^2))`, and divergent for :math:`h \ge 2s^2`.
The score of an energy-based model :math:`p = e^{-E}/Z` is :math:`-\nabla E`: the normaliser :math:`Z` never
enters, which is why Langevin is the sampler of energy-based and score-based models.

Symbols and shapes: ``x`` points ``(B, *dims)``; ``score(x)`` :math:`\nabla_x \log p(x)`, same shape as ``x``;
``step_size`` :math:`h`; ``n_steps`` the number of updates (1); ``s`` a Gaussian's standard deviation.
Noise is drawn with an explicit ``torch.Generator`` on the device of ``x``, so chains repeat exactly.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .checks import check_callable, check_positive_float, check_positive_int, check_tensor

__all__ = ["LangevinDiverged", "LangevinResult", "langevin_step", "langevin", "ula_stationary_variance"]

Score = Callable[[torch.Tensor], torch.Tensor]


class LangevinDiverged(RuntimeError):
    """A Langevin chain produced NaN or infinite points."""


@dataclass(frozen=True)
class LangevinResult:
    """The chain's last points ``(B, *dims)`` and, when kept, the points every ``keep_every`` steps
    ``(K, B, *dims)`` (``trajectory`` is ``None`` otherwise)."""

    x: torch.Tensor
    trajectory: torch.Tensor | None


def _checked_score(score: Score, x: torch.Tensor) -> torch.Tensor:
    g = score(x)
    if not isinstance(g, torch.Tensor) or g.shape != x.shape:
        shape = tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__
        raise ValueError(f"score(x) must return a tensor shaped like x, {tuple(x.shape)}; got {shape}")
    return g


def langevin_step(x: torch.Tensor, score: Score, step_size: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    r"""One ULA update (1): :math:`x + h\,\mathrm{score}(x) + \sqrt{2h}\,\varepsilon`. ``(B, *dims)`` -> same."""
    check_tensor(x, "x", min_ndim=1, floating=True)
    check_callable(score, "score", "score(x) -> grad log p(x), shaped like x")
    h = check_positive_float(step_size, "step_size")
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + h * _checked_score(score, x) + math.sqrt(2 * h) * noise  # (1)


def langevin(score: Score, x0: torch.Tensor, step_size: float, n_steps: int,
             generator: torch.Generator | None = None, keep_every: int | None = None) -> LangevinResult:
    """``n_steps`` ULA updates from ``x0`` (each of the B rows an independent chain). ``keep_every``: also keep
    the points every so many steps. Raises ``LangevinDiverged`` at the first non-finite point, with the step."""
    check_tensor(x0, "x0", min_ndim=1, floating=True)
    check_positive_int(n_steps, "n_steps")
    if keep_every is not None:
        check_positive_int(keep_every, "keep_every")
    x, kept = x0.detach(), []
    for k in range(1, n_steps + 1):
        x = langevin_step(x, score, step_size, generator).detach()
        if not torch.isfinite(x).all():
            raise LangevinDiverged(f"the Langevin chain produced NaN or inf at step {k} of {n_steps} with "
                                   f"step_size={step_size:g}. Lower step_size (on N(0, s^2) the chain diverges "
                                   f"for step_size >= 2 s^2), or check that score(x) is finite")
        if keep_every is not None and k % keep_every == 0:
            kept.append(x.clone())
    return LangevinResult(x, torch.stack(kept) if kept else None)


def ula_stationary_variance(std: float, step_size: float) -> float:
    r"""(2): the stationary variance of ULA on :math:`N(0, s^2)` with the exact score, :math:`s^2 / (1 - h/(2s^2))`.

    Raises for :math:`h \ge 2 s^2`, where the chain has no stationary distribution (it diverges)."""
    s = check_positive_float(std, "std")
    h = check_positive_float(step_size, "step_size")
    if h >= 2 * s * s:
        raise ValueError(f"step_size must be below 2 std^2 = {2 * s * s:g} for the chain to have a stationary "
                         f"distribution; got {h:g}")
    return s * s / (1 - h / (2 * s * s))  # (2)
