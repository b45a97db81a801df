"""A small digits classifier that scores image samples: class predictions and features for a Frechet distance.

The course's image models generate 8x8 digits (``curriculum.data.load_digits``). To judge a batch of samples we
ask a fixed classifier trained on the real digits:

- ``classify``                 is each sample a confident digit (quality), and are the 10 classes evenly present
                               (diversity; entropy of the predicted-label histogram, log 10 when perfectly spread)?
- ``digits_frechet_distance``  the Frechet distance between classifier features of two image sets (the FID recipe
                               with a digits network in place of Inception)

The weights ship in ``curriculum/assets/digits_classifier.pt`` (a state dict, loaded with ``weights_only=True``).
``python -m curriculum.features`` retrains them (seed 0, about 10 s on 2 CPU cores) and rewrites the file atomically.

Symbol table (name in code -> symbol):

====================  ==========================================================
``images``            x, a batch (N, 1, 8, 8) with pixel values in [0, 1]
``logits``            f(x) in R^10, unnormalised class scores
``probs``             p(c | x) = softmax(f(x))_c
``features``          phi(x) in R^64, penultimate activations (after ReLU)
``confidence``        max_c p(c | x)
``class_entropy``     H(c_hat) = -sum_c q_c log q_c, q_c = share of samples labelled c
====================  ==========================================================
"""
from __future__ import annotations

import copy
import functools
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checks import check_finite, check_nonnegative_int, check_positive_float, check_positive_int, check_tensor
from .io import load_torch, save_torch
from .runtime import pick_device, preserved_rng_state

__all__ = [
    "DigitsClassifier",
    "DigitPredictions",
    "ASSET_PATH",
    "N_CLASSES",
    "train_digits_classifier",
    "evaluate_accuracy",
    "load_digits_classifier",
    "digits_features",
    "classify",
    "digits_frechet_distance",
]

ASSET_PATH = Path(__file__).resolve().parent / "assets" / "digits_classifier.pt"
N_CLASSES = 10
IMAGE_SHAPE = (1, 8, 8)
CONFIDENT_THRESHOLD = 0.9  # a prediction counts as confident when max_c p(c | x) >= this
DEFAULT_EPOCHS = 40
_BATCH = 1024  # inference batch size


