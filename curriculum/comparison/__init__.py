r"""Notebook 10's comparison: every family trained at one budget, evaluated by one loop.

This subpackage is the course's one *composition* unit: it imports every family (the families themselves never
import each other, see ``tests/test_architecture.py``), because its job is to put them side by side. Nothing else
in the package imports it.

- ``recipes``: each family's recipe on the plane (build, train at the ``Budget``, wrap in the protocol);
- ``digits``: the families trained on the 8x8 digits;
- ``store``: where the weights live (``curriculum/assets/comparison``);
- ``evaluate``: the measurements (test NLL against the entropy, C2ST against the noise floor, modes and
  high-quality share, samples per second, network evaluations per sample) and their spread over seeds;
- ``python -m curriculum.comparison train``: the command that trains everything and writes the weights.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from .. import toy
from . import digits, recipes, store
from .recipes import TOY_FAMILIES, Budget

__all__ = ["recipes", "digits", "store", "train_one", "train_digit", "load_toy", "load_digit", "train_all"]


def train_one(data: str, family: str, seed: int, budget: Budget | None = None, out=None) -> dict:
    """Train one family on one toy with ``seed`` at ``budget`` and write its weights; return its ``meta``."""
    budget = Budget() if budget is None else budget
    recipe = recipes.recipe(family)
    start = time.perf_counter()
    modules = recipe.train(toy.get(data), seed, budget)
    seconds = time.perf_counter() - start
    meta = {**store.budget_meta(budget), "wall_s": seconds, "parameters": recipes.parameter_count(modules),
            "torch": str(torch.__version__), "threads": torch.get_num_threads()}
    store.save(store.path_for(data, family, seed, out), modules, meta)
    return meta


def load_toy(data: str, family: str, seed: int, root=None) -> tuple[object, dict]:
    """The protocol model of ``family`` trained on ``data`` with ``seed``, from the stored weights, and its meta."""
    recipe = recipes.recipe(family)
    modules = recipe.build(Budget())
    meta = store.load_state(store.path_for(data, family, seed, root), modules)
    return recipe.model(modules, toy.get(data)), meta


def _digit_recipe(family: str) -> digits.DigitRecipe:
    for candidate in digits.DIGIT_RECIPES:
        if candidate.name == family:
            return candidate
    raise ValueError(f"family must be one of {', '.join(digits.DIGIT_FAMILIES)}; got {family!r}")


def train_digit(family: str, seed: int = 0, steps: int = digits.DIGIT_STEPS, out=None) -> dict:
    """Train one digit family and write its weights; return its meta."""
    recipe = _digit_recipe(family)
    start = time.perf_counter()
    modules = recipe.train(seed, steps)
    seconds = time.perf_counter() - start
    meta = {"steps": steps, "batch_size": digits.DIGIT_BATCH, "wall_s": seconds,
            "parameters": recipes.parameter_count(modules), "torch": str(torch.__version__),
            "threads": torch.get_num_threads()}
    store.save(store.path_for("digits", family, seed, out), modules, meta)
    return meta


def load_digit(family: str, seed: int = 0, root=None) -> tuple[object, dict]:
    """The protocol model of a digit family from the stored weights, and its meta."""
    recipe = _digit_recipe(family)
    modules = recipe.build()
    meta = store.load_state(store.path_for("digits", family, seed, root), modules)
    return recipe.model(modules), meta


def train_all(data: Sequence[str], families: Sequence[str] | None, seeds: Sequence[int], steps: int,
              out=None, log: Callable[[str], None] = print) -> None:
    """Train every (data, family, seed) asked for; the digits train seed 0 only, at ``DIGIT_STEPS`` unless the toy
    budget was shrunk (then at the same ``steps``)."""
    budget = Budget(steps=steps)
    for name in data:
        if name == "digits":
            wanted = [f for f in digits.DIGIT_FAMILIES if families is None or f in families]
            for family in wanted:
                meta = train_digit(family, 0, min(steps, digits.DIGIT_STEPS), out)
                log(f"digits {family:<24} seed 0: {meta['wall_s']:6.1f} s, {meta['parameters']:,} parameters")
            continue
        wanted = [f for f in TOY_FAMILIES if families is None or f in families]
        for seed in seeds:
            for family in wanted:
                meta = train_one(name, family, seed, budget, out)
                log(f"{name:<6} {family:<16} seed {seed}: {meta['wall_s']:6.1f} s, {meta['parameters']:,} parameters")
