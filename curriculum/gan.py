r"""Generative adversarial networks: the losses on logits, the optimal discriminator, and the Jensen-Shannon link.

A generator :math:`G` maps noise :math:`z \sim N(0, I)` to a point :math:`x = G(z)` and a discriminator outputs a
logit :math:`l`, with :math:`D = \operatorname{sigmoid}(l)` the probability that its input is real. The game is

.. math:: \min_G \max_D V(D, G),\quad V(D, G) = E_{p_{data}}[\log D(x)] + E_{p_g}[\log(1 - D(x))].       (1)

For a fixed :math:`G` the inner maximum is reached pointwise by the optimal discriminator

.. math:: D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} = \operatorname{sigmoid}(\log p_{data} - \log p_g),  (2)

and at that maximum the game measures the Jensen-Shannon divergence (Goodfellow et al., 2014, Theorem 1):

.. math:: V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g),
          \quad \mathrm{JSD}(p \,\|\, q) = \tfrac12 KL(p \,\|\, m) + \tfrac12 KL(q \,\|\, m),\ m = \tfrac12(p + q).  (3)

``jsd_grid`` and ``gan_value_grid`` evaluate both sides of (3) by quadrature, independently of any network, so
the identity can be checked to float64 precision; ``jsd_from_discriminator`` turns a trained discriminator's
logits into the JSD estimate :math:`(\hat V + \log 4) / 2`, exact in expectation when :math:`D = D^*`.

Every log-probability is computed from logits with softplus, never as ``log(sigmoid(l))``:

.. math:: \log D = -\operatorname{softplus}(-l), \qquad \log(1 - D) = -\operatorname{softplus}(l).            (4)

Symbols and shapes

=====================  =================================================================================
``B``                  batch size
``z``                  latent noise :math:`z \sim N(0, I)`, ``(B, latent_dim)``
``x``                  a data point or a generated point :math:`G(z)`, ``(B, out_dim)``
``logits``             discriminator output :math:`l`, ``(B,)``; :math:`D = \operatorname{sigmoid}(l)`
``real_logits``        :math:`l` on data, ``(B,)``
``fake_logits``        :math:`l` on generated points, ``(B,)``
``d``                  discriminator values :math:`D(x) \in [0, 1]` on grid points, ``(*grid)``
``log_p_data``         :math:`\log p_{data}` on grid points (or at samples), ``(*grid)``
``log_p_g``            :math:`\log p_g`, same shape as ``log_p_data``
``log_p``, ``log_q``   two log-densities on the same grid points, ``(*grid)``
``cell``               the volume of one grid cell (:math:`\Delta x`, or :math:`\Delta x \Delta y` in 2-D)
``V``                  the value (1) of the game; ``JSD`` in nats, :math:`0 \le \mathrm{JSD} \le \log 2`
=====================  =================================================================================

The device and dtype follow the data: noise is drawn on the networks' device in their dtype, and the grid
quantities are computed in the dtype of ``log_p`` (use float64 for the identity checks).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from .checks import (check_bool, check_callable, check_choice, check_nonnegative_int, check_positive_float,
                     check_positive_int, check_tensor)
from .metrics import ModeCoverage, mode_coverage
from .nets import MLP
from .runtime import generator as make_generator
from .train import StepContext, batch_source, run_steps, start_run
from .grading import reference

__all__ = [
    "GENERATOR_LOSSES",
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_nonsaturating",
    "generator_logit_gradient",
    "optimal_discriminator",
    "jsd_grid",
    "gan_value_grid",
    "jsd_from_discriminator",
    "Generator",
    "Discriminator",
    "GanConfig",
    "GanResult",
    "AdversarialStep",
    "train_gan",
    "coverage_over_seeds",
]

GENERATOR_LOSSES = ("saturating", "nonsaturating")
LOG_4 = math.log(4.0)
# Grid densities must integrate to 1 within this tolerance: identity (3) needs both masses to be 1.
_MASS_TOLERANCE = 1e-2


# --------------------------------------------------------------------------------------------------------------
# Losses on logits
# --------------------------------------------------------------------------------------------------------------
def _check_logits(logits: object, name: str) -> torch.Tensor:
    check_tensor(logits, name, ndim=1, floating=True)
    if logits.shape[0] == 0:  # type: ignore[union-attr]
        raise ValueError(f"{name} must hold at least one logit, got shape (0,)")
    return logits  # type: ignore[return-value]


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The discriminator's loss :math:`-(E_{data}[\log D(x)] + E_g[\log(1 - D(G(z)))])`, i.e. :math:`-\hat V`.

    ``real_logits (B_r,)``, ``fake_logits (B_f,)`` -> scalar. Equal to binary cross-entropy with label 1 on
    data and 0 on generated points.
    """
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    log_d_real = -F.softplus(-real_logits)  # log D(x) = -softplus(-l)                                 (4)
    log_one_minus_d_fake = -F.softplus(fake_logits)  # log(1 - D(G(z))) = -softplus(l)                 (4)
    return -(log_d_real.mean() + log_one_minus_d_fake.mean())


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The minimax generator loss :math:`E_z[\log(1 - D(G(z)))]` (minimised): ``(B,)`` -> scalar.

    Its gradient vanishes when the discriminator confidently rejects the fakes (see ``generator_logit_gradient``).
    """
    _check_logits(fake_logits, "fake_logits")
    return (-F.softplus(fake_logits)).mean()  # E[log(1 - D(G(z)))]                                    (4)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The non-saturating generator loss :math:`-E_z[\log D(G(z))]`: ``(B,)`` -> scalar."""
    _check_logits(fake_logits, "fake_logits")
    return F.softplus(-fake_logits).mean()  # -E[log D(G(z))] = E[softplus(-l)]                        (4)


