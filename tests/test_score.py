"""Tests for curriculum.score: the score-matching objectives against each other and against closed forms,
Tweedie's formula, annealed Langevin on a mixture whose noised scores are exact, and the trained network."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import protocol, score, tensors, toy


def normal_quantiles(n: int, mu: float, s: float) -> torch.Tensor:
    """``n`` points at the midpoint quantiles of N(mu, s^2), ``(n, 1)`` float64: a deterministic sample whose
    moments are exact to O(1/n^2), so identities in expectation hold to that accuracy."""
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return (mu + s * math.sqrt(2) * torch.erfinv(2 * u - 1))[:, None]


@pytest.mark.parametrize("a,b", [(-1.0, 0.0), (-0.3, 1.2), (0.5, -2.0), (-4.0, 0.7)])
def test_explicit_and_implicit_objectives_differ_by_the_same_constant(a, b):
    mu, s = 0.7, 1.5
    x = normal_quantiles(200_000, mu, s)
    model = lambda y: a * y + b  # a linear score model
    true = lambda y: -(y - mu) / s ** 2  # the score of N(mu, s^2)
    gap = float((score.explicit_score_matching(model, x, true) - score.implicit_score_matching(model, x)).detach())
    assert gap == pytest.approx(1 / (2 * s ** 2), abs=1e-4)  # (1/2) E|grad log p|^2 = 1 / (2 s^2)


def test_jacobian_trace_is_exact_and_projected_trace_is_unbiased():
    A = torch.tensor([[-1.0, 0.3, 0.0], [0.2, -2.0, 0.5], [1.0, 0.0, 0.4]], dtype=torch.float64)
    x = torch.randn(50, 3, dtype=torch.float64).requires_grad_(True)
    out = torch.tanh(x) @ A.T  # J = A diag(1 - tanh^2)
    exact = ((1 - torch.tanh(x) ** 2) * torch.diagonal(A)).sum(dim=1)
    assert torch.allclose(tensors.jacobian_trace(out, x), exact, atol=1e-12)
    gen = torch.Generator().manual_seed(0)
    probes = [tensors.projected_trace(out, x, torch.randn(50, 3, generator=gen, dtype=torch.float64))
              for _ in range(4000)]
    stacked = torch.stack(probes)
    stderr = stacked.std(0) / math.sqrt(len(probes))
    assert ((stacked.mean(0) - exact).abs() < 4 * stderr).all()  # unbiased: within 4 standard errors per row
    with pytest.raises(ValueError, match="require grad"):
        tensors.jacobian_trace(out, x.detach())


def test_sliced_score_matching_estimates_the_implicit_objective_with_less_variance_when_reduced():
    A = torch.tensor([[-1.0, 0.3], [0.2, -2.0]], dtype=torch.float64)
    model = lambda y: y @ A.T + torch.tensor([0.5, -0.1], dtype=torch.float64)
    x = torch.randn(4000, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ism = float(score.implicit_score_matching(model, x).detach())
    reduced = torch.tensor([float(score.sliced_score_matching(model, x, 1, torch.Generator().manual_seed(s)).detach())
                            for s in range(40)])
    plain = torch.tensor([float(score.sliced_score_matching(model, x, 1, torch.Generator().manual_seed(s),
                                                            variance_reduced=False).detach()) for s in range(40)])
    assert abs(float(reduced.mean()) - ism) < 4 * float(reduced.std()) / math.sqrt(40)
    assert abs(float(plain.mean()) - ism) < 4 * float(plain.std()) / math.sqrt(40)
    assert float(reduced.std()) < float(plain.std())


def test_dsm_loss_of_the_exact_noised_score_is_its_closed_form_and_a_wrong_score_scores_worse():
    s0, sigma = 0.8, 0.5
    x = s0 * torch.randn(200_000, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    exact = lambda y, level: -y / (s0 ** 2 + level[:, None] ** 2)  # score of N(0, (s0^2 + sigma^2) I)
    ladder = torch.tensor([sigma], dtype=torch.float64)
    value = float(score.dsm_loss(exact, x, ladder, torch.Generator().manual_seed(3)))
    assert value == pytest.approx(s0 ** 2 / (s0 ** 2 + sigma ** 2), rel=0.01)  # (D / 2) s0^2 / (s0^2 + sigma^2)
    wrong = lambda y, level: -y / s0 ** 2  # the clean data's score, used at the noised level
    r = sigma ** 2 / s0 ** 2  # sigma s + eps = -sigma x / s0^2 + (1 - r) eps
    wrong_value = float(score.dsm_loss(wrong, x, ladder, torch.Generator().manual_seed(3)))
    assert wrong_value == pytest.approx(r + (1 - r) ** 2, rel=0.01) and wrong_value > value + 0.02


def test_tweedie_gives_the_exact_posterior_mean_on_gaussian_data():
    mu, s0, sigma = torch.tensor([1.0, -2.0], dtype=torch.float64), 0.7, 0.4
    x_noisy = torch.randn(100, 2, dtype=torch.float64)
    noised_score = lambda y: -(y - mu) / (s0 ** 2 + sigma ** 2)
    posterior_mean = mu + s0 ** 2 / (s0 ** 2 + sigma ** 2) * (x_noisy - mu)  # Gaussian conditioning
    assert torch.allclose(score.tweedie_denoise(x_noisy, noised_score, sigma), posterior_mean, atol=1e-12)


def test_annealing_recovers_far_apart_mixture_weights_that_plain_langevin_cannot():
    mixture = toy.GaussianMixture2D([[-5.0, -5.0], [5.0, 5.0]], 1.0, weights=[0.2, 0.8])
    sigmas = score.geometric_sigmas(20.0, 1e-2, 10).double()
    exact = lambda y, level: mixture.convolved(float(level[0])).score(y)  # one level per call
    gen = torch.Generator().manual_seed(0)
    x0 = 16 * torch.rand(3000, 2, generator=gen, dtype=torch.float64) - 8
    annealed = score.annealed_langevin(exact, x0, sigmas, 100, 2e-5, gen).x
    plain = score.annealed_langevin(exact, x0, sigmas[-1:], 1000, 2e-5 * 100, gen).x
    heavy = lambda pts: float((pts.sum(dim=1) > 0).double().mean())
    assert abs(heavy(annealed) - 0.8) < 0.03
    assert abs(heavy(plain) - 0.8) > 0.15


def test_network_divides_by_sigma_and_training_lowers_the_loss_and_repeats():
    net = score.NoiseConditionalScore(2, hidden=16, depth=1)
    x = torch.randn(5, 2)
    with torch.no_grad():
        assert torch.allclose(net(x, 0.5) * 0.5, net.net(x, torch.full((5,), math.log(0.5))))
    ring = toy.get("ring")
    config = score.ScoreConfig(steps=150, batch_size=128, hidden=32, depth=2)
    first = score.train_score(lambda n, g: ring.sample(n, g), config, progress=False)
    second = score.train_score(lambda n, g: ring.sample(n, g), config, progress=False)
    assert first.history.history == second.history.history
    early, late = sum(first.history.history[:20]) / 20, sum(first.history.history[-20:]) / 20
    assert late < 0.9 * early  # measured 0.84 after 150 steps


def test_sampler_follows_the_protocol():
    net = score.NoiseConditionalScore(2, hidden=8, depth=1)
    sampler = score.ScoreSampler(net, score.geometric_sigmas(1.0, 0.1, 3), n_steps=4, step_scale=1e-3)
    assert isinstance(sampler, protocol.GenerativeModel) and sampler.nfe == 12
    assert torch.equal(protocol.draw(sampler, 16, seed=1), protocol.draw(sampler, 16, seed=1))


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="sigma_max must exceed"):
        score.geometric_sigmas(0.1, 1.0, 5)
    with pytest.raises(ValueError, match="single level"):
        score.geometric_sigmas(1.0, 0.1, 1)
    assert score.geometric_sigmas(0.1, 0.1, 1).tolist() == pytest.approx([0.1])
    ladder = score.geometric_sigmas(8.0, 0.5, 5)
    assert ladder.tolist() == pytest.approx([8.0, 4.0, 2.0, 1.0, 0.5])  # a constant ratio
    with pytest.raises(ValueError, match="strictly decreasing"):
        score.annealed_langevin(lambda y, s: -y, torch.zeros(3, 2), torch.tensor([0.1, 1.0]), 2, 0.01)
    with pytest.raises(ValueError, match="sigma must be positive"):
        score.NoiseConditionalScore(2, 8, 1)(torch.zeros(3, 2), 0.0)
    with pytest.raises(ValueError, match="loss"):
        score.ScoreConfig(loss="esm")
    with pytest.raises(ValueError, match="shaped like x"):
        score.tweedie_denoise(torch.zeros(3, 2), lambda y: y[:, :1], 0.5)
    with pytest.raises(ValueError, match="sigma"):
        score.tweedie_denoise(torch.zeros(3, 2), lambda y: y, -1.0)


def test_sampler_starts_where_it_is_told():
    sigmas = torch.tensor([0.01])
    still = lambda y, level: torch.zeros_like(y)  # a zero score: the chain only diffuses
    narrow = score.ScoreSampler(still, sigmas, n_steps=1, step_scale=1e-8).sample(4000, torch.Generator().manual_seed(0))
    wide = score.ScoreSampler(still, sigmas, n_steps=1, step_scale=1e-8, start_std=5.0).sample(
        4000, torch.Generator().manual_seed(0))
    assert float(narrow.std()) < 0.02 and abs(float(wide.std()) - 5.0) < 0.2
