r"""Wasserstein GANs: the critic's objective, its Lipschitz constraint (gradient penalty or weight clipping), and
the distance it measures.

Kantorovich-Rubinstein duality turns the transport problem (``curriculum.transport``, (1)) into a supremum over
1-Lipschitz functions, the critic :math:`f`:

.. math:: W_1(p_{data}, p_g) = \sup_{\lVert f \rVert_L \le 1} E_{p_{data}}[f(x)] - E_{p_g}[f(\tilde x)].      (1)

The critic minimises the negative of the objective, plus a penalty when the constraint is soft; the generator
moves its samples up the critic:

.. math:: L_f = E_{p_g}[f(\tilde x)] - E_{p_{data}}[f(x)] \; (+\, \lambda\, \mathrm{GP}),
          \qquad L_G = -E_z[f(G(z))].                                                                       (2)

The gradient penalty (Gulrajani et al., 2017) asks for unit gradient norm at random points on the segments
between real and generated points, one norm per sample:

.. math:: \mathrm{GP} = E_{\hat x}\big[(\lVert \nabla_{\hat x} f(\hat x) \rVert_2 - 1)^2\big],
          \quad \hat x = \epsilon x + (1 - \epsilon) \tilde x,\ \epsilon \sim U[0, 1] \text{ per sample}.    (3)

Weight clipping (Arjovsky et al., 2017) instead clamps every parameter after each critic update:

.. math:: w \leftarrow \operatorname{clamp}(w, -c, c).                                                        (4)

Symbols and shapes

================  ==================================================================================
``B``             batch size
``real``          data points :math:`x`, ``(B, *dims)``
``fake``          generated points :math:`\tilde x = G(z)`, ``(B, *dims)`` (same shape as ``real``)
``x_hat``         interpolates :math:`\hat x`, ``(B, *dims)``
``real_scores``   critic values :math:`f(x)`, ``(B,)``; ``fake_scores`` :math:`f(\tilde x)`, ``(B,)``
``norms``         per-sample :math:`\lVert \nabla_x f(x) \rVert_2` over all non-batch dimensions, ``(B,)``
``gp_weight``     :math:`\lambda` (10 in Gulrajani et al.); ``clip`` :math:`c`
================  ==================================================================================

A critic's dual value :math:`E_{data} f - E_g f` is a lower bound on :math:`K \cdot W_1` for its actual
Lipschitz constant :math:`K`; it equals :math:`W_1` only for an optimal 1-Lipschitz critic. With the soft
penalty (3) the optimum overshoots: on a direction where the data are a distance :math:`w` apart, the penalised
slope :math:`k` maximises :math:`k w - \lambda (k - 1)^2`, so :math:`k = 1 + w / (2\lambda)` and the dual value
is :math:`w + w^2 / (2 \lambda)`. Dividing the value by the largest gradient norm seen (``lipschitz_estimate``)
removes that overshoot. Random interpolation points come from an explicit ``torch.Generator`` on the data's
device, so runs repeat exactly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ..checks import (check_adam_betas, check_bool, check_nonnegative_float, check_nonnegative_int, check_positive_float, check_positive_int,
                      check_tensor)
from ..grading import reference
from ..runtime import generator as make_generator
from ..tensors import input_gradient
from ..train import StepContext, run_steps, start_run
from .networks import Critic

__all__ = [
    "critic_loss",
    "generator_loss_wasserstein",
    "interpolates",
    "gradient_norms",
    "gradient_penalty",
    "clip_weights_",
    "clipped_share",
    "dual_value",
    "lipschitz_estimate",
    "WassersteinLoss",
    "CriticConfig",
    "CriticResult",
    "train_critic",
]


def _check_scores(scores: object, name: str) -> torch.Tensor:
    check_tensor(scores, name, ndim=1, floating=True)
    if scores.shape[0] == 0:  # type: ignore[union-attr]
        raise ValueError(f"{name} must hold at least one critic value, got shape (0,)")
    return scores  # type: ignore[return-value]


def _check_pair(real: object, fake: object) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(real, "real", min_ndim=2, floating=True)
    check_tensor(fake, "fake", shape=tuple(real.shape), floating=True)  # type: ignore[union-attr]
    return real, fake  # type: ignore[return-value]


def check_gp_weight(gp_weight: object) -> float:
    """``gp_weight`` must be a finite number >= 0 (the penalty weight lambda); named errors otherwise."""
    return check_nonnegative_float(gp_weight, "gp_weight")


def check_clip(clip: object) -> float | None:
    """``clip`` must be ``None`` (no clipping) or a finite number > 0 (the clipping bound c)."""
    return None if clip is None else check_positive_float(clip, "clip")


# --------------------------------------------------------------------------------------------------------------
# The objective (2)
# --------------------------------------------------------------------------------------------------------------
@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    r"""The critic's loss without penalty, :math:`L_f = E_g[f(\tilde x)] - E_{data}[f(x)]` (2): minus the dual
    value. ``(B_r,)``, ``(B_f,)`` -> scalar. No sigmoid and no log: the critic's values are potentials."""
    _check_scores(real_scores, "real_scores")
    _check_scores(fake_scores, "fake_scores")
    return fake_scores.mean() - real_scores.mean()  # E_g f - E_data f                                  (2)