def generator_logit_gradient(logits: torch.Tensor, loss: str = "saturating") -> torch.Tensor:
    r"""The derivative of the per-sample generator loss with respect to its logit, in closed form.

    ``saturating``:    :math:`\frac{d}{dl} \log(1 - \operatorname{sigmoid}(l)) = -\operatorname{sigmoid}(l)`,
    which tends to 0 as :math:`l \to -\infty` (a confident discriminator leaves the generator no signal);

    ``nonsaturating``: :math:`\frac{d}{dl} [-\log \operatorname{sigmoid}(l)] = -(1 - \operatorname{sigmoid}(l))`,
    which tends to -1 there. ``logits`` of any shape -> a tensor of the same shape.
    """
    check_tensor(logits, "logits", floating=True)
    check_choice(loss, "loss", GENERATOR_LOSSES)
    if loss == "saturating":
        return -torch.sigmoid(logits)  # d/dl log(1 - sigmoid(l)) = -sigmoid(l)
    return -torch.sigmoid(-logits)  # d/dl [-log sigmoid(l)] = -(1 - sigmoid(l)) = -sigmoid(-l)


# --------------------------------------------------------------------------------------------------------------
# The optimal discriminator and the divergences it measures
# --------------------------------------------------------------------------------------------------------------
def _check_log_density(x: object, name: str, shape: torch.Size | None = None) -> torch.Tensor:
    check_tensor(x, name, floating=True)
    if shape is not None and x.shape != shape:  # type: ignore[union-attr]
        raise ValueError(f"{name} must have the same shape as log_p_data / log_p, {tuple(shape)}; "
                         f"got {tuple(x.shape)}")  # type: ignore[union-attr]
    if torch.isnan(x).any() or (x == math.inf).any():  # type: ignore[operator, union-attr]
        raise ValueError(f"{name} must hold log-densities: finite values or -inf (zero density); "
                         f"got NaN or +inf")
    return x  # type: ignore[return-value]


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def optimal_discriminator(log_p_data: torch.Tensor, log_p_g: torch.Tensor) -> torch.Tensor:
    r""":math:`D^*(x) = p_{data} / (p_{data} + p_g) = \operatorname{sigmoid}(\log p_{data} - \log p_g)`, elementwise.

    ``(*shape)``, ``(*shape)`` -> ``(*shape)``. Where both densities are zero every :math:`D` is optimal; the
    function returns 1/2 there.
    """
    _check_log_density(log_p_data, "log_p_data")
    _check_log_density(log_p_g, "log_p_g", log_p_data.shape)
    both_zero = torch.isneginf(log_p_data) & torch.isneginf(log_p_g)
    log_ratio = torch.where(both_zero, torch.zeros_like(log_p_data), log_p_data - log_p_g)
    return torch.sigmoid(log_ratio)  # D* = sigmoid(log p_data - log p_g)                               (2)


def _grid_mass(log_p: torch.Tensor, cell: float, name: str) -> torch.Tensor:
    mass = torch.exp(log_p).sum() * cell  # int p dx ~ sum_i p(x_i) cell
    if abs(float(mass) - 1.0) > _MASS_TOLERANCE:
        raise ValueError(f"{name} must be a density that integrates to 1 over the grid (sum exp({name}) * cell); "
                         f"got {float(mass):.4g}. Widen or refine the grid, or check cell (the cell volume)")
    return mass


