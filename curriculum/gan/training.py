r"""Adversarial training: one loop for the original GAN and the Wasserstein GAN.

Each generator update is preceded by ``d_steps`` updates of the discriminator (or critic), each on fresh data
and fresh noise. What the two players descend is the objective's business, not the loop's: a
``JensenShannonLoss`` (``curriculum.gan.jsd``) or a ``WassersteinLoss`` with its gradient penalty or weight
clipping (``curriculum.gan.wasserstein``). ``GanConfig.loss`` picks one ("saturating", "nonsaturating",
"wasserstein"), and ``GanConfig.wgan_gp()`` gives the settings of Gulrajani et al. (penalty 10, five critic
steps, Adam betas (0.5, 0.9)). The loop itself is the course's one training loop (``curriculum.train.run_steps``).

Shapes: data and generated points ``(B, dim)``; noise ``z (B, latent_dim)``; snapshots ``(snapshot_size, dim)``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch

from ..checks import (check_adam_betas, check_bool, check_callable, check_choice, check_nonnegative_int, check_positive_float,
                      check_positive_int, check_tensor)
from ..metrics import ModeCoverage, mode_coverage
from ..runtime import generator as make_generator
from ..train import LR_SCHEDULES, StepContext, batch_source, run_steps, start_run
from .jsd import GENERATOR_LOSSES, JensenShannonLoss
from .networks import Critic, Discriminator, Generator
from .wasserstein import WassersteinLoss, check_clip, check_gp_weight

__all__ = ["LOSSES", "GanConfig", "GanResult", "AdversarialStep", "train_gan", "coverage_over_seeds", "coverage_of"]

LOSSES = (*GENERATOR_LOSSES, "wasserstein")


@dataclass(frozen=True)
class GanConfig:
    """Everything ``train_gan`` needs besides the data sampler.

    ``steps`` generator updates, each preceded by ``d_steps`` discriminator (critic) updates (Adam with ``lr_d``,
    and ``lr_g`` for the generator, both with ``betas``). ``loss`` chooses the objective: the original GAN with
    the ``"nonsaturating"`` or ``"saturating"`` generator loss, or ``"wasserstein"``, whose critic is
    constrained by a gradient penalty of weight ``gp_weight`` (lambda >= 0) and/or weight clipping to
    ``[-clip, clip]`` (both only with ``"wasserstein"``). ``hidden``/``depth`` size both networks.
    ``lr_schedule``: ``"constant"`` or ``"cosine"`` (both learning rates annealed to 0 over the run, which lets
    the generator's samples settle instead of jittering around the modes). ``snapshot_every``: keep ``snapshot_size`` generated points every so many steps (and after the last), drawn
    from fixed noise so snapshots are comparable across steps.
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
    gp_weight: float = 0.0
    clip: float | None = None
    lr_schedule: str = "constant"

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "d_steps", "latent_dim", "hidden", "depth", "snapshot_size"):
            check_positive_int(getattr(self, name), name)
        check_positive_float(self.lr_g, "lr_g")
        check_positive_float(self.lr_d, "lr_d")
        check_adam_betas(self.betas)
        check_choice(self.loss, "loss", LOSSES)
        check_bool(self.spectral_norm, "spectral_norm")
        check_bool(self.minibatch_std, "minibatch_std")
        check_gp_weight(self.gp_weight)
        check_clip(self.clip)
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        if self.loss != "wasserstein" and (self.gp_weight > 0 or self.clip is not None):
            raise ValueError(f"gp_weight and clip constrain a Wasserstein critic; they need loss='wasserstein', "
                             f"got loss={self.loss!r} with gp_weight={self.gp_weight:g}, clip={self.clip}")
        if self.gp_weight > 0 and self.minibatch_std:
            raise ValueError("minibatch_std makes each critic value depend on the whole batch, so the per-sample "
                             "gradient penalty no longer measures the critic's slope; use minibatch_std=False "
                             "with gp_weight > 0")
        check_nonnegative_int(self.seed, "seed")
        if self.snapshot_every is not None:
            check_positive_int(self.snapshot_every, "snapshot_every")

    @classmethod
    def wgan_gp(cls, **changes: object) -> "GanConfig":
        """WGAN-GP as Gulrajani et al. set it: penalty 10, five critic steps per generator step, Adam betas
        (0.5, 0.9) (their toy experiments), with any other field changed by ``changes``."""
        settings = dict(loss="wasserstein", gp_weight=10.0, d_steps=5, betas=(0.5, 0.9))
        return cls(**{**settings, **changes})  # type: ignore[arg-type]

    def objective(self) -> JensenShannonLoss | WassersteinLoss:
        """The loss object the adversarial loop descends (``critic_step``, ``after_critic_update``,
        ``generator_loss``)."""
        if self.loss == "wasserstein":
            return WassersteinLoss(self.gp_weight, self.clip)
        return JensenShannonLoss(self.loss)


