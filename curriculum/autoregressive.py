r"""Autoregressive models: an exact likelihood by the chain rule (Germain et al., 2015; Uria et al., 2016).

.. math:: \log p(x) = \sum_{d=1}^{D} \log p(x_d \mid x_{<d})                                                  (1)

One network computes every conditional at once by **masking** its weights so that output :math:`d` sees only
inputs :math:`x_{<d}` (MADE): each unit gets a degree :math:`m`; inputs have degrees :math:`1..D`, hidden units
degrees in :math:`1..D-1`, output :math:`d` degree :math:`d`; a weight from a unit of degree :math:`m` to a hidden
unit of degree :math:`m'` is kept iff :math:`m' \ge m`, and to an output of degree :math:`d` iff :math:`d > m` (2).
Then :math:`\partial\,\text{output}_d / \partial x_j = 0` for :math:`j \ge d` (the Jacobian is strictly lower
triangular), so (1) is a product of proper conditionals and the model is normalised by construction.

Scoring needs one pass; **sampling needs D passes**, one coordinate at a time: the cost grows with the dimension.

- ``MaskedLinear``: a linear layer times a fixed 0/1 mask;
- ``made_masks``: the masks of (2) for given hidden widths;
- ``BernoulliMADE``: binary data (the binarised digits): output :math:`d` is the logit of :math:`x_d = 1`;
- ``MixtureMADE``: real data (the 2-D toys): output :math:`d` is a mixture of ``components`` Gaussians, so in 2-D
  :math:`p(x_1)` is a fixed mixture and :math:`p(x_2 \mid x_1)` a mixture whose weights, means and scales are
  functions of :math:`x_1`.

Both follow the course's protocol: ``sample(n, generator)`` and ``log_likelihood(x)`` labelled exact.
Shapes: data ``x (B, D)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .checks import check_positive_int, check_tensor
from .grading import reference
from .protocol import EXACT, LogLikelihood

__all__ = ["MaskedLinear", "made_masks", "BernoulliMADE", "MixtureMADE"]


class MaskedLinear(nn.Linear):
    """``y = x (W * M)^T + b`` with a fixed 0/1 ``mask`` ``(out_features, in_features)``."""

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor) -> None:
        super().__init__(in_features, out_features)
        check_tensor(mask, "mask", shape=(out_features, in_features))
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("mask must hold only 0 and 1")
        self.register_buffer("mask", mask.to(self.weight.dtype))

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def made_masks(dim: int, hidden: list[int] | tuple[int, ...], outputs_per_dim: int = 1) -> list[torch.Tensor]:
    """The masks of (2), input to output: one per layer, shaped ``(out, in)``. Hidden degrees cycle through
    ``1..dim-1``; the output layer has ``outputs_per_dim`` units of each degree ``1..dim`` (grouped by degree)."""
    dim = check_positive_int(dim, "dim")
    if dim < 2:
        raise ValueError("an autoregressive model needs dim >= 2")
    widths = [check_positive_int(h, "hidden width") for h in hidden]
    if not widths:
        raise ValueError("hidden must list at least one hidden width")
    degrees = [torch.arange(1, dim + 1)]  # inputs: 1..D
    for width in widths:
        degrees.append(torch.arange(width) % (dim - 1) + 1)  # 1..D-1, repeated
    out_degrees = torch.arange(1, dim + 1).repeat_interleave(check_positive_int(outputs_per_dim, "outputs_per_dim"))
    masks = [(degrees[i + 1][:, None] >= degrees[i][None, :]).float() for i in range(len(widths))]
    masks.append((out_degrees[:, None] > degrees[-1][None, :]).float())  # strictly: output d sees degrees < d
    return masks


class _MADE(nn.Module):
    """The masked MLP: ``(B, dim) -> (B, dim * outputs_per_dim)``, outputs grouped by the coordinate they model."""

    def __init__(self, dim: int, hidden: int, depth: int, outputs_per_dim: int) -> None:
        super().__init__()
        self.dim, self.outputs_per_dim = check_positive_int(dim, "dim"), outputs_per_dim
        masks = made_masks(dim, [check_positive_int(hidden, "hidden")] * check_positive_int(depth, "depth"),
                           outputs_per_dim)
        widths = [dim] + [hidden] * depth + [dim * outputs_per_dim]
        layers: list[nn.Module] = []
        for i, mask in enumerate(masks):
            layers.append(MaskedLinear(widths[i], widths[i + 1], mask))
            if i < len(masks) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        return self.net(x).view(x.shape[0], self.dim, self.outputs_per_dim)  # (B, D, outputs_per_dim)


class BernoulliMADE(nn.Module):
    """Binary data ``x in {0, 1}^dim``: (1) with :math:`p(x_d = 1 \\mid x_{<d}) = \\sigma(\\ell_d(x_{<d}))`."""

    def __init__(self, dim: int = 64, hidden: int = 256, depth: int = 2) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.made = _MADE(dim, hidden, depth, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, dim)`` logits, output ``d`` from ``x_{<d}`` only."""
        return self.made(x)[..., 0]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """(1): ``(B, dim)`` binary -> ``(B,)`` nats."""
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        if not bool(((x == 0) | (x == 1)).all()):
            raise ValueError("x must be binary (0 or 1); binarise images first (data.binarize)")
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(dim=1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws ``(n, dim)``, one coordinate per pass: ``dim`` network evaluations."""
        param = next(self.parameters())
        x = torch.zeros(check_positive_int(n, "n"), self.dim, dtype=param.dtype, device=param.device)
        with torch.no_grad():
            for d in range(self.dim):
                p = torch.sigmoid(self.logits(x)[:, d])
                u = torch.rand(n, generator=generator).to(p)
                x[:, d] = (u < p).to(x.dtype)
        return x

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        with torch.no_grad():
            return LogLikelihood(self.log_prob(x), EXACT)


class MixtureMADE(nn.Module):
    """Real data: (1) with each conditional a mixture of ``components`` Gaussians whose log-weights, means and
    log-scales are outputs of the masked network (log-scales clamped to [-7, 3] for stability)."""

    LOG_SCALE_MIN, LOG_SCALE_MAX = -7.0, 3.0

    def __init__(self, dim: int = 2, components: int = 8, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.dim, self.components = check_positive_int(dim, "dim"), check_positive_int(components, "components")
        self.made = _MADE(dim, hidden, depth, 3 * components)

    def conditionals(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(log_weights, means, log_scales)``, each ``(B, dim, components)``; row ``d`` depends on ``x_{<d}``."""
        out = self.made(x)
        log_w, mean, log_s = out.split(self.components, dim=-1)
        return log_w.log_softmax(dim=-1), mean, log_s.clamp(self.LOG_SCALE_MIN, self.LOG_SCALE_MAX)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """(1): ``(B, dim)`` -> ``(B,)`` nats."""
        log_w, mean, log_s = self.conditionals(x)
        z = (x[..., None] - mean) / log_s.exp()
        log_normal = -0.5 * z ** 2 - log_s - 0.5 * math.log(2 * math.pi)
        return torch.logsumexp(log_w + log_normal, dim=-1).sum(dim=1)  # sum_d log p(x_d | x_<d)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws ``(n, dim)``: ``dim`` network evaluations, one coordinate each."""
        param = next(self.parameters())
        x = torch.zeros(check_positive_int(n, "n"), self.dim, dtype=param.dtype, device=param.device)
        with torch.no_grad():
            for d in range(self.dim):
                log_w, mean, log_s = (part[:, d] for part in self.conditionals(x))
                k = torch.multinomial(log_w.exp().cpu(), 1, generator=generator)[:, 0].to(x.device)
                noise = torch.randn(n, generator=generator).to(x)
                rows = torch.arange(n, device=x.device)
                x[:, d] = mean[rows, k] + log_s[rows, k].exp() * noise
        return x

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        with torch.no_grad():
            return LogLikelihood(self.log_prob(x), EXACT)
