r"""Score matching: learning the score :math:`\nabla_x \log p(x)` from samples, without the density, and sampling
with it by annealed Langevin dynamics (Hyvarinen, 2005; Vincent, 2011; Song and Ermon, 2019).

The objectives, for a score model :math:`s_\theta` and data :math:`x \sim p`:

.. math::
   J_{ESM}(\theta) &= \tfrac12\,E_p\,|s_\theta(x) - \nabla_x \log p(x)|^2                              && (1)\\
   J_{ISM}(\theta) &= E_p\big[\operatorname{tr}\nabla_x s_\theta(x) + \tfrac12 |s_\theta(x)|^2\big]
                    = J_{ESM}(\theta) - \tfrac12 E_p|\nabla_x \log p|^2                                   && (2)\\
   J_{SSM}(\theta) &= E_p E_v\big[v^\top \nabla_x (v^\top s_\theta(x)) + \tfrac12 |s_\theta(x)|^2\big],
                    \ E[v v^\top] = I                                                                      && (3)\\
   J_{DSM}(\theta;\sigma) &= \tfrac12\,E\,|s_\theta(x + \sigma\varepsilon, \sigma) + \varepsilon/\sigma|^2
                    = \tfrac12 E_{p_\sigma}|s_\theta - \nabla \log p_\sigma|^2 + C_\sigma                    && (4)

(2) is Hyvarinen's integration by parts (it needs :math:`p\,s_\theta \to 0` at infinity); (3) estimates the
trace in (2) with random projections :math:`v` (the variance-reduced form keeps :math:`\tfrac12|s|^2` exact);
(4) is denoising score matching, :math:`p_\sigma = p * N(0, \sigma^2 I)` the noised density. Over a geometric
ladder :math:`\sigma_1 > \dots > \sigma_L` the noise-conditional loss weights each level by :math:`\sigma^2`:

.. math:: L(\theta) = E_i\,\sigma_i^2 J_{DSM}(\theta;\sigma_i) = E_i\,\tfrac12 E\,|\sigma_i s_\theta(\tilde x, \sigma_i)
          + \varepsilon|^2.                                                                                  (5)

Tweedie's formula gives the posterior mean of the clean point, :math:`E[x \mid \tilde x] = \tilde x + \sigma^2
\nabla \log p_\sigma(\tilde x)` (6). Annealed Langevin runs ``n_steps`` ULA updates (``curriculum.langevin``) at each
level with step :math:`\alpha_i = \epsilon\,\sigma_i^2/\sigma_L^2` (7), from the widest level to the narrowest.
The link to diffusion (notebook 06): :math:`\varepsilon_\theta = -\sigma\,s_\theta`.

Symbols and shapes: ``x`` points ``(B, D)``; ``sigma`` :math:`\sigma`, a float or per-sample ``(B,)``;
``sigmas`` the ladder ``(L,)``, largest first; ``score(x)`` or ``score(x, sigma)`` :math:`s_\theta`, shaped like
``x``; ``eps`` :math:`\varepsilon`; ``step_scale`` :math:`\epsilon` in (7).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .checks import check_choice, check_nonnegative_int, check_positive_float, check_positive_int, check_tensor
from .grading import reference
from .langevin import langevin
from .nets import TimeMLP
from .tensors import append_dims, jacobian_trace, projected_trace
from .train import LR_SCHEDULES, FitResult, fit

__all__ = ["geometric_sigmas", "explicit_score_matching", "implicit_score_matching", "sliced_score_matching",
           "dsm_loss", "tweedie_denoise", "annealed_langevin_level", "annealed_langevin", "AnnealedResult",
           "NoiseConditionalScore", "ScoreConfig", "ScoreResult", "train_score", "ScoreSampler"]

Score = Callable[[torch.Tensor], torch.Tensor]
ConditionalScore = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def geometric_sigmas(sigma_max: float, sigma_min: float, n: int) -> torch.Tensor:
    """``n`` noise levels from ``sigma_max`` down to ``sigma_min`` with a constant ratio, ``(n,)`` float32
    (``n = 1``: the single level ``sigma_min``, which ``sigma_max`` must then equal)."""
    hi, lo = check_positive_float(sigma_max, "sigma_max"), check_positive_float(sigma_min, "sigma_min")
    check_positive_int(n, "n")
    if n == 1:
        if hi != lo:
            raise ValueError(f"n = 1 is a single level: sigma_max must equal sigma_min, got {hi:g} and {lo:g}")
        return torch.tensor([lo])
    if not hi > lo:
        raise ValueError(f"sigma_max must exceed sigma_min for n = {n} levels, got {hi:g} and {lo:g}")
    return torch.exp(torch.linspace(math.log(hi), math.log(lo), n))


def _checked(score_value: torch.Tensor, x: torch.Tensor, name: str = "score(x)") -> torch.Tensor:
    if not isinstance(score_value, torch.Tensor) or score_value.shape != x.shape:
        got = tuple(score_value.shape) if isinstance(score_value, torch.Tensor) else type(score_value).__name__
        raise ValueError(f"{name} must return a tensor shaped like x, {tuple(x.shape)}; got {got}")
    return score_value


def explicit_score_matching(score: Score, x: torch.Tensor, true_score: Score) -> torch.Tensor:
    """(1): ``0.5 * mean |score(x) - true_score(x)|^2`` over the batch ``x (B, D)``; a scalar."""
    check_tensor(x, "x", ndim=2, floating=True)
    diff = _checked(score(x), x) - _checked(true_score(x), x, "true_score(x)").detach()
    return 0.5 * (diff ** 2).sum(dim=1).mean()


def implicit_score_matching(score: Score, x: torch.Tensor) -> torch.Tensor:
    """(2): ``mean[tr(d score / dx) + 0.5 |score|^2]`` with the exact trace (D backward passes); a scalar that
    stays differentiable in the model's parameters."""
    check_tensor(x, "x", ndim=2, floating=True)
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        s = _checked(score(x), x)
        trace = jacobian_trace(s, x, create_graph=True)  # tr(d s / dx), exact
        return (trace + 0.5 * (s ** 2).sum(dim=1)).mean()  # (2)


