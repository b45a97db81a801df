"""Where the comparison's trained weights live, and how they are written and read back.

One file per (data, family, seed): ``ASSETS / f"{data}-{family}-seed{seed}.pt"`` holding the state dict of every
module of the recipe and ``meta`` (the budget, the wall time of training, the parameter count, torch's version).
``python -m curriculum.comparison train`` writes them; the notebook reads them with ``load``.
"""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from ..checks import check_nonnegative_int

__all__ = ["ASSETS", "path_for", "save", "load_state"]

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "comparison"


def path_for(data: str, family: str, seed: int, root: str | os.PathLike | None = None) -> Path:
    """The weights file of one trained model."""
    check_nonnegative_int(seed, "seed")
    return Path(root if root is not None else ASSETS) / f"{data}-{family}-seed{seed}.pt"


def save(path: Path, modules: dict[str, nn.Module], meta: dict) -> None:
    """Write the modules' state dicts and ``meta`` to ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    states = {name: {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
              for name, module in modules.items()}
    torch.save({"state": states, "meta": meta}, path)


def load_state(path: Path, modules: dict[str, nn.Module]) -> dict:
    """Load the weights at ``path`` into ``modules`` (built by the recipe); return the file's ``meta``."""
    if not path.exists():
        raise FileNotFoundError(f"no trained weights at {path}; run `python -m curriculum.comparison train` to "
                                f"write them (see the README)")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    missing = sorted(set(modules) - set(saved["state"]))
    if missing:
        raise ValueError(f"{path.name} has no weights for {missing}; it was written by another recipe: retrain it")
    for name, module in modules.items():
        module.load_state_dict(saved["state"][name])
        module.eval()
    return saved["meta"]


def budget_meta(budget) -> dict:
    return asdict(budget)
