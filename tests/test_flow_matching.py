"""Tests for curriculum.flow_matching: the linear path, the Gaussian-to-Gaussian closed forms against Monte Carlo
and against the ODE, the likelihood by the instantaneous change of variables against the exact density, and the
minibatch OT pairing against brute force."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from curriculum import flow_matching as fm
from curriculum import gaussians

M = torch.tensor([1.0, -2.0], dtype=torch.float64)
S = torch.tensor([[0.5, 0.2], [0.2, 0.3]], dtype=torch.float64)


def test_linear_path_has_its_endpoints_and_its_velocity_is_the_time_derivative():
    gen = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(5, 2, generator=gen, dtype=torch.float64), torch.randn(5, 2, generator=gen, dtype=torch.float64)
    assert torch.equal(fm.linear_path(x0, x1, torch.zeros(5, dtype=torch.float64))[0], x0)
    assert torch.allclose(fm.linear_path(x0, x1, torch.ones(5, dtype=torch.float64))[0], x1)
    t, h = torch.full((5,), 0.3, dtype=torch.float64), 1e-6
    x_t, u_t = fm.linear_path(x0, x1, t)
    finite_difference = (fm.linear_path(x0, x1, t + h)[0] - x_t) / h
    assert torch.allclose(u_t, finite_difference, atol=1e-6)
    with pytest.raises(ValueError, match="t must lie in"):
        fm.linear_path(x0, x1, torch.full((5,), 1.5, dtype=torch.float64))


@pytest.mark.parametrize("t", [0.2, 0.5, 0.8])
def test_marginal_field_is_the_conditional_average_of_the_path_velocities(t):
    # E[u_t | x_t] is affine in x_t for Gaussians, so a least-squares fit of u_t on x_t recovers it
    n = 400_000
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    x1 = M + torch.randn(n, 2, generator=gen, dtype=torch.float64) @ torch.linalg.cholesky(S).T
    x_t, u_t = fm.linear_path(x0, x1, torch.full((n,), t, dtype=torch.float64))
    design = torch.cat([x_t, torch.ones(n, 1, dtype=torch.float64)], dim=1)
    fitted = torch.linalg.lstsq(design, u_t).solution  # (3, 2): [A^T; b]
    probe = torch.tensor([[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]], dtype=torch.float64)
    exact = fm.gaussian_marginal_velocity(M, S)(probe, torch.full((3,), t, dtype=torch.float64))
    monte_carlo = torch.cat([probe, torch.ones(3, 1, dtype=torch.float64)], dim=1) @ fitted
    assert torch.allclose(exact, monte_carlo, atol=0.02)


def test_the_exact_field_carries_the_noise_exactly_onto_the_data_gaussian():
    field = fm.gaussian_marginal_velocity(M, S)
    mean, cov = gaussians.affine_pushforward(lambda x: fm.sample(field, x, steps=200, method="rk4"), 2)
    assert torch.allclose(mean, M, atol=1e-8) and torch.allclose(cov, S, atol=1e-8)
    _, cov_euler = gaussians.affine_pushforward(lambda x: fm.sample(field, x, steps=5, method="euler"), 2)
    assert not torch.allclose(cov_euler, S, atol=1e-3)  # a coarse Euler flow gets the spread visibly wrong


def test_likelihood_by_the_change_of_variables_matches_the_exact_density():
    field = fm.gaussian_marginal_velocity(M, S)
    x1 = M + torch.randn(50, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    log_p0 = lambda z: -0.5 * (z ** 2).sum(dim=1) - math.log(2 * math.pi)
    flow = fm.log_likelihood(field, x1, log_p0, steps=100, method="rk4")
    exact = torch.distributions.MultivariateNormal(M, S).log_prob(x1)
    assert torch.allclose(flow, exact, atol=1e-6)


def test_cfm_loss_of_the_exact_field_is_the_closed_form_minimum_and_is_lower_than_a_wrong_field():
    n = 200_000
    gen = torch.Generator().manual_seed(3)
    x0 = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    x1 = M + torch.randn(n, 2, generator=gen, dtype=torch.float64) @ torch.linalg.cholesky(S).T
    t = torch.rand(n, generator=gen, dtype=torch.float64)
    field = fm.gaussian_marginal_velocity(M, S)
    t_grid = (t * 200).floor() / 200 + 1 / 400  # the closed-form field evaluates one matrix per distinct t
    value = float(fm.cfm_loss(field, x0, x1, t_grid))
    assert value == pytest.approx(fm.gaussian_cfm_minimum(S), rel=0.01)
    straight = lambda x, s: M.to(x).expand_as(x) - x  # a plausible but wrong field
    assert float(fm.cfm_loss(straight, x0, x1, t_grid)) > value + 0.1


def test_ot_pairing_minimises_the_total_squared_distance_like_brute_force():
    gen = torch.Generator().manual_seed(4)
    x0, x1 = torch.randn(6, 2, generator=gen, dtype=torch.float64), torch.randn(6, 2, generator=gen, dtype=torch.float64)
    paired = fm.ot_pairing(x0, x1)
    cost = float(((paired - x1) ** 2).sum())
    brute = min(float(((x0[list(p)] - x1) ** 2).sum()) for p in itertools.permutations(range(6)))
    assert cost == pytest.approx(brute, abs=1e-12)
    assert sorted(map(tuple, paired.tolist())) == sorted(map(tuple, x0.tolist()))  # a permutation of the noise


def test_straightness_is_zero_for_a_straight_flow_and_positive_for_a_curved_one():
    x0 = torch.randn(200, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    constant = lambda x, t: torch.tensor([1.0, -0.5], dtype=x.dtype).expand_as(x)  # every path a straight line
    rotating = lambda x, t: torch.stack([-x[:, 1], x[:, 0]], dim=1)  # circular arcs
    assert abs(fm.straightness(constant, x0)) < 1e-12
    # a unit-speed rotation for time 1: path length^2 r^2 against the chord (2 r sin(1/2))^2
    expected = float((x0 ** 2).sum(dim=1).mean()) * (1 - 4 * math.sin(0.5) ** 2)
    assert fm.straightness(rotating, x0, steps=1000) == pytest.approx(expected, rel=0.02)


def test_training_lowers_the_loss_repeats_and_reflow_pairs_are_the_flow():
    from curriculum import protocol, toy
    ring = toy.get("ring")
    config = fm.FMConfig(steps=150, batch_size=128, hidden=32, depth=2)
    first, history = fm.train_flow_matching(lambda n, g: ring.sample(n, g), config, progress=False)
    _, again = fm.train_flow_matching(lambda n, g: ring.sample(n, g), config, progress=False)
    assert history.history == again.history
    assert sum(history.history[-20:]) / 20 < 0.9 * sum(history.history[:20]) / 20
    x0, x1 = fm.reflow_pairs(first, 64, steps=10, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(x1, fm.sample(first, x0, 10, "rk4"))
    _, reflowed = fm.train_flow_matching(None, fm.FMConfig(steps=20, batch_size=32, hidden=32, depth=2),
                                         pairs=(x0, x1), progress=False)
    assert len(reflowed.history) == 20
    before = {k: v.clone() for k, v in first.state_dict().items()}
    small = fm.FMConfig(steps=1, batch_size=32, hidden=32, depth=2, lr=1e-12)
    warm, _ = fm.train_flow_matching(None, small, pairs=(x0, x1), init=first, progress=False)
    cold, _ = fm.train_flow_matching(None, small, pairs=(x0, x1), progress=False)
    probe = torch.randn(16, 2, generator=torch.Generator().manual_seed(3))
    half = torch.full((16,), 0.5)
    with torch.no_grad():  # one step at lr 1e-12 leaves the warm start where it began, and the cold one elsewhere
        assert torch.allclose(warm(probe, half), first(probe, half), atol=1e-6)
        assert not torch.allclose(cold(probe, half), first(probe, half), atol=1e-3)
    assert all(torch.equal(before[k], v) for k, v in first.state_dict().items())  # init is copied, not trained
    with pytest.raises(ValueError, match="init must have the config's shape"):
        fm.train_flow_matching(None, fm.FMConfig(steps=1, hidden=16, depth=2), pairs=(x0, x1), init=first,
                               progress=False)
    with pytest.raises(TypeError, match="init must be a VelocityField"):
        fm.train_flow_matching(None, small, pairs=(x0, x1), init=torch.nn.Linear(2, 2), progress=False)
    model = fm.FlowMatchingModel(first, steps=4, likelihood_steps=4)
    assert isinstance(model, protocol.GenerativeModel)
    assert protocol.log_likelihood(model, ring.sample(8, seed=1)).kind == protocol.EXACT
    with pytest.raises(ValueError, match="coupling"):
        fm.FMConfig(coupling="sinkhorn")
