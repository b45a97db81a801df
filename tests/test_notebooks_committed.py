"""Committed notebooks must read as one clean top-to-bottom run (nbval then checks they still run)."""
import json
from pathlib import Path

import pytest

from curriculum.syllabus import notebook_paths

NOTEBOOKS = notebook_paths(Path(__file__).resolve().parent.parent / "notebooks")


def problems(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    found, expected = [], 1
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
            continue
        count = cell.get("execution_count")
        if count is None:
            found.append(f"cell {index} was never executed")
        elif count != expected:
            found.append(f"cell {index} has execution_count {count}, expected {expected}")
        if count is not None:
            expected = count + 1
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                found.append(f"cell {index} shows an error: {output.get('ename')}")
    return found


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_executed_in_order_without_errors(path):
    assert problems(path) == []


def test_the_check_catches_bad_notebooks(tmp_path):
    cell = lambda count, outputs=(): {"cell_type": "code", "source": ["x = 1"], "execution_count": count,  # noqa: E731
                                      "outputs": list(outputs), "metadata": {}}
    bad = {"cells": [cell(1), cell(3), cell(None), cell(4, [{"output_type": "error", "ename": "ValueError"}])],
           "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(bad))
    assert problems(path) == [
        "cell 1 has execution_count 3, expected 2",
        "cell 2 was never executed",
        "cell 3 shows an error: ValueError",
    ]