def _p_log_ratio(log_p: torch.Tensor, log_r: torch.Tensor) -> torch.Tensor:
    """``p * log_r`` with the convention 0 * log 0 = 0 (and 0 * anything = 0) where ``p = exp(log_p) = 0``."""
    p = torch.exp(log_p)
    return torch.where(p > 0, p * log_r, torch.zeros_like(p))


def jsd_grid(log_p: torch.Tensor, log_q: torch.Tensor, cell: float) -> float:
    r""":math:`\mathrm{JSD}(p \,\|\, q)` in nats by quadrature over grid points (3), independent of any network.

    ``log_p``, ``log_q``: ``(*grid)`` log-densities at the same grid points (``-inf`` for zero density);
    ``cell``: the cell volume. Each density must integrate to 1 over the grid (within 1e-2). Zero densities
    contribute nothing (0 log 0 = 0), so disjoint supports give exactly :math:`\log 2`.
    """
    _check_log_density(log_p, "log_p")
    _check_log_density(log_q, "log_q", log_p.shape)
    cell = check_positive_float(cell, "cell")
    _grid_mass(log_p, cell, "log_p")
    _grid_mass(log_q, cell, "log_q")
    log_m = torch.logaddexp(log_p, log_q) - math.log(2.0)  # log m = log((p + q) / 2)
    kl_p_m = _p_log_ratio(log_p, log_p - log_m).sum() * cell  # KL(p || m) = int p log(p / m)
    kl_q_m = _p_log_ratio(log_q, log_q - log_m).sum() * cell  # KL(q || m)
    return float(0.5 * kl_p_m + 0.5 * kl_q_m)  # JSD = (KL(p||m) + KL(q||m)) / 2                      (3)


def gan_value_grid(d: torch.Tensor, log_p_data: torch.Tensor, log_p_g: torch.Tensor, cell: float) -> float:
    r"""The value (1) by quadrature: :math:`V = \int p_{data} \log D + p_g \log(1 - D)\,dx` for values ``d``.

    ``d``, ``log_p_data``, ``log_p_g``: ``(*grid)`` at the same grid points; ``d`` in [0, 1]. With
    ``d = optimal_discriminator(log_p_data, log_p_g)`` this equals :math:`-\log 4 + 2\,\mathrm{JSD}`. A point
    where the density is zero contributes nothing whatever ``d`` is (0 log 0 = 0). ``d`` is clamped to
    ``[tiny, 1 - eps/2]`` of its dtype, so a value of exactly 0 or 1 (often just rounding) costs a large finite
    penalty, not ``-inf``.
    """
    _check_log_density(log_p_data, "log_p_data")
    _check_log_density(log_p_g, "log_p_g", log_p_data.shape)
    check_tensor(d, "d", floating=True)
    if d.shape != log_p_data.shape:
        raise ValueError(f"d must have the same shape as log_p_data, {tuple(log_p_data.shape)}; "
                         f"got {tuple(d.shape)}")
    if torch.isnan(d).any() or (d < 0).any() or (d > 1).any():
        raise ValueError("d must hold discriminator values D(x) in [0, 1] (probabilities, not logits)")
    cell = check_positive_float(cell, "cell")
    _grid_mass(log_p_data, cell, "log_p_data")
    _grid_mass(log_p_g, cell, "log_p_g")
    # D* computed in floating point rounds to exactly 1 once log p_data - log p_g > ~37 (float64), where the
    # true log(1 - D*) is finite; clamping to the open interval keeps such points at the float resolution
    # (log(eps/2) ~ -37 nats) instead of -inf. Their weight p_g < eps p_data makes the error negligible.
    finfo = torch.finfo(d.dtype)
    d = d.clamp(finfo.tiny, 1.0 - finfo.eps / 2)
    data_term = _p_log_ratio(log_p_data, torch.log(d)).sum() * cell  # int p_data log D
    fake_term = _p_log_ratio(log_p_g, torch.log1p(-d)).sum() * cell  # int p_g log(1 - D)
    return float(data_term + fake_term)  # V(D, G)                                                     (1)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def jsd_from_discriminator(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> float:
    r"""The JSD estimate :math:`(\hat V + \log 4) / 2` from a discriminator's logits on data and on fakes.

    :math:`\hat V` is (1) with sample means; by (3) the estimate is unbiased for the JSD when :math:`D = D^*`
    and, for any other :math:`D`, estimates a lower bound (in expectation). ``(B_r,)``, ``(B_f,)`` -> float.
    """
    value = -discriminator_loss(real_logits, fake_logits)  # V_hat = mean log D + mean log(1 - D)     (1)
    return float((value + LOG_4) / 2)  # JSD = (V(D*, G) + log 4) / 2                                  (3)