def sliced_score_matching(score: Score, x: torch.Tensor, n_projections: int = 1,
                          generator: torch.Generator | None = None, variance_reduced: bool = True) -> torch.Tensor:
    """(3) with ``n_projections`` Gaussian directions per point: ``mean[v^T d(v^T s)/dx + 0.5 |s|^2]``; with
    ``variance_reduced=False`` the last term is ``0.5 (v^T s)^2`` instead (its unbiased estimate). A scalar."""
    check_tensor(x, "x", ndim=2, floating=True)
    check_positive_int(n_projections, "n_projections")
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        s = _checked(score(x), x)
        total = torch.zeros((), dtype=x.dtype, device=x.device)
        for _ in range(n_projections):
            v = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            quadratic = projected_trace(s, x, v, create_graph=True)  # v^T (d s / dx) v
            norm = 0.5 * (s ** 2).sum(dim=1) if variance_reduced else 0.5 * (v * s).sum(dim=1) ** 2
            total = total + (quadratic + norm).mean()
        return total / n_projections  # (3)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def dsm_loss(score: ConditionalScore, x: torch.Tensor, sigmas: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """(5): each point gets a level ``sigma`` drawn uniformly from ``sigmas`` and noise ``eps``; the loss is
    ``mean 0.5 |sigma * score(x + sigma eps, sigma) + eps|^2`` (the sigma^2-weighted (4)). A scalar."""
    check_tensor(x, "x", min_ndim=2, floating=True)
    check_tensor(sigmas, "sigmas", ndim=1, floating=True)
    index = torch.randint(0, sigmas.shape[0], (x.shape[0],), generator=generator, device=sigmas.device)
    sigma = sigmas[index].to(x)  # (B,)
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    s = append_dims(sigma, x.ndim)
    x_tilde = x + s * eps  # x~ = x + sigma eps
    residual = s * _checked(score(x_tilde, sigma), x) + eps  # sigma s + eps: zero for the exact noised score
    return 0.5 * (residual ** 2).flatten(1).sum(dim=1).mean()  # (5)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def tweedie_denoise(x_noisy: torch.Tensor, score: Score, sigma: float) -> torch.Tensor:
    """(6): ``E[x | x~] = x~ + sigma^2 score(x~)`` for ``x~ = x + sigma eps``; ``score`` is that of the noised
    density. ``(B, D)`` -> ``(B, D)``."""
    check_tensor(x_noisy, "x_noisy", min_ndim=1, floating=True)
    sigma = check_positive_float(sigma, "sigma")
    return x_noisy + sigma ** 2 * _checked(score(x_noisy), x_noisy)  # (6)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def annealed_langevin_level(score: ConditionalScore, x: torch.Tensor, sigma: float, step_size: float,
                            n_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One level of (7): ``n_steps`` ULA updates of size ``step_size`` on ``score(., sigma)``; ``(B, D)`` ->
    ``(B, D)``."""
    check_tensor(x, "x", min_ndim=2, floating=True)
    sigma = check_positive_float(sigma, "sigma")
    level = torch.full((x.shape[0],), sigma, dtype=x.dtype, device=x.device)
    return langevin(lambda y: score(y, level), x, step_size, n_steps, generator).x


