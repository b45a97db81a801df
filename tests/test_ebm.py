"""Tests for curriculum.ebm: the loss is (2) of the module, the score is minus the energy's gradient and ignores
Z, log Z by quadrature against a closed form, and the replay buffer restarts the share it is told to."""
from __future__ import annotations

import math

import pytest
import torch

from curriculum import ebm, langevin


def quadratic(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (x ** 2).sum(dim=1)  # E = |x|^2 / 2: p = N(0, I), Z = 2 pi in 2-D


def test_contrastive_loss_is_the_two_phases_plus_the_regulariser():
    real, fake = torch.tensor([1.0, -1.0, 3.0]), torch.tensor([2.0, 0.0])
    # mean E+ = 1, mean E- = 1, mean E+^2 = 11/3, mean E-^2 = 2
    assert float(ebm.contrastive_loss(real, fake, alpha=0.0)) == pytest.approx(0.0)
    assert float(ebm.contrastive_loss(real, fake, alpha=0.3)) == pytest.approx(0.3 * (11 / 3 + 2))
    shifted = float(ebm.contrastive_loss(real + 5, fake + 5, alpha=0.0))
    assert shifted == pytest.approx(0.0)  # without the regulariser a constant shift of E is invisible


def test_score_is_minus_the_energy_gradient_and_ignores_the_normaliser():
    x = torch.randn(6, 2, dtype=torch.float64)
    assert torch.allclose(ebm.energy_score(quadratic)(x), -x)
    assert torch.allclose(ebm.energy_score(lambda y: quadratic(y) + 123.0)(x), -x)  # log Z shifts E by a constant


def test_log_partition_matches_the_gaussian_normaliser_and_converges():
    exact = math.log(2 * math.pi)
    coarse = ebm.log_partition(quadratic, (-8, 8, -8, 8), resolution=50)
    fine = ebm.log_partition(quadratic, (-8, 8, -8, 8), resolution=400)
    assert abs(fine - exact) < 1e-6
    assert abs(coarse - exact) < 1e-3
    shifted = ebm.log_partition(lambda y: quadratic(y - torch.tensor([1.0, -0.5], dtype=y.dtype)), (-8, 8, -8, 8))
    assert shifted == pytest.approx(exact, abs=1e-6)


def test_langevin_on_an_energy_samples_its_density():
    x = langevin.langevin(ebm.energy_score(quadratic), torch.zeros(20_000, 2, dtype=torch.float64), 0.02, 600,
                          torch.Generator().manual_seed(0)).x
    expected_var = langevin.ula_stationary_variance(1.0, 0.02)
    assert torch.allclose(x.var(dim=0), torch.full((2,), expected_var, dtype=torch.float64), atol=0.04)


@pytest.mark.parametrize("reinit", [0.0, 0.3, 1.0])
def test_replay_buffer_restarts_the_share_it_is_told_to(reinit):
    gen = torch.Generator().manual_seed(0)
    buffer = ebm.ReplayBuffer(20_000, (-1, 1, -1, 1), reinit=reinit, generator=gen)
    buffer.points[:] = 5.0  # mark stored points: (5, 5) lies outside the noise box
    starts = buffer.draw(20_000, gen)
    stored_share = float((starts == 5.0).all(dim=1).double().mean())
    assert abs((1 - stored_share) - reinit) < 0.02
    fresh = starts[(starts != 5.0).any(dim=1)]
    assert ((fresh >= -1) & (fresh <= 1)).all()


def test_replay_buffer_advances_distinct_chains_and_never_copies_one():
    gen = torch.Generator().manual_seed(1)
    buffer = ebm.ReplayBuffer(100, (-1, 1, -1, 1), reinit=0.0, generator=gen)
    buffer.points = torch.arange(200, dtype=torch.float32).reshape(100, 2)  # every chain tells who it is
    starts = buffer.draw(60, gen)
    assert len(set(buffer.slots.tolist())) == 60  # without replacement
    assert torch.equal(starts, buffer.points[buffer.slots])
    buffer.push(starts + 1000)  # each chain moved and was written back into its own slot
    moved = (buffer.points >= 1000).all(dim=1)
    assert int(moved.sum()) == 60 and torch.equal(buffer.points[moved] - 1000, starts[torch.argsort(buffer.slots)])
    assert len(set(buffer.points[:, 0].tolist())) == 100  # no chain was duplicated
    with pytest.raises(ValueError, match="x must"):
        buffer.push(starts[:10])  # the advanced points must be the ones drawn
    with pytest.raises(ValueError, match="capacity"):
        buffer.draw(101, gen)


def test_gaussian_restarts_have_the_moments_they_are_given_inside_the_box():
    mean, cov = torch.tensor([0.5, -0.2]), torch.tensor([[0.3, 0.1], [0.1, 0.2]])
    buffer = ebm.ReplayBuffer(10, (-4, 4, -4, 4), generator=torch.Generator().manual_seed(0), restart=(mean, cov))
    x = buffer.noise(100_000, torch.Generator().manual_seed(1)).double()
    assert torch.allclose(x.mean(0), mean.double(), atol=0.01)
    assert torch.allclose(torch.cov(x.T), cov.double(), atol=0.01)
    tight = ebm.ReplayBuffer(10, (0, 1, 0, 1), restart=(mean, cov))
    y = tight.noise(1000, torch.Generator().manual_seed(2))
    assert float(y.min()) >= 0 and float(y.max()) <= 1  # clipped into the model's box
    with pytest.raises(ValueError, match="positive definite"):
        ebm.ReplayBuffer(10, (-1, 1, -1, 1), restart=(mean, torch.tensor([[1.0, 2.0], [2.0, 1.0]])))


def test_nll_is_energy_plus_log_z_and_refuses_points_outside_the_box():
    box = (-8, 8, -8, 8)
    x = torch.randn(5000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    exact = float((0.5 * (x ** 2).sum(1)).mean()) + math.log(2 * math.pi)  # -log N(x; 0, I)
    assert ebm.nll(quadratic, x, box) == pytest.approx(exact, abs=1e-6)
    with pytest.raises(ValueError, match="outside the model's box"):
        ebm.nll(quadratic, x * 10, box)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="reinit"):
        ebm.ReplayBuffer(10, (-1, 1, -1, 1), reinit=1.5)
    with pytest.raises(ValueError, match="extent"):
        ebm.ReplayBuffer(10, (1, -1, -1, 1))
    with pytest.raises(ValueError, match="alpha"):
        ebm.contrastive_loss(torch.zeros(3), torch.zeros(3), alpha=-0.1)
    with pytest.raises(ValueError, match="x must"):
        ebm.EnergyNet(2)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="lr_schedule"):
        ebm.EBMConfig(lr_schedule="linear")
    with pytest.raises(ValueError, match="step_size"):
        ebm.EBMConfig(step_size=0.0)
    with pytest.raises(ValueError, match="reinit"):
        ebm.EBMConfig(reinit=-0.1)
    with pytest.raises(ValueError, match="restart"):
        ebm.EBMConfig(restart="data")
    with pytest.raises(ValueError, match="batch_size"):
        ebm.EBMConfig(batch_size=512, buffer_size=100)
    with pytest.raises(ValueError, match="snapshots"):
        ebm.EBMConfig(steps=10, snapshots=(11,))
    with pytest.raises(ValueError, match="not finite"):
        ebm.log_partition(lambda y: torch.full((y.shape[0],), float("nan")), (-1, 1, -1, 1), resolution=4)


