r"""One evaluation loop for every family on the plane, measured against the physical limits.

For a model :math:`q` of a toy :math:`p` with exact :math:`\log p` and entropy :math:`H(p)`:

- **test NLL** :math:`-\frac1N\sum_i \log q(x_i)` over ``N`` fresh test points, and the **KL gap**
  :math:`\widehat{KL} = \frac1N\sum_i [\log p(x_i) - \log q(x_i)]`, the same points paired, so its standard
  error is the s.e. of the differences (far smaller than the NLL's own). A lower bound :math:`\log q` (the VAE)
  makes the gap an upper bound; quadrature (the EBM) has its grid's error;
- **C2ST**: held-out accuracy of a k-NN classifier telling model samples from test points; a perfect model scores
  the *noise floor*, two fresh draws of the data against each other: its expectation is exactly 1/2 (the labels are
  exchangeable), its spread from test to test about :math:`\sqrt{1/(4 n_{test})}`;
- **high-quality share**: samples inside the level set of :math:`p` that holds 99% of its mass,
  :math:`\{x : \log p(x) \ge \ell_{0.01}\}` with :math:`\ell_{0.01}` the 1% quantile of :math:`\log p(X)`,
  :math:`X \sim p` (so the data score 99% by construction; on the ring it is the disc of radius
  :math:`3.035\sigma` about each centre, the 3-sigma rule of the mode-collapse literature);
- **modes covered**: high-quality samples go to the component of largest posterior (the ring's 8 Gaussians, the 2
  moons); a mode is covered when it receives at least 20% of the :math:`N/K` samples a fair share gives it (the
  mode-collapse literature's rule);
- **weakest mode**: the least-visited mode's count over its fair share *of the high-quality samples*,
  :math:`\min_k c_k / (N_{hq}/K)`: 1 for perfectly even modes whatever the share on the data, 0 when a mode is
  missing (the data's own value is below 1 by multinomial noise, about 0.9 on the ring at N = 2,000);
- **samples per second** (wall clock, one warm-up call first; it varies from run to run) and **network
  evaluations per sample** (fixed by the sampler); for families with a likelihood, **points scored per second**
  (what anomaly detection pays).

Symbols: ``N`` test points / samples (``N_EVAL``); ``K`` modes; ``H`` entropy in nats.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from .. import metrics, protocol
from ..checks import check_positive_int
from ..gaussians import log_normal_isotropic
from ..grading import reference

__all__ = ["N_EVAL", "ToyMeasurement", "level_threshold", "modes_and_quality", "measure_toy", "c2st_floor",
           "spread", "nll_gap"]

N_EVAL = 2000
HQ_MASS = 0.99
MIN_SHARE = 0.2


@dataclass(frozen=True)
class ToyMeasurement:
    """Everything measured for one trained model: ``nll``/``gap`` (``metrics.Estimate`` or ``None`` without a
    likelihood), ``kind`` (``"exact"``, ``"lower bound"``, ``"quadrature"``, ``"none"``), ``c2st`` accuracy,
    ``modes`` covered of ``n_modes``, ``weakest`` (the least-visited mode's share of an even split of the
    high-quality samples), ``hq`` share, ``samples_per_s``, ``scores_per_s`` (NaN without a likelihood), ``nfe``,
    and the ``samples`` themselves."""

    nll: metrics.Estimate | None
    gap: metrics.Estimate | None
    kind: str
    c2st: float
    modes: int
    n_modes: int
    weakest: float
    hq: float
    samples_per_s: float
    scores_per_s: float
    nfe: int
    samples: torch.Tensor


def _components(dist, x: torch.Tensor) -> torch.Tensor:
    r"""Per-component :math:`\log w_k p_k(x)` ``(N, K)``: the moons' own, or the ring's Gaussians."""
    if hasattr(dist, "component_log_prob"):
        return dist.component_log_prob(x)
    return torch.log(dist.weights.to(x)) + log_normal_isotropic(x, dist.means.to(x), dist.stds.to(x) ** 2)


def level_threshold(dist, n: int = 200_000, seed: int = 12345) -> float:
    r""":math:`\ell_{0.01}`: the 1% quantile of :math:`\log p(X)`, :math:`X \sim p`, from ``n`` seeded draws."""
    x = dist.sample(n, seed=seed).double()
    return float(torch.quantile(dist.log_prob(x), 1 - HQ_MASS))


def modes_and_quality(dist, samples: torch.Tensor, threshold: float) -> tuple[int, int, float, float]:
    """``(modes covered, number of modes, weakest mode's count / (N_hq / K), high-quality share)`` of ``samples
    (N, 2)`` (see the module's text)."""
    x = samples.detach().double().cpu()
    finite = torch.isfinite(x).all(dim=1)
    log_p = torch.full((x.shape[0],), -math.inf, dtype=torch.float64)
    log_p[finite] = dist.log_prob(x[finite])
    high = log_p >= threshold
    components = _components(dist, x[high])
    k = components.shape[1]
    counts = torch.bincount(components.argmax(dim=1), minlength=k)
    covered = int((counts >= MIN_SHARE * x.shape[0] / k).sum())  # count_k >= 20% of N / K
    n_high = int(high.sum())
    weakest = float(counts.min()) / (n_high / k) if n_high else 0.0  # min_k c_k / (N_hq / K)
    return covered, k, weakest, float(high.double().mean())


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def nll_gap(model, dist, test: torch.Tensor) -> tuple[metrics.Estimate, metrics.Estimate, str]:
    """The test NLL and the paired KL gap (estimates with standard errors) and the likelihood's kind."""
    result = protocol.log_likelihood(model, test)
    log_q = result.values.double()
    log_p = dist.log_prob(test.double())
    nll_mean, nll_se = metrics.mean_and_stderr(-log_q)
    gap_mean, gap_se = metrics.mean_and_stderr(log_p - log_q)
    return (metrics.Estimate(float(nll_mean), float(nll_se), result.kind),
            metrics.Estimate(float(gap_mean), float(gap_se), result.kind), result.kind)


def c2st_floor(dist, n: int = N_EVAL, repeats: int = 10) -> metrics.Estimate:
    """C2ST accuracy of the data against fresh data at sample size ``n`` (``metrics.noise_floor``)."""
    return metrics.noise_floor(dist, lambda a, b: metrics.c2st(a, b).accuracy, n, repeats=repeats)


def measure_toy(model, dist, test: torch.Tensor, nfe: int, threshold: float, seed: int = 0,
                timing: bool = True) -> ToyMeasurement:
    """Measure one model against ``test (N, 2)`` fresh points (see the module's text). ``seed``: the sampling
    generator's. ``timing=False`` skips the warm-up and reports NaN samples per second."""
    n = check_positive_int(test.shape[0], "test rows")
    if timing:
        protocol.draw(model, 64, seed=seed + 1)  # warm-up: first calls pay for allocation
    start = time.perf_counter()
    samples = protocol.draw(model, n, seed=seed)
    seconds = time.perf_counter() - start
    if not torch.isfinite(samples).all():
        raise ValueError(f"{type(model).__name__} produced non-finite samples; its training diverged: retrain it")
    samples = samples.double()
    scores_per_s = math.nan
    if protocol.has_likelihood(model):
        start = time.perf_counter()
        nll, gap, kind = nll_gap(model, dist, test)
        scores_per_s = n / (time.perf_counter() - start) if timing else math.nan
    else:
        nll, gap, kind = None, None, "none"
    modes, n_modes, weakest, hq = modes_and_quality(dist, samples, threshold)
    c2st = metrics.c2st(samples, test.double()).accuracy
    return ToyMeasurement(nll, gap, kind, c2st, modes, n_modes, weakest, hq, n / seconds if timing else math.nan,
                          scores_per_s, nfe, samples)


def spread(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1) of the per-seed values."""
    x = torch.tensor([float(v) for v in values], dtype=torch.float64)
    return float(x.mean()), float(x.std()) if x.numel() > 1 else 0.0
