"""The digits' part of the comparison: every family the course trains on the 8x8 digits, at one budget.

Likelihoods on the binarised test set (300 images, nats per image): the VAE's IWAE bound, RealNVP's
dequantisation bound (uniform noise on {0, 1}^64 -> [0, 2)^64) and the autoregressive model's exact chain rule.
Sample quality for every digit sampler: the three above (binary images), flow matching on the grey digits (an MLP
velocity field) and notebook 06's shipped pixel U-Net (DDIM); confident share and Frechet distance come from
``curriculum.features``.

Budget: ``DIGIT_STEPS`` Adam steps on batches of ``DIGIT_BATCH`` training images (notebook 01 stops its VAE there:
longer overfits 1,197 images); the shipped U-Net is notebook 06's and is not retrained here.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import autoregressive, data, flow_matching, flows, vae
from ..protocol import LOWER_BOUND, LogLikelihood
from ..train import fit
from .recipes import IWAEModel

__all__ = ["DIGIT_STEPS", "DIGIT_BATCH", "DIGIT_FAMILIES", "DigitRecipe", "DIGIT_RECIPES", "binary_splits",
           "grey_splits", "DequantisedFlow"]

DIGIT_STEPS = 1500
DIGIT_BATCH = 128
DIGIT_FAMILIES = ("vae_digits", "realnvp_digits", "autoregressive_digits", "flow_matching_digits")


def binary_splits() -> tuple[torch.Tensor, torch.Tensor]:
    """Binarised training and test images as vectors, ``(1197, 64)`` and ``(300, 64)``."""
    digits = data.load_digits()
    return tuple(data.binarize(split.images).flatten(1) for split in (digits.train, digits.test))


def grey_splits() -> tuple[torch.Tensor, torch.Tensor]:
    """Grey training and test images in [0, 1] as vectors."""
    digits = data.load_digits()
    return digits.train.images.flatten(1), digits.test.images.flatten(1)


class DequantisedFlow:
    """A flow on dequantised binary images in the protocol: ``log_likelihood`` is the bound
    E_u log p(x + u) <= log P(x) with ``n_noise`` seeded draws of u; ``sample`` rounds the flow's continuous
    draws down to {0, 1} (the inverse of dequantisation)."""

    def __init__(self, flow: flows.Flow, n_noise: int = 10) -> None:
        self.flow, self.n_noise = flow, n_noise

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.flow.sample(n, generator).floor().clamp(0, 1)

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            draws = torch.stack([self.flow.log_prob(flows.dequantize(x, gen)) for _ in range(self.n_noise)])
        return LogLikelihood(draws.mean(dim=0).double(), LOWER_BOUND)


class DigitRecipe:
    """One family on the digits: ``build()``, ``train(seed)``, ``model(modules)``, what its images are."""

    def __init__(self, name, label, images, nfe, build, train, model):
        self.name, self.label, self.images, self.nfe = name, label, images, nfe
        self.build, self.train, self.model = build, train, model


def _rows(x: torch.Tensor):
    def batch(n: int, generator: torch.Generator) -> torch.Tensor:
        return x[torch.randint(0, x.shape[0], (n,), generator=generator)]
    return batch


def _vae_build():
    return {"vae": vae.VAE(data_dim=64, latent_dim=8, hidden=256, depth=2)}


def _vae_train(seed: int, steps: int = DIGIT_STEPS):
    torch.manual_seed(seed)
    modules = _vae_build()
    fit(modules["vae"], vae.vae_loss(beta=1.0), binary_splits()[0], steps=steps, batch_size=DIGIT_BATCH,
        seed=seed, progress=False)
    return modules


def _digit_flow() -> flows.Flow:
    """Notebook 04's digits flow: a logit transform of [0, 2)^64, then six affine couplings."""
    return flows.Flow([flows.LogitTransform(64, upper=2.0, alpha=0.05),
                       *flows.realnvp(64, couplings=6, hidden=256, depth=2).layers])


def _flow_build():
    flow = _digit_flow()
    flow(torch.full((2, 64), 0.5))  # ActNorm's data-dependent initialisation; loading overwrites it
    return {"flow": flow}


def _flow_train(seed: int, steps: int = DIGIT_STEPS):
    torch.manual_seed(seed)
    flow = _digit_flow()
    rows = _rows(binary_splits()[0])
    fit(flow, lambda model, y: -model.log_prob(y).mean(), lambda n, g: flows.dequantize(rows(n, g), g),
        steps=steps, batch_size=DIGIT_BATCH, lr=1e-3, lr_schedule="cosine", seed=seed, progress=False)
    return {"flow": flow.eval()}


def _ar_build():
    return {"made": autoregressive.BernoulliMADE(64, hidden=256, depth=2)}


def _ar_train(seed: int, steps: int = DIGIT_STEPS):
    torch.manual_seed(seed)
    modules = _ar_build()
    fit(modules["made"], lambda model, x: -model.log_prob(x).mean(), binary_splits()[0], steps=steps,
        batch_size=DIGIT_BATCH, lr=1e-3, lr_schedule="cosine", seed=seed, progress=False)
    return modules


FM_DIGIT_STEPS = 25  # RK4 steps per sample: 100 evaluations


def _fm_build():
    return {"velocity": flow_matching.VelocityField(64, hidden=256, depth=3)}


def _fm_train(seed: int, steps: int = DIGIT_STEPS):
    x = grey_splits()[0] * 2 - 1  # [-1, 1], like the diffusion U-Net's model space
    config = flow_matching.FMConfig(steps=steps, batch_size=DIGIT_BATCH, hidden=256, depth=3, seed=seed)
    return {"velocity": flow_matching.train_flow_matching(_rows(x), config, progress=False)[0]}


class _GreyFlowMatching:
    def __init__(self, velocity: nn.Module) -> None:
        self.inner = flow_matching.FlowMatchingModel(velocity, 64, steps=FM_DIGIT_STEPS, method="rk4")

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        with torch.no_grad():
            return ((self.inner.sample(n, generator) + 1) / 2).clamp(0, 1)


DIGIT_RECIPES = (
    DigitRecipe("vae_digits", "VAE", "binary", 1, _vae_build, _vae_train, lambda m: IWAEModel(m["vae"], k=1000, chunk=100)),
    DigitRecipe("realnvp_digits", "RealNVP (dequantised)", "binary", 1, _flow_build, _flow_train,
                lambda m: DequantisedFlow(m["flow"])),
    DigitRecipe("autoregressive_digits", "autoregressive (MADE)", "binary", 64, _ar_build, _ar_train,
                lambda m: m["made"]),
    DigitRecipe("flow_matching_digits", "flow matching (MLP)", "grey", 4 * FM_DIGIT_STEPS, _fm_build, _fm_train,
                lambda m: _GreyFlowMatching(m["velocity"])),
)
