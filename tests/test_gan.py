"""Tests for curriculum.gan: the losses on logits, the optimal discriminator, identity (3) of the module
docstring (V(D*, G) = -log 4 + 2 JSD) by float64 quadrature, and the training loop's guarantees."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from curriculum import gan, toy
from curriculum.train import TrainingDiverged

LOG_2 = math.log(2.0)


def normal_log_density(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    # log N(x; mean, std^2), written out here rather than taken from the module under test
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)


def line_grid(lo: float = -30.0, hi: float = 30.0, n: int = 60_001) -> tuple[torch.Tensor, float]:
    x = torch.linspace(lo, hi, n, dtype=torch.float64)
    return x, float(x[1] - x[0])


def uniform_log_density(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    inside = (x > lo) & (x < hi)
    return torch.where(inside, torch.full_like(x, -math.log(hi - lo)), torch.full_like(x, -math.inf))


def midpoint_grid(lo: float, hi: float, n: int) -> tuple[torch.Tensor, float]:
    h = (hi - lo) / n
    return lo + h * (torch.arange(n, dtype=torch.float64) + 0.5), h


GAUSSIAN_PAIRS = [(0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 1.0, 1.0), (0.0, 1.0, 3.0, 0.5), (-2.0, 2.0, 1.0, 0.7),
                  (0.0, 1.0, 8.0, 1.0)]


# ------------------------------------------------------------------------------------------------------------------
# Losses
# ------------------------------------------------------------------------------------------------------------------
def test_losses_match_direct_formulas_and_bce():
    torch.manual_seed(0)
    real, fake = torch.randn(50, dtype=torch.float64) * 3, torch.randn(40, dtype=torch.float64) * 3
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    direct_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    bce = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
           + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    assert torch.allclose(gan.discriminator_loss(real, fake), direct_d, atol=1e-12)
    assert torch.allclose(gan.discriminator_loss(real, fake), bce, atol=1e-12)
    assert torch.allclose(gan.generator_loss_saturating(fake), torch.log(1 - d_fake).mean(), atol=1e-12)
    assert torch.allclose(gan.generator_loss_nonsaturating(fake), -torch.log(d_fake).mean(), atol=1e-12)
    assert torch.allclose(gan.generator_loss_nonsaturating(fake),
                          F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)), atol=1e-12)


def test_losses_are_stable_for_extreme_logits():
    extreme = torch.tensor([-1e4, -100.0, 100.0, 1e4])
    for value in (gan.discriminator_loss(extreme, extreme), gan.generator_loss_saturating(extreme),
                  gan.generator_loss_nonsaturating(extreme)):
        assert torch.isfinite(value)
    # log(1 - D) for l = 1e4 is -1e4 exactly, where log(1 - sigmoid(l)) would be -inf
    assert gan.generator_loss_saturating(torch.tensor([1e4])).item() == pytest.approx(-1e4)


@pytest.mark.parametrize("loss", ["saturating", "nonsaturating"])
def test_generator_logit_gradient_matches_autograd(loss):
    logits = torch.linspace(-20, 20, 81, dtype=torch.float64, requires_grad=True)
    loss_fn = gan.generator_loss_saturating if loss == "saturating" else gan.generator_loss_nonsaturating
    (grad,) = torch.autograd.grad(loss_fn(logits) * logits.numel(), logits)  # per-sample derivative
    assert torch.allclose(gan.generator_logit_gradient(logits.detach(), loss), grad, atol=1e-14)


def test_saturating_gradient_vanishes_for_confident_discriminator():
    # D rejects the fakes confidently: l -> -inf, D(G(z)) -> 0
    logits = torch.tensor([-5.0, -10.0, -20.0, -40.0], dtype=torch.float64)
    saturating = gan.generator_logit_gradient(logits, "saturating")
    nonsaturating = gan.generator_logit_gradient(logits, "nonsaturating")
    assert saturating.abs().max() < 1e-2 and saturating[-1].abs() < 1e-15
    assert torch.allclose(nonsaturating, torch.full_like(logits, -1.0), atol=1e-2)
    assert nonsaturating[-1].item() == -1.0
    assert (saturating.abs().diff() < 0).all()  # vanishing as the discriminator grows surer


# ------------------------------------------------------------------------------------------------------------------
# Optimal discriminator and divergences
# ------------------------------------------------------------------------------------------------------------------
def test_optimal_discriminator_is_density_ratio():
    torch.manual_seed(1)
    log_p, log_q = torch.randn(100, dtype=torch.float64) * 4, torch.randn(100, dtype=torch.float64) * 4
    p, q = log_p.exp(), log_q.exp()
    assert torch.allclose(gan.optimal_discriminator(log_p, log_q), p / (p + q), atol=1e-14)
    assert torch.equal(gan.optimal_discriminator(log_p, log_p), torch.full_like(log_p, 0.5))
    # far tails: finite and in [0, 1]; zero densities give 0, 1, and 1/2 where both vanish
    extreme = gan.optimal_discriminator(torch.tensor([-1e4, 0.0, -math.inf, -math.inf]),
                                        torch.tensor([0.0, -1e4, 0.0, -math.inf]))
    assert torch.equal(extreme, torch.tensor([0.0, 1.0, 0.0, 0.5]))


@pytest.mark.parametrize("m1,s1,m2,s2", GAUSSIAN_PAIRS)
def test_value_at_optimal_discriminator_is_minus_log4_plus_2jsd(m1, s1, m2, s2):
    x, cell = line_grid()
    log_p, log_q = normal_log_density(x, m1, s1), normal_log_density(x, m2, s2)
    jsd = gan.jsd_grid(log_p, log_q, cell)
    d_star = gan.optimal_discriminator(log_p, log_q)
    value = gan.gan_value_grid(d_star, log_p, log_q, cell)
    assert value == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-10)
    assert -1e-12 <= jsd <= LOG_2 + 1e-12
    assert gan.jsd_grid(log_q, log_p, cell) == pytest.approx(jsd, abs=1e-12)  # symmetric


def test_jsd_reference_values():
    x, cell = line_grid()
    log_p = normal_log_density(x, 0.0, 1.0)
    assert gan.jsd_grid(log_p, log_p, cell) == pytest.approx(0.0, abs=1e-14)
    # JSD grows with the separation of two unit Gaussians and approaches log 2
    jsds = [gan.jsd_grid(log_p, normal_log_density(x, mu, 1.0), cell) for mu in (0.5, 1.0, 2.0, 4.0, 16.0)]
    assert all(a < b for a, b in zip(jsds, jsds[1:]))
    assert jsds[-1] == pytest.approx(LOG_2, abs=1e-9)
    # small shifts: JSD ~ Fisher information * mu^2 / 8 = mu^2 / 8 for a unit Gaussian
    assert gan.jsd_grid(log_p, normal_log_density(x, 0.01, 1.0), cell) == pytest.approx(0.01**2 / 8, rel=1e-3)


def test_jsd_is_log2_for_disjoint_supports():
    x, cell = midpoint_grid(-1.0, 4.0, 5000)
    log_p, log_q = uniform_log_density(x, 0.0, 1.0), uniform_log_density(x, 2.0, 3.0)
    jsd = gan.jsd_grid(log_p, log_q, cell)
    assert jsd == pytest.approx(LOG_2, abs=1e-12)
    d_star = gan.optimal_discriminator(log_p, log_q)
    assert gan.gan_value_grid(d_star, log_p, log_q, cell) == pytest.approx(0.0, abs=1e-12)  # -log 4 + 2 log 2
    # overlapping halves: p = U(0, 2), q = U(1, 3): JSD = (1/2) log 2 exactly
    half = gan.jsd_grid(uniform_log_density(x, 0.0, 2.0), uniform_log_density(x, 1.0, 3.0), cell)
    assert half == pytest.approx(0.5 * LOG_2, abs=1e-12)


def test_optimal_discriminator_maximises_value_pointwise():
    x, cell = line_grid(-15, 15, 6001)
    log_p, log_q = normal_log_density(x, 0.0, 1.0), normal_log_density(x, 1.5, 0.8)
    d_star = gan.optimal_discriminator(log_p, log_q)
    best = gan.gan_value_grid(d_star, log_p, log_q, cell)
    generator = torch.Generator().manual_seed(0)
    for scale in (1e-3, 1e-2, 0.1):
        bump = scale * torch.randn(x.shape, dtype=torch.float64, generator=generator)
        perturbed = torch.sigmoid(torch.logit(d_star) + bump)
        assert gan.gan_value_grid(perturbed, log_p, log_q, cell) < best
    assert gan.gan_value_grid(torch.full_like(x, 0.5), log_p, log_q, cell) == pytest.approx(-math.log(4), abs=1e-10)


def test_jsd_from_discriminator_at_optimum_matches_grid():
    p_mean, q_mean = 0.0, 1.5
    x, cell = line_grid()
    grid_jsd = gan.jsd_grid(normal_log_density(x, p_mean, 1.0), normal_log_density(x, q_mean, 1.0), cell)
    generator = torch.Generator().manual_seed(0)
    real = p_mean + torch.randn(200_000, dtype=torch.float64, generator=generator)
    fake = q_mean + torch.randn(200_000, dtype=torch.float64, generator=generator)

    def d_star_logits(points):  # l* = log p_data - log p_g
        return normal_log_density(points, p_mean, 1.0) - normal_log_density(points, q_mean, 1.0)

    estimate = gan.jsd_from_discriminator(d_star_logits(real), d_star_logits(fake))
    # the per-sample terms have standard deviation < 1.5 here, so 6 standard errors < 0.003
    assert estimate == pytest.approx(grid_jsd, abs=3e-3)
    # a worse discriminator gives a lower value in expectation (here: the constant D = 1/2 gives exactly 0)
    assert gan.jsd_from_discriminator(torch.zeros(10), torch.zeros(10)) == pytest.approx(0.0, abs=1e-7)


# ------------------------------------------------------------------------------------------------------------------
# Networks and training
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("minibatch_std", [False, True])
def test_network_shapes(spectral_norm, minibatch_std):
    torch.manual_seed(0)
    generator = gan.Generator(latent_dim=3, hidden=16, depth=2, out_dim=2)
    disc = gan.Discriminator(in_dim=2, hidden=16, depth=2, spectral_norm=spectral_norm, minibatch_std=minibatch_std)
    points = generator.sample(7, generator=torch.Generator().manual_seed(0))
    assert points.shape == (7, 2) and not points.requires_grad
    assert torch.equal(points, generator.sample(7, generator=torch.Generator().manual_seed(0)))
    assert disc(points).shape == (7,)
    assert disc(points[:1]).shape == (1,) and torch.isfinite(disc(points[:1])).all()
    n_spectral = sum(1 for m in disc.modules() if isinstance(m, torch.nn.Linear) and hasattr(m, "parametrizations"))
    assert n_spectral == (3 if spectral_norm else 0)


def test_minibatch_std_sees_a_collapsed_batch():
    torch.manual_seed(0)
    disc = gan.Discriminator(hidden=16, depth=2, minibatch_std=True)
    spread = torch.randn(32, 2)
    collapsed = torch.zeros(32, 2) + spread[:1]
    # the same point scores differently depending on the batch it arrives in
    assert disc(spread)[0] != disc(collapsed)[0]
    plain = gan.Discriminator(hidden=16, depth=2)
    assert torch.allclose(plain(spread)[:1], plain(spread[:1]))


SHORT = dict(steps=30, batch_size=32, hidden=16, snapshot_every=10, snapshot_size=50)


def test_train_gan_is_deterministic_and_takes_snapshots():
    ring = toy.ring_of_gaussians()
    config = gan.GanConfig(**SHORT, d_steps=2, minibatch_std=True, spectral_norm=True)
    first = gan.train_gan(ring.sample, config, progress=False)
    second = gan.train_gan(ring.sample, config, progress=False)
    assert first.d_loss == second.d_loss and first.g_loss == second.g_loss
    assert len(first.d_loss) == len(first.g_loss) == 30
    assert [step for step, _ in first.snapshots] == [10, 20, 30]
    assert all(samples.shape == (50, 2) for _, samples in first.snapshots)
    for (_, a), (_, b) in zip(first.snapshots, second.snapshots):
        assert torch.equal(a, b)
    # the discriminator is kept at every snapshot; the last one is the final discriminator
    assert len(first.discriminator_states) == 3
    final = first.discriminator.state_dict()
    assert all(torch.equal(final[k], v) for k, v in first.discriminator_states[-1].items())
    assert any(not torch.equal(final[k], v) for k, v in first.discriminator_states[0].items())
    other = gan.train_gan(ring.sample, gan.GanConfig(**{**SHORT, "seed": 1}), progress=False)
    assert other.d_loss != first.d_loss
    # snapshotting does not change the training run
    no_snapshots = gan.train_gan(ring.sample, gan.GanConfig(**{**SHORT, "snapshot_every": None}), progress=False)
    plain = gan.train_gan(ring.sample, gan.GanConfig(**SHORT), progress=False)
    assert no_snapshots.d_loss == plain.d_loss and no_snapshots.snapshots == []


def test_saturating_loss_trains_and_coverage_over_seeds_runs():
    ring = toy.ring_of_gaussians()
    result = gan.train_gan(ring.sample, gan.GanConfig(**SHORT, loss="saturating"), progress=False)
    assert all(math.isfinite(v) for v in result.g_loss) and result.g_loss[0] < 0  # E[log(1 - D)] < 0
    coverages = gan.coverage_over_seeds(gan.GanConfig(**SHORT), [0, 1], ring, n_samples=200, progress=False)
    assert len(coverages) == 2 and all(c.n_modes == 8 and 0 <= c.modes_covered <= 8 for c in coverages)
    again = gan.coverage_over_seeds(gan.GanConfig(**SHORT), [1], ring, n_samples=200, progress=False)
    assert again[0] == coverages[1]


def test_nan_data_raises_training_diverged():
    def broken_data(n, seed):
        return torch.full((n, 2), float("nan"))

    with pytest.raises(TrainingDiverged, match="discriminator") as info:
        gan.train_gan(broken_data, gan.GanConfig(**SHORT), progress=False)
    assert info.value.step == 1 and math.isnan(info.value.value)
    assert "lower the learning rates" in str(info.value)


@pytest.mark.parametrize("kwargs,name", [
    (dict(steps=0), "steps"), (dict(batch_size=-1), "batch_size"), (dict(lr_g=0.0), "lr_g"),
    (dict(lr_d=float("nan")), "lr_d"), (dict(d_steps=0), "d_steps"), (dict(loss="hinge"), "loss"),
    (dict(latent_dim=0), "latent_dim"), (dict(betas=(0.5, 1.5)), "betas"), (dict(snapshot_every=0), "snapshot_every"),
    (dict(spectral_norm="yes"), "spectral_norm"), (dict(seed=-1), "seed"),
    (dict(loss="wasserstein", gp_weight=-1.0), "gp_weight"), (dict(loss="wasserstein", clip=0.0), "clip"),
    (dict(loss="wasserstein", clip=-0.01), "clip"), (dict(loss="wasserstein", d_steps=0), "d_steps"),
    (dict(loss="wasserstein", gp_weight=float("inf")), "gp_weight"), (dict(gp_weight=10.0), "loss='wasserstein'"),
    (dict(clip=0.01), "loss='wasserstein'"), (dict(loss="wasserstein", gp_weight=10.0, minibatch_std=True),
                                              "minibatch_std"),
])
def test_config_validation_names_the_argument(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        gan.GanConfig(**kwargs)


def test_bad_inputs_name_the_argument():
    x, cell = line_grid(-10, 10, 2001)
    log_p = normal_log_density(x, 0.0, 1.0)
    with pytest.raises(ValueError, match="real_logits"):
        gan.discriminator_loss(torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(TypeError, match="fake_logits"):
        gan.generator_loss_nonsaturating([0.0, 1.0])
    with pytest.raises(ValueError, match="loss"):
        gan.generator_logit_gradient(torch.zeros(3), "minimax")
    with pytest.raises(ValueError, match="log_p_g"):
        gan.optimal_discriminator(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="cell"):
        gan.jsd_grid(log_p, log_p, -cell)
    with pytest.raises(ValueError, match="log_q"):
        gan.jsd_grid(log_p, log_p - 1.0, cell)  # does not integrate to 1
    with pytest.raises(ValueError, match="log_p"):
        gan.jsd_grid(torch.full_like(log_p, float("nan")), log_p, cell)
    with pytest.raises(ValueError, match="d must"):
        gan.gan_value_grid(torch.full_like(x, 1.5), log_p, log_p, cell)
    with pytest.raises(ValueError, match="z must"):
        gan.Generator(latent_dim=2)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="x must"):
        gan.Discriminator(in_dim=2)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="sample_data"):
        gan.train_gan(lambda n, seed: torch.zeros(n + 1, 2), gan.GanConfig(**SHORT), progress=False)
    with pytest.raises(TypeError, match="config"):
        gan.train_gan(toy.ring_of_gaussians().sample, {"steps": 3})
    with pytest.raises(ValueError, match="seeds"):
        gan.coverage_over_seeds(gan.GanConfig(**SHORT), [], toy.ring_of_gaussians())