@dataclass(frozen=True)
class AnnealedResult:
    """The samples ``x (B, D)``, the points after each level ``levels (L, B, D)``, and the network evaluations
    per sample ``nfe = L * n_steps``."""

    x: torch.Tensor
    levels: torch.Tensor
    nfe: int


def annealed_langevin(score: ConditionalScore, x0: torch.Tensor, sigmas: torch.Tensor, n_steps: int,
                      step_scale: float, generator: torch.Generator | None = None) -> AnnealedResult:
    """(7): for each level ``sigma_i`` (largest first) ``n_steps`` ULA updates with step
    ``step_scale * sigma_i^2 / sigma_L^2``, each level started where the previous one ended."""
    check_tensor(x0, "x0", min_ndim=2, floating=True)
    check_tensor(sigmas, "sigmas", ndim=1, floating=True)
    check_positive_int(n_steps, "n_steps")
    step_scale = check_positive_float(step_scale, "step_scale")
    if not bool((sigmas[:-1] > sigmas[1:]).all()):
        raise ValueError(f"sigmas must be strictly decreasing (largest first), got {sigmas.tolist()}")
    smallest = float(sigmas[-1])
    x, kept = x0.detach(), []
    for sigma in sigmas.tolist():
        x = annealed_langevin_level(score, x, sigma, step_scale * sigma ** 2 / smallest ** 2, n_steps, generator)
        kept.append(x)
    return AnnealedResult(x, torch.stack(kept), len(kept) * n_steps)


class NoiseConditionalScore(nn.Module):
    r"""``s_theta(x (B, D), sigma (B,) or float) -> (B, D)``: a time-conditioned MLP (``curriculum.nets``) fed
    :math:`\log\sigma`, its output divided by :math:`\sigma` (Song and Ermon, 2020), so that the network itself
    predicts :math:`-\varepsilon`, a quantity of order one at every level."""

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.net = TimeMLP(dim, hidden=hidden, depth=depth, time_scale=1.0)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).expand(x.shape[0])
        if not bool((sigma > 0).all()):
            raise ValueError("sigma must be positive")
        return self.net(x, torch.log(sigma)) / sigma[:, None]  # s = net(x, log sigma) / sigma


