"""The course's figure style and plotting helpers.

Every notebook draws with these, so the pictures look alike from the first toy distribution to the last image
sampler:

- ``set_style()``, once in the setup cell: one seaborn theme, one palette, small figures.
- the plane: ``grid_points``, ``density_heatmap``, ``samples_over_density``, ``scatter_compare``, ``vector_field``
- images: ``image_grid``
- training and evaluation: ``loss_curve``, ``bar_with_floor``

Each drawing helper takes an optional ``ax`` (a new figure is made when it is None) and returns the Axes it drew
on, so panels compose: ``fig, axes = plt.subplots(1, 3)`` and one helper per panel. None calls ``plt.show()``.

Data may be torch tensors (any device, any real dtype, ``requires_grad`` or not) or NumPy arrays; it is copied to
the CPU before drawing. Functions of the plane (``log_prob_fn``, ``fn``) receive float32 points on the CPU, unless
``device`` names another device or the function is an ``nn.Module`` (or one of its methods), whose parameters'
device and dtype are then followed.

Grid convention (``grid_points``): R evenly spaced values per axis, both ends included. Row i of ``xx``/``yy`` holds
the i-th y value and column j the j-th x value, so values on the grid reshaped to (R, R) draw upright with
``imshow(origin="lower")``.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, is_color_like

from .checks import check_finite, check_nonnegative_int, check_positive_int, check_tensor

__all__ = [
    "DEFAULT_EXTENT",
    "PALETTE",
    "DATA_COLOR",
    "MODEL_COLOR",
    "set_style",
    "grid_points",
    "density_heatmap",
    "samples_over_density",
    "scatter_compare",
    "vector_field",
    "image_grid",
    "loss_curve",
    "bar_with_floor",
]

ArrayLike = Union[torch.Tensor, np.ndarray]
Extent = tuple[float, float, float, float]

DEFAULT_EXTENT: Extent = (-4.0, 4.0, -4.0, 4.0)
PALETTE = "colorblind"  # seaborn palette; distinguishable with the common colour-vision deficiencies
FIGSIZE = (5.0, 3.6)  # inches; at DPI 100 a committed PNG stays a few tens of kB
DPI = 100
DENSITY_CMAP = "viridis"  # perceptually uniform, so brighter always means more probable
BACKGROUND_CMAP = "Blues"  # light density under a scatter of samples
SEPARATOR_COLOR = "white"  # between image tiles

_COLORS = sns.color_palette(PALETTE, 10)
DATA_COLOR = _COLORS[0]  # the data (ground truth) is always blue ...
MODEL_COLOR = _COLORS[1]  # ... and the model's samples always orange
_MARKER_SIZE = 4.0
_SUBSAMPLE_SEED = 0


# ---------------------------------------------------------------------------------------------------------------
# style
# ---------------------------------------------------------------------------------------------------------------


def set_style() -> None:
    """Apply the course's look: seaborn ``whitegrid``, the ``colorblind`` palette, 100 dpi, 5 x 3.6 inch figures.

    Idempotent: every call sets the same values, so calling it again (say, re-running a setup cell) changes nothing.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.figsize": FIGSIZE,
            "image.cmap": DENSITY_CMAP,
            "axes.titlesize": "medium",
            "legend.fontsize": "small",
        },
    )


# ---------------------------------------------------------------------------------------------------------------
# validation and conversion (private: the public functions name their own arguments in every message)
# ---------------------------------------------------------------------------------------------------------------


def _as_tensor(x: object, name: str) -> torch.Tensor:
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


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    # Plotting happens on the CPU whatever device the data lives on; float64 so no dtype (bfloat16...) surprises numpy.
    return x.detach().to(device="cpu", dtype=torch.float64).numpy()


def _points(x: object, name: str) -> np.ndarray:
    """A non-empty batch of finite 2-D points, shape (N, 2), as a float64 array."""
    t = check_tensor(_as_tensor(x, name), name, shape=(None, 2))
    if t.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one point, got shape {tuple(t.shape)}")
    t = t.to(device="cpu", dtype=torch.float64)
    check_finite(t, name)
    return t.numpy()


