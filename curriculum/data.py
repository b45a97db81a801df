"""Image data: the 8x8 digits by default (offline), full MNIST only when asked.

The default data set is scikit-learn's copy of the UCI optical digits: 1,797 grey images of 8x8 pixels with
integer intensities 0..16, shipped inside scikit-learn, so it loads with no network. We scale intensities to
[0, 1] and split once, stratified by label with a fixed seed, into

    train 1,197 | validation 300 | test 300

so every machine sees the same images in the same split. Full MNIST (70,000 images of 28x28) goes through
torchvision and is an explicit opt-in: ``load_mnist(root, download=True)``. Without ``download=True`` it only
reads files that are already on disk and says how to get them otherwise. Downloads and generated data sets go
under ``default_data_root()``: the project's ``data/`` folder unless ``CURRICULUM_DATA`` says otherwise.

Shapes: images ``(N, 1, H, W)`` float32 in [0, 1]; labels ``(N,)`` int64.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .checks import check_bool, check_choice, check_nonnegative_int, check_probability, check_tensor

__all__ = ["ImageSet", "DigitsSplits", "load_digits", "load_mnist", "binarize", "DIGITS_SPLIT_SIZES", "default_data_root",
           "DATA_ENV"]

DIGITS_SPLIT_SIZES = {"train": 1197, "val": 300, "test": 300}
DIGITS_MAX_INTENSITY = 16.0  # the UCI digits count ink in 4x4 blocks of a 32x32 bitmap: 0..16


@dataclass(frozen=True)
class ImageSet:
    """A set of images with labels. ``images``: (N, 1, H, W) float32 in [0, 1]; ``labels``: (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"images must have shape (N, C, H, W) and labels (N,), got {tuple(self.images.shape)} "
                f"and {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def flat(self) -> torch.Tensor:
        """The images as vectors, (N, C*H*W)."""
        return self.images.flatten(1)


@dataclass(frozen=True)
class DigitsSplits:
    train: ImageSet
    val: ImageSet
    test: ImageSet


@lru_cache(maxsize=4)
def _digits(seed: int) -> DigitsSplits:
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    images = bunch.images.astype(np.float32) / DIGITS_MAX_INTENSITY  # (1797, 8, 8) in [0, 1]
    labels = bunch.target.astype(np.int64)
    index = np.arange(len(labels))
    rest, test = train_test_split(index, test_size=DIGITS_SPLIT_SIZES["test"], stratify=labels, random_state=seed)
    train, val = train_test_split(
        rest, test_size=DIGITS_SPLIT_SIZES["val"], stratify=labels[rest], random_state=seed
    )

    def subset(idx: np.ndarray) -> ImageSet:
        idx = np.sort(idx)
        return ImageSet(torch.from_numpy(images[idx]).unsqueeze(1), torch.from_numpy(labels[idx]))

    return DigitsSplits(train=subset(train), val=subset(val), test=subset(test))


def load_digits(seed: int = 0) -> DigitsSplits:
    """The 8x8 digits as tensors with the course's fixed stratified split (``seed=0`` everywhere in the course).

    Returns fresh tensors each call, so a notebook that edits them in place cannot corrupt the cache.
    """
    check_nonnegative_int(seed, "seed")
    cached = _digits(seed)
    copy = lambda s: ImageSet(s.images.clone(), s.labels.clone())  # noqa: E731
    return DigitsSplits(train=copy(cached.train), val=copy(cached.val), test=copy(cached.test))


def binarize(images: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Pixels above ``threshold`` become 1.0, the rest 0.0 (same shape and dtype).

    A deterministic threshold gives binary data on which a Bernoulli decoder's likelihood is a proper
    probability mass, so NLLs in nats per image are well defined and comparable across models.
    """
    check_tensor(images, "images", floating=True)
    check_probability(threshold, "threshold")
    return (images > threshold).to(images.dtype)


DATA_ENV = "CURRICULUM_DATA"
PROJECT_DATA = Path(__file__).resolve().parent.parent / "data"  # the checkout's data/ folder (see its README)


def default_data_root() -> Path:
    """Where opt-in downloads and generated data sets go: ``$CURRICULUM_DATA`` if set; else the project's
    ``data/`` folder when the package runs from a checkout (recognised by ``data/README.md``); else a ``data``
    folder in the user's data directory (``platformdirs``), for an installed package with no checkout."""
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    if (PROJECT_DATA / "README.md").is_file():
        return PROJECT_DATA
    from platformdirs import user_data_dir

    return Path(user_data_dir("genmodels-curriculum")) / "data"


default_mnist_root = default_data_root  # the earlier name


def load_mnist(root: str | os.PathLike | None = None, split: str = "train", download: bool = False) -> ImageSet:
    """Full MNIST as an ``ImageSet`` of (N, 1, 28, 28) float32 in [0, 1].

    Reads the standard IDX files under ``root/MNIST/raw`` (torchvision's layout). Downloads them only when
    ``download=True``; otherwise a missing file is an error that says how to opt in.
    """
    check_choice(split, "split", ("train", "test"))
    check_bool(download, "download")
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else default_data_root()
    try:
        dataset = MNIST(str(root), train=(split == "train"), download=download)
    except RuntimeError as err:
        if download:
            raise
        raise FileNotFoundError(
            f"MNIST files were not found under root={str(root)!r} (expected {root / 'MNIST' / 'raw'}). "
            "The course runs offline on the 8x8 digits by default; to use full MNIST, call "
            "load_mnist(root, download=True) once on a machine with network access."
        ) from err
    images = dataset.data.unsqueeze(1).to(torch.float32) / 255.0  # uint8 0..255 -> [0, 1]
    return ImageSet(images, dataset.targets.to(torch.int64))
