"""Figures of the plane: densities, sample sets and vector fields of 2-D distributions.

- ``grid_points``           the regular grid every function of the plane is evaluated on
- ``density_heatmap``       p(x) (or log p) of a log-density function or a model with ``log_prob``
- ``samples_over_density``  points, or a model's samples, over an optional density
- ``scatter_compare``       two sample sets (data and model), each points or a model
- ``vector_field``          arrows of a score, velocity or gradient field

Grid convention: R evenly spaced values per axis, both ends included. Row i of ``xx``/``yy`` holds the i-th y value
and column j the j-th x value, so values on the grid reshaped to (R, R) draw upright with ``imshow(origin="lower")``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import Colormap

from ..checks import check_bool, check_callable, check_finite, check_nonnegative_int, check_positive_int
from ._axes import axes_or_new, finish
from ._models import evaluate, log_prob_function, points_of
from ._validate import (ArrayLike, Extent, as_cmap, check_color, check_extent, check_max_points, check_optional_str,
                        check_resolution)
from .style import BACKGROUND_CMAP, DATA_COLOR, DEFAULT_EXTENT, DENSITY_CMAP, MARKER_SIZE, MODEL_COLOR

__all__ = ["grid_points", "density_heatmap", "samples_over_density", "scatter_compare", "vector_field"]

_SUBSAMPLE_SEED = 0
_DRAWN_BY_DEFAULT = 2000  # points drawn from a model when max_points is None


def grid_points(
    extent: Sequence[float] = DEFAULT_EXTENT, resolution: int = 200
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A regular grid over ``extent = (xmin, xmax, ymin, ymax)`` with ``resolution`` points per axis, ends included.

    Returns ``(points, xx, yy)``: ``points`` (R*R, 2) float32, and ``xx``, ``yy`` (R, R) float32 with
    ``points[:, 0] == xx.flatten()`` and ``points[:, 1] == yy.flatten()``. Row i holds y_i, column j holds x_j.
    """
    x0, x1, y0, y1 = check_extent(extent)
    resolution = check_resolution(resolution)
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float32)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float32)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], dim=-1)
    return points, xx, yy


def _log_density_on_grid(
    log_prob_fn: Callable, extent: Extent, resolution: int, chunk_size: int, device: torch.device | str | None
) -> np.ndarray:
    """log p on the grid, shape (R, R) (row = y, column = x); -inf where the density is zero."""
    points, _, _ = grid_points(extent, resolution)
    log_p = evaluate(
        log_prob_fn, points, name="log_prob_fn", out_tail=(), chunk_size=chunk_size, device=device, grad=False
    )
    bad = np.isnan(log_p) | (log_p == np.inf)
    if bad.any():
        raise ValueError(
            f"log_prob_fn returned {int(bad.sum())} NaN or +inf values on the grid; "
            "expected finite log-densities, or -inf where the density is zero"
        )
    return log_p.reshape(resolution, resolution)


def _pixel_extent(extent: Extent, resolution: int) -> Extent:
    # Grid points are pixel centres: the image reaches half a cell beyond the outermost points.
    x0, x1, y0, y1 = extent
    half_dx = (x1 - x0) / (resolution - 1) / 2
    half_dy = (y1 - y0) / (resolution - 1) / 2
    return (x0 - half_dx, x1 + half_dx, y0 - half_dy, y1 + half_dy)


