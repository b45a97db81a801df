r"""The forward (noising) process of DDPM and the identities that connect noise, clean data and the score.

Symbols and shapes (``x`` is ``(B, *dims)``: ``(B, 2)`` points or ``(B, C, H, W)`` images; ``t`` is ``(B,)``
int64 steps in ``1..T``)

============  ================================================================================================
``x0``        clean data :math:`x_0`
``x_t``       noisy data at step ``t``
``x_prev``    :math:`x_{t-1}`
``eps``       the standard normal noise :math:`\varepsilon` with :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 +
              \sqrt{1 - \bar\alpha_t}\,\varepsilon`
``score``     :math:`\nabla_{x_t} \log q(x_t)` (or of :math:`\log q(x_t \mid x_0)`)
============  ================================================================================================

Equations (numbers used in the comments)

.. math::

    q(x_t \mid x_{t-1}) &= N(\sqrt{\alpha_t}\,x_{t-1},\ \beta_t I)                                         && (1)\\
    q(x_t \mid x_0) &= N(\sqrt{\bar\alpha_t}\,x_0,\ (1 - \bar\alpha_t) I)                                   && (2)\\
    q(x_{t-1} \mid x_t, x_0) &= N(\tilde\mu_t, \tilde\beta_t I),\quad
    \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t} x_0
                + \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t} x_t                       && (3)\\
    x_0 &= \big(x_t - \sqrt{1 - \bar\alpha_t}\,\varepsilon\big) / \sqrt{\bar\alpha_t}                        && (4)\\
    \nabla_{x_t} \log q(x_t) &= -\,E[\varepsilon \mid x_t] / \sqrt{1 - \bar\alpha_t}                       && (5)
"""
from __future__ import annotations

import torch

from ..checks import check_tensor
from .schedule import NoiseSchedule, check_steps, extract
from ..grading import reference

__all__ = ["q_step", "q_sample", "q_mean_variance", "q_posterior", "x0_from_eps", "eps_from_x0",
           "score_from_eps", "eps_from_score"]


def _check_schedule(schedule: object) -> NoiseSchedule:
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule (linear_schedule(), cosine_schedule()), "
                        f"got {type(schedule).__name__}")
    return schedule


def _check_data(x: object, name: str) -> torch.Tensor:
    return check_tensor(x, name, min_ndim=2, floating=True)


def _check_like(a: object, a_name: str, b: torch.Tensor, b_name: str) -> None:
    """``a`` must be a tensor with ``b``'s shape and dtype (so the output's dtype follows the data)."""
    check_tensor(a, a_name, floating=True)
    if a.shape != b.shape:  # type: ignore[union-attr]
        raise ValueError(f"{a_name} must have the same shape as {b_name} {tuple(b.shape)}, got {tuple(a.shape)}")
    if a.dtype != b.dtype:  # type: ignore[union-attr]
        raise TypeError(f"{a_name} must have the same dtype as {b_name} ({b.dtype}), got {a.dtype}")


def _noise(x: torch.Tensor, eps: torch.Tensor | None, generator: torch.Generator | None, name: str = "eps",
           like: str = "x") -> torch.Tensor:
    """``eps`` checked to match ``x`` in shape and dtype, or fresh N(0, I) noise like ``x`` from ``generator``."""
    if eps is None:
        return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    _check_like(eps, name, x, like)
    return eps


