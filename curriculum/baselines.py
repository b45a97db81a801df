r"""Deliberately simple reference models, so learners see what "far from the limit" looks like.

``GaussianML`` fits one full-covariance Gaussian by maximum likelihood. Its estimates have closed forms,

.. math:: \hat\mu = \frac1N \sum_i x_i, \qquad \hat\Sigma = \frac1N \sum_i (x_i - \hat\mu)(x_i - \hat\mu)^\top,

and, because :math:`\mathrm{NLL}(q) = H(p) + \mathrm{KL}(p\|q)`, its test NLL minus the data's entropy is the
KL divergence from the data to the best single Gaussian: the price of a model family that is too simple.
The Gaussian algebra (density, entropy, sampling) is ``curriculum.gaussians.Gaussian``'s; this module adds the
fit. It follows the course's model protocol (``sample``, an exact ``log_likelihood``).

Symbols: ``mean`` :math:`\hat\mu` (D,), ``cov`` :math:`\hat\Sigma` (D, D), ``x`` data (N, D).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .checks import check_finite, check_tensor
from .gaussians import Gaussian
from .grading import reference

__all__ = ["GaussianML"]


@dataclass(frozen=True, eq=False)
class GaussianML(Gaussian):
    """One Gaussian fitted by maximum likelihood; ``log_prob``, ``sample`` and ``entropy`` in closed form.

    ``sample`` returns float32 points (like the data it was fitted to); ``log_prob`` returns ``x``'s dtype.
    """

    def __post_init__(self) -> None:
        try:
            super().__post_init__()
        except ValueError as err:
            if "cov must" not in str(err):
                raise
            raise ValueError(f"cov must be symmetric positive definite ({err})") from err

    @classmethod
    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def fit(cls, x: torch.Tensor) -> "GaussianML":
        """Maximum-likelihood fit to ``x`` of shape (N, D) with N > D."""
        check_tensor(x, "x", ndim=2, floating=True)
        check_finite(x, "x")
        n, d = x.shape
        if n <= d:
            raise ValueError(f"x must have more rows than columns to fit a covariance, got shape {tuple(x.shape)}")
        x = x.to(torch.float64)
        mean = x.mean(0)  # mu_hat = (1/N) sum_i x_i
        centred = x - mean
        cov = centred.T @ centred / n  # Sigma_hat = (1/N) sum_i (x_i - mu)(x_i - mu)^T  (ML, not unbiased)
        return cls(mean, cov)

    def sample(self, n: int, generator: torch.Generator | int | None = None, *, seed: int | None = None
               ) -> torch.Tensor:
        r"""``n`` draws, (n, D) float32: :math:`x = \hat\mu + L\varepsilon`, :math:`\varepsilon \sim N(0, I)`."""
        return super().sample(n, generator, seed=seed).to(torch.float32)
