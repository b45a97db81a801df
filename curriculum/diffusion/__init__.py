r"""Denoising diffusion, in separate pieces that run unchanged on 2-D points ``(B, 2)`` and images ``(B, C, H, W)``.

- ``schedule``  the noise schedule: :math:`\beta_t, \alpha_t, \bar\alpha_t`, SNR, posterior variance (linear, cosine)
- ``forward``   the forward process: one chain step, :math:`q(x_t \mid x_0)`, the posterior
                :math:`q(x_{t-1} \mid x_t, x_0)`, conversions between :math:`\varepsilon`, :math:`x_0` and the score
- ``losses``    the simplified loss :math:`\lVert\varepsilon - \varepsilon_\theta\rVert^2`, the per-step KL term
                of the variational bound and its weight
- ``samplers``  ancestral sampling (DDPM, algorithm 2) and DDIM with its :math:`\eta` parameter, on any
                decreasing subsequence of steps; ``DiffusionModel`` wraps a trained network as a model with
                ``sample(n, generator)`` (``curriculum.protocol``)
- ``gaussian``  Gaussian data (``curriculum.gaussians.Gaussian`` plus the diffusion closed forms), where the
                optimal noise predictor and every marginal are known exactly
- ``pretrained`` the 8x8-digits noise predictor: its configuration, training command and shipped weights

The network is not here: any ``eps_model(x_t, t) -> eps`` works, e.g. ``nets.TimeMLP`` or ``nets.UNet`` built with
``time_scale=1000 / T`` so that integer steps ``t = 1..T`` span the same sinusoidal phases as ``t / T`` in [0, 1].

Step convention: paper steps :math:`t = 1, \dots, T`; every schedule tensor has length ``T + 1`` and index
``t`` holds the value at step ``t``, with :math:`\bar\alpha_0 = 1` (no noise) at index 0.
"""
from .forward import (eps_from_score, eps_from_x0, q_mean_variance, q_posterior, q_sample, q_step, score_from_eps,
                      x0_from_eps)
from .gaussian import GaussianData, affine_pushforward, sampler_moments
from .losses import kl_term, simple_loss, vlb_weight
from .samplers import DiffusionModel, ancestral_step, ddim_sample, ddim_step, ddpm_sample, timesteps
from .schedule import NoiseSchedule, cosine_schedule, extract, linear_schedule

__all__ = [
    "NoiseSchedule", "linear_schedule", "cosine_schedule", "extract",
    "q_step", "q_sample", "q_mean_variance", "q_posterior", "x0_from_eps", "eps_from_x0", "score_from_eps",
    "eps_from_score",
    "simple_loss", "kl_term", "vlb_weight",
    "timesteps", "ancestral_step", "ddim_step", "ddpm_sample", "ddim_sample", "DiffusionModel",
    "GaussianData", "affine_pushforward", "sampler_moments",
]
