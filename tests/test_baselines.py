"""The maximum-likelihood Gaussian: closed forms against scipy, and NLL = H + KL."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from curriculum import toy
from curriculum.baselines import GaussianML


def test_fit_recovers_parameters_and_matches_scipy():
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
    cov = torch.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=torch.float64)
    x = torch.distributions.MultivariateNormal(mean, cov).sample((200_000,))
    fit = GaussianML.fit(x)
    torch.testing.assert_close(fit.mean, mean, atol=0.02, rtol=0)
    torch.testing.assert_close(fit.cov, cov, atol=0.03, rtol=0)
    probe = x[:10]
    expected = stats.multivariate_normal(fit.mean.numpy(), fit.cov.numpy()).logpdf(probe.numpy())
    np.testing.assert_allclose(fit.log_prob(probe).numpy(), expected, rtol=1e-10)
    assert fit.entropy() == pytest.approx(stats.multivariate_normal(fit.mean.numpy(), fit.cov.numpy()).entropy())


def test_ml_covariance_divides_by_n():
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    assert torch.allclose(GaussianML.fit(x).cov, torch.eye(2, dtype=torch.float64))


def test_training_nll_of_ml_fit_equals_its_entropy():
    """At the ML solution the average NLL on the training data is exactly the fitted Gaussian's entropy."""
    x = toy.get("moons").sample(5000, seed=0).double()
    fit = GaussianML.fit(x)
    assert float(-fit.log_prob(x).mean()) == pytest.approx(fit.entropy(), abs=1e-10)


def test_gap_to_entropy_is_a_positive_kl():
    ring = toy.get("ring")
    fit = GaussianML.fit(ring.sample(20_000, seed=0))
    test = ring.sample(20_000, seed=1).double()
    gap = float(-fit.log_prob(test).mean()) - ring.entropy().value
    assert gap > 1.0  # one Gaussian cannot describe eight tight modes


def test_sample_is_seeded_and_has_fitted_moments():
    fit = GaussianML(torch.zeros(2), torch.tensor([[1.0, 0.5], [0.5, 2.0]]))
    a = fit.sample(100_000, seed=3)
    assert torch.equal(a, fit.sample(100_000, seed=3))
    torch.testing.assert_close(torch.cov(a.double().T), fit.cov, atol=0.03, rtol=0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="x must have more rows than columns"):
        GaussianML.fit(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        GaussianML.fit(torch.tensor([[0.0, 1.0], [float("nan"), 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="cov must be symmetric positive definite"):
        GaussianML(torch.zeros(2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(\*, 3\)"):
        GaussianML(torch.zeros(3), torch.eye(3)).log_prob(torch.zeros(4, 2))
    assert math.isfinite(GaussianML(torch.zeros(1), torch.eye(1)).entropy())
