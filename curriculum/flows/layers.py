r"""Invertible layers, each returning its output and the log-determinant of its Jacobian in both directions.

Direction convention (RealNVP's): ``forward`` maps data towards the latent, :math:`z = f(x)`, and returns
:math:`\log|\det \partial f / \partial x|`; ``inverse`` maps back, :math:`x = f^{-1}(z)`, and returns
:math:`\log|\det \partial f^{-1} / \partial z| = -\log|\det \partial f / \partial x|` at :math:`x = f^{-1}(z)`.
Every layer works on flat points ``(B, D)`` and returns ``(output (B, D), log_det (B,))``, so layers compose,
invert and are tested alike.

Affine coupling (Dinh et al., 2017). A binary mask :math:`m` splits the coordinates; the masked part passes
unchanged and conditions a scale :math:`s` and shift :math:`t` for the rest:

.. math:: z = m \odot x + (1 - m) \odot \big(x \odot e^{s(m \odot x)} + t(m \odot x)\big),              (1)

.. math:: \log|\det J| = \textstyle\sum_j (1 - m_j)\, s_j(m \odot x),                                        (2)

.. math:: x = m \odot z + (1 - m) \odot \big(z - t(m \odot z)\big) \odot e^{-s(m \odot z)}.               (3)

The Jacobian is block-triangular (the kept block is the identity, the changed block diagonal), hence (2) costs
O(D) instead of the O(D^3) of a general determinant. Additive coupling (NICE) is (1) with :math:`s = 0`: volume
preserving, log-det exactly 0. The raw scale is bounded, :math:`s = b \tanh(\tilde s / b)`, so that one layer
cannot multiply a coordinate by more than :math:`e^{b}` (an unbounded :math:`\tilde s` lets training blow a
coordinate up, and the log-det with it). The last linear layer of each coupling network starts at zero, so a
new coupling is the identity.

ActNorm (Kingma and Dhariwal, 2018): :math:`z = (x - \mu) \odot e^{-\log\sigma}` per coordinate, log-det
:math:`-\sum_j \log\sigma_j`, with :math:`\mu, \sigma` set from the first batch it sees (data-dependent
initialisation: unit variance at the start), then trained.

Logit transform for data in a box :math:`[0, a)^D` (RealNVP's preprocessing):
:math:`s = \alpha + (1 - 2\alpha)\,x / a`, :math:`z = \log s - \log(1 - s)`, log-det
:math:`\sum_j \log\frac{1 - 2\alpha}{a} - \log s_j - \log(1 - s_j)`.

Symbols: ``x`` input ``(B, D)``; ``z`` output ``(B, D)``; ``mask`` :math:`m` ``(D,)`` bool, True = kept;
``s``, ``t`` scale and shift ``(B, D)``; ``log_det`` ``(B,)``; ``scale_bound`` :math:`b`.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..checks import check_positive_float, check_positive_int, check_tensor
from ..grading import reference
from ..nets import MLP

__all__ = ["FlowLayer", "AffineCoupling", "AdditiveCoupling", "ActNorm", "Permutation", "LogitTransform",
           "alternating_mask", "coupling_forward", "coupling_inverse"]


class FlowLayer(nn.Module):
    """An invertible map with ``forward(x) -> (z, log_det)`` and ``inverse(z) -> (x, log_det)``."""

    dim: int

    def _check(self, x: object, name: str) -> torch.Tensor:
        check_tensor(x, name, shape=(None, self.dim), floating=True)
        return x  # type: ignore[return-value]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError


def alternating_mask(dim: int, parity: int) -> torch.Tensor:
    """``(dim,)`` bool mask keeping the coordinates whose index has the given parity (0: even, 1: odd)."""
    check_positive_int(dim, "dim")
    if parity not in (0, 1):
        raise ValueError(f"parity must be 0 or 1, got {parity!r}")
    return torch.arange(dim) % 2 == parity


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def coupling_forward(x: torch.Tensor, mask: torch.Tensor, s: torch.Tensor, t: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""(1) and (2) given the scale and shift already computed from :math:`m \odot x`: ``(B, D)`` x4 ->
    ``(z (B, D), log_det (B,))``. Entries of ``s`` and ``t`` on kept coordinates are ignored."""
    keep = mask.to(x.dtype)
    z = keep * x + (1 - keep) * (x * torch.exp(s) + t)  # (1)
    return z, ((1 - keep) * s).sum(dim=1)  # (2)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def coupling_inverse(z: torch.Tensor, mask: torch.Tensor, s: torch.Tensor, t: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""(3) given the scale and shift computed from :math:`m \odot z` (equal to :math:`m \odot x`):
    ``(B, D)`` x4 -> ``(x (B, D), log_det (B,))`` with log_det = minus (2)."""
    keep = mask.to(z.dtype)
    x = keep * z + (1 - keep) * (z - t) * torch.exp(-s)  # (3)
    return x, -((1 - keep) * s).sum(dim=1)


class AffineCoupling(FlowLayer):
    r"""Affine coupling (1)-(3): an MLP of ``depth`` hidden layers of ``hidden`` units maps :math:`m \odot x` to
    :math:`(\tilde s, t)`; :math:`s = b \tanh(\tilde s / b)` with ``scale_bound`` :math:`b` (``None``: unbounded)."""

    def __init__(self, dim: int, mask: torch.Tensor, hidden: int = 64, depth: int = 2,
                 scale_bound: float | None = 2.0) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        check_tensor(mask, "mask", shape=(dim,))
        if mask.dtype != torch.bool or mask.all() or not mask.any():
            raise ValueError("mask must be a bool tensor that keeps some coordinates and changes the others")
        self.scale_bound = None if scale_bound is None else check_positive_float(scale_bound, "scale_bound")
        self.register_buffer("mask", mask.clone())
        self.net = MLP(dim, 2 * dim, hidden=hidden, depth=depth, activation=nn.SiLU)
        last = self.net.net[-1]
        nn.init.zeros_(last.weight)  # the new coupling is the identity
        nn.init.zeros_(last.bias)

    def scale_and_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(s, t)``, each ``(B, D)``, from the kept coordinates (others zeroed)."""
        raw_s, t = self.net(kept).chunk(2, dim=1)
        if self.scale_bound is not None:
            raw_s = self.scale_bound * torch.tanh(raw_s / self.scale_bound)  # s = b tanh(s~ / b)
        return raw_s, t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x, "x")
        s, t = self.scale_and_shift(x * self.mask.to(x.dtype))
        return coupling_forward(x, self.mask, s, t)

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z, "z")
        s, t = self.scale_and_shift(z * self.mask.to(z.dtype))  # m z = m x: the same s and t
        return coupling_inverse(z, self.mask, s, t)


