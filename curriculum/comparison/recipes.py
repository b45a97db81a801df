r"""Every family's recipe on the plane at one training budget: build, train, save, load, wrap in the protocol.

The budget (``Budget``): the same number of optimiser steps on the generative network, the same batch size, the
same fresh data (every batch drawn anew from the ground-truth distribution with a seeded generator), and MLPs of
the same width and depth wherever the family allows it. What the families do *inside* a step differs, and the
wall time records it: a GAN also updates its discriminator once per step, WGAN-GP its critic five times (with a
double backward for the penalty), an EBM runs ten Langevin steps for its negatives; the Gaussian baseline takes
no step at all (a closed-form maximum-likelihood fit to as many points as the others see).

Each ``Recipe`` knows how to ``train(dist, seed, budget) -> modules`` (a dict of ``nn.Module`` and tensors,
what is saved), how to rebuild empty ``modules`` for loading, and how to turn them into a ``model`` of the
course's protocol (``curriculum.protocol``) with the sampler and the likelihood its notebook recommends.

Symbols: ``dist`` a ``curriculum.toy`` distribution; ``seed`` the training seed (0, 1, 2 for the spread);
``N`` points, ``D = 2``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .. import autoregressive, baselines, diffusion, ebm, flow_matching, flows, gan, score, vae
from ..checks import check_positive_int
from ..nets import TimeMLP
from ..protocol import LOWER_BOUND, LogLikelihood
from ..train import fit

__all__ = ["Budget", "Recipe", "IWAEModel", "TOY_RECIPES", "TOY_FAMILIES", "recipe", "parameter_count", "ddpm_model", "IWAE_SAMPLES"]

IWAE_SAMPLES = 1000  # importance samples of the VAE's likelihood bound


@dataclass(frozen=True)
class Budget:
    """``steps`` optimiser steps on batches of ``batch_size`` fresh points; every network an MLP of ``depth``
    hidden layers of width ``hidden`` (RealNVP: 8 couplings whose MLPs are ``hidden // 2`` wide and 2 deep, so
    that its parameter count matches the others')."""

    steps: int = 3000
    batch_size: int = 512
    hidden: int = 128
    depth: int = 3

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "hidden", "depth"):
            check_positive_int(getattr(self, name), name)


def _stream(dist) -> Callable[[int, torch.Generator], torch.Tensor]:
    """``sample(n, generator) -> (n, 2)`` float32: the same fresh-data stream for every family."""
    return lambda n, generator: dist.sample(n, generator).float()


class IWAEModel:
    """A trained VAE in the protocol with ``k`` importance samples and seeded importance draws (the bound is random;
    a fixed generator makes two evaluations agree). ``chunk``: importance samples per decoder batch."""

    def __init__(self, model: vae.VAE, k: int = IWAE_SAMPLES, chunk: int = 250) -> None:
        self.model, self.k, self.chunk = model, k, chunk

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.model.sample(n, generator)

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        with torch.no_grad():
            values = self.model.iwae(x.float(), self.k, generator=torch.Generator().manual_seed(0), chunk=self.chunk)
        return LogLikelihood(values.double(), LOWER_BOUND)


class _GaussianBaseline(nn.Module):
    """Holds the baseline's fitted mean and covariance as buffers, so it saves and loads like the networks."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(2, dtype=torch.float64))
        self.register_buffer("cov", torch.eye(2, dtype=torch.float64))


@dataclass(frozen=True)
class Recipe:
    """One family on the plane: ``build(budget) -> modules`` (untrained, for loading), ``train(dist, seed, budget,
    progress=False) -> modules``, ``model(modules, dist) -> protocol model``; ``likelihood``: what its ``log_likelihood`` is
    (``"exact"``, ``"lower bound"``, ``"quadrature"`` or ``"none"``); ``nfe``: network evaluations per sample of
    the recommended sampler; ``inner``: what one step does besides the generative network's update."""

    name: str
    label: str
    likelihood: str
    nfe: int
    inner: str
    build: Callable[[Budget], dict[str, nn.Module]]
    train: Callable[..., dict[str, nn.Module]]
    model: Callable[[dict[str, nn.Module], object], object]


# ------------------------------------------------------------------------------------------------------------------
# The recipes, in the course's order


def _gaussian_build(budget: Budget) -> dict[str, nn.Module]:
    return {"gaussian": _GaussianBaseline()}


def _gaussian_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    # as many points as a family sees in its steps x batch, capped: the fit has converged long before
    n = min(budget.steps * budget.batch_size, 200_000)
    fitted = baselines.GaussianML.fit(_stream(dist)(n, torch.Generator().manual_seed(seed)))
    modules = _gaussian_build(budget)
    modules["gaussian"].mean.copy_(fitted.mean)
    modules["gaussian"].cov.copy_(fitted.cov)
    return modules


