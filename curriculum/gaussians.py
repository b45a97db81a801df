r"""Gaussian algebra every family shares: log-densities, KL divergences, the Frechet distance, a reference
Gaussian with exact moments, and the exact moments of an affine map of Gaussian noise.

Gaussians are the one distribution whose every quantity has a closed form, so the course checks its
derivations against them: the ELBO of a linear-Gaussian model (notebook 01), the optimal noise predictor of
Gaussian data (06), and the same for score matching, flow matching and guidance later. One home keeps the
formulas (and their numerical care: Cholesky factors, never explicit inverses) written once.

Symbols and shapes

=====================  =================================================================================
``x``                  points, ``(N, D)`` (``log_normal`` works elementwise on any shape)
``mean``, ``m``        :math:`\mu`, ``(D,)``; ``std`` :math:`\sigma` (elementwise); ``var`` :math:`\sigma^2`
``cov``, ``S``         a covariance :math:`\Sigma`, ``(D, D)`` (or ``(B, D, D)`` where stated), symmetric
                       positive definite
``chol``, ``L``        its lower Cholesky factor, :math:`\Sigma = L L^\top`
``mu``, ``log_var``    a diagonal Gaussian :math:`N(\mu, \operatorname{diag} e^{\log\sigma^2})`, ``(B, L)``
=====================  =================================================================================

Key identities (numbered as cited in the code):

.. math:: \log N(x; \mu, \Sigma) = -\tfrac12 \big(D \log 2\pi + \log|\Sigma| + (x-\mu)^\top\Sigma^{-1}(x-\mu)\big),
          \quad \log|\Sigma| = 2 \textstyle\sum_i \log L_{ii}                                            (1)

.. math:: KL(N(m_0, S_0) \,\|\, N(m_1, S_1)) = \tfrac12\big(\operatorname{tr}(S_1^{-1}S_0)
          + (m_1-m_0)^\top S_1^{-1}(m_1-m_0) - k + \log|S_1| - \log|S_0|\big)                         (2)

.. math:: W_2^2(N(m_1, S_1), N(m_2, S_2)) = |m_1 - m_2|^2
          + \operatorname{tr}\big(S_1 + S_2 - 2 (S_1 S_2)^{1/2}\big)                                    (3)
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .checks import check_no_nan, check_positive_int, check_same_shape, check_tensor
from .protocol import EXACT, LogLikelihood, as_generator
from .grading import reference

__all__ = [
    "LOG_2PI",
    "log_normal",
    "log_normal_isotropic",
    "log_standard_normal",
    "cholesky",
    "check_covariance",
    "log_det_from_cholesky",
    "log_normal_cholesky",
    "kl_standard_normal_terms",
    "kl_standard_normal",
    "kl_diag",
    "kl_full",
    "gaussian_frechet",
    "Gaussian",
    "affine_pushforward",
]

LOG_2PI = math.log(2 * math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


# --------------------------------------------------------------------------------------------------------------
# Log-densities
# --------------------------------------------------------------------------------------------------------------
def log_normal(x: Tensor, mean: float | Tensor, std: float | Tensor) -> Tensor:
    r""":math:`\log N(x; \mu, \sigma^2) = -\tfrac12 ((x - \mu)/\sigma)^2 - \log(\sigma\sqrt{2\pi})`
    elementwise, for ``x`` of any shape (``mean``, ``std``: numbers or tensors that broadcast)."""
    check_tensor(x, "x", floating=True)
    log_norm = math.log(std * _SQRT_2PI) if isinstance(std, (int, float)) else torch.log(std * _SQRT_2PI)
    return -0.5 * ((x - mean) / std) ** 2 - log_norm


def log_normal_isotropic(x: Tensor, means: Tensor, var: Tensor) -> Tensor:
    r""":math:`\log N(x_n; m_k, v_k I_D)` for every point and every component: ``x (N, D)``, ``means (K, D)``,
    ``var (K,)`` -> ``(N, K)``. (1) with :math:`\Sigma = v_k I`: :math:`-\tfrac{|x-m_k|^2}{2 v_k} -
    \tfrac D2 \log(2\pi v_k)`."""
    check_tensor(x, "x", ndim=2, floating=True)
    check_tensor(means, "means", shape=(None, x.shape[1]), floating=True)
    check_tensor(var, "var", shape=(means.shape[0],), floating=True)
    sq_dist = ((x[:, None, :] - means[None]) ** 2).sum(-1)  # |x_n - m_k|^2, (N, K)
    return -0.5 * sq_dist / var - (0.5 * x.shape[1]) * torch.log(2 * math.pi * var)


def log_standard_normal(z: Tensor) -> Tensor:
    r""":math:`\log N(z; 0, I)` summed over the last dim: ``(..., D) -> (...)``."""
    check_tensor(z, "z", min_ndim=1, floating=True)
    return -0.5 * (z.pow(2) + LOG_2PI).sum(dim=-1)  # -1/2 sum_j (z_j^2 + log 2 pi)


def cholesky(cov: Tensor, name: str = "cov") -> Tensor:
    """The lower Cholesky factor of a symmetric positive definite ``cov`` ``(..., k, k)``, with errors that say
    which property failed (symmetry to 1e-10 of its scale, or positive definiteness)."""
    check_tensor(cov, name, min_ndim=2, floating=True)
    scale = cov.abs().amax().clamp(min=1.0)
    if not torch.allclose(cov, cov.mT, rtol=0.0, atol=1e-10 * float(scale)):
        raise ValueError(f"{name} must be symmetric, got a matrix with max |{name} - {name}^T| = "
                         f"{float((cov - cov.mT).abs().max()):.3g}")
    chol, info = torch.linalg.cholesky_ex(cov)
    if bool((info != 0).any()):
        raise ValueError(f"{name} must be positive definite (its Cholesky factorisation failed)")
    return chol


def log_det_from_cholesky(chol: Tensor) -> Tensor:
    r""":math:`\log|\Sigma| = 2 \sum_i \log L_{ii}` (1): ``(..., k, k) -> (...)``."""
    return 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(dim=-1)


def log_normal_cholesky(x: Tensor, mean: Tensor, chol: Tensor) -> Tensor:
    r"""(1) through the Cholesky factor: ``x (N, D)``, ``mean (D,)``, ``chol (D, D)`` -> ``(N,)``, computed in
    the factor's dtype."""
    d = mean.shape[0]
    check_tensor(x, "x", shape=(None, d), floating=True)
    solved = torch.linalg.solve_triangular(chol, (x.to(chol.dtype) - mean).T, upper=False)  # L^-1 (x - mu), (D, N)
    maha = solved.pow(2).sum(dim=0)  # (x - mu)^T Sigma^-1 (x - mu)
    return -0.5 * (d * LOG_2PI + log_det_from_cholesky(chol) + maha)