@dataclass(frozen=True)
class GanResult:
    """What ``train_gan`` returns: the trained networks, one loss per step, and ``(step, samples (n, 2))`` pairs.

    ``d_loss`` is the discriminator's (critic's) loss averaged over each step's updates, penalty included;
    ``logs`` holds the objective's other per-step values (for a Wasserstein critic ``w1_estimate``, the dual
    value :math:`E_{data} f - E_g f` averaged over the step's critic updates, and ``gradient_penalty``).
    """

    generator: Generator
    discriminator: Discriminator
    d_loss: list[float]
    g_loss: list[float]
    snapshots: list[tuple[int, torch.Tensor]]
    #: the discriminator's state dict at each snapshot, to draw D(x) over the plane as training went
    discriminator_states: list[dict[str, torch.Tensor]] = field(default_factory=list)
    logs: dict[str, list[float]] = field(default_factory=dict)

    @property
    def critic(self) -> Discriminator:
        """The discriminator under its Wasserstein name."""
        return self.discriminator


class AdversarialStep:
    r"""One GAN step for the course's training loop (``curriculum.train.run_steps``): ``d_steps`` discriminator
    (critic) updates on fresh data and noise, each descending the objective's critic loss with G fixed and then
    applying its ``after_critic_update`` (weight clipping, say), then one generator update (D fixed; D's
    gradients are computed but discarded). Keeps the snapshots of ``GanConfig.snapshot_every``."""

    def __init__(self, gen: Generator, disc: Discriminator, config: GanConfig, noise: torch.Generator,
                 z_fixed: torch.Tensor) -> None:
        self.gen, self.disc, self.config, self.noise, self.z_fixed = gen, disc, config, noise, z_fixed
        self.opt_g = torch.optim.Adam(gen.parameters(), lr=config.lr_g, betas=tuple(config.betas))
        self.opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr_d, betas=tuple(config.betas))
        self.modules = {"generator": gen, "discriminator": disc}
        self.optimizers = {"generator": self.opt_g, "discriminator": self.opt_d}
        self.objective = config.objective()
        # Interpolation points of a gradient penalty: their own stream, so the data and noise streams (and the
        # original GAN's runs) are the same with or without a penalty.
        self.penalty_noise = make_generator(config.seed + 3, z_fixed.device)
        self.snapshots: list[tuple[int, torch.Tensor]] = []
        self.discriminator_states: list[dict[str, torch.Tensor]] = []

    def _z(self) -> torch.Tensor:
        param = self.z_fixed
        return torch.randn(self.config.batch_size, self.config.latent_dim, generator=self.noise,
                           device=param.device, dtype=param.dtype)

    def __call__(self, ctx: StepContext, next_batch: Callable[[], torch.Tensor]) -> dict[str, float]:
        d_values, logged = [], {}
        for _ in range(self.config.d_steps):
            x = next_batch()
            with torch.no_grad():
                fake = self.gen(self._z())
            d_loss, logs = self.objective.critic_step(self.disc, x, fake, self.penalty_noise)
            d_values.append(ctx.update(d_loss, self.opt_d, name="the discriminator loss", key="discriminator loss",
                                       logged=logs))
            self.objective.after_critic_update(self.disc)
            for name, value in logs.items():
                logged.setdefault(name, []).append(value)
        g_loss = self.objective.generator_loss(self.disc(self.gen(self._z())))
        g_value = ctx.update(g_loss, self.opt_g, name="the generator loss", key="generator loss")
        every = self.config.snapshot_every
        if every is not None and (ctx.step % every == 0 or ctx.step == ctx.steps):
            with torch.no_grad():
                self.snapshots.append((ctx.step, self.gen(self.z_fixed).detach().clone()))
                self.discriminator_states.append({k: v.detach().clone() for k, v in self.disc.state_dict().items()})
        means = {name: sum(values) / len(values) for name, values in logged.items()}
        return {"loss": g_value, "d_loss": sum(d_values) / len(d_values), **means}

    def advice(self) -> list[str]:
        return [f"lower the learning rates (lr_d={self.config.lr_d:g}, lr_g={self.config.lr_g:g}; try a tenth)",
                *self.objective.advice(),
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
    network = Critic if config.loss == "wasserstein" else Discriminator
    disc = network(dim, config.hidden, config.depth, config.spectral_norm, config.minibatch_std).to(device, dtype)
    noise = make_generator(config.seed + 1, device)  # z for training
    snapshot_noise = make_generator(config.seed + 2, device)
    z_fixed = torch.randn(config.snapshot_size, config.latent_dim, generator=snapshot_noise, device=device,
                          dtype=dtype)
    step = AdversarialStep(gen, disc, config, noise, z_fixed)
    result = run_steps(step, batch_source(data, config.batch_size, stream, first=probe), config.steps,
                       what="GAN training", desc="GAN", lr_schedule=config.lr_schedule, log_every=50,
                       progress=progress)
    gen.eval()
    disc.eval()
    logs = {name: values for name, values in result.logs.items() if name != "d_loss"}
    return GanResult(gen, disc, result.logs["d_loss"], result.history, step.snapshots, step.discriminator_states,
                     logs)


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
        results.append(coverage_of(result.generator, dist, n_samples, seed))
    return results


def coverage_of(gen: Generator, dist, n_samples: int = 2000, seed: int = 0) -> ModeCoverage:
    """``metrics.mode_coverage`` of ``n_samples`` points of ``gen`` (noise seeded with ``seed``) against the
    modes of ``dist`` (``dist.means``, ``std = dist.stds[0]``): the measurement of ``coverage_over_seeds``."""
    check_positive_int(n_samples, "n_samples")
    samples = gen.sample(n_samples, generator=make_generator(seed))
    return mode_coverage(samples, dist.means.to(samples), std=float(dist.stds[0]))