# --------------------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GanConfig:
    """Everything ``train_gan`` needs besides the data sampler.

    ``steps`` generator updates, each preceded by ``d_steps`` discriminator updates (Adam with ``lr_d``, and
    ``lr_g`` for the generator, both with ``betas``). ``loss`` chooses the generator loss. ``hidden``/``depth``
    size both networks. ``snapshot_every``: keep ``snapshot_size`` generated points every so many steps (and
    after the last), drawn from fixed noise so snapshots are comparable across steps.
    """

    steps: int = 2000
    batch_size: int = 256
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    loss: str = "nonsaturating"
    latent_dim: int = 2
    hidden: int = 128
    spectral_norm: bool = False
    minibatch_std: bool = False
    seed: int = 0
    snapshot_every: int | None = None
    depth: int = 3
    snapshot_size: int = 1000

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "d_steps", "latent_dim", "hidden", "depth", "snapshot_size"):
            check_positive_int(getattr(self, name), name)
        check_positive_float(self.lr_g, "lr_g")
        check_positive_float(self.lr_d, "lr_d")
        betas = self.betas
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), e.g. (0.5, 0.999); got {betas!r}")
        check_choice(self.loss, "loss", GENERATOR_LOSSES)
        check_bool(self.spectral_norm, "spectral_norm")
        check_bool(self.minibatch_std, "minibatch_std")
        check_nonnegative_int(self.seed, "seed")
        if self.snapshot_every is not None:
            check_positive_int(self.snapshot_every, "snapshot_every")


@dataclass(frozen=True)
class GanResult:
    """What ``train_gan`` returns: the trained networks, one loss per step, and ``(step, samples (n, 2))`` pairs."""

    generator: Generator
    discriminator: Discriminator
    d_loss: list[float]
    g_loss: list[float]
    snapshots: list[tuple[int, torch.Tensor]]
    #: the discriminator's state dict at each snapshot, to draw D(x) over the plane as training went
    discriminator_states: list[dict[str, torch.Tensor]] = field(default_factory=list)


class AdversarialStep:
    r"""One GAN step for the course's training loop (``curriculum.train.run_steps``): ``d_steps`` discriminator
    updates on fresh data and noise (descents of :math:`-\hat V`, G fixed), then one generator update (D fixed;
    D's gradients are computed but discarded). Keeps the snapshots of ``GanConfig.snapshot_every``."""

    def __init__(self, gen: Generator, disc: Discriminator, config: GanConfig, noise: torch.Generator,
                 z_fixed: torch.Tensor) -> None:
        self.gen, self.disc, self.config, self.noise, self.z_fixed = gen, disc, config, noise, z_fixed
        self.opt_g = torch.optim.Adam(gen.parameters(), lr=config.lr_g, betas=tuple(config.betas))
        self.opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr_d, betas=tuple(config.betas))
        self.modules = {"generator": gen, "discriminator": disc}
        self.optimizers = {"generator": self.opt_g, "discriminator": self.opt_d}
        self.g_loss_fn = generator_loss_nonsaturating if config.loss == "nonsaturating" else generator_loss_saturating
        self.snapshots: list[tuple[int, torch.Tensor]] = []
        self.discriminator_states: list[dict[str, torch.Tensor]] = []

    def _z(self) -> torch.Tensor:
        param = self.z_fixed
        return torch.randn(self.config.batch_size, self.config.latent_dim, generator=self.noise,
                           device=param.device, dtype=param.dtype)

    def __call__(self, ctx: StepContext, next_batch: Callable[[], torch.Tensor]) -> dict[str, float]:
        d_values = []
        for _ in range(self.config.d_steps):
            x = next_batch()
            with torch.no_grad():
                fake = self.gen(self._z())
            d_loss = discriminator_loss(self.disc(x), self.disc(fake))  # -V_hat(D, G)                  (1)
            d_values.append(ctx.update(d_loss, self.opt_d, name="the discriminator loss", key="discriminator loss"))
        g_loss = self.g_loss_fn(self.disc(self.gen(self._z())))
        g_value = ctx.update(g_loss, self.opt_g, name="the generator loss", key="generator loss")
        every = self.config.snapshot_every
        if every is not None and (ctx.step % every == 0 or ctx.step == ctx.steps):
            with torch.no_grad():
                self.snapshots.append((ctx.step, self.gen(self.z_fixed).detach().clone()))
                self.discriminator_states.append({k: v.detach().clone() for k, v in self.disc.state_dict().items()})
        return {"loss": g_value, "d_loss": sum(d_values) / len(d_values)}

    def advice(self) -> list[str]:
        return [f"lower the learning rates (lr_d={self.config.lr_d:g}, lr_g={self.config.lr_g:g}; try a tenth)",
                "turn on spectral_norm=True to keep the discriminator's logits bounded",
                "use loss='nonsaturating'",
                "check that sample_data returns finite points of order 1"]


