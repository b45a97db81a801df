"""Tensor helpers every family shares: broadcasting per-sample values against data of any shape, and the
gradient of a per-sample function with respect to its input (a critic's slope, a model's score), and the trace of
a per-sample Jacobian, exact or by random projections (a divergence, score matching's trace term).

The one broadcasting helper of the course lives here (not in ``nets``), so a schedule or a probability path can
use it without importing the networks.
"""
from __future__ import annotations

import torch

from .checks import check_positive_int, check_tensor

__all__ = ["append_dims", "input_gradient", "jacobian_trace", "projected_trace"]


def append_dims(v: torch.Tensor, ndim: int) -> torch.Tensor:
    """Append trailing singleton dims to ``v`` until it has ``ndim`` dims, so it broadcasts against data.

    A per-sample ``(B,)`` tensor becomes ``(B, 1, ..., 1)`` and multiplies ``(B, 2)`` points and
    ``(B, C, H, W)`` images alike, e.g. ``append_dims(sigma_t, x.ndim) * eps``. A ``(B, C)`` tensor becomes
    ``(B, C, 1, 1)`` for ``ndim=4``.
    """
    check_tensor(v, "v")
    check_positive_int(ndim, "ndim")
    if v.ndim > ndim:
        raise ValueError(f"v has {v.ndim} dims (shape {tuple(v.shape)}), more than ndim={ndim}; "
                         f"expected a per-sample tensor such as shape (B,)")
    return v.reshape(*v.shape, *([1] * (ndim - v.ndim)))


def input_gradient(fn, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """``d fn(x).sum() / dx``, shaped like ``x`` ``(B, *dims)``: every row's gradient of its own output when
    ``fn`` maps each row on its own (no batch norm, no batch statistics). ``x`` is detached first.
    ``create_graph=True`` keeps the graph so the gradient can be differentiated again (a gradient penalty);
    otherwise the result is detached."""
    check_tensor(x, "x", min_ndim=1, floating=True)
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        out = fn(x)
        if not isinstance(out, torch.Tensor) or out.shape[:1] != x.shape[:1]:
            raise ValueError(f"fn(x) must return one value per row of x, shape ({x.shape[0]},); "
                             f"got {tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=create_graph)
    return grad if create_graph else grad.detach()



def jacobian_trace(out: torch.Tensor, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    r"""The exact trace of each row's Jacobian, :math:`\operatorname{tr}\,\partial\,\mathrm{out}_b / \partial x_b`
    ``(B,)``, for ``out (B, D)`` computed from ``x (B, D)`` (which requires grad) row by row: one backward pass per
    coordinate, so D passes (cheap on the plane; Hutchinson's estimator, ``projected_trace``, for large D). The
    divergence of a vector field and the trace term of implicit score matching."""
    check_tensor(x, "x", ndim=2, floating=True)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise ValueError(f"out must be shaped like x, {tuple(x.shape)}; got "
                         f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    if not x.requires_grad:
        raise ValueError("x must require grad and out must be computed from it (x.requires_grad_(True) first)")
    trace = torch.zeros(x.shape[0], dtype=out.dtype, device=out.device)
    for i in range(x.shape[1]):
        (row,) = torch.autograd.grad(out[:, i].sum(), x, create_graph=create_graph, retain_graph=True)
        trace = trace + row[:, i]  # d out_i / d x_i
    return trace if create_graph else trace.detach()


def projected_trace(out: torch.Tensor, x: torch.Tensor, v: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    r""":math:`v_b^\top (\partial\,\mathrm{out}_b / \partial x_b)\, v_b` ``(B,)`` with one backward pass: an unbiased
    estimate of the trace when :math:`E[v v^\top] = I` (Hutchinson), for ``out``, ``x`` as in ``jacobian_trace``
    and probes ``v (B, D)``."""
    check_tensor(x, "x", ndim=2, floating=True)
    check_tensor(v, "v", shape=tuple(x.shape), floating=True)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise ValueError(f"out must be shaped like x, {tuple(x.shape)}")
    if not x.requires_grad:
        raise ValueError("x must require grad and out must be computed from it (x.requires_grad_(True) first)")
    (vjp,) = torch.autograd.grad((out * v).sum(), x, create_graph=create_graph, retain_graph=True)  # v^T J
    quadratic = (vjp * v).sum(dim=1)  # v^T J v
    return quadratic if create_graph else quadratic.detach()
