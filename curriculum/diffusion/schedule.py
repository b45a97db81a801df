r"""Noise schedules: everything the forward process needs, as pure functions of the step ``t``.

Symbols (index ``t`` of each length-``T + 1`` tensor is the value at step ``t``; index 0 is "no noise")

=======================  =============================================================================
``T``                    number of diffusion steps
``betas``                :math:`\beta_t`, variance added by step ``t``; :math:`\beta_0 = 0`
``alphas``               :math:`\alpha_t = 1 - \beta_t`
``alpha_bar``            :math:`\bar\alpha_t = \prod_{s \le t} \alpha_s`; :math:`\bar\alpha_0 = 1`
``snr``                  :math:`\mathrm{SNR}(t) = \bar\alpha_t / (1 - \bar\alpha_t)`; infinite at ``t = 0``
``log_snr``              :math:`\log \mathrm{SNR}(t)`
``posterior_variance``   :math:`\tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\beta_t`
                         (variance of :math:`q(x_{t-1} \mid x_t, x_0)`); :math:`\tilde\beta_0 = 0`
=======================  =============================================================================

Schedules are stored in float64 on the CPU; ``extract`` gathers the values for a batch of steps and moves them
to the data's device and dtype, shaped to broadcast against it (``(B,)`` -> ``(B, 1, ..., 1)``).
"""
from __future__ import annotations

import math

import torch

from ..checks import check_positive_float, check_positive_int, check_tensor
from ..tensors import append_dims

__all__ = ["NoiseSchedule", "linear_schedule", "cosine_schedule", "extract", "check_steps"]