def train_gan(sample_data: Callable[[int, int], torch.Tensor], config: GanConfig | None = None,
              progress: bool | None = None) -> GanResult:
    """Train a GAN on ``sample_data(n, seed) -> (n, dim)`` (e.g. ``toy.ring_of_gaussians().sample``).

    Each step makes ``config.d_steps`` discriminator updates on fresh data and noise, then one generator update,
    on the course's one training loop (``curriculum.train.run_steps`` with an ``AdversarialStep``).
    Deterministic per ``config.seed``: ``train.start_run`` seeds everything, the networks are initialised after
    it, the data seeds come from its generator and the noise from generators seeded with ``seed + 1`` and
    ``seed + 2``. The networks live on the device of the data (and in its dtype). A NaN or infinite loss raises
    ``curriculum.train.TrainingDiverged``. ``progress``: ``None`` follows ``CURRICULUM_PROGRESS``;
    ``True``/``False`` force the bar on or off.
    """
    config = GanConfig() if config is None else config
    if not isinstance(config, GanConfig):
        raise TypeError(f"config must be a GanConfig, got {type(config).__name__}")
    check_callable(sample_data, "sample_data", "sample_data(n, seed) -> (n, dim) tensor")

    def data(n: int, stream: torch.Generator) -> torch.Tensor:
        data_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=stream))
        return check_tensor(sample_data(n, data_seed), "sample_data(n, seed)", shape=(n, None), floating=True)

    stream = start_run(config.seed)
    probe = data(config.batch_size, stream)  # sizes the networks; also the first discriminator batch
    device, dtype, dim = probe.device, probe.dtype, probe.shape[1]
    gen = Generator(config.latent_dim, config.hidden, config.depth, out_dim=dim).to(device, dtype)
    disc = Discriminator(dim, config.hidden, config.depth, config.spectral_norm,
                         config.minibatch_std).to(device, dtype)
    noise = make_generator(config.seed + 1, device)  # z for training
    snapshot_noise = make_generator(config.seed + 2, device)
    z_fixed = torch.randn(config.snapshot_size, config.latent_dim, generator=snapshot_noise, device=device,
                          dtype=dtype)
    step = AdversarialStep(gen, disc, config, noise, z_fixed)
    result = run_steps(step, batch_source(data, config.batch_size, stream, first=probe), config.steps,
                       what="GAN training", desc="GAN", log_every=50, progress=progress)
    gen.eval()
    disc.eval()
    return GanResult(gen, disc, result.logs["d_loss"], result.history, step.snapshots, step.discriminator_states)


def coverage_over_seeds(config: GanConfig, seeds: Sequence[int], dist, n_samples: int = 2000,
                        progress: bool | None = None) -> list[ModeCoverage]:
    """Train one GAN per seed on ``dist`` (a ``toy.GaussianMixture2D``) and measure ``metrics.mode_coverage``.

    Coverage uses ``dist.means`` and ``std = dist.stds[0]`` on ``n_samples`` generated points (noise seeded by
    the seed). Returns one ``ModeCoverage`` per seed, in order.
    """
    if not isinstance(config, GanConfig):
        raise TypeError(f"config must be a GanConfig, got {type(config).__name__}")
    if isinstance(seeds, (int, str)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of non-negative integers, got {seeds!r}")
    check_positive_int(n_samples, "n_samples")
    if not (hasattr(dist, "sample") and hasattr(dist, "means") and hasattr(dist, "stds")):
        raise TypeError(f"dist must be a mixture with sample, means and stds (e.g. toy.ring_of_gaussians()), "
                        f"got {type(dist).__name__}")
    results = []
    for seed in seeds:
        result = train_gan(dist.sample, replace(config, seed=seed), progress=progress)
        samples = result.generator.sample(n_samples, generator=make_generator(seed))
        means = dist.means.to(samples)
        results.append(mode_coverage(samples, means, std=float(dist.stds[0])))
    return results
