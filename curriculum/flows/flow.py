r"""A normalising flow: a composition of invertible layers over a standard Gaussian, with an exact likelihood.

With :math:`f = f_L \circ \dots \circ f_1` mapping data to the latent and :math:`z = f(x) \sim N(0, I)`, the change
of variables gives

.. math:: \log p(x) = \log N(f(x); 0, I) + \sum_{l=1}^{L} \log|\det J_{f_l}(h_{l-1})|,
          \quad h_0 = x,\ h_l = f_l(h_{l-1}),                                                               (1)

the log-determinant of a composition being the sum of the layers' (the chain rule multiplies Jacobians and the
determinant of a product is the product of determinants). Sampling runs the inverses in reverse order from
:math:`z \sim N(0, I)`. The intermediate distributions :math:`q_k` (the base pushed through the last :math:`k`
inverses) have densities by (1) restricted to the last :math:`k` layers: ``log_prob(y, last=k)``.

Symbols: ``x`` data ``(B, D)``; ``z`` latent ``(B, D)``; ``log_det`` ``(B,)``; ``L`` the number of layers.
A non-finite log-determinant raises ``FlowError`` naming the layer; ``check_inverse`` raises when the inverse
does not reconstruct its input.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..checks import check_bool, check_positive_float, check_positive_int, check_tensor
from ..grading import reference
from ..protocol import EXACT, LogLikelihood
from .layers import ActNorm, AdditiveCoupling, AffineCoupling, FlowLayer, alternating_mask

__all__ = ["FlowError", "Flow", "realnvp"]

LOG_2PI = math.log(2 * math.pi)


class FlowError(RuntimeError):
    """A flow produced a non-finite log-determinant, or its inverse did not reconstruct its input."""


class Flow(nn.Module):
    """``layers`` applied in order from data to latent, over a standard Gaussian base of dimension ``dim``."""

    def __init__(self, layers: Sequence[FlowLayer]) -> None:
        super().__init__()
        if not layers or not all(isinstance(layer, FlowLayer) for layer in layers):
            raise TypeError("layers must be a non-empty sequence of curriculum.flows.FlowLayer")
        dims = {layer.dim for layer in layers}
        if len(dims) != 1:
            raise ValueError(f"every layer must act on the same dimension, got {sorted(dims)}")
        self.layers = nn.ModuleList(layers)
        self.dim = dims.pop()

    def _checked(self, log_det: torch.Tensor, index: int, direction: str) -> torch.Tensor:
        if not torch.isfinite(log_det).all():
            layer = self.layers[index]
            raise FlowError(f"layer {index} ({type(layer).__name__}) gave a non-finite log-determinant in the "
                            f"{direction} pass. Try bounding the coupling scales (scale_bound=2.0), a lower "
                            f"learning rate, or inputs of order 1 (standardise the data)")
        return log_det

    def forward(self, x: torch.Tensor, first: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``z = f(x)`` and :math:`\\sum_l \\log|\\det J_l|`, ``(B, D)`` -> ``((B, D), (B,))``; ``first=k`` applies
        only layers ``L - k .. L - 1`` (the last ``k``), mapping a sample of :math:`q_k` to the latent."""
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        start = 0 if first is None else len(self.layers) - first
        total = x.new_zeros(x.shape[0])
        for index in range(start, len(self.layers)):
            x, log_det = self.layers[index](x)
            total = total + self._checked(log_det, index, "forward")
        return x, total

    def inverse(self, z: torch.Tensor, last: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``x = f^{-1}(z)`` and its log-det, layers in reverse order; ``last=k`` undoes only the last ``k``."""
        check_tensor(z, "z", shape=(None, self.dim), floating=True)
        stop = 0 if last is None else len(self.layers) - last
        total = z.new_zeros(z.shape[0])
        for index in range(len(self.layers) - 1, stop - 1, -1):
            z, log_det = self.layers[index].inverse(z)
            total = total + self._checked(log_det, index, "inverse")
        return z, total

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def log_prob(self, x: torch.Tensor, last: int | None = None) -> torch.Tensor:
        r""":math:`\log p(x)` by (1), ``(B, D)`` -> ``(B,)``; ``last=k``: the density of :math:`q_k` instead."""
        z, log_det = self.forward(x, first=last)
        log_base = -0.5 * (z ** 2).sum(dim=1) - 0.5 * self.dim * LOG_2PI  # log N(z; 0, I)
        return log_base + log_det  # (1)

    @torch.no_grad()
    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        """``log_prob`` labelled exact (``curriculum.protocol``); a measurement, so no graph is kept."""
        return LogLikelihood(self.log_prob(x), EXACT)

    def _base(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        check_positive_int(n, "n")
        param = next(self.parameters())
        return torch.randn(n, self.dim, generator=generator, device=param.device, dtype=param.dtype)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, last: int | None = None) -> torch.Tensor:
        """``n`` points ``(n, D)`` of the model (or of :math:`q_k` with ``last=k``), on the flow's device."""
        return self.inverse(self._base(n, generator), last=last)[0]

    @torch.no_grad()
    def trajectory(self, z: torch.Tensor) -> list[torch.Tensor]:
        """``[z, q_1 point, ..., x]``: the latent points after each inverse layer, ``L + 1`` tensors ``(B, D)``."""
        check_tensor(z, "z", shape=(None, self.dim), floating=True)
        points = [z]
        for layer in reversed(self.layers):
            z, _ = layer.inverse(z)
            points.append(z)
        return points

    @torch.no_grad()
    def check_inverse(self, x: torch.Tensor, atol: float = 1e-4) -> float:
        """The largest ``|f^{-1}(f(x)) - x|``; raises ``FlowError`` above ``atol`` (or if it is not finite)."""
        atol = check_positive_float(atol, "atol")
        z, _ = self.forward(x)
        error = float((self.inverse(z)[0] - x).abs().max())
        if not math.isfinite(error) or error > atol:
            raise FlowError(f"the flow's inverse does not reconstruct its input: max |f^-1(f(x)) - x| = {error:.3g} "
                            f"> atol = {atol:g}. Unbounded coupling scales (scale_bound=None) or float32 on "
                            f"inputs far from the data can do this; bound the scales or check in float64")
        return error


def realnvp(dim: int = 2, couplings: int = 8, hidden: int = 64, depth: int = 2, scale_bound: float | None = 2.0,
            actnorm: bool = True, additive: bool = False) -> Flow:
    """RealNVP: ``couplings`` affine (or ``additive``) couplings whose masks alternate between the even and the
    odd coordinates, each preceded by an ``ActNorm`` when ``actnorm``. With alternating masks every coordinate is
    changed by every other layer; with one mask repeated, half of the coordinates would never change."""
    check_positive_int(dim, "dim")
    check_positive_int(couplings, "couplings")
    check_bool(actnorm, "actnorm")
    check_bool(additive, "additive")
    if dim < 2:
        raise ValueError(f"dim must be at least 2 for a coupling to split the coordinates, got {dim}")
    layers: list[FlowLayer] = []
    for index in range(couplings):
        if actnorm:
            layers.append(ActNorm(dim))
        mask = alternating_mask(dim, index % 2)
        layers.append(AdditiveCoupling(dim, mask, hidden, depth) if additive
                      else AffineCoupling(dim, mask, hidden, depth, scale_bound))
    return Flow(layers)
