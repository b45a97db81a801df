"""The card deck: the card-file schema, its validators and ``load_deck``.

One JSON file per topic in ``curriculum/cards/<topic>.json``; the topics, their notebooks and the section names a
card may name come from ``curriculum.syllabus``. A topic file holds exactly the fields ``TOPIC_FIELDS``; each of its
cards holds exactly ``CARD_FIELDS``. ``validate_card`` and ``validate_topic_file`` return every problem as a
sentence (empty when valid). ``load_deck()`` reads and validates every file and raises ``DeckError`` listing each
problem with its file and card id. Cards come in a stable order: topics in course order (``TOPICS``), cards in
file order.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..syllabus import NOTEBOOKS, TOPICS, section_names

__all__ = ["DECK_ENV", "Card", "Rubric", "TopicCards", "Deck", "DeckError", "validate_card", "validate_topic_file",
           "load_deck"]

CARD_FIELDS = ("id", "topic", "section", "prompt", "time_limit_s", "answer", "rubric", "red_flags")
TOPIC_FIELDS = ("topic", "title", "notebook", "skills", "cards")
RUBRIC_LEVELS = ("strong_hire", "lean_hire", "no_hire")
TIME_LIMIT_S = (60, 600)
RED_FLAGS_COUNT = (2, 4)
SKILLS_COUNT = (2, 4)

DECK_ENV = "CURRICULUM_DRILL_DECK"  # testing/authoring hook read by the command line: a folder of card files

_ID_TAIL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class DeckError(ValueError):
    """The card files are missing or do not follow the format; the message lists every problem."""


@dataclass(frozen=True)
class Rubric:
    strong_hire: str
    lean_hire: str
    no_hire: str


@dataclass(frozen=True)
class Card:
    id: str
    topic: str
    section: str
    prompt: str
    time_limit_s: int
    answer: str
    rubric: Rubric
    red_flags: tuple[str, ...]


@dataclass(frozen=True)
class TopicCards:
    """One topic file: its title, notebook, skills and cards."""

    topic: str
    title: str
    notebook: str
    skills: tuple[str, ...]
    cards: tuple[Card, ...]
    source: str = ""


def json_kind(value: object) -> str:
    """A JSON value's kind in words ("an object", "a list", ...), for error messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def is_whole_in(value: object, low: int, high: int) -> bool:
    """Whether ``value`` is an integer in ``[low, high]`` (JSON's true/false are not integers here)."""
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _field_problems(obj: Mapping, fields: Sequence[str], what: str) -> list[str]:
    """Missing and unknown fields of a JSON object that must have exactly ``fields``."""
    problems = [f"missing field {name!r}" for name in fields if name not in obj]
    unknown = sorted(set(obj) - set(fields), key=str)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(map(repr, unknown))}; {what} has exactly the fields "
                        f"{', '.join(fields)}")
    return problems


def _topic_problems(topic: object, expected: str | None, where: str) -> list[str]:
    """A ``topic`` field must name a course topic and, when known, the one ``where`` says it should be."""
    if topic not in TOPICS:
        return [f"field 'topic' must be one of {', '.join(TOPICS)}; got {topic!r}"]
    if expected is not None and topic != expected:
        return [f"field 'topic' is {topic!r} but {where}"]
    return []


def _rubric_problems(rubric: object) -> list[str]:
    if not isinstance(rubric, Mapping):
        return [f"field 'rubric' must be an object with {', '.join(RUBRIC_LEVELS)}; got {json_kind(rubric)}"]
    problems = []
    for level in RUBRIC_LEVELS:
        if level not in rubric:
            problems.append(f"field 'rubric' is missing the level {level!r}")
        elif not _is_text(rubric[level]):
            problems.append(f"field 'rubric.{level}' must be a non-empty string")
    extra = sorted(set(rubric) - set(RUBRIC_LEVELS), key=str)
    if extra:
        problems.append(f"field 'rubric' has unknown level(s) {', '.join(map(repr, extra))}; "
                        f"the levels are {', '.join(RUBRIC_LEVELS)}")
    return problems


