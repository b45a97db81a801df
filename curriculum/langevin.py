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

A chain confined to a box (an energy-based model defined on a bounded domain) is the projected variant: each
update (1) is followed by clipping to the box (``box``), whose stationary law approaches :math:`p` restricted to
the box as :math:`h \to 0`.

Symbols and shapes: ``x`` points ``(B, *dims)``; ``score(x)`` :math:`\nabla_x \log p(x)`, same shape as ``x``;
``step_size`` :math:`h`; ``noise_scale`` the standard deviation of the added noise, which (1) fixes to
:math:`\sqrt{2h}`; ``n_steps`` the number of updates (1); ``s`` a Gaussian's standard deviation.
Noise is drawn with an explicit ``torch.Generator`` on the device of ``x``, so chains repeat exactly.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .checks import check_callable, check_positive_float, check_positive_int, check_tensor
from .grading import reference

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


def _checked_noise_scale(step_size: float, noise_scale: float | None) -> float:
    h = check_positive_float(step_size, "step_size")
    if noise_scale is not None:
        sigma = check_positive_float(noise_scale, "noise_scale")
        if not math.isclose(sigma, math.sqrt(2 * h), rel_tol=1e-6):
            raise ValueError(f"noise_scale must be sqrt(2 * step_size) = {math.sqrt(2 * h):.6g} for the chain to "
                             f"sample p (step_size={h:g}); got {sigma:.6g}. A noise scale sigma with step h samples "
                             f"p^(2h / sigma^2) instead; to sample a tempered density, scale the score, not the noise")
    return h


def _checked_box(box: tuple[torch.Tensor | float, torch.Tensor | float] | None, x: torch.Tensor):
    if box is None:
        return None
    if len(box) != 2:
        raise ValueError(f"box must be a pair (low, high), got {len(box)} items")
    low, high = (torch.as_tensor(b, dtype=x.dtype, device=x.device) for b in box)
    if not (low < high).all():
        raise ValueError(f"box must have low < high in every coordinate, got low={low.tolist()}, high={high.tolist()}")
    return low, high


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def langevin_step(x: torch.Tensor, score: Score, step_size: float, generator: torch.Generator | None = None,
                  noise_scale: float | None = None) -> torch.Tensor:
    r"""One ULA update (1): :math:`x + h\,\mathrm{score}(x) + \sqrt{2h}\,\varepsilon`. ``(B, *dims)`` -> same.

    ``noise_scale``, when given, must equal :math:`\sqrt{2h}` (a caller's check on the pairing in (1))."""
    check_tensor(x, "x", min_ndim=1, floating=True)
    check_callable(score, "score", "score(x) -> grad log p(x), shaped like x")
    h = _checked_noise_scale(step_size, noise_scale)
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + h * _checked_score(score, x) + math.sqrt(2 * h) * noise  # (1)


def langevin(score: Score, x0: torch.Tensor, step_size: float, n_steps: int,
             generator: torch.Generator | None = None, keep_every: int | None = None,
             box: tuple | None = None, noise_scale: float | None = None) -> LangevinResult:
    """``n_steps`` ULA updates from ``x0`` (each of the B rows an independent chain). ``keep_every``: also keep
    the points every so many steps. ``box = (low, high)`` (scalars or per-coordinate tensors): clip every update
    into the box (projected ULA). Raises ``LangevinDiverged`` at the first non-finite point, with the step."""
    check_tensor(x0, "x0", min_ndim=1, floating=True)
    check_positive_int(n_steps, "n_steps")
    _checked_noise_scale(step_size, noise_scale)
    bounds = _checked_box(box, x0)
    if keep_every is not None:
        check_positive_int(keep_every, "keep_every")
    x, kept = x0.detach(), []
    for k in range(1, n_steps + 1):
        x = langevin_step(x, score, step_size, generator).detach()
        if bounds is not None:
            x = torch.clamp(x, *bounds)
        if not torch.isfinite(x).all():
            raise LangevinDiverged(f"the Langevin chain produced NaN or inf at step {k} of {n_steps} with "
                                   f"step_size={step_size:g}. Lower step_size (on N(0, s^2) the chain diverges "
                                   f"for step_size >= 2 s^2), or check that score(x) is finite")
        if keep_every is not None and k % keep_every == 0:
            kept.append(x.clone())
    return LangevinResult(x, torch.stack(kept) if kept else None)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def ula_stationary_variance(std: float, step_size: float) -> float:
    r"""(2): the stationary variance of ULA on :math:`N(0, s^2)` with the exact score, :math:`s^2 / (1 - h/(2s^2))`.

    Raises for :math:`h \ge 2 s^2`, where the chain has no stationary distribution (it diverges)."""
    s = check_positive_float(std, "std")
    h = check_positive_float(step_size, "step_size")
    if h >= 2 * s * s:
        raise ValueError(f"step_size must be below 2 std^2 = {2 * s * s:g} for the chain to have a stationary "
                         f"distribution; got {h:g}")
    return s * s / (1 - h / (2 * s * s))  # (2)