def _real(value: object, name: str) -> float:
    """A finite real number (Python, NumPy or 0-d tensor; bools refused)."""
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not (value.dtype == torch.bool or value.is_complex()):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def _check_extent(extent: object, name: str = "extent") -> Extent:
    want = f"{name} must be 4 numbers (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax"
    if isinstance(extent, (str, bytes)) or not isinstance(extent, (Sequence, np.ndarray, torch.Tensor)):
        raise TypeError(f"{want}, got {extent!r}")
    values = list(extent)
    if len(values) != 4:
        raise ValueError(f"{want}, got {len(values)} values: {extent!r}")
    try:
        x0, x1, y0, y1 = (_real(v, name) for v in values)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{want}, got {extent!r}") from None
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"{want}, got {extent!r}")
    return (x0, x1, y0, y1)


def _check_resolution(value: object, name: str = "resolution") -> int:
    check_positive_int(value, name)
    if value < 2:  # type: ignore[operator]
        raise ValueError(f"{name} must be an integer >= 2 (grid points per axis), got {value}")
    return value  # type: ignore[return-value]


def _check_callable(fn: object, name: str, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{name} must be a callable {what}, got {type(fn).__name__}")


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _check_title(title: object, name: str = "title") -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{name} must be a string or None, got {type(title).__name__}")


def _check_color(color: object, name: str) -> None:
    if color is not None and not is_color_like(color):
        raise ValueError(f"{name} must be a matplotlib color (e.g. 'C0', 'tab:red', an RGB tuple), got {color!r}")


def _check_cmap(cmap: object, name: str = "cmap") -> Colormap:
    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in matplotlib.colormaps:
        return matplotlib.colormaps[cmap]
    raise ValueError(f"{name} must be a matplotlib colormap or the name of one (e.g. 'viridis'), got {cmap!r}")


def _check_max_points(value: object, name: str = "max_points") -> int | None:
    if value is None:
        return None
    return check_positive_int(value, name)


def _get_axes(ax: object) -> Axes:
    if ax is None:
        _, new_ax = plt.subplots()
        return new_ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _finish(ax: Axes, title: str | None) -> Axes:
    if title is not None:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------------------------
# functions of the plane
# ---------------------------------------------------------------------------------------------------------------


def grid_points(
    extent: Sequence[float] = DEFAULT_EXTENT, resolution: int = 200
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A regular grid over ``extent = (xmin, xmax, ymin, ymax)`` with ``resolution`` points per axis, ends included.

    Returns ``(points, xx, yy)``: ``points`` (R*R, 2) float32, and ``xx``, ``yy`` (R, R) float32 with
    ``points[:, 0] == xx.flatten()`` and ``points[:, 1] == yy.flatten()``. Row i holds y_i, column j holds x_j.
    """
    x0, x1, y0, y1 = _check_extent(extent)
    resolution = _check_resolution(resolution)
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float32)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float32)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], dim=-1)
    return points, xx, yy


def _placement(fn: Callable, device: torch.device | str | None) -> tuple[torch.device, torch.dtype]:
    """Where and in what dtype to send points to ``fn``: ``device`` if given, else follow an nn.Module's parameters."""
    module = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
    target_device = torch.device(device) if device is not None else torch.device("cpu")
    dtype = torch.float32
    if isinstance(module, torch.nn.Module):
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            if tensor.is_floating_point():
                dtype = tensor.dtype
                if device is None:
                    target_device = tensor.device
                break
    return target_device, dtype


def _evaluate(
    fn: Callable,
    points: torch.Tensor,
    *,
    name: str,
    out_tail: tuple[int, ...],
    chunk_size: int,
    device: torch.device | str | None,
    grad: bool,
) -> np.ndarray:
    """``fn`` on ``points`` in chunks, checked to return shape (n, *out_tail) per chunk; float64 on the CPU."""
    target_device, dtype = _placement(fn, device)
    # Densities need no graph; score functions may build one themselves (autograd of log p), so grad stays on there.
    context = contextlib.nullcontext() if grad else torch.no_grad()
    outputs = []
    with context:
        for start in range(0, points.shape[0], chunk_size):
            chunk = points[start : start + chunk_size].to(device=target_device, dtype=dtype)
            out = _as_tensor(fn(chunk), f"the output of {name}")
            want = (chunk.shape[0], *out_tail)
            if tuple(out.shape) != want:
                want_str = "(N,)" if not out_tail else f"(N, {', '.join(map(str, out_tail))})"
                raise ValueError(
                    f"{name} must return shape {want_str} for points of shape (N, 2); "
                    f"got {tuple(out.shape)} for points of shape {tuple(chunk.shape)}"
                )
            outputs.append(out.to(device="cpu", dtype=torch.float64))
    return torch.cat(outputs).numpy()


def _log_density_on_grid(
    log_prob_fn: Callable, extent: Extent, resolution: int, chunk_size: int, device: torch.device | str | None
) -> np.ndarray:
    """log p on the grid, shape (R, R) (row = y, column = x); -inf where the density is zero."""
    points, _, _ = grid_points(extent, resolution)
    log_p = _evaluate(
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
    log_prob_fn: Callable[[torch.Tensor], ArrayLike],
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

    ``log_prob_fn`` maps points (N, 2) to log-densities (N,); it is called under ``torch.no_grad()`` on chunks of
    at most ``chunk_size`` points of the ``grid_points(extent, resolution)`` grid. ``-inf`` means zero density
    (drawn as 0, or left blank when ``log``). The drawn array is p at the grid points, so on a wide extent
    ``array.sum() * dx * dy`` is close to 1 for a normalised density.
    """
    _check_callable(log_prob_fn, "log_prob_fn", "mapping points (N, 2) to log-densities (N,)")
    extent = _check_extent(extent)
    resolution = _check_resolution(resolution)
    cmap = _check_cmap(cmap)
    _check_bool(log, "log")
    _check_bool(colorbar, "colorbar")
    _check_title(title)
    check_positive_int(chunk_size, "chunk_size")
    ax = _get_axes(ax)

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
    return _finish(ax, title)


def _subsample_indices(n: int, max_points: int | None) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` rows: all of them, or a fixed random subset in their original order.

    A random subset rather than the first rows, because samples may be ordered (by mode, by chain); a private
    seeded generator, so the picture is the same on every run and the global RNG is left alone.
    """
    if max_points is None or n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(_SUBSAMPLE_SEED)
    return np.sort(rng.choice(n, size=max_points, replace=False))


def samples_over_density(
    samples: ArrayLike,
    log_prob_fn: Callable[[torch.Tensor], ArrayLike] | None = None,
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
) -> Axes:
    """Scatter ``samples`` (N, 2) over the heatmap of ``log_prob_fn`` (when given).

    At most ``max_points`` samples are drawn (``None``: all), chosen deterministically (see ``_subsample_indices``).
    The view is ``extent``; ``extent=None`` lets matplotlib fit the samples (only without ``log_prob_fn``).
    ``color`` defaults to ``MODEL_COLOR``.
    """
    pts = _points(samples, "samples")
    if log_prob_fn is not None:
        _check_callable(log_prob_fn, "log_prob_fn", "mapping points (N, 2) to log-densities (N,)")
        if extent is None:
            raise ValueError("extent must be given (4 numbers) when log_prob_fn is, to know where to draw the density")
    if extent is not None:
        extent = _check_extent(extent)
    max_points = _check_max_points(max_points)
    _check_title(title)
    _check_color(color, "color")
    _check_title(label, "label")
    ax = _get_axes(ax)

    if log_prob_fn is not None:
        density_heatmap(log_prob_fn, extent, resolution, ax=ax, cmap=cmap, device=device)
    shown = pts[_subsample_indices(len(pts), max_points)]
    ax.scatter(
        shown[:, 0], shown[:, 1], s=_MARKER_SIZE, color=MODEL_COLOR if color is None else color,
        alpha=0.7, linewidths=0, label=label, zorder=2,
    )
    _plane_axes(ax, extent)
    return _finish(ax, title)


def scatter_compare(
    real: ArrayLike,
    generated: ArrayLike,
    ax: Axes | None = None,
    labels: Sequence[str] = ("data", "model"),
    max_points: int | None = 2000,
    extent: Sequence[float] | None = None,
    title: str | None = None,
) -> Axes:
    """Two sample sets in the plane, ``real`` in ``DATA_COLOR`` and ``generated`` in ``MODEL_COLOR``, with a legend.

    Each set is subsampled deterministically to ``max_points``. ``extent`` fixes the view (default: fit the points).
    """
    real_pts = _points(real, "real")
    gen_pts = _points(generated, "generated")
    if (
        isinstance(labels, (str, bytes))
        or not isinstance(labels, Sequence)
        or len(labels) != 2
        or not all(isinstance(s, str) for s in labels)
    ):
        raise TypeError(f"labels must be two strings (for real, generated), got {labels!r}")
    max_points = _check_max_points(max_points)
    if extent is not None:
        extent = _check_extent(extent)
    _check_title(title)
    ax = _get_axes(ax)

    for pts, color, label in ((real_pts, DATA_COLOR, labels[0]), (gen_pts, MODEL_COLOR, labels[1])):
        shown = pts[_subsample_indices(len(pts), max_points)]
        ax.scatter(shown[:, 0], shown[:, 1], s=_MARKER_SIZE, color=color, alpha=0.6, linewidths=0, label=label)
    _plane_axes(ax, extent)
    ax.legend(loc="upper right", markerscale=3)
    return _finish(ax, title)


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
    _check_callable(fn, "fn", "mapping points (N, 2) to vectors (N, 2)")
    extent = _check_extent(extent)
    resolution = _check_resolution(resolution)
    _check_bool(normalize, "normalize")
    _check_title(title)
    _check_color(color, "color")
    ax = _get_axes(ax)

    points, _, _ = grid_points(extent, resolution)
    vectors = _evaluate(fn, points, name="fn", out_tail=(2,), chunk_size=points.shape[0], device=device, grad=True)
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
    return _finish(ax, title)


# ---------------------------------------------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------------------------------------------


def _check_images(images: object) -> np.ndarray:
    """(B, C, H, W) with C in {1, 3}, or (B, H, W); returned as float64 (B, C, H, W)."""
    t = _as_tensor(images, "images")
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
    vmin = _real(vmin, "vmin")
    vmax = _real(vmax, "vmax")
    if not vmin < vmax:
        raise ValueError(f"vmin must be less than vmax, got vmin={vmin}, vmax={vmax}")
    _check_title(title)
    check_nonnegative_int(padding, "padding")
    cmap = _check_cmap(cmap)
    ax = _get_axes(ax)

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
    return _finish(ax, title)


# ---------------------------------------------------------------------------------------------------------------
# training and evaluation
# ---------------------------------------------------------------------------------------------------------------


def _curve(values: object, name: str) -> np.ndarray:
    """A non-empty 1-D sequence of finite numbers as a float64 array."""
    if isinstance(values, (torch.Tensor, np.ndarray)):
        t = _as_tensor(values, name)
    elif isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
        numbers_only = []
        for v in values:
            if isinstance(v, torch.Tensor) and v.ndim == 0 and not (v.dtype == torch.bool or v.is_complex()):
                v = v.item()  # a list of loss.detach() values
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name} must be a sequence of numbers, got an entry {v!r:.40}")
            numbers_only.append(float(v))
        t = torch.tensor(numbers_only, dtype=torch.float64)
    else:
        raise TypeError(
            f"{name} must be a sequence of numbers (list, array or 1-D tensor), got {type(values).__name__}"
        )
    if t.ndim != 1 or t.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {tuple(t.shape)}")
    t = t.to(device="cpu", dtype=torch.float64)
    check_finite(t, name)
    return t.numpy()


def _moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values: out[k] = mean(y[k : k + window]), giving len(y) - window + 1 values."""
    cumulative = np.concatenate([[0.0], np.cumsum(y)])
    return (cumulative[window:] - cumulative[:-window]) / window


def loss_curve(
    history: Sequence[float] | ArrayLike | Mapping[str, Sequence[float] | ArrayLike],
    ax: Axes | None = None,
    smooth: int = 0,
    logy: bool = False,
    title: str | None = None,
    *,
    xlabel: str = "step",
    ylabel: str = "loss",
) -> Axes:
    """Plot a training curve, or several named ones (``{"train": [...], "val": [...]}``) with a legend.

    ``smooth = w > 1`` adds a solid trailing moving average over w steps (drawn at each window's last step) and
    fades the raw curve; ``w`` larger than a curve is cut to its length. ``logy`` needs positive values.
    """
    if isinstance(history, Mapping):
        if len(history) == 0:
            raise ValueError("history must hold at least one curve, got an empty mapping")
        curves: dict[str | None, np.ndarray] = {}
        for key, values in history.items():
            if not isinstance(key, str):
                raise TypeError(f"history's curve names must be strings, got {key!r}")
            curves[key] = _curve(values, f"history[{key!r}]")
    else:
        curves = {None: _curve(history, "history")}
    check_nonnegative_int(smooth, "smooth")
    _check_bool(logy, "logy")
    _check_title(title)
    _check_title(xlabel, "xlabel")
    _check_title(ylabel, "ylabel")
    if logy:
        for key, y in curves.items():
            if y.min() <= 0:
                where = "history" if key is None else f"history[{key!r}]"
                raise ValueError(f"logy=True needs positive values, but {where} has minimum {y.min():.4g}")
    ax = _get_axes(ax)

    for i, (key, y) in enumerate(curves.items()):
        color = _COLORS[i % len(_COLORS)]
        steps = np.arange(len(y))
        window = min(smooth, len(y))
        if window > 1:
            # A label starting with "_" keeps the raw curve out of the legend; the smoothed one carries the name.
            ax.plot(steps, y, color=color, alpha=0.3, linewidth=1.0, label=f"_{key} (raw)")
            ax.plot(steps[window - 1 :], _moving_average(y, window), color=color, linewidth=1.8, label=key)
        else:
            ax.plot(steps, y, color=color, linewidth=1.5, label=key)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if isinstance(history, Mapping):
        ax.legend()
    return _finish(ax, title)


def bar_with_floor(
    values: Mapping[str, float],
    floor: float,
    ax: Axes | None = None,
    title: str | None = None,
    *,
    ylabel: str | None = None,
    errors: Mapping[str, float] | None = None,
    floor_err: float | None = None,
    floor_label: str = "noise floor",
) -> Axes:
    """One bar per model for a metric, with a dashed line at the data's own noise floor.

    The floor is what the metric gives between two samples of the data itself, so a model whose bar reaches it is
    as close as the metric can tell. ``errors`` (same names) adds error bars; ``floor_err`` shades floor +- floor_err.
    Each bar is labelled with its value.
    """
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a mapping of name -> number, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError("values must hold at least one name -> number, got an empty mapping")
    names = list(values)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"values' names must be strings, got {names!r}")
    heights = [_real(values[n], f"values[{n!r}]") for n in names]
    floor = _real(floor, "floor")
    yerr = None
    if errors is not None:
        if not isinstance(errors, Mapping) or set(errors) != set(names):
            raise ValueError(f"errors must be a mapping with the same names as values ({names}), got {errors!r:.80}")
        yerr = [_real(errors[n], f"errors[{n!r}]") for n in names]
        if min(yerr) < 0:
            raise ValueError(f"errors must be non-negative, got {dict(zip(names, yerr))}")
    if floor_err is not None:
        floor_err = _real(floor_err, "floor_err")
        if floor_err < 0:
            raise ValueError(f"floor_err must be non-negative, got {floor_err}")
    _check_title(title)
    _check_title(ylabel, "ylabel")
    _check_title(floor_label, "floor_label")
    ax = _get_axes(ax)

    colors = [_COLORS[i % len(_COLORS)] for i in range(len(names))]
    bars = ax.bar(names, heights, color=colors, yerr=yerr, capsize=3 if yerr is not None else 0)
    ax.bar_label(bars, fmt="%.3g", padding=2, fontsize="small")
    ax.margins(y=0.12)  # room above the tallest bar for its label
    if floor_err is not None and floor_err > 0:
        ax.axhspan(floor - floor_err, floor + floor_err, color="0.5", alpha=0.15, linewidth=0)
    ax.axhline(floor, color="0.2", linestyle="--", linewidth=1.2, label=floor_label)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return _finish(ax, title)