def validate_card(card: object, topic: str | None = None) -> list[str]:
    """Problems with one card (empty when valid). ``topic``: the topic of the file the card is in, if known."""
    if not isinstance(card, Mapping):
        return [f"a card must be a JSON object, got {json_kind(card)}"]
    problems = _field_problems(card, CARD_FIELDS, "a card")

    card_topic = card.get("topic")
    if "topic" in card:
        problems += _topic_problems(card_topic, topic, f"the card is in the {topic!r} file")
    home = topic if topic in TOPICS else card_topic if card_topic in TOPICS else None

    if "id" in card:
        card_id = card["id"]
        if not _is_text(card_id):
            problems.append(f"field 'id' must be a non-empty string, got {card_id!r}")
        elif home is not None:
            prefix = f"{home}-"
            if not (card_id.startswith(prefix) and _ID_TAIL.match(card_id[len(prefix):])):
                problems.append(f"field 'id' must be {prefix!r} followed by lowercase-kebab words "
                                f"(e.g. '{prefix}elbo-jensen'), got {card_id!r}")
    if "section" in card:
        section = card["section"]
        if not _is_text(section):
            problems.append(f"field 'section' must be a non-empty string, got {section!r}")
        elif home is not None and section not in section_names(home):
            problems.append(f"field 'section' must be one of the {home!r} notebook's sections "
                            f"({', '.join(map(repr, section_names(home)))}); got {section!r}")
    for name in ("prompt", "answer"):
        if name in card and not _is_text(card[name]):
            problems.append(f"field {name!r} must be a non-empty string, got {json_kind(card[name])}")
    if "time_limit_s" in card and not is_whole_in(card["time_limit_s"], *TIME_LIMIT_S):
        low, high = TIME_LIMIT_S
        problems.append(f"field 'time_limit_s' must be a whole number of seconds in [{low}, {high}], "
                        f"got {card['time_limit_s']!r}")
    if "rubric" in card:
        problems += _rubric_problems(card["rubric"])
    if "red_flags" in card:
        flags = card["red_flags"]
        low, high = RED_FLAGS_COUNT
        if not isinstance(flags, list) or not low <= len(flags) <= high:
            got = f"{len(flags)} items" if isinstance(flags, list) else json_kind(flags)
            problems.append(f"field 'red_flags' must be a list of {low} to {high} sentences, got {got}")
        if isinstance(flags, list) and not all(_is_text(flag) for flag in flags):
            problems.append("field 'red_flags' must hold non-empty strings only")
    return problems


def _cards_problems(cards: object, home: str | None) -> list[str]:
    """Each card's problems prefixed with its id (or its position), plus ids used twice in the file."""
    if not isinstance(cards, list) or not cards:
        return ["field 'cards' must be a non-empty list of cards"]
    problems: list[str] = []
    seen: set[str] = set()
    for number, card in enumerate(cards, start=1):
        card_id = card.get("id") if isinstance(card, Mapping) else None
        where = f"card {card_id!r}" if isinstance(card_id, str) else f"card #{number}"
        problems += [f"{where}: {problem}" for problem in validate_card(card, home)]
        if isinstance(card_id, str):
            if card_id in seen:
                problems.append(f"{where}: id used twice in this file")
            seen.add(card_id)
    return problems


def validate_topic_file(data: object, stem: str | None = None) -> list[str]:
    """Problems with one topic file's content (empty when valid). ``stem``: the file name without ``.json``."""
    if not isinstance(data, Mapping):
        return [f"the file must hold a JSON object, got {json_kind(data)}"]
    problems = _field_problems(data, TOPIC_FIELDS, "a topic file")
    topic = data.get("topic")
    if "topic" in data:
        problems += _topic_problems(topic, stem, f"the file is named {stem}.json")
    if "title" in data and not _is_text(data["title"]):
        problems.append("field 'title' must be a non-empty string")
    if "notebook" in data and topic in NOTEBOOKS and data["notebook"] != NOTEBOOKS[topic]:
        problems.append(f"field 'notebook' must be {NOTEBOOKS[topic]!r} for topic {topic!r}, "
                        f"got {data['notebook']!r}")
    if "skills" in data:
        skills = data["skills"]
        low, high = SKILLS_COUNT
        if (not isinstance(skills, list) or not low <= len(skills) <= high
                or not all(_is_text(skill) for skill in skills)):
            problems.append(f"field 'skills' must be a list of {low} to {high} non-empty strings")
        elif len(set(skills)) != len(skills):
            problems.append("field 'skills' has duplicates")
    if "cards" in data:
        problems += _cards_problems(data["cards"], topic if topic in TOPICS else None)
    return problems


