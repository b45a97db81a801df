r"""Flow matching: regress a time-dependent velocity field onto the velocities of simple conditional paths between
noise and data, then sample (and compute likelihoods) by solving an ODE (Lipman et al., 2023; Liu et al., 2023;
Tong et al., 2024).

Time convention, everywhere: :math:`t = 0` is noise, :math:`t = 1` is data (as in the field's main libraries).
Separate pieces, as in the clearest flow-matching code:

- the **path**: given a noise point :math:`x_0`, a data point :math:`x_1` and :math:`t`, the conditional point
  :math:`x_t` and its velocity :math:`u_t = \dot x_t`. The linear (rectified, conditional-OT) path is

  .. math:: x_t = (1 - t)\,x_0 + t\,x_1, \qquad u_t = x_1 - x_0;                                             (1)

- the **loss**: conditional flow matching, :math:`L_{CFM}(\theta) = E_{t, (x_0, x_1)}\,|v_\theta(x_t, t) - u_t|^2` (2),
  whose gradient equals that of the intractable :math:`E\,|v_\theta(x_t, t) - u_t(x_t)|^2` with the **marginal**
  field :math:`u_t(x) = E[u_t \mid x_t = x]` (3);
- the **coupling** of noise and data: independent, or minibatch optimal transport (``transport``'s exact
  assignment for the squared distance), which straightens the paths;
- the **solver**: ``curriculum.ode``, from :math:`t = 0` to :math:`t = 1` to sample, backwards with the
  instantaneous change of variables to score data:

  .. math:: \log p_1(x_1) = \log p_0(x_0) - \int_0^1 \nabla\!\cdot v_\theta(x_t, t)\,dt.                        (4)

For Gaussian noise :math:`N(0, I)` and Gaussian data :math:`N(m, S)` with the independent coupling everything is
linear: :math:`x_t \sim N(t m, \Sigma_t)`, :math:`\Sigma_t = (1-t)^2 I + t^2 S`, and the marginal field is
:math:`u_t(x) = m + C_t \Sigma_t^{-1}(x - t m)` with :math:`C_t = t S - (1 - t) I` (5), the covariance of
:math:`x_t` with :math:`x_1 - x_0`.

Symbols and shapes: ``x0`` noise ``(B, D)``; ``x1`` data ``(B, D)``; ``t`` ``(B,)`` in [0, 1]; ``x_t``, ``u_t``
``(B, D)``; ``velocity(x, t)`` :math:`v_\theta`, shaped like ``x``; ``m`` ``(D,)``, ``S`` ``(D, D)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .checks import (check_choice, check_nonnegative_int, check_positive_float, check_positive_int,
                     check_tensor)
from .grading import reference
from .nets import TimeMLP
from .ode import METHODS, odeint
from .protocol import EXACT, LogLikelihood
from .tensors import jacobian_trace
from .train import LR_SCHEDULES, FitResult, fit
from .transport import optimal_assignment

__all__ = ["linear_path", "cfm_loss", "ot_pairing", "sample", "log_likelihood", "gaussian_marginal_velocity",
           "gaussian_cfm_minimum", "VelocityField", "FMConfig", "train_flow_matching", "reflow_pairs", "straightness",
           "FlowMatchingModel"]

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_pair(x0: torch.Tensor, x1: torch.Tensor) -> None:
    check_tensor(x0, "x0", ndim=2, floating=True)
    check_tensor(x1, "x1", shape=tuple(x0.shape), floating=True)


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def linear_path(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(1): ``(x_t, u_t)`` on the straight line from noise ``x0`` (t = 0) to data ``x1`` (t = 1)."""
    _check_pair(x0, x1)
    check_tensor(t, "t", shape=(x0.shape[0],), floating=True)
    if bool((t < 0).any()) or bool((t > 1).any()):
        raise ValueError("t must lie in [0, 1] (t = 0 noise, t = 1 data)")
    tt = t.to(x0)[:, None]
    return (1 - tt) * x0 + tt * x1, x1 - x0  # x_t, u_t = d x_t / dt


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def cfm_loss(velocity: Velocity, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(2) on the linear path: ``mean |velocity(x_t, t) - u_t|^2`` (summed over coordinates); a scalar."""
    x_t, u_t = linear_path(x0, x1, t)
    v = velocity(x_t, t.to(x0))
    if not isinstance(v, torch.Tensor) or v.shape != x_t.shape:
        raise ValueError(f"velocity(x, t) must return a tensor shaped like x, {tuple(x_t.shape)}")
    return ((v - u_t) ** 2).sum(dim=1).mean()


def ot_pairing(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """Reorder the noise batch ``x0 (B, D)`` so that ``x0[i]`` is paired with ``x1[i]`` by the exact optimal
    assignment for the squared distance (minibatch OT coupling); returns the reordered ``x0``."""
    _check_pair(x0, x1)
    match = optimal_assignment(x0, x1, power=2)  # x0[i] -> x1[match[i]]
    order = torch.empty_like(match)
    order[match] = torch.arange(match.shape[0], device=match.device)
    return x0[order]


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def sample(velocity: Velocity, x0: torch.Tensor, steps: int = 100, method: str = "euler") -> torch.Tensor:
    """Carry noise ``x0 (B, D)`` from t = 0 to t = 1 along ``velocity``; ``ode.nfe(method, steps)`` evaluations."""
    check_tensor(x0, "x0", ndim=2, floating=True)
    check_choice(method, "method", METHODS)
    with torch.no_grad():
        return odeint(velocity, x0, 0.0, 1.0, steps=check_positive_int(steps, "steps"), method=method)


def log_likelihood(velocity: Velocity, x1: torch.Tensor, log_p0: Callable[[torch.Tensor], torch.Tensor],
                   steps: int = 100, method: str = "rk4") -> torch.Tensor:
    """(4): per-point log-density ``(B,)`` of data ``x1 (B, D)`` under the flow, integrating the state and the
    running divergence (exact trace, D backward passes) from t = 1 back to t = 0; ``log_p0`` the noise's
    log-density."""
    check_tensor(x1, "x1", ndim=2, floating=True)
    dim = x1.shape[1]

    def augmented(state: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x = state[:, :dim].detach().requires_grad_(True)
            v = velocity(x, t)
            divergence = jacobian_trace(v, x)  # d (log-det) / dt = div v
        return torch.cat([v.detach(), divergence[:, None]], dim=1)

    start = torch.cat([x1, torch.zeros(x1.shape[0], 1, dtype=x1.dtype, device=x1.device)], dim=1)
    end = odeint(augmented, start, 1.0, 0.0, steps=check_positive_int(steps, "steps"), method=method)
    x0, integral = end[:, :dim], end[:, dim]  # integral = int_1^0 div dt = -int_0^1 div dt
    return log_p0(x0) + integral  # log p1(x1) = log p0(x0) - int_0^1 div v dt


@reference  # an exercise's reference: graded tests hide it (curriculum.grading)
def gaussian_marginal_velocity(m: torch.Tensor, S: torch.Tensor) -> Velocity:
    """(5): the exact marginal field of the linear path from N(0, I) to N(m, S) with independent coupling."""
    check_tensor(m, "m", ndim=1, floating=True)
    check_tensor(S, "S", shape=(m.shape[0], m.shape[0]), floating=True)
    eye = torch.eye(m.shape[0], dtype=S.dtype, device=S.device)

    def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for value in torch.unique(t):
            rows = t == value
            s = float(value)
            cov = (1 - s) ** 2 * eye + s ** 2 * S  # Sigma_t
            cross = s * S - (1 - s) * eye  # C_t = Cov(x_t, x1 - x0)
            gain = torch.linalg.solve(cov, cross.T).T  # C_t Sigma_t^{-1} (both symmetric)
            out[rows] = m.to(x) + (x[rows] - s * m.to(x)) @ gain.T.to(x)
        return out

    return velocity


def gaussian_cfm_minimum(S: torch.Tensor, n_quadrature: int = 64) -> float:
    r"""The smallest value of (2) for N(0, I) -> N(m, S), independent coupling, t ~ U(0, 1):
    :math:`\int_0^1 \operatorname{tr}\big(\operatorname{Var}(x_1 - x_0) - C_t \Sigma_t^{-1} C_t\big)\,dt` (the expected
    conditional variance of :math:`u_t` given :math:`x_t`), by Gauss-Legendre quadrature in float64."""
    check_tensor(S, "S", ndim=2, floating=True)
    S = S.double()
    eye = torch.eye(S.shape[0], dtype=torch.float64)
    nodes, weights = np.polynomial.legendre.leggauss(check_positive_int(n_quadrature, "n_quadrature"))
    total = 0.0
    for node, weight in zip(nodes.tolist(), weights.tolist()):
        s = 0.5 * (node + 1)  # [-1, 1] -> [0, 1]
        cov = (1 - s) ** 2 * eye + s ** 2 * S
        cross = s * S - (1 - s) * eye
        explained = cross @ torch.linalg.solve(cov, cross)
        total += 0.5 * weight * float(torch.trace(S + eye - explained))  # Var(x1 - x0) = S + I
    return total


# --------------------------------------------------------------------------------------------------------------
# Training, reflow and the trained model
# --------------------------------------------------------------------------------------------------------------
class VelocityField(nn.Module):
    """``v_theta(x (B, D), t (B,)) -> (B, D)``: the course's time-conditioned MLP (``curriculum.nets``) with
    t in [0, 1] fed as it is."""

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.net = TimeMLP(check_positive_int(dim, "dim"), hidden=hidden, depth=depth, time_scale=1.0)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(x, t)


@dataclass(frozen=True)
class FMConfig:
    """``train_flow_matching``'s settings: ``steps`` Adam updates (``lr``, ``lr_schedule``) on batches of
    ``batch_size`` (data, and as many noise points); ``coupling``: ``"independent"`` or ``"ot"`` (minibatch optimal
    transport); the network's ``hidden``/``depth``."""

    steps: int = 4000
    batch_size: int = 512  # 256 left the ring 0.06-0.09 nats from its entropy at 4,000 steps; 512: 0.037
    lr: float = 2e-3
    lr_schedule: str = "cosine"
    coupling: str = "independent"
    hidden: int = 128
    depth: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "hidden", "depth"):
            check_positive_int(getattr(self, name), name)
        check_positive_float(self.lr, "lr")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        check_choice(self.coupling, "coupling", ("independent", "ot"))
        check_nonnegative_int(self.seed, "seed")


