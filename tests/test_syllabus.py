"""The course map in curriculum.syllabus agrees with itself, with the card files and with the notebooks folder."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from curriculum import syllabus

ROOT = Path(__file__).resolve().parent.parent
CARD_DIR = ROOT / "curriculum" / "cards"
NOTEBOOK_DIR = ROOT / "notebooks"
# written out here rather than taken from the module, so a loosened pattern there cannot pass unnoticed
NAME_PATTERN = re.compile(r"(\d{2})_[a-z0-9]+(_[a-z0-9]+)*\.ipynb")


def test_topics_and_notebooks_name_the_same_topics_in_the_same_order():
    assert len(set(syllabus.TOPICS)) == len(syllabus.TOPICS)
    assert tuple(syllabus.NOTEBOOKS) == syllabus.TOPICS
    assert syllabus.TOPICS[0] == "foundations" and syllabus.TOPICS[-1] == "comparison"


def test_one_card_file_per_topic_naming_its_notebook():
    files = sorted(CARD_DIR.glob("*.json"))
    assert sorted(path.stem for path in files) == sorted(syllabus.TOPICS)
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert (data["topic"], data["notebook"]) == (path.stem, syllabus.NOTEBOOKS[path.stem]), path.name


def test_notebook_names_follow_the_pattern_and_numbers_are_unique_in_course_order():
    names = list(syllabus.NOTEBOOKS.values())
    for name in names:
        assert NAME_PATTERN.fullmatch(name), name
        assert syllabus.NOTEBOOK_NAME.match(name), name
    numbers = [int(NAME_PATTERN.fullmatch(name).group(1)) for name in names]
    assert len(set(numbers)) == len(numbers)
    assert numbers == sorted(numbers)  # TOPICS is the course order, which is the notebook order
    assert [syllabus.notebook_number(topic) for topic in syllabus.TOPICS] == numbers


def test_lookups_by_topic_and_by_notebook():
    assert syllabus.notebook_name("vae") == "01_vae_elbo.ipynb" and syllabus.notebook_number("vae") == 1
    assert syllabus.notebook_number("foundations") == 0 and syllabus.notebook_number("comparison") == 10
    for topic, name in syllabus.NOTEBOOKS.items():
        assert syllabus.topic_of(name) == topic == syllabus.topic_of(NOTEBOOK_DIR / name)
    with pytest.raises(ValueError, match="topic must be one of foundations, vae"):
        syllabus.notebook_name("gans")
    with pytest.raises(ValueError, match="notebook '99_extra.ipynb' is not one of the course's notebooks"):
        syllabus.topic_of("notebooks/99_extra.ipynb")


def test_notebook_paths_lists_the_existing_course_notebooks_in_order():
    listed = syllabus.notebook_paths(NOTEBOOK_DIR)
    present = sorted((NOTEBOOK_DIR / name for name in syllabus.NOTEBOOKS.values() if (NOTEBOOK_DIR / name).exists()),
                     key=lambda path: int(path.name[:2]))
    assert listed == present
    assert listed, "the notebooks folder holds none of the course's notebooks"
    numbered = sorted(path.name for path in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert numbered == sorted(path.name for path in listed), "a numbered notebook that the course map does not name"


def test_notebook_paths_orders_by_number_and_skips_other_files(tmp_path):
    for name in ("10_comparison.ipynb", "02_gan_jsd.ipynb", "00_generative_problem.ipynb", "99_scratch.ipynb",
                 "notes.txt"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "01_vae_elbo.ipynb").mkdir()  # a folder with a notebook's name is not a notebook
    assert [path.name for path in syllabus.notebook_paths(tmp_path)] == [
        "00_generative_problem.ipynb", "02_gan_jsd.ipynb", "10_comparison.ipynb"]
    assert syllabus.notebook_paths(tmp_path / "missing") == []


def test_section_names_per_topic():
    assert syllabus.section_names("foundations") == syllabus.FOUNDATIONS_SECTIONS
    for topic in syllabus.TOPICS[1:]:
        assert syllabus.section_names(topic) == syllabus.SECTION_NAMES
    assert syllabus.SECTION_NAMES[0] == "Intuition" and syllabus.SECTION_NAMES[-1] == "Cheat sheet"
    assert syllabus.FOUNDATIONS_SECTIONS[0] == "The task" and syllabus.FOUNDATIONS_SECTIONS[-1] == "Cheat sheet"
