r"""A noise predictor for the 8x8 digits, trained once by ``python -m curriculum.diffusion.pretrained`` and shipped.

Training long enough for clean digit samples takes minutes on a laptop CPU, more than a notebook's budget; like the
digits classifier in ``features``, the weights are trained by this module's own code and shipped in
``curriculum/assets/``, so anyone can reproduce them. The notebook also trains the same network for a few hundred
steps live, so a learner watches the loss fall and sees what more training buys.

The configuration (shared by the live run and the shipped weights):

================  ==============================================================================
schedule          ``linear_schedule(T)``, ``T = 1000``
network           ``nets.UNet(8, base=16, time_scale=1000 / T)``: ``eps_theta(x_t, t)``
data              the training split of ``data.load_digits()``, pixels mapped from [0, 1] to [-1, 1]
optimisation      ``train.fit``: Adam, ``lr = 2e-3`` annealed by a cosine, batch 128, seed 0
================  ==============================================================================
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from ..checks import check_nonnegative_int, check_positive_int, check_tensor
from ..io import load_torch, save_torch
from ..nets import UNet
from ..train import FitResult, fit
from .losses import simple_loss
from .schedule import NoiseSchedule, linear_schedule

__all__ = ["ASSET_PATH", "T", "SHIPPED_STEPS", "digits_schedule", "build_digits_net", "to_model_space",
           "to_pixels", "train_digits_model", "load_digits_model"]

ASSET_PATH = Path(__file__).resolve().parent.parent / "assets" / "ddpm_digits_unet.pt"
T = 1000
BASE = 16
BATCH_SIZE = 128
LR = 2e-3
SHIPPED_STEPS = 6000


def digits_schedule() -> NoiseSchedule:
    """The schedule the digits model was trained with."""
    return linear_schedule(T)


def build_digits_net() -> UNet:
    """A fresh, untrained ``UNet(8, base=16)`` taking integer steps ``t = 1..T``."""
    return UNet(8, base=BASE, time_scale=1000 / T)


def to_model_space(images: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] ``(B, 1, 8, 8)`` -> the model's [-1, 1]."""
    check_tensor(images, "images", shape=(None, 1, 8, 8), floating=True)
    return images * 2 - 1


def to_pixels(x: torch.Tensor) -> torch.Tensor:
    """Model space ``(B, 1, 8, 8)`` -> pixels in [0, 1] (clamped)."""
    check_tensor(x, "x", shape=(None, 1, 8, 8), floating=True)
    return ((x + 1) / 2).clamp(0, 1)


def train_digits_model(steps: int = SHIPPED_STEPS, seed: int = 0, progress: bool | None = None) -> tuple[UNet, FitResult]:
    """Train ``build_digits_net()`` on the digits' training split with the simple loss; returns it in eval mode."""
    from ..data import load_digits

    check_positive_int(steps, "steps")
    check_nonnegative_int(seed, "seed")
    schedule = digits_schedule()
    x0 = to_model_space(load_digits().train.images)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_digits_net()
    result = fit(net, lambda model, batch: simple_loss(model, schedule, batch), x0, steps=steps,
                 batch_size=BATCH_SIZE, lr=LR, lr_schedule="cosine", seed=seed, progress=progress)
    return net.eval(), result


def load_digits_model() -> UNet:
    """The shipped network (CPU, eval mode, frozen), loaded with ``weights_only=True``."""
    if not ASSET_PATH.is_file():
        raise FileNotFoundError(f"{ASSET_PATH} is missing; run `python -m curriculum.diffusion.pretrained` "
                                f"to train it (a few minutes on a CPU) and write the file")
    net = build_digits_net()
    net.load_state_dict(load_torch(ASSET_PATH, map_location="cpu"))
    return net.eval().requires_grad_(False)


def _main() -> None:
    from ..data import load_digits
    from ..features import classify, digits_frechet_distance
    from .samplers import ddim_sample

    start = time.perf_counter()
    net, result = train_digits_model()
    seconds = time.perf_counter() - start
    save_torch({name: tensor.detach().cpu() for name, tensor in net.state_dict().items()}, ASSET_PATH)
    test = load_digits().test.images
    x_T = torch.randn(len(test), 1, 8, 8, generator=torch.Generator().manual_seed(0))
    samples = to_pixels(ddim_sample(net, digits_schedule(), x_T, 100, clip_x0=1.0))
    print(f"trained {SHIPPED_STEPS} steps in {seconds:.0f} s; final loss {result.final_loss:.4f}")
    print(f"DDIM-100 samples: {classify(samples)}; Frechet to test {digits_frechet_distance(samples, test):.1f}")
    print(f"wrote {ASSET_PATH} ({ASSET_PATH.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    _main()
