"""Input validation shared by every public entry point.

Each helper raises a ``ValueError`` or ``TypeError`` whose message names the argument and says what was
expected and what arrived, e.g. ``x must have shape (B, 2), got (5, 3)``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "check_tensor",
    "check_positive_int",
    "check_nonnegative_int",
    "check_positive_float",
    "check_probability",
    "check_choice",
    "check_finite",
    "check_nonnegative_float",
    "check_adam_betas",
    "check_bool",
    "check_same_shape",
    "check_unit_interval",
    "check_callable",
    "check_seed_or_generator",
    "check_device",
    "check_no_nan",
]


def _shape_str(shape: Sequence[int | None | str]) -> str:
    inner = ", ".join("*" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def check_tensor(
    x: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    floating: bool = False,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the expected rank, shape and dtype; return it unchanged.

    ``shape`` may contain ``None`` for any size, e.g. ``(None, 2)`` for a batch of 2-D points.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and x.ndim != ndim:
        if shape is not None:
            raise ValueError(f"{name} must have shape {_shape_str(shape)}, got {tuple(x.shape)}")
        examples = {1: ("N",), 2: ("N", "D"), 3: ("N", "H", "W"), 4: ("N", "C", "H", "W")}
        example = f"{_shape_str(examples[ndim])} " if ndim in examples else ""
        plural = "" if ndim == 1 else "s"
        raise ValueError(f"{name} must have shape {example}({ndim} dimension{plural}), got {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {tuple(x.shape)}")
    if shape is not None:
        for want, got in zip(shape, x.shape):
            if want is not None and want != got:
                raise ValueError(f"{name} must have shape {_shape_str(shape)}, got {tuple(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype}, got {x.dtype}")
    return x


def check_positive_int(value: object, name: str) -> int:
    """An integer >= 1 (bools are refused: ``True`` is not a step count)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def check_nonnegative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return value


def check_positive_float(value: object, name: str) -> float:
    """A finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def check_probability(value: object, name: str, *, open_interval: bool = False) -> float:
    """A number in [0, 1] (or (0, 1) when ``open_interval``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a probability (a number in [0, 1]), got {value!r}")
    lo_ok = value > 0 if open_interval else value >= 0
    hi_ok = value < 1 if open_interval else value <= 1
    if not (math.isfinite(value) and lo_ok and hi_ok):
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be a probability in {interval}, got {value}")
    return float(value)


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value  # type: ignore[return-value]


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Refuse NaN or infinite entries (useful for samples and features fed to metrics)."""
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite entries; expected finite values")
    return x


def check_no_nan(x: torch.Tensor, name: str, why: str = "") -> torch.Tensor:
    """Refuse NaN entries but allow infinities (a point at infinity has a well-defined zero density)."""
    if x.is_floating_point() and bool(torch.isnan(x).any()):
        raise ValueError(f"{name} contains {int(torch.isnan(x).sum())} NaN entries{why}")
    return x


def check_nonnegative_float(value: object, name: str) -> float:
    """A finite real number >= 0 (a weight such as beta, a threshold, a decay)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a non-negative number, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative finite number, got {value}")
    return float(value)


def check_bool(value: object, name: str) -> bool:
    """``True`` or ``False`` exactly (``0``/``1`` and strings are refused)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_same_shape(x: torch.Tensor, name: str, like: torch.Tensor, like_name: str) -> torch.Tensor:
    """``x`` has exactly the shape of ``like`` (both already checked to be tensors)."""
    if x.shape != like.shape:
        raise ValueError(f"{name} must have the same shape as {like_name} {tuple(like.shape)}, "
                         f"got {tuple(x.shape)}")
    return x


def check_unit_interval(x: torch.Tensor, name: str) -> torch.Tensor:
    """Every entry in [0, 1] (binary pixels or probabilities); NaN is refused."""
    if x.numel() and (bool((x < 0).any()) or bool((x > 1).any()) or bool(torch.isnan(x).any())):
        raise ValueError(f"{name} must hold values in [0, 1] (binary pixels or probabilities), "
                         f"got values in [{float(x.min()):g}, {float(x.max()):g}]")
    return x


def check_callable(value: object, name: str, signature: str) -> object:
    """A callable; ``signature`` says how it will be called, e.g. ``"loss_fn(model, batch)"``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable as {signature}, got {type(value).__name__}")
    return value


def check_seed_or_generator(value: object, name: str = "generator") -> None:
    """``None``, a non-negative integer seed, or a ``torch.Generator``: the three ways to ask for randomness."""
    if value is None or isinstance(value, torch.Generator):
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a torch.Generator, a non-negative integer seed or None, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a torch.Generator, a non-negative integer seed or None, got {value}")


_DEVICE_FORMS = "'cpu', 'cuda', 'cuda:N' (a GPU index), 'auto' or a torch.device"


def check_device(device: object, name: str = "device", *, allow_auto: bool = True) -> torch.device | str:
    """A device the course can run on: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a ``torch.device`` of those types,
    or ``"auto"`` (when ``allow_auto``). Returns a ``torch.device`` (or ``"auto"``); whether a GPU is present is
    ``runtime.pick_device``'s question, not this one's."""
    if allow_auto and device == "auto":
        return "auto"
    forms = _DEVICE_FORMS if allow_auto else _DEVICE_FORMS.replace(", 'auto'", "")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be {forms}; got {device!r}")
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name} must be {forms}; got {device!r}") from None
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be {forms}; got {device!r} (the course runs on the CPU or a CUDA GPU)")
    return parsed


def check_adam_betas(value: object, name: str = "betas") -> tuple[float, float]:
    """Adam's ``(beta1, beta2)``: a pair of numbers in [0, 1), e.g. (0.5, 0.999)."""
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in value)):
        raise ValueError(f"{name} must be a pair of numbers in [0, 1), e.g. (0.5, 0.999); got {value!r}")
    return float(value[0]), float(value[1])

