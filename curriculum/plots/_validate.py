"""Argument checks and conversions shared by the drawing modules.

The general checks (integers, booleans, callables, finite values, tensor shapes) live in ``curriculum.checks``;
what is below is what plotting adds: tensors or arrays, points, real numbers, extents, colours and colormaps. Every message names the argument, so the public functions pass
their own argument names in. Private to ``curriculum.plots``: a new family's module imports what it needs.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Union

import matplotlib
import numpy as np
import torch
from matplotlib.colors import Colormap, is_color_like

from ..checks import check_finite, check_positive_int, check_tensor

ArrayLike = Union[torch.Tensor, np.ndarray]
Extent = tuple[float, float, float, float]


def as_tensor(x: object, name: str) -> torch.Tensor:
    """A detached tensor holding real numbers, from a tensor or a NumPy array."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold real numbers, got a numpy array of dtype {x.dtype}")
        return torch.from_numpy(np.asarray(x, dtype=np.float64))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {x.dtype}")
    return x.detach()


def as_points(x: object, name: str) -> np.ndarray:
    """A non-empty batch of finite 2-D points, shape (N, 2), as a float64 array."""
    t = check_tensor(as_tensor(x, name), name, shape=(None, 2))
    if t.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one point, got shape {tuple(t.shape)}")
    # Plotting happens on the CPU whatever device the data lives on; float64 so no dtype (bfloat16...) surprises numpy.
    t = t.to(device="cpu", dtype=torch.float64)
    check_finite(t, name)
    return t.numpy()


def as_real(value: object, name: str) -> float:
    """A finite real number (Python, NumPy or 0-d tensor; bools refused)."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not (value.dtype == torch.bool or value.is_complex()):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def check_extent(extent: object, name: str = "extent") -> Extent:
    """Four finite numbers (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax, as a tuple of floats."""
    want = f"{name} must be 4 numbers (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax"
    if isinstance(extent, (str, bytes)) or not isinstance(extent, (Sequence, np.ndarray, torch.Tensor)):
        raise TypeError(f"{want}, got {extent!r}")
    values = list(extent)
    if len(values) != 4:
        raise ValueError(f"{want}, got {len(values)} values: {extent!r}")
    try:
        x0, x1, y0, y1 = (as_real(v, name) for v in values)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{want}, got {extent!r}") from None
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"{want}, got {extent!r}")
    return (x0, x1, y0, y1)


def check_resolution(value: object, name: str = "resolution") -> int:
    """Grid points per axis: an integer >= 2, so that both ends of the extent are on the grid."""
    check_positive_int(value, name)
    if value < 2:  # type: ignore[operator]
        raise ValueError(f"{name} must be an integer >= 2 (grid points per axis), got {value}")
    return value  # type: ignore[return-value]


def check_optional_str(text: object, name: str = "title") -> None:
    """A title, label or axis name: a string, or None for none."""
    if text is not None and not isinstance(text, str):
        raise TypeError(f"{name} must be a string or None, got {type(text).__name__}")


def check_color(color: object, name: str) -> None:
    """A matplotlib colour, or None for the helper's default."""
    if color is not None and not is_color_like(color):
        raise ValueError(f"{name} must be a matplotlib color (e.g. 'C0', 'tab:red', an RGB tuple), got {color!r}")


def as_cmap(cmap: object, name: str = "cmap") -> Colormap:
    """A Colormap, from itself or from a registered name."""
    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in matplotlib.colormaps:
        return matplotlib.colormaps[cmap]
    raise ValueError(f"{name} must be a matplotlib colormap or the name of one (e.g. 'viridis'), got {cmap!r}")


def check_max_points(value: object, name: str = "max_points") -> int | None:
    """A positive integer, or None for no limit."""
    if value is None:
        return None
    return check_positive_int(value, name)