def test_training_lowers_the_energy_of_data_and_repeats_exactly():
    from curriculum import toy
    ring = toy.get("ring")
    config = ebm.EBMConfig(steps=60, batch_size=64, langevin_steps=10, buffer_size=500, hidden=32, depth=2)
    first = ebm.train_ebm(lambda n, g: ring.sample(n, g), config, progress=False)
    second = ebm.train_ebm(lambda n, g: ring.sample(n, g), config, progress=False)
    assert first.loss == second.loss
    assert first.extent == config.extent and first.snapshots == []
    x = ring.sample(500, seed=3)
    noise = 6 * torch.rand(500, 2, generator=torch.Generator().manual_seed(4)) - 3  # uniform over the box
    with torch.no_grad():
        assert float(first.energy(x).mean()) < float(first.energy(noise).mean())  # data is likelier than noise


def test_exploding_energies_stop_training_with_advice():
    from curriculum.train import TrainingDiverged
    config = ebm.EBMConfig(steps=50, batch_size=32, langevin_steps=2, buffer_size=100, hidden=16, depth=1,
                           alpha=0.0, lr=1.0, max_energy=50.0)
    with pytest.raises(TrainingDiverged, match="alpha"):
        ebm.train_ebm(lambda n, g: torch.randn(n, 2, generator=g), config, progress=False)


def test_snapshots_keep_a_frozen_copy_of_the_energy_and_the_chains():
    from curriculum import toy
    ring = toy.get("ring")
    config = ebm.EBMConfig(steps=20, batch_size=32, langevin_steps=3, buffer_size=100, hidden=16, depth=1,
                           snapshots=(5, 20))
    result = ebm.train_ebm(lambda n, g: ring.sample(n, g), config, progress=False)
    assert [snap.step for snap in result.snapshots] == [5, 20] and result.snapshots[0].paths.shape == (4, 32, 2)
    assert torch.equal(result.snapshots[1].paths[-1], result.buffer.points[result.buffer.slots])  # ends were pushed
    x = torch.randn(7, 2)
    with torch.no_grad():
        assert not torch.allclose(result.snapshots[0].energy(x), result.energy(x))  # a copy, not the live net
        assert torch.allclose(result.snapshots[1].energy(x), result.energy(x))
    lo, hi = config.extent[0], config.extent[1]
    assert float(result.buffer.points.min()) >= lo and float(result.buffer.points.max()) <= hi  # chains stay in the box


def test_energy_model_follows_the_protocol_with_a_quadrature_likelihood():
    from curriculum import metrics, protocol
    model = ebm.EnergyModel(quadratic, (-8, 8, -8, 8), step_size=0.02, n_steps=400)
    x = torch.randn(3000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    result = protocol.log_likelihood(model, x)
    assert result.kind == protocol.QUADRATURE
    exact = -0.5 * (x ** 2).sum(1) - math.log(2 * math.pi)  # log N(x; 0, I)
    assert torch.allclose(result.values, exact, atol=1e-6)
    samples = protocol.draw(model, 4000, seed=1)  # uniform starts on the box, then Langevin on N(0, I)
    assert abs(float(samples.var(0).mean()) - langevin.ula_stationary_variance(1.0, 0.02)) < 0.1
    assert metrics.nll(model, x).kind == protocol.QUADRATURE
