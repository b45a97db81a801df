"""VAE and the ELBO: each formula against an independent derivation, a reference library, a closed form or
numerical quadrature, and the inequalities the theory promises (ELBO <= IWAE_k <= log p(x), KL >= 0)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import multivariate_normal
from torch.distributions import Bernoulli, Independent, MultivariateNormal, Normal, kl_divergence

from curriculum import grading
from curriculum.train import fit
from curriculum.vae import (
    LOG_VAR_MAX,
    LOG_VAR_MIN,
    VAE,
    ActiveUnits,
    ElboTerms,
    GradientSamples,
    LinearGaussianLVM,
    active_units,
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_kl_diag,
    gaussian_kl_full,
    gradient_samples,
    image_sharpness,
    iwae_bound,
    kl_per_dimension,
    log_likelihood_factorised_baseline,
    reparameterize,
    vae_loss,
)

PROPERTY = settings(max_examples=25, deadline=None)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def binary_data(n: int, d: int = 64, seed: int = 0, p: float = 0.3) -> torch.Tensor:
    return torch.bernoulli(torch.full((n, d), p), generator=gen(seed))


def informative_vae(latent_dim: int = 2, seed: int = 0, dtype=torch.float32, hidden: int = 32) -> VAE:
    """A small random VAE whose decoder depends strongly on z, so that the posterior is far from q and the
    ELBO, IWAE and log p(x) are well separated (an untrained net barely uses z)."""
    torch.manual_seed(seed)
    model = VAE(data_dim=64, latent_dim=latent_dim, hidden=hidden, depth=2).to(dtype)
    with torch.no_grad():
        for layer in model.decoder.net:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(3.0)
    return model


def mean_and_se(values: torch.Tensor) -> tuple[float, float]:
    values = values.to(torch.float64)
    return float(values.mean()), float(values.std() / math.sqrt(values.numel()))


finite_vectors = st.integers(1, 6).flatmap(lambda d: st.tuples(
    arrays(np.float64, (3, d), elements=st.floats(-4, 4)),
    arrays(np.float64, (3, d), elements=st.floats(-5, 3)),
    arrays(np.float64, (3, d), elements=st.floats(-4, 4)),
    arrays(np.float64, (3, d), elements=st.floats(-5, 3)),
))


# ---------------------------------------------------------------- reparameterisation
def test_reparameterize_is_mu_plus_sigma_eps_and_differentiable():
    mu = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    log_var = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    eps = torch.randn(5, 3, dtype=torch.float64)
    z = reparameterize(mu, log_var, eps=eps)
    torch.testing.assert_close(z, mu + torch.sqrt(torch.exp(log_var)) * eps, rtol=1e-14, atol=1e-14)
    d_mu, d_log_var = torch.autograd.grad(z.sum(), (mu, log_var))
    torch.testing.assert_close(d_mu, torch.ones_like(mu))  # dz/dmu = 1
    torch.testing.assert_close(d_log_var, 0.5 * torch.exp(0.5 * log_var.detach()) * eps)  # dz/dlog_var = sigma eps / 2


def test_reparameterize_moments_seeding_and_dtype():
    n = 200_000
    mu_row = torch.tensor([0.5, -2.0, 3.0], dtype=torch.float64)
    log_var_row = torch.tensor([0.0, math.log(4.0), math.log(0.01)], dtype=torch.float64)
    mu, log_var = mu_row.expand(n, 3), log_var_row.expand(n, 3)
    z = reparameterize(mu, log_var, generator=gen(1))
    assert z.dtype == torch.float64 and z.shape == (n, 3)
    var = torch.exp(log_var_row)
    mean_se = torch.sqrt(var / n)
    assert ((z.mean(0) - mu_row).abs() < 5 * mean_se).all()
    var_se = var * math.sqrt(2 / n)  # Var of the sample variance of a Gaussian: 2 sigma^4 / n
    assert ((z.var(0) - var).abs() < 5 * var_se).all()
    torch.testing.assert_close(reparameterize(mu[:4], log_var[:4], generator=gen(3)),
                               reparameterize(mu[:4], log_var[:4], generator=gen(3)), rtol=0, atol=0)


# ---------------------------------------------------------------- Gaussian KL
@PROPERTY
@given(finite_vectors)
def test_gaussian_kl_matches_torch_distributions_and_the_general_formula(arrs):
    mu, log_var, _, _ = (torch.from_numpy(a) for a in arrs)
    q = Independent(Normal(mu, torch.exp(0.5 * log_var)), 1)
    p = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    kl = gaussian_kl(mu, log_var)
    assert kl.shape == (3,)
    torch.testing.assert_close(kl, kl_divergence(q, p), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(kl, gaussian_kl_diag(mu, log_var, torch.zeros_like(mu), torch.zeros_like(mu)),
                               rtol=1e-12, atol=1e-12)
    assert (kl >= -1e-12).all()
    torch.testing.assert_close(kl_per_dimension(mu, log_var).sum(), kl.mean(), rtol=1e-12, atol=1e-12)


@PROPERTY
@given(finite_vectors)
def test_gaussian_kl_diag_matches_torch_distributions(arrs):
    mu_q, log_var_q, mu_p, log_var_p = (torch.from_numpy(a) for a in arrs)
    q = Independent(Normal(mu_q, torch.exp(0.5 * log_var_q)), 1)
    p = Independent(Normal(mu_p, torch.exp(0.5 * log_var_p)), 1)
    kl = gaussian_kl_diag(mu_q, log_var_q, mu_p, log_var_p)
    torch.testing.assert_close(kl, kl_divergence(q, p), rtol=1e-10, atol=1e-10)
    assert (kl >= -1e-12).all()
    # one prior (L,) for the whole batch broadcasts like a repeated (B, L) prior
    torch.testing.assert_close(gaussian_kl_diag(mu_q, log_var_q, mu_p[0], log_var_p[0]),
                               gaussian_kl_diag(mu_q, log_var_q, mu_p[0].expand_as(mu_q),
                                                log_var_p[0].expand_as(mu_q)))


def test_gaussian_kl_is_zero_only_at_the_prior_and_kl_per_dimension_shape():
    zeros = torch.zeros(4, 3)
    torch.testing.assert_close(gaussian_kl(zeros, zeros), torch.zeros(4))
    mu = torch.zeros(4, 3)
    mu[:, 1] = 1.0  # KL of dim 1 = mu^2 / 2 = 0.5, the others 0
    torch.testing.assert_close(kl_per_dimension(mu, zeros), torch.tensor([0.0, 0.5, 0.0]))


# ---------------------------------------------------------------- Bernoulli likelihood
def test_bernoulli_log_likelihood_matches_bce_and_torch_bernoulli():
    logits = 3 * torch.randn(6, 64, dtype=torch.float64)
    x = binary_data(6).to(torch.float64)
    log_px = bernoulli_log_likelihood(logits, x)
    assert log_px.shape == (6,)
    bce = torch.stack([F.binary_cross_entropy_with_logits(logits[i], x[i], reduction="sum") for i in range(6)])
    torch.testing.assert_close(log_px, -bce, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(log_px, Bernoulli(logits=logits).log_prob(x).sum(1), rtol=1e-12, atol=1e-12)
    direct = x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(torch.sigmoid(-logits))
    torch.testing.assert_close(log_px, direct.sum(1), rtol=1e-10, atol=1e-10)


def test_bernoulli_log_likelihood_is_stable_for_huge_logits_and_accepts_images():
    logits = torch.tensor([[200.0, -200.0, 200.0]])
    x = torch.tensor([[1.0, 0.0, 0.0]])
    log_px = bernoulli_log_likelihood(logits, x)
    assert torch.isfinite(log_px).all()
    torch.testing.assert_close(log_px, torch.tensor([-200.0]))  # only the wrong pixel costs |l| nats
    images_logits, images = torch.randn(3, 1, 8, 8), binary_data(3).reshape(3, 1, 8, 8)
    torch.testing.assert_close(bernoulli_log_likelihood(images_logits, images),
                               bernoulli_log_likelihood(images_logits.reshape(3, 64), images.reshape(3, 64)))


# ---------------------------------------------------------------- the VAE
def test_vae_shapes_elbo_terms_and_log_var_clamp():
    model = VAE(data_dim=64, latent_dim=5, hidden=16, depth=1)
    x = binary_data(7)
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (7, 5)
    assert model.decode(mu).shape == (7, 64)
    terms = model.elbo(x, beta=0.5, generator=gen(0))
    assert isinstance(terms, ElboTerms)
    assert terms.elbo.shape == terms.reconstruction.shape == terms.kl.shape == (7,)
    torch.testing.assert_close(terms.kl, gaussian_kl(mu, log_var))
    torch.testing.assert_close(terms.elbo, terms.reconstruction - 0.5 * terms.kl)
    # the reconstruction uses z = mu + sigma eps with eps drawn from the generator
    z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=gen(0))
    torch.testing.assert_close(terms.reconstruction, bernoulli_log_likelihood(model.decode(z), x))
    with torch.no_grad():
        model.encoder.net[-1].bias[5:] = 1e4  # log_var outputs far out of range
    assert torch.equal(model.encode(x)[1], torch.full((7, 5), LOG_VAR_MAX))
    with torch.no_grad():
        model.encoder.net[-1].bias[5:] = -1e4
    assert torch.equal(model.encode(x)[1], torch.full((7, 5), LOG_VAR_MIN))
    assert torch.isfinite(model.elbo(x).elbo).all()


def test_iwae_k1_uses_the_same_z_as_elbo_and_swaps_the_analytic_kl_for_its_estimate():
    model = informative_vae(latent_dim=3)
    x = binary_data(9)
    with torch.no_grad():
        iwae1 = model.iwae(x, 1, generator=gen(5))
        terms = model.elbo(x, generator=gen(5))
        mu, log_var = model.encode(x)
    z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=gen(5))
    q = Independent(Normal(mu, torch.exp(0.5 * log_var)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    # L_1 = log p(x|z) + log p(z) - log q(z|x), while elbo = log p(x|z) - KL
    torch.testing.assert_close(iwae1 - terms.elbo, prior.log_prob(z) - q.log_prob(z) + terms.kl, rtol=1e-4, atol=1e-4)


def test_iwae_k1_and_elbo_have_the_same_expectation():
    model = informative_vae(latent_dim=3, dtype=torch.float64)
    x = binary_data(4, seed=1).to(torch.float64)
    reps = 2000
    x_rep = x.repeat(reps, 1)
    with torch.no_grad():
        iwae1 = model.iwae(x_rep, 1, generator=gen(1)).reshape(reps, 4)
        elbo = model.elbo(x_rep, generator=gen(2)).elbo.reshape(reps, 4)
    for i in range(4):
        a, se_a = mean_and_se(iwae1[:, i])
        b, se_b = mean_and_se(elbo[:, i])
        assert abs(a - b) < 5 * math.hypot(se_a, se_b)


def test_iwae_does_not_depend_on_the_chunk_size():
    model = informative_vae(latent_dim=2)
    x = binary_data(5, seed=2)
    with torch.no_grad():
        ref = model.iwae(x, 50, generator=gen(3), chunk=50)
        for chunk in (1, 7, 64):
            torch.testing.assert_close(model.iwae(x, 50, generator=gen(3), chunk=chunk), ref, rtol=1e-5, atol=1e-5)


def test_iwae_is_non_decreasing_in_k_on_average():
    model = informative_vae(latent_dim=4)
    x = binary_data(32, seed=3)
    reps = 8
    x_rep = x.repeat(reps, 1)
    with torch.no_grad():
        bounds = {k: model.iwae(x_rep, k, generator=gen(k)) for k in (1, 10, 100)}
    for small, large in ((1, 10), (10, 100)):
        diff, se = mean_and_se(bounds[large] - bounds[small])
        assert diff > 3 * se, (small, large, diff, se)


def test_iwae_bound_from_given_codes_reproduces_vae_iwae_on_the_same_draws():
    model = informative_vae(latent_dim=3, dtype=torch.float64)
    x = binary_data(6, seed=4).to(torch.float64)
    k = 20
    with torch.no_grad():
        expected = model.iwae(x, k, generator=gen(8))
        mu, log_var = model.encode(x)
        g = gen(8)  # VAE.iwae draws each eps_j as its own (B, L) tensor, in order
        eps = torch.stack([torch.randn(mu.shape, generator=g, dtype=mu.dtype) for _ in range(k)])
        z = mu + torch.exp(0.5 * log_var) * eps  # (K, B, L)
        log_px_z = bernoulli_log_likelihood(model.decode(z.reshape(k * 6, 3)), x.repeat(k, 1)).reshape(k, 6)
        got = iwae_bound(log_px_z, z, mu, log_var)
    assert got.shape == (6,)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_iwae_bound_against_torch_distributions_and_far_in_the_tail():
    g = gen(9)
    k, batch, latent = 7, 4, 3
    mu, log_var = torch.randn(batch, latent, generator=g, dtype=torch.float64), \
        torch.randn(batch, latent, generator=g, dtype=torch.float64)
    z = mu + torch.exp(0.5 * log_var) * torch.randn(k, batch, latent, generator=g, dtype=torch.float64)
    log_px_z = -50 + 5 * torch.randn(k, batch, generator=g, dtype=torch.float64)
    log_w = (log_px_z + Normal(0.0, 1.0).log_prob(z).sum(-1)
             - Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1))
    expected = torch.tensor([math.log(sum(math.exp(v) for v in log_w[:, b].tolist()) / k) for b in range(batch)],
                            dtype=torch.float64)  # log-mean-exp in plain Python floats: fine at -50
    torch.testing.assert_close(iwae_bound(log_px_z, z, mu, log_var), expected, rtol=1e-12, atol=1e-12)
    # with q = p(z) the density ratio is 1, so L_K is the log-mean-exp of log p(x|z) alone, even at -1000 nats
    zeros = torch.zeros(2, 1, 1, dtype=torch.float64)
    tail = iwae_bound(torch.tensor([[-1000.0], [-1001.0]], dtype=torch.float64), zeros, zeros[0], zeros[0])
    torch.testing.assert_close(tail, torch.tensor([-1000.0 + math.log((1 + math.exp(-1)) / 2)], dtype=torch.float64))
    equal = iwae_bound(torch.full((5, 3), -2.0), torch.zeros(5, 3, 2), torch.zeros(3, 2), torch.zeros(3, 2))
    torch.testing.assert_close(equal, torch.full((3,), -2.0))  # K equal weights: the -log K makes it their value


def test_the_exercise_references_of_notebook_01_can_be_hidden():
    logits, x = torch.zeros(2, 3), torch.zeros(2, 3)
    zeros = torch.zeros(1, 2, 1)
    with grading.hidden(bernoulli_log_likelihood, iwae_bound):
        with pytest.raises(grading.ReferenceHidden):
            bernoulli_log_likelihood(logits, x)
        with pytest.raises(grading.ReferenceHidden):
            iwae_bound(torch.zeros(1, 2), zeros, zeros[0], zeros[0])
    torch.testing.assert_close(bernoulli_log_likelihood(logits, x), torch.full((2,), 3 * math.log(0.5)))


def test_elbo_and_iwae_against_log_marginal_by_quadrature():
    """With a 1-D latent, log p(x) = log int p(x|z) N(z; 0, 1) dz and the exact ELBO
    int q(z) log p(x|z) dz - KL(q || p) are integrals on a grid. Check ELBO <= IWAE_k <= log p(x), that the
    Monte Carlo ELBO is unbiased for the exact one, and that IWAE_k approaches log p(x)."""
    model = informative_vae(latent_dim=1, seed=1, dtype=torch.float64)
    x = binary_data(3, seed=4).to(torch.float64)
    grid = torch.linspace(-12, 12, 6001, dtype=torch.float64)
    dz = float(grid[1] - grid[0])
    with torch.no_grad():
        logits = model.decode(grid[:, None])  # (G, 64)
        log_lik = torch.stack([bernoulli_log_likelihood(logits, xi.expand_as(logits)) for xi in x])  # (3, G)
        log_prior = Normal(0.0, 1.0).log_prob(grid)
        log_px = torch.logsumexp(log_lik + log_prior, dim=1) + math.log(dz)
        mu, log_var = model.encode(x)
        q_density = torch.exp(Normal(mu, torch.exp(0.5 * log_var)).log_prob(grid[None, :]))  # (3, G)
        exact_elbo = (q_density * log_lik).sum(1) * dz - gaussian_kl(mu, log_var)
        reps = 4000
        mc_elbo = model.elbo(x.repeat(reps, 1), generator=gen(0)).elbo.reshape(reps, 3)
        iwae = model.iwae(x.repeat(50, 1), 1000, generator=gen(1)).reshape(50, 3)
    assert (exact_elbo < log_px - 5.0).all()  # a real gap: q is far from the posterior
    for i in range(3):
        mean, se = mean_and_se(mc_elbo[:, i])
        assert abs(mean - float(exact_elbo[i])) < 5 * se
        # E[L_k] <= log p(x) (Jensen; a single draw of L_k may overshoot it), and at k = 1000 the ELBO's gap
        # of 15-25 nats has shrunk below 0.1 nats
        mean, se = mean_and_se(iwae[:, i])
        assert float(exact_elbo[i]) < mean < float(log_px[i]) + 3 * se
        assert float(log_px[i]) - mean < 0.1


def test_vae_sample_shapes_values_and_seed():
    model = VAE(latent_dim=3, hidden=16)
    probs, binary = model.sample_means_and_images(500, generator=gen(0))
    assert probs.shape == binary.shape == (500, 64)
    assert not probs.requires_grad
    assert ((probs > 0) & (probs < 1)).all()
    assert set(binary.unique().tolist()) <= {0.0, 1.0}
    probs2, binary2 = model.sample_means_and_images(500, generator=gen(0))
    assert torch.equal(probs, probs2) and torch.equal(binary, binary2)
    # Bernoulli draws: E[binary] = probs; the pixel-mean error is a mean of 500 bounded terms
    assert abs(float((binary - probs).mean())) < 5 * 0.5 / math.sqrt(500 * 64)


# ---------------------------------------------------------------- the loss for fit
def test_vae_loss_without_free_bits_is_the_negative_mean_elbo():
    model = informative_vae(latent_dim=3)
    x = binary_data(16)
    for beta in (1.0, 0.25):
        torch.manual_seed(7)
        out = vae_loss(beta=beta)(model, x)
        torch.manual_seed(7)
        terms = model.elbo(x, beta=beta)  # the same global-RNG noise
        torch.testing.assert_close(out["loss"], -terms.elbo.mean())
        torch.testing.assert_close(out["reconstruction"], terms.reconstruction.mean())
        torch.testing.assert_close(out["kl"], terms.kl.mean())
        torch.testing.assert_close(out["kl_term"], out["kl"])
    torch.manual_seed(7)
    from_tuple = vae_loss()(model, (x, torch.zeros(16, dtype=torch.long)))
    torch.manual_seed(7)
    torch.testing.assert_close(from_tuple["loss"], vae_loss()(model, x)["loss"])


@settings(max_examples=15, deadline=None)
@given(st.floats(0.01, 2.0), st.integers(0, 10_000), st.floats(0.0, 3.0))
def test_free_bits_kl_term_is_at_least_free_bits_per_dimension(free_bits, seed, beta):
    model = VAE(latent_dim=4, hidden=8, depth=1)
    torch.manual_seed(seed)
    x = binary_data(8, seed=seed)
    out = vae_loss(beta=beta, free_bits=free_bits)(model, x)
    assert float(out["kl_term"]) >= free_bits * 4 - 1e-6
    assert float(out["kl_term"]) >= float(out["kl"]) - 1e-6
    torch.testing.assert_close(out["loss"], -(out["reconstruction"] - beta * out["kl_term"]))


def test_free_bits_remove_the_kl_gradient_of_dimensions_below_the_floor():
    model = informative_vae(latent_dim=3)
    x = binary_data(16)
    torch.manual_seed(1)
    out = vae_loss(free_bits=100.0)(model, x)  # every KL_j < 100 nats: the KL term is the constant 300
    torch.testing.assert_close(out["kl_term"], torch.tensor(300.0))
    grads = torch.autograd.grad(out["loss"], list(model.encoder.parameters()))
    torch.manual_seed(1)
    reconstruction_only = -model.elbo(x, beta=0.0).elbo.mean()
    expected = torch.autograd.grad(reconstruction_only, list(model.encoder.parameters()))
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e)


def test_vae_loss_trains_with_fit():
    data = torch.cat([binary_data(128, seed=1, p=0.1), binary_data(128, seed=2, p=0.8)])
    model = VAE(latent_dim=2, hidden=32, depth=1)
    result = fit(model, vae_loss(), data, steps=150, batch_size=64, lr=3e-3, progress=False)
    assert set(result.logs) >= {"reconstruction", "kl", "kl_term"}
    assert result.final_loss < result.history[0] - 5.0


# ---------------------------------------------------------------- diagnostics
def test_active_units_counts_a_constant_posterior_mean_as_inactive():
    model = VAE(latent_dim=4, hidden=16, depth=1)
    x = binary_data(200, seed=5)
    with torch.no_grad():
        head = model.encoder.net[-1]
        head.weight[:4].mul_(10.0)  # make the posterior means move a lot with x
        head.weight[2].zero_()  # mean of dimension 2: a constant (the bias) for every x
    result = active_units(model, x, threshold=0.01)
    assert isinstance(result, ActiveUnits)
    assert result.variances.shape == (4,)
    assert float(result.variances[2]) == 0.0
    mu, _ = model.encode(x)
    torch.testing.assert_close(result.variances, ((mu - mu.mean(0)) ** 2).mean(0).detach())
    assert result.count == int((result.variances > 0.01).sum()) == 3


def test_factorised_baseline_matches_the_formula_and_the_entropy_of_independent_pixels():
    g = gen(0)
    p_true = 0.1 + 0.8 * torch.rand(16, generator=g, dtype=torch.float64)
    train = torch.bernoulli(p_true.expand(20_000, 16), generator=g)
    test = torch.bernoulli(p_true.expand(20_000, 16), generator=g)
    nll = log_likelihood_factorised_baseline(train, test)
    p_hat = (train.sum(0) + 1) / (train.shape[0] + 2)
    torch.testing.assert_close(torch.tensor(nll, dtype=torch.float64),
                               -Bernoulli(probs=p_hat).log_prob(test).sum(1).mean(), rtol=1e-12, atol=1e-10)
    entropy = float(Bernoulli(probs=p_true).entropy().sum())  # the best any model can do on independent pixels
    per_image_std = float(Bernoulli(probs=p_true).log_prob(test).sum(1).std())
    assert abs(nll - entropy) < 5 * per_image_std / math.sqrt(20_000) + 0.01


def test_factorised_baseline_is_finite_for_pixels_never_seen_in_training():
    train = torch.zeros(10, 4)
    test = torch.ones(3, 4)
    nll = log_likelihood_factorised_baseline(train, test)
    assert math.isfinite(nll)
    assert nll == pytest.approx(-4 * math.log(1 / 12))  # p = (0 + 1) / (10 + 2)


# ---------------------------------------------------------------- gradient estimators
def test_gradient_estimators_are_unbiased_and_reparameterisation_has_lower_variance():
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    log_var = torch.log(torch.tensor([0.25, 1.0, 2.0], dtype=torch.float64))
    a = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
    n = 50_000
    samples = gradient_samples(lambda z: -((z - a) ** 2).sum(1), mu, log_var, n, generator=gen(0))
    assert isinstance(samples, GradientSamples)
    assert samples.reparameterization.shape == samples.score_function.shape == (n, 3)
    exact = -2 * (mu - a)  # d/dmu E[-|z - a|^2] = d/dmu (-|mu - a|^2 - sum sigma^2)
    for estimates in (samples.reparameterization, samples.score_function):
        se = estimates.std(0) / math.sqrt(n)
        assert ((estimates.mean(0) - exact).abs() < 5 * se).all()
    diff = samples.score_function - samples.reparameterization
    assert ((diff.mean(0)).abs() < 5 * diff.std(0) / math.sqrt(n)).all()
    reparam_var, score_var = samples.reparameterization.var(0), samples.score_function.var(0)
    torch.testing.assert_close(reparam_var, 4 * torch.exp(log_var), rtol=0.05, atol=0)  # -2(z - a): Var = 4 sigma^2
    assert (score_var > reparam_var).all()
    # per-sample consistency: the reparameterised gradient -2(z - a) reveals z; the score is f(z)(z - mu)/sigma^2
    z = a - samples.reparameterization / 2
    f = -((z - a) ** 2).sum(1)
    torch.testing.assert_close(samples.score_function, f[:, None] * (z - mu) / torch.exp(log_var))


def test_reparameterisation_gradient_of_a_linear_function_is_exact():
    c = torch.tensor([1.5, -2.0])
    samples = gradient_samples(lambda z: z @ c, torch.zeros(2), torch.zeros(2), 100, generator=gen(1))
    torch.testing.assert_close(samples.reparameterization, c.expand(100, 2))


# ---------------------------------------------------------------- linear-Gaussian LVM
@pytest.fixture
def lvm() -> LinearGaussianLVM:
    g = gen(11)
    W = torch.randn(5, 2, generator=g, dtype=torch.float64)
    b = torch.randn(5, generator=g, dtype=torch.float64)
    return LinearGaussianLVM(W, b, sigma=0.7)


def random_q(batch: int, k: int, seed: int, batched_cov: bool) -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(seed)
    mean = 2 * torch.randn(batch, k, generator=g, dtype=torch.float64)
    shape = (batch, k, k) if batched_cov else (k, k)
    A = torch.randn(*shape, generator=g, dtype=torch.float64)
    return mean, A @ A.mT + 0.1 * torch.eye(k, dtype=torch.float64)


def test_lvm_log_marginal_matches_scipy(lvm):
    x = lvm.sample(6, generator=gen(0))
    cov = (lvm.W @ lvm.W.T + lvm.sigma**2 * torch.eye(5, dtype=torch.float64)).numpy()
    expected = multivariate_normal(mean=lvm.b.numpy(), cov=cov).logpdf(x.numpy())
    np.testing.assert_allclose(lvm.log_marginal(x).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_lvm_posterior_matches_conditioning_the_joint_gaussian(lvm):
    """(z, x) is jointly Gaussian with Cov = [[I, W^T], [W, W W^T + sigma^2 I]]; condition on x by the
    textbook formulas mean = W^T C^-1 (x - b), cov = I - W^T C^-1 W."""
    x = lvm.sample(4, generator=gen(1))
    C = lvm.W @ lvm.W.T + lvm.sigma**2 * torch.eye(5, dtype=torch.float64)
    mean_expected = torch.linalg.solve(C, (x - lvm.b).T).T @ lvm.W
    cov_expected = torch.eye(2, dtype=torch.float64) - lvm.W.T @ torch.linalg.solve(C, lvm.W)
    mean, cov = lvm.posterior(x)
    torch.testing.assert_close(mean, mean_expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(cov, cov_expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("batched_cov", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lvm_elbo_plus_kl_to_posterior_is_log_marginal(lvm, seed, batched_cov):
    x = lvm.sample(7, generator=gen(100 + seed))
    q_mean, q_cov = random_q(7, 2, seed, batched_cov)
    elbo = lvm.elbo(x, q_mean, q_cov)
    gap = lvm.kl_to_posterior(x, q_mean, q_cov)
    torch.testing.assert_close(elbo + gap, lvm.log_marginal(x), rtol=0, atol=1e-9)
    assert (gap > 0).all() and (elbo < lvm.log_marginal(x)).all()


def test_lvm_elbo_is_tight_at_the_true_posterior(lvm):
    x = lvm.sample(5, generator=gen(2))
    mean, cov = lvm.posterior(x)
    torch.testing.assert_close(lvm.elbo(x, mean, cov), lvm.log_marginal(x), rtol=0, atol=1e-10)
    torch.testing.assert_close(lvm.kl_to_posterior(x, mean, cov), torch.zeros(5, dtype=torch.float64),
                               rtol=0, atol=1e-10)


def test_lvm_elbo_closed_form_against_monte_carlo(lvm):
    x = lvm.sample(1, generator=gen(3))
    q_mean, q_cov = random_q(1, 2, 4, False)
    q = MultivariateNormal(q_mean[0], q_cov)
    z = q.sample((100_000,))
    log_lik = Independent(Normal(z @ lvm.W.T + lvm.b, lvm.sigma), 1).log_prob(x[0])
    prior = MultivariateNormal(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    integrand = log_lik + prior.log_prob(z) - q.log_prob(z)
    mean, se = mean_and_se(integrand)
    assert abs(mean - float(lvm.elbo(x, q_mean, q_cov))) < 5 * se


def test_gaussian_kl_full_matches_torch_distributions():
    m0, S0 = random_q(4, 3, 0, True)
    m1, S1 = random_q(4, 3, 1, False)
    expected = kl_divergence(MultivariateNormal(m0, S0), MultivariateNormal(m1, S1))
    torch.testing.assert_close(gaussian_kl_full(m0, S0, m1, S1), expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(gaussian_kl_full(m0, S0, m0, S0), torch.zeros(4, dtype=torch.float64),
                               rtol=0, atol=1e-12)


def test_lvm_sample_moments(lvm):
    n = 40_000
    z, x = lvm.sample(n, generator=gen(4), return_latents=True)
    assert z.shape == (n, 2) and x.shape == (n, 5) and x.dtype == torch.float64
    C = lvm.marginal_cov()
    std = torch.sqrt(torch.diagonal(C))
    assert ((x.mean(0) - lvm.b).abs() < 5 * std / math.sqrt(n)).all()
    emp_cov = torch.cov(x.T)
    cov_se = torch.sqrt((C**2 + torch.outer(torch.diagonal(C), torch.diagonal(C))) / n)  # Var of sample cov
    assert ((emp_cov - C).abs() < 5 * cov_se).all()


# ---------------------------------------------------------------- sharpness
def box_blur(images: torch.Tensor) -> torch.Tensor:
    """3x3 mean filter with circular padding, (N, H, W) -> (N, H, W)."""
    padded = F.pad(images[:, None], (1, 1, 1, 1), mode="circular")
    return F.conv2d(padded, torch.full((1, 1, 3, 3), 1 / 9, dtype=images.dtype))[:, 0]


def test_image_sharpness_known_values():
    torch.testing.assert_close(image_sharpness(torch.full((2, 8, 8), 0.7)), torch.zeros(2))
    stripes = (torch.arange(8) % 2).float().expand(8, 8)[None]  # columns alternate: every horizontal pair differs
    torch.testing.assert_close(image_sharpness(stripes), torch.tensor([0.5]))
    r, c = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    checkerboard = ((r + c) % 2).float()[None]
    torch.testing.assert_close(image_sharpness(checkerboard), torch.tensor([1.0]))


@PROPERTY
@given(st.integers(0, 10_000))
def test_image_sharpness_drops_after_a_blur(seed):
    images = torch.bernoulli(torch.full((4, 8, 8), 0.4), generator=gen(seed))
    images[0] = 0.0
    images[0, 2:6, 3] = 1.0  # a thin stroke, digit-like
    sharp = image_sharpness(images)
    blurred = image_sharpness(box_blur(images))
    varied = images.flatten(1).std(1) > 0
    assert (blurred[varied] < sharp[varied]).all()


def test_image_sharpness_accepts_flat_square_and_channel_layouts():
    images = torch.rand(3, 8, 8)
    s = image_sharpness(images)
    torch.testing.assert_close(image_sharpness(images.reshape(3, 64)), s)
    torch.testing.assert_close(image_sharpness(images.reshape(3, 64), side=8), s)
    torch.testing.assert_close(image_sharpness(images[:, None]), s)
    two_channels = torch.stack([images, torch.zeros_like(images)], dim=1)
    torch.testing.assert_close(image_sharpness(two_channels), s / 2)  # mean over channels too


# ---------------------------------------------------------------- validation
def _bad_calls():
    model = VAE(latent_dim=2, hidden=8, depth=1)
    x = binary_data(3)
    W, b = torch.randn(4, 2, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    lvm = LinearGaussianLVM(W, b, 1.0)
    q_mean, q_cov = torch.zeros(2, 2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)
    x4 = torch.zeros(2, 4, dtype=torch.float64)
    return [
        (lambda: reparameterize(torch.zeros(3), torch.zeros(3)), ValueError, "mu"),
        (lambda: reparameterize(torch.zeros(3, 2), torch.zeros(3, 3)), ValueError, "log_var"),
        (lambda: reparameterize(torch.zeros(3, 2), torch.zeros(3, 2), eps=torch.zeros(2, 2)), ValueError, "eps"),
        (lambda: reparameterize(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, 2)), TypeError, "mu"),
        (lambda: gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 1)), ValueError, "log_var"),
        (lambda: gaussian_kl_diag(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3), torch.zeros(2)),
         ValueError, "mu_p"),
        (lambda: bernoulli_log_likelihood(torch.zeros(3, 4), torch.zeros(3, 5)), ValueError, "x"),
        (lambda: bernoulli_log_likelihood(torch.zeros(3, 4), torch.full((3, 4), 2.0)), ValueError, "x"),
        (lambda: VAE(latent_dim=0), ValueError, "latent_dim"),
        (lambda: model.encode(torch.zeros(3, 63)), ValueError, "x"),
        (lambda: model.decode(torch.zeros(3, 3)), ValueError, "z"),
        (lambda: model.elbo(x, beta=-1.0), ValueError, "beta"),
        (lambda: model.iwae(x, 0), ValueError, "k"),
        (lambda: model.iwae(x, 2, chunk=0), ValueError, "chunk"),
        (lambda: iwae_bound(torch.zeros(2), torch.zeros(2, 1, 1), torch.zeros(1, 1), torch.zeros(1, 1)),
         ValueError, "log_px_z"),
        (lambda: iwae_bound(torch.zeros(2, 3), torch.zeros(3, 2, 1), torch.zeros(3, 1), torch.zeros(3, 1)),
         ValueError, "z"),
        (lambda: iwae_bound(torch.zeros(2, 3), torch.zeros(2, 3, 1), torch.zeros(2, 1), torch.zeros(2, 1)),
         ValueError, "mu"),
        (lambda: iwae_bound(torch.zeros(2, 3), torch.zeros(2, 3, 1), torch.zeros(3, 1), torch.zeros(3, 2)),
         ValueError, "log_var"),
        (lambda: model.sample(0), ValueError, "n"),
        (lambda: vae_loss(beta=-0.1), ValueError, "beta"),
        (lambda: vae_loss(free_bits=-1.0), ValueError, "free_bits"),
        (lambda: vae_loss(free_bits=float("nan")), ValueError, "free_bits"),
        (lambda: vae_loss()(model, "not a batch"), TypeError, "batch"),
        (lambda: active_units(model, x, threshold=-1.0), ValueError, "threshold"),
        (lambda: active_units(model, x[:1]), ValueError, "x"),
        (lambda: active_units(torch.nn.Linear(2, 2), x), TypeError, "model"),
        (lambda: log_likelihood_factorised_baseline(x, torch.zeros(2, 10)), ValueError, "test_x"),
        (lambda: log_likelihood_factorised_baseline(x - 1.0, x), ValueError, "train_x"),
        (lambda: gradient_samples(lambda z: z.sum(1), torch.zeros(2, 2), torch.zeros(2, 2), 5), ValueError, "mu"),
        (lambda: gradient_samples(lambda z: z, torch.zeros(2), torch.zeros(2), 5), ValueError, "f"),
        (lambda: gradient_samples(lambda z: z.sum(1), torch.zeros(2), torch.zeros(2), 0), ValueError, "n"),
        (lambda: gradient_samples(lambda z: z.sum(1).detach(), torch.zeros(2), torch.zeros(2), 5), ValueError, "f"),
        (lambda: LinearGaussianLVM(W, b, 0.0), ValueError, "sigma"),
        (lambda: LinearGaussianLVM(W, torch.zeros(3), 1.0), ValueError, "b"),
        (lambda: lvm.log_marginal(torch.zeros(2, 3, dtype=torch.float64)), ValueError, "x"),
        (lambda: lvm.elbo(x4, torch.zeros(2, 3, dtype=torch.float64), q_cov), ValueError, "q_mean"),
        (lambda: lvm.elbo(x4, q_mean, torch.eye(3, dtype=torch.float64)), ValueError, "q_cov"),
        (lambda: lvm.elbo(x4, q_mean, -q_cov), ValueError, "S0"),
        (lambda: gaussian_kl_full(q_mean, torch.tensor([[1.0, 0.5], [0.0, 1.0]], dtype=torch.float64),
                                  q_mean, q_cov), ValueError, "S0"),
        (lambda: image_sharpness(torch.zeros(3, 10)), ValueError, "D"),
        (lambda: image_sharpness(torch.zeros(3, 64), side=7), ValueError, "side"),
        (lambda: image_sharpness(torch.zeros(3, 8, 8), side=8), ValueError, "side"),
        (lambda: image_sharpness(torch.zeros(3, 8, 8, dtype=torch.long)), TypeError, "images"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_calls())))
def test_bad_inputs_raise_naming_the_argument(index):
    call, error, name = _bad_calls()[index]
    with pytest.raises(error, match=name):
        call()


def test_gaussian_decoder_likelihood_matches_torch_and_its_iwae_approaches_the_quadrature_marginal():
    """likelihood="gaussian": log p(x|z) is torch's diagonal Normal; with a 1-D latent the marginal
    log p(x) = log int N(x; m(z), s^2(z)) N(z; 0, 1) dz is a grid integral, and E[IWAE_k] approaches it from below."""
    torch.manual_seed(5)
    model = VAE(data_dim=2, latent_dim=1, hidden=16, depth=2, likelihood="gaussian").double()
    x = torch.tensor([[0.3, -0.2], [1.5, 0.4], [-1.0, -1.0]], dtype=torch.float64)
    z = torch.randn(3, 1, dtype=torch.float64)
    decoded = model.decode(z)
    m, log_s2 = decoded.chunk(2, dim=-1)
    expected = Normal(m, torch.exp(0.5 * log_s2)).log_prob(x).sum(1)
    assert torch.allclose(model.log_px_z(decoded, x), expected, atol=1e-12)
    grid = torch.linspace(-12, 12, 6001, dtype=torch.float64)
    dz = float(grid[1] - grid[0])
    with torch.no_grad():
        out = model.decode(grid[:, None])
        log_lik = torch.stack([model.log_px_z(out, xi.expand(grid.shape[0], 2)) for xi in x])  # (3, G)
        log_px = torch.logsumexp(log_lik + Normal(0.0, 1.0).log_prob(grid), dim=1) + math.log(dz)
        iwae = model.iwae(x.repeat(50, 1), 2000, generator=gen(1)).reshape(50, 3)
        elbo = model.elbo(x.repeat(2000, 1), generator=gen(2)).elbo.reshape(2000, 3).mean(0)
    for i in range(3):
        mean, se = mean_and_se(iwae[:, i])
        assert float(elbo[i]) < mean < float(log_px[i]) + 3 * se
        assert float(log_px[i]) - mean < 0.05
    draws = model.sample(5, gen(3))
    assert draws.shape == (5, 2) and not set(draws.flatten().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAE(data_dim=2, latent_dim=1, likelihood="poisson")
