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
    buffer = ebm.ReplayBuffer(64, (-1, 1, -1, 1), reinit=reinit, generator=gen)
    buffer.push(torch.full((64, 2), 5.0), gen)  # mark stored points: (5, 5) lies outside the noise box
    buffer.points[:] = 5.0
    starts = buffer.draw(20_000, gen)
    stored_share = float((starts == 5.0).all(dim=1).double().mean())
    assert abs((1 - stored_share) - reinit) < 0.02
    fresh = starts[(starts != 5.0).any(dim=1)]
    assert ((fresh >= -1) & (fresh <= 1)).all()


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
    with pytest.raises(ValueError, match="not finite"):
        ebm.log_partition(lambda y: torch.full((y.shape[0],), float("nan")), (-1, 1, -1, 1), resolution=4)


def test_training_lowers_the_energy_of_data_and_repeats_exactly():
    from curriculum import toy
    ring = toy.get("ring")
    config = ebm.EBMConfig(steps=60, batch_size=64, langevin_steps=10, buffer_size=500, hidden=32, depth=2)
    first = ebm.train_ebm(lambda n, g: ring.sample(n, g), config, progress=False)
    second = ebm.train_ebm(lambda n, g: ring.sample(n, g), config, progress=False)
    assert first.loss == second.loss
    x = ring.sample(500, seed=3)
    noise = first.buffer.noise(500, torch.Generator().manual_seed(4))
    with torch.no_grad():
        assert float(first.energy(x).mean()) < float(first.energy(noise).mean())  # data is likelier than noise


def test_exploding_energies_stop_training_with_advice():
    from curriculum.train import TrainingDiverged
    config = ebm.EBMConfig(steps=50, batch_size=32, langevin_steps=2, buffer_size=100, hidden=16, depth=1,
                           alpha=0.0, lr=1.0, max_energy=50.0)
    with pytest.raises(TrainingDiverged, match="alpha"):
        ebm.train_ebm(lambda n, g: torch.randn(n, 2, generator=g), config, progress=False)
