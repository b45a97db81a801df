"""Sample-quality and likelihood metrics shared by every notebook.

What each metric answers:

- ``nll``                 how much probability the model puts on held-out data (lower is better), with its error bar
- ``mean_and_stderr``     a Monte Carlo mean with its standard error (the check behind every "within 4 SE" assert)
- ``bootstrap_ci``        a percentile bootstrap interval for a mean (paired: pass per-seed differences)
- ``mmd2``                unbiased squared maximum mean discrepancy with a sum of Gaussian kernels
- ``sliced_wasserstein``  the 2-Wasserstein distance averaged over random 1-D projections
- ``noise_floor``         the value a *perfect* model would show at a given sample size (metric between two fresh
                          draws from the true distribution): compare a model against this, never against 0
- ``c2st``                classifier two-sample test: can a k-nearest-neighbour classifier tell the sets apart?
- ``mode_coverage``       how many mixture modes receive their share of high-quality samples
- ``frechet_distance``    the Frechet (2-Wasserstein) distance between Gaussians fitted to two feature sets
- ``image_sharpness``     mean squared difference of neighbouring pixels (blur lowers it)

``nll`` and ``noise_floor`` also accept any model that follows ``curriculum.protocol`` (``log_likelihood`` and
``sample(n, generator)``), so every family is measured by the same code.

Symbol table (name in code -> symbol):

=================  ===========================================================
``x``, ``y``       samples x_i ~ P (model), y_j ~ Q (reference); shapes (N, D), (M, D)
``log_prob``       log p(x_i)
``h``              kernel bandwidth h; k_h(a, b) = exp(-|a - b|^2 / (2 h^2))
``theta``          unit projection direction theta on the sphere S^{D-1}
``w2_sq``          squared 1-D Wasserstein distance W_2^2 between projections
``mu``, ``cov``    mean mu and covariance Sigma of a feature set
``covmean``        (Sigma_x Sigma_y)^{1/2}
``means``, ``std`` mixture mode centres m_k, shared per-mode standard deviation sigma
=================  ===========================================================

Everything that sums many small numbers runs in float64 on the device of the input data; scikit-learn and SciPy
steps (``c2st``, the matrix square root) run on the CPU in float64.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .checks import (
    check_finite,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_tensor,
)
from .gaussians import gaussian_frechet
from .protocol import draw, has_likelihood, log_likelihood
from .runtime import generator
from .grading import reference

__all__ = [
    "Estimate",
    "C2STResult",
    "ModeCoverage",
    "nll",
    "mean_and_stderr",
    "Interval",
    "bootstrap_ci",
    "default_bandwidths",
    "mmd2",
    "sliced_wasserstein",
    "noise_floor",
    "c2st",
    "mode_coverage",
    "gaussian_frechet",
    "frechet_distance",
    "image_sharpness",
]

# Multipliers of the median pairwise distance of the reference set used as default MMD bandwidths.
BANDWIDTH_MULTIPLIERS = (0.5, 1.0, 2.0)
# At most this many reference points (evenly spaced, deterministic) enter the median heuristic.
MEDIAN_HEURISTIC_MAX_POINTS = 1000
# Rows per block when summing kernel matrices, so memory stays O(block * M).
_BLOCK_ROWS = 512


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error; ``kind`` labels a likelihood-based one (``"exact"``,
    ``"lower bound"``, ``"quadrature"``; see ``curriculum.protocol``), ``None`` otherwise."""

    value: float
    stderr: float
    kind: str | None = None

    def __str__(self) -> str:
        return f"{self.value:.4f} ± {self.stderr:.4f}"


@dataclass(frozen=True)
class C2STResult:
    """Classifier two-sample test outcome.

    ``accuracy`` on the held-out half (0.5 = indistinguishable), ``stderr`` = sqrt(0.25 / n_test) its standard error
    under the null, ``p_value`` one-sided binomial p-value for accuracy > 0.5, ``n_test`` held-out points.
    """

    accuracy: float
    stderr: float
    p_value: float
    n_test: int

    def __str__(self) -> str:
        return (f"C2ST accuracy {self.accuracy:.4f} ± {self.stderr:.4f} "
                f"(p = {self.p_value:.3g}, n_test = {self.n_test})")


