"""Tests for curriculum.langevin: the stationary variance of the unadjusted chain against its closed form over a
step-size sweep, moments of a 2-D Gaussian reproduced, exact repeats with a generator, named errors."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import langevin, metrics


@pytest.mark.parametrize("step_size", [0.05, 0.3, 0.8, 1.5])
def test_stationary_variance_on_a_gaussian_matches_the_closed_form(step_size):
    s = 1.0
    x0 = torch.zeros(4000, 1, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    burn = langevin.langevin(lambda x: -x / s**2, x0, step_size, 400, gen).x  # mixing time ~ s^2 / h steps
    kept = langevin.langevin(lambda x: -x / s**2, burn, step_size, 200, gen, keep_every=20).trajectory
    variances = kept.reshape(kept.shape[0], -1).var(dim=1)  # 10 nearly independent sweeps of 4000 chains
    mean, stderr = metrics.mean_and_stderr(variances)
    expected = langevin.ula_stationary_variance(s, step_size)
    assert abs(float(mean) - expected) < 4 * float(stderr) + 0.01 * expected
    if step_size >= 0.3:  # the bias is visible: the chain is wider than the target
        assert float(mean) > s**2 * 1.1


def test_closed_form_is_the_ar1_fixed_point():
    s, h = 0.7, 0.2
    a = 1 - h / s**2
    v = langevin.ula_stationary_variance(s, h)
    assert v == pytest.approx(a * a * v + 2 * h)  # v = a^2 v + 2h
    with pytest.raises(ValueError, match="step_size must be below"):
        langevin.ula_stationary_variance(s, 2 * s * s)


def test_small_steps_reproduce_the_moments_of_a_correlated_gaussian():
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
    cov = torch.tensor([[1.0, 0.6], [0.6, 0.5]], dtype=torch.float64)
    precision = torch.linalg.inv(cov)

    def score(x):  # grad log N(x; mean, cov) = -Sigma^-1 (x - mean)
        return -(x - mean) @ precision

    x = langevin.langevin(score, torch.zeros(20_000, 2, dtype=torch.float64), 0.01, 1500,
                          torch.Generator().manual_seed(1)).x
    assert torch.allclose(x.mean(0), mean, atol=0.03)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.03)


def test_chains_repeat_with_their_generator_and_keep_the_trajectory():
    x0 = torch.zeros(5, 2)
    a = langevin.langevin(lambda x: -x, x0, 0.1, 10, torch.Generator().manual_seed(3), keep_every=5)
    b = langevin.langevin(lambda x: -x, x0, 0.1, 10, torch.Generator().manual_seed(3), keep_every=5)
    c = langevin.langevin(lambda x: -x, x0, 0.1, 10, torch.Generator().manual_seed(4))
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    assert a.trajectory.shape == (2, 5, 2) and torch.equal(a.trajectory[-1], a.x) and c.trajectory is None


def test_divergence_and_bad_inputs_get_named_errors():
    with pytest.raises(langevin.LangevinDiverged, match="step_size"):
        langevin.langevin(lambda x: -x / 0.01, torch.ones(4, 1), 1.0, 200, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="step_size"):
        langevin.langevin_step(torch.zeros(3, 2), lambda x: x, 0.0)
    with pytest.raises(ValueError, match="n_steps"):
        langevin.langevin(lambda x: x, torch.zeros(3, 2), 0.1, 0)
    with pytest.raises(ValueError, match="score\\(x\\) must return"):
        langevin.langevin_step(torch.zeros(3, 2), lambda x: x[:, :1], 0.1)
    with pytest.raises(TypeError, match="score"):
        langevin.langevin_step(torch.zeros(3, 2), "not a function", 0.1)
    assert math.isfinite(langevin.ula_stationary_variance(1.0, 1.9))
    with pytest.raises(ValueError, match="noise_scale must be sqrt"):
        langevin.langevin_step(torch.zeros(3, 2), lambda x: -x, 0.1, noise_scale=math.sqrt(0.1))  # the sqrt(h) slip
    with pytest.raises(ValueError, match="noise_scale must be sqrt"):
        langevin.langevin(lambda x: -x, torch.zeros(3, 2), 0.1, 5, noise_scale=0.1)
    with pytest.raises(ValueError, match="box"):
        langevin.langevin(lambda x: -x, torch.zeros(3, 2), 0.1, 5, box=(1.0, -1.0))


def test_a_matching_noise_scale_is_accepted_and_changes_nothing():
    x0 = torch.zeros(5, 2)
    a = langevin.langevin(lambda x: -x, x0, 0.08, 4, torch.Generator().manual_seed(1)).x
    b = langevin.langevin(lambda x: -x, x0, 0.08, 4, torch.Generator().manual_seed(1), noise_scale=0.4).x
    assert torch.equal(a, b)


def test_projected_chains_stay_in_the_box_and_sample_the_truncated_density():
    # N(0, 1) restricted to [0, 1]: mean (phi(0) - phi(1)) / (Phi(1) - Phi(0))
    x = langevin.langevin(lambda y: -y, torch.full((20_000, 1), 0.5, dtype=torch.float64), 0.002, 1500,
                          torch.Generator().manual_seed(0), box=(0.0, 1.0)).x
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    phi = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    truncated_mean = (phi(0) - phi(1)) / (0.5 * math.erf(1 / math.sqrt(2)))
    # standard error 0.002; clipping adds a bias of order sqrt(h) (measured -0.006 to -0.010 over three seeds)
    assert abs(float(x.mean()) - truncated_mean) < 0.02
    free = langevin.langevin(lambda y: -y, torch.full((20_000, 1), 0.5, dtype=torch.float64), 0.002, 1500,
                             torch.Generator().manual_seed(0)).x
    assert abs(float(free.mean()) - truncated_mean) > 0.3  # without the box the same chains are N(0, 1)
