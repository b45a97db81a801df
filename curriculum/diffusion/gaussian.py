r"""Gaussian data :math:`x_0 \sim N(m, S)`: the one case where every diffusion quantity has a closed form.

Because the forward process only scales and adds Gaussian noise, every marginal stays Gaussian,

.. math:: q(x_t) = N\big(\sqrt{\bar\alpha_t}\,m,\ \Sigma_t\big),\quad \Sigma_t = \bar\alpha_t S + (1-\bar\alpha_t) I, (10)

and the optimal noise predictor (the minimiser of the simple loss at step ``t``) is the posterior mean of the
noise, affine in :math:`x_t`:

.. math:: \varepsilon^*(x_t, t) = E[\varepsilon \mid x_t] = \sqrt{1-\bar\alpha_t}\;\Sigma_t^{-1}
          \big(x_t - \sqrt{\bar\alpha_t}\,m\big) = -\sqrt{1-\bar\alpha_t}\,\nabla_{x_t}\log q(x_t).       (11)

Plugging (11) into a sampler gives a "perfectly trained network", so any error left is the sampler's own.
With :math:`\eta = 0` DDIM is then an affine map of :math:`x_T`, and ``affine_pushforward`` computes the exact
mean and covariance of its output for :math:`x_T \sim N(0, I)`, with no Monte Carlo error. With :math:`\eta > 0`
every step is an affine map plus independent Gaussian noise, and ``sampler_moments`` carries the mean and
covariance through the chain step by step, again exactly.

Shapes: ``mean (d,)``, ``cov (d, d)``, points ``(B, d)``. Everything is float64 unless the input is not.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..checks import check_positive_int, check_tensor
from ..gaussians import Gaussian, affine_pushforward
from .forward import _check_schedule
from .samplers import _check_eta, ddim_step, timesteps
from .schedule import NoiseSchedule, check_steps

__all__ = ["GaussianData", "affine_pushforward", "sampler_moments"]  # affine_pushforward lives in gaussians


@dataclass(frozen=True, eq=False)
class GaussianData(Gaussian):
    """:math:`N(m, S)` data in ``d`` dimensions (``curriculum.gaussians.Gaussian``: ``mean (d,)``, ``cov (d, d)``,
    ``sample``, ``log_prob``, ``frechet_to``) with the diffusion closed forms (10) and (11) added."""

    def marginal(self, schedule: NoiseSchedule, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean ``(d,)`` and covariance ``(d, d)`` of :math:`q(x_t)` (10), for a step ``t`` in ``0..T``."""
        _check_schedule(schedule)
        check_steps(torch.tensor([t]), schedule, allow_zero=True)
        alpha_bar = schedule.alpha_bar[t]
        eye = torch.eye(self.dim, dtype=torch.float64)
        return alpha_bar.sqrt() * self.mean, alpha_bar * self.cov + (1 - alpha_bar) * eye  # (10)

    def log_prob_t(self, schedule: NoiseSchedule, x_t: torch.Tensor, t: int) -> torch.Tensor:
        r""":math:`\log q(x_t)` (10) at points ``x_t (B, d)``: ``(B,)``. Differentiable in ``x_t``."""
        check_tensor(x_t, "x_t", shape=(None, self.dim), floating=True)
        mean, cov = self.marginal(schedule, t)
        dist = torch.distributions.MultivariateNormal(mean.to(x_t), covariance_matrix=cov.to(x_t))
        return dist.log_prob(x_t)

    def optimal_eps(self, schedule: NoiseSchedule) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        r"""The exact noise predictor (11) as ``eps_model(x_t (B, d), t (B,) int64) -> (B, d)``."""
        _check_schedule(schedule)
        eigenvalues, eigenvectors = self._eig

        def eps_star(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            check_tensor(x_t, "x_t", shape=(None, self.dim), floating=True)
            check_steps(t, schedule, x_t.shape[0])
            alpha_bar = schedule.alpha_bar[t.cpu()].to(x_t)[:, None]  # (B, 1)
            lam, u = eigenvalues.to(x_t), eigenvectors.to(x_t)
            centred = x_t - alpha_bar.sqrt() * self.mean.to(x_t)  # x_t - sqrt(abar) m
            # Sigma_t^{-1} v = U diag(1 / (abar lam + 1 - abar)) U^T v, row by row
            coords = (centred @ u) / (alpha_bar * lam + 1 - alpha_bar)
            return (1 - alpha_bar).sqrt() * (coords @ u.T)  # (11)
        return eps_star


def sampler_moments(eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], schedule: NoiseSchedule,
                    num_steps: int, eta: float, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Exact mean ``(d,)`` and covariance ``(d, d)`` (float64) of the DDIM sampler's output (``eta = 1``:
    ancestral sampling) over ``timesteps(schedule, num_steps)`` from :math:`x_T \sim N(0, I_d)`, for an
    ``eps_model`` that is affine in :math:`x_t` (such as ``GaussianData.optimal_eps``).

    Each step is :math:`x_s = A x_t + b + \sigma z`: with :math:`x_t \sim N(m, C)`, write :math:`x_t = m + L u`
    (:math:`C = L L^T`, :math:`u \sim N(0, I)`); ``affine_pushforward`` of :math:`u \mapsto` the step's mean
    gives :math:`A m + b` and :math:`A C A^T`, and the fresh noise adds :math:`\sigma^2 I`.
    """
    _check_schedule(schedule)
    check_positive_int(num_steps, "num_steps")
    check_positive_int(dim, "dim")
    eta = _check_eta(eta)
    steps = timesteps(schedule, num_steps)
    mean = torch.zeros(dim, dtype=torch.float64)
    cov = torch.eye(dim, dtype=torch.float64)
    for t, s in zip(steps[:-1].tolist(), steps[1:].tolist()):
        chol = torch.linalg.cholesky(cov)

        def step_mean(u: torch.Tensor, t: int = t, s: int = s, m: torch.Tensor = mean,
                      chol: torch.Tensor = chol) -> torch.Tensor:
            x_t = m + u @ chol.T  # u ~ N(0, I) -> x_t ~ N(m, C)
            t_vec = torch.full((len(x_t),), t)
            s_vec = torch.full((len(x_t),), s)
            return ddim_step(schedule, x_t, t_vec, s_vec, eps_model(x_t, t_vec), eta=eta,
                             noise=torch.zeros_like(x_t))

        mean, cov = affine_pushforward(step_mean, dim)
        alpha_bar_t, alpha_bar_s = schedule.alpha_bar[t], schedule.alpha_bar[s]
        sigma2 = eta**2 * (1 - alpha_bar_s) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_s)  # sigma^2 of (9)
        cov = cov + sigma2 * torch.eye(dim, dtype=torch.float64)
    return mean, cov
