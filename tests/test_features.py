"""Tests for curriculum.features: the shipped digits classifier, its predictions and its Frechet distance."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import features
from curriculum.data import load_digits
from curriculum.features import (
    DigitPredictions,
    DigitsClassifier,
    classify,
    digits_features,
    digits_frechet_distance,
    evaluate_accuracy,
    load_digits_classifier,
    train_digits_classifier,
)

# Test accuracy of the shipped weights when they were written (python -m curriculum.features): 300 / 300.
MEASURED_TEST_ACCURACY = 1.0


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture
def fresh_cache():
    """Empty the classifier caches before and after a test that swaps the asset or the trainer."""
    load_digits_classifier.cache_clear()
    features._classifier_on.cache_clear()
    yield
    load_digits_classifier.cache_clear()
    features._classifier_on.cache_clear()


def quick_trainer(seed: int = 0, **kwargs) -> DigitsClassifier:
    return train_digits_classifier(seed=seed, epochs=1)


def test_shipped_classifier_reaches_measured_test_accuracy(digits):
    model = load_digits_classifier()
    accuracy = evaluate_accuracy(model, digits.test.images, digits.test.labels)
    assert accuracy >= max(0.97, MEASURED_TEST_ACCURACY) - 1e-12
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_shipped_asset_is_a_small_plain_state_dict_loadable_weights_only():
    assert features.ASSET_PATH.stat().st_size < 200 * 1024
    state = torch.load(features.ASSET_PATH, map_location="cpu", weights_only=True)
    reference = DigitsClassifier().state_dict()
    assert set(state) == set(reference)
    assert all(state[k].shape == reference[k].shape for k in reference)
    loaded = load_digits_classifier().state_dict()
    assert all(torch.equal(state[k], loaded[k]) for k in reference)


def test_features_are_the_penultimate_activations(digits):
    model = load_digits_classifier()
    x = digits.val.images[:17]
    phi = model.features(x)
    assert phi.shape == (17, 64) and (phi >= 0).all()
    assert model(x).shape == (17, 10)
    torch.testing.assert_close(model.head(phi), model(x))
    torch.testing.assert_close(digits_features(x), phi)


def test_classify_real_test_digits_is_confident_and_spread(digits):
    predictions = classify(digits.test.images)
    assert isinstance(predictions, DigitPredictions)
    n = len(digits.test)
    assert predictions.labels.shape == (n,) and predictions.labels.dtype == torch.int64
    assert predictions.confidence.shape == (n,)
    assert ((predictions.confidence > 0.1 - 1e-6) & (predictions.confidence <= 1 + 1e-6)).all()  # max of 10 >= 1/10
    assert predictions.confident_share >= 0.9
    assert predictions.confident_share == pytest.approx(float((predictions.confidence >= 0.9).double().mean()))
    assert sum(predictions.class_counts) == n and len(predictions.class_counts) == 10
    assert predictions.class_entropy == pytest.approx(math.log(10), abs=0.01)
    assert (predictions.labels == digits.test.labels).double().mean() >= 0.97


def test_classify_entropy_of_a_single_digit_is_zero_and_matches_histogram(digits):
    threes = digits.test.images[digits.test.labels == 3]
    predictions = classify(threes)
    assert predictions.class_counts[3] == len(threes)
    assert predictions.class_entropy == 0.0
    half = classify(torch.cat([digits.test.images[digits.test.labels == 0][:20], threes[:20]]))
    counts = torch.tensor(half.class_counts, dtype=torch.float64)
    q = counts[counts > 0] / counts.sum()
    assert half.class_entropy == pytest.approx(float(-(q * q.log()).sum()))


def test_digits_frechet_distance_separates_real_from_noise_and_collapse(digits):
    g = torch.Generator().manual_seed(0)
    real_a, real_b = digits.train.images[:300], digits.test.images  # equal sizes: FD is biased by size
    noise = torch.rand(300, 1, 8, 8, generator=g)
    threes = digits.test.images[digits.test.labels == 3]
    one_digit = threes[torch.randint(0, len(threes), (300,), generator=g)]
    real_vs_real = digits_frechet_distance(real_a, real_b)
    assert real_vs_real < digits_frechet_distance(real_b, noise) / 10
    assert real_vs_real < digits_frechet_distance(real_b, one_digit) / 10
    assert digits_frechet_distance(real_b, real_b.clone()) == pytest.approx(0.0, abs=1e-6)
    assert digits_frechet_distance(real_a, real_b) == pytest.approx(digits_frechet_distance(real_b, real_a), rel=1e-6)


def test_training_is_deterministic_given_seed_and_leaves_global_rng_alone():
    rng_before = torch.get_rng_state()
    first = train_digits_classifier(seed=0, epochs=1).state_dict()
    assert torch.equal(torch.get_rng_state(), rng_before)
    second = train_digits_classifier(seed=0, epochs=1).state_dict()
    other = train_digits_classifier(seed=1, epochs=1).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_missing_asset_trains_with_a_warning(monkeypatch, tmp_path, fresh_cache):
    monkeypatch.setattr(features, "ASSET_PATH", tmp_path / "absent.pt")
    monkeypatch.setattr(features, "train_digits_classifier", quick_trainer)
    with pytest.warns(RuntimeWarning, match="missing"):
        model = load_digits_classifier()
    assert isinstance(model, DigitsClassifier) and not model.training
    assert not (tmp_path / "absent.pt").exists()


def test_module_script_rewrites_the_asset(monkeypatch, tmp_path, capsys, fresh_cache):
    target = tmp_path / "assets" / "digits_classifier.pt"
    monkeypatch.setattr(features, "ASSET_PATH", target)
    monkeypatch.setattr(features, "train_digits_classifier", quick_trainer)
    features._main()
    assert "test accuracy" in capsys.readouterr().out
    state = torch.load(target, weights_only=True)
    expected = quick_trainer().state_dict()
    assert all(torch.equal(state[k], expected[k]) for k in expected)


@pytest.mark.parametrize(
    "images, error, match",
    [
        (torch.rand(4, 8, 8), ValueError, "images must have shape"),
        (torch.rand(4, 1, 28, 28), ValueError, "images must have shape"),
        (torch.randint(0, 2, (4, 1, 8, 8)), TypeError, "images must have a floating"),
        (torch.full((4, 1, 8, 8), math.nan), ValueError, "images contains"),
        (torch.rand(4, 1, 8, 8) * 16, ValueError, r"images must hold pixel values in \[0, 1\]"),
        (torch.rand(4, 1, 8, 8) * 2 - 1, ValueError, "images must hold pixel values"),
        (torch.rand(0, 1, 8, 8), ValueError, "at least 1"),
        (torch.rand(4, 1, 8, 8).numpy(), TypeError, "images must be a torch.Tensor"),
    ],
)
def test_classify_and_features_refuse_bad_images(images, error, match):
    with pytest.raises(error, match=match):
        classify(images)
    with pytest.raises(error, match=match):
        digits_features(images)


def test_digits_frechet_distance_names_the_bad_argument():
    good = torch.rand(5, 1, 8, 8)
    with pytest.raises(ValueError, match="images_a"):
        digits_frechet_distance(good * 3, good)
    with pytest.raises(ValueError, match="images_b must hold at least 2"):
        digits_frechet_distance(good, good[:1])


def test_training_refuses_bad_arguments():
    with pytest.raises(ValueError, match="epochs"):
        train_digits_classifier(epochs=0)
    with pytest.raises(ValueError, match="device"):
        train_digits_classifier(device="tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_classifier_follows_the_data_to_the_gpu(digits):
    cpu = classify(digits.test.images)
    gpu = classify(digits.test.images.cuda())
    assert gpu.labels.device.type == "cuda"
    assert torch.equal(gpu.labels.cpu(), cpu.labels)
    assert digits_frechet_distance(digits.test.images.cuda(), digits.val.images.cuda()) == pytest.approx(
        digits_frechet_distance(digits.test.images, digits.val.images), rel=1e-3)