def generator_loss_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    r"""The generator's loss :math:`L_G = -E_z[f(G(z))]` (2): ``(B,)`` -> scalar."""
    _check_scores(fake_scores, "fake_scores")
    return -fake_scores.mean()  # -E f(G(z))                                                             (2)


# --------------------------------------------------------------------------------------------------------------
# The Lipschitz constraint: gradient penalty (3) and weight clipping (4)
# --------------------------------------------------------------------------------------------------------------
@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r""":math:`\hat x = \epsilon x + (1 - \epsilon) \tilde x`, one :math:`\epsilon \sim U[0, 1]` per sample (3).

    ``real``, ``fake``: ``(B, *dims)`` -> ``(B, *dims)``, on their device; ``generator`` (on that device) makes
    the draw repeatable.
    """
    _check_pair(real, fake)
    eps = torch.rand(real.shape[0], generator=generator, device=real.device, dtype=real.dtype)
    eps = eps.reshape(-1, *([1] * (real.dim() - 1)))  # (B, 1, ..., 1): one epsilon per sample
    return eps * real + (1 - eps) * fake


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def gradient_norms(critic: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                   create_graph: bool = False) -> torch.Tensor:
    r"""Per-sample :math:`\lVert \nabla_x f(x) \rVert_2` over all non-batch dimensions: ``(B, *dims)`` -> ``(B,)``.

    ``create_graph=True`` keeps the graph so the norms can be differentiated with respect to the critic's
    weights (double backpropagation, needed by the penalty); otherwise the result is detached.
    """
    check_tensor(x, "x", min_ndim=2, floating=True)

    def checked_critic(points: torch.Tensor) -> torch.Tensor:
        return _check_scores(critic(points), "critic(x)")

    # f(x_b) depends on x_b alone, so the gradient of the sum holds every per-sample gradient.
    grad = input_gradient(checked_critic, x, create_graph=create_graph)
    norms = grad.flatten(1).norm(dim=1)  # |grad f(x_b)|_2 per sample
    return norms if create_graph else norms.detach()


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None, one_sided: bool = False) -> torch.Tensor:
    r""":math:`\mathrm{GP} = \operatorname{mean}_b (\lVert \nabla f(\hat x_b) \rVert_2 - 1)^2` on random
    interpolates (3), differentiable with respect to the critic's weights. ``(B, *dims)`` twice -> scalar.

    ``one_sided=True`` penalises only slopes above 1, :math:`\max(0, \lVert \nabla f \rVert - 1)^2` (the
    Lipschitz penalty of Petzka et al., 2018). The two-sided form also pushes small slopes up to 1; on the line
    that makes a slope's sign hard to change once the penalty has set it (every path from -1 to +1 passes through
    0, where the penalty is lambda), so a critic can stall at the wrong sign from its initialisation.
    """
    check_bool(one_sided, "one_sided")
    x_hat = interpolates(real.detach(), fake.detach(), generator)  # no gradient flows into G
    norms = gradient_norms(critic, x_hat, create_graph=True)
    excess = torch.relu(norms - 1) if one_sided else norms - 1
    return (excess ** 2).mean()  # E (|grad f(x_hat)| - 1)^2                                            (3)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
@torch.no_grad()
def clip_weights_(critic: nn.Module, clip: float) -> None:
    r"""Clamp every parameter of ``critic`` to :math:`[-c, c]` in place (4), as after each critic update."""
    if not isinstance(critic, nn.Module):
        raise TypeError(f"critic must be a torch.nn.Module, got {type(critic).__name__}")
    clip = check_positive_float(clip, "clip")
    for param in critic.parameters():
        param.clamp_(-clip, clip)  # w <- clamp(w, -c, c)                                                 (4)


