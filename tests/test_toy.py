"""The ground-truth distributions: exact densities, entropies and samplers checked against each other."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from curriculum import toy

ALL = [toy.get(name) for name in toy.NAMES]
IDS = list(toy.NAMES)


def grid_mass(dist, resolution=700, pad=1.0):
    """Riemann sum of exp(log p) on a grid that covers the distribution's extent plus a margin."""
    x0, x1, y0, y1 = dist.extent
    xs = torch.linspace(x0 - pad, x1 + pad, resolution, dtype=torch.float64)
    ys = torch.linspace(y0 - pad, y1 + pad, resolution, dtype=torch.float64)
    xx, yy = torch.meshgrid(xs, ys, indexing="ij")
    points = torch.stack([xx.ravel(), yy.ravel()], 1)
    cell = float((xs[1] - xs[0]) * (ys[1] - ys[0]))
    return float(dist.log_prob(points).exp().sum()) * cell


@pytest.mark.parametrize("dist", ALL, ids=IDS)
def test_density_integrates_to_one(dist):
    # the checkerboard's edges cost a Riemann sum O(h) accuracy; the smooth densities converge much faster
    tol = 5e-3 if isinstance(dist, toy.Checkerboard) else 1e-6
    assert grid_mass(dist) == pytest.approx(1.0, abs=tol)


@pytest.mark.parametrize("dist", ALL, ids=IDS)
def test_monte_carlo_nll_of_true_density_matches_entropy(dist):
    """-E_p[log p(X)] estimated from samples agrees with the quadrature entropy within 4 standard errors."""
    x = dist.sample(100_000, seed=3).double()
    nll = -dist.log_prob(x)
    stderr = float(nll.std()) / math.sqrt(len(nll))
    h = dist.entropy()
    assert abs(float(nll.mean()) - h.value) <= 4 * stderr + 1e-9
    assert h.error < 1e-5


def test_ring_entropy_matches_separated_mode_formula():
    """Modes 15 std apart barely overlap, so H = log K + H(N(0, s^2 I)) to many digits."""
    ring = toy.ring_of_gaussians(8, radius=2.0, std=0.1)
    separated = math.log(8) + 1 + math.log(2 * math.pi * 0.1**2)
    assert ring.entropy().value == pytest.approx(separated, abs=1e-9)


def test_single_gaussian_entropy_closed_form():
    g = toy.GaussianMixture2D([[0.3, -0.2]], [0.7])
    assert g.entropy().value == pytest.approx(1 + math.log(2 * math.pi * 0.49), abs=1e-12)


def test_mixture_log_prob_against_scipy():
    mix = toy.unbalanced_mixture()
    x = mix.sample(50, seed=0).double()
    expected = np.log(sum(
        float(w) * stats.multivariate_normal(m.numpy(), float(s) ** 2 * np.eye(2)).pdf(x.numpy())
        for m, s, w in zip(mix.means, mix.stds, mix.weights)
    ))
    np.testing.assert_allclose(mix.log_prob(x).numpy(), expected, rtol=1e-10)


def test_moons_log_prob_against_scipy_change_of_variables():
    moons = toy.TwoMoons()
    x = moons.sample(40, seed=1).double().numpy()
    total = 0.0
    for c, mu in zip(moons.centres.numpy(), moons.mus.numpy()):
        d = x - c
        r = np.hypot(d[:, 0], d[:, 1])
        phi = np.arctan2(d[:, 1], d[:, 0])
        p_r = stats.lognorm(s=moons.radial_std, scale=moons.radius).pdf(r)
        p_phi = stats.vonmises(kappa=moons.kappa, loc=mu).pdf(phi)
        total = total + 0.5 * p_r * p_phi / r  # Jacobian of polar coordinates is r
    np.testing.assert_allclose(moons.log_prob(torch.from_numpy(x)).numpy(), np.log(total), rtol=1e-9)


def test_checkerboard_support_and_entropy():
    board = toy.Checkerboard(4)
    x = board.sample(5000, seed=0)
    assert torch.isfinite(board.log_prob(x)).all()
    assert board.entropy().value == pytest.approx(math.log(8))
    light = torch.tensor([[0.5, -0.5], [-0.5, 0.5], [5.0, 5.0]])  # light squares and far outside
    assert torch.isinf(board.log_prob(light)).all()


def test_ring_samples_cover_every_mode_equally():
    ring = toy.ring_of_gaussians()
    x = ring.sample(16_000, seed=0).double()
    nearest = torch.cdist(x, ring.means).argmin(1)
    counts = torch.bincount(nearest, minlength=8).double()
    assert (counts / 16_000 - 1 / 8).abs().max() < 0.015  # ~5 binomial standard deviations


@pytest.mark.parametrize("dist", ALL, ids=IDS)
def test_sampling_is_seeded(dist):
    assert torch.equal(dist.sample(64, seed=7), dist.sample(64, seed=7))
    assert not torch.equal(dist.sample(64, seed=7), dist.sample(64, seed=8))
    torch.manual_seed(0)
    a = dist.sample(8)
    torch.manual_seed(0)
    assert torch.equal(a, dist.sample(8))  # seed=None follows torch's global RNG
    assert a.dtype == torch.float32 and a.shape == (8, 2)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 10), st.floats(0.5, 3.0), st.floats(0.05, 0.4))
def test_ring_density_integrates_to_one_for_any_shape(k, radius, std):
    assert grid_mass(toy.ring_of_gaussians(k, radius, std), resolution=500) == pytest.approx(1.0, abs=1e-4)


@settings(max_examples=15, deadline=None)
@given(st.floats(0.5, 8.0), st.floats(0.03, 0.3))
def test_moons_density_integrates_to_one_for_any_shape(kappa, radial_std):
    assert grid_mass(toy.TwoMoons(kappa=kappa, radial_std=radial_std), resolution=600) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("dist", ALL, ids=IDS)
def test_log_prob_follows_dtype(dist):
    x = dist.sample(5, seed=0)
    assert dist.log_prob(x).dtype == torch.float32
    assert dist.log_prob(x.double()).dtype == torch.float64


def test_bad_inputs_name_the_argument():
    ring = toy.get("ring")
    with pytest.raises(ValueError, match=r"x must have shape \(\*, 2\)"):
        ring.log_prob(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        ring.log_prob(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        ring.log_prob([[0.0, 0.0]])
    with pytest.raises(ValueError, match="n must be a positive integer"):
        ring.sample(0)
    with pytest.raises(ValueError, match="seed"):
        ring.sample(3, seed=-1)
    with pytest.raises(ValueError, match="weights must be non-negative and sum to 1"):
        toy.GaussianMixture2D([[0, 0], [1, 1]], [1, 1], weights=[0.5, 0.6])
    with pytest.raises(ValueError, match="stds must all be positive"):
        toy.GaussianMixture2D([[0, 0]], [0.0])
    with pytest.raises(ValueError, match="minor_weight must be a probability"):
        toy.unbalanced_mixture(1.5)
    with pytest.raises(ValueError, match="size must be even"):
        toy.Checkerboard(3)
    with pytest.raises(ValueError, match="kappa must be a positive finite number"):
        toy.TwoMoons(kappa=-1.0)
    with pytest.raises(ValueError, match="name must be one of"):
        toy.get("spiral")
