"""The real card deck in curriculum/cards follows the card format (see curriculum.drill.deck), checked file by file.

These tests read the JSON files directly as well as through ``load_deck``, so a broken file is reported with its
name even when the loader refuses the whole deck.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from curriculum import drill

ROOT = Path(__file__).resolve().parent.parent
CARD_DIR = ROOT / "curriculum" / "cards"
NOTEBOOK_DIR = ROOT / "notebooks"
FILES = sorted(CARD_DIR.glob("*.json"))
STANDARD_SECTIONS = ("Intuition", "Derivation", "Check the derivation", "Implement", "Train and watch",
                     "Failure modes", "Explore", "Drill", "Cheat sheet")
ALL_TOPICS = ("foundations", "vae", "gan", "wgan", "flows", "ebm", "diffusion", "score", "latent_cfg",
              "flow_matching", "comparison")


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def all_cards() -> list[tuple[str, dict]]:
    """(file stem, card) for every card in every file that parses; broken files are reported elsewhere."""
    found = []
    for path in FILES:
        try:
            data = read(path)
        except ValueError:
            continue
        for card in data.get("cards", []) if isinstance(data, dict) else []:
            found.append((path.stem, card))
    return found


CARDS = all_cards()
CARD_IDS = [card.get("id", f"{stem}#{n}") if isinstance(card, dict) else f"{stem}#{n}"
            for n, (stem, card) in enumerate(CARDS)]


def notebook_headings(path: Path) -> list[str]:
    """Text of each '## ' Markdown heading, without its 'N · ' prefix."""
    headings = []
    for cell in read(path)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for line in source.splitlines():
            if line.startswith("## "):
                headings.append(re.sub(r"^\d+\s*·\s*", "", line[3:].strip()))
    return headings


def test_every_topic_has_a_card_file():
    assert sorted(path.stem for path in FILES) == sorted(ALL_TOPICS)
    assert set(ALL_TOPICS) == set(drill.TOPICS)


def test_the_deck_has_at_least_40_cards():
    assert len(CARDS) >= 40


def test_the_whole_deck_loads():
    deck = drill.load_deck()
    assert set(deck.topics) == set(ALL_TOPICS)
    assert len(deck) == len(CARDS)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_topic_file(path):
    data = read(path)  # UTF-8 JSON
    assert drill.validate_topic_file(data, path.stem) == []
    assert data["topic"] == path.stem
    assert data["notebook"] == drill.NOTEBOOKS[path.stem]
    assert 2 <= len(data["skills"]) <= 4 and all(skill.strip() for skill in data["skills"])
    assert data["cards"], f"{path.name} has no cards"


def test_card_ids_are_unique_across_the_deck():
    counts = Counter(card.get("id") for _, card in CARDS)
    assert [card_id for card_id, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("stem, card", CARDS, ids=CARD_IDS)
def test_card_is_complete_and_valid(stem, card):
    assert drill.validate_card(card, topic=stem) == []
    assert set(card) == {"id", "topic", "section", "prompt", "time_limit_s", "answer", "rubric", "red_flags"}
    assert card["topic"] == stem
    assert card["id"].startswith(f"{stem}-") and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", card["id"][len(stem) + 1:])
    assert isinstance(card["time_limit_s"], int) and 60 <= card["time_limit_s"] <= 600
    assert card["prompt"].strip() and card["answer"].strip()
    assert set(card["rubric"]) == {"strong_hire", "lean_hire", "no_hire"}
    assert all(isinstance(text, str) and text.strip() for text in card["rubric"].values())
    assert card["red_flags"] and all(isinstance(flag, str) and flag.strip() for flag in card["red_flags"])


@pytest.mark.parametrize("stem, card", CARDS, ids=CARD_IDS)
def test_card_section_exists_in_its_notebook(stem, card):
    notebook = NOTEBOOK_DIR / drill.NOTEBOOKS[stem]
    section = card["section"]
    if notebook.exists():
        matches = [heading for heading in notebook_headings(notebook) if heading.startswith(section)]
        assert len(matches) == 1, (f"section {section!r} should start exactly one '## ' heading of "
                                   f"{notebook.name}; matching headings: {matches}")
    else:
        assert section in STANDARD_SECTIONS, f"{section!r} is not a standard section name ({notebook.name} is not written yet)"


def test_heading_parser_strips_the_number():
    notebook = NOTEBOOK_DIR / drill.NOTEBOOKS["foundations"]
    if not notebook.exists():
        pytest.skip("notebook 00 is not there")
    headings = notebook_headings(notebook)
    assert "The task" in headings and any(h.startswith("Cheat sheet") for h in headings)