def _gaussian_model(modules, dist):
    return baselines.GaussianML(modules["gaussian"].mean, modules["gaussian"].cov)


def _vae_build(budget: Budget) -> dict[str, nn.Module]:
    return {"vae": vae.VAE(data_dim=2, latent_dim=2, hidden=budget.hidden, depth=budget.depth, likelihood="gaussian")}


def _vae_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    modules = _vae_build(budget)
    fit(modules["vae"], vae.vae_loss(beta=1.0), _stream(dist), steps=budget.steps, batch_size=budget.batch_size,
        lr=1e-3, lr_schedule="cosine", seed=seed, progress=progress)
    return modules


def _gan_config(budget: Budget, seed: int, wasserstein: bool) -> gan.GanConfig:
    nets = dict(steps=budget.steps, batch_size=budget.batch_size, hidden=budget.hidden, depth=budget.depth,
                latent_dim=2, lr_schedule="cosine", seed=seed)
    # WGAN-GP: five critic steps, Adam betas (0.5, 0.9) and notebook 03's penalty weight 1 (the paper's 10 measured
    # worse here: C2ST 0.865 against 0.759 on the ring, seed 0)
    return gan.GanConfig.wgan_gp(**nets, gp_weight=1.0) if wasserstein else gan.GanConfig(**nets)


def _gan_build(budget: Budget) -> dict[str, nn.Module]:
    return {"generator": gan.Generator(2, budget.hidden, budget.depth, out_dim=2)}


def _gan_trainer(wasserstein: bool):
    def train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
        result = gan.train_gan(lambda n, s: dist.sample(n, seed=s).float(), _gan_config(budget, seed, wasserstein),
                               progress=progress)
        return {"generator": result.generator}
    return train