# --------------------------------------------------------------------------------------------------------------
# KL divergences
# --------------------------------------------------------------------------------------------------------------
def _diagonal_pair(mu: object, log_var: object, mu_name: str, log_var_name: str) -> None:
    check_tensor(mu, mu_name, shape=(None, None), floating=True)
    check_tensor(log_var, log_var_name, floating=True)
    check_same_shape(log_var, log_var_name, mu, mu_name)


def kl_standard_normal_terms(mu: Tensor, log_var: Tensor) -> Tensor:
    r"""Per-coordinate :math:`KL(N(\mu, \sigma^2) \,\|\, N(0, 1)) = \tfrac12(\mu^2 + \sigma^2 - 1 - \log\sigma^2)`,
    elementwise (unchecked; the public functions check)."""
    return 0.5 * (mu.pow(2) + torch.exp(log_var) - 1.0 - log_var)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def kl_standard_normal(mu: Tensor, log_var: Tensor) -> Tensor:
    r""":math:`KL(N(\mu, \operatorname{diag}\sigma^2) \,\|\, N(0, I))
    = \tfrac12 \sum_j (\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)`: ``(B, L), (B, L) -> (B,)``.

    NaN in gives NaN out, on purpose: this runs inside every training step, where checking each call would
    cost a device sync, and the training loop stops with ``TrainingDiverged`` at the first non-finite loss."""
    _diagonal_pair(mu, log_var, "mu", "log_var")
    return kl_standard_normal_terms(mu, log_var).sum(dim=-1)