def train_flow_matching(sample_data: Callable[[int, torch.Generator], torch.Tensor], config: FMConfig | None = None,
                        pairs: tuple[torch.Tensor, torch.Tensor] | None = None, init: VelocityField | None = None,
                        progress: bool | None = None) -> tuple[VelocityField, FitResult]:
    """Fit a ``VelocityField`` with (2) on the linear path: noise N(0, I) and data batches from ``sample_data``,
    paired independently or by minibatch OT; or, for reflow, fixed ``pairs = (x0, x1)`` ``(N, D)`` each (drawn in
    minibatches, ``config.coupling`` ignored). ``init``: a network of the same shape whose weights are the starting
    point (reflow fine-tunes the flow that made its pairs); it is copied, not changed. Returns the network (eval
    mode) and the history."""
    config = FMConfig() if config is None else config
    if not isinstance(config, FMConfig):
        raise TypeError(f"config must be an FMConfig, got {type(config).__name__}")
    if pairs is not None:
        _check_pair(*pairs)
        dim, data = pairs[0].shape[1], (pairs[0], pairs[1])
    else:
        dim, data = sample_data(2, torch.Generator().manual_seed(config.seed)).shape[1], sample_data
    torch.manual_seed(config.seed)  # the network's initial weights
    model = VelocityField(dim, config.hidden, config.depth)
    if init is not None:
        if not isinstance(init, VelocityField):
            raise TypeError(f"init must be a VelocityField, got {type(init).__name__}")
        try:
            model.load_state_dict(init.state_dict())
        except RuntimeError as error:
            raise ValueError(f"init must have the config's shape (dim {dim}, hidden {config.hidden}, depth "
                             f"{config.depth}): {error}") from None

    def loss_fn(net: VelocityField, batch) -> torch.Tensor:
        if pairs is not None:
            x0, x1 = batch
        else:
            x1 = batch
            x0 = torch.randn_like(x1)
            if config.coupling == "ot":
                x0 = ot_pairing(x0, x1)
        t = torch.rand(x1.shape[0], dtype=x1.dtype, device=x1.device)
        return cfm_loss(net, x0, x1, t)

    history = fit(model, loss_fn, data, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                  lr_schedule=config.lr_schedule, seed=config.seed, progress=progress)
    model.eval()
    return model, history


