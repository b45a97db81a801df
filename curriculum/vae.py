r"""Variational autoencoders and the evidence lower bound (ELBO), with the closed forms that explain them.

A VAE pairs a decoder :math:`p_\theta(x \mid z)` and a prior :math:`p(z) = N(0, I)` with an encoder
:math:`q_\phi(z \mid x) = N(\mu, \operatorname{diag}\sigma^2)`. For every :math:`q`,

.. math:: \log p(x) = \underbrace{E_q[\log p(x \mid z)] - KL(q \,\|\, p(z))}_{\text{ELBO}}
          + KL(q(z \mid x) \,\|\, p(z \mid x)),                                                        (1)

so the ELBO is a lower bound on :math:`\log p(x)`, tight when :math:`q` is the true posterior. The
``LinearGaussianLVM`` makes every term of (1) available in closed form, so the identity can be checked to
float64 precision; the ``VAE`` is the same recipe with neural networks and a Bernoulli decoder for binarised
8x8 digits (flattened to 64 pixels).

Symbols and shapes

=====================  =================================================================================
``B``                  batch size
``D``                  data dimension (``data_dim``; 64 for flattened 8x8 digits)
``L``                  latent dimension (``latent_dim``)
``x``                  data :math:`x`, ``(B, D)``; binary pixels in {0, 1} (values in [0, 1] accepted)
``z``                  latent :math:`z`, ``(B, L)``
``mu``, ``log_var``    encoder outputs: :math:`q_\phi(z \mid x) = N(\mu, \operatorname{diag} e^{\log\sigma^2})`
``sigma``              :math:`\sigma = \exp(\tfrac12 \log\sigma^2)` (VAE); the observation noise std (LVM)
``eps``                :math:`\varepsilon \sim N(0, I)`, the noise of the reparameterisation
``logits``             decoder output :math:`l`; :math:`p_\theta(x \mid z) = \prod_i \mathrm{Bernoulli}(x_i;
                       \operatorname{sigmoid}(l_i))` (``likelihood="bernoulli"``, the default)
``m``, ``log_s2``      decoder outputs with ``likelihood="gaussian"`` (real-valued data such as the 2-D toys):
                       :math:`p_\theta(x \mid z) = N(x; m(z), \operatorname{diag} e^{\log s^2(z)})`
``beta``               weight :math:`\beta` of the KL term (:math:`\beta = 1`: the true ELBO)
``free_bits``          :math:`\lambda`, the minimum KL (nats) charged per latent dimension
``k``                  number of importance samples :math:`z_1..z_k` of the IWAE bound
``log_w``              log importance weight :math:`\log w_j = \log p(x \mid z_j) + \log p(z_j) - \log q(z_j \mid x)`
``W``, ``b``           LVM decoder :math:`p(x \mid z) = N(W z + b, \sigma^2 I_D)`, ``W`` (D, L), ``b`` (D,)
``q_mean``, ``q_cov``  a Gaussian :math:`q(z) = N(m, S)` for the LVM, ``(B, L)`` and ``(L, L)`` or ``(B, L, L)``
=====================  =================================================================================

Every quantity is in nats. The device and dtype follow the data (``torch.randn`` on ``mu``'s device and dtype).
The Gaussian KLs and log-densities are ``curriculum.gaussians``' (``gaussian_kl``, ``gaussian_kl_diag`` and
``gaussian_kl_full`` are its functions under the names this notebook uses); the ``VAE`` follows the model
protocol (``sample`` gives binary images, ``log_likelihood`` the IWAE lower bound).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .checks import (check_choice, check_nonnegative_float, check_positive_float, check_positive_int, check_same_shape,
                     check_tensor, check_unit_interval)
from .gaussians import check_covariance, kl_standard_normal_terms, log_normal_cholesky
from .gaussians import kl_diag as gaussian_kl_diag
from .gaussians import kl_standard_normal as gaussian_kl
from .gaussians import kl_full as gaussian_kl_full
from .metrics import image_sharpness  # noqa: F401  (moved to metrics; the old name stays importable)
from .nets import MLP
from .protocol import LOWER_BOUND, EXACT, LogLikelihood
from .grading import reference

__all__ = [
    "LOG_VAR_MIN",
    "LOG_VAR_MAX",
    "reparameterize",
    "gaussian_kl",
    "gaussian_kl_diag",
    "kl_per_dimension",
    "bernoulli_log_likelihood",
    "iwae_bound",
    "ElboTerms",
    "VAE",
    "vae_loss",
    "ActiveUnits",
    "active_units",
    "log_likelihood_factorised_baseline",
    "GradientSamples",
    "gradient_samples",
    "gaussian_kl_full",
    "LinearGaussianLVM",
    "image_sharpness",
]

# The encoder's log-variance is clamped to [LOG_VAR_MIN, LOG_VAR_MAX]. Why: exp(log_var) and the KL's
# -log_var term blow up at either end, and one bad optimiser step can otherwise send an unbounded output to a
# value where exp overflows (float32 overflows at exp(88)) or the KL is infinite, and the run dies with NaN.
# The range is generous: sigma = exp(-6) ~ 2.5e-3 is already far sharper than any useful posterior on 8x8
# digits, and a variance exp(8) ~ 3000 is far wider than the N(0, 1) prior. An untrained encoder outputs
# values of order 1, well inside, and the KL term pulls log_var towards 0, so the clamp rarely binds; where
# it does, the gradient through log_var is zero for that entry (the price of a hard clamp).
LOG_VAR_MIN = -12.0
LOG_VAR_MAX = 8.0



# --------------------------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------------------------
def _batch_of_vectors(x: object, name: str, dim: int | None = None) -> torch.Tensor:
    """A floating ``(B, dim)`` tensor (any ``dim`` when ``None``)."""
    return check_tensor(x, name, shape=(None, dim), floating=True)


# --------------------------------------------------------------------------------------------------------------
# The reparameterisation trick and the Gaussian KL
# --------------------------------------------------------------------------------------------------------------
@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    r"""A draw :math:`z \sim N(\mu, \operatorname{diag}\sigma^2)` written as a differentiable function of
    :math:`(\mu, \log\sigma^2)`: :math:`z = \mu + \sigma \odot \varepsilon`, :math:`\varepsilon \sim N(0, I)`.

    ``mu``, ``log_var``, ``eps``: ``(B, L)``; returns ``z`` ``(B, L)``. ``eps`` defaults to a fresh
    ``torch.randn`` draw on ``mu``'s device and dtype (from ``generator`` when given).
    """
    _batch_of_vectors(mu, "mu")
    check_tensor(log_var, "log_var", floating=True)
    check_same_shape(log_var, "log_var", mu, "mu")
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    else:
        check_tensor(eps, "eps", floating=True)
        check_same_shape(eps, "eps", mu, "mu")
    sigma = torch.exp(0.5 * log_var)  # sigma = exp(log_var / 2)
    return mu + sigma * eps  # z = mu + sigma * eps


def kl_per_dimension(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    r"""The batch mean of each latent dimension's KL, :math:`KL_j = \frac1B \sum_b \tfrac12 (\mu_{bj}^2 +
    \sigma_{bj}^2 - 1 - \log\sigma_{bj}^2)`: ``(B, L) -> (L,)``. Its sum is ``gaussian_kl(mu, log_var).mean()``.

    A dimension whose :math:`KL_j` stays near 0 carries no information about ``x`` (posterior collapse).
    """
    _batch_of_vectors(mu, "mu")
    check_tensor(log_var, "log_var", floating=True)
    check_same_shape(log_var, "log_var", mu, "mu")
    return kl_standard_normal_terms(mu, log_var).mean(dim=0)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r""":math:`\log p(x \mid z) = \sum_i x_i \log \operatorname{sigmoid}(l_i)
    + (1 - x_i) \log \operatorname{sigmoid}(-l_i)`, summed over pixels.

    Computed as minus the binary cross-entropy with logits, which never forms :math:`\log 0` (stable for
    logits of any size). ``logits``, ``x``: ``(B, D)`` (or ``(B, *dims)``, summed over all but the batch dim);
    ``x`` in {0, 1} or [0, 1]. Returns ``(B,)``.
    """
    check_tensor(logits, "logits", min_ndim=2, floating=True)
    check_tensor(x, "x", floating=True)
    check_same_shape(x, "x", logits, "logits")
    check_unit_interval(x, "x")
    log_px = -F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none")
    return log_px.flatten(start_dim=1).sum(dim=1)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def iwae_bound(log_px_z: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    r"""The importance-weighted bound of each example from ``K`` codes already drawn from its encoder:

    .. math:: \mathcal{L}_K(x) = \log \frac1K \sum_{k=1}^K w_k, \qquad
              \log w_k = \log p(x \mid z_k) + \log N(z_k; 0, I) - \log N(z_k; \mu, \operatorname{diag}\sigma^2).

    ``log_px_z`` ``(K, B)``: the decoder's :math:`\log p(x_b \mid z_{kb})`; ``z`` ``(K, B, L)``: the codes
    :math:`z_{kb} \sim q(z \mid x_b)`; ``mu``, ``log_var`` ``(B, L)``: the encoder's outputs. Returns ``(B,)``.
    Everything stays in logs and the average goes through ``logsumexp`` (shift by the largest :math:`\log w_k`):
    an image's :math:`\log p(x \mid z)` is easily -1000 nats, and :math:`e^{-1000}` is 0 in every float format.
    ``VAE.iwae`` computes the same bound, drawing the codes itself and averaging in chunks.
    """
    check_tensor(log_px_z, "log_px_z", ndim=2, floating=True)
    k, batch = log_px_z.shape
    check_tensor(z, "z", shape=(k, batch, None), floating=True)
    check_tensor(mu, "mu", shape=(batch, z.shape[2]), floating=True)
    check_tensor(log_var, "log_var", floating=True)
    check_same_shape(log_var, "log_var", mu, "mu")
    # log N(z; 0, I) - log N(z; mu, diag sigma^2) = sum_l [-z^2 + (z - mu)^2 / sigma^2 + log sigma^2] / 2
    # (the log 2 pi terms cancel)
    log_prior_ratio = 0.5 * (-z.pow(2) + (z - mu).pow(2) * torch.exp(-log_var) + log_var).sum(dim=-1)
    log_w = log_px_z + log_prior_ratio  # (K, B)
    return torch.logsumexp(log_w, dim=0) - math.log(k)  # log (1/K) sum_k w_k


# --------------------------------------------------------------------------------------------------------------
# The VAE
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ElboTerms:
    """Per-example terms of the (beta-)ELBO, each ``(B,)``: ``elbo = reconstruction - beta * kl``.

    ``reconstruction`` is a one-sample estimate of :math:`E_q[\\log p(x \\mid z)]`; ``kl`` is exact.
    With ``beta = 1``, ``elbo`` is an unbiased estimate of the true ELBO, a lower bound on :math:`\\log p(x)`.
    """

    elbo: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


class VAE(nn.Module):
    """A VAE with MLP encoder and decoder: a Bernoulli likelihood for flattened binary images (the default), or
    ``likelihood="gaussian"`` for real-valued data (a diagonal Gaussian whose mean and log-variance the decoder
    outputs, the log-variance clamped like the encoder's).

    Encoder: ``MLP(data_dim -> 2 * latent_dim)``, split into ``(mu, log_var)``. Decoder:
    ``MLP(latent_dim -> data_dim)`` logits, or ``MLP(latent_dim -> 2 * data_dim)`` = ``(m, log_s2)``. ``hidden``
    and ``depth`` size both MLPs. Prior :math:`N(0, I)`. The device and dtype follow the parameters
    (``vae.double()`` for float64 inputs).
    """

    def __init__(self, data_dim: int = 64, latent_dim: int = 8, hidden: int = 256, depth: int = 2,
                 likelihood: str = "bernoulli") -> None:
        super().__init__()
        self.data_dim = check_positive_int(data_dim, "data_dim")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        check_positive_int(hidden, "hidden")
        check_positive_int(depth, "depth")
        self.likelihood = check_choice(likelihood, "likelihood", ("bernoulli", "gaussian"))
        outputs = data_dim if likelihood == "bernoulli" else 2 * data_dim
        self.encoder = MLP(data_dim, 2 * latent_dim, hidden=hidden, depth=depth)
        self.decoder = MLP(latent_dim, outputs, hidden=hidden, depth=depth)

    def _parameter(self) -> torch.Tensor:
        return next(self.parameters())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(B, D)`` -> ``(mu, log_var)``, each ``(B, L)``; ``log_var`` clamped to
        ``[LOG_VAR_MIN, LOG_VAR_MAX]`` (see the comment at the top of the module for why)."""
        _batch_of_vectors(x, "x", self.data_dim)
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` ``(B, L)`` -> Bernoulli logits ``(B, D)``; pixel probabilities are ``sigmoid(logits)``. With
        ``likelihood="gaussian"``: ``(B, 2D)``, the mean ``m`` and the unclamped log-variance side by side."""
        _batch_of_vectors(z, "z", self.latent_dim)
        return self.decoder(z)

    def log_px_z(self, decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log p(x \mid z)` ``(B,)`` from the decoder's output ``decoded = decode(z)`` and ``x (B, D)``."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(decoded, x)
        m, log_s2 = decoded.chunk(2, dim=-1)
        log_s2 = log_s2.clamp(LOG_VAR_MIN, LOG_VAR_MAX)
        # log N(x; m, diag s^2) = sum_i [-(x_i - m_i)^2 / (2 s_i^2) - log s_i^2 / 2 - log(2 pi) / 2]
        return (-0.5 * (x - m) ** 2 * torch.exp(-log_s2) - 0.5 * log_s2 - 0.5 * math.log(2 * math.pi)).sum(dim=-1)

    def elbo(self, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None) -> ElboTerms:
        r"""The (beta-)ELBO of each example with one reparameterised sample :math:`z \sim q(z \mid x)`:

        :math:`\mathcal{L}_\beta(x) = \log p(x \mid z) - \beta\, KL(q(z \mid x) \,\|\, p(z))`. ``x``: ``(B, D)``.
        """
        beta = check_nonnegative_float(beta, "beta")
        mu, log_var = self.encode(x)
        z = reparameterize(mu, log_var, generator=generator)  # z = mu + sigma * eps
        reconstruction = self.log_px_z(self.decode(z), x)  # log p(x | z)
        kl = gaussian_kl(mu, log_var)  # KL(q(z|x) || N(0, I)), exact
        return ElboTerms(elbo=reconstruction - beta * kl, reconstruction=reconstruction, kl=kl)

    @reference  # an exercise's reference: graded tests hide it (curriculum.grading)
    def iwae(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None, chunk: int = 64) -> torch.Tensor:
        r"""The importance-weighted bound (Burda et al. 2016) of each example, ``(B, D) -> (B,)``:

        .. math:: \mathcal{L}_k(x) = \log \frac1k \sum_{j=1}^k \frac{p(x \mid z_j)\, p(z_j)}{q(z_j \mid x)},
                  \qquad z_j \sim q(z \mid x).

        :math:`E[\mathcal{L}_1] = \mathrm{ELBO} \le E[\mathcal{L}_k] \le E[\mathcal{L}_{k+1}] \le \log p(x)`, and
        :math:`\mathcal{L}_k \to \log p(x)` as :math:`k \to \infty`. The sum runs through a running
        ``logsumexp``, ``chunk`` samples (``chunk * B`` decoder rows) at a time, so memory does not grow with
        ``k``. Each :math:`\varepsilon_j` is drawn as its own ``(B, L)`` tensor, so the answer does not depend
        on ``chunk``, and ``k = 1`` uses the very ``z`` that ``elbo`` draws from the same generator state.
        For evaluation, call it under ``torch.no_grad()``.
        """
        check_positive_int(k, "k")
        check_positive_int(chunk, "chunk")
        mu, log_var = self.encode(x)
        sigma = torch.exp(0.5 * log_var)  # sigma = exp(log_var / 2)
        batch = x.shape[0]
        total: torch.Tensor | None = None
        for start in range(0, k, chunk):
            size = min(chunk, k - start)
            eps = torch.stack([torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
                               for _ in range(size)])  # (size, B, L)
            z = mu + sigma * eps  # z_j = mu + sigma * eps_j
            decoded = self.decode(z.reshape(size * batch, self.latent_dim))
            x_rep = x.expand(size, *x.shape).reshape(size * batch, self.data_dim)
            log_px_z = self.log_px_z(decoded, x_rep).reshape(size, batch)  # log p(x | z_j)
            # log p(z_j) - log q(z_j | x) = sum_l [-z^2/2 + eps^2/2 + log_var/2]   (the log 2 pi terms cancel)
            log_prior_ratio = 0.5 * (eps.pow(2) - z.pow(2) + log_var).sum(dim=-1)
            log_w = log_px_z + log_prior_ratio  # (size, B)
            part = torch.logsumexp(log_w, dim=0)
            total = part if total is None else torch.logaddexp(total, part)
        assert total is not None
        return total - math.log(k)  # log (1/k) sum_j w_j

    @torch.no_grad()
    def sample_means_and_images(self, n: int, generator: torch.Generator | None = None
                                ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``n`` draws from the model: :math:`z \sim N(0, I)`, pixel probabilities
        :math:`\operatorname{sigmoid}(l(z))` ``(n, D)`` (the decoder means, what one usually plots) and binary
        images :math:`x \sim \mathrm{Bernoulli}` ``(n, D)``. With ``likelihood="gaussian"``: the decoder means
        :math:`m(z)` and draws :math:`x = m + s \varepsilon`. No gradients."""
        check_positive_int(n, "n")
        param = self._parameter()
        z = torch.randn(n, self.latent_dim, generator=generator, device=param.device, dtype=param.dtype)
        if self.likelihood == "gaussian":
            m, log_s2 = self.decode(z).chunk(2, dim=-1)
            eps = torch.randn(m.shape, generator=generator, device=m.device, dtype=m.dtype)
            return m, m + torch.exp(0.5 * log_s2.clamp(LOG_VAR_MIN, LOG_VAR_MAX)) * eps
        probs = torch.sigmoid(self.decode(z))
        binary = torch.bernoulli(probs, generator=generator)
        return probs, binary

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` binary images ``(n, D)`` (real vectors with a Gaussian decoder) from the model
        (``curriculum.protocol``): the second half of
        ``sample_means_and_images`` from the same generator draws."""
        return self.sample_means_and_images(n, generator)[1]

    @torch.no_grad()
    def log_likelihood(self, x: torch.Tensor, k: int = 1000, generator: torch.Generator | None = None
                       ) -> LogLikelihood:
        r"""The IWAE bound with ``k`` importance samples per image (``curriculum.protocol``): a lower bound on
        :math:`\log p(x)` in expectation, the tighter the larger ``k``. ``x``: ``(N, D)``."""
        return LogLikelihood(self.iwae(x, k, generator=generator), LOWER_BOUND)


def _batch_data(batch: object) -> torch.Tensor:
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError("batch must be a tensor (B, D) or a non-empty tuple whose first element is one")
        batch = batch[0]
    if not isinstance(batch, torch.Tensor):
        raise TypeError(f"batch must be a tensor (B, D) or a tuple whose first element is one, "
                        f"got {type(batch).__name__}")
    return batch


def vae_loss(beta: float = 1.0, free_bits: float = 0.0) -> Callable[[nn.Module, object], dict[str, torch.Tensor]]:
    r"""A ``loss_fn(model, batch)`` for ``curriculum.train.fit``: the negative (beta-)ELBO with optional free bits.

    .. math:: \text{loss} = -\Big(\frac1B \sum_b \log p(x_b \mid z_b)
              - \beta \sum_j \max(\lambda, KL_j)\Big), \qquad
              KL_j = \frac1B \sum_b KL(q(z_{bj} \mid x_b) \,\|\, N(0, 1))

    with :math:`\lambda` = ``free_bits`` nats per latent dimension (Kingma et al. 2016): below
    :math:`\lambda` a dimension's KL costs nothing more, so the optimiser has no reason to collapse it.
    ``free_bits = 0`` gives the plain (beta-)ELBO. ``model`` needs ``encode``, ``decode`` and ``log_px_z`` (a ``VAE``);
    ``batch`` is a ``(B, D)`` tensor or a tuple whose first element is one. The noise comes from the global
    RNG, which ``fit`` seeds.

    Returns a dict of scalars: ``loss``; ``reconstruction`` (mean :math:`\log p(x \mid z)`, nats/image);
    ``kl`` (the true mean KL, :math:`\sum_j KL_j`); ``kl_term`` (:math:`\sum_j \max(\lambda, KL_j)`, what the
    loss charges; equal to ``kl`` when ``free_bits = 0``).
    """
    beta = check_nonnegative_float(beta, "beta")
    free_bits = check_nonnegative_float(free_bits, "free_bits")

    def loss_fn(model: nn.Module, batch: object) -> dict[str, torch.Tensor]:
        x = _batch_data(batch)
        mu, log_var = model.encode(x)
        z = reparameterize(mu, log_var)  # z = mu + sigma * eps
        reconstruction = model.log_px_z(model.decode(z), x).mean()  # (1/B) sum_b log p(x_b | z_b)
        kl_dims = kl_per_dimension(mu, log_var)  # KL_j, (L,)
        kl_term = kl_dims.clamp(min=free_bits).sum()  # sum_j max(lambda, KL_j)
        loss = -(reconstruction - beta * kl_term)
        return {"loss": loss, "reconstruction": reconstruction.detach(), "kl": kl_dims.sum().detach(),
                "kl_term": kl_term.detach()}

    return loss_fn


# --------------------------------------------------------------------------------------------------------------
# Diagnostics: active units and the no-latent baseline
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActiveUnits:
    """``count`` latent dimensions with :math:`A_u` above the threshold; ``variances`` is :math:`A_u`, ``(L,)``."""

    count: int
    variances: torch.Tensor


@torch.no_grad()
def active_units(model: nn.Module, x: torch.Tensor, threshold: float = 0.01) -> ActiveUnits:
    r"""Latent dimensions the encoder actually uses (Burda et al. 2016):
    :math:`A_u = \operatorname{Var}_x\big(E_{q(z \mid x)}[z_u]\big) = \operatorname{Var}_x(\mu_u(x))`,
    active when :math:`A_u >` ``threshold``. A collapsed dimension has :math:`q(z_u \mid x) \approx p(z_u)` for
    every ``x``, so its posterior mean does not move with the data.

    ``model`` needs ``encode``; ``x``: ``(N, D)`` with ``N >= 2``. The variance is the population variance
    (divides by ``N``).
    """
    if not callable(getattr(model, "encode", None)):
        raise TypeError(f"model must have an encode(x) -> (mu, log_var) method (a VAE), got {type(model).__name__}")
    check_tensor(x, "x", ndim=2, floating=True)
    if x.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 examples to measure a variance, got shape {tuple(x.shape)}")
    threshold = check_nonnegative_float(threshold, "threshold")
    mu, _ = model.encode(x)
    variances = mu.var(dim=0, correction=0)  # A_u = Var_x(mu_u(x))
    return ActiveUnits(count=int((variances > threshold).sum()), variances=variances)


def log_likelihood_factorised_baseline(train_x: torch.Tensor, test_x: torch.Tensor) -> float:
    r"""The "no latent variable" baseline: average NLL (nats/image) of ``test_x`` under independent Bernoulli
    pixels, :math:`-\frac1N \sum_n \sum_i [x_{ni} \log p_i + (1 - x_{ni}) \log(1 - p_i)]`.

    :math:`p_i = (\sum_n x^{\text{train}}_{ni} + 1) / (N_{\text{train}} + 2)` is the training pixel mean with
    add-one (Laplace) smoothing: a pixel that is always 0 in training (the digits' borders) would otherwise get
    :math:`p_i = 0`, and a single test image with that pixel on would have infinite NLL. A VAE that does not
    beat this number has learnt nothing about how pixels co-vary.

    ``train_x``: ``(N, D)``, ``test_x``: ``(M, D)``, values in [0, 1]. Returns a Python float.
    """
    check_tensor(train_x, "train_x", ndim=2, floating=True)
    check_tensor(test_x, "test_x", shape=(None, train_x.shape[1]), floating=True)
    if train_x.shape[0] == 0 or test_x.shape[0] == 0:
        raise ValueError(f"train_x and test_x must be non-empty, got shapes {tuple(train_x.shape)} and "
                         f"{tuple(test_x.shape)}")
    check_unit_interval(train_x, "train_x")
    check_unit_interval(test_x, "test_x")
    train, test = train_x.to(torch.float64), test_x.to(torch.float64)
    p = (train.sum(dim=0) + 1.0) / (train.shape[0] + 2.0)  # p_i = (count_i + 1) / (N + 2)
    log_lik = test @ torch.log(p) + (1.0 - test) @ torch.log1p(-p)  # sum_i x log p + (1 - x) log(1 - p)
    return float(-log_lik.mean())


# --------------------------------------------------------------------------------------------------------------
# Gradient estimators: reparameterisation versus score function
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradientSamples:
    r"""Per-sample estimates of :math:`\nabla_\mu E_{z \sim N(\mu, \operatorname{diag}\sigma^2)}[f(z)]`, each
    ``(n, D)``; their row means are the Monte Carlo estimates, their column variances what each estimator costs."""

    reparameterization: torch.Tensor
    score_function: torch.Tensor


def gradient_samples(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor, log_var: torch.Tensor, n: int,
                     generator: torch.Generator | None = None) -> GradientSamples:
    r"""``n`` single-sample estimates of :math:`\nabla_\mu E_q[f(z)]`, :math:`q = N(\mu, \operatorname{diag}\sigma^2)`,
    by two unbiased estimators on the same draws :math:`z_i = \mu + \sigma \odot \varepsilon_i`:

    - reparameterisation: :math:`\nabla_\mu f(\mu + \sigma \odot \varepsilon_i) = \nabla_z f(z_i)` (autograd);
    - score function (REINFORCE): :math:`f(z_i)\, \nabla_\mu \log q(z_i) = f(z_i)\, (z_i - \mu) / \sigma^2`.

    ``f`` maps ``(n, D) -> (n,)`` row by row (row ``i`` of the output depends on row ``i`` of the input only),
    built from differentiable torch operations. ``mu``, ``log_var``: ``(D,)``, one data point's posterior.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable mapping z (n, D) to values (n,), got {type(f).__name__}")
    check_tensor(mu, "mu", ndim=1, floating=True)
    check_tensor(log_var, "log_var", floating=True)
    check_same_shape(log_var, "log_var", mu, "mu")
    check_positive_int(n, "n")
    mu, log_var = mu.detach(), log_var.detach()
    sigma = torch.exp(0.5 * log_var)
    eps = torch.randn((n, mu.shape[0]), generator=generator, device=mu.device, dtype=mu.dtype)
    z = (mu + sigma * eps).requires_grad_(True)  # z_i = mu + sigma * eps_i; dz_i/dmu = I
    with torch.enable_grad():
        values = f(z)
        if not isinstance(values, torch.Tensor) or values.shape != (n,):
            got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
            raise ValueError(f"f must return a tensor of shape ({n},) for z of shape {tuple(z.shape)}, got {got}")
        if not values.requires_grad:
            raise ValueError("f's output does not depend differentiably on z: build f from torch operations "
                             "on its argument (no .detach(), .item() or NumPy)")
        # Rows are independent, so the gradient of the sum gives each row's own grad_z f(z_i).
        (reparam,) = torch.autograd.grad(values.sum(), z)
    score = values.detach()[:, None] * (z.detach() - mu) / torch.exp(log_var)  # f(z) (z - mu) / sigma^2
    return GradientSamples(reparameterization=reparam, score_function=score)


# --------------------------------------------------------------------------------------------------------------
# A linear-Gaussian latent variable model: every term of (1) in closed form
# --------------------------------------------------------------------------------------------------------------
class LinearGaussianLVM:
    r"""Probabilistic PCA / factor analysis with isotropic noise, in float64:

    .. math:: p(z) = N(0, I_k), \qquad p(x \mid z) = N(W z + b, \sigma^2 I_d), \qquad
              p(x) = N(b, W W^\top + \sigma^2 I_d).

    The posterior is Gaussian, :math:`p(z \mid x) = N(\Sigma_{\text{post}} W^\top (x - b) / \sigma^2,
    \Sigma_{\text{post}})` with :math:`\Sigma_{\text{post}} = (I + W^\top W / \sigma^2)^{-1}`, so the ELBO of
    any Gaussian :math:`q`, its gap :math:`KL(q \,\|\, p(z \mid x))` and :math:`\log p(x)` are all exact.

    ``W``: ``(d, k)``, ``b``: ``(d,)``, ``sigma`` > 0. Inputs of any floating dtype are computed in float64
    on ``W``'s device; outputs are float64.
    """

    def __init__(self, W: torch.Tensor, b: torch.Tensor, sigma: float) -> None:
        check_tensor(W, "W", ndim=2, floating=True)
        check_tensor(b, "b", shape=(W.shape[0],), floating=True)
        self.sigma = check_positive_float(sigma, "sigma")
        self.W = W.detach().to(torch.float64)
        self.b = b.detach().to(device=self.W.device, dtype=torch.float64)
        self.d, self.k = self.W.shape

    def _data(self, x: object, name: str = "x") -> torch.Tensor:
        tensor = check_tensor(x, name, shape=(None, self.d), floating=True)
        return tensor.to(device=self.W.device, dtype=torch.float64)

    def marginal_cov(self) -> torch.Tensor:
        """:math:`C = W W^\\top + \\sigma^2 I_d`, ``(d, d)``."""
        eye = torch.eye(self.d, dtype=torch.float64, device=self.W.device)
        return self.W @ self.W.T + self.sigma**2 * eye  # C = W W^T + sigma^2 I

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log p(x) = \log N(x; b, W W^\top + \sigma^2 I)`: ``(B, d) -> (B,)``."""
        chol = torch.linalg.cholesky(self.marginal_cov())  # C = L L^T
        return log_normal_cholesky(self._data(x), self.b, chol)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The exact posterior :math:`p(z \mid x)`: ``(mean (B, k), cov (k, k))`` (one covariance for all x)."""
        x = self._data(x)
        eye = torch.eye(self.k, dtype=torch.float64, device=self.W.device)
        precision = eye + self.W.T @ self.W / self.sigma**2  # Sigma_post^-1 = I + W^T W / sigma^2
        cov = torch.cholesky_inverse(torch.linalg.cholesky(precision))
        cov = 0.5 * (cov + cov.T)  # exactly symmetric
        mean = (x - self.b) @ self.W @ cov / self.sigma**2  # m_post = Sigma_post W^T (x - b) / sigma^2, per row
        return mean, cov

    def _q(self, x: torch.Tensor, q_mean: object, q_cov: object) -> tuple[torch.Tensor, torch.Tensor]:
        mean = check_tensor(q_mean, "q_mean", shape=(x.shape[0], self.k), floating=True)
        cov = check_covariance(q_cov, "q_cov", x.shape[0], self.k)
        return (mean.to(device=self.W.device, dtype=torch.float64),
                cov.to(device=self.W.device, dtype=torch.float64))

    def elbo(self, x: torch.Tensor, q_mean: torch.Tensor, q_cov: torch.Tensor) -> torch.Tensor:
        r"""The ELBO of :math:`q(z) = N(m, S)`, exact: ``x`` ``(B, d)``, ``q_mean`` ``(B, k)``, ``q_cov``
        ``(k, k)`` or ``(B, k, k)`` -> ``(B,)``:

        .. math:: E_q[\log p(x \mid z)] - KL(q \,\|\, N(0, I)), \quad E_q[\log p(x \mid z)] =
                  -\tfrac d2 \log(2\pi\sigma^2) - \frac{\|x - W m - b\|^2 + \operatorname{tr}(W S W^\top)}{2\sigma^2}.
        """
        x = self._data(x)
        q_mean, q_cov = self._q(x, q_mean, q_cov)
        residual = (x - q_mean @ self.W.T - self.b).pow(2).sum(dim=1)  # |x - W m - b|^2
        cov = q_cov.expand(x.shape[0], self.k, self.k)
        spread = torch.einsum("dk,bkl,dl->b", self.W, cov, self.W)  # tr(W S W^T)
        expected_log_lik = (-0.5 * self.d * math.log(2 * math.pi * self.sigma**2)
                            - (residual + spread) / (2 * self.sigma**2))
        zeros = torch.zeros(self.k, dtype=torch.float64, device=self.W.device)
        eye = torch.eye(self.k, dtype=torch.float64, device=self.W.device)
        return expected_log_lik - gaussian_kl_full(q_mean, q_cov, zeros, eye)  # E_q[log p(x|z)] - KL(q || p(z))

    def kl_to_posterior(self, x: torch.Tensor, q_mean: torch.Tensor, q_cov: torch.Tensor) -> torch.Tensor:
        r""":math:`KL(q \,\|\, p(z \mid x))` for :math:`q = N(m, S)`, exact, ``(B,)``: the gap
        :math:`\log p(x) - \mathrm{ELBO}(q)` of (1)."""
        x = self._data(x)
        q_mean, q_cov = self._q(x, q_mean, q_cov)
        post_mean, post_cov = self.posterior(x)
        return gaussian_kl_full(q_mean, q_cov, post_mean, post_cov)

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        """``log_marginal`` labelled exact (``curriculum.protocol``)."""
        return LogLikelihood(self.log_marginal(x), EXACT)

    def sample(self, n: int, generator: torch.Generator | None = None,
               return_latents: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        r"""``n`` draws :math:`x = W z + b + \sigma \varepsilon`, ``(n, d)`` float64; with
        ``return_latents=True``, the pair ``(z (n, k), x (n, d))``."""
        check_positive_int(n, "n")
        opts = dict(generator=generator, device=self.W.device, dtype=torch.float64)
        z = torch.randn((n, self.k), **opts)  # z ~ N(0, I_k)
        x = z @ self.W.T + self.b + self.sigma * torch.randn((n, self.d), **opts)  # x = W z + b + sigma eps
        return (z, x) if return_latents else x