def kl_diag(mu_q: Tensor, log_var_q: Tensor, mu_p: Tensor, log_var_p: Tensor) -> Tensor:
    r""":math:`KL(N(\mu_q, \operatorname{diag}\sigma_q^2) \,\|\, N(\mu_p, \operatorname{diag}\sigma_p^2))
    = \tfrac12 \sum_j \big(\log\sigma_{p,j}^2 - \log\sigma_{q,j}^2
    + (\sigma_{q,j}^2 + (\mu_{q,j} - \mu_{p,j})^2) / \sigma_{p,j}^2 - 1\big)`.

    ``mu_q``, ``log_var_q``: ``(B, L)``; ``mu_p``, ``log_var_p``: ``(B, L)`` or ``(L,)`` (one prior for the
    whole batch). Returns ``(B,)``.
    """
    _diagonal_pair(mu_q, log_var_q, "mu_q", "log_var_q")
    latent = mu_q.shape[1]
    for value, name in ((mu_p, "mu_p"), (log_var_p, "log_var_p")):
        check_tensor(value, name, floating=True)
        if value.shape not in (mu_q.shape, (latent,)):
            raise ValueError(f"{name} must have shape {tuple(mu_q.shape)} or ({latent},) to match mu_q, "
                             f"got {tuple(value.shape)}")
    var_ratio = torch.exp(log_var_q - log_var_p)  # sigma_q^2 / sigma_p^2
    mean_term = (mu_q - mu_p).pow(2) * torch.exp(-log_var_p)  # (mu_q - mu_p)^2 / sigma_p^2
    return 0.5 * (log_var_p - log_var_q + var_ratio + mean_term - 1.0).sum(dim=-1)


def check_covariance(cov: object, name: str, batch: int, k: int) -> Tensor:
    """A covariance of shape ``(k, k)`` or ``(batch, k, k)`` (one per batch element)."""
    tensor = check_tensor(cov, name, floating=True)
    if tensor.shape not in ((k, k), (batch, k, k)):
        raise ValueError(f"{name} must have shape ({k}, {k}) or ({batch}, {k}, {k}), got {tuple(tensor.shape)}")
    return tensor


def kl_full(m0: Tensor, S0: Tensor, m1: Tensor, S1: Tensor) -> Tensor:
    r"""(2), full covariances: ``m0 (B, k)``; ``m1 (B, k)`` or ``(k,)``; ``S0``, ``S1``: ``(k, k)`` or
    ``(B, k, k)``, symmetric positive definite. Returns ``(B,)``. Through Cholesky factors: with
    :math:`S = L L^\top`, :math:`\operatorname{tr}(S_1^{-1} S_0) = \|L_1^{-1} L_0\|_F^2`.
    """
    check_tensor(m0, "m0", ndim=2, floating=True)
    batch, k = m0.shape
    check_tensor(m1, "m1", floating=True)
    if m1.shape not in ((batch, k), (k,)):
        raise ValueError(f"m1 must have shape ({batch}, {k}) or ({k},) to match m0, got {tuple(m1.shape)}")
    L0 = cholesky(check_covariance(S0, "S0", batch, k), "S0").expand(batch, k, k)
    L1 = cholesky(check_covariance(S1, "S1", batch, k), "S1").expand(batch, k, k)
    trace = torch.linalg.solve_triangular(L1, L0, upper=False).pow(2).sum(dim=(-2, -1))  # tr(S1^-1 S0)
    delta = (m1 - m0).expand(batch, k).unsqueeze(-1)  # (B, k, 1)
    maha = torch.linalg.solve_triangular(L1, delta, upper=False).pow(2).sum(dim=(-2, -1))  # d^T S1^-1 d
    return 0.5 * (trace + maha - k + log_det_from_cholesky(L1) - log_det_from_cholesky(L0))


# --------------------------------------------------------------------------------------------------------------
# The Frechet (2-Wasserstein) distance between Gaussians (3)
# --------------------------------------------------------------------------------------------------------------
def _as_float64_array(value: object, name: str, ndim: int) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.detach().cpu().double().numpy()
    elif not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch.Tensor, got {type(value).__name__}")
    if value.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be real-valued, got dtype {value.dtype}")
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite entries; expected finite values")
    return array


