"""Tests for curriculum.metrics: each metric against an independent derivation or a closed form."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy.spatial.distance import cdist, pdist
from scipy.stats import binomtest

from curriculum import metrics
from curriculum.metrics import (
    C2STResult,
    Estimate,
    ModeCoverage,
    c2st,
    default_bandwidths,
    frechet_distance,
    gaussian_frechet,
    mmd2,
    mode_coverage,
    nll,
    noise_floor,
    sliced_wasserstein,
)

PROPERTY = settings(max_examples=20, deadline=None)


def gaussian(n: int, d: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> torch.Tensor:
    """(n, d) draws from N(shift, scale^2 I), seeded."""
    g = torch.Generator().manual_seed(seed)
    return shift + scale * torch.randn(n, d, generator=g, dtype=torch.float64)


def gaussian_sampler(n: int, seed: int) -> torch.Tensor:
    return gaussian(n, 2, seed).float()


# --------------------------------------------------------------------------------------------------------------------
# Estimate and nll


def test_estimate_prints_value_and_stderr():
    assert str(Estimate(1.23456, 0.00123)) == "1.2346 ± 0.0012"


def test_nll_mean_and_standard_error_on_known_values():
    est = nll(torch.tensor([-1.0, -2.0, -3.0]))
    assert est.value == pytest.approx(2.0)
    assert est.stderr == pytest.approx(1.0 / math.sqrt(3.0))  # sample std 1, N = 3


def test_nll_matches_numpy_on_random_values():
    log_prob = gaussian(1000, 1, seed=3).squeeze(1) - 2.0
    values = -log_prob.numpy()
    est = nll(log_prob.float())
    assert est.value == pytest.approx(values.mean(), abs=1e-6)
    assert est.stderr == pytest.approx(values.std(ddof=1) / math.sqrt(1000), rel=1e-5)


def test_nll_of_zero_density_point_is_infinite_and_single_point_has_no_stderr():
    assert nll(torch.tensor([-1.0, -math.inf])).value == math.inf
    single = nll(torch.tensor([-0.5]))
    assert single.value == pytest.approx(0.5) and math.isnan(single.stderr)


@pytest.mark.parametrize(
    "bad, error",
    [
        (torch.tensor([]), ValueError),
        (torch.zeros(3, 2), ValueError),
        (torch.tensor([-1.0, math.nan]), ValueError),
        (torch.tensor([-1.0, math.inf]), ValueError),
        (torch.tensor([1, 2]), TypeError),
        ([-1.0, -2.0], TypeError),
    ],
)
def test_nll_refuses_bad_log_prob(bad, error):
    with pytest.raises(error, match="log_prob"):
        nll(bad)


# --------------------------------------------------------------------------------------------------------------------
# MMD


def naive_mmd2(x: np.ndarray, y: np.ndarray, bandwidths) -> float:
    """The unbiased U-statistic written out with full kernel matrices (an independent re-derivation)."""
    def kernel(a, b):
        sq = cdist(a, b, "sqeuclidean")
        return sum(np.exp(-sq / (2 * h * h)) for h in bandwidths)

    n, m = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean())


def test_mmd2_matches_the_written_out_u_statistic():
    x, y = gaussian(37, 3, seed=1), gaussian(1100, 3, seed=2, shift=0.3)  # > one row block of 512
    bandwidths = (0.4, 1.3)
    assert mmd2(x, y, bandwidths) == pytest.approx(naive_mmd2(x.numpy(), y.numpy(), bandwidths), rel=1e-9)


def test_default_bandwidths_are_median_pairwise_distance_of_reference_times_half_one_two():
    y = gaussian(200, 2, seed=4)
    median = float(np.median(pdist(y.numpy())))
    assert default_bandwidths(y) == pytest.approx((0.5 * median, median, 2 * median))
    x = gaussian(100, 2, seed=5)
    assert mmd2(x, y) == pytest.approx(mmd2(x, y, default_bandwidths(y)))


def test_default_bandwidths_use_evenly_spaced_subset_of_a_large_reference():
    y = gaussian(3000, 2, seed=4)
    rows = np.round(np.linspace(0, 2999, metrics.MEDIAN_HEURISTIC_MAX_POINTS)).astype(int)
    median = float(np.median(pdist(y.numpy()[rows])))
    assert default_bandwidths(y)[1] == pytest.approx(median)


def test_mmd2_near_zero_for_same_distribution_and_clearly_positive_for_shifted():
    x, y = gaussian(400, 2, seed=10), gaussian(400, 2, seed=11)
    same = mmd2(x, y)
    shifted = mmd2(x, gaussian(400, 2, seed=12, shift=1.0))
    assert abs(same) < 0.01
    assert shifted > 0.2 and shifted > 20 * abs(same)


def test_mmd2_is_unbiased_mean_near_zero_and_sometimes_negative():
    values = np.array([mmd2(gaussian(30, 2, seed=2 * r), gaussian(30, 2, seed=2 * r + 1), (1.0,))
                       for r in range(40)])
    mean, stderr = metrics.mean_and_stderr(torch.from_numpy(values))
    assert abs(float(mean)) < 3 * float(stderr)
    assert (values < 0).any()


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(2, 25), m=st.integers(2, 25), d=st.integers(1, 4),
       h=st.floats(0.1, 5.0))
def test_mmd2_is_symmetric_for_fixed_bandwidths(seed, n, m, d, h):
    x, y = gaussian(n, d, seed), gaussian(m, d, seed + 1, shift=0.5)
    assert mmd2(x, y, (h,)) == pytest.approx(mmd2(y, x, (h,)), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (torch.zeros(5), torch.zeros(5, 2), {}, "x must have shape"),
        (torch.randn(5, 2), torch.randn(5, 3), {}, "y must have shape"),
        (torch.randn(1, 2), torch.randn(5, 2), {}, "x must have at least 2 rows"),
        (torch.randn(5, 2), torch.randn(1, 2), {}, "y must have at least 2 rows"),
        (torch.randn(5, 2), torch.randn(5, 2), {"bandwidths": (1.0, -1.0)}, r"bandwidths\[1\]"),
        (torch.randn(5, 2), torch.randn(5, 2), {"bandwidths": ()}, "bandwidths"),
        (torch.randn(5, 2), torch.zeros(5, 2), {}, "bandwidths"),  # median distance 0
        (torch.randint(0, 3, (5, 2)), torch.randn(5, 2), {}, "x must have a floating"),
        (torch.tensor([[0.0, math.nan], [1.0, 1.0]]), torch.randn(5, 2), {}, "x contains"),
    ],
)
def test_mmd2_refuses_bad_inputs(x, y, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        mmd2(x, y, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# sliced Wasserstein


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30), d=st.integers(1, 5),
       shift=st.lists(st.floats(-5.0, 5.0), min_size=5, max_size=5), frames=st.integers(1, 20))
def test_sliced_wasserstein_of_a_translation_is_norm_over_sqrt_dim(seed, n, d, shift, frames):
    # SW_2^2(P, P shifted by d) = E_theta[(theta . d)^2] = |d|^2 / D; exact when n_projections is a multiple of D
    x = gaussian(n, d, seed)
    delta = torch.tensor(shift[:d], dtype=torch.float64)
    sw = sliced_wasserstein(x, x + delta, n_projections=d * frames, seed=seed)
    assert sw**2 == pytest.approx(float(delta @ delta) / d, rel=1e-8, abs=1e-10)


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30), m=st.integers(1, 30), d=st.integers(1, 4))
def test_sliced_wasserstein_is_zero_on_identical_sets_and_symmetric(seed, n, m, d):
    x, y = gaussian(n, d, seed), gaussian(m, d, seed + 1)
    assert sliced_wasserstein(x, x.clone(), seed=seed) == 0.0
    assert sliced_wasserstein(x, y, seed=seed) == pytest.approx(sliced_wasserstein(y, x, seed=seed), rel=1e-10)


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), m=st.integers(1, 12), d=st.integers(1, 3))
def test_sliced_wasserstein_unequal_sizes_equal_replicated_equal_sizes(seed, n, m, d):
    # Repeating each of the n points m times and each of the m points n times leaves both empirical laws
    # unchanged and makes the sizes equal, where W_2 is the plain sorted-difference formula.
    x, y = gaussian(n, d, seed), gaussian(m, d, seed + 1, shift=1.0)
    direct = sliced_wasserstein(x, y, n_projections=16, seed=seed)
    replicated = sliced_wasserstein(x.repeat_interleave(m, 0), y.repeat_interleave(n, 0), n_projections=16, seed=seed)
    assert direct == pytest.approx(replicated, rel=1e-9, abs=1e-12)


def test_sliced_wasserstein_hand_computed_one_dimensional_case():
    # F^{-1} of {0, 1} and G^{-1} of {0, 1, 2} differ by 1 on (1/3, 1/2] and (2/3, 1]: W_2^2 = 1/6 + 1/3 = 1/2
    x = torch.tensor([[0.0], [1.0]])
    y = torch.tensor([[2.0], [0.0], [1.0]])
    assert sliced_wasserstein(x, y) ** 2 == pytest.approx(0.5, rel=1e-12)


def test_sliced_wasserstein_between_isotropic_gaussians_matches_closed_form():
    # every projection of N(0, I) vs N(0, s^2 I) is N(0, 1) vs N(0, s^2): W_2 = |1 - s|
    x, y = gaussian(4000, 3, seed=20), gaussian(4000, 3, seed=21, scale=2.0)
    assert sliced_wasserstein(x, y) == pytest.approx(1.0, abs=0.05)


def test_sliced_wasserstein_is_deterministic_given_seed():
    x, y = gaussian(50, 3, seed=1), gaussian(60, 3, seed=2, scale=1.5)
    assert sliced_wasserstein(x, y, seed=7) == sliced_wasserstein(x, y, seed=7)
    assert sliced_wasserstein(x, y, n_projections=5, seed=7) != sliced_wasserstein(x, y, n_projections=5, seed=8)


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (torch.randn(5, 2, 1), torch.randn(5, 2), {}, "x must have shape"),
        (torch.randn(5, 2), torch.randn(5, 4), {}, "y must have shape"),
        (torch.randn(0, 2), torch.randn(5, 2), {}, "x must have at least 1 rows"),
        (torch.randn(5, 2), torch.randn(5, 2), {"n_projections": 0}, "n_projections"),
        (torch.randn(5, 2), torch.randn(5, 2), {"seed": -1}, "seed"),
    ],
)
def test_sliced_wasserstein_refuses_bad_inputs(x, y, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sliced_wasserstein(x, y, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# noise floor


def test_noise_floor_is_positive_finite_and_shrinks_with_sample_size():
    small = noise_floor(gaussian_sampler, sliced_wasserstein, n=50, repeats=5)
    large = noise_floor(gaussian_sampler, sliced_wasserstein, n=800, repeats=5)
    for floor in (small, large):
        assert isinstance(floor, Estimate)
        assert 0 < floor.value < math.inf and 0 < floor.stderr < math.inf
    assert large.value < small.value / 2  # SW between two draws shrinks like n^(-1/2): a factor 4 here


def test_noise_floor_is_reproducible_and_uses_distinct_draws():
    seeds_seen = []

    def recording_sampler(n, seed):
        seeds_seen.append(seed)
        return gaussian_sampler(n, seed)

    first = noise_floor(recording_sampler, sliced_wasserstein, n=40, repeats=3, seed=5)
    assert len(set(seeds_seen)) == 6  # two fresh, distinct draws per repeat
    assert noise_floor(gaussian_sampler, sliced_wasserstein, n=40, repeats=3, seed=5) == first
    assert noise_floor(gaussian_sampler, sliced_wasserstein, n=40, repeats=3, seed=6) != first


def test_noise_floor_of_mmd2_is_centred_near_zero():
    floor = noise_floor(gaussian_sampler, lambda a, b: mmd2(a, b, (1.0,)), n=60, repeats=8)
    assert abs(floor.value) < 4 * floor.stderr + 1e-3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "^n must"),
        ({"n": 2.5}, "^n must"),
        ({"repeats": 1}, "repeats"),
        ({"seed": -3}, "seed"),
        ({"sample_fn": lambda n, seed: torch.randn(n + 1, 2)}, "sample_fn"),
        ({"sample_fn": "gaussian"}, "sample_fn"),
        ({"metric": None}, "metric"),
        ({"metric": lambda a, b: math.nan}, "metric"),
    ],
)
def test_noise_floor_refuses_bad_inputs(kwargs, match):
    args = {"sample_fn": gaussian_sampler, "metric": sliced_wasserstein, "n": 10, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        noise_floor(**args)


# --------------------------------------------------------------------------------------------------------------------
# classifier two-sample test


def test_c2st_is_at_chance_for_same_distribution():
    result = c2st(gaussian(600, 2, seed=30), gaussian(600, 2, seed=31))
    assert isinstance(result, C2STResult)
    assert abs(result.accuracy - 0.5) < 3 * result.stderr
    assert result.p_value > 1e-3


def test_c2st_is_near_one_for_far_apart_sets():
    result = c2st(gaussian(300, 2, seed=30), gaussian(300, 2, seed=31, shift=6.0))
    assert result.accuracy > 0.97
    assert result.p_value < 1e-30


def test_c2st_statistics_follow_the_binomial_null():
    result = c2st(gaussian(201, 3, seed=1), gaussian(500, 3, seed=2, shift=0.4), seed=3)
    assert result.n_test == 201  # balanced to 201 + 201, half held out (ceil)
    correct = round(result.accuracy * result.n_test)
    assert result.stderr == pytest.approx(math.sqrt(0.25 / result.n_test))
    assert result.p_value == pytest.approx(binomtest(correct, result.n_test, 0.5, alternative="greater").pvalue)


def test_c2st_flattens_images_and_is_deterministic_given_seed():
    x = torch.rand(80, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.rand(90, 1, 4, 4, generator=torch.Generator().manual_seed(1)) * 0.5
    assert c2st(x, y, seed=4) == c2st(x, y, seed=4)
    assert c2st(x, y, seed=4).accuracy > 0.8


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (torch.randn(20), torch.randn(20, 2), {}, "x must have at least 2 dimensions"),
        (torch.randn(20, 2), torch.randn(20, 3), {}, "y must have shape"),
        (torch.randn(20, 1, 2, 2), torch.randn(20, 1, 4), {}, "y must have shape"),
        (torch.randn(20, 2), torch.randn(20, 2), {"test_fraction": 0.0}, "test_fraction"),
        (torch.randn(20, 2), torch.randn(20, 2), {"test_fraction": 1.0}, "test_fraction"),
        (torch.randn(20, 2), torch.randn(20, 2), {"test_fraction": 1.5}, "test_fraction"),
        (torch.randn(20, 2), torch.randn(20, 2), {"test_fraction": 0.01}, "test_fraction"),
        (torch.randn(20, 2), torch.randn(20, 2), {"n_neighbors": 21}, "n_neighbors"),
        (torch.randn(20, 2), torch.randn(20, 2), {"n_neighbors": 0}, "n_neighbors"),
        (torch.randn(1, 2), torch.randn(20, 2), {}, "x must have at least 2 rows"),
    ],
)
def test_c2st_refuses_bad_inputs(x, y, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        c2st(x, y, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# mode coverage


def ring_means(k: int = 8, radius: float = 5.0) -> torch.Tensor:
    angle = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


def around(means: torch.Tensor, counts, std: float, seed: int = 0) -> torch.Tensor:
    """``counts[k]`` points within std of means[k] (N(means[k], (std / 5)^2 I), so all are high quality), stacked."""
    g = torch.Generator().manual_seed(seed)
    parts = [means[k] + 0.2 * std * torch.randn(c, means.shape[1], generator=g, dtype=torch.float64)
             for k, c in enumerate(counts)]
    return torch.cat(parts)


def test_mode_coverage_all_samples_in_one_mode_covers_one():
    means = ring_means()
    result = mode_coverage(around(means, [400] + [0] * 7, std=0.05), means, std=0.05)
    assert isinstance(result, ModeCoverage)
    assert (result.modes_covered, result.n_modes) == (1, 8)
    assert result.counts == (400,) + (0,) * 7


def test_mode_coverage_balanced_samples_cover_all_modes():
    means = ring_means()
    result = mode_coverage(around(means, [100] * 8, std=0.05), means, std=0.05)
    assert result.modes_covered == 8
    assert result.high_quality_share == 1.0
    assert result.counts == (100,) * 8


def test_mode_coverage_threshold_is_min_share_of_uniform_allocation():
    # K = 4, N = 100, min_share 0.2: covered when count_k >= 0.2 * 100 / 4 = 5
    means = ring_means(4)
    result = mode_coverage(around(means, [5, 4, 91, 0], std=0.01), means, std=0.01)
    assert result.counts == (5, 4, 91, 0)
    assert result.modes_covered == 2


def test_mode_coverage_far_samples_are_low_quality_and_cover_nothing():
    means = ring_means()
    samples = torch.cat([torch.zeros(50, 2, dtype=torch.float64), around(means, [10] * 8, std=0.05)])
    result = mode_coverage(samples, means, std=0.05)  # the centre is 5 / 0.05 = 100 std from every mode
    assert result.high_quality_share == pytest.approx(80 / 130)
    assert result.counts == (10,) * 8 and result.modes_covered == 8  # 10 >= 0.2 * 130 / 8
    assert mode_coverage(samples[:50], means, std=0.05).modes_covered == 0


def test_mode_coverage_hq_radius_is_in_units_of_std():
    means = torch.zeros(1, 2, dtype=torch.float64)
    samples = torch.tensor([[2.9, 0.0], [3.1, 0.0]], dtype=torch.float64)
    assert mode_coverage(samples, means, std=1.0).counts == (1,)
    assert mode_coverage(samples, means, std=1.0, hq_radius=3.2).counts == (2,)


@pytest.mark.parametrize(
    "samples, means, kwargs, match",
    [
        (torch.randn(10), torch.randn(3, 2), {}, "samples must have shape"),
        (torch.randn(10, 2), torch.randn(3, 3), {}, "means must have shape"),
        (torch.randn(10, 2), torch.randn(0, 2), {}, "means must have at least 1 rows"),
        (torch.randn(10, 2), torch.randn(3, 2), {"std": 0.0}, "std"),
        (torch.randn(10, 2), torch.randn(3, 2), {"hq_radius": -1.0}, "hq_radius"),
        (torch.randn(10, 2), torch.randn(3, 2), {"min_share": 1.5}, "min_share"),
        (torch.randn(10, 2), torch.randn(3, 2), {"min_share": -0.1}, "min_share"),
    ],
)
def test_mode_coverage_refuses_bad_inputs(samples, means, kwargs, match):
    args = {"std": 1.0, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        mode_coverage(samples, means, **args)


# --------------------------------------------------------------------------------------------------------------------
# Frechet distance


def symmetric_form(mu1, cov1, mu2, cov2) -> float:
    """Tr((S1 S2)^{1/2}) = Tr((S1^{1/2} S2 S1^{1/2})^{1/2}), a symmetric eigen-decomposition route."""
    w, v = np.linalg.eigh(cov1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    trace_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ cov2 @ root1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * trace_covmean)


def random_covariance(f: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(f, f))
    return a @ a.T / f + 0.1 * np.eye(f)


def test_gaussian_frechet_for_commuting_diagonal_covariances():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert gaussian_frechet(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    as_torch = [torch.from_numpy(v) for v in (mu1, np.diag(a), mu2, np.diag(b))]
    assert gaussian_frechet(*as_torch) == pytest.approx(expected, rel=1e-12)


def test_gaussian_frechet_for_general_covariances_matches_symmetric_form():
    mu1, mu2 = np.zeros(5), np.linspace(-1, 1, 5)
    cov1, cov2 = random_covariance(5, 1), random_covariance(5, 2)
    value = gaussian_frechet(mu1, cov1, mu2, cov2)
    assert value == pytest.approx(symmetric_form(mu1, cov1, mu2, cov2), rel=1e-9)
    assert value == pytest.approx(gaussian_frechet(mu2, cov2, mu1, cov1), rel=1e-9)


def test_frechet_distance_matches_closed_form_in_the_large_sample_limit():
    rng = np.random.default_rng(0)
    mu1, mu2 = np.array([0.0, 0.5, -1.0]), np.array([1.0, 0.0, 0.0])
    cov1, cov2 = random_covariance(3, 3), random_covariance(3, 4)
    x = torch.from_numpy(rng.multivariate_normal(mu1, cov1, size=40_000))
    y = torch.from_numpy(rng.multivariate_normal(mu2, cov2, size=40_000))
    exact = gaussian_frechet(mu1, cov1, mu2, cov2)
    assert frechet_distance(x, y) == pytest.approx(exact, abs=0.03)


def test_frechet_distance_handles_singular_covariances():
    x = gaussian(40, 6, seed=1)
    x[:, 2] = 0.0  # a dead feature, as with ReLU units
    y = gaussian(30, 6, seed=2, shift=0.3)
    y[:, 2] = 0.0
    few = gaussian(4, 6, seed=3)  # fewer samples than features: rank 3
    for a, b in ((x, y), (x, few)):
        a_np, b_np = a.numpy(), b.numpy()
        expected = symmetric_form(a_np.mean(0), np.cov(a_np, rowvar=False), b_np.mean(0), np.cov(b_np, rowvar=False))
        assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-4)


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(2, 40), m=st.integers(2, 40), f=st.integers(1, 6))
def test_frechet_distance_is_zero_on_identical_sets_and_symmetric(seed, n, m, f):
    x, y = gaussian(n, f, seed), gaussian(m, f, seed + 1, shift=0.2)
    assert frechet_distance(x, x.clone()) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-6, abs=1e-6)
    assert frechet_distance(x, y) >= 0.0


def test_frechet_distance_one_dimensional_closed_form():
    x = torch.tensor([[0.0], [2.0]])  # mean 1, sd sqrt(2)
    y = torch.tensor([[3.0], [3.0], [6.0], [6.0]])  # mean 4.5, sd sqrt(3)
    assert frechet_distance(x, y) == pytest.approx(3.5**2 + (math.sqrt(2) - math.sqrt(3)) ** 2, rel=1e-9)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (torch.randn(10), torch.randn(10, 3), "feats_x must have shape"),
        (torch.randn(10, 3), torch.randn(10, 4), "feats_y must have shape"),
        (torch.randn(1, 3), torch.randn(10, 3), "feats_x must have at least 2 rows"),
        (torch.randn(10, 3), torch.full((10, 3), math.inf), "feats_y contains"),
        (torch.randint(0, 5, (10, 3)), torch.randn(10, 3), "feats_x must have a floating"),
    ],
)
def test_frechet_distance_refuses_bad_inputs(x, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        frechet_distance(x, y)


def test_gaussian_frechet_refuses_bad_inputs():
    eye = np.eye(2)
    with pytest.raises(ValueError, match="cov2"):
        gaussian_frechet(np.zeros(2), eye, np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="mu2"):
        gaussian_frechet(np.zeros(2), eye, np.zeros(3), eye)
    with pytest.raises(TypeError, match="mu1"):
        gaussian_frechet([0.0, 0.0], eye, np.zeros(2), eye)
    with pytest.raises(ValueError, match="positive semi-definite"):
        gaussian_frechet(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), eye)


# --------------------------------------------------------------------------------------------------------------------
# the device follows the data


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_metrics_agree_on_gpu():
    x, y = gaussian(300, 3, seed=1), gaussian(200, 3, seed=2, shift=0.5)
    cx, cy = x.cuda(), y.cuda()
    assert mmd2(cx, cy) == pytest.approx(mmd2(x, y), rel=1e-9)
    assert sliced_wasserstein(cx, cy) == pytest.approx(sliced_wasserstein(x, y), rel=1e-9)
    assert frechet_distance(cx, cy) == pytest.approx(frechet_distance(x, y), rel=1e-9)
    assert c2st(cx, cy) == c2st(x, y)
    means = ring_means(3).cuda()
    assert mode_coverage(cx[:, :2], means, 1.0) == mode_coverage(x[:, :2], means.cpu(), 1.0)


def test_bootstrap_ci_covers_the_mean_at_its_level_and_separates_a_real_effect():
    from curriculum.metrics import bootstrap_ci

    rng = np.random.default_rng(0)
    covered = 0
    for r in range(200):  # coverage of the true mean 0 over repeated experiments of 30 draws
        ci = bootstrap_ci(torch.from_numpy(rng.normal(size=30)), n_boot=2000, seed=r)
        covered += ci.low <= 0.0 <= ci.high
    assert 0.88 <= covered / 200 <= 0.99  # 95% nominal; the percentile bootstrap runs a little narrow at N = 30
    shifted = bootstrap_ci(torch.from_numpy(rng.normal(loc=1.0, size=10)))
    assert shifted.excludes_zero and shifted.low < shifted.value < shifted.high
    noise = bootstrap_ci([0.3, -0.2, 0.1, -0.4, 0.2])
    assert not noise.excludes_zero
    assert bootstrap_ci([1.0, 2.0, 4.0], seed=3) == bootstrap_ci([1.0, 2.0, 4.0], seed=3)
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_ci([1.0])
    with pytest.raises(ValueError, match="level must be a probability"):
        bootstrap_ci([1.0, 2.0], level=1.0)
