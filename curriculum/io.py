"""Atomic file writes and safe weight loading.

A write goes to a temporary file in the same folder, is flushed to disk, then renamed over the target with
``os.replace`` (atomic on POSIX and Windows), so a crash or a kill mid-write leaves the old file intact.
Weights are loaded with ``torch.load(..., weights_only=True)``: a checkpoint can hold tensors and plain
containers, never arbitrary pickled code.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["atomic_write_bytes", "atomic_write_text", "save_torch", "load_torch"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; create the parent folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if hasattr(os, "fchmod"):  # mkstemp makes the file owner-only; give it what open() would give
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(handle.fileno(), 0o666 & ~umask)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_torch(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` made atomic. ``obj`` should be tensors and plain containers (a state dict, numbers)."""
    import torch  # imported here so that text-only users of this module (the drill CLI) start fast

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_torch(path: str | os.PathLike, map_location: "str | torch.device" = "cpu") -> Any:
    """Load a file written by ``save_torch`` with ``weights_only=True``."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} does not exist or is not a file")
    return torch.load(path, map_location=map_location, weights_only=True)
