r"""Ground-truth distributions on the plane (and on the line): exact densities, seeded samplers, entropies.

Every distribution here has an exact ``log_prob`` and a differential entropy :math:`H(p) = -E_p[\log p(X)]`
known either in closed form or by quadrature whose error we estimate and report. They are the course's
ground truth: for any model :math:`q`,

.. math:: \mathrm{NLL}(q) = -E_p[\log q(X)] = H(p) + \mathrm{KL}(p \,\|\, q) \ge H(p),

so the entropy is the floor that no model's test NLL can beat, and the gap to it is the model's KL.

Symbols
-------
=============  ==========================================================
``x``          a point in the plane, :math:`x \in \mathbb{R}^2`, batches ``(N, 2)``
``log_prob``   :math:`\log p(x)`, shape ``(N,)``, dtype of ``x``
``w_k``        mixture weight of component :math:`k`, :math:`\sum_k w_k = 1`
``m_k, s_k``   mean and (isotropic) standard deviation of a Gaussian component
``r, phi``     polar coordinates about a moon's centre
``kappa``      von Mises concentration of a moon's angle
=============  ==========================================================

Entropy by quadrature: :math:`H = -\sum_k w_k E_{p_k}[\log p(X)]`, and each expectation under a component is a
smooth integral that Gauss-Hermite (Gaussian directions) or the periodic trapezoid rule (angles) computes with
spectral accuracy. We evaluate it at an order ``n`` and at ``2n``; the reported error is their difference,
a conservative bound for rules that converge this fast.

Every distribution follows the course's model protocol (``curriculum.protocol``): ``sample(n, generator)``
(an integer seed is accepted too, and ``sample(n, seed=s)`` gives the same points on every machine) and an
exact ``log_likelihood``. ``GaussianMixture1D`` is the one-dimensional counterpart used where integrals over the
line are computed by quadrature (the GAN and WGAN notebooks).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from .checks import check_no_nan, check_positive_float, check_positive_int, check_probability, check_tensor
from .gaussians import LOG_2PI, log_normal, log_normal_isotropic
from .protocol import EXACT, LogLikelihood, as_generator, numpy_seed
from .tensors import input_gradient

__all__ = [
    "Entropy",
    "ToyDistribution",
    "GaussianMixture2D",
    "Checkerboard",
    "TwoMoons",
    "ring_of_gaussians",
    "grid_of_gaussians",
    "unbalanced_mixture",
    "ParallelLine",
    "GaussianMixture1D",
    "two_gaussians_1d",
    "get",
    "NAMES",
]



@dataclass(frozen=True)
class Entropy:
    """A differential entropy in nats with an error bound and the method that produced it."""

    value: float
    error: float
    method: str

    def __str__(self) -> str:
        return f"{self.value:.4f} nats (± {self.error:.1e}, {self.method})"


def _numpy_rng(generator: torch.Generator | int | None, seed: int | None) -> np.random.Generator:
    """The NumPy generator behind a ``sample`` call. An integer seed seeds it directly (so ``sample(n, seed=s)``
    gives the same points as it always has); a ``torch.Generator`` (or torch's global one, when neither is
    given) supplies its seed, so seeding torch seeds the toys too."""
    if isinstance(generator, int) and not isinstance(generator, bool) and seed is None:
        generator, seed = None, generator  # the older sample(n, seed) form
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        if generator is not None:
            raise ValueError("pass either generator or seed, not both")
        return np.random.default_rng(seed)
    return np.random.default_rng(numpy_seed(as_generator(generator)))


def _gauss_hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes and weights for :math:`E_{z \sim N(0,1)}[f(z)] \approx \sum_i w_i f(z_i)` (weights sum to 1)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / weights.sum()


class ToyDistribution(ABC):
    """A distribution on the plane with ``sample``, exact ``log_prob`` and ``entropy``."""

    name: str = "toy"
    #: a box (x_min, x_max, y_min, y_max) that holds essentially all of the mass, for plots and grids
    extent: tuple[float, float, float, float] = (-4.0, 4.0, -4.0, 4.0)

    def sample(self, n: int, generator: torch.Generator | int | None = None, *, seed: int | None = None
               ) -> torch.Tensor:
        """Draw ``n`` points, shape ``(n, 2)``, float32 (``curriculum.protocol``). The same ``seed`` (or a
        generator in the same state) gives the same points; ``sample(n, s)`` with an integer ``s`` means
        ``seed=s``."""
        check_positive_int(n, "n")
        points = self._sample(n, _numpy_rng(generator, seed))
        return torch.from_numpy(points.astype(np.float32))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r"""Exact :math:`\log p(x)` for ``x`` of shape ``(N, 2)``; returns ``(N,)`` in ``x``'s dtype and device."""
        check_tensor(x, "x", shape=(None, 2), floating=True)
        check_no_nan(x, "x", "; a density at NaN is undefined (did a sampler or a model diverge?)")
        return self._log_prob(x)

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        """``log_prob`` labelled exact (``curriculum.protocol``)."""
        return LogLikelihood(self.log_prob(x), EXACT)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        r"""The exact score :math:`\nabla_x \log p(x)` ``(N, 2)``, by autograd of ``log_prob`` (detached)."""
        return input_gradient(self.log_prob, x)

    def entropy(self, order: int = 48) -> Entropy:
        """Differential entropy in nats; quadrature at ``order`` and ``2 * order``, error = their difference."""
        check_positive_int(order, "order")
        cache = self.__dict__.setdefault("_entropy_cache", {})
        if order not in cache:  # the quadrature takes up to a second; distributions are immutable
            coarse, fine = self._entropy_quadrature(order), self._entropy_quadrature(2 * order)
            cache[order] = Entropy(fine, abs(fine - coarse), self._entropy_method)
        return cache[order]

    _entropy_method = "quadrature"

    @abstractmethod
    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    @abstractmethod
    def _log_prob(self, x: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def _entropy_quadrature(self, order: int) -> float: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class GaussianMixture2D(ToyDistribution):
    r"""A mixture of isotropic Gaussians, :math:`p(x) = \sum_k w_k \, N(x; m_k, s_k^2 I)`.

    ``means`` (K, 2), ``stds`` (K,) positive, ``weights`` (K,) non-negative summing to 1.
    """

    _entropy_method = "Gauss-Hermite quadrature per component"

    def __init__(self, means, stds, weights=None, name: str = "gaussian mixture", extent=None):
        means = torch.as_tensor(means, dtype=torch.float64)
        check_tensor(means, "means", shape=(None, 2))
        k = means.shape[0]
        stds = torch.as_tensor(stds, dtype=torch.float64).reshape(-1)
        if stds.numel() == 1:
            stds = stds.expand(k).clone()
        check_tensor(stds, "stds", shape=(k,))
        if not (stds > 0).all():
            raise ValueError(f"stds must all be positive, got {stds.tolist()}")
        weights = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else torch.as_tensor(
            weights, dtype=torch.float64
        )
        check_tensor(weights, "weights", shape=(k,))
        if (weights < 0).any() or abs(float(weights.sum()) - 1.0) > 1e-9:
            raise ValueError(f"weights must be non-negative and sum to 1, got {weights.tolist()}")
        self.means, self.stds, self.weights, self.name = means, stds, weights, name
        if extent is None:
            pad = 4.0 * float(stds.max())
            lo, hi = means.min(0).values - pad, means.max(0).values + pad
            extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        self.extent = tuple(extent)

    @property
    def n_modes(self) -> int:
        return self.means.shape[0]

    def convolved(self, sigma: float) -> GaussianMixture2D:
        r"""The noised density :math:`p_\sigma = p * N(0, \sigma^2 I)`: the same mixture with every variance grown
        by :math:`\sigma^2` (a sum of independent Gaussians), so its ``log_prob`` and ``score`` are exact."""
        sigma = check_positive_float(sigma, "sigma")
        return GaussianMixture2D(self.means, torch.sqrt(self.stds ** 2 + sigma ** 2), self.weights,
                                 name=f"{self.name} * N(0, {sigma:g}^2 I)")

    def _sample(self, n, rng):
        k = rng.choice(self.n_modes, size=n, p=self.weights.numpy())  # k ~ Categorical(w)
        eps = rng.standard_normal((n, 2))  # eps ~ N(0, I)
        return self.means.numpy()[k] + self.stds.numpy()[k, None] * eps  # x = m_k + s_k eps

    def component_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log w_k + \log N(x; m_k, s_k^2 I)` for every component, shape ``(N, K)``."""
        log_components = log_normal_isotropic(x, self.means.to(x), self.stds.to(x) ** 2)  # log N(x; m_k, s_k^2 I)
        return torch.log(self.weights.to(x)) + log_components

    def _log_prob(self, x):
        return torch.logsumexp(self.component_log_prob(x), dim=1)  # log sum_k w_k N_k

    def _entropy_quadrature(self, order):
        z, w = _gauss_hermite(order)
        z1, z2 = np.meshgrid(z, z, indexing="ij")
        grid = torch.from_numpy(np.stack([z1.ravel(), z2.ravel()], 1))  # (order^2, 2), z ~ N(0, I)
        grid_w = torch.from_numpy(np.outer(w, w).ravel())
        total = 0.0
        for m, s, wk in zip(self.means, self.stds, self.weights):
            x = m + s * grid  # X = m_k + s_k z under component k
            total += float(wk) * float((grid_w * self._log_prob(x)).sum())  # w_k E_k[log p(X)]
        return -total


class Checkerboard(ToyDistribution):
    r"""Uniform on the dark squares of a ``size`` x ``size`` board of unit squares centred at the origin.

    Square :math:`(i, j)` (integer corners) is dark when :math:`i + j` is even. With ``size`` even there are
    :math:`\text{size}^2 / 2` dark squares of area 1, so :math:`p = 2 / \text{size}^2` on them and 0 elsewhere,
    and :math:`H = \log(\text{size}^2 / 2)` exactly.
    """

    _entropy_method = "closed form"

    def __init__(self, size: int = 4):
        check_positive_int(size, "size")
        if size % 2:
            raise ValueError(f"size must be even so the board is centred on a square corner, got {size}")
        self.size, self.name = size, "checkerboard"
        half = size / 2
        self.extent = (-half - 0.5, half + 0.5, -half - 0.5, half + 0.5)
        cells = [(i, j) for i in range(size) for j in range(size) if (i + j) % 2 == 0]
        self._cells = np.array(cells, dtype=np.float64) - half  # lower-left corners of dark squares
        self._log_density = -math.log(len(cells))  # area of the support = number of unit squares

    def _sample(self, n, rng):
        corner = self._cells[rng.integers(len(self._cells), size=n)]
        return corner + rng.random((n, 2))

    def _log_prob(self, x):
        half = self.size / 2
        inside = ((x >= -half) & (x < half)).all(dim=1)
        ij = torch.floor(x + half)
        dark = (ij.sum(dim=1) % 2) == 0
        out = torch.full_like(x[:, 0], -math.inf)
        return out.masked_fill(inside & dark, self._log_density)

    def entropy(self, order: int = 48) -> Entropy:
        check_positive_int(order, "order")
        return Entropy(-self._log_density, 0.0, self._entropy_method)

    def _entropy_quadrature(self, order):
        return -self._log_density


class TwoMoons(ToyDistribution):
    r"""Two interleaved crescents with an exact density.

    Each moon is a distribution in polar coordinates about its own centre :math:`c_k`: the radius is log-normal,
    :math:`\log r \sim N(\log R, \sigma_r^2)`, and the angle is von Mises, :math:`\phi \sim \mathrm{vM}(\mu_k, \kappa)`,
    independent. Changing variables from :math:`(r, \phi)` to :math:`x = c_k + r(\cos\phi, \sin\phi)` divides by
    the Jacobian :math:`r`:

    .. math:: p_k(x) = p_r(r)\, p_\phi(\phi) / r, \qquad p(x) = \tfrac12 p_1(x) + \tfrac12 p_2(x).

    The upper moon opens downwards (:math:`\mu_1 = \pi/2`), the lower one upwards (:math:`\mu_2 = -\pi/2`),
    offset like scikit-learn's ``make_moons`` and centred at the origin.
    """

    _entropy_method = "Gauss-Hermite (radius) x periodic trapezoid (angle) quadrature"

    def __init__(self, radius: float = 1.6, radial_std: float = 0.08, kappa: float = 2.5):
        self.radius = check_positive_float(radius, "radius")
        self.radial_std = check_positive_float(radial_std, "radial_std")
        self.kappa = check_positive_float(kappa, "kappa")
        self.name = "two moons"
        half = 0.5 * radius
        self.centres = torch.tensor([[-half, 0.25 * radius], [half, -0.25 * radius]], dtype=torch.float64)
        self.mus = torch.tensor([math.pi / 2, -math.pi / 2], dtype=torch.float64)
        reach = float(self.centres.abs().max()) + radius * math.exp(4 * radial_std)  # 4 sigma out in log r
        self.extent = (-reach, reach, -reach, reach)

    def _sample(self, n, rng):
        k = rng.integers(2, size=n)  # which moon, each with probability 1/2
        r = self.radius * np.exp(self.radial_std * rng.standard_normal(n))  # log r ~ N(log R, sigma_r^2)
        phi = rng.vonmises(self.mus.numpy()[k], self.kappa)  # phi ~ vM(mu_k, kappa)
        return self.centres.numpy()[k] + r[:, None] * np.stack([np.cos(phi), np.sin(phi)], 1)

    def _log_vonmises(self, phi: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
        # log vM(phi; mu, kappa) = kappa cos(phi - mu) - log(2 pi I0(kappa)); i0e(k) = e^{-k} I0(k) avoids overflow
        kappa = torch.as_tensor(self.kappa, dtype=phi.dtype, device=phi.device)
        return kappa * (torch.cos(phi - mu) - 1) - math.log(2 * math.pi) - torch.log(torch.special.i0e(kappa))

    def _log_radius(self, r: torch.Tensor) -> torch.Tensor:
        # log-normal density: p_r(r) = N(log r; log R, sigma_r^2) / r
        u = (torch.log(r) - math.log(self.radius)) / self.radial_std
        return -0.5 * u**2 - math.log(self.radial_std) - 0.5 * LOG_2PI - torch.log(r)

    def component_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log \tfrac12 p_k(x)` for both moons, ``(N, 2)``."""
        out = []
        for c, mu in zip(self.centres.to(x), self.mus.to(x)):
            d = x - c
            r = torch.linalg.vector_norm(d, dim=1).clamp_min(torch.finfo(x.dtype).tiny)
            phi = torch.atan2(d[:, 1], d[:, 0])
            out.append(math.log(0.5) + self._log_radius(r) + self._log_vonmises(phi, mu) - torch.log(r))
        return torch.stack(out, dim=1)

    def _log_prob(self, x):
        return torch.logsumexp(self.component_log_prob(x), dim=1)

    def _entropy_quadrature(self, order):
        z, wz = _gauss_hermite(order)  # log r = log R + sigma_r z, z ~ N(0, 1)
        n_phi = 4 * order
        phi = np.linspace(-np.pi, np.pi, n_phi, endpoint=False)  # periodic trapezoid: equal weights 2 pi / n
        total = 0.0
        for c, mu in zip(self.centres, self.mus):
            r = self.radius * np.exp(self.radial_std * z)
            rr, pp = np.meshgrid(r, phi + float(mu), indexing="ij")
            x = torch.from_numpy(np.stack([rr.ravel() * np.cos(pp.ravel()), rr.ravel() * np.sin(pp.ravel())], 1)) + c
            angle_density = torch.exp(self._log_vonmises(torch.from_numpy(pp.ravel()), mu))  # vM(phi) at nodes
            weights = torch.from_numpy(np.repeat(wz, n_phi)) * angle_density * (2 * math.pi / n_phi)
            total += 0.5 * float((weights * self._log_prob(x)).sum())  # (1/2) E_k[log p(X)]
        return -total


def ring_of_gaussians(n_modes: int = 8, radius: float = 2.0, std: float = 0.1) -> GaussianMixture2D:
    """``n_modes`` equal Gaussians evenly spaced on a circle: the classic mode-collapse test."""
    check_positive_int(n_modes, "n_modes")
    check_positive_float(radius, "radius")
    check_positive_float(std, "std")
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    pad = radius + 4 * std
    return GaussianMixture2D(means, std, name=f"ring of {n_modes} Gaussians", extent=(-pad, pad, -pad, pad))


def grid_of_gaussians(side: int = 5, spacing: float = 1.0, std: float = 0.1) -> GaussianMixture2D:
    """``side`` x ``side`` equal Gaussians on a square lattice centred at the origin: 25 modes by default, a harder
    mode-collapse test than the ring (more modes, and a generator from connected noise must thread them all)."""
    check_positive_int(side, "side")
    check_positive_float(spacing, "spacing")
    check_positive_float(std, "std")
    ticks = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    means = torch.cartesian_prod(ticks, ticks)
    pad = float(ticks[-1]) + 4 * std
    return GaussianMixture2D(means, std, name=f"{side}x{side} grid of Gaussians", extent=(-pad, pad, -pad, pad))


def unbalanced_mixture(minor_weight: float = 0.15) -> GaussianMixture2D:
    """A heavy broad component and a light narrow one: tests whether a model keeps the rare mode."""
    check_probability(minor_weight, "minor_weight", open_interval=True)
    return GaussianMixture2D(
        means=[[-1.0, -0.5], [1.6, 1.2]],
        stds=[0.6, 0.25],
        weights=[1.0 - minor_weight, minor_weight],
        name="unbalanced mixture",
        extent=(-3.5, 3.0, -3.0, 2.5),
    )


# --------------------------------------------------------------------------------------------------------------
# One-dimensional ground truth (notebooks 02, 03 and 05 work on the line, where integrals are exact quadrature)
# --------------------------------------------------------------------------------------------------------------
class GaussianMixture1D:
    r"""A mixture of Gaussians on the line, :math:`p(x) = \sum_k w_k N(x; m_k, s_k^2)`.

    ``log_prob`` works elementwise on any shape (a quadrature grid ``(G,)``, or points ``(N, 1)``), in the
    input's dtype; ``sample(n, generator)`` returns ``(n, 1)`` float32 drawn with torch (``curriculum.protocol``):
    one uniform per point picks the component (none when there is one component), then one ``randn(n)`` per
    component, in component order.
    """

    def __init__(self, means, stds, weights=None, name: str = "1-D gaussian mixture"):
        means = torch.as_tensor(means, dtype=torch.float64).reshape(-1)
        k = means.shape[0]
        stds = torch.as_tensor(stds, dtype=torch.float64).reshape(-1)
        if stds.numel() == 1:
            stds = stds.expand(k).clone()
        check_tensor(stds, "stds", shape=(k,))
        if k == 0 or not (stds > 0).all():
            raise ValueError(f"means must be non-empty and stds all positive, got {means.tolist()} and {stds.tolist()}")
        weights = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else torch.as_tensor(
            weights, dtype=torch.float64).reshape(-1)
        check_tensor(weights, "weights", shape=(k,))
        if (weights < 0).any() or abs(float(weights.sum()) - 1.0) > 1e-9:
            raise ValueError(f"weights must be non-negative and sum to 1, got {weights.tolist()}")
        self.means, self.stds, self.weights, self.name = means, stds, weights, name

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log p(x) = \operatorname{logsumexp}_k (\log w_k + \log N(x; m_k, s_k^2))`, elementwise."""
        check_tensor(x, "x", floating=True)
        check_no_nan(x, "x", "; a density at NaN is undefined (did a sampler or a model diverge?)")
        terms = [log_normal(x, float(m), float(s)) + math.log(float(w))
                 for m, s, w in zip(self.means, self.stds, self.weights)]
        return terms[0] if len(terms) == 1 else torch.logsumexp(torch.stack(terms), dim=0)

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        """``log_prob`` of points ``(N, 1)``, labelled exact."""
        check_tensor(x, "x", shape=(None, 1), floating=True)
        return LogLikelihood(self.log_prob(x)[:, 0], EXACT)

    def sample(self, n: int, generator: torch.Generator | int | None = None, *, seed: int | None = None
               ) -> torch.Tensor:
        r"""``n`` draws ``(n, 1)`` float32: component :math:`k \sim w`, then :math:`x = m_k + s_k \varepsilon`."""
        check_positive_int(n, "n")
        gen = as_generator(generator, seed)
        k = self.means.shape[0]
        if k == 1:
            which = torch.zeros(n, dtype=torch.long)
        else:
            u = torch.rand(n, generator=gen)
            which = (u[:, None] >= torch.cumsum(self.weights, 0)[:-1].float()).sum(1)  # k with F_{k-1} <= u < F_k
        eps = torch.stack([torch.randn(n, generator=gen) for _ in range(k)])  # (K, n), one draw per component
        means, stds = self.means.float()[which], self.stds.float()[which]
        return (means + stds * eps[which, torch.arange(n)])[:, None]

    def __repr__(self) -> str:
        return f"GaussianMixture1D(means={self.means.tolist()}, stds={self.stds.tolist()})"


class ParallelLine:
    r"""The uniform distribution on the vertical segment :math:`\{\theta\} \times [0, 1]` of the plane.

    Arjovsky et al.'s parallel lines (WGAN, Example 1): ``ParallelLine(0)`` and ``ParallelLine(theta)`` have
    disjoint supports for every :math:`\theta \ne 0`, so :math:`\mathrm{JSD} = \log 2` and
    :math:`\mathrm{KL} = \infty` whatever :math:`\theta` is, while :math:`W_1 = |\theta|`. The law is singular
    (no density on the plane), so it has ``sample(n, generator) -> (n, 2)`` float32 and no ``log_prob``.
    """

    def __init__(self, theta: float) -> None:
        if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not math.isfinite(theta):
            raise ValueError(f"theta must be a finite number (the line's horizontal position), got {theta!r}")
        self.theta, self.name = float(theta), f"line at x = {float(theta):g}"

    def sample(self, n: int, generator: torch.Generator | int | None = None, *, seed: int | None = None
               ) -> torch.Tensor:
        """``n`` points ``(n, 2)``: ``(theta, u)`` with ``u ~ U[0, 1]``."""
        check_positive_int(n, "n")
        u = torch.rand(n, generator=as_generator(generator, seed))
        return torch.stack([torch.full_like(u, self.theta), u], dim=1)

    def __repr__(self) -> str:
        return f"ParallelLine(theta={self.theta:g})"


def two_gaussians_1d() -> GaussianMixture1D:
    """The 1-D data of the GAN notebooks: :math:`\tfrac12 N(-1, 0.5^2) + \tfrac12 N(1.5, 0.4^2)`."""
    return GaussianMixture1D([-1.0, 1.5], [0.5, 0.4], name="two Gaussians on the line")


_FACTORIES = {
    "ring": ring_of_gaussians,
    "grid": grid_of_gaussians,
    "unbalanced": unbalanced_mixture,
    "checkerboard": Checkerboard,
    "moons": TwoMoons,
}
NAMES = tuple(_FACTORIES)


def get(name: str) -> ToyDistribution:
    """A toy distribution by short name: ``"ring"``, ``"grid"``, ``"unbalanced"``, ``"checkerboard"`` or ``"moons"``."""
    if name not in _FACTORIES:
        raise ValueError(f"name must be one of {', '.join(map(repr, NAMES))}; got {name!r}")
    return _FACTORIES[name]()
