"""Every relative link in a notebook's Markdown, and in the README, points at a file that exists.

A notebook that is still planned is named in plain text, marked as coming (e.g. "notebook 03 (WGAN, coming)"),
never linked: the README's course table lists what exists and what is planned.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from curriculum.syllabus import notebook_paths

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = notebook_paths(ROOT / "notebooks")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=[\"']([^\"']+)[\"']")


def relative_targets(markdown: str) -> list[str]:
    """Link targets in Markdown text that point into the project (not web addresses, mail or in-page anchors)."""
    targets = []
    for match in LINK.finditer(markdown):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        targets.append(unquote(target.split("#", 1)[0]))
    return [t for t in targets if t]


def broken_links(markdown: str, base: Path) -> list[str]:
    return [t for t in relative_targets(markdown) if not (base / t).exists()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_relative_link_in_a_notebook_resolves(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    broken = {i: broken_links("".join(c["source"]), path.parent) for i, c in enumerate(cells)
              if c["cell_type"] == "markdown"}
    broken = {i: b for i, b in broken.items() if b}
    assert not broken, f"{path.name}: links to missing files (name planned notebooks in plain text): {broken}"


def test_every_relative_link_in_the_readme_resolves():
    assert broken_links((ROOT / "README.md").read_text(encoding="utf-8"), ROOT) == []


def test_the_link_finder_sees_markdown_and_html_links_and_skips_web_addresses(tmp_path):
    (tmp_path / "here.ipynb").write_text("{}")
    text = ("See [the next notebook](here.ipynb#setup), [a planned one](03_wgan.ipynb), "
            "<a href='gone.md'>old</a>, [docs](https://example.org/x.ipynb), [top](#intro) and "
            "[spaced](my%20file.md).")
    assert relative_targets(text) == ["here.ipynb", "03_wgan.ipynb", "gone.md", "my file.md"]
    assert broken_links(text, tmp_path) == ["03_wgan.ipynb", "gone.md", "my file.md"]