class DigitsClassifier(nn.Module):
    """A small CNN for 8x8 digits: conv3x3(16) - conv3x3(32) - maxpool 2 - linear 64 - linear 10.

    ``forward(x)``: (B, 1, 8, 8) -> logits (B, 10). ``features(x)``: (B, 1, 8, 8) -> (B, 64), the penultimate
    activations phi(x) that feed the last linear layer.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)  # (B, 16, 8, 8)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)  # (B, 32, 8, 8) -> pool -> (B, 32, 4, 4)
        self.hidden = nn.Linear(32 * 4 * 4, 64)
        self.head = nn.Linear(64, N_CLASSES)

    def features(self, x: Tensor) -> Tensor:
        """phi(x): (B, 1, 8, 8) -> (B, 64)."""
        h = F.relu(self.conv1(x))
        h = F.max_pool2d(F.relu(self.conv2(h)), kernel_size=2)
        return F.relu(self.hidden(h.flatten(1)))

    def forward(self, x: Tensor) -> Tensor:
        """Logits f(x): (B, 1, 8, 8) -> (B, 10)."""
        return self.head(self.features(x))


@dataclass(frozen=True)
class DigitPredictions:
    """What the classifier says about a batch of images.

    ``labels`` (N,) int64 argmax classes; ``confidence`` (N,) max_c p(c | x); ``confident_share`` share of images
    with confidence >= 0.9; ``class_counts`` 10 counts of predicted labels; ``class_entropy`` entropy (nats) of
    the predicted-label histogram: log 10 = 2.3026 when the classes are perfectly spread, 0 when all one digit.
    """

    labels: Tensor
    confidence: Tensor
    confident_share: float
    class_counts: tuple[int, ...]
    class_entropy: float

    def __str__(self) -> str:
        return (f"{100 * self.confident_share:.1f}% confident, class entropy {self.class_entropy:.3f} "
                f"(max {math.log(N_CLASSES):.3f}), counts {list(self.class_counts)}")


# --------------------------------------------------------------------------------------------------------------------
# validation


def _check_images(images: object, name: str, *, min_rows: int = 1) -> Tensor:
    """(N, 1, 8, 8), floating, finite, values roughly in [0, 1] (refused outside [-0.5, 1.5])."""
    check_tensor(images, name, shape=(None, *IMAGE_SHAPE), floating=True)
    check_finite(images, name)
    if images.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} images, got shape {tuple(images.shape)}")
    lo, hi = float(images.min()), float(images.max())
    if lo < -0.5 or hi > 1.5:
        raise ValueError(f"{name} must hold pixel values in [0, 1] (tolerated: [-0.5, 1.5]), got values in "
                         f"[{lo:.3g}, {hi:.3g}]; rescale images from [-1, 1] with (x + 1) / 2")
    return images


# --------------------------------------------------------------------------------------------------------------------
# training


def _random_shift(images: Tensor, gen: torch.Generator, max_shift: int = 1) -> Tensor:
    """Translate each image (B, C, H, W) by an independent random offset in {-max_shift..max_shift}^2, zero fill."""
    b, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)  # (B, C, H + 2s, W + 2s)
    offsets = torch.randint(0, 2 * max_shift + 1, (2, b), generator=gen).to(images.device)
    rows = offsets[0][:, None] + torch.arange(h, device=images.device)  # (B, H)
    cols = offsets[1][:, None] + torch.arange(w, device=images.device)  # (B, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    crops = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return crops.permute(0, 3, 1, 2)


class _AugmentedEpochs:
    """``sample_batch(batch_size, generator)`` for ``train.fit``: the training images in epochs (a fresh
    permutation each epoch, the last batch of an epoch smaller), each batch shifted by up to one pixel and given
    Gaussian pixel noise (sd 0.05). Every random draw comes from the generator ``fit`` passes in, in the order
    permutation, shifts, noise."""

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        self.images, self.labels = images, labels
        self.order = torch.empty(0, dtype=torch.long)

    def __call__(self, batch_size: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        if self.order.numel() == 0:
            self.order = torch.randperm(self.images.shape[0], generator=gen)
        batch, self.order = self.order[:batch_size], self.order[batch_size:]
        x = _random_shift(self.images[batch], gen)
        x = (x + 0.05 * torch.randn(x.shape, generator=gen)).clamp(0.0, 1.0)  # pixel noise
        return x, self.labels[batch]


def _cross_entropy(model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
    images, labels = batch
    return F.cross_entropy(model(images), labels)  # -log p(c | x)


def train_digits_classifier(seed: int = 0, epochs: int = DEFAULT_EPOCHS, device: str = "cpu",
                            batch_size: int = 32, lr: float = 3e-3) -> DigitsClassifier:
    """Train a ``DigitsClassifier`` on the training split of the 8x8 digits; returned in eval mode on ``device``.

    Deterministic given ``seed`` on a given machine, and the caller's global random streams are left as they
    were (``runtime.preserved_rng_state``). Trains with the course's loop, ``train.fit``: Adam with a cosine
    learning-rate decay over ``epochs`` passes, minibatches from ``_AugmentedEpochs`` (random shifts of up to
    one pixel and Gaussian pixel noise, so slightly off-centre or noisy generated digits are still read
    correctly). The default 40 epochs take a few seconds on 2 CPU cores.
    """
    from .data import load_digits
    from .train import fit

    check_nonnegative_int(seed, "seed")
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    check_positive_float(lr, "lr")
    target = pick_device(device)
    train = load_digits().train
    steps_per_epoch = math.ceil(train.images.shape[0] / batch_size)
    with preserved_rng_state():
        torch.manual_seed(seed)  # parameter initialisation uses the global RNG
        model = DigitsClassifier().to(target)
        fit(model, _cross_entropy, _AugmentedEpochs(train.images, train.labels), steps=epochs * steps_per_epoch,
            batch_size=batch_size, lr=lr, lr_schedule="cosine", seed=seed, device=device, progress=False)
    return model.eval()


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    """Share of ``images`` (N, 1, 8, 8) whose argmax class equals ``labels`` (N,)."""
    _check_images(images, "images")
    check_tensor(labels, "labels", shape=(images.shape[0],), dtype=torch.int64)
    device = next(model.parameters()).device
    predicted = torch.cat([model(chunk.to(device)).argmax(1).cpu() for chunk in images.split(_BATCH)])
    return float((predicted == labels.cpu()).double().mean())


# --------------------------------------------------------------------------------------------------------------------
# the shipped classifier


@functools.cache
def load_digits_classifier() -> DigitsClassifier:
    """The shipped classifier (CPU, eval mode, parameters frozen); one shared instance per process.

    Loads ``ASSET_PATH`` with ``weights_only=True``. If the file is missing, trains a fresh one (seed 0) with a
    warning. Do not train the returned instance; ``copy.deepcopy`` it first.
    """
    model = DigitsClassifier()
    if ASSET_PATH.is_file():
        model.load_state_dict(load_torch(ASSET_PATH, map_location="cpu"))
    else:
        warnings.warn(f"{ASSET_PATH} is missing; training a digits classifier now (about 10 s). Run "
                      "`python -m curriculum.features` to write the file once.", RuntimeWarning, stacklevel=2)
        model = train_digits_classifier(seed=0)
    return model.eval().requires_grad_(False)


@functools.cache
def _classifier_on(device: torch.device) -> DigitsClassifier:
    """The shipped classifier on ``device`` (a copy per device, so the device follows the data)."""
    model = load_digits_classifier()
    return model if device == torch.device("cpu") else copy.deepcopy(model).to(device)


def digits_features(images: Tensor) -> Tensor:
    """phi(x): penultimate activations of the shipped classifier, (N, 1, 8, 8) -> (N, 64) on the images' device."""
    images = _check_images(images, "images")
    model = _classifier_on(images.device)
    with torch.no_grad():
        return torch.cat([model.features(chunk) for chunk in images.split(_BATCH)])


