r"""Samplers: ancestral sampling (DDPM, algorithm 2) and DDIM, on any decreasing subsequence of steps.

Symbols and shapes (``x_t``, ``eps``, ``noise``: ``(B, *dims)``; ``t``, ``s``: ``(B,)`` int64 steps, ``s < t``)

===========  ==================================================================================================
``x_T``      the starting noise, N(0, I), drawn by the caller (so "same noise in" can be tested)
``s``        the next (earlier) step; ``s = t - 1`` for the full chain
``eta``      :math:`\eta \in [0, 1]`: DDIM's stochasticity; 0 = deterministic, 1 = ancestral (DDPM)
``sigma``    :math:`\sigma_{t \to s}`, the standard deviation of the fresh noise of one step
``x0_hat``   :math:`\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon_\theta) / \sqrt{\bar\alpha_t}` (4)
===========  ==================================================================================================

.. math::

    \text{ancestral (alg. 2):}\quad x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}
        \varepsilon_\theta(x_t, t)\Big) + \sigma_t z,\quad \sigma_t^2 \in \{\tilde\beta_t, \beta_t\},\ z = 0
        \text{ at } t = 1                                                                                  && (8)\\
    \text{DDIM:}\quad x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1 - \bar\alpha_s - \sigma^2}\,\varepsilon_\theta
        + \sigma z,\quad \sigma = \eta\sqrt{\frac{1-\bar\alpha_s}{1-\bar\alpha_t}}
        \sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_s}}                                                         && (9)

With :math:`\eta = 1` and ``s = t - 1``, (9) is (8) with :math:`\sigma_t^2 = \tilde\beta_t`; with
:math:`\eta = 1` on a subsequence it is ancestral sampling of the shorter chain with the same
:math:`\bar\alpha` values, which is how ``ddpm_sample`` runs with fewer than ``T`` steps.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ..checks import check_choice, check_positive_float, check_positive_int, check_tensor
from ..tensors import append_dims
from ..protocol import model_device
from ..runtime import progress
from .forward import _check_data, _check_like, _check_schedule, _noise, eps_from_x0, q_posterior, x0_from_eps
from .losses import call_model, reverse_mean
from .schedule import NoiseSchedule, check_steps, extract
from ..grading import reference

__all__ = ["timesteps", "ancestral_step", "ddim_step", "ddpm_sample", "ddim_sample", "DiffusionModel", "VARIANCES"]

VARIANCES = ("posterior", "beta")


def timesteps(schedule: NoiseSchedule, num_steps: int) -> torch.Tensor:
    """The ``num_steps + 1`` evenly spaced steps ``T = tau_S > ... > tau_0 = 0`` a sampler visits, int64.

    ``num_steps = T`` gives every step ``T, T-1, ..., 0``; fewer steps skip (the network is evaluated
    ``num_steps`` times).
    """
    _check_schedule(schedule)
    check_positive_int(num_steps, "num_steps")
    if num_steps > schedule.T:
        raise ValueError(f"num_steps must be at most T = {schedule.T}, got {num_steps}")
    steps = torch.linspace(schedule.T, 0, num_steps + 1, dtype=torch.float64).round().long()
    assert bool((steps[:-1] > steps[1:]).all()), "rounded steps must be strictly decreasing"
    return steps


def _check_eta(eta: object) -> float:
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be a number in [0, 1] (0 = deterministic DDIM, 1 = ancestral), got {eta!r}")
    return float(eta)


def _clip(x0_hat: torch.Tensor, clip_x0: float | None) -> torch.Tensor:
    return x0_hat if clip_x0 is None else x0_hat.clamp(-clip_x0, clip_x0)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def ancestral_step(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor,
                   noise: torch.Tensor | None = None, variance: str = "posterior", clip_x0: float | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    r"""One step of algorithm 2 (8): ``x_t (B, *dims)``, ``t (B,)`` in ``1..T``, ``eps`` = :math:`\varepsilon_\theta`
    -> :math:`x_{t-1}`.

    ``variance``: ``"posterior"`` (:math:`\sigma_t^2 = \tilde\beta_t`) or ``"beta"`` (:math:`\sigma_t^2 = \beta_t`).
    ``noise`` is :math:`z` (fresh N(0, I) from ``generator`` if omitted); no noise is added where ``t = 1``.
    ``clip_x0``: clip :math:`\hat x_0` to ``[-clip_x0, clip_x0]`` and use the posterior mean (3) of the clipped
    estimate (the same mean as (8) when nothing is clipped).
    """
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0])
    check_tensor(eps, "eps", floating=True)
    _check_like(eps, "eps", x_t, "x_t")
    check_choice(variance, "variance", VARIANCES)
    if clip_x0 is None:
        mean = reverse_mean(schedule, x_t, t, eps)  # (8)
    else:
        check_positive_float(clip_x0, "clip_x0")
        x0_hat = _clip(x0_from_eps(schedule, x_t, t, eps), clip_x0)  # (4), clipped
        mean, _ = q_posterior(schedule, x0_hat, x_t, t)  # (3)
    var_table = schedule.posterior_variance if variance == "posterior" else schedule.betas
    sigma = extract(var_table, t, x_t).sqrt()
    z = _noise(x_t, noise, generator, "noise", "x_t")
    not_last = append_dims((t > 1).to(device=x_t.device, dtype=x_t.dtype), x_t.ndim)  # z = 0 at t = 1
    return mean + not_last * sigma * z


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def ddim_step(schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor, s: torch.Tensor, eps: torch.Tensor,
              eta: float = 0.0, noise: torch.Tensor | None = None, clip_x0: float | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
    r"""One DDIM step (9) from step ``t`` to an earlier step ``s`` (``0 <= s < t``): ``(B, *dims)`` -> ``x_s``.

    ``eta = 0`` draws no noise and is a deterministic map of ``x_t``. ``clip_x0`` clips :math:`\hat x_0` and
    recomputes :math:`\varepsilon` from the clipped value, so that both terms of (9) stay consistent.
    """
    _check_schedule(schedule)
    _check_data(x_t, "x_t")
    check_steps(t, schedule, x_t.shape[0])
    check_steps(s, schedule, x_t.shape[0], allow_zero=True, name="s")
    if bool((s >= t).any()):
        raise ValueError("s must be an earlier step than t (s < t) for every sample")
    check_tensor(eps, "eps", floating=True)
    _check_like(eps, "eps", x_t, "x_t")
    eta = _check_eta(eta)
    x0_hat = x0_from_eps(schedule, x_t, t, eps)  # (4)
    if clip_x0 is not None:
        check_positive_float(clip_x0, "clip_x0")
        x0_hat = _clip(x0_hat, clip_x0)
        eps = eps_from_x0(schedule, x_t, t, x0_hat)
    alpha_bar_t = extract(schedule.alpha_bar, t, x_t)
    alpha_bar_s = extract(schedule.alpha_bar, s, x_t)
    sigma = eta * ((1 - alpha_bar_s) / (1 - alpha_bar_t)).sqrt() * (1 - alpha_bar_t / alpha_bar_s).sqrt()  # (9)
    direction = (1 - alpha_bar_s - sigma**2).clamp(min=0).sqrt() * eps  # points back along the predicted noise
    x_s = alpha_bar_s.sqrt() * x0_hat + direction  # (9), eta = 0 part
    if eta > 0:
        x_s = x_s + sigma * _noise(x_t, noise, generator, "noise", "x_t")
    return x_s


def _check_start(x_T: object) -> torch.Tensor:
    check_tensor(x_T, "x_T", min_ndim=2, floating=True)
    if not bool(torch.isfinite(x_T).all()):  # otherwise the first step's NaN would be blamed on the network
        raise ValueError(f"x_T contains {int((~torch.isfinite(x_T)).sum())} NaN or infinite entries; start the "
                         f"sampler from finite noise, e.g. torch.randn(shape, generator=...)")
    return x_T


def _run(eps_model: Callable, schedule: NoiseSchedule, x_T: torch.Tensor, steps: torch.Tensor,
         step: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
         y: torch.Tensor | None, desc: str, return_path: bool):
    x = x_T
    path = [(int(steps[0]), x_T.detach().clone())] if return_path else None
    batch = x.shape[0]
    with torch.no_grad():
        for i in progress(range(len(steps) - 1), total=len(steps) - 1, desc=desc):
            t = torch.full((batch,), int(steps[i]), dtype=torch.int64, device=x.device)
            s = torch.full((batch,), int(steps[i + 1]), dtype=torch.int64, device=x.device)
            eps = call_model(eps_model, x, t, y)
            if not torch.isfinite(eps).all():
                raise FloatingPointError(
                    f"eps_model returned NaN or infinite values at step t = {int(steps[i])}; the network may have "
                    f"diverged in training (retrain with a lower lr or grad_clip) or the inputs are not finite")
            x = step(x, t, s, eps)
            if path is not None:
                path.append((int(steps[i + 1]), x.detach().clone()))
    return (x, path) if return_path else x


def ddpm_sample(eps_model: Callable, schedule: NoiseSchedule, x_T: torch.Tensor, num_steps: int | None = None,
                variance: str = "posterior", clip_x0: float | None = None, y: torch.Tensor | None = None,
                generator: torch.Generator | None = None, return_path: bool = False):
    r"""Ancestral sampling from ``x_T (B, *dims)``; returns :math:`x_0` (and ``[(t, x_t), ...]`` with
    ``return_path``).

    ``num_steps = None`` or ``T``: algorithm 2 (8) over every step, ``T`` network evaluations. Fewer steps:
    ancestral sampling of the chain that keeps :math:`\bar\alpha` at ``timesteps(schedule, num_steps)``, i.e.
    DDIM (9) with :math:`\eta = 1` (``variance`` must then be ``"posterior"``). Noise comes from ``generator``.
    """
    _check_schedule(schedule)
    x_T = _check_start(x_T)
    check_choice(variance, "variance", VARIANCES)
    num_steps = schedule.T if num_steps is None else check_positive_int(num_steps, "num_steps")
    steps = timesteps(schedule, num_steps)
    if num_steps == schedule.T:
        def step(x, t, s, eps):
            return ancestral_step(schedule, x, t, eps, variance=variance, clip_x0=clip_x0, generator=generator)
    else:
        if variance != "posterior":
            raise ValueError("ddpm_sample with num_steps < T uses the respaced posterior variance; "
                             "pass variance='posterior' or num_steps=T")

        def step(x, t, s, eps):
            return ddim_step(schedule, x, t, s, eps, eta=1.0, clip_x0=clip_x0, generator=generator)
    return _run(eps_model, schedule, x_T, steps, step, y, f"DDPM {num_steps} steps", return_path)


def ddim_sample(eps_model: Callable, schedule: NoiseSchedule, x_T: torch.Tensor, num_steps: int = 50,
                eta: float = 0.0, clip_x0: float | None = None, y: torch.Tensor | None = None,
                generator: torch.Generator | None = None, return_path: bool = False):
    r"""DDIM (9) from ``x_T (B, *dims)`` over ``timesteps(schedule, num_steps)``: ``num_steps`` network
    evaluations. With ``eta = 0`` the result is a deterministic function of ``x_T``."""
    _check_schedule(schedule)
    x_T = _check_start(x_T)
    check_positive_int(num_steps, "num_steps")
    eta = _check_eta(eta)
    steps = timesteps(schedule, num_steps)

    def step(x, t, s, eps):
        return ddim_step(schedule, x, t, s, eps, eta=eta, clip_x0=clip_x0, generator=generator)
    return _run(eps_model, schedule, x_T, steps, step, y, f"DDIM {num_steps} steps", return_path)


class DiffusionModel:
    """A trained noise predictor with its schedule and sampler, as a generative model (``curriculum.protocol``):
    ``sample(n, generator)`` draws :math:`x_T \\sim N(0, I)` of shape ``(n, *data_shape)`` on the network's
    device and runs DDIM (9) with ``eta`` over ``num_steps`` steps (``eta = 1``: ancestral sampling), all noise
    from ``generator``. Diffusion models have no tractable exact likelihood here, so there is no
    ``log_likelihood``: compare them by samples.
    """

    def __init__(self, eps_model: Callable, schedule: NoiseSchedule, data_shape: tuple[int, ...],
                 num_steps: int = 50, eta: float = 0.0) -> None:
        if not callable(eps_model):
            raise TypeError(f"eps_model must be callable as eps_model(x_t, t), got {type(eps_model).__name__}")
        _check_schedule(schedule)
        if not isinstance(data_shape, tuple) or not data_shape or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in data_shape):
            raise ValueError(f"data_shape must be a non-empty tuple of positive integers, e.g. (2,) or (1, 8, 8); "
                             f"got {data_shape!r}")
        self.eps_model, self.schedule, self.data_shape = eps_model, schedule, data_shape
        self.num_steps, self.eta = check_positive_int(num_steps, "num_steps"), _check_eta(eta)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples ``(n, *data_shape)``."""
        check_positive_int(n, "n")
        device = model_device(self.eps_model)
        x_T = torch.randn((n, *self.data_shape), generator=generator, device=device)
        with torch.no_grad():
            return ddim_sample(self.eps_model, self.schedule, x_T, self.num_steps, eta=self.eta, generator=generator)