def _card_from_json(data: Mapping[str, Any]) -> Card:
    rubric = data["rubric"]
    return Card(id=data["id"], topic=data["topic"], section=data["section"], prompt=data["prompt"].strip(),
                time_limit_s=data["time_limit_s"], answer=data["answer"].strip(),
                rubric=Rubric(**{level: rubric[level].strip() for level in RUBRIC_LEVELS}),
                red_flags=tuple(flag.strip() for flag in data["red_flags"]))


class Deck:
    """The validated cards of every topic file, in course order."""

    def __init__(self, topic_files: Iterable[TopicCards] = ()):
        self._topics = {entry.topic: entry for entry in topic_files}
        self._cards = tuple(card for entry in self._topics.values() for card in entry.cards)
        self._by_id = {card.id: card for card in self._cards}
        if len(self._by_id) != len(self._cards):
            raise DeckError("card ids must be unique across the deck")

    @property
    def topics(self) -> tuple[str, ...]:
        """Topics that have a card file, in course order."""
        return tuple(self._topics)

    @property
    def cards(self) -> tuple[Card, ...]:
        return self._cards

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self):
        return iter(self._cards)

    def __contains__(self, card_id: object) -> bool:
        return card_id in self._by_id

    def __repr__(self) -> str:
        return f"Deck({len(self)} cards in {len(self._topics)} topics)"

    def topic(self, topic: str) -> TopicCards:
        """The topic file's content: title, notebook, skills, cards."""
        if topic not in self._topics:
            known = ", ".join(self._topics) or "(none: the deck is empty)"
            raise ValueError(f"topic must be one of {known}; got {topic!r}")
        return self._topics[topic]

    def by_topic(self, topic: str) -> tuple[Card, ...]:
        return self.topic(topic).cards

    def skills(self, topic: str) -> tuple[str, ...]:
        return self.topic(topic).skills

    def title(self, topic: str) -> str:
        return self.topic(topic).title

    def get(self, card_id: str) -> Card:
        try:
            return self._by_id[card_id]
        except KeyError:
            raise KeyError(f"card_id {card_id!r} is not in the deck") from None


def _topic_order(name: str) -> tuple[int, str]:
    stem = name[:-len(".json")]
    return (TOPICS.index(stem) if stem in TOPICS else len(TOPICS), name)


def load_deck(directory: str | os.PathLike | None = None) -> Deck:
    """Read and validate every ``*.json`` card file in ``directory`` (default: the package's ``cards`` folder).

    Raises ``DeckError`` naming each file, card id and field that is wrong (all problems at once).
    """
    if directory is None:
        root: Any = resources.files("curriculum").joinpath("cards")
        if not root.is_dir():
            return Deck()
    else:
        root = Path(directory)
        if not root.is_dir():
            raise DeckError(f"directory {str(root)!r} does not exist or is not a folder of card files")
    entries = sorted((entry for entry in root.iterdir() if entry.name.endswith(".json") and entry.is_file()),
                     key=lambda entry: _topic_order(entry.name))
    problems: list[str] = []
    topic_files: list[TopicCards] = []
    first_seen: dict[str, str] = {}
    for entry in entries:
        where = str(entry)
        stem = entry.name[:-len(".json")]
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problems.append(f"{where}: cannot be read as JSON ({err})")
            continue
        found = validate_topic_file(data, stem)
        if found:
            problems += [f"{where}: {problem}" for problem in found]
            continue
        cards = tuple(_card_from_json(card) for card in data["cards"])
        for card in cards:
            if card.id in first_seen:
                problems.append(f"{where}: card {card.id!r}: id already used in {first_seen[card.id]}")
            first_seen.setdefault(card.id, where)
        topic_files.append(TopicCards(topic=data["topic"], title=data["title"].strip(), notebook=data["notebook"],
                                      skills=tuple(skill.strip() for skill in data["skills"]), cards=cards,
                                      source=where))
    if problems:
        raise DeckError(f"{len(problems)} problem(s) in the card files:\n  " + "\n  ".join(problems))
    return Deck(topic_files)