def _realnvp_build(budget: Budget) -> dict[str, nn.Module]:
    flow = flows.realnvp(2, couplings=8, hidden=budget.hidden // 2, depth=2)
    flow(torch.zeros(2, 2))  # ActNorm layers initialise on their first batch; loading overwrites these values
    return {"flow": flow}


def _realnvp_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    flow = flows.realnvp(2, couplings=8, hidden=budget.hidden // 2, depth=2)
    fit(flow, lambda model, x: -model.log_prob(x).mean(), _stream(dist), steps=budget.steps,
        batch_size=budget.batch_size, lr=2e-3, lr_schedule="cosine", seed=seed, progress=progress)
    flow.eval()
    return {"flow": flow}


EBM_STEP = {"ring": 0.002, "moons": 0.01}  # notebook 05's Langevin step sizes for the two toys
EBM_SAMPLE_STEPS = 500  # Langevin steps per sample from uniform noise over the box


def _toy_key(dist) -> str:
    return "ring" if "ring" in dist.name else "moons"


def _ebm_config(dist, seed: int, budget: Budget) -> ebm.EBMConfig:
    return ebm.EBMConfig(steps=budget.steps, batch_size=budget.batch_size, step_size=EBM_STEP[_toy_key(dist)],
                         hidden=budget.hidden, depth=budget.depth, seed=seed)


def _ebm_build(budget: Budget) -> dict[str, nn.Module]:
    return {"energy": ebm.EnergyNet(2, budget.hidden, budget.depth)}


def _ebm_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    return {"energy": ebm.train_ebm(_stream(dist), _ebm_config(dist, seed, budget), progress=progress).energy}


def _ebm_model(modules, dist):
    config = ebm.EBMConfig()
    return ebm.EnergyModel(modules["energy"], config.extent, EBM_STEP[_toy_key(dist)], EBM_SAMPLE_STEPS)


DIFFUSION_T = 1000
DDIM_STEPS = 50


def _ddpm_build(budget: Budget) -> dict[str, nn.Module]:
    return {"eps": TimeMLP(2, hidden=budget.hidden, depth=budget.depth, time_dim=32, time_scale=1.0)}


def _ddpm_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    modules = _ddpm_build(budget)
    schedule = diffusion.linear_schedule(DIFFUSION_T)
    fit(modules["eps"], lambda model, x0: diffusion.simple_loss(model, schedule, x0), _stream(dist),
        steps=budget.steps, batch_size=budget.batch_size, lr=2e-3, lr_schedule="cosine", seed=seed, progress=progress)
    modules["eps"].eval()
    return modules


def ddpm_model(modules, dist, num_steps: int = DDIM_STEPS, eta: float = 0.0):
    """The trained noise predictor with DDIM (``eta = 0``) or ancestral sampling (``eta = 1``)."""
    return diffusion.DiffusionModel(modules["eps"], diffusion.linear_schedule(DIFFUSION_T), (2,), num_steps, eta)


SCORE_STEPS_PER_LEVEL = 100
LEVEL_TIME = 1e-3  # notebook 07: step size x steps per level


def _score_build(budget: Budget) -> dict[str, nn.Module]:
    return {"score": score.NoiseConditionalScore(2, budget.hidden, budget.depth)}


def _score_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    config = score.ScoreConfig(steps=budget.steps, batch_size=budget.batch_size, hidden=budget.hidden,
                               depth=budget.depth, seed=seed)
    return {"score": score.train_score(_stream(dist), config, progress=progress).model}


def _score_model(modules, dist):
    sigmas = score.ScoreConfig().sigmas
    return score.ScoreSampler(modules["score"], sigmas, SCORE_STEPS_PER_LEVEL, LEVEL_TIME / SCORE_STEPS_PER_LEVEL)


FM_STEPS = 8  # RK4 steps per sample: 32 evaluations (notebook 09: at the noise floor from 16 on)
FM_LIKELIHOOD_STEPS = 25


def _fm_build(budget: Budget) -> dict[str, nn.Module]:
    return {"velocity": flow_matching.VelocityField(2, budget.hidden, budget.depth)}


def _fm_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    config = flow_matching.FMConfig(steps=budget.steps, batch_size=budget.batch_size, hidden=budget.hidden,
                                    depth=budget.depth, seed=seed)
    return {"velocity": flow_matching.train_flow_matching(_stream(dist), config, progress=progress)[0]}


def _fm_model(modules, dist):
    return flow_matching.FlowMatchingModel(modules["velocity"], 2, steps=FM_STEPS, method="rk4",
                                           likelihood_steps=FM_LIKELIHOOD_STEPS)


AR_COMPONENTS = 16


def _ar_build(budget: Budget) -> dict[str, nn.Module]:
    return {"made": autoregressive.MixtureMADE(2, components=AR_COMPONENTS, hidden=budget.hidden, depth=budget.depth)}


def _ar_train(dist, seed: int, budget: Budget, progress: bool | None = False) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    modules = _ar_build(budget)
    fit(modules["made"], lambda model, x: -model.log_prob(x).mean(), _stream(dist), steps=budget.steps,
        batch_size=budget.batch_size, lr=2e-3, lr_schedule="cosine", seed=seed, progress=progress)
    modules["made"].eval()
    return modules


TOY_RECIPES: tuple[Recipe, ...] = (
    Recipe("gaussian", "Gaussian baseline", "exact", 0, "closed-form fit, no optimiser step",
           _gaussian_build, _gaussian_train, _gaussian_model),
    Recipe("vae", "VAE", "lower bound", 1, "one ELBO step (encoder and decoder)",
           _vae_build, _vae_train, lambda m, d: IWAEModel(m["vae"])),
    Recipe("gan", "GAN", "none", 1, "+1 discriminator step",
           _gan_build, _gan_trainer(False), lambda m, d: m["generator"]),
    Recipe("wgan_gp", "WGAN-GP", "none", 1, "+5 critic steps with a gradient penalty",
           _gan_build, _gan_trainer(True), lambda m, d: m["generator"]),
    Recipe("realnvp", "RealNVP", "exact", 1, "one maximum-likelihood step",
           _realnvp_build, _realnvp_train, lambda m, d: m["flow"]),
    Recipe("ebm", "EBM", "quadrature", EBM_SAMPLE_STEPS, "+10 Langevin steps for the negatives",
           _ebm_build, _ebm_train, _ebm_model),
    Recipe("ddpm", "DDPM / DDIM", "none", DDIM_STEPS, "one denoising step",
           _ddpm_build, _ddpm_train, ddpm_model),
    Recipe("score", "score + annealed Langevin", "none", 10 * SCORE_STEPS_PER_LEVEL, "one denoising score-matching step",
           _score_build, _score_train, _score_model),
    Recipe("flow_matching", "flow matching", "exact", 4 * FM_STEPS, "one conditional flow-matching step",
           _fm_build, _fm_train, _fm_model),
    Recipe("autoregressive", "autoregressive (MADE)", "exact", 2, "one maximum-likelihood step",
           _ar_build, _ar_train, lambda m, d: m["made"]),
)
TOY_FAMILIES = tuple(r.name for r in TOY_RECIPES)


def recipe(name: str) -> Recipe:
    """The recipe of family ``name`` (one of ``TOY_FAMILIES``)."""
    for candidate in TOY_RECIPES:
        if candidate.name == name:
            return candidate
    raise ValueError(f"family must be one of {', '.join(TOY_FAMILIES)}; got {name!r}")


def parameter_count(modules: dict[str, nn.Module]) -> int:
    """Trainable parameters that the sampler uses (the networks saved; buffers excluded)."""
    return sum(p.numel() for module in modules.values() for p in module.parameters())