@dataclass(frozen=True)
class ModeCoverage:
    """Mode-coverage statistic of samples from a mixture with known mode centres.

    ``counts[k]`` is the number of high-quality samples whose nearest mode is k.
    """

    modes_covered: int
    n_modes: int
    high_quality_share: float
    counts: tuple[int, ...]

    def __str__(self) -> str:
        return (f"{self.modes_covered}/{self.n_modes} modes covered, "
                f"{100 * self.high_quality_share:.1f}% high-quality samples")


# --------------------------------------------------------------------------------------------------------------------
# validation helpers


def _check_points(x: object, name: str, *, min_rows: int = 1, ndim: int | None = 2) -> Tensor:
    """A finite floating tensor of shape (N, D) (or (N, *) when ``ndim`` is None) with N >= ``min_rows``."""
    if ndim is None:
        check_tensor(x, name, min_ndim=2, floating=True)
    else:
        check_tensor(x, name, ndim=ndim, floating=True)
    check_finite(x, name)
    if x.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows (samples), got shape {tuple(x.shape)}")
    return x


def _check_pair(x: object, y: object, *, min_rows: int = 1) -> tuple[Tensor, Tensor]:
    """Two point sets (N, D) and (M, D) with the same D, on the same device."""
    x = _check_points(x, "x", min_rows=min_rows)
    check_tensor(y, "y", shape=(None, x.shape[1]), floating=True)
    y = _check_points(y, "y", min_rows=min_rows)
    if x.device != y.device:
        raise ValueError(f"x and y must be on the same device, got x on {x.device} and y on {y.device}")
    return x, y


# --------------------------------------------------------------------------------------------------------------------
# likelihood