def classify(images: Tensor) -> DigitPredictions:
    """Predicted digits of ``images`` (N, 1, 8, 8) in [0, 1] with confidence and class-spread summaries."""
    images = _check_images(images, "images")
    model = _classifier_on(images.device)
    with torch.no_grad():
        probs = torch.cat([model(chunk).softmax(1) for chunk in images.split(_BATCH)]).double()  # p(c | x)
    confidence, labels = probs.max(1)  # max_c p(c | x), argmax_c
    counts = torch.bincount(labels, minlength=N_CLASSES)
    share = counts.double() / labels.shape[0]  # q_c
    class_entropy = -(share[share > 0] * share[share > 0].log()).sum()  # H = -sum_c q_c log q_c, 0 log 0 = 0
    return DigitPredictions(
        labels=labels,
        confidence=confidence.float(),
        confident_share=float((confidence >= CONFIDENT_THRESHOLD).double().mean()),
        class_counts=tuple(int(c) for c in counts.tolist()),
        class_entropy=float(class_entropy) + 0.0,  # + 0.0 turns -0.0 (one class) into 0.0
    )


def digits_frechet_distance(images_a: Tensor, images_b: Tensor) -> float:
    """Frechet distance between Gaussians fitted to classifier features of ``images_a`` (N, 1, 8, 8) and
    ``images_b`` (M, 1, 8, 8); N, M >= 2. A digits analogue of FID: compare values at equal sample sizes."""
    from .metrics import frechet_distance

    _check_images(images_a, "images_a", min_rows=2)
    _check_images(images_b, "images_b", min_rows=2)
    return frechet_distance(digits_features(images_a), digits_features(images_b.to(images_a.device)))


# --------------------------------------------------------------------------------------------------------------------
# python -m curriculum.features: retrain and rewrite the shipped weights


def _main() -> None:
    from .data import load_digits

    start = time.perf_counter()
    model = train_digits_classifier(seed=0)
    seconds = time.perf_counter() - start
    splits = load_digits()
    val = evaluate_accuracy(model, splits.val.images, splits.val.labels)
    test = evaluate_accuracy(model, splits.test.images, splits.test.labels)
    save_torch({name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}, ASSET_PATH)
    print(f"trained in {seconds:.1f} s; validation accuracy {val:.4f}; test accuracy {test:.4f}")
    print(f"wrote {ASSET_PATH} ({ASSET_PATH.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    _main()
