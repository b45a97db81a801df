"""Tensor helpers every family shares: broadcasting per-sample values against data of any shape.

The one broadcasting helper of the course lives here (not in ``nets``), so a schedule or a probability path can
use it without importing the networks.
"""
from __future__ import annotations

import torch

from .checks import check_positive_int, check_tensor

__all__ = ["append_dims"]


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
