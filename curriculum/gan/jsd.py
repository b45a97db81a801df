r"""The original GAN: the losses on logits, the optimal discriminator, and the Jensen-Shannon link.

A generator :math:`G` maps noise :math:`z \sim N(0, I)` to a point :math:`x = G(z)` and a discriminator outputs a
logit :math:`l`, with :math:`D = \operatorname{sigmoid}(l)` the probability that its input is real. The game is

.. math:: \min_G \max_D V(D, G),\quad V(D, G) = E_{p_{data}}[\log D(x)] + E_{p_g}[\log(1 - D(x))].       (1)

For a fixed :math:`G` the inner maximum is reached pointwise by the optimal discriminator

.. math:: D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} = \operatorname{sigmoid}(\log p_{data} - \log p_g),  (2)

and at that maximum the game measures the Jensen-Shannon divergence (Goodfellow et al., 2014, Theorem 1):

.. math:: V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g),
          \quad \mathrm{JSD}(p \,\|\, q) = \tfrac12 KL(p \,\|\, m) + \tfrac12 KL(q \,\|\, m),\ m = \tfrac12(p + q).  (3)

``jsd_grid`` and ``gan_value_grid`` evaluate both sides of (3) by quadrature, independently of any network, so
the identity can be checked to float64 precision; ``jsd_from_discriminator`` turns a trained discriminator's
logits into the JSD estimate :math:`(\hat V + \log 4) / 2`, exact in expectation when :math:`D = D^*`.

Every log-probability is computed from logits with softplus, never as ``log(sigmoid(l))``:

.. math:: \log D = -\operatorname{softplus}(-l), \qquad \log(1 - D) = -\operatorname{softplus}(l).            (4)

Symbols and shapes

=====================  =================================================================================
``B``                  batch size
``z``                  latent noise :math:`z \sim N(0, I)`, ``(B, latent_dim)``
``x``                  a data point or a generated point :math:`G(z)`, ``(B, out_dim)``
``logits``             discriminator output :math:`l`, ``(B,)``; :math:`D = \operatorname{sigmoid}(l)`
``real_logits``        :math:`l` on data, ``(B,)``
``fake_logits``        :math:`l` on generated points, ``(B,)``
``d``                  discriminator values :math:`D(x) \in [0, 1]` on grid points, ``(*grid)``
``log_p_data``         :math:`\log p_{data}` on grid points (or at samples), ``(*grid)``
``log_p_g``            :math:`\log p_g`, same shape as ``log_p_data``
``log_p``, ``log_q``   two log-densities on the same grid points, ``(*grid)``
``cell``               the volume of one grid cell (:math:`\Delta x`, or :math:`\Delta x \Delta y` in 2-D)
``V``                  the value (1) of the game; ``JSD`` in nats, :math:`0 \le \mathrm{JSD} \le \log 2`
=====================  =================================================================================

The grid quantities are computed in the dtype of ``log_p`` (use float64 for the identity checks).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..checks import check_choice, check_positive_float, check_tensor
from ..grading import reference

__all__ = [
    "GENERATOR_LOSSES",
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_nonsaturating",
    "generator_logit_gradient",
    "optimal_discriminator",
    "jsd_grid",
    "gan_value_grid",
    "jsd_from_discriminator",
    "JensenShannonLoss",
]

GENERATOR_LOSSES = ("saturating", "nonsaturating")
LOG_4 = math.log(4.0)
# Grid densities must integrate to 1 within this tolerance: identity (3) needs both masses to be 1.
_MASS_TOLERANCE = 1e-2


# --------------------------------------------------------------------------------------------------------------
# Losses on logits
# --------------------------------------------------------------------------------------------------------------
def _check_logits(logits: object, name: str) -> torch.Tensor:
    check_tensor(logits, name, ndim=1, floating=True)
    if logits.shape[0] == 0:  # type: ignore[union-attr]
        raise ValueError(f"{name} must hold at least one logit, got shape (0,)")
    return logits  # type: ignore[return-value]


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The discriminator's loss :math:`-(E_{data}[\log D(x)] + E_g[\log(1 - D(G(z)))])`, i.e. :math:`-\hat V`.

    ``real_logits (B_r,)``, ``fake_logits (B_f,)`` -> scalar. Equal to binary cross-entropy with label 1 on
    data and 0 on generated points.
    """
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    log_d_real = -F.softplus(-real_logits)  # log D(x) = -softplus(-l)                                 (4)
    log_one_minus_d_fake = -F.softplus(fake_logits)  # log(1 - D(G(z))) = -softplus(l)                 (4)
    return -(log_d_real.mean() + log_one_minus_d_fake.mean())


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The minimax generator loss :math:`E_z[\log(1 - D(G(z)))]` (minimised): ``(B,)`` -> scalar.

    Its gradient vanishes when the discriminator confidently rejects the fakes (see ``generator_logit_gradient``).
    """
    _check_logits(fake_logits, "fake_logits")
    return (-F.softplus(fake_logits)).mean()  # E[log(1 - D(G(z)))]                                    (4)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The non-saturating generator loss :math:`-E_z[\log D(G(z))]`: ``(B,)`` -> scalar."""
    _check_logits(fake_logits, "fake_logits")
    return F.softplus(-fake_logits).mean()  # -E[log D(G(z))] = E[softplus(-l)]                        (4)


