"""Figures of training and evaluation: loss curves and one metric across models.

- ``loss_curve``      one training curve, or several named ones, optionally smoothed
- ``bar_with_floor``  a bar per model for a metric, against the data's own noise floor
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes

from ..checks import check_bool, check_finite, check_nonnegative_int
from ._axes import axes_or_new, finish
from ._validate import ArrayLike, as_real, as_tensor, check_optional_str
from .style import COLORS

__all__ = ["loss_curve", "bar_with_floor"]


def _curve(values: object, name: str) -> np.ndarray:
    """A non-empty 1-D sequence of finite numbers as a float64 array."""
    if isinstance(values, (torch.Tensor, np.ndarray)):
        t = as_tensor(values, name)
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


def _centred_average(y: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average, one value per step: out[k] = mean(y[k - h_k : k + h_k + 1]) with half-width
    h_k = min((window - 1) // 2, k, len(y) - 1 - k). The window shrinks symmetrically at both ends, so the
    smoothed curve starts at the first step and does not lag: a straight line is reproduced exactly."""
    n = len(y)
    half = np.minimum(np.minimum((window - 1) // 2, np.arange(n)), n - 1 - np.arange(n))
    cumulative = np.concatenate([[0.0], np.cumsum(y)])
    start, stop = np.arange(n) - half, np.arange(n) + half + 1
    return (cumulative[stop] - cumulative[start]) / (stop - start)


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

    ``smooth = w > 1`` draws the raw curve faintly and, over it, a solid centred moving average over (up to) w
    steps: every step gets the mean of the w values around it, with a symmetric window that shrinks near the
    ends, so the smoothed curve covers every step and does not lag behind the raw one. ``w`` larger than a curve
    is cut to its length. ``logy`` needs positive values.
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
    check_bool(logy, "logy")
    check_optional_str(title)
    check_optional_str(xlabel, "xlabel")
    check_optional_str(ylabel, "ylabel")
    if logy:
        for key, y in curves.items():
            if y.min() <= 0:
                where = "history" if key is None else f"history[{key!r}]"
                raise ValueError(f"logy=True needs positive values, but {where} has minimum {y.min():.4g}")
    ax = axes_or_new(ax)

    for i, (key, y) in enumerate(curves.items()):
        color = COLORS[i % len(COLORS)]
        steps = np.arange(len(y))
        window = min(smooth, len(y))
        if window > 1:
            # A label starting with "_" keeps the raw curve out of the legend; the smoothed one carries the name.
            ax.plot(steps, y, color=color, alpha=0.3, linewidth=1.0, label=f"_{key} (raw)")
            ax.plot(steps, _centred_average(y, window), color=color, linewidth=1.8, label=key)
        else:
            ax.plot(steps, y, color=color, linewidth=1.5, label=key)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if isinstance(history, Mapping):
        ax.legend()
    return finish(ax, title)


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
    heights = [as_real(values[n], f"values[{n!r}]") for n in names]
    floor = as_real(floor, "floor")
    yerr = None
    if errors is not None:
        if not isinstance(errors, Mapping) or set(errors) != set(names):
            raise ValueError(f"errors must be a mapping with the same names as values ({names}), got {errors!r:.80}")
        yerr = [as_real(errors[n], f"errors[{n!r}]") for n in names]
        if min(yerr) < 0:
            raise ValueError(f"errors must be non-negative, got {dict(zip(names, yerr))}")
    if floor_err is not None:
        floor_err = as_real(floor_err, "floor_err")
        if floor_err < 0:
            raise ValueError(f"floor_err must be non-negative, got {floor_err}")
    check_optional_str(title)
    check_optional_str(ylabel, "ylabel")
    check_optional_str(floor_label, "floor_label")
    ax = axes_or_new(ax)

    colors = [COLORS[i % len(COLORS)] for i in range(len(names))]
    bars = ax.bar(names, heights, color=colors, yerr=yerr, capsize=3 if yerr is not None else 0)
    ax.bar_label(bars, fmt="%.3g", padding=2, fontsize="small")
    ax.margins(y=0.12)  # room above the tallest bar for its label
    if floor_err is not None and floor_err > 0:
        ax.axhspan(floor - floor_err, floor + floor_err, color="0.5", alpha=0.15, linewidth=0)
    ax.axhline(floor, color="0.2", linestyle="--", linewidth=1.2, label=floor_label)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return finish(ax, title)