@dataclass(frozen=True)
class ScoreConfig:
    """``train_score``'s settings: the ladder (``n_levels`` geometric levels from ``sigma_max`` to ``sigma_min``),
    ``steps`` Adam updates (``lr``, ``lr_schedule``) on batches of ``batch_size``; the network's ``hidden``/``depth``;
    ``loss``: ``"dsm"`` (5) over the ladder, or ``"ssm"`` (3) with ``n_projections`` directions on data noised at
    ``sigma_min``, conditioned on that level (both then estimate the score of the same noised density)."""

    sigma_max: float = 5.0
    sigma_min: float = 0.01
    n_levels: int = 10
    steps: int = 6000
    batch_size: int = 256
    lr: float = 2e-3
    lr_schedule: str = "cosine"
    hidden: int = 128
    depth: int = 3
    loss: str = "dsm"
    n_projections: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        geometric_sigmas(self.sigma_max, self.sigma_min, self.n_levels)  # checks the ladder
        for name in ("steps", "batch_size", "hidden", "depth", "n_projections"):
            check_positive_int(getattr(self, name), name)
        check_positive_float(self.lr, "lr")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        check_choice(self.loss, "loss", ("dsm", "ssm"))
        check_nonnegative_int(self.seed, "seed")

    @property
    def sigmas(self) -> torch.Tensor:
        return geometric_sigmas(self.sigma_max, self.sigma_min, self.n_levels)


@dataclass(frozen=True)
class ScoreResult:
    """The trained network (eval mode), its ladder ``sigmas (L,)`` and the training history."""

    model: NoiseConditionalScore
    sigmas: torch.Tensor
    history: FitResult


def train_score(sample_data: Callable[[int, torch.Generator], torch.Tensor], config: ScoreConfig | None = None,
                progress: bool | None = None) -> ScoreResult:
    """Train a ``NoiseConditionalScore`` on ``sample_data(n, generator) -> (n, D)`` with ``config.loss`` on the
    course's loop (seeded, divergence errors with advice)."""
    config = ScoreConfig() if config is None else config
    if not isinstance(config, ScoreConfig):
        raise TypeError(f"config must be a ScoreConfig, got {type(config).__name__}")
    first = sample_data(2, torch.Generator().manual_seed(config.seed))
    check_tensor(first, "sample_data(n, generator)", ndim=2, floating=True)
    torch.manual_seed(config.seed)  # the network's initial weights
    model = NoiseConditionalScore(first.shape[1], config.hidden, config.depth)
    sigmas = config.sigmas

    def loss_fn(net: NoiseConditionalScore, x: torch.Tensor) -> torch.Tensor:
        if config.loss == "dsm":
            return dsm_loss(net, x, sigmas.to(x))
        smallest = float(sigmas[-1])
        noised = x + smallest * torch.randn_like(x)  # samples of p_sigma, the density DSM at sigma targets
        return sliced_score_matching(lambda y: net(y, smallest), noised, config.n_projections)

    history = fit(model, loss_fn, sample_data, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                  lr_schedule=config.lr_schedule, seed=config.seed, progress=progress)
    model.eval()
    return ScoreResult(model, sigmas, history)


class ScoreSampler:
    """A trained score network as a generative model of the course's protocol: ``sample(n, generator)`` starts
    from :math:`N(0, s_0^2 I)` with ``s_0 = start_std`` (default :math:`\\sigma_1`, the first level) and runs
    annealed Langevin (7); no likelihood (``nfe`` evaluations per sample). ``sigmas`` may be a sub-ladder, e.g.
    ``sigmas[-1:]`` for plain Langevin at the smallest level (then pass the wide ``start_std`` explicitly)."""

    def __init__(self, model: ConditionalScore, sigmas: torch.Tensor, n_steps: int, step_scale: float,
                 dim: int = 2, start_std: float | None = None) -> None:
        check_tensor(sigmas, "sigmas", ndim=1, floating=True)
        self.model, self.sigmas = model, sigmas
        self.start_std = float(sigmas[0]) if start_std is None else check_positive_float(start_std, "start_std")
        self.n_steps = check_positive_int(n_steps, "n_steps")
        self.step_scale = check_positive_float(step_scale, "step_scale")
        self.dim = check_positive_int(dim, "dim")
        self.nfe = sigmas.shape[0] * self.n_steps

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        check_positive_int(n, "n")
        x0 = self.start_std * torch.randn(n, self.dim, generator=generator)
        return annealed_langevin(self.model, x0, self.sigmas, self.n_steps, self.step_scale, generator).x