def generator_logit_gradient(logits: torch.Tensor, loss: str = "saturating") -> torch.Tensor:
    r"""The derivative of the per-sample generator loss with respect to its logit, in closed form.

    ``saturating``:    :math:`\frac{d}{dl} \log(1 - \operatorname{sigmoid}(l)) = -\operatorname{sigmoid}(l)`,
    which tends to 0 as :math:`l \to -\infty` (a confident discriminator leaves the generator no signal);

    ``nonsaturating``: :math:`\frac{d}{dl} [-\log \operatorname{sigmoid}(l)] = -(1 - \operatorname{sigmoid}(l))`,
    which tends to -1 there. ``logits`` of any shape -> a tensor of the same shape.
    """
    check_tensor(logits, "logits", floating=True)
    check_choice(loss, "loss", GENERATOR_LOSSES)
    if loss == "saturating":
        return -torch.sigmoid(logits)  # d/dl log(1 - sigmoid(l)) = -sigmoid(l)
    return -torch.sigmoid(-logits)  # d/dl [-log sigmoid(l)] = -(1 - sigmoid(l)) = -sigmoid(-l)


# --------------------------------------------------------------------------------------------------------------
# The optimal discriminator and the divergences it measures
# --------------------------------------------------------------------------------------------------------------
def _check_log_density(x: object, name: str, shape: torch.Size | None = None) -> torch.Tensor:
    check_tensor(x, name, floating=True)
    if shape is not None and x.shape != shape:  # type: ignore[union-attr]
        raise ValueError(f"{name} must have the same shape as log_p_data / log_p, {tuple(shape)}; "
                         f"got {tuple(x.shape)}")  # type: ignore[union-attr]
    if torch.isnan(x).any() or (x == math.inf).any():  # type: ignore[operator, union-attr]
        raise ValueError(f"{name} must hold log-densities: finite values or -inf (zero density); "
                         f"got NaN or +inf")
    return x  # type: ignore[return-value]


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def optimal_discriminator(log_p_data: torch.Tensor, log_p_g: torch.Tensor) -> torch.Tensor:
    r""":math:`D^*(x) = p_{data} / (p_{data} + p_g) = \operatorname{sigmoid}(\log p_{data} - \log p_g)`, elementwise.

    ``(*shape)``, ``(*shape)`` -> ``(*shape)``. Where both densities are zero every :math:`D` is optimal; the
    function returns 1/2 there.
    """
    _check_log_density(log_p_data, "log_p_data")
    _check_log_density(log_p_g, "log_p_g", log_p_data.shape)
    both_zero = torch.isneginf(log_p_data) & torch.isneginf(log_p_g)
    log_ratio = torch.where(both_zero, torch.zeros_like(log_p_data), log_p_data - log_p_g)
    return torch.sigmoid(log_ratio)  # D* = sigmoid(log p_data - log p_g)                               (2)


def _grid_mass(log_p: torch.Tensor, cell: float, name: str) -> torch.Tensor:
    mass = torch.exp(log_p).sum() * cell  # int p dx ~ sum_i p(x_i) cell
    if abs(float(mass) - 1.0) > _MASS_TOLERANCE:
        raise ValueError(f"{name} must be a density that integrates to 1 over the grid (sum exp({name}) * cell); "
                         f"got {float(mass):.4g}. Widen or refine the grid, or check cell (the cell volume)")
    return mass


def _p_log_ratio(log_p: torch.Tensor, log_r: torch.Tensor) -> torch.Tensor:
    """``p * log_r`` with the convention 0 * log 0 = 0 (and 0 * anything = 0) where ``p = exp(log_p) = 0``."""
    p = torch.exp(log_p)
    return torch.where(p > 0, p * log_r, torch.zeros_like(p))


