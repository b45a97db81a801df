r"""Uniform dequantisation: a continuous flow's density turned into a bound on a discrete NLL.

A continuous density on discrete data is unbounded: it can put arbitrarily high density on the finitely many
values the data take, so its "NLL" goes to :math:`-\infty` and measures nothing. Adding uniform noise fills
each value's unit cell, :math:`y = x + u`, :math:`u \sim U[0, 1)^D`, and then for any continuous density
:math:`p` the discrete model :math:`P(x) = \int_{[0, 1)^D} p(x + u)\,du` is a proper distribution on the
integer grid, with (Jensen, :math:`\log` concave)

.. math:: -\log P(x) = -\log E_u[p(x + u)] \le E_u[-\log p(x + u)].                                          (1)

So the flow's NLL of dequantised data is an **upper bound** on the discrete NLL of the model it defines; in bits
per dimension, :math:`\mathrm{bpd} = \mathrm{NLL} / (D \log 2)`. Symbols: ``x`` integer-valued data ``(N, D)``
(here 0/1 pixels), ``u`` the noise ``(N, D)``, ``y`` the dequantised points ``(N, D)`` in :math:`[0, 2)^D`.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..checks import check_positive_int, check_tensor
from ..metrics import Estimate, mean_and_stderr
from ..protocol import LOWER_BOUND
from ..grading import reference

__all__ = ["dequantize", "discrete_nll_bound", "bits_per_dim"]


def dequantize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``y = x + u``, ``u ~ U[0, 1)`` per entry, on ``x``'s device in a floating dtype: ``(N, D) -> (N, D)``."""
    check_tensor(x, "x", ndim=2)
    if not torch.equal(x, torch.round(x)):
        raise ValueError("x must hold integer values (e.g. 0/1 pixels) to be dequantised")
    x = x.float() if not x.is_floating_point() else x
    return x + torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)


@torch.no_grad()
@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def discrete_nll_bound(log_prob: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, n_noise: int = 1,
                       generator: torch.Generator | None = None) -> Estimate:
    r"""The bound (1) in nats per data point: the mean over points of :math:`-\frac1K\sum_k \log p(x + u_k)`
    with ``n_noise`` = K draws per point, and its standard error over points (``metrics.Estimate``)."""
    check_positive_int(n_noise, "n_noise")
    draws = torch.stack([-log_prob(dequantize(x, generator)) for _ in range(n_noise)])  # (K, N)
    mean, stderr = mean_and_stderr(draws.mean(dim=0).double())
    return Estimate(float(mean), float(stderr), LOWER_BOUND)  # a lower bound on log P, so an upper bound on the NLL


def bits_per_dim(nll_nats: float, dim: int) -> float:
    r"""Nats per data point to bits per dimension: :math:`\mathrm{NLL} / (D \log 2)`."""
    check_positive_int(dim, "dim")
    return nll_nats / (dim * math.log(2))
