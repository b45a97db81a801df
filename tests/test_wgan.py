"""Tests for curriculum.gan.wasserstein and the Wasserstein option of the adversarial loop: the objective, the
per-sample gradient norms against closed forms, the penalty's value and gradient, clipping, the critic as a W1
meter against exact transport, and the named errors."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from curriculum import gan, toy, transport
from curriculum.gan import wasserstein as W
from curriculum.train import TrainingDiverged


class Linear(nn.Module):
    """f(x) = <a, x> + b on flattened inputs: gradient a everywhere, so every norm is |a|."""

    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(torch.as_tensor(a, dtype=torch.float64))

    def forward(self, x):
        return x.flatten(1) @ self.a + 0.5


def test_critic_and_generator_losses_are_the_dual_objective():
    real, fake = torch.tensor([1.0, 2.0, 6.0]), torch.tensor([-1.0, 3.0])
    assert float(W.critic_loss(real, fake)) == pytest.approx(1.0 - 3.0)  # mean f(fake) - mean f(real)
    assert float(W.generator_loss_wasserstein(fake)) == pytest.approx(-1.0)
    # the values are potentials: shifting f by a constant changes neither loss's gradient nor the dual value
    assert float(W.critic_loss(real + 7, fake + 7)) == pytest.approx(float(W.critic_loss(real, fake)))


def test_gradient_norms_are_per_sample_over_all_dimensions():
    a = torch.tensor([3.0, 0.0, 0.0, 4.0], dtype=torch.float64)
    x = torch.randn(5, 1, 2, 2, dtype=torch.float64)  # image-shaped: the norm runs over (1, 2, 2)
    assert torch.allclose(W.gradient_norms(Linear(a), x), torch.full((5,), 5.0, dtype=torch.float64))

    def half_square(x):  # f(x) = |x|^2 / 2, gradient x, norm |x| per sample
        return 0.5 * (x.flatten(1) ** 2).sum(1)

    y = torch.randn(7, 3, dtype=torch.float64)
    assert torch.allclose(W.gradient_norms(half_square, y), y.norm(dim=1))


def test_interpolates_lie_on_the_segments_with_one_epsilon_per_sample():
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 3, dtype=torch.float64), torch.randn(64, 3, dtype=torch.float64)
    x_hat = W.interpolates(real, fake, gen)
    eps = (x_hat - fake) / (real - fake)  # the same epsilon in every coordinate of a sample
    assert torch.allclose(eps, eps[:, :1].expand_as(eps), atol=1e-9)
    assert (eps >= 0).all() and (eps <= 1).all()
    assert eps[:, 0].std() > 0.2  # drawn per sample, not one epsilon for the batch


def test_penalty_value_and_gradient_for_a_linear_critic():
    real, fake = torch.randn(32, 2, dtype=torch.float64), torch.randn(32, 2, dtype=torch.float64)
    critic = Linear([1.2, -1.6])  # |a| = 2
    penalty = W.gradient_penalty(critic, real, fake)
    assert float(penalty.detach()) == pytest.approx(1.0)  # (2 - 1)^2
    (grad,) = torch.autograd.grad(penalty, critic.a)  # d/da (|a| - 1)^2 = 2 (|a| - 1) a / |a|
    assert torch.allclose(grad, 2 * (2 - 1) * critic.a.detach() / 2)
    # one-sided: slopes below 1 cost nothing, slopes above 1 the same as two-sided
    gentle = Linear([0.3, 0.4])  # |a| = 0.5
    assert float(W.gradient_penalty(gentle, real, fake).detach()) == pytest.approx(0.25)
    assert float(W.gradient_penalty(gentle, real, fake, one_sided=True).detach()) == 0.0
    assert float(W.gradient_penalty(critic, real, fake, one_sided=True).detach()) == pytest.approx(1.0)


def test_penalty_does_not_reach_the_generator():
    fake = torch.randn(8, 2, dtype=torch.float64, requires_grad=True)
    penalty = W.gradient_penalty(Linear([2.0, 0.0]), torch.randn(8, 2, dtype=torch.float64), fake * 1.0)
    penalty.backward()
    assert fake.grad is None


def test_clipping_clamps_every_parameter_and_leaves_the_rest():
    critic = gan.Critic(2, hidden=16, depth=2)
    with torch.no_grad():
        for p in critic.parameters():
            p.copy_(torch.linspace(-0.1, 0.1, p.numel()).reshape(p.shape))
    before = [p.detach().clone() for p in critic.parameters()]
    W.clip_weights_(critic, 0.05)
    for b, p in zip(before, critic.parameters()):
        assert p.abs().max() <= 0.05 + 1e-12
        inside = b.abs() <= 0.05
        assert torch.equal(p[inside], b[inside])
    shares = W.clipped_share(critic, 0.05)
    assert set(shares) == {"features.0", "features.2", "out"}
    assert all(0.4 < s < 0.6 for s in shares.values())  # half of a uniform spread on [-0.1, 0.1] is beyond 0.05


def test_dual_value_and_lipschitz_estimate_of_a_linear_critic():
    real = torch.tensor([[1.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    fake = torch.tensor([[0.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    critic = Linear([2.0, 0.0])
    assert W.dual_value(critic, real, fake) == pytest.approx(4.0)  # 2 * (mean x1 of real - of fake)
    assert W.lipschitz_estimate(critic, real, fake) == pytest.approx(2.0)


def test_penalised_critic_on_parallel_lines_overshoots_as_derived_and_normalises_to_w1():
    # The penalised optimum has slope 1 + theta / (2 lambda): value theta (1 + theta / (2 lambda)).
    theta, lam = 1.0, 10.0
    line0, line = toy.ParallelLine(0.0), toy.ParallelLine(theta)
    config = W.CriticConfig(steps=300, hidden=32, depth=2, lr=3e-3, gp_weight=lam)
    critic = W.train_critic(line, line0, config, progress=False).critic
    real, fake = line.sample(4000, 1), line0.sample(4000, 2)
    raw = W.dual_value(critic, real, fake)
    assert raw == pytest.approx(theta * (1 + theta / (2 * lam)), rel=0.02)
    normalised = raw / W.lipschitz_estimate(critic, real, fake, torch.Generator().manual_seed(3))
    assert normalised == pytest.approx(theta, rel=0.03)
    untrained = W.train_critic(line, line0, W.CriticConfig(steps=1, hidden=32, depth=2), progress=False).critic
    assert W.dual_value(untrained, real, fake) < 0.5 * theta  # the check above needs the training


def test_trained_critic_estimates_exact_w1_between_point_sets():
    ring, blob = toy.ring_of_gaussians(), toy.GaussianMixture2D([[0.0, 0.0]], [1.0])
    x, y = ring.sample(256, 11), blob.sample(256, 12)
    exact = transport.wasserstein1_points(x, y)
    critic = W.train_critic(x, y, W.CriticConfig(steps=600, hidden=64, depth=3, lr=2e-3, one_sided=True),
                            progress=False).critic
    assert W.dual_value(critic, x, y) == pytest.approx(exact, rel=0.05)
    norms = W.gradient_norms(critic, W.interpolates(x, y, torch.Generator().manual_seed(0)))
    assert abs(float(norms.mean()) - 1.0) < 0.1


def test_clipping_sets_the_critic_scale_not_the_penalty():
    ring, blob = toy.ring_of_gaussians(), toy.GaussianMixture2D([[0.0, 0.0]], [1.0])
    x, y = ring.sample(256, 11), blob.sample(256, 12)
    norms = {}
    for clip in (0.001, 0.1):
        config = W.CriticConfig(steps=200, hidden=64, depth=4, gp_weight=0.0, clip=clip)
        critic = W.train_critic(x, y, config, progress=False).critic
        assert all(p.abs().max() <= clip + 1e-9 for p in critic.parameters())
        norms[clip] = float(W.gradient_norms(critic, x).mean())
    assert norms[0.001] < 1e-4 < 1 < norms[0.1]  # vanishing with a small box, exploding with a large one


def test_wasserstein_training_logs_the_estimate_and_repeats_exactly():
    config = gan.GanConfig.wgan_gp(steps=6, batch_size=32, hidden=16, seed=3)
    ring = toy.ring_of_gaussians()
    first, second = gan.train_gan(ring.sample, config, progress=False), gan.train_gan(ring.sample, config,
                                                                                      progress=False)
    assert set(first.logs) == {"w1_estimate", "gradient_penalty"}
    assert len(first.logs["w1_estimate"]) == 6 and first.logs == second.logs
    assert isinstance(first.critic, gan.Critic)
    clipped = gan.train_gan(ring.sample, gan.GanConfig.wgan_gp(steps=4, batch_size=32, hidden=16, gp_weight=0.0,
                                                               clip=0.02), progress=False)
    assert all(p.abs().max() <= 0.02 + 1e-9 for p in clipped.critic.parameters())
    assert "gradient_penalty" not in clipped.logs


def test_wgan_gp_factory_and_original_gan_settings_are_untouched():
    config = gan.GanConfig.wgan_gp(steps=10)
    assert (config.loss, config.gp_weight, config.d_steps, config.betas, config.steps) == (
        "wasserstein", 10.0, 5, (0.5, 0.9), 10)
    assert isinstance(gan.GanConfig().objective(), gan.JensenShannonLoss)


def test_unconstrained_critic_divergence_says_what_to_try():
    def broken(n, seed):
        return torch.full((n, 2), float("nan"))

    config = gan.GanConfig(loss="wasserstein", steps=3, batch_size=8, hidden=8)
    with pytest.raises(TrainingDiverged) as info:
        gan.train_gan(broken, config, progress=False)
    assert "gp_weight=10" in str(info.value)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="gp_weight"):
        W.WassersteinLoss(gp_weight=-1.0)
    with pytest.raises(ValueError, match="clip"):
        W.WassersteinLoss(clip=0.0)
    with pytest.raises(ValueError, match="clip"):
        W.clip_weights_(gan.Critic(2), -0.1)
    with pytest.raises(TypeError, match="critic"):
        W.clip_weights_(lambda x: x, 0.1)
    with pytest.raises(ValueError, match="fake must"):
        W.gradient_penalty(Linear([1.0, 0.0]), torch.zeros(4, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="real_scores"):
        W.critic_loss(torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(TypeError, match="one_sided"):
        W.gradient_penalty(Linear([1.0, 0.0]), torch.zeros(4, 2), torch.zeros(4, 2), one_sided=1)
    with pytest.raises(ValueError, match="gp_weight"):
        W.CriticConfig(gp_weight=-0.5)
    with pytest.raises(TypeError, match="config"):
        W.train_critic(torch.zeros(4, 2), torch.zeros(4, 2), {"steps": 3})
    with pytest.raises(TypeError, match="fake must"):
        W.train_critic(torch.zeros(4, 2), "points", W.CriticConfig(steps=1))
    with pytest.raises(ValueError, match="theta"):
        toy.ParallelLine(math.inf)
