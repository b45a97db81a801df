"""Figures of images: a batch of samples, reconstructions or data tiled into one grid.

- ``image_grid``  (B, C, H, W) or (B, H, W) tiles, gray or RGB, as torchvision's ``make_grid`` lays them out
"""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import Colormap

from ..checks import check_finite, check_nonnegative_int, check_positive_int
from ._axes import axes_or_new, finish
from ._validate import ArrayLike, as_cmap, as_real, as_tensor, check_optional_str
from .style import SEPARATOR_COLOR

__all__ = ["image_grid"]


def _check_images(images: object) -> np.ndarray:
    """(B, C, H, W) with C in {1, 3}, or (B, H, W); returned as float64 (B, C, H, W)."""
    t = as_tensor(images, "images")
    want = "images must have shape (B, C, H, W) with C = 1 (gray) or 3 (RGB), or (B, H, W)"
    if t.ndim not in (3, 4):
        raise ValueError(f"{want}; got {tuple(t.shape)}")
    if t.ndim == 4 and t.shape[1] not in (1, 3):
        hint = ""
        if t.shape[-1] in (1, 3):
            hint = " (this looks channels-last: use images.permute(0, 3, 1, 2))"
        raise ValueError(f"{want}; got {tuple(t.shape)} with C = {t.shape[1]}{hint}")
    if any(s == 0 for s in t.shape):
        raise ValueError(f"images must hold at least one non-empty image, got shape {tuple(t.shape)}")
    t = t.to(device="cpu", dtype=torch.float64)
    check_finite(t, "images")
    array = t.numpy()
    return array[:, None] if array.ndim == 3 else array


def image_grid(
    images: ArrayLike,
    nrow: int = 8,
    ax: Axes | None = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
    title: str | None = None,
    *,
    padding: int = 1,
    cmap: str | Colormap = "gray",
) -> Axes:
    """Tile ``images`` into a grid of ``nrow`` images per row (as torchvision's ``make_grid``), axis off.

    ``images``: (B, C, H, W) with C = 1 (drawn with ``cmap`` between ``vmin`` and ``vmax``) or C = 3 (RGB, rescaled
    from [vmin, vmax] to [0, 1] and clipped), or (B, H, W) for gray. Tiles are separated by ``padding`` pixels of
    ``SEPARATOR_COLOR``; unused tiles of the last row are left blank too. Image i sits at row i // nrow,
    column i % nrow, first row at the top.
    """
    array = _check_images(images)
    check_positive_int(nrow, "nrow")
    vmin = as_real(vmin, "vmin")
    vmax = as_real(vmax, "vmax")
    if not vmin < vmax:
        raise ValueError(f"vmin must be less than vmax, got vmin={vmin}, vmax={vmax}")
    check_optional_str(title)
    check_nonnegative_int(padding, "padding")
    cmap = as_cmap(cmap)
    ax = axes_or_new(ax)

    batch, channels, height, width = array.shape
    ncols = min(nrow, batch)
    nrows = math.ceil(batch / ncols)
    canvas_shape = (nrows * height + (nrows - 1) * padding, ncols * width + (ncols - 1) * padding)

    if channels == 1:
        # NaN marks the separators; masked, they take the colormap's "bad" colour instead of a gray level.
        canvas = np.full(canvas_shape, np.nan)
        tiles = array[:, 0]
    else:
        canvas = np.empty(canvas_shape + (3,))
        canvas[...] = matplotlib.colors.to_rgb(SEPARATOR_COLOR)
        tiles = np.clip((array - vmin) / (vmax - vmin), 0.0, 1.0).transpose(0, 2, 3, 1)
    for i, tile in enumerate(tiles):
        top = (i // ncols) * (height + padding)
        left = (i % ncols) * (width + padding)
        canvas[top : top + height, left : left + width] = tile

    if channels == 1:
        ax.imshow(
            np.ma.masked_invalid(canvas), cmap=cmap.with_extremes(bad=SEPARATOR_COLOR), vmin=vmin, vmax=vmax,
            interpolation="nearest",
        )
    else:
        ax.imshow(canvas, interpolation="nearest")
    ax.set_axis_off()
    return finish(ax, title)
