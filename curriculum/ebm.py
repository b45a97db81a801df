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
to huge values. Chains start from a **replay buffer** of persistent chains, except a share ``reinit`` of them
restarted from fresh noise each time, so that new regions keep being explored.

The model lives on a box ``extent`` (its domain: :math:`Z` integrates over the box, chains are clipped into it),
so that no mass can hide where no chain ever goes. In two dimensions :math:`\log Z` is computed by quadrature on
a grid, so the normalised model's NLL is exact up to the grid's error (``log_partition``, ``nll``).

Symbols: ``x`` points ``(B, 2)`` (any ``(B, D)`` for the network and loss); ``energy`` :math:`E_\theta(x)`
``(B,)``; ``alpha`` :math:`\alpha`; ``reinit`` the restart share in [0, 1]; ``extent`` a box
``(x_min, x_max, y_min, y_max)``.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .checks import (check_choice, check_nonnegative_float, check_nonnegative_int, check_positive_float, check_positive_int,
                     check_probability, check_tensor)
from .grading import reference
from .langevin import LangevinResult, langevin
from .nets import MLP
from .protocol import QUADRATURE, LogLikelihood
from .tensors import input_gradient
from .train import LR_SCHEDULES, StepContext, TrainingDiverged, batch_source, run_steps, start_run