class AdditiveCoupling(AffineCoupling):
    """NICE's additive coupling: (1) with :math:`s = 0`, so the map preserves volume (log-det exactly 0)."""

    def __init__(self, dim: int, mask: torch.Tensor, hidden: int = 64, depth: int = 2) -> None:
        super().__init__(dim, mask, hidden, depth, scale_bound=None)

    def scale_and_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, t = self.net(kept).chunk(2, dim=1)
        return torch.zeros_like(t), t


class ActNorm(FlowLayer):
    r""":math:`z = (x - \mu) e^{-\log\sigma}` per coordinate, log-det :math:`-\sum \log\sigma`; :math:`\mu` and
    :math:`\log\sigma` are set from the first batch passed forward (unit variance there), then trained."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _initialize(self, x: torch.Tensor) -> None:
        if x.shape[0] < 2:
            raise ValueError("ActNorm initialises from its first batch and needs at least 2 points in it")
        self.loc.copy_(x.mean(dim=0))
        self.log_scale.copy_(torch.log(x.std(dim=0) + 1e-6))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x, "x")
        if not bool(self.initialized):
            self._initialize(x)
        z = (x - self.loc) * torch.exp(-self.log_scale)
        return z, (-self.log_scale.sum()).expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z, "z")
        x = z * torch.exp(self.log_scale) + self.loc
        return x, self.log_scale.sum().expand(z.shape[0])


class Permutation(FlowLayer):
    """Reorders coordinates, ``z = x[:, perm]``: volume preserving, log-det 0."""

    def __init__(self, perm: torch.Tensor) -> None:
        super().__init__()
        check_tensor(perm, "perm", ndim=1)
        self.dim = perm.shape[0]
        if sorted(perm.tolist()) != list(range(self.dim)):
            raise ValueError(f"perm must be a permutation of 0..{self.dim - 1}, got {perm.tolist()}")
        self.register_buffer("perm", perm.long().clone())
        self.register_buffer("inverse_perm", torch.argsort(self.perm))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x, "x")
        return x[:, self.perm], x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z, "z")
        return z[:, self.inverse_perm], z.new_zeros(z.shape[0])


class LogitTransform(FlowLayer):
    r"""Data in :math:`[0, a)^D` to the real line: :math:`s = \alpha + (1 - 2\alpha) x / a`,
    :math:`z = \operatorname{logit}(s)`, with its exact log-det (module docstring)."""

    def __init__(self, dim: int, upper: float = 1.0, alpha: float = 0.05) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.upper = check_positive_float(upper, "upper")
        if not (isinstance(alpha, float) and 0 < alpha < 0.5):
            raise ValueError(f"alpha must be a float in (0, 0.5), got {alpha!r}")
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x, "x")
        s = self.alpha + (1 - 2 * self.alpha) * x / self.upper
        z = torch.log(s) - torch.log1p(-s)  # logit(s)
        log_det = (math.log((1 - 2 * self.alpha) / self.upper) - torch.log(s) - torch.log1p(-s)).sum(dim=1)
        return z, log_det

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(z, "z")
        s = torch.sigmoid(z)
        x = (s - self.alpha) * self.upper / (1 - 2 * self.alpha)
        log_det = (math.log(self.upper / (1 - 2 * self.alpha)) + torch.log(s) + torch.log1p(-s)).sum(dim=1)
        return x, log_det
