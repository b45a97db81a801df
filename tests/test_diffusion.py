"""Denoising diffusion (curriculum.diffusion): each formula against an independent derivation written out here
(cumulative products by a loop, Gaussian conditioning by a Schur complement, autograd scores, torch.distributions
KLs, exact moment propagation), Monte Carlo checks with standard errors computed from the samples, and the
guarantees of the samplers (determinism, seeding, call counts, paths, clear errors)."""
from __future__ import annotations

import copy
import math

import pytest
import torch
from scipy.stats import multivariate_normal
from torch.distributions import Independent, Normal, kl_divergence

from curriculum import metrics
from curriculum.diffusion import (
    GaussianData,
    NoiseSchedule,
    affine_pushforward,
    ancestral_step,
    cosine_schedule,
    ddim_sample,
    ddim_step,
    ddpm_sample,
    eps_from_score,
    eps_from_x0,
    extract,
    kl_term,
    linear_schedule,
    q_mean_variance,
    q_posterior,
    q_sample,
    q_step,
    score_from_eps,
    simple_loss,
    timesteps,
    vlb_weight,
    x0_from_eps,
)

F64 = torch.float64
N_SE = 4.0  # Monte Carlo tolerance: this many standard errors


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("CURRICULUM_PROGRESS", "0")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int, dtype: torch.dtype = F64) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


def steps(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.int64)


def full_steps(batch: int, t: int) -> torch.Tensor:
    return torch.full((batch,), t, dtype=torch.int64)


def random_steps(batch: int, low: int, high: int, seed: int) -> torch.Tensor:
    """``batch`` int64 steps drawn uniformly from ``low..high`` (inclusive)."""
    return torch.randint(low, high + 1, (batch,), generator=gen(seed))


# ------------------------------------------------------------------------------------------------------------------
# Reference quantities, derived here from beta_1..beta_T only (never from the module's derived tables)
# ------------------------------------------------------------------------------------------------------------------
def alpha_bar_by_loop(betas_1_to_T: torch.Tensor) -> torch.Tensor:
    """[1, (1-b_1), (1-b_1)(1-b_2), ...]: length T + 1, float64, by an explicit Python loop."""
    out = [1.0]
    for b in betas_1_to_T.tolist():
        out.append(out[-1] * (1.0 - b))
    return torch.tensor(out, dtype=F64)


def tables(schedule: NoiseSchedule) -> dict[str, torch.Tensor]:
    """beta, alpha, alpha_bar, alpha_bar_prev, posterior variance as length-(T + 1) float64 tensors."""
    beta = torch.cat([torch.zeros(1, dtype=F64), schedule.betas[1:].to(F64)])
    alpha = 1.0 - beta
    alpha_bar = alpha_bar_by_loop(beta[1:])
    alpha_bar_prev = torch.cat([torch.ones(1, dtype=F64), alpha_bar[:-1]])
    post = torch.zeros(schedule.T + 1, dtype=F64)
    for t in range(1, schedule.T + 1):
        post[t] = (1.0 - alpha_bar_prev[t]) / (1.0 - alpha_bar[t]) * beta[t]
    return {"beta": beta, "alpha": alpha, "alpha_bar": alpha_bar, "alpha_bar_prev": alpha_bar_prev, "post": post}


def per_sample(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """values[t] shaped (B, 1, ..., 1) against x, written without ``extract``."""
    return values[t].reshape(-1, *([1] * (x.ndim - 1))).to(x)


def posterior_by_conditioning(schedule: NoiseSchedule, x0: torch.Tensor, x_t: torch.Tensor,
                              t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of x_{t-1} given (x_t, x0) by conditioning the joint Gaussian of (x_{t-1}, x_t) | x0.

    Per coordinate: x_{t-1} = sqrt(abar_{t-1}) x0 + sqrt(1 - abar_{t-1}) e1 and x_t = sqrt(alpha_t) x_{t-1} +
    sqrt(beta_t) e2, i.e. (x_{t-1}, x_t) = m + L (e1, e2) with a lower-triangular L; C = L L^T and the conditional
    is m_1 + C_12 C_22^{-1} (x_t - m_2), C_11 - C_12 C_22^{-1} C_21 (Schur complement).
    """
    tab = tables(schedule)
    abar_prev, alpha, beta = tab["alpha_bar_prev"][t], tab["alpha"][t], tab["beta"][t]
    lower = torch.zeros(t.shape[0], 2, 2, dtype=F64)
    lower[:, 0, 0] = (1 - abar_prev).sqrt()
    lower[:, 1, 0] = alpha.sqrt() * (1 - abar_prev).sqrt()
    lower[:, 1, 1] = beta.sqrt()
    joint = lower @ lower.transpose(1, 2)  # (B, 2, 2)
    schur = joint[:, 0, 0] - joint[:, 0, 1] * joint[:, 1, 0] / joint[:, 1, 1]
    gain = joint[:, 0, 1] / joint[:, 1, 1]
    shape = (-1,) + (1,) * (x0.ndim - 1)
    m_prev = abar_prev.sqrt().reshape(shape) * x0
    m_t = alpha.sqrt().reshape(shape) * m_prev
    mean = m_prev + gain.reshape(shape) * (x_t - m_t)
    return mean, schur.reshape(shape)


def reverse_mean_reference(schedule, x_t, t, eps_pred):
    """mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps_pred) / sqrt(alpha_t), written out here."""
    tab = tables(schedule)
    beta, alpha, abar = (per_sample(tab[k], t, x_t) for k in ("beta", "alpha", "alpha_bar"))
    return (x_t - beta / (1 - abar).sqrt() * eps_pred) / alpha.sqrt()


def moments_with_se(samples: torch.Tensor):
    """Sample mean (d,), covariance (d, d) and their standard errors, estimated from the samples (N, d)."""
    samples = samples.to(F64)
    n = samples.shape[0]
    mean, se_mean = metrics.mean_and_stderr(samples)
    centred = samples - mean
    products = centred[:, :, None] * centred[:, None, :]  # (N, d, d)
    _, se_cov = metrics.mean_and_stderr(products)
    return mean, se_mean, products.sum(0) / (n - 1), se_cov


def assert_moments_match(samples: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor, what: str = "") -> None:
    est_mean, se_mean, est_cov, se_cov = moments_with_se(samples)
    assert ((est_mean - mean).abs() <= N_SE * se_mean).all(), (what, est_mean, mean, se_mean)
    assert ((est_cov - cov).abs() <= N_SE * se_cov).all(), (what, est_cov, cov, se_cov)


def assert_two_samples_match(a: torch.Tensor, b: torch.Tensor, what: str = "") -> None:
    """Means and covariances of two independent samples agree within N_SE combined standard errors."""
    ma, sa, ca, sca = moments_with_se(a)
    mb, sb, cb, scb = moments_with_se(b)
    assert ((ma - mb).abs() <= N_SE * (sa**2 + sb**2).sqrt()).all(), (what, ma, mb)
    assert ((ca - cb).abs() <= N_SE * (sca**2 + scb**2).sqrt()).all(), (what, ca, cb)


class TinyEpsNet(torch.nn.Module):
    """A small random MLP ``eps_model(x (B, 2), t (B,)) -> (B, 2)``, weights drawn from a seeded generator."""

    def __init__(self, T: int, seed: int = 0, dtype: torch.dtype = F64) -> None:
        super().__init__()
        self.T = T
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2)).to(dtype)
        g = gen(seed)
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(0.5 * torch.randn(p.shape, generator=g, dtype=dtype))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, (t.to(x.dtype) / self.T)[:, None]], dim=1))


class Recorder:
    """Wraps an eps_model and records the step tensor and the extra arguments of every call."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.calls: list[tuple[torch.Tensor, tuple]] = []

    def __call__(self, x, t, *rest):
        self.calls.append((t.clone(), rest))
        return self.fn(x, t)


def gaussian_data_2d() -> GaussianData:
    return GaussianData(torch.tensor([1.0, -0.5], dtype=F64), torch.tensor([[1.0, 0.6], [0.6, 0.5]], dtype=F64))


def gaussian_data_3d(seed: int = 3) -> GaussianData:
    a = randn(3, 3, seed=seed)
    return GaussianData(randn(3, seed=seed + 1), a @ a.T + 0.3 * torch.eye(3, dtype=F64))


SCHEDULES = {
    "linear1000": lambda: linear_schedule(1000),
    "cosine1000": lambda: cosine_schedule(1000),
    "linear50": lambda: linear_schedule(50),
    "cosine40_clipped": lambda: cosine_schedule(40, max_beta=0.3),
    "custom": lambda: NoiseSchedule(torch.rand(30, generator=gen(7), dtype=F64) * 0.2 + 1e-3, "random"),
}


# ------------------------------------------------------------------------------------------------------------------
# Schedules
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCHEDULES)
def test_alpha_bar_is_the_cumulative_product_of_one_minus_beta(name):
    schedule = SCHEDULES[name]()
    T = schedule.T
    for table in (schedule.betas, schedule.alphas, schedule.alpha_bar, schedule.posterior_variance, schedule.snr,
                  schedule.log_snr):
        assert table.shape == (T + 1,) and table.dtype == F64 and table.device.type == "cpu"
    torch.testing.assert_close(schedule.alphas, 1.0 - schedule.betas, rtol=0, atol=0)
    torch.testing.assert_close(schedule.alpha_bar, alpha_bar_by_loop(schedule.betas[1:]), rtol=1e-12, atol=0)
    assert ((schedule.betas[1:] > 0) & (schedule.betas[1:] < 1)).all()
    assert (schedule.alpha_bar[1:] < schedule.alpha_bar[:-1]).all()  # strictly more noise at every step


@pytest.mark.parametrize("name", SCHEDULES)
def test_index_zero_conventions(name):
    schedule = SCHEDULES[name]()
    assert float(schedule.betas[0]) == 0.0
    assert float(schedule.alphas[0]) == 1.0
    assert float(schedule.alpha_bar[0]) == 1.0
    assert float(schedule.posterior_variance[0]) == 0.0
    assert float(schedule.snr[0]) == math.inf
    assert float(schedule.log_snr[0]) == math.inf
    # beta_tilde_1 = (1 - abar_0) / (1 - abar_1) beta_1 = 0 too
    assert float(schedule.posterior_variance[1]) == 0.0


