r"""Training objectives: the simplified DDPM loss, and the per-step KL term of the variational bound it comes from.

Symbols and shapes (``x0``, ``x_t``, ``eps``, ``eps_pred``: ``(B, *dims)``; ``t``: ``(B,)`` int64 steps)

==============  ===========================================================================================
``eps_model``   the network, ``eps_model(x_t, t) -> eps_theta`` (``eps_model(x_t, t, y)`` with labels)
``eps_pred``    :math:`\varepsilon_\theta(x_t, t)`
``mu_theta``    :math:`\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\big(x_t -
                \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\varepsilon_\theta\big)`, the reverse mean in
                :math:`\varepsilon`-form
``lambda_t``    the weight of the VLB term, :math:`\lambda_t = \frac{\beta_t^2}{2\sigma_t^2\alpha_t(1-\bar\alpha_t)}`
==============  ===========================================================================================

With :math:`p_\theta(x_{t-1} \mid x_t) = N(\mu_\theta, \sigma_t^2 I)` and :math:`\sigma_t^2 = \tilde\beta_t`,

.. math::

    L_{t-1} = KL\big(q(x_{t-1} \mid x_t, x_0)\,\|\,p_\theta(x_{t-1} \mid x_t)\big)
            = \frac{\lVert\tilde\mu_t - \mu_\theta\rVert^2}{2\sigma_t^2}
            = \lambda_t \lVert\varepsilon - \varepsilon_\theta(x_t, t)\rVert^2                            && (6)\\
    L_{simple} = E_{t \sim U\{1..T\},\,x_0,\,\varepsilon}\,\lVert\varepsilon - \varepsilon_\theta(x_t, t)\rVert^2 && (7)

(7) drops :math:`\lambda_t` (sets every weight to 1) and averages over dimensions instead of summing.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ..checks import check_tensor
from .forward import _check_data, _check_like, _check_schedule, _noise, q_posterior, q_sample
from .schedule import NoiseSchedule, check_steps, extract
from ..grading import reference

__all__ = ["simple_loss", "kl_term", "vlb_weight", "call_model", "reverse_mean"]


def call_model(eps_model: Callable, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``eps_model(x_t, t)`` (or ``eps_model(x_t, t, y)``), checked to return a tensor shaped like ``x_t``."""
    if not callable(eps_model):
        raise TypeError(f"eps_model must be callable as eps_model(x_t, t), got {type(eps_model).__name__}")
    out = eps_model(x_t, t) if y is None else eps_model(x_t, t, y)
    if not isinstance(out, torch.Tensor) or out.shape != x_t.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"eps_model(x_t, t) must return a tensor shaped like x_t {tuple(x_t.shape)}, got {got}")
    return out


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def simple_loss(eps_model: Callable, schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor | None = None,
                eps: torch.Tensor | None = None, y: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    r"""The simplified loss (7): mean over the batch and over dimensions of
    :math:`(\varepsilon - \varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\varepsilon, t))^2`.

    ``x0 (B, *dims)`` -> scalar. ``t`` defaults to uniform steps in ``1..T`` and ``eps`` to N(0, I) noise,
    both drawn from ``generator`` (or the global RNG, which ``train.fit`` seeds). ``y``: optional labels.
    Use with ``train.fit`` as ``loss_fn = lambda model, x0: simple_loss(model, schedule, x0)``.
    """
    _check_schedule(schedule)
    _check_data(x0, "x0")
    if t is None:
        t = schedule.sample_t(x0.shape[0], generator=generator, device=x0.device)
    check_steps(t, schedule, x0.shape[0])
    eps = _noise(x0, eps, generator)
    x_t = q_sample(schedule, x0, t, eps)  # (2)
    eps_pred = call_model(eps_model, x_t, t, y)
    return ((eps - eps_pred) ** 2).mean()  # (7)


def vlb_weight(schedule: NoiseSchedule, t: torch.Tensor) -> torch.Tensor:
    r""":math:`\lambda_t = \beta_t^2 / (2\tilde\beta_t\alpha_t(1-\bar\alpha_t))` for ``t (B,)`` in ``2..T``
    (float64, ``(B,)``): the factor (6) in front of the noise error that the simple loss drops.
    ``t = 1`` is excluded: there :math:`\tilde\beta_1 = 0` and the bound uses the decoder term :math:`L_0`."""
    _check_schedule(schedule)
    check_tensor(t, "t", ndim=1, dtype=torch.int64)
    if t.numel() and (int(t.min()) < 2 or int(t.max()) > schedule.T):
        raise ValueError(f"t must hold steps in [2, {schedule.T}] (beta_tilde_1 = 0, so L_0 replaces the KL at "
                         f"t = 1), got values in [{int(t.min())}, {int(t.max())}]")
    t = t.cpu()
    beta, alpha = schedule.betas[t], schedule.alphas[t]
    return beta**2 / (2 * schedule.posterior_variance[t] * alpha * (1 - schedule.alpha_bar[t]))  # (6)


def reverse_mean(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, eps_pred: torch.Tensor) -> torch.Tensor:
    r""":math:`\mu_\theta(x_t, t) = (x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\varepsilon_\theta)/\sqrt{\alpha_t}`,
    ``(B, *dims)``: the posterior mean (3) with :math:`x_0` replaced by its estimate (4)."""
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    _check_like(eps_pred, "eps_pred", x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0])
    beta = extract(schedule.betas, t, x_t)
    alpha = extract(schedule.alphas, t, x_t)
    alpha_bar = extract(schedule.alpha_bar, t, x_t)
    return (x_t - beta / (1.0 - alpha_bar).sqrt() * eps_pred) / alpha.sqrt()


def kl_term(schedule: NoiseSchedule, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor,
            eps_pred: torch.Tensor) -> torch.Tensor:
    r"""The VLB term (6) :math:`KL(q(x_{t-1} \mid x_t, x_0) \,\|\, N(\mu_\theta, \tilde\beta_t I))` per sample,
    summed over dimensions: ``(B,)``, for ``t`` in ``2..T``. Computed from the two Gaussians' means, not from
    the noise, so that (6) can be checked against ``vlb_weight * ||eps - eps_pred||^2``."""
    check_tensor(eps_pred, "eps_pred", floating=True)
    vlb_weight(schedule, t)  # validates 2 <= t <= T
    mean_q, var_q = q_posterior(schedule, x0, x_t, t)  # (3)
    mean_p = reverse_mean(schedule, x_t, t, eps_pred)
    # Equal variances: KL(N(a, s^2 I) || N(b, s^2 I)) = ||a - b||^2 / (2 s^2)
    return ((mean_q - mean_p) ** 2 / (2 * var_q)).flatten(1).sum(1)