def clipped_share(critic: nn.Module, clip: float, tolerance: float = 0.01) -> dict[str, float]:
    """For each weight matrix of ``critic``: the share of its entries within ``tolerance * clip`` of +-clip.

    Weight clipping pushes weights onto the bounds (the clipped critic's capacity is spent at the box's
    corners); a share near 1 says the constraint, not the data, shapes that layer.
    """
    clip = check_positive_float(clip, "clip")
    shares = {}
    for name, param in critic.named_parameters():
        if param.dim() >= 2:
            at_bound = param.detach().abs() >= (1 - tolerance) * clip
            shares[name.removesuffix(".weight")] = float(at_bound.double().mean())
    return shares


# --------------------------------------------------------------------------------------------------------------
# What a critic measures
# --------------------------------------------------------------------------------------------------------------
@torch.no_grad()
def dual_value(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor) -> float:
    r"""The critic's estimate of (1), :math:`\operatorname{mean} f(x) - \operatorname{mean} f(\tilde x)`.

    ``real (B_r, *dims)``, ``fake (B_f, *dims)`` -> float; at most :math:`K \cdot W_1` for a K-Lipschitz critic.
    """
    check_tensor(real, "real", min_ndim=2, floating=True)
    check_tensor(fake, "fake", shape=(None, *real.shape[1:]), floating=True)
    return float(critic(real).mean() - critic(fake).mean())  # E_data f - E_g f                        (1)


def lipschitz_estimate(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                       generator: torch.Generator | None = None) -> float:
    r"""The largest per-sample gradient norm of ``critic`` over ``real``, ``fake`` and their interpolates.

    A lower estimate of the critic's Lipschitz constant :math:`K` where the data live; the dual value divided by
    it is the value of :math:`f / K`, which is (approximately) 1-Lipschitz, so it estimates :math:`W_1` from
    below up to that approximation.
    """
    _check_pair(real, fake)
    points = torch.cat([real, fake, interpolates(real, fake, generator)])
    return float(gradient_norms(critic, points).max())


# --------------------------------------------------------------------------------------------------------------
# The objective as an option set for the adversarial loop
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WassersteinLoss:
    r"""The WGAN objective (2) with its Lipschitz constraint as options: ``gp_weight`` :math:`\lambda \ge 0` for
    the penalty (3) (``one_sided`` for its one-sided form) and ``clip`` :math:`c > 0` (or ``None``) for weight clipping (4). With neither, the critic
    is unconstrained and its values grow without bound: the failure the constraint prevents.

    ``critic_step`` returns the loss to descend and the logs (``w1_estimate``, the dual value before the
    penalty, and ``gradient_penalty``); ``after_critic_update`` applies the clipping;
    ``generator_loss`` is :math:`-E f(G(z))`.
    """

    gp_weight: float = 10.0
    clip: float | None = None
    one_sided: bool = False

    def __post_init__(self) -> None:
        check_gp_weight(self.gp_weight)
        check_clip(self.clip)
        check_bool(self.one_sided, "one_sided")

    def critic_step(self, critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        real_scores, fake_scores = critic(real), critic(fake)
        loss = critic_loss(real_scores, fake_scores)  # E_g f - E_data f                                (2)
        logs = {"w1_estimate": -float(loss.detach())}
        if self.gp_weight > 0:
            penalty = gradient_penalty(critic, real, fake, generator, self.one_sided)
            loss = loss + self.gp_weight * penalty  # L_f + lambda GP                                      (2, 3)
            logs["gradient_penalty"] = float(penalty.detach())
        return loss, logs

    def after_critic_update(self, critic: nn.Module) -> None:
        if self.clip is not None:
            clip_weights_(critic, self.clip)  # (4)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return generator_loss_wasserstein(fake_scores)

    def advice(self) -> list[str]:
        if self.gp_weight == 0 and self.clip is None:
            return ["constrain the critic: gp_weight=10 (gradient penalty) or clip=0.01 (weight clipping); without "
                    "either its values grow without bound"]
        return ["keep the critic free of batch-coupling layers (batch norm, minibatch std) under a gradient penalty"]


# --------------------------------------------------------------------------------------------------------------
# A critic trained on two fixed distributions: the neural estimate of W1
# --------------------------------------------------------------------------------------------------------------
Sampler = Callable[[int, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class CriticConfig:
    """``train_critic``'s settings: ``steps`` Adam updates (``lr``, ``betas``) on batches of ``batch_size``
    from each side, an MLP critic of ``depth`` hidden layers of ``hidden`` units, the constraint
    (``gp_weight``, ``clip``, ``one_sided``) and the ``seed``."""

    steps: int = 500
    batch_size: int = 256
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.9)
    hidden: int = 64
    depth: int = 2
    gp_weight: float = 10.0
    clip: float | None = None
    one_sided: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "hidden", "depth"):
            check_positive_int(getattr(self, name), name)
        check_positive_float(self.lr, "lr")
        check_gp_weight(self.gp_weight)
        check_clip(self.clip)
        check_bool(self.one_sided, "one_sided")
        check_nonnegative_int(self.seed, "seed")
        check_adam_betas(self.betas)


@dataclass(frozen=True)
class CriticResult:
    """What ``train_critic`` returns: the critic (eval mode) and, per step, its dual value on the batch."""

    critic: Critic
    w1_estimate: list[float]
    loss: list[float] = field(default_factory=list)


class _CriticStep:
    """One critic update on a batch from each side, for the course's loop (``curriculum.train.run_steps``)."""

    def __init__(self, critic: Critic, objective: WassersteinLoss, config: CriticConfig,
                 noise: torch.Generator) -> None:
        self.critic, self.objective, self.noise = critic, objective, noise
        self.optimizer = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=tuple(config.betas))
        self.modules, self.optimizers = {"critic": critic}, {"critic": self.optimizer}
        self.config = config

    def __call__(self, ctx: StepContext, next_batch: Callable[[], tuple[torch.Tensor, torch.Tensor]]
                 ) -> dict[str, float]:
        real, fake = next_batch()
        loss, logs = self.objective.critic_step(self.critic, real, fake, self.noise)
        value = ctx.update(loss, self.optimizer, name="the critic loss", key="critic loss", logged=logs)
        self.objective.after_critic_update(self.critic)
        return {"loss": value, **logs}

    def advice(self) -> list[str]:
        return [f"lower the learning rate (lr={self.config.lr:g}; try a tenth)", *self.objective.advice()]