def test_linear_schedule_endpoints_at_T_1000():
    schedule = linear_schedule(1000)
    assert schedule.T == 1000 and schedule.name == "linear"
    assert float(schedule.betas[1]) == pytest.approx(1e-4, rel=1e-12)
    assert float(schedule.betas[1000]) == pytest.approx(0.02, rel=1e-12)
    gaps = schedule.betas[2:] - schedule.betas[1:-1]
    torch.testing.assert_close(gaps, torch.full_like(gaps, (0.02 - 1e-4) / 999), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("T", [50, 200, 500, 2000])
def test_linear_schedule_scales_with_1000_over_T(T):
    schedule = linear_schedule(T)
    scale = 1000 / T
    assert float(schedule.betas[1]) == pytest.approx(1e-4 * scale, rel=1e-12)
    assert float(schedule.betas[T]) == pytest.approx(0.02 * scale, rel=1e-12)
    gaps = schedule.betas[2:] - schedule.betas[1:-1]
    torch.testing.assert_close(gaps, torch.full_like(gaps, (0.02 - 1e-4) * scale / (T - 1)), rtol=1e-9, atol=1e-15)
    # the total variance added, sum_t beta_t = T (start + end) / 2, does not depend on T
    assert float(schedule.betas.sum()) == pytest.approx(1000 * (1e-4 + 0.02) / 2, rel=1e-10)


def test_linear_schedule_custom_endpoints():
    schedule = linear_schedule(30, beta_start=1e-3, beta_end=0.05)
    torch.testing.assert_close(schedule.betas[1:], torch.tensor([1e-3 + (0.05 - 1e-3) * i / 29 for i in range(30)],
                                                                dtype=F64), rtol=1e-12, atol=0)


def cosine_reference(T: int, s: float) -> tuple[torch.Tensor, torch.Tensor]:
    """f(t) / f(0) and the unclipped beta_t = 1 - f(t) / f(t - 1), with f(t) = cos^2((t/T + s)/(1 + s) pi/2)."""
    f = [math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2 for t in range(T + 1)]
    ratio = torch.tensor([v / f[0] for v in f], dtype=F64)
    raw_beta = torch.tensor([1 - f[t] / f[t - 1] for t in range(1, T + 1)], dtype=F64)
    return ratio, raw_beta


@pytest.mark.parametrize("T, s, max_beta", [(1000, 0.008, 0.999), (100, 0.008, 0.999), (60, 0.02, 0.2)])
def test_cosine_alpha_bar_follows_cos_squared_until_clipping(T, s, max_beta):
    schedule = cosine_schedule(T, s=s, max_beta=max_beta)
    assert schedule.name == "cosine"
    ratio, raw_beta = cosine_reference(T, s)
    clipped = (raw_beta > max_beta).nonzero()
    first_clipped = int(clipped[0]) + 1 if len(clipped) else T + 1  # first step t whose beta was clipped
    assert first_clipped > T // 2  # the check below covers most of the schedule
    torch.testing.assert_close(schedule.alpha_bar[:first_clipped], ratio[:first_clipped], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("T, max_beta", [(1000, 0.999), (50, 0.1), (60, 0.2)])
def test_cosine_betas_are_clipped_at_max_beta(T, max_beta):
    schedule = cosine_schedule(T, max_beta=max_beta)
    _, raw_beta = cosine_reference(T, 0.008)
    over = raw_beta > max_beta
    assert over.any()  # the last step always has beta -> 1 before clipping
    assert (schedule.betas[1:] <= max_beta).all()
    assert (schedule.betas[1:][over] == max_beta).all()
    torch.testing.assert_close(schedule.betas[1:][~over], raw_beta[~over], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", SCHEDULES)
def test_posterior_variance_snr_and_log_snr(name):
    schedule = SCHEDULES[name]()
    tab = tables(schedule)
    torch.testing.assert_close(schedule.posterior_variance, tab["post"], rtol=1e-12, atol=1e-300)
    abar = tab["alpha_bar"][1:]
    torch.testing.assert_close(schedule.snr[1:], abar / (1 - abar), rtol=1e-10, atol=0)
    torch.testing.assert_close(schedule.log_snr[1:], torch.log(abar) - torch.log1p(-abar), rtol=1e-9, atol=1e-9)
    assert (schedule.snr[1:] < schedule.snr[:-1]).all()
    # the posterior variance lies between 0 and beta_t (it is beta_t times a factor in [0, 1))
    assert (schedule.posterior_variance[2:] > 0).all()
    assert (schedule.posterior_variance[1:] < schedule.betas[1:]).all()


@pytest.mark.parametrize("shape", [(5, 2), (5, 1, 8, 8), (5, 3, 4)])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_extract_shape_and_dtype_follow_the_data(shape, dtype):
    schedule = linear_schedule(50)
    x = torch.zeros(shape, dtype=dtype)
    t = steps([0, 1, 17, 49, 50])
    out = extract(schedule.alpha_bar, t, x)
    assert out.shape == (5,) + (1,) * (len(shape) - 1)
    assert out.dtype == dtype and out.device == x.device
    expected = torch.tensor([float(schedule.alpha_bar[i]) for i in (0, 1, 17, 49, 50)], dtype=dtype)
    assert torch.equal(out.flatten(), expected)
    assert (out * x).shape == shape


def test_sample_t_range_uniformity_and_reproducibility():
    schedule = linear_schedule(50)
    n = 20_000
    t = schedule.sample_t(n, generator=gen(0))
    assert t.shape == (n,) and t.dtype == torch.int64 and t.device.type == "cpu"
    assert int(t.min()) == 1 and int(t.max()) == 50
    counts = torch.bincount(t, minlength=51)
    assert int(counts[0]) == 0
    p = 1 / 50
    assert ((counts[1:] - n * p).abs() <= N_SE * math.sqrt(n * p * (1 - p))).all()
    assert torch.equal(schedule.sample_t(64, generator=gen(5)), schedule.sample_t(64, generator=gen(5)))
    assert not torch.equal(schedule.sample_t(64, generator=gen(5)), schedule.sample_t(64, generator=gen(6)))


def test_sample_t_refuses_a_generator_on_another_device():
    with pytest.raises(ValueError, match="generator is on"):
        linear_schedule(50).sample_t(4, generator=gen(0), device="cuda")


# ------------------------------------------------------------------------------------------------------------------
# Forward process
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule_fn", [lambda: linear_schedule(100), lambda: cosine_schedule(100)],
                         ids=["linear", "cosine"])
def test_q_sample_matches_a_chain_of_q_steps(schedule_fn):
    schedule = schedule_fn()
    n = 5000
    x0 = torch.tensor([[1.5, -0.7]], dtype=F64).expand(n, 2)
    tab = tables(schedule)
    checkpoints = {1, 7, 40, schedule.T}
    chain_gen, jump_gen = gen(1), gen(2)
    x = x0
    for t in range(1, schedule.T + 1):
        x = q_step(schedule, x, full_steps(n, t), generator=chain_gen)
        if t in checkpoints:
            jumped = q_sample(schedule, x0, full_steps(n, t), generator=jump_gen)
            assert_two_samples_match(x, jumped, f"t={t}")
            # both against the closed form (2) written out here
            abar = float(tab["alpha_bar"][t])
            closed_cov = (1 - abar) * torch.eye(2, dtype=F64)
            assert_moments_match(x, math.sqrt(abar) * x0[0], closed_cov, f"chain t={t}")
            assert_moments_match(jumped, math.sqrt(abar) * x0[0], closed_cov, f"q_sample t={t}")
            mean, var = q_mean_variance(schedule, x0[:1], full_steps(1, t))
            torch.testing.assert_close(mean[0], math.sqrt(abar) * x0[0], rtol=1e-12, atol=1e-14)
            assert float(var) == pytest.approx(1 - abar, rel=1e-12)


def test_q_step_is_the_one_step_formula():
    schedule = cosine_schedule(40)
    x_prev, eps, t = randn(6, 2, seed=0), randn(6, 2, seed=1), random_steps(6, 1, 40, seed=2)
    tab = tables(schedule)
    expected = per_sample(tab["alpha"], t, x_prev).sqrt() * x_prev + per_sample(tab["beta"], t, x_prev).sqrt() * eps
    torch.testing.assert_close(q_step(schedule, x_prev, t, eps), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("shape", [(6, 2), (6, 1, 8, 8)])
def test_q_sample_at_t_zero_returns_x0(shape):
    schedule = linear_schedule(50)
    x0 = randn(*shape, seed=0)
    t = full_steps(shape[0], 0)
    assert torch.equal(q_sample(schedule, x0, t, generator=gen(1)), x0)
    mean, var = q_mean_variance(schedule, x0, t)
    assert torch.equal(mean, x0) and (var == 0).all()


@pytest.mark.parametrize("shape", [(7, 2), (7, 1, 8, 8)])
def test_q_sample_is_the_q_mean_variance_gaussian(shape):
    schedule = linear_schedule(1000)
    x0, eps, t = randn(*shape, seed=0), randn(*shape, seed=1), random_steps(shape[0], 0, 1000, seed=2)
    mean, var = q_mean_variance(schedule, x0, t)
    assert mean.shape == shape and var.shape == (shape[0],) + (1,) * (len(shape) - 1)
    abar = per_sample(tables(schedule)["alpha_bar"], t, x0)
    torch.testing.assert_close(mean, abar.sqrt() * x0, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(var, 1 - abar, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(q_sample(schedule, x0, t, eps), mean + var.sqrt() * eps, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", ["linear1000", "cosine1000", "cosine40_clipped"])
def test_q_posterior_equals_gaussian_conditioning(name):
    schedule = SCHEDULES[name]()
    T = schedule.T
    t = steps([1, 2, 3, 10, T // 2, T - 1, T, T])
    x0, x_t = randn(8, 2, seed=0) * 2, randn(8, 2, seed=1) * 2
    mean, var = q_posterior(schedule, x0, x_t, t)
    ref_mean, ref_var = posterior_by_conditioning(schedule, x0, x_t, t)
    assert mean.shape == (8, 2) and var.shape == (8, 1)
    # 1 - abar_1 is ~1e-5, so forming it costs ~1e-12 relative precision whichever way it is computed
    torch.testing.assert_close(mean, ref_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(var, ref_var, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(var.flatten(), schedule.posterior_variance[t], rtol=0, atol=1e-12)
    torch.testing.assert_close(mean[:1], x0[:1], rtol=0, atol=1e-12)  # t = 1: x_0 is known exactly


def test_x0_and_eps_conversions_are_inverses():
    schedule = linear_schedule(1000)
    x0, eps = randn(9, 2, seed=0), randn(9, 2, seed=1)
    t = steps([1, 2, 5, 50, 300, 700, 999, 1000, 1000])
    x_t = q_sample(schedule, x0, t, eps)
    torch.testing.assert_close(x0_from_eps(schedule, x_t, t, eps), x0, rtol=0, atol=1e-11)
    torch.testing.assert_close(eps_from_x0(schedule, x_t, t, x0), eps, rtol=0, atol=1e-11)
    # round trips from arbitrary (not consistent) inputs
    other = randn(9, 2, seed=2)
    torch.testing.assert_close(x0_from_eps(schedule, x_t, t, eps_from_x0(schedule, x_t, t, other)), other,
                               rtol=0, atol=1e-10)
    torch.testing.assert_close(eps_from_x0(schedule, x_t, t, x0_from_eps(schedule, x_t, t, other)), other,
                               rtol=0, atol=1e-10)
    # x0_from_eps accepts t = 0, where x_t is x_0
    zero = full_steps(9, 0)
    assert torch.equal(x0_from_eps(schedule, x0, zero, eps), x0)


def test_score_conversions_and_score_of_the_conditional():
    schedule = cosine_schedule(200)
    x0, eps, t = randn(8, 2, seed=0), randn(8, 2, seed=1), random_steps(8, 1, 200, seed=2)
    x_t = q_sample(schedule, x0, t, eps).requires_grad_(True)
    score = score_from_eps(schedule, x_t.detach(), t, eps)
    # the score of q(x_t | x0) = N(sqrt(abar) x0, (1 - abar) I), by autograd
    abar = per_sample(tables(schedule)["alpha_bar"], t, x0)
    log_q = Normal(abar.sqrt() * x0, (1 - abar).sqrt()).log_prob(x_t).sum()
    (grad,) = torch.autograd.grad(log_q, x_t)
    torch.testing.assert_close(score, grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(eps_from_score(schedule, x_t.detach(), t, score), eps, rtol=1e-12, atol=1e-12)
    other = randn(8, 2, seed=3)
    torch.testing.assert_close(score_from_eps(schedule, x_t.detach(), t, eps_from_score(schedule, x_t.detach(), t,
                                                                                        other)), other,
                               rtol=1e-12, atol=1e-12)


def _image_vs_flat_cases():
    """name -> fn(schedule, a, b, c, t) where a, b, c are data-shaped tensors."""
    return {
        "q_step": lambda sch, a, b, c, t: q_step(sch, a, t, b),
        "q_sample": lambda sch, a, b, c, t: q_sample(sch, a, t, b),
        "q_mean_variance": lambda sch, a, b, c, t: q_mean_variance(sch, a, t)[0],
        "q_posterior": lambda sch, a, b, c, t: q_posterior(sch, a, b, t)[0],
        "x0_from_eps": lambda sch, a, b, c, t: x0_from_eps(sch, a, t, b),
        "eps_from_x0": lambda sch, a, b, c, t: eps_from_x0(sch, a, t, b),
        "score_from_eps": lambda sch, a, b, c, t: score_from_eps(sch, a, t, b),
        "eps_from_score": lambda sch, a, b, c, t: eps_from_score(sch, a, t, b),
        "ancestral_step": lambda sch, a, b, c, t: ancestral_step(sch, a, t, b, noise=c),
        "ancestral_step_clip": lambda sch, a, b, c, t: ancestral_step(sch, a, t, b, noise=c, clip_x0=1.0,
                                                                       variance="beta"),
        "ddim_step": lambda sch, a, b, c, t: ddim_step(sch, a, t, t // 2, b, eta=0.6, noise=c),
        "ddim_step_clip": lambda sch, a, b, c, t: ddim_step(sch, a, t, t - 1, b, clip_x0=1.0),
    }


@pytest.mark.parametrize("case", list(_image_vs_flat_cases()))
def test_image_shaped_results_equal_those_of_flattened_data(case):
    fn = _image_vs_flat_cases()[case]
    schedule = linear_schedule(100)
    a, b, c = randn(4, 1, 8, 8, seed=0), randn(4, 1, 8, 8, seed=1), randn(4, 1, 8, 8, seed=2)
    t = steps([1, 2, 50, 100])
    image = fn(schedule, a, b, c, t)
    flat = fn(schedule, a.flatten(1), b.flatten(1), c.flatten(1), t)
    assert image.shape == a.shape and flat.shape == (4, 64)
    torch.testing.assert_close(image.flatten(1), flat, rtol=1e-14, atol=1e-14)


def test_kl_and_simple_loss_on_images_equal_those_on_flattened_data():
    schedule = linear_schedule(100)
    x0, eps, eps_pred = randn(4, 1, 8, 8, seed=0), randn(4, 1, 8, 8, seed=1), randn(4, 1, 8, 8, seed=2)
    t = steps([2, 3, 50, 100])
    x_t = q_sample(schedule, x0, t, eps)
    torch.testing.assert_close(kl_term(schedule, x0, x_t, t, eps_pred),
                               kl_term(schedule, x0.flatten(1), x_t.flatten(1), t, eps_pred.flatten(1)),
                               rtol=1e-12, atol=1e-12)

    def model(x, t):  # any per-pixel function of x and t
        return torch.sin(x) * (t.to(x.dtype) / 100).reshape(-1, *([1] * (x.ndim - 1)))

    torch.testing.assert_close(simple_loss(model, schedule, x0, t, eps),
                               simple_loss(model, schedule, x0.flatten(1), t, eps.flatten(1)), rtol=1e-14, atol=1e-14)


# ------------------------------------------------------------------------------------------------------------------
# Losses
# ------------------------------------------------------------------------------------------------------------------
def test_simple_loss_equals_the_hand_computed_mean():
    schedule = linear_schedule(200)
    model = TinyEpsNet(200, seed=4)
    x0, eps, t = randn(16, 2, seed=0), randn(16, 2, seed=1), random_steps(16, 1, 200, seed=2)
    abar = per_sample(tables(schedule)["alpha_bar"], t, x0)
    x_t = abar.sqrt() * x0 + (1 - abar).sqrt() * eps
    expected = ((eps - model(x_t, t)) ** 2).mean()
    loss = simple_loss(model, schedule, x0, t, eps)
    assert loss.shape == () and loss.dtype == F64
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(32, 2), (8, 1, 8, 8)])
def test_simple_loss_is_zero_for_the_oracle(shape):
    schedule = cosine_schedule(100)
    x0 = randn(*shape, seed=0)
    abar_table = tables(schedule)["alpha_bar"]

    def oracle(x_t, t):  # recovers the true noise from x_t and the clean x0 it was built from
        abar = per_sample(abar_table, t, x_t)
        return (x_t - abar.sqrt() * x0) / (1 - abar).sqrt()

    assert float(simple_loss(oracle, schedule, x0, generator=gen(1))) < 1e-20
    t, eps = random_steps(shape[0], 1, 100, seed=2), randn(*shape, seed=3)
    assert float(simple_loss(oracle, schedule, x0, t, eps)) < 1e-20
    # and a model that is off by a constant c has loss c^2 exactly
    assert float(simple_loss(lambda x, t: oracle(x, t) + 0.3, schedule, x0, t, eps)) == pytest.approx(0.09, rel=1e-9)


def test_simple_loss_draws_t_and_eps_from_the_generator():
    schedule = linear_schedule(100)
    model = TinyEpsNet(100, seed=1)
    x0 = randn(16, 2, seed=0)
    a = simple_loss(model, schedule, x0, generator=gen(11))
    assert torch.equal(a, simple_loss(model, schedule, x0, generator=gen(11)))
    assert not torch.equal(a, simple_loss(model, schedule, x0, generator=gen(12)))


def test_gradients_flow_to_model_parameters_through_simple_loss():
    schedule = linear_schedule(100)
    model = TinyEpsNet(100, seed=2)
    x0, eps, t = randn(16, 2, seed=0), randn(16, 2, seed=1), random_steps(16, 1, 100, seed=2)
    simple_loss(model, schedule, x0, t, eps).backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    abar = per_sample(tables(schedule)["alpha_bar"], t, x0)
    ((eps - model(abar.sqrt() * x0 + (1 - abar).sqrt() * eps, t)) ** 2).mean().backward()
    for g_loss, p in zip(got, model.parameters()):
        assert g_loss.abs().sum() > 0
        torch.testing.assert_close(g_loss, p.grad, rtol=1e-10, atol=1e-14)


def test_vlb_weight_formula():
    schedule = cosine_schedule(300)
    tab = tables(schedule)
    t = torch.arange(2, 301)
    w = vlb_weight(schedule, t)
    assert w.shape == (299,) and w.dtype == F64
    expected = tab["beta"][t] ** 2 / (2 * tab["post"][t] * tab["alpha"][t] * (1 - tab["alpha_bar"][t]))
    torch.testing.assert_close(w, expected, rtol=1e-10, atol=0)
    assert (w > 0).all()


@pytest.mark.parametrize("name, shape", [("linear1000", (12, 2)), ("cosine1000", (12, 2)), ("linear50", (6, 1, 4, 4)),
                                         ("cosine40_clipped", (12, 3))])
def test_kl_term_is_vlb_weight_times_the_noise_error(name, shape):
    schedule = SCHEDULES[name]()
    T = schedule.T
    x0, eps, eps_pred = randn(*shape, seed=0), randn(*shape, seed=1), randn(*shape, seed=2) * 1.5
    t = random_steps(shape[0], 2, T, seed=3)
    t[:3] = steps([2, 3, T])
    x_t = q_sample(schedule, x0, t, eps)
    kl = kl_term(schedule, x0, x_t, t, eps_pred)
    assert kl.shape == (shape[0],) and kl.dtype == F64
    expected = vlb_weight(schedule, t) * ((eps - eps_pred) ** 2).flatten(1).sum(1)  # identity (6)
    torch.testing.assert_close(kl[t >= 10], expected[t >= 10], rtol=1e-10, atol=1e-10)
    # at the first steps 1 - abar_{t-1} is ~1e-5 (cosine) and kl_term, computed from the two means, loses about
    # 1e-16 / 1e-5 relative precision in each coefficient; the identity then holds to ~1e-9
    torch.testing.assert_close(kl[t < 10], expected[t < 10], rtol=1e-8, atol=1e-10)
    assert (kl > 0).all()
    torch.testing.assert_close(kl_term(schedule, x0, x_t, t, eps), torch.zeros(shape[0], dtype=F64), rtol=0,
                               atol=1e-10)


def test_kl_term_equals_a_kl_between_diagonal_gaussians_from_torch_distributions():
    schedule = linear_schedule(1000)
    # x_t need not be built from x0 here: kl_term is the KL of two Gaussians with the given means
    x0, x_t, eps_pred = randn(10, 3, seed=0), randn(10, 3, seed=1), randn(10, 3, seed=2)
    t = random_steps(10, 2, 1000, seed=3)
    mean_q, var_q = posterior_by_conditioning(schedule, x0, x_t, t)
    mean_p = reverse_mean_reference(schedule, x_t, t, eps_pred)
    std = var_q.sqrt().expand_as(mean_q)
    expected = kl_divergence(Independent(Normal(mean_q, std), 1), Independent(Normal(mean_p, std), 1))
    torch.testing.assert_close(kl_term(schedule, x0, x_t, t, eps_pred), expected, rtol=1e-9, atol=1e-9)


def test_vlb_weight_and_kl_term_refuse_t_1():
    schedule = linear_schedule(50)
    with pytest.raises(ValueError, match=r"t must hold steps in \[2, 50\]"):
        vlb_weight(schedule, steps([3, 1]))
    x = randn(2, 2, seed=0)
    with pytest.raises(ValueError, match=r"t must hold steps in \[2, 50\]"):
        kl_term(schedule, x, x, steps([1, 5]), x)


# ------------------------------------------------------------------------------------------------------------------
# Samplers: single steps
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["linear1000", "cosine1000", "linear50"])
def test_ancestral_mean_is_the_posterior_mean_of_x0_hat(name):
    schedule = SCHEDULES[name]()
    T = schedule.T
    x_t, eps = randn(8, 2, seed=0), randn(8, 2, seed=1)
    t = steps([1, 2, 3, 10, T // 2, T - 1, T, T])
    zero = torch.zeros_like(x_t)
    plain = ancestral_step(schedule, x_t, t, eps, noise=zero)
    wide_clip = ancestral_step(schedule, x_t, t, eps, noise=zero, clip_x0=1e6)
    x0_hat = x0_from_eps(schedule, x_t, t, eps)
    expected, _ = posterior_by_conditioning(schedule, x0_hat, x_t, t)
    torch.testing.assert_close(plain, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(wide_clip, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(plain, reverse_mean_reference(schedule, x_t, t, eps), rtol=0, atol=1e-12)


def test_ancestral_clipping_uses_the_posterior_mean_of_the_clipped_estimate():
    schedule = linear_schedule(100)
    x_t, eps, t = randn(8, 2, seed=0) * 3, randn(8, 2, seed=1), random_steps(8, 2, 100, seed=2)
    x0_hat = x0_from_eps(schedule, x_t, t, eps).clamp(-0.5, 0.5)
    expected, _ = posterior_by_conditioning(schedule, x0_hat, x_t, t)
    got = ancestral_step(schedule, x_t, t, eps, noise=torch.zeros_like(x_t), clip_x0=0.5)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_ancestral_step_adds_no_noise_at_t_1():
    schedule = linear_schedule(50)
    x_t, eps = randn(4, 2, seed=0), randn(4, 2, seed=1)
    t = steps([1, 1, 5, 5])
    quiet = ancestral_step(schedule, x_t, t, eps, noise=torch.zeros_like(x_t))
    for variance in ("posterior", "beta"):
        loud = ancestral_step(schedule, x_t, t, eps, noise=torch.full_like(x_t, 7.0), variance=variance)
        assert torch.equal(loud[:2], quiet[:2])
        assert ((loud[2:] - quiet[2:]).abs() > 1e-3).all()
    # a generator-drawn noise is ignored at t = 1 as well
    assert torch.equal(ancestral_step(schedule, x_t[:2], t[:2], eps[:2], generator=gen(3)), quiet[:2])


@pytest.mark.parametrize("variance, table", [("posterior", "post"), ("beta", "beta")])
def test_ancestral_step_noise_scale_follows_the_variance_choice(variance, table):
    schedule = cosine_schedule(100)
    t = steps([2, 3, 20, 50, 99, 100])
    zero = torch.zeros(6, 2, dtype=F64)
    noise = torch.ones(6, 2, dtype=F64)
    out = ancestral_step(schedule, zero, t, zero, noise=noise, variance=variance)  # mean 0, so out = sigma_t z
    expected = tables(schedule)[table][t].sqrt()[:, None].expand(6, 2)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["linear1000", "cosine1000", "cosine40_clipped"])
def test_ddim_with_eta_one_and_s_t_minus_1_is_the_ancestral_step(name):
    schedule = SCHEDULES[name]()
    T = schedule.T
    x_t, eps, noise = randn(10, 2, seed=0), randn(10, 2, seed=1), randn(10, 2, seed=2)
    t = random_steps(10, 1, T, seed=3)
    t[:3] = steps([1, 2, T])
    ddim = ddim_step(schedule, x_t, t, t - 1, eps, eta=1.0, noise=noise)
    ancestral = ancestral_step(schedule, x_t, t, eps, noise=noise, variance="posterior")
    torch.testing.assert_close(ddim, ancestral, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["linear1000", "cosine1000"])
def test_ddim_with_eta_zero_and_the_true_noise_moves_along_the_forward_path(name):
    schedule = SCHEDULES[name]()
    T = schedule.T
    x0, eps = randn(12, 2, seed=0), randn(12, 2, seed=1)
    t = random_steps(12, 1, T, seed=2)
    t[:3] = steps([T, T, 1])
    s = (torch.rand(12, generator=gen(3), dtype=F64) * t).floor().long()  # uniform in 0..t-1
    s[:3] = steps([0, T - 1, 0])
    x_t = q_sample(schedule, x0, t, eps)
    abar_s = per_sample(tables(schedule)["alpha_bar"], s, x0)
    expected = abar_s.sqrt() * x0 + (1 - abar_s).sqrt() * eps
    torch.testing.assert_close(ddim_step(schedule, x_t, t, s, eps, eta=0.0), expected, rtol=0, atol=1e-12)
    # s = 0 lands on x0 itself
    torch.testing.assert_close(ddim_step(schedule, x_t, t, torch.zeros_like(t), eps), x0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
def test_ddim_noise_scale_is_sigma_of_eta(eta):
    schedule = linear_schedule(200)
    t, s = steps([2, 10, 100, 200, 200, 150]), steps([1, 3, 40, 0, 199, 1])
    zero, noise = torch.zeros(6, 2, dtype=F64), torch.ones(6, 2, dtype=F64)
    out = ddim_step(schedule, zero, t, s, zero, eta=eta, noise=noise)  # x0_hat = 0, eps = 0, so out = sigma z
    abar = tables(schedule)["alpha_bar"]
    sigma = eta * ((1 - abar[s]) / (1 - abar[t]) * (1 - abar[t] / abar[s])).sqrt()
    torch.testing.assert_close(out, sigma[:, None].expand(6, 2), rtol=1e-12, atol=1e-300)
    # a stochastic DDIM step keeps the forward marginal when the noise prediction is exact: the two
    # independent noises have variances (1 - abar_s - sigma^2) and sigma^2, which sum to 1 - abar_s
    assert (sigma**2 <= 1 - abar[s] + 1e-15).all()


# ------------------------------------------------------------------------------------------------------------------
# Samplers: whole chains
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("T, num_steps", [(1000, 1), (1000, 3), (1000, 7), (1000, 50), (1000, 999), (1000, 1000),
                                          (50, 50), (50, 49), (37, 5)])
def test_timesteps_are_strictly_decreasing_from_T_to_0(T, num_steps):
    schedule = linear_schedule(T)
    tau = timesteps(schedule, num_steps)
    assert tau.dtype == torch.int64 and tau.shape == (num_steps + 1,)
    assert int(tau[0]) == T and int(tau[-1]) == 0
    assert (tau[:-1] > tau[1:]).all()
    gaps = tau[:-1] - tau[1:]
    assert int(gaps.max()) <= math.ceil(T / num_steps) + 1 and int(gaps.min()) >= math.floor(T / num_steps) - 1
    if num_steps == T:
        assert torch.equal(tau, torch.arange(T, -1, -1))


def test_timesteps_refuses_more_steps_than_T():
    with pytest.raises(ValueError, match="num_steps must be at most T = 50"):
        timesteps(linear_schedule(50), 51)
    with pytest.raises(ValueError, match="num_steps"):
        timesteps(linear_schedule(50), 0)


def test_ddim_sample_with_eta_zero_is_bitwise_deterministic():
    schedule = linear_schedule(100)
    model = TinyEpsNet(100, seed=0)
    x_T = randn(32, 2, seed=1)
    x_T_copy = x_T.clone()
    a = ddim_sample(model, schedule, x_T, num_steps=20, eta=0.0, generator=gen(1))
    b = ddim_sample(model, schedule, x_T, num_steps=20, eta=0.0, generator=gen(2))
    assert torch.equal(a, b)
    assert torch.equal(x_T, x_T_copy)  # the start is not modified in place
    assert not torch.allclose(a, x_T)


@pytest.mark.parametrize("num_steps", [None, 10])
def test_ddpm_sample_is_reproducible_with_a_seed(num_steps):
    schedule = linear_schedule(50)
    model = TinyEpsNet(50, seed=0)
    x_T = randn(16, 2, seed=1)
    a = ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(5))
    assert torch.equal(a, ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(5)))
    assert not torch.allclose(a, ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(6)))
    c = ddim_sample(model, schedule, x_T, num_steps=10, eta=0.5, generator=gen(5))
    assert torch.equal(c, ddim_sample(model, schedule, x_T, num_steps=10, eta=0.5, generator=gen(5)))
    assert not torch.allclose(c, ddim_sample(model, schedule, x_T, num_steps=10, eta=0.5, generator=gen(6)))


@pytest.mark.parametrize("num_steps", [50, 7])
def test_ddpm_sample_is_ddim_with_eta_one(num_steps):
    # over every step, algorithm 2 with the posterior variance is DDIM with eta = 1; on a subsequence,
    # ddpm_sample is defined as DDIM with eta = 1. Both draw one N(0, I) per step from the generator.
    schedule = cosine_schedule(50)
    model = TinyEpsNet(50, seed=3)
    x_T = randn(16, 2, seed=1)
    ddpm = ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(9))
    ddim = ddim_sample(model, schedule, x_T, num_steps=num_steps, eta=1.0, generator=gen(9))
    torch.testing.assert_close(ddpm, ddim, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("sampler, num_steps, expected_calls", [
    ("ddpm", None, 50), ("ddpm", 50, 50), ("ddpm", 8, 8), ("ddim", 1, 1), ("ddim", 13, 13), ("ddim", 50, 50),
])
def test_eps_model_is_called_once_per_step(sampler, num_steps, expected_calls):
    schedule = linear_schedule(50)
    model = Recorder(TinyEpsNet(50, seed=0))
    x_T = randn(5, 2, seed=1)
    if sampler == "ddpm":
        ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(0))
    else:
        ddim_sample(model, schedule, x_T, num_steps=num_steps)
    assert len(model.calls) == expected_calls
    tau = timesteps(schedule, expected_calls)
    for (t, _), expected_t in zip(model.calls, tau[:-1].tolist()):
        assert t.dtype == torch.int64 and t.shape == (5,)
        assert (t == expected_t).all()


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_return_path_visits_every_step(sampler):
    schedule = linear_schedule(50)
    model = TinyEpsNet(50, seed=0)
    x_T = randn(6, 2, seed=1)
    num_steps = 9
    if sampler == "ddpm":
        x, path = ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(2), return_path=True)
        plain = ddpm_sample(model, schedule, x_T, num_steps=num_steps, generator=gen(2))
    else:
        x, path = ddim_sample(model, schedule, x_T, num_steps=num_steps, return_path=True)
        plain = ddim_sample(model, schedule, x_T, num_steps=num_steps)
    assert len(path) == num_steps + 1
    assert [t for t, _ in path] == timesteps(schedule, num_steps).tolist()
    assert path[0][0] == 50 and path[-1][0] == 0
    assert torch.equal(path[0][1], x_T) and torch.equal(path[-1][1], x)
    assert torch.equal(x, plain)
    assert all(p.shape == x_T.shape for _, p in path)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_a_model_returning_nan_raises_floating_point_error_naming_the_step(sampler):
    schedule = linear_schedule(50)
    x_T = randn(4, 2, seed=0)

    def nan_model(x, t):
        return torch.full_like(x, math.nan)

    def late_inf_model(x, t):  # fine until step 10, then infinite
        return torch.full_like(x, math.inf) if int(t[0]) == 10 else torch.zeros_like(x)

    run = ((lambda m: ddpm_sample(m, schedule, x_T, generator=gen(0))) if sampler == "ddpm"
           else (lambda m: ddim_sample(m, schedule, x_T, num_steps=50)))
    with pytest.raises(FloatingPointError, match="step t = 50"):
        run(nan_model)
    with pytest.raises(FloatingPointError, match="step t = 10"):
        run(late_inf_model)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_labels_are_passed_through_to_the_model(sampler):
    schedule = linear_schedule(50)
    y = torch.tensor([0, 3, 1, 2])
    seen = []

    def conditional_model(x, t, labels):
        seen.append(labels)
        return torch.zeros_like(x) + labels[:, None].to(x.dtype) * 0.01

    x_T = randn(4, 2, seed=0)
    if sampler == "ddpm":
        out = ddpm_sample(conditional_model, schedule, x_T, num_steps=6, y=y, generator=gen(0))
    else:
        out = ddim_sample(conditional_model, schedule, x_T, num_steps=6, y=y)
    assert len(seen) == 6 and all(labels is y for labels in seen)
    assert torch.isfinite(out).all()
    # and simple_loss passes them too
    seen.clear()
    simple_loss(conditional_model, schedule, x_T, y=y, generator=gen(1))
    assert len(seen) == 1 and seen[0] is y


# ------------------------------------------------------------------------------------------------------------------
# Gaussian data: closed forms
# ------------------------------------------------------------------------------------------------------------------
def marginal_reference(data: GaussianData, schedule: NoiseSchedule, t: int) -> tuple[torch.Tensor, torch.Tensor]:
    abar = float(tables(schedule)["alpha_bar"][t])
    return math.sqrt(abar) * data.mean, abar * data.cov + (1 - abar) * torch.eye(data.dim, dtype=F64)


@pytest.mark.parametrize("t", [1, 10, 300, 1000])
def test_optimal_eps_is_the_scaled_score_and_the_posterior_mean_of_the_noise(t):
    data = gaussian_data_3d()
    schedule = linear_schedule(1000)
    eps_star = data.optimal_eps(schedule)
    mean_t, cov_t = marginal_reference(data, schedule, t)
    x_t = (mean_t + randn(6, 3, seed=t) * 2).requires_grad_(True)
    (grad,) = torch.autograd.grad(data.log_prob_t(schedule, x_t, t).sum(), x_t)
    abar = float(tables(schedule)["alpha_bar"][t])
    got = eps_star(x_t.detach(), full_steps(6, t))
    assert got.shape == (6, 3) and got.dtype == F64
    torch.testing.assert_close(got, -math.sqrt(1 - abar) * grad, rtol=1e-10, atol=1e-10)
    solved = torch.linalg.solve(cov_t, (x_t.detach() - mean_t).T).T * math.sqrt(1 - abar)
    torch.testing.assert_close(got, solved, rtol=1e-10, atol=1e-10)


def test_log_prob_t_matches_scipy():
    data = gaussian_data_3d()
    schedule = cosine_schedule(100)
    for t in (0, 1, 50, 100):
        mean_t, cov_t = marginal_reference(data, schedule, t)
        x_t = randn(5, 3, seed=t) + mean_t
        expected = torch.from_numpy(multivariate_normal(mean_t.numpy(), cov_t.numpy()).logpdf(x_t.numpy()))
        torch.testing.assert_close(data.log_prob_t(schedule, x_t, t), expected, rtol=1e-10, atol=1e-10)


def test_optimal_eps_minimises_the_simple_loss():
    data = gaussian_data_2d()
    schedule = linear_schedule(1000)
    t_step, n = 300, 20_000
    eps_star = data.optimal_eps(schedule)
    x0 = data.sample(n, generator=gen(0))
    eps = torch.randn(n, 2, generator=gen(1), dtype=F64)
    t = full_steps(n, t_step)
    x_t = q_sample(schedule, x0, t, eps)
    star_sq = ((eps - eps_star(x_t, t)) ** 2).mean(1)  # per-sample squared error, averaged over dims
    loss_star = simple_loss(eps_star, schedule, x0, t, eps)
    torch.testing.assert_close(loss_star, star_sq.mean(), rtol=1e-12, atol=0)
    # closed form: E|eps - E[eps | x_t]|^2 / d = tr(Cov(eps | x_t)) / d, and
    # Cov(eps | x_t) = I - Cov(eps, x_t) Sigma_t^{-1} Cov(x_t, eps) = I - (1 - abar) Sigma_t^{-1}
    _, cov_t = marginal_reference(data, schedule, t_step)
    abar = float(tables(schedule)["alpha_bar"][t_step])
    closed = float(torch.trace(torch.eye(2, dtype=F64) - (1 - abar) * torch.linalg.inv(cov_t))) / 2
    se = float(star_sq.std()) / math.sqrt(n)
    assert abs(float(loss_star) - closed) <= N_SE * se
    # perturbed predictors do worse, by more than the Monte Carlo error of the difference
    for perturbed in (lambda x, s: 1.1 * eps_star(x, s), lambda x, s: 0.9 * eps_star(x, s),
                      lambda x, s: eps_star(x, s) + 0.1, lambda x, s: eps_star(x, s) @ torch.tensor(
                          [[1.0, 0.1], [-0.1, 1.0]], dtype=F64)):
        diff = ((eps - perturbed(x_t, t)) ** 2).mean(1) - star_sq
        assert float(simple_loss(perturbed, schedule, x0, t, eps)) > float(loss_star)
        assert float(diff.mean()) > N_SE * float(diff.std()) / math.sqrt(n)


@pytest.mark.parametrize("t", [0, 50, 500, 1000])
def test_marginal_matches_monte_carlo_of_q_sample(t):
    data = gaussian_data_2d()
    schedule = linear_schedule(1000)
    mean, cov = data.marginal(schedule, t)
    ref_mean, ref_cov = marginal_reference(data, schedule, t)
    torch.testing.assert_close(mean, ref_mean, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(cov, ref_cov, rtol=1e-12, atol=1e-14)
    n = 20_000
    x_t = q_sample(schedule, data.sample(n, generator=gen(t)), full_steps(n, t), generator=gen(t + 1))
    assert_moments_match(x_t, mean, cov, f"t={t}")


def test_gaussian_data_sample_is_seeded_float64_with_the_right_moments():
    data = gaussian_data_3d()
    x = data.sample(20_000, generator=gen(0))
    assert x.shape == (20_000, 3) and x.dtype == F64
    assert torch.equal(x[:5], data.sample(20_000, generator=gen(0))[:5])
    assert_moments_match(x, data.mean, data.cov)


def test_affine_pushforward_is_exact_for_an_affine_map():
    a, b = randn(3, 3, seed=0), randn(3, seed=1)
    mean, cov = affine_pushforward(lambda x: x @ a.T + b, 3)
    torch.testing.assert_close(mean, b, rtol=0, atol=1e-12)
    torch.testing.assert_close(cov, a @ a.T, rtol=0, atol=1e-12)
    assert mean.dtype == F64 and cov.dtype == F64


@pytest.mark.parametrize("fn", [torch.tanh, lambda x: x + 1e-3 * x**2, lambda x: x.abs()],
                         ids=["tanh", "slightly_quadratic", "abs"])
def test_affine_pushforward_refuses_a_non_affine_map(fn):
    with pytest.raises(ValueError, match="fn is not affine"):
        affine_pushforward(fn, 2)


def test_ddim_with_the_exact_predictor_converges_to_the_data():
    data = gaussian_data_2d()
    schedule = linear_schedule(1000)
    eps_star = data.optimal_eps(schedule)
    distances = []
    for num_steps in (10, 50, 1000):
        mean, cov = affine_pushforward(lambda x: ddim_sample(eps_star, schedule, x, num_steps=num_steps), 2)
        distances.append(data.frechet_to(mean, cov))
    assert distances[0] > distances[1] > distances[2]
    assert distances[2] < 1e-3
    assert distances[0] > 1e-3  # 10 steps is visibly off: the check above is not vacuous


def test_affine_pushforward_of_ddim_agrees_with_monte_carlo():
    data = gaussian_data_2d()
    schedule = linear_schedule(1000)
    eps_star = data.optimal_eps(schedule)
    mean, cov = affine_pushforward(lambda x: ddim_sample(eps_star, schedule, x, num_steps=10), 2)
    x = ddim_sample(eps_star, schedule, randn(20_000, 2, seed=0), num_steps=10)
    assert_moments_match(x, mean, cov, "ddim 10 steps")


def exact_ancestral_moments(data: GaussianData, schedule: NoiseSchedule, variance: str):
    """Mean and covariance of algorithm 2's output with the exact predictor, x_T ~ N(0, I), propagated in closed
    form: each step is x -> M_t x + c_t + sigma_t z with M_t = (I - beta_t Sigma_t^{-1}) / sqrt(alpha_t)."""
    tab = tables(schedule)
    d = data.dim
    eye = torch.eye(d, dtype=F64)
    mean, cov = torch.zeros(d, dtype=F64), eye.clone()
    for t in range(schedule.T, 0, -1):
        abar, alpha, beta = tab["alpha_bar"][t], tab["alpha"][t], tab["beta"][t]
        sigma_inv = torch.linalg.inv(abar * data.cov + (1 - abar) * eye)
        m = (eye - beta * sigma_inv) / alpha.sqrt()
        c = beta * sigma_inv @ (abar.sqrt() * data.mean) / alpha.sqrt()
        var = 0.0 if t == 1 else float(tab["post"][t] if variance == "posterior" else tab["beta"][t])
        mean, cov = m @ mean + c, m @ cov @ m.T + var * eye
    return mean, cov


@pytest.mark.parametrize("variance", ["beta", "posterior"])
def test_ancestral_sampling_with_the_exact_predictor(variance):
    data = gaussian_data_2d()
    schedule = linear_schedule(200)
    x = ddpm_sample(data.optimal_eps(schedule), schedule, randn(20_000, 2, seed=0), variance=variance,
                    generator=gen(1))
    # the sampler's output distribution, derived here step by step
    exact_mean, exact_cov = exact_ancestral_moments(data, schedule, variance)
    assert_moments_match(x, exact_mean, exact_cov, f"exact chain, {variance}")
    if variance == "beta":
        # with sigma_t^2 = beta_t the discretisation bias at T = 200 is far below the Monte Carlo error
        assert_moments_match(x, data.mean, data.cov, "data")
    else:
        # with the lower-bound variance beta_tilde_t the covariance shrinks by O(1/T): the exact chain is
        # close to the data and closer for T = 1000
        bias_200 = (exact_cov - data.cov).abs().max()
        bias_1000 = (exact_ancestral_moments(data, linear_schedule(1000), variance)[1] - data.cov).abs().max()
        assert bias_1000 < bias_200 / 3 and bias_200 < 0.06
        est_mean, se_mean, _, _ = moments_with_se(x)
        assert ((est_mean - data.mean).abs() <= N_SE * se_mean).all()


# ------------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------------
def _calls_taking_a_schedule():
    x, t = torch.zeros(3, 2, dtype=F64), steps([1, 2, 3])
    data = gaussian_data_2d()

    def model(a, b):
        return torch.zeros_like(a)

    return {
        "q_step": lambda s: q_step(s, x, t),
        "q_sample": lambda s: q_sample(s, x, t),
        "q_mean_variance": lambda s: q_mean_variance(s, x, t),
        "q_posterior": lambda s: q_posterior(s, x, x, t),
        "x0_from_eps": lambda s: x0_from_eps(s, x, t, x),
        "eps_from_x0": lambda s: eps_from_x0(s, x, t, x),
        "score_from_eps": lambda s: score_from_eps(s, x, t, x),
        "eps_from_score": lambda s: eps_from_score(s, x, t, x),
        "simple_loss": lambda s: simple_loss(model, s, x, t),
        "vlb_weight": lambda s: vlb_weight(s, steps([2])),
        "kl_term": lambda s: kl_term(s, x, x, steps([2, 2, 3]), x),
        "timesteps": lambda s: timesteps(s, 5),
        "ancestral_step": lambda s: ancestral_step(s, x, t, x),
        "ddim_step": lambda s: ddim_step(s, x, t, t - 1, x),
        "ddpm_sample": lambda s: ddpm_sample(model, s, x),
        "ddim_sample": lambda s: ddim_sample(model, s, x),
        "marginal": lambda s: data.marginal(s, 1),
        "log_prob_t": lambda s: data.log_prob_t(s, x, 1),
        "optimal_eps": lambda s: data.optimal_eps(s),
    }


@pytest.mark.parametrize("call", list(_calls_taking_a_schedule()))
@pytest.mark.parametrize("bad", [None, "linear", torch.linspace(0.01, 0.02, 10)], ids=["None", "str", "tensor"])
def test_every_function_refuses_a_non_schedule(call, bad):
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule"):
        _calls_taking_a_schedule()[call](bad)


def _calls_taking_t():
    """name -> (fn(t), lowest step allowed)."""
    schedule = linear_schedule(50)
    x = randn(4, 2, seed=0)
    eps_star = gaussian_data_2d().optimal_eps(schedule)

    def model(a, b):
        return torch.zeros_like(a)

    return {
        "q_step": (lambda t: q_step(schedule, x, t), 1),
        "q_sample": (lambda t: q_sample(schedule, x, t), 0),
        "q_mean_variance": (lambda t: q_mean_variance(schedule, x, t), 0),
        "q_posterior": (lambda t: q_posterior(schedule, x, x, t), 1),
        "x0_from_eps": (lambda t: x0_from_eps(schedule, x, t, x), 0),
        "eps_from_x0": (lambda t: eps_from_x0(schedule, x, t, x), 1),
        "score_from_eps": (lambda t: score_from_eps(schedule, x, t, x), 1),
        "eps_from_score": (lambda t: eps_from_score(schedule, x, t, x), 1),
        "simple_loss": (lambda t: simple_loss(model, schedule, x, t), 1),
        "kl_term": (lambda t: kl_term(schedule, x, x, t, x), 2),
        "ancestral_step": (lambda t: ancestral_step(schedule, x, t, x), 1),
        "ddim_step_t": (lambda t: ddim_step(schedule, x, t, torch.zeros(4, dtype=torch.int64), x), 1),
        "optimal_eps": (lambda t: eps_star(x, t), 1),
    }


@pytest.mark.parametrize("call", list(_calls_taking_t()))
def test_bad_steps_are_refused_naming_t(call):
    fn, low = _calls_taking_t()[call]
    with pytest.raises(TypeError, match="t must have dtype torch.int64"):
        fn(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(TypeError, match="t must have dtype torch.int64"):
        fn(torch.tensor([2, 2, 3, 4], dtype=torch.int32))
    with pytest.raises(TypeError, match="t must be a torch.Tensor"):
        fn([2, 2, 3, 4])
    with pytest.raises(ValueError, match="t must have shape"):
        fn(torch.full((4, 1), 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"t must have shape \(4,\)"):
        fn(steps([2, 3, 4]))
    with pytest.raises(ValueError, match=r"t must hold steps in \[\d, 50\]"):
        fn(steps([2, 3, 51, 4]))
    with pytest.raises(ValueError, match=rf"t must hold steps in \[{low}, 50\]"):
        fn(steps([2, 3, low - 1, 4]))


def test_other_step_arguments_are_refused_naming_them():
    schedule = linear_schedule(50)
    x = randn(4, 2, seed=0)
    with pytest.raises(ValueError, match=r"t must have shape \(4,\)"):
        extract(schedule.betas, steps([1, 2]), x)
    with pytest.raises(TypeError, match="t must have dtype torch.int64"):
        extract(schedule.betas, torch.ones(4), x)
    with pytest.raises(ValueError, match=r"t must hold steps in \[0, 50\]"):
        gaussian_data_2d().marginal(schedule, 51)
    with pytest.raises(ValueError, match=r"t must hold steps in \[0, 50\]"):
        gaussian_data_2d().log_prob_t(schedule, x, -1)
    with pytest.raises(TypeError, match="t must have dtype torch.int64"):
        gaussian_data_2d().marginal(schedule, 1.5)
    with pytest.raises(ValueError, match=r"s must hold steps in \[0, 50\]"):
        ddim_step(schedule, x, steps([2, 2, 2, 2]), steps([1, 1, -1, 1]), x)
    with pytest.raises(ValueError, match=r"s must have shape \(4,\)"):
        ddim_step(schedule, x, steps([2, 2, 2, 2]), steps([1, 1]), x)


@pytest.mark.parametrize("s", [[1, 3, 3, 4], [1, 2, 5, 3]], ids=["equal", "later"])
def test_ddim_step_refuses_s_not_before_t(s):
    schedule = linear_schedule(50)
    x = randn(4, 2, seed=0)
    with pytest.raises(ValueError, match=r"s must be an earlier step than t"):
        ddim_step(schedule, x, steps([2, 3, 4, 5]), steps(s), x)


def test_mismatched_shapes_are_refused_naming_the_argument():
    schedule = linear_schedule(50)
    x, t, small = randn(4, 2, seed=0), steps([2, 3, 4, 5]), randn(4, 3, seed=1)
    image = randn(4, 1, 8, 8, seed=2)

    def model(a, b):
        return torch.zeros_like(a)

    cases = [
        ("eps", lambda: q_step(schedule, x, t, small)),
        ("eps", lambda: q_sample(schedule, x, t, small)),
        ("eps", lambda: q_sample(schedule, image, t, image.flatten(1))),
        ("eps", lambda: x0_from_eps(schedule, x, t, small)),
        ("eps", lambda: score_from_eps(schedule, x, t, small)),
        ("eps", lambda: simple_loss(model, schedule, x, t, small)),
        ("eps", lambda: ancestral_step(schedule, x, t, small)),
        ("eps", lambda: ddim_step(schedule, x, t, t - 1, small)),
        ("x0", lambda: eps_from_x0(schedule, x, t, small)),
        ("score", lambda: eps_from_score(schedule, x, t, small)),
        ("x_t", lambda: q_posterior(schedule, x, small, t)),
        ("eps_pred", lambda: kl_term(schedule, x, x, t, small)),
        ("noise", lambda: ancestral_step(schedule, x, t, x, noise=small)),
        ("noise", lambda: ddim_step(schedule, x, t, t - 1, x, eta=0.5, noise=small)),
    ]
    for name, fn in cases:
        with pytest.raises(ValueError, match=rf"^{name} must have the same shape as"):
            fn()


def _calls_with_a_list_argument():
    """id -> (argument name, fn(schedule, x, t, as_list))."""
    return {
        "q_sample": ("eps", lambda sch, x, t, a: q_sample(sch, x, t, a)),
        "q_step": ("eps", lambda sch, x, t, a: q_step(sch, x, t, a)),
        "ancestral_step": ("eps", lambda sch, x, t, a: ancestral_step(sch, x, t, a)),
        "ddim_step": ("eps", lambda sch, x, t, a: ddim_step(sch, x, t, t - 1, a)),
        "kl_term": ("eps_pred", lambda sch, x, t, a: kl_term(sch, x, x, t, a)),
        "ancestral_step_noise": ("noise", lambda sch, x, t, a: ancestral_step(sch, x, t, x, noise=a)),
        "q_posterior": ("x_t", lambda sch, x, t, a: q_posterior(sch, x, a, t)),
        "x0_from_eps": ("eps", lambda sch, x, t, a: x0_from_eps(sch, x, t, a)),
        "eps_from_x0": ("x0", lambda sch, x, t, a: eps_from_x0(sch, x, t, a)),
        "score_from_eps": ("eps", lambda sch, x, t, a: score_from_eps(sch, x, t, a)),
        "eps_from_score": ("score", lambda sch, x, t, a: eps_from_score(sch, x, t, a)),
    }


@pytest.mark.parametrize("call", list(_calls_with_a_list_argument()))
def test_a_non_tensor_argument_is_refused_naming_it(call):
    name, fn = _calls_with_a_list_argument()[call]
    x, t = randn(4, 2, seed=0), steps([2, 3, 4, 5])
    with pytest.raises(TypeError, match=rf"^{name} must be a torch.Tensor"):
        fn(linear_schedule(50), x, t, x.tolist())


def test_data_arguments_are_refused_naming_them():
    schedule = linear_schedule(50)
    t = steps([2, 3])
    with pytest.raises(TypeError, match="x0 must be a torch.Tensor"):
        q_sample(schedule, [[0.0, 1.0], [1.0, 2.0]], t)
    with pytest.raises(ValueError, match="x0 must have at least 2 dimensions"):
        q_sample(schedule, torch.zeros(2), t)
    with pytest.raises(TypeError, match="x0 must have a floating-point dtype"):
        q_sample(schedule, torch.zeros(2, 2, dtype=torch.int64), t)
    with pytest.raises(TypeError, match="x_prev must be a torch.Tensor"):
        q_step(schedule, None, t)
    with pytest.raises(TypeError, match="x_T must be a torch.Tensor"):
        ddim_sample(lambda a, b: a, schedule, [[0.0, 0.0]])
    with pytest.raises(ValueError, match="x_T must have at least 2 dimensions"):
        ddpm_sample(lambda a, b: a, schedule, torch.zeros(3))
    with pytest.raises(ValueError, match=r"x_t must have shape \(\*, 2\)"):
        gaussian_data_2d().optimal_eps(schedule)(torch.zeros(2, 3, dtype=F64), t)


@pytest.mark.parametrize("eta", [-0.1, 1.01, math.nan, math.inf, True, "0.5", None])
def test_eta_outside_0_1_is_refused(eta):
    schedule = linear_schedule(50)
    x, t = randn(2, 2, seed=0), steps([5, 6])
    with pytest.raises(ValueError, match="eta must be a number in"):
        ddim_step(schedule, x, t, t - 1, x, eta=eta)
    with pytest.raises(ValueError, match="eta must be a number in"):
        ddim_sample(lambda a, b: torch.zeros_like(a), schedule, x, num_steps=5, eta=eta)


@pytest.mark.parametrize("betas, match", [
    (torch.tensor([0.1, 0.0], dtype=F64), r"open interval \(0, 1\)"),
    (torch.tensor([0.1, 1.0], dtype=F64), r"open interval \(0, 1\)"),
    (torch.tensor([-0.1, 0.2], dtype=F64), r"open interval \(0, 1\)"),
    (torch.tensor([0.1, 1.5]), r"open interval \(0, 1\)"),
    (torch.tensor([0.1, math.nan], dtype=F64), r"open interval \(0, 1\)"),
    (torch.tensor([0.1, math.inf], dtype=F64), r"open interval \(0, 1\)"),
    (torch.zeros(0, dtype=F64), "betas must hold at least one step"),
    (torch.full((2, 3), 0.1), "betas must have shape"),
], ids=["zero", "one", "negative", "above_one", "nan", "inf", "empty", "2d"])
def test_noise_schedule_refuses_betas_outside_0_1(betas, match):
    with pytest.raises(ValueError, match=match):
        NoiseSchedule(betas)


def test_noise_schedule_refuses_non_float_betas():
    with pytest.raises(TypeError, match="betas must have a floating-point dtype"):
        NoiseSchedule(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="betas must be a torch.Tensor"):
        NoiseSchedule([0.1, 0.2])


def test_schedule_constructors_refuse_bad_arguments():
    with pytest.raises(ValueError, match="T must be a positive integer"):
        linear_schedule(0)
    with pytest.raises(TypeError, match="T must be a positive integer"):
        linear_schedule(10.0)
    with pytest.raises(ValueError, match="T=10 is too small for the default linear schedule"):
        linear_schedule(10)  # the 1000 / T scaling would give beta_end = 2, though no beta was passed
    with pytest.raises(ValueError, match="beta_end must be a positive finite number"):
        linear_schedule(100, beta_end=-0.1)
    with pytest.raises(ValueError, match="max_beta must be below 1"):
        cosine_schedule(100, max_beta=1.0)
    with pytest.raises(ValueError, match="s must be a positive finite number"):
        cosine_schedule(100, s=0.0)
    with pytest.raises(TypeError, match="T must be a positive integer"):
        cosine_schedule(True)
    with pytest.raises(ValueError, match="batch must be a positive integer"):
        linear_schedule(50).sample_t(0)


@pytest.mark.parametrize("cov, match", [
    ([[1.0, 0.0], [0.0, 0.0]], "cov must be positive definite"),
    ([[1.0, 2.0], [2.0, 1.0]], "cov must be positive definite"),
    ([[-1.0, 0.0], [0.0, 1.0]], "cov must be positive definite"),
    ([[1.0, 0.5], [0.0, 1.0]], "cov must be symmetric"),
    ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], r"cov must have shape \(2, 2\)"),
])
def test_gaussian_data_refuses_a_bad_covariance(cov, match):
    with pytest.raises(ValueError, match=match):
        GaussianData(torch.zeros(2, dtype=F64), torch.tensor(cov, dtype=F64))


def test_gaussian_data_refuses_a_bad_mean():
    with pytest.raises(ValueError, match="mean must have shape"):
        GaussianData(torch.zeros(1, 2, dtype=F64), torch.eye(2, dtype=F64))
    with pytest.raises(TypeError, match="mean must have a floating-point dtype"):
        GaussianData(torch.zeros(2, dtype=torch.int64), torch.eye(2, dtype=F64))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        gaussian_data_2d().sample(0)


def test_sampler_options_are_refused_naming_them():
    schedule = linear_schedule(50)
    x, t = randn(2, 2, seed=0), steps([5, 6])

    def model(a, b):
        return torch.zeros_like(a)

    with pytest.raises(ValueError, match="variance must be one of"):
        ancestral_step(schedule, x, t, x, variance="large")
    with pytest.raises(ValueError, match="variance must be one of"):
        ddpm_sample(model, schedule, x, variance="fixed")
    with pytest.raises(ValueError, match="variance='posterior'"):
        ddpm_sample(model, schedule, x, num_steps=10, variance="beta")
    with pytest.raises(ValueError, match="clip_x0 must be a positive finite number"):
        ancestral_step(schedule, x, t, x, clip_x0=-1.0)
    with pytest.raises(ValueError, match="clip_x0 must be a positive finite number"):
        ddim_step(schedule, x, t, t - 1, x, clip_x0=0.0)
    with pytest.raises(ValueError, match="num_steps must be at most T"):
        ddim_sample(model, schedule, x, num_steps=51)
    with pytest.raises(TypeError, match="num_steps must be a positive integer"):
        ddpm_sample(model, schedule, x, num_steps=2.5)
    with pytest.raises(TypeError, match="eps_model must be callable"):
        ddim_sample("net", schedule, x, num_steps=5)
    with pytest.raises(ValueError, match=r"eps_model\(x_t, t\) must return a tensor shaped like x_t"):
        ddim_sample(lambda a, b: a[:, :1], schedule, x, num_steps=5)
    with pytest.raises(ValueError, match=r"eps_model\(x_t, t\) must return a tensor shaped like x_t"):
        simple_loss(lambda a, b: a.tolist(), schedule, x)
    with pytest.raises(TypeError, match="fn must be callable"):
        affine_pushforward(None, 2)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        affine_pushforward(lambda a: a, 0)
    with pytest.raises(ValueError, match=r"fn\(x\) must have shape"):
        affine_pushforward(lambda a: a[:, :1], 2)


# ------------------------------------------------------------------------------------------------------------------
# Device and dtype follow the data
# ------------------------------------------------------------------------------------------------------------------
def test_float32_data_gives_float32_outputs_close_to_float64():
    schedule = linear_schedule(100)
    x64, eps64 = randn(6, 2, seed=0), randn(6, 2, seed=1)
    x, eps = x64.float(), eps64.float()
    t = steps([1, 2, 10, 50, 99, 100])
    t2 = steps([2, 2, 10, 50, 99, 100])
    model64 = TinyEpsNet(100, seed=0)
    model32 = copy.deepcopy(model64).float()
    eps_star = gaussian_data_2d().optimal_eps(schedule)
    data = gaussian_data_2d()
    outputs = {
        "q_step": lambda a, e, m: q_step(schedule, a, t, e),
        "q_step_generated": lambda a, e, m: q_step(schedule, a, t, generator=gen(0)),
        "q_sample": lambda a, e, m: q_sample(schedule, a, t, e),
        "q_sample_generated": lambda a, e, m: q_sample(schedule, a, t, generator=gen(0)),
        "q_mean": lambda a, e, m: q_mean_variance(schedule, a, t)[0],
        "q_var": lambda a, e, m: q_mean_variance(schedule, a, t)[1],
        "posterior_mean": lambda a, e, m: q_posterior(schedule, a, e, t)[0],
        "posterior_var": lambda a, e, m: q_posterior(schedule, a, e, t)[1],
        "x0_from_eps": lambda a, e, m: x0_from_eps(schedule, a, t, e),
        "eps_from_x0": lambda a, e, m: eps_from_x0(schedule, a, t, e),
        "score_from_eps": lambda a, e, m: score_from_eps(schedule, a, t, e),
        "eps_from_score": lambda a, e, m: eps_from_score(schedule, a, t, e),
        "simple_loss": lambda a, e, m: simple_loss(m, schedule, a, t, e),
        "kl_term": lambda a, e, m: kl_term(schedule, a, q_sample(schedule, a, t2, e), t2, e + 0.1),
        "ancestral_step": lambda a, e, m: ancestral_step(schedule, a, t, e, noise=e),
        "ddim_step": lambda a, e, m: ddim_step(schedule, a, t, t - 1, e, eta=0.5, noise=e),
        "ddpm_sample": lambda a, e, m: ddpm_sample(m, schedule, a, num_steps=10, generator=gen(0)),
        "ddim_sample": lambda a, e, m: ddim_sample(m, schedule, a, num_steps=10),
        "optimal_eps": lambda a, e, m: eps_star(a, t),
        "log_prob_t": lambda a, e, m: data.log_prob_t(schedule, a, 30),
    }
    drawn_inside = {"q_step_generated", "q_sample_generated", "ddpm_sample"}  # float32 and float64 draws differ
    for name, fn in outputs.items():
        out32, out64 = fn(x, eps, model32), fn(x64, eps64, model64)
        assert out32.dtype == torch.float32, name
        assert out64.dtype == F64, name
        assert torch.isfinite(out32).all(), name
        if name not in drawn_inside:
            torch.testing.assert_close(out32.double(), out64, rtol=1e-4, atol=1e-4, msg=name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_tensors_stay_on_the_gpu_and_match_the_cpu():
    cuda = torch.device("cuda")
    schedule = linear_schedule(50)
    x0, eps, t = randn(6, 2, seed=0), randn(6, 2, seed=1), steps([1, 2, 10, 25, 49, 50])
    on_gpu = q_sample(schedule, x0.to(cuda), t.to(cuda), eps.to(cuda))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), q_sample(schedule, x0, t, eps), rtol=1e-12, atol=1e-12)
    assert extract(schedule.alpha_bar, t.to(cuda), x0.to(cuda)).device.type == "cuda"

    drawn = schedule.sample_t(100, generator=torch.Generator(device=cuda).manual_seed(0), device=cuda)
    assert drawn.device.type == "cuda" and int(drawn.min()) >= 1 and int(drawn.max()) <= 50

    t2 = t.clamp(min=2)
    x_t = q_sample(schedule, x0, t2, eps)
    torch.testing.assert_close(kl_term(schedule, x0.to(cuda), x_t.to(cuda), t2.to(cuda), x0.to(cuda)).cpu(),
                               kl_term(schedule, x0, x_t, t2, x0), rtol=1e-10, atol=1e-10)

    model = TinyEpsNet(50, seed=0)
    gpu_model = TinyEpsNet(50, seed=0).to(cuda)
    x_T = randn(8, 2, seed=2)
    out = ddim_sample(gpu_model, schedule, x_T.to(cuda), num_steps=10)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), ddim_sample(model, schedule, x_T, num_steps=10), rtol=1e-8, atol=1e-8)
    sampled = ddpm_sample(gpu_model, schedule, x_T.to(cuda), generator=torch.Generator(device=cuda).manual_seed(1))
    assert sampled.device.type == "cuda" and torch.isfinite(sampled).all()

    loss = simple_loss(gpu_model, schedule, x0.to(cuda), generator=torch.Generator(device=cuda).manual_seed(2))
    assert loss.device.type == "cuda"
    loss.backward()
    assert all(p.grad is not None and p.grad.device.type == "cuda" for p in gpu_model.parameters())

    eps_star = gaussian_data_2d().optimal_eps(schedule)
    torch.testing.assert_close(eps_star(x0.to(cuda), t.to(cuda)).cpu(), eps_star(x0, t), rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------------------------------------------
# Mixed dtypes are refused, so the output's dtype always follows the data
# --------------------------------------------------------------------------------------------------------------
def test_noise_of_another_dtype_is_refused_naming_it():
    schedule = linear_schedule(50)
    x0 = torch.zeros(3, 2)
    t = torch.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="eps must have the same dtype as x"):
        q_sample(schedule, x0, t, torch.zeros(3, 2, dtype=F64))
    with pytest.raises(TypeError, match="noise must have the same dtype"):
        ancestral_step(schedule, x0, t, torch.zeros(3, 2), noise=torch.zeros(3, 2, dtype=F64))


# --------------------------------------------------------------------------------------------------------------
# The shipped digits model
# --------------------------------------------------------------------------------------------------------------
def test_pixel_maps_are_inverse_on_the_pixel_range():
    from curriculum.diffusion import pretrained

    pixels = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(pretrained.to_pixels(pretrained.to_model_space(pixels)), pixels, atol=1e-6)
    assert float(pretrained.to_model_space(pixels).min()) >= -1 and float(pretrained.to_model_space(pixels).max()) <= 1
    with pytest.raises(ValueError, match="images"):
        pretrained.to_model_space(torch.zeros(4, 64))


def test_shipped_digits_model_loads_and_predicts_noise_better_than_zero():
    from curriculum.data import load_digits
    from curriculum.diffusion import pretrained

    net = pretrained.load_digits_model()
    assert not any(p.requires_grad for p in net.parameters()) and not net.training
    schedule = pretrained.digits_schedule()
    x0 = pretrained.to_model_space(load_digits().test.images[:128])
    gen = torch.Generator().manual_seed(0)
    t = torch.randint(1, schedule.T + 1, (128,), generator=gen)
    eps = torch.randn(x0.shape, generator=gen)
    with torch.no_grad():
        loss = float(simple_loss(net, schedule, x0, t, eps))
    # Predicting 0 scores E[eps^2] = 1; a trained denoiser on held-out digits must do far better.
    assert loss < 0.2


def test_missing_digits_weights_say_how_to_make_them(tmp_path, monkeypatch):
    from curriculum.diffusion import pretrained

    monkeypatch.setattr(pretrained, "ASSET_PATH", tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="python -m curriculum.diffusion.pretrained"):
        pretrained.load_digits_model()


def test_live_training_uses_the_shipped_configuration():
    from curriculum.diffusion import pretrained

    net, result = pretrained.train_digits_model(steps=3, progress=False)
    assert result.steps == 3 and len(result.history) == 3
    assert not net.training
    shipped = pretrained.load_digits_model()
    assert {k: v.shape for k, v in net.state_dict().items()} == {k: v.shape for k, v in shipped.state_dict().items()}


def test_sampler_moments_match_the_deterministic_pushforward_and_the_ancestral_chain():
    from curriculum.diffusion import sampler_moments

    schedule = linear_schedule(100)
    data = GaussianData(torch.tensor([0.5, -1.0], dtype=F64), torch.tensor([[0.8, -0.3], [-0.3, 0.6]], dtype=F64))
    eps_star = data.optimal_eps(schedule)
    m0, c0 = sampler_moments(eps_star, schedule, 20, 0.0, 2)
    m_push, c_push = affine_pushforward(lambda x: ddim_sample(eps_star, schedule, x, 20), 2)
    assert torch.allclose(m0, m_push, atol=1e-10) and torch.allclose(c0, c_push, atol=1e-10)
    # eta = 1 over every step is ancestral sampling with the posterior variance: compare with Monte Carlo
    m1, c1 = sampler_moments(eps_star, schedule, 100, 1.0, 2)
    n = 40_000
    x_T = torch.randn(n, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    out = ddpm_sample(eps_star, schedule, x_T, generator=torch.Generator().manual_seed(1))
    se_mean = (c1.diagonal() / n).sqrt()
    se_cov = ((c1.diagonal()[:, None] * c1.diagonal()[None, :] + c1**2) / n).sqrt()
    assert ((out.mean(0) - m1).abs() / se_mean).max() < 4
    assert ((torch.cov(out.T) - c1).abs() / se_cov).max() < 4