def _plane_axes(ax: Axes, extent: Extent | None) -> None:
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def density_heatmap(
    log_prob_fn: Callable[[torch.Tensor], ArrayLike] | Any,
    extent: Sequence[float] = DEFAULT_EXTENT,
    resolution: int = 200,
    ax: Axes | None = None,
    cmap: str | Colormap = DENSITY_CMAP,
    log: bool = False,
    title: str | None = None,
    *,
    colorbar: bool = False,
    chunk_size: int = 16384,
    device: torch.device | str | None = None,
) -> Axes:
    """Draw the density p(x) = exp(log_prob_fn(x)) (or log p when ``log``) over ``extent``.

    ``log_prob_fn`` maps points (N, 2) to log-densities (N,), or is a model whose ``log_prob`` method does. It is
    called under ``torch.no_grad()`` on chunks of at most ``chunk_size`` points of the
    ``grid_points(extent, resolution)`` grid. ``-inf`` means zero density (drawn as 0, or left blank when ``log``).
    The drawn array is p at the grid points, so on a wide extent ``array.sum() * dx * dy`` is close to 1 for a
    normalised density.
    """
    log_prob_fn = log_prob_function(log_prob_fn, "log_prob_fn")
    extent = check_extent(extent)
    resolution = check_resolution(resolution)
    cmap = as_cmap(cmap)
    check_bool(log, "log")
    check_bool(colorbar, "colorbar")
    check_optional_str(title)
    check_positive_int(chunk_size, "chunk_size")
    ax = axes_or_new(ax)

    log_p = _log_density_on_grid(log_prob_fn, extent, resolution, chunk_size, device)
    # p = exp(log p), and exp(-inf) = 0: points outside the support become zero density.
    image = np.ma.masked_invalid(log_p) if log else np.exp(log_p)
    mappable = ax.imshow(
        image, origin="lower", extent=_pixel_extent(extent, resolution), cmap=cmap, interpolation="nearest"
    )
    ax.grid(False)
    _plane_axes(ax, extent)
    if colorbar:
        ax.figure.colorbar(mappable, ax=ax, label="log p(x)" if log else "p(x)")
    return finish(ax, title)


