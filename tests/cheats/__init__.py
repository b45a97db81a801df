"""Submissions that only call the package's reference solutions, one module per notebook (``nbNN.py``).

``CHEATS`` maps each exercise (solution cell) grade id to the source of a cell that defines the same function by
calling the package's own reference. ``tests/test_assignments.py`` submits them all at once and expects zero
marks: a graded test must not be passable by calling the reference (see ``curriculum.grading``).
"""
from __future__ import annotations

import importlib



def cheats_for(notebook_stem: str) -> dict[str, str]:
    """The cheating solutions of the notebook ``NN_name`` (an empty dict when its module does not exist)."""
    number = int(notebook_stem[:2])
    try:
        module = importlib.import_module(f"cheats.nb{number:02d}")
    except ModuleNotFoundError:
        return {}
    return dict(module.CHEATS)


__all__ = ["cheats_for"]