def _batches(side: Sampler | torch.Tensor, name: str) -> Callable[[int, torch.Generator], torch.Tensor]:
    if isinstance(side, torch.Tensor):
        check_tensor(side, name, min_ndim=2, floating=True)
        return lambda n, generator: side  # a finite point set: the whole set every step
    sample = getattr(side, "sample", side)
    if not callable(sample):
        raise TypeError(f"{name} must be a tensor of points, a sampler sample(n, generator) or a distribution with "
                        f"one, got {type(side).__name__}")
    return sample


def train_critic(real: Sampler | torch.Tensor, fake: Sampler | torch.Tensor, config: CriticConfig | None = None,
                 progress: bool | None = None) -> CriticResult:
    r"""Train a critic to maximise (1) between two fixed distributions, under the constraint of ``config``.

    ``real`` and ``fake`` are each a finite point set ``(N, *dims)`` (used whole at every step) or a sampler:
    a distribution with ``sample(n, generator)`` or a callable ``(n, generator) -> (n, *dims)``. The critic
    lives on the device and in the dtype of the first ``real`` batch. Deterministic per ``config.seed``.
    """
    config = CriticConfig() if config is None else config
    if not isinstance(config, CriticConfig):
        raise TypeError(f"config must be a CriticConfig, got {type(config).__name__}")
    sample_real, sample_fake = _batches(real, "real"), _batches(fake, "fake")
    stream = start_run(config.seed)
    first = (sample_real(config.batch_size, stream), sample_fake(config.batch_size, stream))
    check_tensor(first[0], "real (a batch)", min_ndim=2, floating=True)
    check_tensor(first[1], "fake (a batch)", shape=(None, *first[0].shape[1:]), floating=True)
    x0 = first[0]
    if x0.dim() != 2:
        raise ValueError(f"real must hold flat points (N, dim) for the MLP critic, got shape {tuple(x0.shape)}")
    critic = Critic(x0.shape[1], config.hidden, config.depth).to(x0.device, x0.dtype)
    objective = WassersteinLoss(config.gp_weight, config.clip, config.one_sided)
    pending = [first]

    def next_batch() -> tuple[torch.Tensor, torch.Tensor]:
        if pending:
            return pending.pop()
        return sample_real(config.batch_size, stream), sample_fake(config.batch_size, stream)

    step = _CriticStep(critic, objective, config, make_generator(config.seed + 1, x0.device))
    result = run_steps(step, next_batch, config.steps, what="critic training", desc="critic", progress=progress)
    critic.eval()
    return CriticResult(critic, result.logs["w1_estimate"], result.history)
