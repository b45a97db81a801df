r"""Deliberately simple reference models, so learners see what "far from the limit" looks like.

``GaussianML`` fits one full-covariance Gaussian by maximum likelihood. Its estimates have closed forms,

.. math:: \hat\mu = \frac1N \sum_i x_i, \qquad \hat\Sigma = \frac1N \sum_i (x_i - \hat\mu)(x_i - \hat\mu)^\top,

and, because :math:`\mathrm{NLL}(q) = H(p) + \mathrm{KL}(p\|q)`, its test NLL minus the data's entropy is the
KL divergence from the data to the best single Gaussian: the price of a model family that is too simple.

Symbols: ``mean`` :math:`\hat\mu` (D,), ``cov`` :math:`\hat\Sigma` (D, D), ``x`` data (N, D).
"""
from __future__ import annotations

import math

import torch

from .checks import check_finite, check_positive_int, check_tensor
from .runtime import generator

__all__ = ["GaussianML"]


class GaussianML:
    """One Gaussian fitted by maximum likelihood; ``log_prob``, ``sample`` and ``entropy`` in closed form."""

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor):
        check_tensor(mean, "mean", ndim=1, floating=True)
        d = mean.shape[0]
        check_tensor(cov, "cov", shape=(d, d), floating=True)
        self.mean = mean.to(torch.float64)
        self.cov = cov.to(torch.float64)
        try:
            self._chol = torch.linalg.cholesky(self.cov)  # Sigma = L L^T
        except RuntimeError as err:
            raise ValueError("cov must be symmetric positive definite") from err

    @classmethod
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

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log N(x; \hat\mu, \hat\Sigma)` for ``x`` (N, D); returns (N,) in ``x``'s dtype."""
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        diff = (x.to(torch.float64) - self.mean).T  # (D, N)
        solved = torch.linalg.solve_triangular(self._chol, diff, upper=False)  # L^{-1}(x - mu)
        maha = (solved**2).sum(0)  # (x - mu)^T Sigma^{-1} (x - mu)
        log_det = 2 * torch.log(torch.diagonal(self._chol)).sum()  # log |Sigma|
        return (-0.5 * (maha + log_det + self.dim * math.log(2 * math.pi))).to(x.dtype)

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        r"""``n`` draws, (n, D) float32: :math:`x = \hat\mu + L\varepsilon`, :math:`\varepsilon \sim N(0, I)`."""
        check_positive_int(n, "n")
        eps = torch.randn(n, self.dim, dtype=torch.float64, generator=generator(seed))
        return (self.mean + eps @ self._chol.T).to(torch.float32)

    def entropy(self) -> float:
        r""":math:`H = \tfrac{D}{2}(1 + \log 2\pi) + \tfrac12 \log|\Sigma|` nats."""
        log_det = 2 * torch.log(torch.diagonal(self._chol)).sum()
        return float(0.5 * self.dim * (1 + math.log(2 * math.pi)) + 0.5 * log_det)
