"""Tests for curriculum.transport: the exact assignment against brute force, W1 against SciPy and against facts
that hold for every coupling (a translation costs exactly its length)."""
from __future__ import annotations

import itertools
import math

import pytest
import torch
from scipy.stats import wasserstein_distance

from curriculum import transport


def brute_force_cost(x: torch.Tensor, y: torch.Tensor, power: int) -> float:
    n = x.shape[0]
    cost = torch.cdist(x.double(), y.double()) ** power
    return min(float(cost[torch.arange(n), list(perm)].sum()) for perm in itertools.permutations(range(n)))


@pytest.mark.parametrize("power", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_assignment_is_optimal_against_every_permutation(power, seed):
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.randn(6, 2, generator=gen), torch.randn(6, 2, generator=gen) + 0.5
    sigma = transport.optimal_assignment(x, y, power=power)
    assert sorted(sigma.tolist()) == list(range(6))  # a permutation
    found = float((torch.cdist(x.double(), y.double()) ** power)[torch.arange(6), sigma].sum())
    assert found == pytest.approx(brute_force_cost(x, y, power), abs=1e-12)


def test_w1_of_points_on_the_line_matches_scipy():
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(300, 1, generator=gen), 0.5 * torch.randn(300, 1, generator=gen) + 1.0
    expected = wasserstein_distance(x[:, 0].numpy(), y[:, 0].numpy())
    assert transport.wasserstein1_points(x, y) == pytest.approx(expected, rel=1e-6)


def test_a_translation_costs_exactly_its_length():
    # Every plan moving x to x + v costs >= |v| (the 1-Lipschitz f(x) = <v, x>/|v| certifies it), and the
    # identity pairing achieves it.
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(50, 3, generator=gen, dtype=torch.float64)
    shift = torch.tensor([0.3, -0.4, 1.2], dtype=torch.float64)
    assert transport.wasserstein1_points(x, x + shift) == pytest.approx(float(shift.norm()), abs=1e-12)
    assert transport.wasserstein1_points(x, x) == 0.0


def normal_log_density(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)


def test_w1_on_the_line_matches_closed_form_and_scipy():
    grid = torch.linspace(-15, 15, 300_001, dtype=torch.float64)
    cell = float(grid[1] - grid[0])
    # equal spreads: the monotone map is a shift, W1 = |mean difference|
    same_std = transport.wasserstein1_line(normal_log_density(grid, 0.0, 1.0), normal_log_density(grid, 1.7, 1.0), cell)
    assert same_std == pytest.approx(1.7, abs=1e-4)
    # different spreads: SciPy's W1 between the grid's weighted point sets (independent implementation)
    log_p, log_q = normal_log_density(grid, -0.5, 0.6), normal_log_density(grid, 1.0, 1.4)
    scipy_value = wasserstein_distance(grid.numpy(), grid.numpy(), log_p.exp().numpy(), log_q.exp().numpy())
    assert transport.wasserstein1_line(log_p, log_q, cell) == pytest.approx(scipy_value, abs=1e-4)


def test_bad_inputs_name_the_argument():
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="same positive number"):
        transport.wasserstein1_points(x, torch.zeros(5, 2))
    with pytest.raises(ValueError, match="y must"):
        transport.optimal_assignment(x, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="power"):
        transport.optimal_assignment(x, x, power=3)
    with pytest.raises(ValueError, match="x must hold finite"):
        transport.wasserstein1_points(torch.full((4, 2), float("nan")), x)
    grid = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    log_p = normal_log_density(grid, 0.0, 1.0)
    with pytest.raises(ValueError, match="log_q"):
        transport.wasserstein1_line(log_p, log_p - 1.0, 0.01)  # mass e^-1, not 1
    with pytest.raises(ValueError, match="cell"):
        transport.wasserstein1_line(log_p, log_p, 0.0)
    with pytest.raises(ValueError, match="log_q must have the same shape"):
        transport.wasserstein1_line(log_p, log_p[:-1], 0.01)