class NoiseSchedule:
    r"""A variance schedule :math:`\beta_1, \dots, \beta_T` and the quantities derived from it.

    Build with ``linear_schedule``, ``cosine_schedule`` or ``NoiseSchedule(betas, name)`` where ``betas`` has
    shape ``(T,)`` (the values for ``t = 1..T``), each in (0, 1).
    """

    def __init__(self, betas: torch.Tensor, name: str = "custom") -> None:
        check_tensor(betas, "betas", ndim=1, floating=True)
        if betas.shape[0] < 1:
            raise ValueError("betas must hold at least one step, got shape (0,)")
        betas = betas.detach().to(device="cpu", dtype=torch.float64)
        if not torch.isfinite(betas).all() or (betas <= 0).any() or (betas >= 1).any():
            raise ValueError(f"every beta_t must lie in the open interval (0, 1); got values in "
                             f"[{float(betas.min()):.3g}, {float(betas.max()):.3g}]")
        self.name = str(name)
        self.T = int(betas.shape[0])
        self.betas = torch.cat([betas.new_zeros(1), betas])  # beta_0 = 0, then beta_1..beta_T
        self.alphas = 1.0 - self.betas  # alpha_t = 1 - beta_t
        self.alpha_bar = torch.cumprod(self.alphas, dim=0)  # alpha_bar_t = prod_{s<=t} alpha_s
        alpha_bar_prev = torch.cat([self.alpha_bar.new_ones(1), self.alpha_bar[:-1]])
        # beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t; beta_tilde_0 = 0 (0/0 avoided)
        self.posterior_variance = torch.zeros_like(self.betas)
        self.posterior_variance[1:] = (1.0 - alpha_bar_prev[1:]) / (1.0 - self.alpha_bar[1:]) * self.betas[1:]
        with torch.no_grad():
            self.snr = self.alpha_bar / (1.0 - self.alpha_bar)  # SNR(t) = alpha_bar_t / (1 - alpha_bar_t)
            self.snr[0] = math.inf
            self.log_snr = torch.log(self.snr)

    def __repr__(self) -> str:
        return (f"NoiseSchedule({self.name!r}, T={self.T}, alpha_bar_T={float(self.alpha_bar[-1]):.3g}, "
                f"beta in [{float(self.betas[1:].min()):.3g}, {float(self.betas[1:].max()):.3g}])")

    def sample_t(self, batch: int, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
        """``batch`` steps drawn uniformly from ``1..T``: ``(batch,)`` int64 on ``device``."""
        check_positive_int(batch, "batch")
        device = torch.device(device)
        if generator is not None and generator.device.type != device.type:
            raise ValueError(f"generator is on {generator.device} but device is {device}; use one generator "
                             f"per device (runtime.generator(seed, device))")
        return torch.randint(1, self.T + 1, (batch,), generator=generator, device=device)


def linear_schedule(T: int = 1000, beta_start: float | None = None, beta_end: float | None = None) -> NoiseSchedule:
    r"""DDPM's linear schedule: :math:`\beta_t` evenly spaced from ``beta_start`` to ``beta_end``.

    Defaults are Ho et al.'s 1e-4 and 0.02 at ``T = 1000``, scaled by ``1000 / T`` for other ``T`` so that the
    total noise added (and hence :math:`\bar\alpha_T`) stays about the same.
    """
    check_positive_int(T, "T")
    given_start, given_end = beta_start, beta_end
    scale = 1000.0 / T
    beta_start = 1e-4 * scale if beta_start is None else check_positive_float(beta_start, "beta_start")
    beta_end = 0.02 * scale if beta_end is None else check_positive_float(beta_end, "beta_end")
    if beta_end >= 1 or beta_start >= 1:
        if given_start is None and given_end is None:
            raise ValueError(f"T={T} is too small for the default linear schedule: its betas (1e-4 to 0.02 scaled by "
                             f"1000 / T) reach {beta_end:g}, and every beta must be below 1; use T >= 21, pass "
                             f"beta_start and beta_end, or use cosine_schedule(T)")
        raise ValueError(f"beta_start and beta_end must be below 1, got {beta_start:g} and {beta_end:g}")
    if T == 1:
        return NoiseSchedule(torch.tensor([beta_end], dtype=torch.float64), "linear")
    return NoiseSchedule(torch.linspace(beta_start, beta_end, T, dtype=torch.float64), "linear")


def cosine_schedule(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
    r"""Nichol & Dhariwal's cosine schedule: :math:`\bar\alpha_t = f(t) / f(0)`,
    :math:`f(t) = \cos^2\!\big(\frac{t/T + s}{1 + s}\frac{\pi}{2}\big)`, so :math:`\beta_t = 1 - \bar\alpha_t /
    \bar\alpha_{t-1}`, clipped at ``max_beta`` (the last steps would otherwise have :math:`\beta \to 1`).
    """
    check_positive_int(T, "T")
    check_positive_float(s, "s")
    check_positive_float(max_beta, "max_beta")
    if max_beta >= 1:
        raise ValueError(f"max_beta must be below 1, got {max_beta}")
    steps = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((steps / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1.0 - alpha_bar[1:] / alpha_bar[:-1]).clamp(min=1e-12, max=max_beta)
    return NoiseSchedule(betas, "cosine")


def check_steps(t: object, schedule: NoiseSchedule, batch: int | None = None, *, allow_zero: bool = False,
                name: str = "t") -> torch.Tensor:
    """Check that ``t`` is an int64 tensor of steps in ``1..T`` (``0..T`` with ``allow_zero``), shape ``(batch,)``."""
    check_tensor(t, name, ndim=1, dtype=torch.int64)
    if batch is not None and t.shape[0] != batch:  # type: ignore[union-attr]
        raise ValueError(f"{name} must have shape ({batch},) to match the batch, got {tuple(t.shape)}")
    low = 0 if allow_zero else 1
    if t.numel() and (int(t.min()) < low or int(t.max()) > schedule.T):
        raise ValueError(f"{name} must hold steps in [{low}, {schedule.T}], got values in "
                         f"[{int(t.min())}, {int(t.max())}]")
    return t  # type: ignore[return-value]


def extract(values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``values[t]`` on ``x``'s device and dtype, shaped ``(B, 1, ..., 1)`` to broadcast against ``x (B, *dims)``.

    ``values``: a length-``T + 1`` schedule tensor; ``t``: ``(B,)`` int64 steps.
    """
    check_tensor(x, "x", min_ndim=1, floating=True)
    check_tensor(t, "t", shape=(x.shape[0],), dtype=torch.int64)
    return append_dims(values.to(t.device)[t].to(device=x.device, dtype=x.dtype), x.ndim)