__all__ = ["EnergyNet", "energy_score", "contrastive_loss", "ReplayBuffer", "log_partition", "nll", "EBMConfig",
           "EBMSnapshot", "EBMResult", "sample_chains", "EnergyModel", "ContrastiveStep", "restart_moments", "train_ebm"]


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
    """A fixed set of ``capacity`` persistent Langevin chains, ``points (capacity, 2)``, on the box ``extent``.

    ``draw(n, generator)`` picks ``n`` distinct chains (without replacement, remembered in ``slots``) and returns
    their current points as starting points, except that each one is, independently with probability ``reinit``,
    restarted from fresh noise. ``push(x)`` writes the advanced points back into the slots of the last draw, so
    every chain keeps its own history and no chain is ever copied (copies would let the buffer's share of each
    mode drift at random). ``reinit = 1`` gives short-run chains from noise (no memory); ``reinit = 0`` purely
    persistent chains.

    Fresh noise is uniform over the box, or, with ``restart = (mean (2,), cov (2, 2))``, Gaussian with those
    moments (clipped into the box). The restart law matters: chains cannot cross between separated modes, so the
    share of chains each mode holds is the share of restarts its basin captures.
    """

    def __init__(self, capacity: int, extent: Sequence[float], reinit: float = 0.05,
                 generator: torch.Generator | None = None,
                 restart: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        self.capacity = check_positive_int(capacity, "capacity")
        self.reinit = check_probability(reinit, "reinit")
        self.extent = _check_extent(extent)
        self.low = torch.tensor([self.extent[0], self.extent[2]], dtype=torch.float32)
        self.high = torch.tensor([self.extent[1], self.extent[3]], dtype=torch.float32)
        self.restart = None
        if restart is not None:
            mean, cov = (torch.as_tensor(v, dtype=torch.float32) for v in restart)
            if mean.shape != (2,) or cov.shape != (2, 2):
                raise ValueError(f"restart must be (mean (2,), cov (2, 2)), got shapes {tuple(mean.shape)} and "
                                 f"{tuple(cov.shape)}")
            try:
                self.restart = (mean, torch.linalg.cholesky(cov))  # cov = L L^T
            except RuntimeError as error:
                raise ValueError("restart's cov must be symmetric positive definite") from error
        self.slots = torch.empty(0, dtype=torch.long)
        self.points = self.noise(capacity, generator)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` fresh points ``(n, 2)``: uniform over the box, or the ``restart`` Gaussian clipped into it."""
        if self.restart is None:
            return self.low + (self.high - self.low) * torch.rand(n, 2, generator=generator)
        mean, scale = self.restart
        return torch.clamp(mean + torch.randn(n, 2, generator=generator) @ scale.T, self.low, self.high)

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def draw(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` starting points ``(n, 2)`` from ``n`` distinct chains, each restarted with probability ``reinit``."""
        check_positive_int(n, "n")
        if n > self.capacity:
            raise ValueError(f"n must be at most the buffer's capacity ({self.capacity}) to draw distinct chains, "
                             f"got {n}")
        self.slots = torch.randperm(self.capacity, generator=generator)[:n]  # distinct chains
        fresh = self.noise(n, generator)
        restart = torch.rand(n, generator=generator) < self.reinit
        return torch.where(restart[:, None], fresh, self.points[self.slots])

    def push(self, x: torch.Tensor) -> None:
        """Write the advanced points ``x (n, 2)`` back into the chains of the last ``draw``."""
        check_tensor(x, "x", shape=(self.slots.shape[0], 2), floating=True)
        self.points[self.slots] = x.detach().to(self.points)


def _check_extent(extent: Sequence[float]) -> tuple[float, float, float, float]:
    """``extent`` as four floats ``(x_min, x_max, y_min, y_max)`` with min < max, or a ValueError naming it."""
    values = tuple(float(v) for v in extent)
    if len(values) != 4 or not (values[0] < values[1] and values[2] < values[3]):
        raise ValueError(f"extent must be (x_min, x_max, y_min, y_max) with min < max, got {tuple(extent)}")
    return values  # type: ignore[return-value]


def _energy_dtype(energy: Callable[[torch.Tensor], torch.Tensor]) -> torch.dtype:
    """The dtype an energy's inputs should have: its parameters' (a network), else float64 (a formula)."""
    parameters = getattr(energy, "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return first.dtype if first is not None else torch.float64


@torch.no_grad()
def log_partition(energy: Callable[[torch.Tensor], torch.Tensor], extent: Sequence[float],
                  resolution: int = 400, chunk: int = 65_536) -> float:
    r""":math:`\log Z = \log \int e^{-E(x)}\,dx` by the midpoint rule on a ``resolution`` x ``resolution`` grid of
    the box ``extent`` (mass outside the box is ignored: choose a box that holds the model's mass), in float64."""
    check_positive_int(resolution, "resolution")
    x0, x1, y0, y1 = _check_extent(extent)
    hx, hy = (x1 - x0) / resolution, (y1 - y0) / resolution
    xs = x0 + hx * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    ys = y0 + hy * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    grid = torch.cartesian_prod(xs, ys)
    dtype = _energy_dtype(energy)
    neg = torch.cat([-energy(part.to(dtype)).double() for part in grid.split(chunk)])
    if not torch.isfinite(neg).all():
        raise ValueError("the energy is not finite everywhere on the grid; log Z cannot be computed")
    return float(torch.logsumexp(neg, 0) + math.log(hx * hy))  # log sum_i e^{-E(x_i)} dx dy


# --------------------------------------------------------------------------------------------------------------
# Training: the contrastive loss on the course's loop, negative samples from Langevin chains
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EBMConfig:
    """``train_ebm``'s settings: ``steps`` Adam updates (``lr``, betas (0, 0.999) as is usual for EBMs) on
    batches of ``batch_size``; negatives from ``langevin_steps`` projected ULA updates of size ``step_size`` inside
    the box ``extent`` (the model's domain), started from a ``ReplayBuffer`` of ``buffer_size`` chains with restart
    share ``reinit``; ``restart``: fresh noise ``"gaussian"`` (the data's mean and covariance, from 10,000 data
    points) or ``"uniform"`` (over the box); the regulariser weight ``alpha``; the energy network's
    ``hidden``/``depth``; ``max_energy``: the divergence guard; ``lr_schedule``: ``"constant"`` or ``"cosine"``
    (``curriculum.train.run_steps``); ``snapshots``: steps after which to keep a copy of the energy and of that
    step's chain paths."""

    steps: int = 4000
    batch_size: int = 256
    lr: float = 2e-3
    step_size: float = 0.002
    langevin_steps: int = 10
    buffer_size: int = 10_000
    reinit: float = 0.05
    restart: str = "gaussian"
    alpha: float = 0.1
    extent: tuple[float, float, float, float] = (-3.0, 3.0, -3.0, 3.0)
    hidden: int = 128
    depth: int = 3
    max_energy: float = 1e4
    lr_schedule: str = "cosine"
    snapshots: tuple[int, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "langevin_steps", "buffer_size", "hidden", "depth"):
            check_positive_int(getattr(self, name), name)
        for name in ("lr", "step_size", "max_energy"):
            check_positive_float(getattr(self, name), name)
        check_probability(self.reinit, "reinit")
        check_choice(self.restart, "restart", ("gaussian", "uniform"))
        check_nonnegative_float(self.alpha, "alpha")
        check_nonnegative_int(self.seed, "seed")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        _check_extent(self.extent)
        if self.batch_size > self.buffer_size:
            raise ValueError(f"batch_size ({self.batch_size}) must not exceed buffer_size ({self.buffer_size}): "
                             f"each step advances batch_size distinct chains")
        for step in self.snapshots:
            if not 1 <= check_positive_int(step, "snapshots") <= self.steps:
                raise ValueError(f"snapshots must be steps in [1, {self.steps}], got {step}")


@dataclass(frozen=True)
class EBMSnapshot:
    """A copy of the energy after ``step`` updates (eval mode) and that update's chains, from their starts to
    their end points: ``paths (K + 1, B, 2)`` for ``K = langevin_steps``."""

    step: int
    energy: EnergyNet
    paths: torch.Tensor


@dataclass(frozen=True)
class EBMResult:
    """The trained energy (eval mode) on the box ``extent``, the buffer, per step the loss and the mean energies
    of both phases, and the snapshots asked for."""

    energy: EnergyNet
    buffer: ReplayBuffer
    extent: tuple[float, float, float, float]
    loss: list[float]
    energy_real: list[float]
    energy_fake: list[float]
    snapshots: list[EBMSnapshot]


def sample_chains(energy: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, step_size: float,
                  n_steps: int, extent: Sequence[float], generator: torch.Generator | None = None,
                  keep_every: int | None = None) -> LangevinResult:
    """Projected Langevin chains on ``energy`` inside the box ``extent`` from ``start (B, 2)``: the sampler of a
    model defined on that box (``curriculum.langevin.langevin`` with ``box``)."""
    x0, x1, y0, y1 = _check_extent(extent)
    return langevin(energy_score(energy), start, step_size, n_steps, generator, keep_every=keep_every,
                    box=(torch.tensor([x0, y0]), torch.tensor([x1, y1])))


def _check_inside(x: torch.Tensor, extent: Sequence[float]) -> None:
    check_tensor(x, "x", shape=(None, 2), floating=True)
    x0, x1, y0, y1 = _check_extent(extent)
    inside = (x[:, 0] >= x0) & (x[:, 0] <= x1) & (x[:, 1] >= y0) & (x[:, 1] <= y1)
    if not bool(inside.all()):
        raise ValueError(f"x has {int((~inside).sum())} points outside the model's box extent={tuple(extent)}; the "
                         f"model has no density there")


@torch.no_grad()
def nll(energy: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, extent: Sequence[float],
        resolution: int = 400) -> float:
    r"""Mean test NLL in nats of the model normalised on the box: :math:`E[E(x)] + \log Z` (Z by ``log_partition``
    on ``extent``). Every point must lie in the box, where the model is defined."""
    _check_inside(x, extent)
    return float(energy(x).double().mean()) + log_partition(energy, extent, resolution)  # -log p = E + log Z


class EnergyModel:
    """A trained energy as a generative model of the course's protocol (``curriculum.protocol``):
    ``sample(n, generator)`` runs ``n_steps`` projected Langevin steps of size ``step_size`` from ``noise(n,
    generator)`` (default: uniform over the box), ``log_likelihood(x)`` is :math:`-E(x) - \\log Z` with
    :math:`Z` by quadrature on the box (kind ``"quadrature"``), in float64."""

    def __init__(self, energy: EnergyNet, extent: Sequence[float], step_size: float, n_steps: int,
                 noise: Callable[[int, torch.Generator | None], torch.Tensor] | None = None,
                 resolution: int = 400) -> None:
        self.energy, self.extent = energy, _check_extent(extent)
        self.step_size = check_positive_float(step_size, "step_size")
        self.n_steps = check_positive_int(n_steps, "n_steps")
        self.resolution = check_positive_int(resolution, "resolution")
        self.noise = noise if noise is not None else ReplayBuffer(1, self.extent, reinit=1.0).noise
        self._log_z: float | None = None

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        check_positive_int(n, "n")
        start = self.noise(n, generator)
        return sample_chains(self.energy, start, self.step_size, self.n_steps, self.extent, generator).x

    @torch.no_grad()
    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        if self._log_z is None:
            self._log_z = log_partition(self.energy, self.extent, self.resolution)  # the energy is frozen
        _check_inside(x, self.extent)
        energy = self.energy(x.to(_energy_dtype(self.energy))).double()
        return LogLikelihood(-energy - self._log_z, QUADRATURE)  # log p = -E - log Z


class ContrastiveStep:
    """One EBM update for ``curriculum.train.run_steps``: draw chain starts, run projected Langevin on the
    current energy, descend (2), write the chains' end points back into the buffer."""

    def __init__(self, energy: EnergyNet, buffer: ReplayBuffer, config: EBMConfig, noise: torch.Generator) -> None:
        self.energy, self.buffer, self.config, self.noise = energy, buffer, config, noise
        self.optimizer = torch.optim.Adam(energy.parameters(), lr=config.lr, betas=(0.0, 0.999))
        self.modules, self.optimizers = {"energy": energy}, {"energy": self.optimizer}
        self.snapshots: list[EBMSnapshot] = []

    def __call__(self, ctx: StepContext, next_batch: Callable[[], torch.Tensor]) -> dict[str, float]:
        real = next_batch()
        start = self.buffer.draw(real.shape[0], self.noise).to(real)
        snapshot = ctx.step in self.config.snapshots
        run = sample_chains(self.energy, start, self.config.step_size, self.config.langevin_steps,
                            self.config.extent, self.noise, keep_every=1 if snapshot else None)
        fake = run.x
        e_real, e_fake = self.energy(real), self.energy(fake)
        largest = float(torch.cat([e_real, e_fake]).detach().abs().max())
        if not math.isfinite(largest) or largest > self.config.max_energy:
            raise TrainingDiverged(
                f"EBM training diverged at step {ctx.step} of {ctx.steps}: the largest |energy| is {largest:.4g}, "
                f"above max_energy={self.config.max_energy:g}. Things to try: {'; '.join(self.advice())}.",
                step=ctx.step, name="energy", value=largest, history=list(ctx.history))
        loss = contrastive_loss(e_real, e_fake, self.config.alpha)
        logs = {"energy_real": float(e_real.detach().mean()), "energy_fake": float(e_fake.detach().mean())}
        value = ctx.update(loss, self.optimizer, name="the contrastive loss", logged=logs)
        self.buffer.push(fake)
        if snapshot:
            paths = torch.cat([start[None], run.trajectory]).detach()
            self.snapshots.append(EBMSnapshot(ctx.step, copy.deepcopy(self.energy).eval(), paths))
        return {"loss": value, **logs}

    def advice(self) -> list[str]:
        return [f"raise alpha (the energy regulariser, now {self.config.alpha:g}) to keep energies of order 1",
                f"lower the learning rate (lr={self.config.lr:g})",
                f"lower the Langevin step_size ({self.config.step_size:g}) so chains do not fly off"]


def restart_moments(sample_data: Callable[[int, torch.Generator], torch.Tensor], seed: int,
                    n: int = 10_000) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean ``(2,)`` and covariance ``(2, 2)`` of ``n`` data points: the Gaussian that restarts chains."""
    x = sample_data(n, torch.Generator().manual_seed(seed)).double()
    return x.mean(dim=0).float(), torch.cov(x.T).float()


def train_ebm(sample_data: Callable[[int, torch.Generator], torch.Tensor], config: EBMConfig | None = None,
              progress: bool | None = None) -> EBMResult:
    """Train an energy on ``sample_data(n, generator) -> (n, 2)`` with the contrastive loss (2), negatives from
    projected Langevin chains started from a replay buffer (``config.reinit = 1``: short-run chains from noise).
    Stops with ``TrainingDiverged`` when a loss is not finite or an energy exceeds ``config.max_energy``."""
    config = EBMConfig() if config is None else config
    if not isinstance(config, EBMConfig):
        raise TypeError(f"config must be an EBMConfig, got {type(config).__name__}")
    stream = start_run(config.seed)
    energy = EnergyNet(2, config.hidden, config.depth)
    noise = torch.Generator().manual_seed(config.seed + 1)
    restart = restart_moments(sample_data, config.seed + 2) if config.restart == "gaussian" else None
    buffer = ReplayBuffer(config.buffer_size, config.extent, config.reinit, noise, restart=restart)
    step = ContrastiveStep(energy, buffer, config, noise)
    result = run_steps(step, batch_source(sample_data, config.batch_size, stream), config.steps,
                       what="EBM training", desc="EBM", lr_schedule=config.lr_schedule, progress=progress)
    energy.eval()
    return EBMResult(energy, buffer, tuple(float(v) for v in config.extent), result.history,
                     result.logs["energy_real"], result.logs["energy_fake"], step.snapshots)