def _sqrtm_checked(product: np.ndarray) -> np.ndarray | None:
    """scipy.linalg.sqrtm(product), or None when the result is non-finite or does not square back to ``product``.

    Singular covariances (dead ReLU features, fewer samples than features) are common here; scipy then warns
    that the root "might be inaccurate", so we silence the warning and test the residual |R R - A| / |A| instead.
    """
    from scipy import linalg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(product)
    if not np.isfinite(root).all():
        return None
    residual = np.linalg.norm(root @ root - product) / max(float(np.linalg.norm(product)), 1e-300)
    return root if residual < 1e-5 else None


def gaussian_frechet(mu1: np.ndarray | Tensor, cov1: np.ndarray | Tensor, mu2: np.ndarray | Tensor,
                     cov2: np.ndarray | Tensor) -> float:
    """Frechet (2-Wasserstein) distance squared between N(mu1, cov1) and N(mu2, cov2), closed form:

        d^2 = |mu1 - mu2|^2 + Tr(Sigma1 + Sigma2 - 2 (Sigma1 Sigma2)^{1/2})

    ``mu`` (F,), ``cov`` (F, F), numpy arrays or torch tensors (converted to float64 numpy on the CPU). The matrix
    square root is ``scipy.linalg.sqrtm``; if it fails on a singular product (non-finite, or its square misses the
    product by more than 1e-5 relative), 1e-6 I is added to both covariances.
    Imaginary parts from round-off are dropped (an error if they exceed 1e-3 of the largest entry), and a result
    that is negative by round-off only is clamped to 0.
    """
    mu1 = _as_float64_array(mu1, "mu1", 1)
    mu2 = _as_float64_array(mu2, "mu2", 1)
    cov1 = _as_float64_array(cov1, "cov1", 2)
    cov2 = _as_float64_array(cov2, "cov2", 2)
    f = mu1.shape[0]
    if mu2.shape != (f,):
        raise ValueError(f"mu2 must have shape ({f},) to match mu1, got {mu2.shape}")
    if cov1.shape != (f, f):
        raise ValueError(f"cov1 must have shape ({f}, {f}) to match mu1, got {cov1.shape}")
    if cov2.shape != (f, f):
        raise ValueError(f"cov2 must have shape ({f}, {f}) to match mu1, got {cov2.shape}")

    covmean = _sqrtm_checked(cov1 @ cov2)  # (Sigma1 Sigma2)^{1/2}
    if covmean is None:
        offset = 1e-6 * np.eye(f)  # a singular product may have no accurate square root; nudge it
        covmean = _sqrtm_checked((cov1 + offset) @ (cov2 + offset))
        if covmean is None:
            raise ValueError("could not compute (cov1 cov2)^(1/2) accurately; are cov1 and cov2 symmetric "
                             "positive semi-definite?")
    if np.iscomplexobj(covmean):
        scale = max(1.0, float(np.abs(covmean.real).max()))
        largest_imag = float(np.abs(covmean.imag).max())
        if largest_imag > 1e-3 * scale:
            raise ValueError(f"(cov1 cov2)^(1/2) has an imaginary part of size {largest_imag:.3g}; are cov1 and "
                             "cov2 symmetric positive semi-definite?")
        covmean = covmean.real
    diff = mu1 - mu2
    distance = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))  # d^2 above
    scale = float(diff @ diff + np.trace(cov1) + np.trace(cov2))
    if distance < 0:
        if distance < -1e-6 * max(scale, 1.0):
            raise ValueError(f"Frechet distance came out negative ({distance:.3g}); are cov1 and cov2 symmetric "
                             "positive semi-definite?")
        distance = 0.0  # round-off
    return distance



