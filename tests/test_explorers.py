"""Each notebook's explorer runs on its own: the setup cell plus the explorer cell, nothing else (a reader may
jump straight to it), and it shows one figure followed by the controls' plain-text line, never a widget repr."""
from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from curriculum.syllabus import notebook_paths

from test_links import ROOT  # the project root

NOTEBOOKS = notebook_paths(ROOT / "notebooks")


def _setup_and_explorer(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    explorers = [source for source in code if "plots.explorer(" in source]
    return code[0], explorers


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_explorer_needs_only_the_setup_cell(path):
    setup, explorers = _setup_and_explorer(path)
    assert len(explorers) == 1, f"{path.name} should have exactly one explorer cell built with plots.explorer"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(explorers[0])])
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = nb.cells[1].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    widget_outputs = [i for i, o in enumerate(outputs)
                      if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_outputs == [len(outputs) - 1], "the controls come last, once"
    text = outputs[-1].data["text/plain"]
    assert text.startswith("[explorer]") and "children=" not in text
    assert "image/png" in outputs[-2].get("data", {}), "the explorer's figure stands right above its controls"
