"""The adversarial networks: a generator from noise to points, and a discriminator or critic from points to a number.

The discriminator of the original GAN and the critic of a Wasserstein GAN are the same MLP with a scalar output
and no final nonlinearity: the first reads its output as a logit (``D = sigmoid(logit)``), the second as the
value of a potential :math:`f(x)` (any real number; no sigmoid, no log). ``Critic`` is that network under the
name its objective gives it. Shapes: ``z (B, latent_dim)``, ``x (B, dim)``, outputs ``(B,)``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..checks import check_bool, check_positive_int, check_tensor
from ..nets import MLP

__all__ = ["Generator", "Discriminator", "Critic"]


class Generator(nn.Module):
    """``z (B, latent_dim) -> x (B, out_dim)``: an MLP (ReLU) from Gaussian noise to points."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, depth: int = 3, out_dim: int = 2) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.out_dim = check_positive_int(out_dim, "out_dim")
        self.net = MLP(latent_dim, out_dim, hidden=hidden, depth=depth, activation=nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_tensor(z, "z", shape=(None, self.latent_dim), floating=True)
        return self.net(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``(n, out_dim)``, detached, on the generator's device in its dtype: ``x = G(z)``."""
        check_positive_int(n, "n")
        param = next(self.parameters())
        z = torch.randn(n, self.latent_dim, generator=generator, device=param.device, dtype=param.dtype)
        return self(z)


class Discriminator(nn.Module):
    """``x (B, in_dim) -> logits (B,)``: an MLP (LeakyReLU 0.2) whose output is the logit of "x is real".

    ``spectral_norm=True`` wraps every Linear layer with ``torch.nn.utils.parametrizations.spectral_norm``
    (each layer 1-Lipschitz, so the discriminator cannot become arbitrarily sharp). ``minibatch_std=True``
    appends one feature before the last layer: the batch standard deviation of each hidden feature, averaged
    over features, the same for every sample of the batch. A collapsed generator produces batches with a small
    spread, which the discriminator can then see and punish. With it the logits depend on the whole batch, so
    pass real and generated points in separate batches.
    """

    def __init__(self, in_dim: int = 2, hidden: int = 128, depth: int = 3, spectral_norm: bool = False,
                 minibatch_std: bool = False) -> None:
        super().__init__()
        self.in_dim = check_positive_int(in_dim, "in_dim")
        check_positive_int(hidden, "hidden")
        check_positive_int(depth, "depth")
        check_bool(spectral_norm, "spectral_norm")
        self.minibatch_std = check_bool(minibatch_std, "minibatch_std")

        def linear(n_in: int, n_out: int) -> nn.Module:
            layer = nn.Linear(n_in, n_out)
            return nn.utils.parametrizations.spectral_norm(layer) if spectral_norm else layer

        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.features = nn.Sequential(*layers)
        self.out = linear(hidden + int(minibatch_std), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=(None, self.in_dim), floating=True)
        h = self.features(x)  # (B, hidden)
        if self.minibatch_std:
            # s = mean_j std_b h_bj (population std, so a batch of one gives 0; eps keeps sqrt differentiable)
            spread = torch.sqrt(h.var(dim=0, correction=0) + 1e-8).mean()
            h = torch.cat([h, spread.expand(h.shape[0], 1)], dim=1)  # (B, hidden + 1)
        return self.out(h).squeeze(1)  # (B,)


class Critic(Discriminator):
    r"""A Wasserstein critic ``x (B, in_dim) -> f(x) (B,)``: the discriminator's MLP, read as a potential.

    Its output is not a probability: the critic's objective is linear in :math:`f` (no sigmoid, no log), and
    only a Lipschitz constraint (a gradient penalty or weight clipping, see ``curriculum.gan.wasserstein``)
    keeps it finite. Keep ``minibatch_std`` off with a gradient penalty: the penalty needs each output to depend
    on its own input only, as batch normalisation would also break.
    """