def reflow_pairs(velocity: Velocity, n: int, steps: int = 100, method: str = "rk4",
                 generator: torch.Generator | None = None, dim: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Rectified flow's reflow: ``n`` noise points and where the current flow carries them, ``(x0, x1)``, the
    coupling the next round of (2) is trained on."""
    x0 = torch.randn(check_positive_int(n, "n"), check_positive_int(dim, "dim"), generator=generator)
    return x0, sample(velocity, x0, steps, method)


def straightness(velocity: Velocity, x0: torch.Tensor, steps: int = 100) -> float:
    r""":math:`E\big[\int_0^1 |v(x_t, t)|^2 dt - |x_1 - x_0|^2\big] \ge 0` along the flow from ``x0`` (Euler,
    ``steps`` steps), zero exactly when every trajectory is a straight line travelled at constant speed."""
    check_tensor(x0, "x0", ndim=2, floating=True)
    dim = x0.shape[1]

    def augmented(state: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # d/dt (x, energy) = (v, |v|^2)
        v = velocity(state[:, :dim], t)
        return torch.cat([v, (v ** 2).sum(dim=1, keepdim=True)], dim=1)

    start = torch.cat([x0, torch.zeros(x0.shape[0], 1, dtype=x0.dtype, device=x0.device)], dim=1)
    with torch.no_grad():
        end = odeint(augmented, start, 0.0, 1.0, steps=check_positive_int(steps, "steps"), method="euler")
    x1, energy = end[:, :dim], end[:, dim]
    return float((energy - ((x1 - x0) ** 2).sum(dim=1)).mean())


class FlowMatchingModel:
    """A trained velocity field as a generative model of the course's protocol: ``sample(n, generator)`` solves the
    ODE from N(0, I) (``steps``, ``method``); ``log_likelihood(x)`` is (4) with the exact divergence, labelled
    exact (a change of variables; its only error is the solver's, ``likelihood_steps`` RK4 steps)."""

    def __init__(self, velocity: Velocity, dim: int = 2, steps: int = 100, method: str = "rk4",
                 likelihood_steps: int = 100) -> None:
        self.velocity, self.dim = velocity, check_positive_int(dim, "dim")
        self.steps, self.method = check_positive_int(steps, "steps"), check_choice(method, "method", METHODS)
        self.likelihood_steps = check_positive_int(likelihood_steps, "likelihood_steps")

    def _dtype(self) -> torch.dtype | None:
        """The network's precision; None for a velocity without parameters (a closed-form field)."""
        params = list(self.velocity.parameters()) if isinstance(self.velocity, nn.Module) else []
        return params[0].dtype if params else None

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        x0 = torch.randn(check_positive_int(n, "n"), self.dim, generator=generator)
        return sample(self.velocity, x0.to(self._dtype() or x0.dtype), self.steps, self.method)

    def log_likelihood(self, x: torch.Tensor) -> LogLikelihood:
        """(4) at ``x (B, dim)``, in the network's precision (a closed-form field keeps x's): ``(B,)``."""
        check_tensor(x, "x", shape=(None, self.dim), floating=True)
        log_p0 = lambda z: -0.5 * (z ** 2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)  # N(0, I)
        values = log_likelihood(self.velocity, x.to(self._dtype() or x.dtype), log_p0, self.likelihood_steps, "rk4")
        return LogLikelihood(values, EXACT)
