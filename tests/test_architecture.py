"""The package's shape: shared machinery in flat modules, families that never import each other, short modules.

A family (``vae``, ``gan``, ``diffusion``, and each one added later) may import any shared module; a shared
module imports no family; no family imports another family. Every top-level module or subpackage that is not
listed as shared below counts as a family, so a new family is covered the day it is added.

One unit is neither: ``comparison`` composes every family for notebook 10 (its job is to put them side by side, so
it must import them all). It is declared here by name, it may import families, and nothing else in the package may
import it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "curriculum"
SHARED = {
    "__init__", "__main__", "checks", "runtime", "io", "tensors", "protocol", "gaussians", "toy", "baselines",
    "data", "metrics", "features", "nets", "train", "ode", "plots", "syllabus", "drill", "assignments", "grading",
    "transport", "langevin",
}
COMPOSITION = {"comparison"}
MAX_LINES = 600


def _unit(path: Path) -> str:
    """The top-level module or subpackage a file belongs to."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    """Top-level ``curriculum`` units a file imports (absolute or relative)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    depth_of_file = len(path.relative_to(PACKAGE).parts) - 1  # 0 for curriculum/x.py, 1 for curriculum/pkg/x.py
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "curriculum" and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] != "curriculum":
                    continue
                targets = parts[1:2] or [alias.name for alias in node.names]
            elif node.level - 1 == depth_of_file:  # relative import that reaches the package root
                targets = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
            else:
                continue  # relative import inside the same subpackage
            found.update(targets)
    return found


FILES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
FAMILIES = sorted({_unit(p) for p in FILES} - SHARED - COMPOSITION)


def test_the_families_are_the_ones_the_course_map_expects():
    assert {"vae", "gan", "diffusion"} <= set(FAMILIES)
    assert COMPOSITION <= {_unit(p) for p in FILES}, "the declared composition unit must exist"


def test_the_composition_unit_covers_every_family():
    """Notebook 10 compares every family: each one the course builds has a recipe in the composition unit, except
    ``latent_cfg`` (a conditional text-to-image system composed from other families, measured in notebook 08)."""
    imported = set().union(*(_imported_units(p) for p in FILES if _unit(p) in COMPOSITION))
    assert set(FAMILIES) - {"latent_cfg"} <= imported


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_no_family_imports_another_and_shared_modules_import_none(path):
    unit = _unit(path)
    imported = _imported_units(path) - {unit}
    assert not imported & COMPOSITION, f"{unit} imports the composition unit {sorted(imported & COMPOSITION)}"
    families_imported = imported & set(FAMILIES)
    if unit in COMPOSITION:
        return  # composes the families by design (see the module docstring)
    if unit in SHARED:
        assert not families_imported, f"shared module {unit} imports the families {sorted(families_imported)}"
    else:
        assert not families_imported, f"family {unit} imports the families {sorted(families_imported)}"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_modules_stay_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines; split it by role"


def test_the_import_scan_sees_relative_and_absolute_imports(tmp_path):
    fake = PACKAGE / "diffusion" / "x.py"  # only its place in the package matters; nothing is written
    source = "from ..gan import train_gan\nfrom .schedule import extract\nimport curriculum.vae\n"
    tree_path = tmp_path / "x.py"
    tree_path.write_text(source)
    original = Path.read_text
    try:
        Path.read_text = lambda self, *a, **k: source if self == fake else original(self, *a, **k)
        assert _imported_units(fake) == {"gan", "vae"}
    finally:
        Path.read_text = original
