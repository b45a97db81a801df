r"""Energy-based models: an energy network, the contrastive loss with its regulariser, a replay buffer of Langevin
chains, and the partition function by quadrature on the plane.

The model is :math:`p_\theta(x) = e^{-E_\theta(x)} / Z_\theta`, :math:`Z_\theta = \int e^{-E_\theta(x)}\,dx`, and
the gradient of the log-likelihood splits into a positive phase (data) and a negative phase (the model):

.. math:: \nabla_\theta E_{p_{data}}[\log p_\theta(x)] = -E_{p_{data}}[\nabla_\theta E_\theta(x)]
          + E_{p_\theta}[\nabla_\theta E_\theta(x)].                                                          (1)

The negative phase is estimated with samples from Langevin chains on the model's score
:math:`\nabla_x \log p_\theta = -\nabla_x E_\theta` (``curriculum.langevin``; :math:`Z` never enters). The loss
whose gradient is (1), with the chains' samples :math:`x^-` held fixed, plus the energy regulariser that keeps
the energies of order 1 (Du and Mordatch, 2019), is

.. math:: L(\theta) = E_{data}[E_\theta(x^+)] - E[E_\theta(x^-)] + \alpha\,\big(E[E_\theta(x^+)^2] + E[E_\theta(x^-)^2]\big).  (2)

Without the regulariser (2) is invariant to adding a constant to :math:`E`, and the two phases can drift together
to huge values. Chains start from a **replay buffer** of earlier chains' end points (persistent chains), except
a share ``reinit`` of them restarted from uniform noise over the data's box each time, so that new regions keep
being explored. In two dimensions :math:`\log Z` is computed by quadrature on a grid, so the normalised model's
NLL is exact up to the grid's error (``log_partition``).

Symbols: ``x`` points ``(B, 2)`` (any ``(B, D)`` for the network and loss); ``energy`` :math:`E_\theta(x)`
``(B,)``; ``alpha`` :math:`\alpha`; ``reinit`` the restart share in [0, 1]; ``extent`` a box
``(x_min, x_max, y_min, y_max)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .checks import (check_choice, check_nonnegative_float, check_nonnegative_int, check_positive_float, check_positive_int,
                     check_probability, check_tensor)
from .grading import reference
from .langevin import langevin
from .nets import MLP
from .tensors import input_gradient
from .train import LR_SCHEDULES, StepContext, TrainingDiverged, batch_source, run_steps, start_run

__all__ = ["EnergyNet", "energy_score", "contrastive_loss", "ReplayBuffer", "log_partition", "EBMConfig",
           "EBMResult", "ContrastiveStep", "train_ebm"]


class EnergyNet(nn.Module):
    """``x (B, D) -> E(x) (B,)``: an MLP with SiLU activations (smooth, so its score is smooth)."""

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.net = MLP(dim, 1, hidden=hidden, depth=depth, activation=nn.SiLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        return self.net(x).squeeze(1)


def energy_score(energy: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    r"""The model's score :math:`\nabla_x \log p = -\nabla_x E(x)` as a function ``(B, D) -> (B, D)`` (detached),
    for ``curriculum.langevin``; the partition function does not enter."""

    def score(x: torch.Tensor) -> torch.Tensor:
        return -input_gradient(energy, x)  # E(x_b) depends on x_b alone

    return score


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def contrastive_loss(energy_real: torch.Tensor, energy_fake: torch.Tensor, alpha: float = 0.1) -> torch.Tensor:
    r"""(2): ``mean E(x+) - mean E(x-) + alpha (mean E(x+)^2 + mean E(x-)^2)``; ``(B+,)``, ``(B-,)`` -> scalar."""
    check_tensor(energy_real, "energy_real", ndim=1, floating=True)
    check_tensor(energy_fake, "energy_fake", ndim=1, floating=True)
    alpha = check_nonnegative_float(alpha, "alpha")
    contrast = energy_real.mean() - energy_fake.mean()  # positive phase - negative phase                  (1)
    return contrast + alpha * ((energy_real ** 2).mean() + (energy_fake ** 2).mean())  # (2)


class ReplayBuffer:
    """End points of earlier Langevin chains, ``(capacity, D)``, filled first with uniform noise over ``extent``.

    ``draw(n, generator)`` returns starting points: each is, independently with probability ``reinit``, fresh
    uniform noise, otherwise a uniformly chosen stored point. ``push(x)`` overwrites random slots with new end
    points. ``reinit = 1`` gives short-run chains from noise (no memory); ``reinit = 0`` purely persistent chains.
    """

    def __init__(self, capacity: int, extent: Sequence[float], reinit: float = 0.05,
                 generator: torch.Generator | None = None) -> None:
        self.capacity = check_positive_int(capacity, "capacity")
        self.reinit = check_probability(reinit, "reinit")
        if len(extent) != 4 or not (extent[0] < extent[1] and extent[2] < extent[3]):
            raise ValueError(f"extent must be (x_min, x_max, y_min, y_max) with min < max, got {tuple(extent)}")
        self.low = torch.tensor([extent[0], extent[2]], dtype=torch.float32)
        self.high = torch.tensor([extent[1], extent[3]], dtype=torch.float32)
        self.points = self.noise(capacity, generator)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points uniform over the box, ``(n, 2)``."""
        return self.low + (self.high - self.low) * torch.rand(n, 2, generator=generator)

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def draw(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` starting points ``(n, 2)``: fresh noise with probability ``reinit``, else stored points."""
        check_positive_int(n, "n")
        stored = self.points[torch.randint(0, self.capacity, (n,), generator=generator)]
        fresh = self.noise(n, generator)
        restart = torch.rand(n, generator=generator) < self.reinit
        return torch.where(restart[:, None], fresh, stored)

    def push(self, x: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Store the end points ``x (n, 2)`` in ``n`` random slots."""
        check_tensor(x, "x", shape=(None, 2), floating=True)
        slots = torch.randint(0, self.capacity, (x.shape[0],), generator=generator)
        self.points[slots] = x.detach().to(self.points)


@torch.no_grad()
def log_partition(energy: Callable[[torch.Tensor], torch.Tensor], extent: Sequence[float],
                  resolution: int = 400, chunk: int = 65_536) -> float:
    r""":math:`\log Z = \log \int e^{-E(x)}\,dx` by the midpoint rule on a ``resolution`` x ``resolution`` grid of
    the box ``extent`` (mass outside the box is ignored: choose a box that holds the model's mass), in float64."""
    check_positive_int(resolution, "resolution")
    x0, x1, y0, y1 = (float(v) for v in extent)
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"extent must be (x_min, x_max, y_min, y_max) with min < max, got {tuple(extent)}")
    hx, hy = (x1 - x0) / resolution, (y1 - y0) / resolution
    xs = x0 + hx * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    ys = y0 + hy * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    grid = torch.cartesian_prod(xs, ys)
    param = next(iter(getattr(energy, "parameters", lambda: iter([torch.zeros((), dtype=torch.float32)]))()))
    neg = torch.cat([-energy(part.to(param.dtype)).double() for part in grid.split(chunk)])
    if not torch.isfinite(neg).all():
        raise ValueError("the energy is not finite everywhere on the grid; log Z cannot be computed")
    return float(torch.logsumexp(neg, 0) + math.log(hx * hy))  # log sum_i e^{-E(x_i)} dx dy


# --------------------------------------------------------------------------------------------------------------
# Training: the contrastive loss on the course's loop, negative samples from Langevin chains
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EBMConfig:
    """``train_ebm``'s settings: ``steps`` Adam updates (``lr``, betas (0, 0.999) as is usual for EBMs) on
    batches of ``batch_size``; negatives from ``langevin_steps`` ULA updates of size ``step_size`` started from a
    ``ReplayBuffer`` of ``buffer_size`` points with restart share ``reinit`` over the box ``extent``; the
    regulariser weight ``alpha``; the energy network's ``hidden``/``depth``; ``max_energy``: the divergence guard; ``lr_schedule``:
    ``"constant"`` or ``"cosine"`` (``curriculum.train.run_steps``)."""

    steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    step_size: float = 0.01
    langevin_steps: int = 30
    buffer_size: int = 10_000
    reinit: float = 0.05
    alpha: float = 0.1
    extent: tuple[float, float, float, float] = (-3.0, 3.0, -3.0, 3.0)
    hidden: int = 128
    depth: int = 3
    max_energy: float = 1e4
    lr_schedule: str = "constant"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "langevin_steps", "buffer_size", "hidden", "depth"):
            check_positive_int(getattr(self, name), name)
        for name in ("lr", "step_size", "max_energy"):
            check_positive_float(getattr(self, name), name)
        check_probability(self.reinit, "reinit")
        check_nonnegative_float(self.alpha, "alpha")
        check_nonnegative_int(self.seed, "seed")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)


@dataclass(frozen=True)
class EBMResult:
    """The trained energy (eval mode), the buffer, and per step the loss and the mean energies of both phases."""

    energy: EnergyNet
    buffer: ReplayBuffer
    loss: list[float]
    energy_real: list[float]
    energy_fake: list[float]


class ContrastiveStep:
    """One EBM update for ``curriculum.train.run_steps``: draw chain starts, run Langevin on the current
    energy, descend (2), push the chains' end points back into the buffer."""

    def __init__(self, energy: EnergyNet, buffer: ReplayBuffer, config: EBMConfig, noise: torch.Generator) -> None:
        self.energy, self.buffer, self.config, self.noise = energy, buffer, config, noise
        self.optimizer = torch.optim.Adam(energy.parameters(), lr=config.lr, betas=(0.0, 0.999))
        self.modules, self.optimizers = {"energy": energy}, {"energy": self.optimizer}

    def __call__(self, ctx: StepContext, next_batch: Callable[[], torch.Tensor]) -> dict[str, float]:
        real = next_batch()
        start = self.buffer.draw(real.shape[0], self.noise).to(real)
        fake = langevin(energy_score(self.energy), start, self.config.step_size, self.config.langevin_steps,
                        self.noise).x
        e_real, e_fake = self.energy(real), self.energy(fake)
        largest = float(torch.cat([e_real, e_fake]).detach().abs().max())
        if largest > self.config.max_energy:
            raise TrainingDiverged(
                f"EBM training diverged at step {ctx.step} of {ctx.steps}: the largest |energy| is {largest:.4g}, "
                f"above max_energy={self.config.max_energy:g}. Things to try: {'; '.join(self.advice())}.",
                step=ctx.step, name="energy", value=largest, history=list(ctx.history))
        loss = contrastive_loss(e_real, e_fake, self.config.alpha)
        logs = {"energy_real": float(e_real.detach().mean()), "energy_fake": float(e_fake.detach().mean())}
        value = ctx.update(loss, self.optimizer, name="the contrastive loss", logged=logs)
        self.buffer.push(fake, self.noise)
        return {"loss": value, **logs}

    def advice(self) -> list[str]:
        return [f"raise alpha (the energy regulariser, now {self.config.alpha:g}) to keep energies of order 1",
                f"lower the learning rate (lr={self.config.lr:g})",
                f"lower the Langevin step_size ({self.config.step_size:g}) so chains do not fly off"]


def train_ebm(sample_data: Callable[[int, torch.Generator], torch.Tensor], config: EBMConfig | None = None,
              progress: bool | None = None) -> EBMResult:
    """Train an energy on ``sample_data(n, generator) -> (n, 2)`` with the contrastive loss (2), negatives from
    Langevin chains started from a replay buffer (``config.reinit = 1``: short-run chains from noise). Stops with
    ``TrainingDiverged`` when a loss is not finite or an energy exceeds ``config.max_energy``."""
    config = EBMConfig() if config is None else config
    if not isinstance(config, EBMConfig):
        raise TypeError(f"config must be an EBMConfig, got {type(config).__name__}")
    stream = start_run(config.seed)
    energy = EnergyNet(2, config.hidden, config.depth)
    noise = torch.Generator().manual_seed(config.seed + 1)
    buffer = ReplayBuffer(config.buffer_size, config.extent, config.reinit, noise)
    step = ContrastiveStep(energy, buffer, config, noise)
    result = run_steps(step, batch_source(sample_data, config.batch_size, stream), config.steps,
                       what="EBM training", desc="EBM", lr_schedule=config.lr_schedule, progress=progress)
    energy.eval()
    return EBMResult(energy, buffer, result.history, result.logs["energy_real"], result.logs["energy_fake"])