def q_step(schedule: NoiseSchedule, x_prev: torch.Tensor, t: torch.Tensor, eps: torch.Tensor | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    r"""One step of the forward chain (1): :math:`x_t = \sqrt{\alpha_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon`.

    ``x_prev (B, *dims)``, ``t (B,)`` -> ``x_t (B, *dims)``; ``eps`` defaults to fresh N(0, I) noise.
    """
    _check_schedule(schedule)
    _check_data(x_prev, "x_prev")
    check_steps(t, schedule, x_prev.shape[0])
    eps = _noise(x_prev, eps, generator)
    return extract(schedule.alphas, t, x_prev).sqrt() * x_prev + extract(schedule.betas, t, x_prev).sqrt() * eps  # (1)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Jump straight to step ``t`` with (2): :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`.

    ``x0 (B, *dims)``, ``t (B,)`` int64 in ``0..T`` (``t = 0`` returns ``x0``) -> ``x_t (B, *dims)``.
    NaN in ``x0`` gives NaN out, on purpose: this runs in every training step, where a check would cost a device
    sync, and the training loop stops with ``TrainingDiverged`` at the first non-finite loss.
    """
    _check_schedule(schedule)
    _check_data(x0, "x0")
    check_steps(t, schedule, x0.shape[0], allow_zero=True)
    eps = _noise(x0, eps, generator)
    alpha_bar = extract(schedule.alpha_bar, t, x0)
    return alpha_bar.sqrt() * x0 + (1.0 - alpha_bar).sqrt() * eps  # (2)


def q_mean_variance(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean ``(B, *dims)`` and variance ``(B, 1, ..., 1)`` of :math:`q(x_t \mid x_0)` (2)."""
    _check_schedule(schedule)
    _check_data(x0, "x0")
    check_steps(t, schedule, x0.shape[0], allow_zero=True)
    alpha_bar = extract(schedule.alpha_bar, t, x0)
    return alpha_bar.sqrt() * x0, 1.0 - alpha_bar


def q_posterior(schedule: NoiseSchedule, x0: torch.Tensor, x_t: torch.Tensor,
                t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean :math:`\tilde\mu_t` ``(B, *dims)`` and variance :math:`\tilde\beta_t` ``(B, 1, ..., 1)`` of
    :math:`q(x_{t-1} \mid x_t, x_0)` (3), for ``t (B,)`` in ``1..T``."""
    _check_schedule(schedule)
    _check_data(x0, "x0")
    _check_data(x_t, "x_t")
    _check_like(x_t, "x_t", x0, "x0")
    check_steps(t, schedule, x0.shape[0])
    beta = extract(schedule.betas, t, x0)
    alpha = extract(schedule.alphas, t, x0)
    alpha_bar = extract(schedule.alpha_bar, t, x0)
    alpha_bar_prev = extract(schedule.alpha_bar, t - 1, x0)
    coef_x0 = alpha_bar_prev.sqrt() * beta / (1.0 - alpha_bar)  # sqrt(abar_{t-1}) beta_t / (1 - abar_t)
    coef_xt = alpha.sqrt() * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar)  # sqrt(alpha_t)(1 - abar_{t-1})/(1 - abar_t)
    mean = coef_x0 * x0 + coef_xt * x_t  # (3)
    return mean, extract(schedule.posterior_variance, t, x0)


def x0_from_eps(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    r"""Invert (2) for the clean data (4): :math:`\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t}`."""
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    _check_like(eps, "eps", x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0], allow_zero=True)
    alpha_bar = extract(schedule.alpha_bar, t, x_t)
    return (x_t - (1.0 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()  # (4)


def eps_from_x0(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    r"""Invert (2) for the noise: :math:`\varepsilon = (x_t - \sqrt{\bar\alpha_t}\,x_0)/\sqrt{1-\bar\alpha_t}`;
    ``t`` in ``1..T``."""
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    _check_like(x0, "x0", x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0])
    alpha_bar = extract(schedule.alpha_bar, t, x_t)
    return (x_t - alpha_bar.sqrt() * x0) / (1.0 - alpha_bar).sqrt()


def score_from_eps(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    r"""The score (5): :math:`\nabla_{x_t}\log q(x_t) = -\varepsilon / \sqrt{1-\bar\alpha_t}` for the optimal
    :math:`\varepsilon_\theta(x_t, t) = E[\varepsilon \mid x_t]`; ``t`` in ``1..T``. The bridge to score matching."""
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    _check_like(eps, "eps", x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0])
    return -eps / (1.0 - extract(schedule.alpha_bar, t, x_t)).sqrt()  # (5)


def eps_from_score(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    r"""The inverse of (5): :math:`\varepsilon = -\sqrt{1-\bar\alpha_t}\,\nabla_{x_t}\log q(x_t)`."""
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    _check_like(score, "score", x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0])
    return -(1.0 - extract(schedule.alpha_bar, t, x_t)).sqrt() * score
