"""Seeding, device choice and progress bars: the few global settings every notebook touches.

``setup(seed)`` is the one call at the top of a notebook. Progress bars go through ``progress`` so that CI and
the execute command can switch them off (``CURRICULUM_PROGRESS=0``) and committed outputs stay machine-independent.
"""
from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np
import torch

from .checks import check_device, check_nonnegative_int

__all__ = ["seed_everything", "preserved_rng_state", "pick_device", "setup", "progress", "progress_enabled", "set_progress", "generator"]

T = TypeVar("T")
_PROGRESS_OVERRIDE: bool | None = None


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so that two runs print the same numbers."""
    check_nonnegative_int(seed, "seed")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def preserved_rng_state() -> Iterator[None]:
    """Run a block that seeds or draws from the global RNGs (Python, NumPy, torch's CPU generator) and put
    their states back afterwards, so a helper that trains a model leaves the caller's random streams alone."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def pick_device(device: str | torch.device = "cpu") -> torch.device:
    """``"cpu"`` (the default everywhere), ``"cuda"`` or ``"cuda:N"`` (an error if that GPU is absent), a
    ``torch.device``, or ``"auto"`` (CUDA when present). The course never moves to a GPU silently: ``"auto"``
    must be asked for."""
    choice = check_device(device)
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise RuntimeError(f"device={str(device)!r} was asked for but torch sees no CUDA GPU; use device='cpu' "
                               f"or 'auto'")
        if choice.index is not None and choice.index >= count:
            raise RuntimeError(f"device={str(device)!r} was asked for but torch sees {count} CUDA GPU(s), "
                               f"cuda:0 to cuda:{count - 1}")
    return choice


def setup(seed: int = 0, device: str | torch.device = "cpu") -> torch.device:
    """Seed everything and return the device; the single setup call of every notebook."""
    seed_everything(seed)
    return pick_device(device)


def generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator | None:
    """A seeded ``torch.Generator`` (or ``None`` to use the global RNG)."""
    if seed is None:
        return None
    check_nonnegative_int(seed, "seed")
    return torch.Generator(device=pick_device(device)).manual_seed(seed)


def progress_enabled() -> bool:
    if _PROGRESS_OVERRIDE is not None:
        return _PROGRESS_OVERRIDE
    return os.environ.get("CURRICULUM_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def set_progress(enabled: bool | None) -> None:
    """Force progress bars on or off for this process (``None`` returns to the environment variable)."""
    global _PROGRESS_OVERRIDE
    _PROGRESS_OVERRIDE = enabled


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str | None = None,
             enabled: bool | None = None) -> Iterable[T]:
    """A tqdm bar over ``iterable`` when progress is enabled (callers may ``set_postfix`` on it), else the
    iterable itself. Test ``hasattr(it, "set_postfix")`` before decorating the bar."""
    if enabled is None:
        enabled = progress_enabled()
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)
