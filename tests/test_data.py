"""The digits split and the opt-in MNIST loader (tested on a tiny fixture in MNIST's own IDX format)."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from curriculum import data


def test_digits_split_sizes_ranges_and_disjointness():
    splits = data.load_digits()
    for name, size in data.DIGITS_SPLIT_SIZES.items():
        part = getattr(splits, name)
        assert part.images.shape == (size, 1, 8, 8)
        assert part.images.dtype == torch.float32 and part.labels.dtype == torch.int64
        assert float(part.images.min()) == 0.0 and float(part.images.max()) == 1.0
        assert part.flat.shape == (size, 64)
    rows = {name: {tuple(v) for v in getattr(splits, name).flat.numpy().round(4).tolist()}
            for name in data.DIGITS_SPLIT_SIZES}
    # the UCI digits contain no exact duplicate images, so disjoint index sets mean disjoint images
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["val"] and not rows["val"] & rows["test"]


def test_digits_split_is_stratified_and_fixed():
    splits = data.load_digits()
    counts = torch.bincount(splits.test.labels, minlength=10)
    assert int(counts.min()) >= 29 and int(counts.max()) <= 31  # 300 images, ~30 a class
    again = data.load_digits()
    assert torch.equal(again.train.images, splits.train.images)
    assert not torch.equal(data.load_digits(seed=1).test.labels, splits.test.labels)


def test_digits_returns_copies():
    a = data.load_digits()
    a.train.images.zero_()
    assert float(data.load_digits().train.images.max()) == 1.0


def write_idx(path, array, magic_type=0x08):
    """MNIST's IDX format: magic (0, 0, type, ndim), big-endian sizes, then raw bytes."""
    header = struct.pack(">BBBB", 0, 0, magic_type, array.ndim) + b"".join(struct.pack(">I", s) for s in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in [("train", 12), ("t10k", 5)]:
        images = rng.integers(0, 256, size=(n, 28, 28))
        labels = np.arange(n) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        with gzip.open(raw / f"{prefix}-images-idx3-ubyte.gz", "wb") as handle:  # as torchvision ships them
            handle.write((raw / f"{prefix}-images-idx3-ubyte").read_bytes())
    return tmp_path, rng


def test_mnist_reads_idx_files_without_network(tiny_mnist):
    root, _ = tiny_mnist
    train = data.load_mnist(root, "train")
    test = data.load_mnist(root, "test")
    assert train.images.shape == (12, 1, 28, 28) and test.images.shape == (5, 1, 28, 28)
    assert train.labels.tolist() == [i % 10 for i in range(12)]
    expected = np.random.default_rng(0).integers(0, 256, size=(12, 28, 28)) / 255.0
    np.testing.assert_allclose(train.images[:, 0].numpy(), expected, rtol=0, atol=1e-7)


def test_mnist_missing_files_explain_the_opt_in(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        data.load_mnist(tmp_path, "train")


def test_mnist_root_from_environment(tiny_mnist, monkeypatch):
    root, _ = tiny_mnist
    monkeypatch.setenv("CURRICULUM_DATA", str(root))
    assert len(data.load_mnist(split="test")) == 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_mnist(split="validation")
    with pytest.raises(TypeError, match="download must be True or False"):
        data.load_mnist(download="yes")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        data.load_digits(seed=-3)
    with pytest.raises(ValueError, match="images must have shape"):
        data.ImageSet(torch.zeros(3, 8, 8), torch.zeros(3, dtype=torch.long))


def test_binarize_thresholds_and_keeps_shape():
    images = torch.tensor([[0.0, 0.5, 0.51, 1.0]])
    assert data.binarize(images).tolist() == [[0.0, 0.0, 1.0, 1.0]]
    digits = data.load_digits().train.images
    binary = data.binarize(digits)
    assert binary.shape == digits.shape and set(binary.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError, match="threshold must be a probability"):
        data.binarize(images, threshold=2.0)
    with pytest.raises(TypeError, match="images must have a floating-point dtype"):
        data.binarize(images.long())


def test_default_data_root_is_the_projects_data_folder(monkeypatch):
    monkeypatch.delenv("CURRICULUM_DATA", raising=False)
    root = data.default_data_root()
    assert root == Path(__file__).resolve().parent.parent / "data"
    assert (root / "README.md").is_file(), "a clean checkout has data/README.md, so the folder exists"
    monkeypatch.setenv("CURRICULUM_DATA", "/tmp/somewhere/else")
    assert data.default_data_root() == Path("/tmp/somewhere/else")


def test_default_data_root_without_a_checkout_is_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("CURRICULUM_DATA", raising=False)
    monkeypatch.setattr(data, "PROJECT_DATA", tmp_path / "no-checkout" / "data")
    root = data.default_data_root()
    assert root.name == "data" and "genmodels-curriculum" in str(root)


def test_data_readme_is_tracked_and_the_rest_ignored():
    import subprocess

    top = Path(__file__).resolve().parent.parent
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/MNIST/raw/train-images-idx3-ubyte"], cwd=top)
    readme = subprocess.run(["git", "check-ignore", "-q", "data/README.md"], cwd=top)
    assert ignored.returncode == 0 and readme.returncode == 1
