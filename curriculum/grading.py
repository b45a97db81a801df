"""Grading support for the notebooks' exercises: the package's reference solutions can be hidden.

An exercise asks the learner to write a function whose reference version lives in the package (``vae.gaussian_kl``
for the Gaussian KL, say). A graded test that only compared the learner's function with the reference would pass
a "solution" that just calls the reference. So each reference is marked with ``@reference``, and a graded test
runs the learner's function inside ``hidden(...)``::

    with grading.hidden(vae.gaussian_kl):
        got = gaussian_kl(mu, log_var)      # a body that calls vae.gaussian_kl raises ReferenceHidden here
    assert torch.allclose(got, torch.tensor([...]))  # literal values, computed independently

Hiding works however the reference is reached (``vae.gaussian_kl``, an alias imported earlier, the same function
under its name in ``gaussians``), because the marked function itself checks whether it is hidden. Outside a
``hidden`` block references behave as usual, so the rest of a notebook keeps using them.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

__all__ = ["ReferenceHidden", "reference", "hidden", "is_reference"]

F = TypeVar("F", bound=Callable)
_HIDDEN: dict[str, int] = {}  # reference key -> how many enclosing hidden() blocks hide it


class ReferenceHidden(RuntimeError):
    """A graded exercise called the package's own reference for that exercise."""


def _key(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def reference(fn: F) -> F:
    """Mark ``fn`` as the reference solution of an exercise, so that ``hidden(fn)`` can hide it."""
    key = _key(fn)

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        if _HIDDEN.get(key):
            raise ReferenceHidden(
                f"{key.removeprefix('curriculum.')} is the package's reference solution for this exercise and is "
                f"hidden while your function is graded: write it from the formula instead of calling it")
        return fn(*args, **kwargs)

    checked.__grading_key__ = key  # type: ignore[attr-defined]
    return checked  # type: ignore[return-value]


def is_reference(fn: object) -> bool:
    """Whether ``fn`` (a function or a bound method) was marked with ``@reference``."""
    return isinstance(getattr(fn, "__grading_key__", None), str)


@contextlib.contextmanager
def hidden(*references: Callable) -> Iterator[None]:
    """Within the block, calling any of ``references`` (functions marked ``@reference``) raises
    ``ReferenceHidden``. Blocks nest; each reference is visible again when the outermost block that hid it ends."""
    if not references:
        raise ValueError("hidden() needs at least one reference function, e.g. hidden(vae.gaussian_kl)")
    keys = []
    for ref in references:
        if not is_reference(ref):
            raise TypeError(f"references must be functions marked with curriculum.grading.reference, got "
                            f"{getattr(ref, '__qualname__', type(ref).__name__)}")
        keys.append(ref.__grading_key__)  # type: ignore[attr-defined]
    for key in keys:
        _HIDDEN[key] = _HIDDEN.get(key, 0) + 1
    try:
        yield
    finally:
        for key in keys:
            _HIDDEN[key] -= 1
            if not _HIDDEN[key]:
                del _HIDDEN[key]