# --------------------------------------------------------------------------------------------------------------
# A reference Gaussian with exact moments
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Gaussian:
    """:math:`N(m, S)` in ``d`` dimensions, kept in float64: ``mean (d,)``, ``cov (d, d)`` symmetric positive
    definite. Follows the course's model protocol: ``sample``, ``log_prob`` and an exact ``log_likelihood``.

    Families add their own closed forms on top (the diffusion marginals and optimal noise predictor, say) by
    subclassing; everything here is family-free.
    """

    mean: Tensor
    cov: Tensor

    def __post_init__(self) -> None:
        check_tensor(self.mean, "mean", ndim=1, floating=True)
        d = self.mean.shape[0]
        check_tensor(self.cov, "cov", shape=(d, d), floating=True)
        mean, cov = self.mean.double(), self.cov.double()
        if not torch.allclose(cov, cov.T, rtol=0.0, atol=1e-12):
            raise ValueError("cov must be symmetric")
        eigenvalues, eigenvectors = torch.linalg.eigh(cov)
        if float(eigenvalues.min()) <= 0:
            raise ValueError(f"cov must be positive definite, got smallest eigenvalue {float(eigenvalues.min()):.3g}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "_eig", (eigenvalues, eigenvectors))  # S = U diag(lam) U^T
        object.__setattr__(self, "_chol", torch.linalg.cholesky(cov))  # S = L L^T

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def sample(self, n: int, generator: torch.Generator | int | None = None, *, seed: int | None = None) -> Tensor:
        """``n`` draws ``(n, d)`` float64: :math:`m + L z`, :math:`z \\sim N(0, I)`, with :math:`S = L L^T`.
        Randomness from ``generator`` (or an integer ``seed``; see ``curriculum.protocol.as_generator``)."""
        check_positive_int(n, "n")
        z = torch.randn(n, self.dim, generator=as_generator(generator, seed), dtype=torch.float64)
        return self.mean + z @ self._chol.T

    def log_prob(self, x: Tensor) -> Tensor:
        r""":math:`\log N(x; m, S)` (1) at ``x (N, d)``: ``(N,)`` in ``x``'s dtype. Differentiable in ``x``."""
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        check_no_nan(x, "x", "; a density at NaN is undefined (did a sampler or a model diverge?)")
        value = log_normal_cholesky(x, self.mean.to(x.device), self._chol.to(x.device)).to(x.dtype)
        return value.masked_fill(torch.isinf(x).any(dim=1), -math.inf)  # zero density at infinity, not inf - inf

    def log_likelihood(self, x: Tensor) -> LogLikelihood:
        """``log_prob`` labelled exact."""
        return LogLikelihood(self.log_prob(x), EXACT)

    def entropy(self) -> float:
        r""":math:`H = \tfrac{d}{2}(1 + \log 2\pi) + \tfrac12 \log|S|` nats."""
        return float(0.5 * self.dim * (1 + LOG_2PI) + 0.5 * log_det_from_cholesky(self._chol))

    def frechet_to(self, mean: Tensor, cov: Tensor) -> float:
        r"""Squared 2-Wasserstein (Frechet) distance (3) between :math:`N(m, S)` and ``N(mean, cov)``."""
        return float(gaussian_frechet(self.mean, self.cov, mean.double(), cov.double()))


def affine_pushforward(fn: Callable[[Tensor], Tensor], dim: int, *, check_points: int = 4,
                       tol: float = 1e-8, seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""Exact output mean ``(d,)`` and covariance ``(d, d)`` of an affine map ``fn`` applied to
    :math:`x \sim N(0, I_d)`, in float64.

    ``fn`` maps ``(B, d) -> (B, d)`` row by row. Writing :math:`f(x) = A x + b`: :math:`b = f(0)`,
    column :math:`i` of :math:`A` is :math:`f(e_i) - b`, and the output is :math:`N(b, A A^T)`. Raises
    ``ValueError`` if ``fn`` is not affine to ``tol`` (relative) at ``check_points`` random points. Any
    deterministic sampler of a linear model (DDIM with an exact Gaussian predictor, an ODE with a linear
    velocity) is such a map.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable as fn(x), got {type(fn).__name__}")
    check_positive_int(dim, "dim")
    check_positive_int(check_points, "check_points")
    probes = torch.cat([torch.zeros(1, dim, dtype=torch.float64), torch.eye(dim, dtype=torch.float64)])
    gen = torch.Generator().manual_seed(seed)
    tests = torch.randn(check_points, dim, generator=gen, dtype=torch.float64)
    out = fn(torch.cat([probes, tests]))
    check_tensor(out, "fn(x)", shape=(dim + 1 + check_points, dim))
    out = out.double()
    b = out[0]
    a = (out[1:dim + 1] - b).T  # column i = f(e_i) - f(0)
    predicted = tests @ a.T + b
    scale = max(1.0, float(out.abs().max()))
    err = float((predicted - out[dim + 1:]).abs().max())
    if not math.isfinite(err) or err > tol * scale:
        raise ValueError(f"fn is not affine: f(x) differs from A x + b by {err:.3g} at random points "
                         f"(tolerance {tol * scale:.3g}); use Monte Carlo moments instead")
    return b, a @ a.T