def _subsample_indices(n: int, max_points: int | None) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` rows: all of them, or a fixed random subset in their original order.

    A random subset rather than the first rows, because samples may be ordered (by mode, by chain); a private
    seeded generator, so the picture is the same on every run and the global RNG is left alone.
    """
    if max_points is None or n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(_SUBSAMPLE_SEED)
    return np.sort(rng.choice(n, size=max_points, replace=False))


def _shown(points: np.ndarray, max_points: int | None) -> np.ndarray:
    return points[_subsample_indices(len(points), max_points)]


def _n_drawn(max_points: int | None) -> int:
    # A model has no "all of its points": max_points=None draws a fixed number instead.
    return _DRAWN_BY_DEFAULT if max_points is None else max_points


def samples_over_density(
    samples: ArrayLike | Any,
    log_prob_fn: Callable[[torch.Tensor], ArrayLike] | Any | None = None,
    extent: Sequence[float] | None = DEFAULT_EXTENT,
    ax: Axes | None = None,
    max_points: int | None = 2000,
    title: str | None = None,
    color: Any = None,
    *,
    resolution: int = 200,
    cmap: str | Colormap = BACKGROUND_CMAP,
    label: str | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
) -> Axes:
    """Scatter ``samples`` over the heatmap of ``log_prob_fn`` (when given).

    ``samples``: points (N, 2), of which at most ``max_points`` are drawn (``None``: all), chosen deterministically
    (see ``_subsample_indices``); or a model, from which ``max_points`` points (2000 when None) are drawn with
    ``samples.sample(n, generator)``, the generator seeded with ``seed``. ``log_prob_fn`` is a log-density
    function or a model with ``log_prob``, as in ``density_heatmap``. The view is ``extent``; ``extent=None`` lets
    matplotlib fit the samples (only without ``log_prob_fn``). ``color`` defaults to ``MODEL_COLOR``.
    """
    max_points = check_max_points(max_points)
    check_nonnegative_int(seed, "seed")
    if log_prob_fn is not None:
        log_prob_function(log_prob_fn, "log_prob_fn")
        if extent is None:
            raise ValueError("extent must be given (4 numbers) when log_prob_fn is, to know where to draw the density")
    if extent is not None:
        extent = check_extent(extent)
    check_optional_str(title)
    check_color(color, "color")
    check_optional_str(label, "label")
    # Last, once every other argument is known to be good: drawing from a model may take a while.
    pts = points_of(samples, "samples", _n_drawn(max_points), seed)
    ax = axes_or_new(ax)

    if log_prob_fn is not None:
        density_heatmap(log_prob_fn, extent, resolution, ax=ax, cmap=cmap, device=device)
    shown = _shown(pts, max_points)
    ax.scatter(
        shown[:, 0], shown[:, 1], s=MARKER_SIZE, color=MODEL_COLOR if color is None else color,
        alpha=0.7, linewidths=0, label=label, zorder=2,
    )
    _plane_axes(ax, extent)
    return finish(ax, title)


def scatter_compare(
    real: ArrayLike | Any,
    generated: ArrayLike | Any,
    ax: Axes | None = None,
    labels: Sequence[str] = ("data", "model"),
    max_points: int | None = 2000,
    extent: Sequence[float] | None = None,
    title: str | None = None,
    *,
    seed: int = 0,
) -> Axes:
    """Two sample sets in the plane, ``real`` in ``DATA_COLOR`` and ``generated`` in ``MODEL_COLOR``, with a legend.

    Each is points (N, 2), subsampled deterministically to ``max_points``, or a model from which ``max_points``
    points (2000 when None) are drawn with ``sample(n, generator)``: ``real`` with a generator seeded ``seed``,
    ``generated`` with one seeded ``seed + 1``, so one model passed twice shows two different samples.
    ``extent`` fixes the view (default: fit the points).
    """
    max_points = check_max_points(max_points)
    check_nonnegative_int(seed, "seed")
    if (
        isinstance(labels, (str, bytes))
        or not isinstance(labels, Sequence)
        or len(labels) != 2
        or not all(isinstance(s, str) for s in labels)
    ):
        raise TypeError(f"labels must be two strings (for real, generated), got {labels!r}")
    if extent is not None:
        extent = check_extent(extent)
    check_optional_str(title)
    real_pts = points_of(real, "real", _n_drawn(max_points), seed)
    gen_pts = points_of(generated, "generated", _n_drawn(max_points), seed + 1)
    ax = axes_or_new(ax)

    for pts, color, label in ((real_pts, DATA_COLOR, labels[0]), (gen_pts, MODEL_COLOR, labels[1])):
        shown = _shown(pts, max_points)
        ax.scatter(shown[:, 0], shown[:, 1], s=MARKER_SIZE, color=color, alpha=0.6, linewidths=0, label=label)
    _plane_axes(ax, extent)
    ax.legend(loc="upper right", markerscale=3)
    return finish(ax, title)


def vector_field(
    fn: Callable[[torch.Tensor], ArrayLike],
    extent: Sequence[float] = DEFAULT_EXTENT,
    resolution: int = 20,
    ax: Axes | None = None,
    normalize: bool = False,
    title: str | None = None,
    *,
    color: Any = "0.25",
    device: torch.device | str | None = None,
) -> Axes:
    """Quiver plot of ``fn`` (a score, a velocity field, a gradient) at ``grid_points(extent, resolution)``.

    ``fn`` maps points (N, 2) to vectors (N, 2). Autograd stays enabled, so ``fn`` may differentiate a log-density.
    ``normalize=True`` draws unit arrows (directions only; zero vectors stay zero), each 0.8 grid cells long.
    Arrows are centred on their grid points.
    """
    check_callable(fn, "fn", "fn(points (N, 2)) -> vectors (N, 2)")
    extent = check_extent(extent)
    resolution = check_resolution(resolution)
    check_bool(normalize, "normalize")
    check_optional_str(title)
    check_color(color, "color")
    ax = axes_or_new(ax)

    points, _, _ = grid_points(extent, resolution)
    vectors = evaluate(fn, points, name="fn", out_tail=(2,), chunk_size=points.shape[0], device=device, grad=True)
    check_finite(torch.from_numpy(vectors), "the output of fn")
    xy = points.numpy()
    quiver_args: dict[str, Any] = {"angles": "xy", "pivot": "mid", "color": color}
    if normalize:
        # v / |v|, leaving v = 0 as 0 instead of dividing by zero.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        cell = min(extent[1] - extent[0], extent[3] - extent[2]) / (resolution - 1)
        quiver_args.update(scale_units="xy", scale=1.0 / (0.8 * cell))
    ax.quiver(xy[:, 0], xy[:, 1], vectors[:, 0], vectors[:, 1], **quiver_args)
    _plane_axes(ax, extent)
    return finish(ax, title)