def jsd_grid(log_p: torch.Tensor, log_q: torch.Tensor, cell: float) -> float:
    r""":math:`\mathrm{JSD}(p \,\|\, q)` in nats by quadrature over grid points (3), independent of any network.

    ``log_p``, ``log_q``: ``(*grid)`` log-densities at the same grid points (``-inf`` for zero density);
    ``cell``: the cell volume. Each density must integrate to 1 over the grid (within 1e-2). Zero densities
    contribute nothing (0 log 0 = 0), so disjoint supports give exactly :math:`\log 2`.
    """
    _check_log_density(log_p, "log_p")
    _check_log_density(log_q, "log_q", log_p.shape)
    cell = check_positive_float(cell, "cell")
    _grid_mass(log_p, cell, "log_p")
    _grid_mass(log_q, cell, "log_q")
    log_m = torch.logaddexp(log_p, log_q) - math.log(2.0)  # log m = log((p + q) / 2)
    kl_p_m = _p_log_ratio(log_p, log_p - log_m).sum() * cell  # KL(p || m) = int p log(p / m)
    kl_q_m = _p_log_ratio(log_q, log_q - log_m).sum() * cell  # KL(q || m)
    return float(0.5 * kl_p_m + 0.5 * kl_q_m)  # JSD = (KL(p||m) + KL(q||m)) / 2                      (3)


def gan_value_grid(d: torch.Tensor, log_p_data: torch.Tensor, log_p_g: torch.Tensor, cell: float) -> float:
    r"""The value (1) by quadrature: :math:`V = \int p_{data} \log D + p_g \log(1 - D)\,dx` for values ``d``.

    ``d``, ``log_p_data``, ``log_p_g``: ``(*grid)`` at the same grid points; ``d`` in [0, 1]. With
    ``d = optimal_discriminator(log_p_data, log_p_g)`` this equals :math:`-\log 4 + 2\,\mathrm{JSD}`. A point
    where the density is zero contributes nothing whatever ``d`` is (0 log 0 = 0). ``d`` is clamped to
    ``[tiny, 1 - eps/2]`` of its dtype, so a value of exactly 0 or 1 (often just rounding) costs a large finite
    penalty, not ``-inf``.
    """
    _check_log_density(log_p_data, "log_p_data")
    _check_log_density(log_p_g, "log_p_g", log_p_data.shape)
    check_tensor(d, "d", floating=True)
    if d.shape != log_p_data.shape:
        raise ValueError(f"d must have the same shape as log_p_data, {tuple(log_p_data.shape)}; "
                         f"got {tuple(d.shape)}")
    if torch.isnan(d).any() or (d < 0).any() or (d > 1).any():
        raise ValueError("d must hold discriminator values D(x) in [0, 1] (probabilities, not logits)")
    cell = check_positive_float(cell, "cell")
    _grid_mass(log_p_data, cell, "log_p_data")
    _grid_mass(log_p_g, cell, "log_p_g")
    # D* computed in floating point rounds to exactly 1 once log p_data - log p_g > ~37 (float64), where the
    # true log(1 - D*) is finite; clamping to the open interval keeps such points at the float resolution
    # (log(eps/2) ~ -37 nats) instead of -inf. Their weight p_g < eps p_data makes the error negligible.
    finfo = torch.finfo(d.dtype)
    d = d.clamp(finfo.tiny, 1.0 - finfo.eps / 2)
    data_term = _p_log_ratio(log_p_data, torch.log(d)).sum() * cell  # int p_data log D
    fake_term = _p_log_ratio(log_p_g, torch.log1p(-d)).sum() * cell  # int p_g log(1 - D)
    return float(data_term + fake_term)  # V(D, G)                                                     (1)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def jsd_from_discriminator(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> float:
    r"""The JSD estimate :math:`(\hat V + \log 4) / 2` from a discriminator's logits on data and on fakes.

    :math:`\hat V` is (1) with sample means; by (3) the estimate is unbiased for the JSD when :math:`D = D^*`
    and, for any other :math:`D`, estimates a lower bound (in expectation). ``(B_r,)``, ``(B_f,)`` -> float.
    """
    value = -discriminator_loss(real_logits, fake_logits)  # V_hat = mean log D + mean log(1 - D)     (1)
    return float((value + LOG_4) / 2)  # JSD = (V(D*, G) + log 4) / 2                                  (3)




# --------------------------------------------------------------------------------------------------------------
# The objective as an option set for the adversarial loop
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JensenShannonLoss:
    """The original GAN's objective for the adversarial loop: the discriminator descends :math:`-\\hat V` (1) and
    the generator its ``generator_loss`` (``"nonsaturating"`` or ``"saturating"``); nothing happens after an
    update. The same interface as ``wasserstein.WassersteinLoss``."""

    generator: str = "nonsaturating"

    def __post_init__(self) -> None:
        check_choice(self.generator, "generator", GENERATOR_LOSSES)

    def critic_step(self, critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        return discriminator_loss(critic(real), critic(fake)), {}  # -V_hat(D, G)                       (1)

    def after_critic_update(self, critic: torch.nn.Module) -> None:
        return None

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        if self.generator == "nonsaturating":
            return generator_loss_nonsaturating(fake_logits)
        return generator_loss_saturating(fake_logits)

    def advice(self) -> list[str]:
        return ["turn on spectral_norm=True to keep the discriminator's logits bounded",
                "use loss='nonsaturating'"]
