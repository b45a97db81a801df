"""How the plane's helpers call what they are given: functions of the plane, and models of the course's protocol.

The protocol every model family follows:

- ``sample(n, generator=None) -> Tensor (n, D)``, with a ``torch.Generator`` as second argument;
- ``log_prob(x: Tensor (N, D)) -> Tensor (N,)``, where the model has a density.

So a helper can take the model itself in place of its points or of its log-density function. Functions are called
on float32 points on the CPU unless a ``device`` is named or the function is an ``nn.Module`` (or one of its
methods), whose parameters' device and dtype are then followed. Models are sampled through
``curriculum.protocol.draw``, as the metrics sample them.
"""
from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable

import numpy as np
import torch

from ..protocol import draw
from ..runtime import pick_device
from ._validate import as_points, as_tensor

LOG_PROB_WANT = "a callable mapping points (N, 2) to log-densities (N,), or a model with a log_prob(x) method"
SAMPLE_WANT = "points (a torch.Tensor or numpy.ndarray of shape (N, 2)), or a model with a sample(n, generator) method"


def _module_tensor(fn: object) -> torch.Tensor | None:
    """The first floating-point parameter or buffer of the ``nn.Module`` behind ``fn`` (itself or a bound method)."""
    module = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
    if not isinstance(module, torch.nn.Module):
        return None
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        if tensor.is_floating_point():
            return tensor
    return None


def placement(fn: Callable, device: torch.device | str | None) -> tuple[torch.device, torch.dtype]:
    """Where and in what dtype to send points to ``fn``: ``device`` if given, else follow an nn.Module's parameters."""
    tensor = _module_tensor(fn)
    dtype = torch.float32 if tensor is None else tensor.dtype
    if device is not None:
        return pick_device(device), dtype
    return (torch.device("cpu") if tensor is None else tensor.device), dtype


def evaluate(
    fn: Callable,
    points: torch.Tensor,
    *,
    name: str,
    out_tail: tuple[int, ...],
    chunk_size: int,
    device: torch.device | str | None,
    grad: bool,
) -> np.ndarray:
    """``fn`` on ``points`` (N, 2) in chunks, checked to return shape (n, *out_tail) per chunk; float64 on the CPU."""
    target_device, dtype = placement(fn, device)
    # Densities need no graph; score functions may build one themselves (autograd of log p), so grad stays on there.
    context = contextlib.nullcontext() if grad else torch.no_grad()
    outputs = []
    with context:
        for start in range(0, points.shape[0], chunk_size):
            chunk = points[start : start + chunk_size].to(device=target_device, dtype=dtype)
            out = as_tensor(fn(chunk), f"the output of {name}")
            want = (chunk.shape[0], *out_tail)
            if tuple(out.shape) != want:
                want_str = "(N,)" if not out_tail else f"(N, {', '.join(map(str, out_tail))})"
                raise ValueError(
                    f"{name} must return shape {want_str} for points of shape (N, 2); "
                    f"got {tuple(out.shape)} for points of shape {tuple(chunk.shape)}"
                )
            outputs.append(out.to(device="cpu", dtype=torch.float64))
    return torch.cat(outputs).numpy()


def log_prob_function(obj: object, name: str) -> Callable:
    """The log-density to evaluate: ``obj.log_prob`` when ``obj`` has that method, else ``obj`` when callable.

    The method wins over calling the object, because a model that is an ``nn.Module`` is callable too, and its
    ``forward`` is not its density.
    """
    method = getattr(obj, "log_prob", None)
    if callable(method):
        return method
    if callable(obj):
        return obj
    raise TypeError(f"{name} must be {LOG_PROB_WANT}, got {type(obj).__name__}")


def points_of(obj: object, name: str, n: int, seed: int) -> np.ndarray:
    """Points (N, 2) as float64: ``obj`` itself when it is a tensor or array, else ``n`` points drawn from ``obj``.

    A model draws through ``protocol.draw``: ``obj.sample(n, generator)`` with a generator seeded ``seed`` on the
    model's device, gradients off, so the same seed draws the same points and the global RNG is left alone.
    """
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        return as_points(obj, name)
    if not callable(getattr(obj, "sample", None)):
        raise TypeError(f"{name} must be {SAMPLE_WANT}, got {type(obj).__name__}")
    return as_points(draw(obj, n, seed), f"the points drawn from {name}")