def mean_and_stderr(values: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """The Monte Carlo mean of ``values`` along ``dim`` and its standard error ``s / sqrt(N)`` (sample standard
    deviation, N - 1 in the denominator), in float64: ``(N, *rest) -> (*rest), (*rest)`` for ``dim = 0``.

    A closed form ``c`` agrees with samples when ``|mean - c| <= k * stderr`` (the course uses k = 4: a false
    alarm about once in 16,000 checks of a correct formula).
    """
    check_tensor(values, "values", min_ndim=1, floating=True)
    n = values.shape[dim]
    if n < 2:
        raise ValueError(f"values must hold at least 2 samples along dim {dim} to give a standard error, "
                         f"got shape {tuple(values.shape)}")
    values = values.detach().double()
    return values.mean(dim), values.std(dim, correction=1) / math.sqrt(n)  # mean, s / sqrt(N)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def nll(log_prob: Tensor | object, x: Tensor | None = None) -> Estimate:
    """Mean negative log-likelihood and its standard error.

    ``log_prob`` (N,): log p(x_i) of held-out points; or a model with ``log_likelihood`` (``curriculum.protocol``)
    and the held-out points ``x``, in which case the estimate carries the likelihood's ``kind`` (a lower bound
    gives an upper bound on the NLL). Returns NLL = -(1/N) sum_i log p(x_i) with standard error
    std(log p) / sqrt(N) (sample std, ddof = 1; NaN for N = 1). A point with log p = -inf makes the NLL +inf (the
    model gives the data zero density); NaN and log p = +inf are refused.
    """
    kind = None
    if has_likelihood(log_prob):
        if x is None:
            raise TypeError("nll(model, x) needs the held-out points x when given a model")
        result = log_likelihood(log_prob, x)
        log_prob, kind = result.values, result.kind
    elif x is not None:
        raise TypeError(f"x is only used with a model that has log_likelihood; got log_prob of type "
                        f"{type(log_prob).__name__}")
    check_tensor(log_prob, "log_prob", ndim=1, floating=True)
    n = log_prob.shape[0]
    if n == 0:
        raise ValueError("log_prob must be non-empty, got shape (0,)")
    if torch.isnan(log_prob).any():
        raise ValueError(f"log_prob contains {int(torch.isnan(log_prob).sum())} NaN entries; expected log-densities")
    if (log_prob == math.inf).any():
        raise ValueError("log_prob contains +inf entries; a log-density must be finite or -inf")
    neg_log_prob = -log_prob.detach().double()
    value = float(neg_log_prob.mean())  # NLL = -(1/N) sum_i log p(x_i)
    if not math.isfinite(value):
        return Estimate(math.inf, math.inf, kind)
    stderr = float(mean_and_stderr(neg_log_prob)[1]) if n > 1 else math.nan  # s / sqrt(N)
    return Estimate(value, stderr, kind)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval ``[low, high]`` at ``level``."""

    value: float
    low: float
    high: float
    level: float

    def __str__(self) -> str:
        return f"{self.value:.3f} ({100 * self.level:.0f}% CI {self.low:.3f} to {self.high:.3f})"

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def bootstrap_ci(values: Tensor | Sequence[float], level: float = 0.95, n_boot: int = 10_000,
                 seed: int = 0) -> Interval:
    """Percentile bootstrap confidence interval for the mean of ``values`` (N,), N >= 2.

    Resamples the N values with replacement ``n_boot`` times (seeded) and takes the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles of the resampled means. For a **paired** comparison of two configurations run on
    the same seeds, pass the per-seed differences ``a - b``: resampling seeds keeps each pair together, so the
    seed-to-seed variation both share cancels. An interval that excludes 0 is evidence of an effect at that level.
    """
    values = torch.as_tensor(values, dtype=torch.float64).detach().cpu()
    check_tensor(values, "values", ndim=1)
    check_finite(values, "values")
    if values.shape[0] < 2:
        raise ValueError(f"values must hold at least 2 numbers to bootstrap, got {values.shape[0]}")
    check_probability(level, "level", open_interval=True)
    check_positive_int(n_boot, "n_boot")
    check_nonnegative_int(seed, "seed")
    n = values.shape[0]
    index = torch.randint(0, n, (n_boot, n), generator=generator(seed))
    means = values[index].mean(dim=1)  # the mean of each resample, (n_boot,)
    tail = (1.0 - level) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)).tolist()
    return Interval(float(values.mean()), low, high, level)


# --------------------------------------------------------------------------------------------------------------------
# maximum mean discrepancy


def default_bandwidths(y: Tensor) -> tuple[float, ...]:
    """The default MMD bandwidths: median pairwise distance of the reference set ``y`` (M, D) times (0.5, 1, 2).

    Depends only on ``y``, so every model compared against the same reference is scored with the same kernel. The
    median uses at most ``MEDIAN_HEURISTIC_MAX_POINTS`` evenly spaced rows of ``y`` (deterministic).
    """
    y = _check_points(y, "y", min_rows=2)
    m = y.shape[0]
    if m > MEDIAN_HEURISTIC_MAX_POINTS:
        rows = torch.linspace(0, m - 1, MEDIAN_HEURISTIC_MAX_POINTS, device=y.device).round().long()
        y = y[rows]
    distances = torch.pdist(y.detach().double())  # |y_i - y_j| for i < j
    median = float(torch.quantile(distances, 0.5))
    if median <= 0:
        raise ValueError("y has median pairwise distance 0 (most reference points coincide), so the median "
                         "bandwidth rule fails; pass bandwidths explicitly")
    return tuple(median * c for c in BANDWIDTH_MULTIPLIERS)


def _kernel_sum(a: Tensor, b: Tensor, bandwidths: Sequence[float], *, exclude_diagonal: bool = False) -> Tensor:
    """sum_{i, j} sum_h k_h(a_i, b_j) for a (N, D), b (M, D); the diagonal i = j skipped when asked (a is b).

    Works in row blocks (memory O(block * M)) and in place, which matters more than the FLOPs at N ~ 10^4.
    """
    b_sq = (b * b).sum(1)
    total = a.new_zeros(())
    for start in range(0, a.shape[0], _BLOCK_ROWS):
        block = a[start:start + _BLOCK_ROWS]
        dist_sq = torch.addmm(b_sq[None, :], block, b.T, alpha=-2.0)  # |b|^2 - 2 a.b
        dist_sq.add_((block * block).sum(1)[:, None]).clamp_min_(0.0)  # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b
        if exclude_diagonal:
            rows = torch.arange(block.shape[0], device=a.device)
            dist_sq[rows, rows + start] = 0.0  # exact zeros, so the diagonal kernel is exactly 1 and cancels below
        for h in bandwidths:
            total = total + torch.exp(dist_sq * (-1.0 / (2.0 * h * h))).sum()  # k_h = exp(-|a - b|^2 / (2 h^2))
    if exclude_diagonal:
        total = total - a.shape[0] * len(bandwidths)  # remove sum_i sum_h k_h(a_i, a_i) = N L
    return total


def mmd2(x: Tensor, y: Tensor, bandwidths: Sequence[float] | None = None) -> float:
    """Unbiased estimate of the squared MMD between the laws of ``x`` (N, D) and ``y`` (M, D); N, M >= 2.

    Kernel: k(a, b) = sum_h exp(-|a - b|^2 / (2 h^2)) over ``bandwidths`` (default ``default_bandwidths(y)``).

        MMD_u^2 = 1/(N(N-1)) sum_{i!=j} k(x_i, x_j) + 1/(M(M-1)) sum_{i!=j} k(y_i, y_j) - 2/(NM) sum_{i,j} k(x_i, y_j)

    Unbiased, so it can be slightly negative when the two laws are equal; symmetric in (x, y) for fixed bandwidths
    (the default bandwidths depend on ``y``, the reference set, so pass them explicitly to compare both orders).
    """
    x, y = _check_pair(x, y, min_rows=2)
    if bandwidths is None:
        bandwidths = default_bandwidths(y)
    elif isinstance(bandwidths, (str, bytes)) or not isinstance(bandwidths, Sequence) or len(bandwidths) == 0:
        raise TypeError(f"bandwidths must be a non-empty sequence of positive numbers, got {bandwidths!r}")
    h = [check_positive_float(b, f"bandwidths[{i}]") for i, b in enumerate(bandwidths)]
    x64, y64 = x.detach().double(), y.detach().double()
    n, m = x64.shape[0], y64.shape[0]
    k_xx = _kernel_sum(x64, x64, h, exclude_diagonal=True) / (n * (n - 1))  # 1/(N(N-1)) sum_{i!=j} k(x_i, x_j)
    k_yy = _kernel_sum(y64, y64, h, exclude_diagonal=True) / (m * (m - 1))  # 1/(M(M-1)) sum_{i!=j} k(y_i, y_j)
    k_xy = _kernel_sum(x64, y64, h) / (n * m)  # 1/(NM) sum_{i,j} k(x_i, y_j)
    return float(k_xx + k_yy - 2.0 * k_xy)


# --------------------------------------------------------------------------------------------------------------------
# sliced Wasserstein


def _random_directions(dim: int, n_projections: int, seed: int, device: torch.device) -> Tensor:
    """(D, P) unit directions theta, drawn as blocks of Haar-random orthonormal frames of D columns each.

    Each column is uniform on the sphere; within a full frame, sum_k (theta_k . d)^2 = |d|^2, which removes the
    Monte Carlo noise of the direction average whenever P is a multiple of D.
    """
    gen = generator(seed)
    blocks = []
    remaining = n_projections
    while remaining > 0:
        width = min(dim, remaining)
        gaussian = torch.randn(dim, width, generator=gen, dtype=torch.float64)
        q, r = torch.linalg.qr(gaussian)  # reduced QR: q (D, width) with orthonormal columns
        signs = torch.sign(torch.diagonal(r))
        signs[signs == 0] = 1.0
        blocks.append(q * signs)  # fixing the signs of diag(R) makes the frame Haar-distributed
        remaining -= width
    return torch.cat(blocks, dim=1).to(device)


def _quantile_grid(n: int, m: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Indices into sorted samples of sizes n and m and the widths of the intervals of u in (0, 1] on which both
    empirical quantile functions F^{-1}(u), G^{-1}(u) are constant (breakpoints i/n and j/m)."""
    breaks = torch.unique(torch.cat([torch.arange(1, n + 1, dtype=torch.float64) / n,
                                     torch.arange(1, m + 1, dtype=torch.float64) / m]))  # sorted, ends at 1
    lower = torch.cat([breaks.new_zeros(1), breaks[:-1]])
    middle = 0.5 * (lower + breaks)
    index_n = torch.floor(middle * n).long().clamp_max(n - 1)  # F^{-1}(u) = x_(ceil(u n)), 0-based floor(u n)
    index_m = torch.floor(middle * m).long().clamp_max(m - 1)
    return index_n.to(device), index_m.to(device), (breaks - lower).to(device)


def sliced_wasserstein(x: Tensor, y: Tensor, n_projections: int = 256, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance between the empirical laws of ``x`` (N, D) and ``y`` (M, D).

        SW_2(P, Q) = ( (1/L) sum_l W_2^2(theta_l # P, theta_l # Q) )^{1/2}

    where theta_l # P is the law of <theta_l, x>. In 1-D, W_2^2 = int_0^1 (F^{-1}(u) - G^{-1}(u))^2 du, computed
    exactly from sorted projections (for N != M on the union of the breakpoints i/N and j/M). Directions come in
    random orthonormal frames (deterministic given ``seed``); when ``n_projections`` is a multiple of D a translation
    by d gives exactly SW_2^2 = |d|^2 / D, the value of the population average E_theta[(theta . d)^2].
    """
    x, y = _check_pair(x, y)
    check_positive_int(n_projections, "n_projections")
    check_nonnegative_int(seed, "seed")
    theta = _random_directions(x.shape[1], n_projections, seed, x.device)  # (D, L)
    x_proj = torch.sort(x.detach().double() @ theta, dim=0).values  # (N, L) sorted <theta_l, x_i>
    y_proj = torch.sort(y.detach().double() @ theta, dim=0).values  # (M, L)
    index_x, index_y, width = _quantile_grid(x.shape[0], y.shape[0], x.device)
    w2_sq = ((x_proj[index_x] - y_proj[index_y]) ** 2 * width[:, None]).sum(0)  # int (F^{-1} - G^{-1})^2 du, (L,)
    return math.sqrt(float(w2_sq.mean()))  # SW_2 = sqrt(mean_l W_2^2)


# --------------------------------------------------------------------------------------------------------------------
# noise floor


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def noise_floor(sample_fn: Callable[[int, int], Tensor], metric: Callable[[Tensor, Tensor], float], n: int,
                repeats: int = 5, seed: int = 0) -> Estimate:
    """The metric between two independent fresh draws of size ``n`` from the true distribution, over ``repeats``.

    ``sample_fn(n, seed)`` returns n samples (n, D) (or (n, *) if ``metric`` accepts it); ``metric(a, b)`` returns
    a number (e.g. ``mmd2``, ``sliced_wasserstein``, ``lambda a, b: c2st(a, b).accuracy``). A perfect model scores
    this floor at sample size n, not 0. Returns the mean and its standard error std / sqrt(repeats). The seeds of
    the 2 * repeats draws are derived from ``seed`` with NumPy's ``SeedSequence`` (distinct, reproducible).
    ``sample_fn`` may also be a model with ``sample(n, generator)`` (``curriculum.protocol``): each draw then
    uses a generator seeded with that draw's seed.
    """
    if not callable(sample_fn) and callable(getattr(sample_fn, "sample", None)):
        model = sample_fn
        sample_fn = lambda n, s: draw(model, n, s)  # noqa: E731
    if not callable(sample_fn):
        raise TypeError(f"sample_fn must be callable as sample_fn(n, seed), got {type(sample_fn).__name__}")
    if not callable(metric):
        raise TypeError(f"metric must be callable as metric(x, y), got {type(metric).__name__}")
    check_positive_int(n, "n")
    check_positive_int(repeats, "repeats")
    if repeats < 2:
        raise ValueError(f"repeats must be at least 2 to give a standard error, got {repeats}")
    check_nonnegative_int(seed, "seed")
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(2 * repeats)]
    values = []
    for r in range(repeats):
        draws = []
        for s in seeds[2 * r: 2 * r + 2]:
            sample = sample_fn(n, s)
            check_tensor(sample, "sample_fn(n, seed)", min_ndim=1)
            if sample.shape[0] != n:
                raise ValueError(f"sample_fn(n, seed) must return n = {n} samples, got shape {tuple(sample.shape)}")
            draws.append(sample)
        value = float(metric(draws[0], draws[1]))
        if not math.isfinite(value):
            raise ValueError(f"metric returned a non-finite value {value} on two draws of size n = {n}")
        values.append(value)
    floor = np.asarray(values, dtype=np.float64)
    return Estimate(float(floor.mean()), float(floor.std(ddof=1) / math.sqrt(repeats)))


# --------------------------------------------------------------------------------------------------------------------
# classifier two-sample test


def c2st(x: Tensor, y: Tensor, seed: int = 0, test_fraction: float = 0.5, n_neighbors: int | None = None) -> C2STResult:
    """Classifier two-sample test with a k-nearest-neighbour classifier (scikit-learn).

    ``x`` (N, *) and ``y`` (M, *) with the same trailing shape (images (N, C, H, W) are flattened to (N, D)).
    The larger set is subsampled to the smaller one (seeded), so chance level is exactly 0.5; a stratified seeded
    split holds out ``test_fraction`` of the points. Default k = round(sqrt(n_train)), made odd so that votes
    cannot tie. Distances are Euclidean on the raw coordinates, so features should share a scale.

    Under H0 (same law) the held-out accuracy is Binomial(n_test, 1/2) / n_test: stderr = sqrt(0.25 / n_test) and
    the one-sided p-value is P(Binomial(n_test, 1/2) >= correct).
    """
    from scipy.stats import binomtest
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    _check_points(x, "x", min_rows=2, ndim=None)
    check_tensor(y, "y", shape=(None, *x.shape[1:]), floating=True)
    _check_points(y, "y", min_rows=2, ndim=None)
    check_nonnegative_int(seed, "seed")
    check_probability(test_fraction, "test_fraction", open_interval=True)

    n_per_class = min(x.shape[0], y.shape[0])
    n_total = 2 * n_per_class
    n_test = math.ceil(test_fraction * n_total)  # scikit-learn's rounding for a float test_size
    n_train = n_total - n_test
    if n_test < 2 or n_train < 2:
        raise ValueError(f"test_fraction = {test_fraction} leaves {n_train} training and {n_test} test points out "
                         f"of {n_total}; each part needs at least one point per class")
    if n_neighbors is None:
        n_neighbors = max(1, round(math.sqrt(n_train)))
        if n_neighbors % 2 == 0:
            n_neighbors += 1  # odd k: no ties between two classes
        n_neighbors = min(n_neighbors, n_train)
    else:
        check_positive_int(n_neighbors, "n_neighbors")
        if n_neighbors > n_train:
            raise ValueError(f"n_neighbors must be at most the {n_train} training points, got {n_neighbors}")

    gen = generator(seed)
    x_flat = x.detach().reshape(x.shape[0], -1).cpu().double()
    y_flat = y.detach().reshape(y.shape[0], -1).cpu().double()
    x_flat = x_flat[torch.randperm(x_flat.shape[0], generator=gen)[:n_per_class]]  # balance the classes
    y_flat = y_flat[torch.randperm(y_flat.shape[0], generator=gen)[:n_per_class]]
    features = torch.cat([x_flat, y_flat]).numpy()
    labels = np.concatenate([np.zeros(n_per_class, dtype=np.int64), np.ones(n_per_class, dtype=np.int64)])
    train_f, test_f, train_l, test_l = train_test_split(features, labels, test_size=n_test, stratify=labels,
                                                        random_state=seed)
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors).fit(train_f, train_l)
    correct = int((classifier.predict(test_f) == test_l).sum())
    n_test = int(test_l.shape[0])
    return C2STResult(
        accuracy=correct / n_test,
        stderr=math.sqrt(0.25 / n_test),  # sd of Binomial(n_test, 1/2) / n_test
        p_value=float(binomtest(correct, n_test, 0.5, alternative="greater").pvalue),
        n_test=n_test,
    )


# --------------------------------------------------------------------------------------------------------------------
# mode coverage


def mode_coverage(samples: Tensor, means: Tensor, std: float, hq_radius: float = 3.0,
                  min_share: float = 0.2) -> ModeCoverage:
    """Modes covered by ``samples`` (N, D) of a mixture with centres ``means`` (K, D) and per-mode ``std``.

    Each sample goes to its nearest centre; it is *high quality* when |x - m_k| <= hq_radius * std. Mode k is
    *covered* when it received at least ``min_share`` of the N / K samples a uniform allocation would give it:

        count_k >= min_share * N / K

    The statistic of the Unrolled-GAN / VEEGAN / PacGAN mixture experiments (3 std, 20%).
    """
    samples = _check_points(samples, "samples")
    check_tensor(means, "means", shape=(None, samples.shape[1]), floating=True)
    means = _check_points(means, "means")
    if samples.device != means.device:
        raise ValueError(f"samples and means must be on the same device, got {samples.device} and {means.device}")
    std = check_positive_float(std, "std")
    hq_radius = check_positive_float(hq_radius, "hq_radius")
    min_share = check_probability(min_share, "min_share")

    n, k = samples.shape[0], means.shape[0]
    distances = torch.cdist(samples.detach().double(), means.detach().double())  # |x_i - m_k|, (N, K)
    nearest_distance, nearest = distances.min(dim=1)
    high_quality = nearest_distance <= hq_radius * std  # |x - m_k| <= r sigma
    counts = torch.bincount(nearest[high_quality], minlength=k)
    covered = counts >= min_share * n / k  # count_k >= min_share N / K
    return ModeCoverage(
        modes_covered=int(covered.sum()),
        n_modes=k,
        high_quality_share=float(high_quality.double().mean()),
        counts=tuple(int(c) for c in counts.tolist()),
    )


# --------------------------------------------------------------------------------------------------------------------
# Frechet distance


def frechet_distance(feats_x: Tensor, feats_y: Tensor) -> float:
    """Frechet distance between Gaussians fitted to ``feats_x`` (N, F) and ``feats_y`` (M, F); N, M >= 2.

    mu = mean, Sigma = sample covariance (ddof = 1), both in float64; then ``gaussian_frechet``. With classifier
    features this is the FID recipe (here for the digits classifier of ``curriculum.features``). Biased upward at
    small N (about F / N), so compare scores at equal sample sizes.
    """
    feats_x = _check_points(feats_x, "feats_x", min_rows=2)
    check_tensor(feats_y, "feats_y", shape=(None, feats_x.shape[1]), floating=True)
    feats_y = _check_points(feats_y, "feats_y", min_rows=2)
    x = feats_x.detach().cpu().double().numpy()
    y = feats_y.detach().cpu().double().numpy()
    mu_x, mu_y = x.mean(axis=0), y.mean(axis=0)  # mu
    cov_x = np.atleast_2d(np.cov(x, rowvar=False))  # Sigma = 1/(N-1) sum (x - mu)(x - mu)^T
    cov_y = np.atleast_2d(np.cov(y, rowvar=False))
    return gaussian_frechet(mu_x, cov_x, mu_y, cov_y)


# --------------------------------------------------------------------------------------------------------------------
# image sharpness


def image_sharpness(images: torch.Tensor, side: int | None = None) -> torch.Tensor:
    r"""Mean squared difference between horizontally and vertically adjacent pixels of each image:

    .. math:: s = \frac{\sum_{r,c} (x_{r,c+1} - x_{r,c})^2 + \sum_{r,c} (x_{r+1,c} - x_{r,c})^2}
                        {\#\text{horizontal pairs} + \#\text{vertical pairs}}

    (averaged over channels too). Higher is sharper; a blur lowers it, a constant image has 0. VAE samples
    drawn as decoder means are blurry: compare their sharpness with the data's.

    ``images``: ``(N, H, W)``, ``(N, C, H, W)``, or flattened ``(N, side * side)`` (``side=None`` infers the
    square side). Returns ``(N,)``.
    """
    check_tensor(images, "images", floating=True)
    check_finite(images, "images")  # NaN samples mean a diverged model: say so rather than return NaN
    if images.ndim == 2:
        n, dim = images.shape
        if side is None:
            side = math.isqrt(dim)
            if side * side != dim:
                raise ValueError(f"images of shape (N, D) need D to be a perfect square (or pass side), "
                                 f"got D = {dim}")
        else:
            check_positive_int(side, "side")
            if side * side != dim:
                raise ValueError(f"side must satisfy side * side = D = {dim} for images of shape "
                                 f"{tuple(images.shape)}, got side = {side}")
        images = images.reshape(n, 1, side, side)
    elif images.ndim in (3, 4):
        if side is not None:
            raise ValueError(f"side is only used for flattened images of shape (N, D), got images of shape "
                             f"{tuple(images.shape)} and side = {side}")
        if images.ndim == 3:
            images = images.unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
    else:
        raise ValueError(f"images must have shape (N, D), (N, H, W) or (N, C, H, W), got {tuple(images.shape)}")
    height, width = images.shape[-2:]
    if height < 2 or width < 2:
        raise ValueError(f"images must be at least 2x2 pixels, got {height}x{width}")
    horizontal = (images[..., :, 1:] - images[..., :, :-1]).pow(2).flatten(1)  # (x_{r,c+1} - x_{r,c})^2
    vertical = (images[..., 1:, :] - images[..., :-1, :]).pow(2).flatten(1)  # (x_{r+1,c} - x_{r,c})^2
    return torch.cat([horizontal, vertical], dim=1).mean(dim=1)
