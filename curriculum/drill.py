"""Interview drill: the card deck, spaced-repetition scheduling, the progress file, notebook rendering, a widget.

The deck
    One JSON file per topic in ``curriculum/cards/<topic>.json`` (the format is checked by ``validate_card`` and
    ``validate_topic_file``). ``load_deck()`` reads and validates every file and raises ``DeckError`` listing each
    problem with its file and card id. Cards come in a stable order: topics in course order (``TOPICS``), cards in
    file order.

Scheduling (Leitner boxes, pure functions of an injected ``now``)
    A card sits in one of five boxes, 0 to 4, with review intervals ``INTERVALS_DAYS = (0, 3, 7, 14, 21)`` days.
    A card never reviewed is in box 0 and due now. After each card the candidate grades the answer as an
    interviewer would:

    - ``"strong"`` (strong hire): up one box, at most box 4 (a card in box 4 stays there); due
      ``now + INTERVALS_DAYS[new box]`` days, so a run of strong answers spaces reviews 3, 7, 14, 21, 21, ... days.
    - ``"lean"`` (lean hire): same box, but at least box 1, so the card comes back in 3 days at the earliest;
      due ``now + INTERVALS_DAYS[that box]`` days.
    - ``"no"`` (no hire): a miss; back to box 0 and due now (the start).

    Every review is recorded: time, grade, seconds taken, the time limit and whether the answer ran over it.
    ``due_cards`` lists the cards due at ``now`` (due time <= now), ordered by due time, then id.

The progress file
    One JSON file, ``platformdirs.user_data_dir("genmodels-curriculum")/drill_progress.json`` unless the
    environment variable ``CURRICULUM_DRILL_FILE`` (a file path) or an explicit path says otherwise::

        {"version": 1,
         "cards": {"<card id>": {"box": 1, "due": "2025-01-04T09:00:00Z",
                                 "reviews": [{"time": "...", "grade": "strong", "seconds": 95.2,
                                              "time_limit_s": 180, "over_limit": false}]}},
         "skills": [{"time": "2025-01-01T09:00:00Z", "ratings": {"vae: Derive the ELBO two ways": 3}}]}

    Times are ISO 8601 in UTC. A skill is keyed ``"<topic>: <skill>"`` so equal skill names in two topics stay
    apart. Writes are atomic (``curriculum.io.atomic_write_text``): a crash or a kill mid-write leaves the previous
    file intact. A save re-reads the file first and merges, so two sessions (a terminal and a notebook) do not
    erase each other's reviews of different cards. A file that cannot be read or parsed (bad JSON, wrong
    structure, another version) is never overwritten or deleted: it is moved aside to
    ``<name>.corrupt-<UTC timestamp>``, a notice naming both paths is kept in ``Progress.notices``, and progress
    starts fresh. Entries for card ids that are not in the deck (removed or renamed cards) are kept in the file
    as they are and ignored.

Skills
    Each topic file lists 2-4 skills; the candidate rates each 1 to 5 now and then. ``skill_progress`` gives each
    skill's first and latest rating and the change between them.

Terminal and notebook
    ``python -m curriculum drill`` runs ``run_session`` / ``run_skills`` / ``format_stats`` (see ``__main__``);
    ``render_cards(topic)`` renders a topic's cards as Markdown with the answers folded away; ``drill_widget``
    is the same drill as an ipywidgets app.

Environment variables
    ``CURRICULUM_DRILL_FILE``  the progress file (a path).
    ``CURRICULUM_DRILL_NOW``   testing/override hook: the command line reads "now" from it (ISO 8601, e.g.
                               ``2025-01-31T09:00:00Z``; no zone means UTC) instead of the system clock.
    ``CURRICULUM_DRILL_DECK``  testing/authoring hook: the command line reads cards from this folder instead of
                               the package's ``curriculum/cards``.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from .io import atomic_write_text

__all__ = [
    "TOPICS", "NOTEBOOKS", "SECTION_NAMES", "FOUNDATIONS_SECTIONS", "INTERVALS_DAYS", "MAX_BOX", "GRADES",
    "GRADE_LABELS", "FILE_ENV", "NOW_ENV", "DECK_ENV",
    "Card", "Rubric", "TopicCards", "Deck", "DeckError", "validate_card", "validate_topic_file", "load_deck",
    "section_names",
    "Review", "CardState", "next_box", "schedule", "review", "due_cards", "session_cards",
    "Progress", "ProgressError", "progress_path", "load_progress", "save_progress", "record_review",
    "skill_key", "record_skills", "latest_skill_ratings", "SkillTrend", "skill_progress",
    "DrillStats", "drill_stats", "format_stats", "current_time", "parse_time", "format_time",
    "run_session", "run_skills", "SessionResult",
    "render_cards", "DrillWidget", "drill_widget",
]

# --------------------------------------------------------------------------------------------------------------
# The fixed shape of the course
# --------------------------------------------------------------------------------------------------------------

TOPICS = ("foundations", "vae", "gan", "wgan", "flows", "ebm", "diffusion", "score", "latent_cfg",
          "flow_matching", "comparison")
NOTEBOOKS = {
    "foundations": "00_generative_problem.ipynb",
    "vae": "01_vae_elbo.ipynb",
    "gan": "02_gan_jsd.ipynb",
    "wgan": "03_wgan.ipynb",
    "flows": "04_realnvp.ipynb",
    "ebm": "05_ebm_langevin.ipynb",
    "diffusion": "06_ddpm_ddim.ipynb",
    "score": "07_score_matching.ipynb",
    "latent_cfg": "08_latent_diffusion_cfg.ipynb",
    "flow_matching": "09_flow_matching.ipynb",
    "comparison": "10_comparison.ipynb",
}
SECTION_NAMES = ("Intuition", "Derivation", "Check the derivation", "Implement", "Train and watch",
                 "Failure modes", "Explore", "Drill", "Cheat sheet")
FOUNDATIONS_SECTIONS = ("The task", "Derivation", "Check the derivation numerically",
                        "Sample-quality metrics and their noise floors", "Fit a model and watch it train",
                        "Failure modes", "Images", "The families of generative models", "Explore",
                        "How to use this course", "Drill", "Cheat sheet")

CARD_FIELDS = ("id", "topic", "section", "prompt", "time_limit_s", "answer", "rubric", "red_flags")
TOPIC_FIELDS = ("topic", "title", "notebook", "skills", "cards")
RUBRIC_LEVELS = ("strong_hire", "lean_hire", "no_hire")
TIME_LIMIT_S = (60, 600)
RED_FLAGS_COUNT = (2, 4)
SKILLS_COUNT = (2, 4)

INTERVALS_DAYS = (0, 3, 7, 14, 21)
MAX_BOX = len(INTERVALS_DAYS) - 1
GRADES = ("strong", "lean", "no")
GRADE_LABELS = {"strong": "strong hire", "lean": "lean hire", "no": "no hire"}
RATING_RANGE = (1, 5)
PROGRESS_VERSION = 1

FILE_ENV = "CURRICULUM_DRILL_FILE"
NOW_ENV = "CURRICULUM_DRILL_NOW"
DECK_ENV = "CURRICULUM_DRILL_DECK"
APP_NAME = "genmodels-curriculum"
PROGRESS_FILENAME = "drill_progress.json"

_ID_TAIL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def section_names(topic: str) -> tuple[str, ...]:
    """The section names a card of ``topic`` may name (notebook 00 has its own headings)."""
    return FOUNDATIONS_SECTIONS if topic == "foundations" else SECTION_NAMES


# --------------------------------------------------------------------------------------------------------------
# The deck
# --------------------------------------------------------------------------------------------------------------


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


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


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


def validate_card(card: object, topic: str | None = None) -> list[str]:
    """Problems with one card (empty when valid). ``topic``: the topic of the file the card is in, if known."""
    if not isinstance(card, Mapping):
        return [f"a card must be a JSON object, got {_kind(card)}"]
    problems = _field_problems(card, CARD_FIELDS, "a card")

    card_topic = card.get("topic")
    if "topic" in card:
        if card_topic not in TOPICS:
            problems.append(f"field 'topic' must be one of {', '.join(TOPICS)}; got {card_topic!r}")
        elif topic is not None and card_topic != topic:
            problems.append(f"field 'topic' is {card_topic!r} but the card is in the {topic!r} file")
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
            problems.append(f"field {name!r} must be a non-empty string, got {_kind(card[name])}")
    if "time_limit_s" in card:
        limit = card["time_limit_s"]
        low, high = TIME_LIMIT_S
        if isinstance(limit, bool) or not isinstance(limit, int) or not low <= limit <= high:
            problems.append(f"field 'time_limit_s' must be a whole number of seconds in [{low}, {high}], "
                            f"got {limit!r}")
    if "rubric" in card:
        rubric = card["rubric"]
        if not isinstance(rubric, Mapping):
            problems.append(f"field 'rubric' must be an object with {', '.join(RUBRIC_LEVELS)}; got {_kind(rubric)}")
        else:
            for level in RUBRIC_LEVELS:
                if level not in rubric:
                    problems.append(f"field 'rubric' is missing the level {level!r}")
                elif not _is_text(rubric[level]):
                    problems.append(f"field 'rubric.{level}' must be a non-empty string")
            extra = sorted(set(rubric) - set(RUBRIC_LEVELS), key=str)
            if extra:
                problems.append(f"field 'rubric' has unknown level(s) {', '.join(map(repr, extra))}; "
                                f"the levels are {', '.join(RUBRIC_LEVELS)}")
    if "red_flags" in card:
        flags = card["red_flags"]
        low, high = RED_FLAGS_COUNT
        if not isinstance(flags, list) or not low <= len(flags) <= high:
            got = f"{len(flags)} items" if isinstance(flags, list) else _kind(flags)
            problems.append(f"field 'red_flags' must be a list of {low} to {high} sentences, got {got}")
        if isinstance(flags, list) and not all(_is_text(flag) for flag in flags):
            problems.append("field 'red_flags' must hold non-empty strings only")
    return problems


def validate_topic_file(data: object, stem: str | None = None) -> list[str]:
    """Problems with one topic file's content (empty when valid). ``stem``: the file name without ``.json``."""
    if not isinstance(data, Mapping):
        return [f"the file must hold a JSON object, got {_kind(data)}"]
    problems = _field_problems(data, TOPIC_FIELDS, "a topic file")
    topic = data.get("topic")
    if "topic" in data:
        if topic not in TOPICS:
            problems.append(f"field 'topic' must be one of {', '.join(TOPICS)}; got {topic!r}")
        elif stem is not None and topic != stem:
            problems.append(f"field 'topic' is {topic!r} but the file is named {stem}.json")
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
        cards = data["cards"]
        if not isinstance(cards, list) or not cards:
            problems.append("field 'cards' must be a non-empty list of cards")
        else:
            seen: set[str] = set()
            home = topic if topic in TOPICS else None
            for number, card in enumerate(cards, start=1):
                card_id = card.get("id") if isinstance(card, Mapping) else None
                where = f"card {card_id!r}" if isinstance(card_id, str) else f"card #{number}"
                problems += [f"{where}: {problem}" for problem in validate_card(card, home)]
                if isinstance(card_id, str):
                    if card_id in seen:
                        problems.append(f"{where}: id used twice in this file")
                    seen.add(card_id)
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


# --------------------------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------------------------


def parse_time(text: object, name: str = "time") -> datetime:
    """An ISO 8601 time as an aware UTC datetime; a time without a zone is taken as UTC."""
    if not isinstance(text, str):
        raise ValueError(f"{name} must be an ISO 8601 time string, got {text!r}")
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 time such as 2025-01-31T09:00:00Z, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """``2025-01-31T09:00:00Z`` (UTC, whole seconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_time() -> datetime:
    """Now in UTC (whole seconds), or the time in ``CURRICULUM_DRILL_NOW`` when set (a testing/override hook)."""
    override = os.environ.get(NOW_ENV, "").strip()
    if override:
        return parse_time(override, NOW_ENV)
    return datetime.now(timezone.utc).replace(microsecond=0)


def _utc(now: datetime, name: str = "now") -> datetime:
    if not isinstance(now, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(now).__name__}")
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def _clock_text(seconds: float) -> str:
    whole = int(max(seconds, 0.0))
    return f"{whole // 60}:{whole % 60:02d}"


def _left_text(limit_s: float, elapsed: float) -> str:
    """``2:00 left`` (rounded up, so a fresh 2-minute card starts at 2:00) or ``over the limit by 0:05``."""
    left = limit_s - elapsed
    return f"{_clock_text(math.ceil(left))} left" if left >= 0 else f"over the limit by {_clock_text(-left)}"


def _when_text(due: datetime, now: datetime) -> str:
    if due <= now:
        return "now"
    days = (due - now) / timedelta(days=1)
    count = f"{days:.0f} day{'s' if round(days) != 1 else ''}" if days >= 1 else f"{days * 24:.0f} h"
    return f"in {count} ({due:%Y-%m-%d})"


# --------------------------------------------------------------------------------------------------------------
# Scheduling: pure functions
# --------------------------------------------------------------------------------------------------------------


def _check_grade(grade: object) -> str:
    if grade not in GRADES:
        raise ValueError(f"grade must be one of {', '.join(map(repr, GRADES))}; got {grade!r}")
    return grade  # type: ignore[return-value]


@dataclass(frozen=True)
class Review:
    """One answer: when, the self-grade, seconds taken, the card's time limit and whether it ran over."""

    time: datetime
    grade: str
    seconds: float
    over_limit: bool
    time_limit_s: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"time": format_time(self.time), "grade": self.grade,
                                "seconds": round(float(self.seconds), 1)}
        if self.time_limit_s is not None:
            data["time_limit_s"] = self.time_limit_s
        data["over_limit"] = self.over_limit
        return data


@dataclass(frozen=True)
class CardState:
    """Where a card stands: its box (0-4), when it is due, and its reviews (oldest first)."""

    box: int = 0
    due: datetime | None = None
    reviews: tuple[Review, ...] = ()

    @property
    def is_new(self) -> bool:
        return not self.reviews

    def to_json(self) -> dict[str, Any]:
        return {"box": self.box, "due": format_time(self.due) if self.due else None,
                "reviews": [item.to_json() for item in self.reviews]}


def next_box(box: int, grade: str) -> int:
    """strong: up one (at most ``MAX_BOX``); lean: same box but at least 1; no: back to 0."""
    _check_grade(grade)
    if isinstance(box, bool) or not isinstance(box, int) or not 0 <= box <= MAX_BOX:
        raise ValueError(f"box must be an integer in [0, {MAX_BOX}], got {box!r}")
    if grade == "strong":
        return min(box + 1, MAX_BOX)
    if grade == "lean":
        return max(box, 1)
    return 0


def schedule(state: CardState, grade: str, now: datetime) -> CardState:
    """The new box and due time after ``grade`` at ``now`` (reviews unchanged): due = now + interval of the box."""
    now = _utc(now)
    box = next_box(state.box, grade)
    return CardState(box=box, due=now + timedelta(days=INTERVALS_DAYS[box]), reviews=state.reviews)


def review(state: CardState, grade: str, now: datetime, *, seconds: float = 0.0,
           time_limit_s: int | None = None) -> CardState:
    """``schedule`` plus the review record (``over_limit`` when ``seconds > time_limit_s``)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise ValueError(f"seconds must be a non-negative number, got {seconds!r}")
    now = _utc(now)
    over = time_limit_s is not None and seconds > time_limit_s
    moved = schedule(state, grade, now)
    record = Review(time=now, grade=grade, seconds=float(seconds), over_limit=over, time_limit_s=time_limit_s)
    return CardState(box=moved.box, due=moved.due, reviews=state.reviews + (record,))


# --------------------------------------------------------------------------------------------------------------
# The progress store
# --------------------------------------------------------------------------------------------------------------


class ProgressError(OSError):
    """The progress file cannot be used (for example it is unreadable and cannot be moved aside)."""


class _BadProgress(ValueError):
    """The file parsed as JSON but does not have the progress structure."""


def _review_from_json(data: object, where: str) -> Review:
    if not isinstance(data, Mapping):
        raise _BadProgress(f"{where} must be an object, got {_kind(data)}")
    for key in ("time", "grade", "seconds", "over_limit"):
        if key not in data:
            raise _BadProgress(f"{where} is missing {key!r}")
    try:
        moment = parse_time(data["time"], f"{where}.time")
    except ValueError as err:
        raise _BadProgress(str(err)) from None
    if data["grade"] not in GRADES:
        raise _BadProgress(f"{where}.grade must be one of {', '.join(GRADES)}, got {data['grade']!r}")
    seconds = data["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise _BadProgress(f"{where}.seconds must be a non-negative number, got {seconds!r}")
    if not isinstance(data["over_limit"], bool):
        raise _BadProgress(f"{where}.over_limit must be true or false, got {data['over_limit']!r}")
    limit = data.get("time_limit_s")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise _BadProgress(f"{where}.time_limit_s must be an integer, got {limit!r}")
    return Review(time=moment, grade=data["grade"], seconds=float(seconds), over_limit=data["over_limit"],
                  time_limit_s=limit)


def _state_from_json(data: object, where: str) -> CardState:
    if not isinstance(data, Mapping):
        raise _BadProgress(f"{where} must be an object, got {_kind(data)}")
    box = data.get("box")
    if isinstance(box, bool) or not isinstance(box, int) or not 0 <= box <= MAX_BOX:
        raise _BadProgress(f"{where}.box must be an integer in [0, {MAX_BOX}], got {box!r}")
    due = data.get("due")
    try:
        due_time = None if due is None else parse_time(due, f"{where}.due")
    except ValueError as err:
        raise _BadProgress(str(err)) from None
    reviews = data.get("reviews", [])
    if not isinstance(reviews, list):
        raise _BadProgress(f"{where}.reviews must be a list, got {_kind(reviews)}")
    return CardState(box=box, due=due_time,
                     reviews=tuple(_review_from_json(item, f"{where}.reviews[{i}]") for i, item in enumerate(reviews)))


def _check_skill_entry(entry: object, where: str) -> None:
    if not isinstance(entry, Mapping) or "time" not in entry or not isinstance(entry.get("ratings"), Mapping):
        raise _BadProgress(f"{where} must be an object with 'time' and 'ratings'")
    try:
        parse_time(entry["time"], f"{where}.time")
    except ValueError as err:
        raise _BadProgress(str(err)) from None
    low, high = RATING_RANGE
    for skill, rating in entry["ratings"].items():
        if isinstance(rating, bool) or not isinstance(rating, int) or not low <= rating <= high:
            raise _BadProgress(f"{where}.ratings[{skill!r}] must be an integer in [{low}, {high}], got {rating!r}")


def _check_structure(data: object) -> None:
    """Raise ``_BadProgress`` unless ``data`` is a version-1 progress document."""
    if not isinstance(data, Mapping):
        raise _BadProgress(f"the top level must be an object, got {_kind(data)}")
    if data.get("version") != PROGRESS_VERSION:
        raise _BadProgress(f"'version' must be {PROGRESS_VERSION}, got {data.get('version')!r}")
    cards = data.get("cards")
    if not isinstance(cards, Mapping):
        raise _BadProgress(f"'cards' must be an object mapping card ids to their state, got {_kind(cards)}")
    for card_id, entry in cards.items():
        _state_from_json(entry, f"cards[{card_id!r}]")
    skills = data.get("skills", [])
    if not isinstance(skills, list):
        raise _BadProgress(f"'skills' must be a list, got {_kind(skills)}")
    for index, entry in enumerate(skills):
        _check_skill_entry(entry, f"skills[{index}]")


@dataclass
class Progress:
    """The learner's progress: card states and skill ratings, as stored (entries are kept as plain JSON).

    Entries are parsed on demand, so an entry this session does not touch (an old card id, say) goes back to
    the file exactly as it came.
    """

    cards: dict[str, dict] = field(default_factory=dict)
    skills: list[dict] = field(default_factory=list)
    path: Path | None = None
    notices: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set, repr=False)
    skills_changed: bool = field(default=False, repr=False)

    def state(self, card_id: str, now: datetime | None = None) -> CardState:
        """The card's state; a card never reviewed is in box 0 and due ``now``."""
        if card_id in self.cards:
            state = _state_from_json(self.cards[card_id], f"cards[{card_id!r}]")
            if state.due is not None:
                return state
            return CardState(box=state.box, due=_utc(now) if now is not None else None, reviews=state.reviews)
        return CardState(box=0, due=_utc(now) if now is not None else None)

    def set_state(self, card_id: str, state: CardState) -> None:
        self.cards[card_id] = state.to_json()
        self.touched.add(card_id)

    @property
    def dirty(self) -> bool:
        """Whether there is something that is not in the file yet."""
        return bool(self.touched) or self.skills_changed

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": PROGRESS_VERSION}
        data.update({key: value for key, value in self.extra.items() if key not in ("version", "cards", "skills")})
        data["cards"] = {card_id: self.cards[card_id] for card_id in sorted(self.cards)}
        data["skills"] = list(self.skills)
        return data


def progress_path(path: str | os.PathLike | None = None) -> Path:
    """The progress file: ``path`` if given, else ``$CURRICULUM_DRILL_FILE``, else the user data folder."""
    if path is not None:
        return Path(path).expanduser()
    override = os.environ.get(FILE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME)) / PROGRESS_FILENAME


def _progress_from_json(data: Mapping[str, Any], path: Path | None) -> Progress:
    extra = {key: value for key, value in data.items() if key not in ("version", "cards", "skills")}
    return Progress(cards={key: dict(value) for key, value in data["cards"].items()},
                    skills=[dict(entry) for entry in data.get("skills", [])], path=path, extra=extra)


def _read_progress(path: Path) -> tuple[dict | None, str | None]:
    """(data, None) for a good file, (None, None) for no file, (None, reason) for a bad one."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as err:
        return None, f"cannot be read ({err.strerror or err})"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"is not valid JSON ({err})"
    try:
        _check_structure(data)
    except _BadProgress as err:
        return None, f"is not a drill progress file ({err})"
    return data, None


def _move_aside(path: Path, reason: str, now: datetime | None) -> str:
    """Rename a bad progress file to ``<name>.corrupt-<UTC stamp>``; return the notice to show."""
    stamp = _utc(now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while os.path.lexists(aside):
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
        number += 1
    try:
        os.replace(path, aside)
    except OSError as err:
        raise ProgressError(f"progress file {str(path)!r} {reason}, and it could not be moved aside to "
                            f"{str(aside)!r} ({err.strerror or err}). Move or repair it yourself, or choose "
                            f"another file with --file or {FILE_ENV}.") from err
    return (f"Progress file {path} {reason}. It was moved aside to {aside} (nothing was deleted); "
            f"starting with fresh progress.")


def load_progress(path: str | os.PathLike | None = None, *, now: datetime | None = None) -> Progress:
    """Read the progress file (see ``progress_path``); a missing file gives empty progress.

    A file that cannot be read or parsed is moved aside to ``<name>.corrupt-<UTC time of now>`` and a notice
    naming both paths is added to ``Progress.notices``; the returned progress is empty. ``ProgressError`` only
    when the bad file cannot even be moved aside.
    """
    path = progress_path(path)
    data, reason = _read_progress(path)
    if data is not None:
        return _progress_from_json(data, path)
    progress = Progress(path=path)
    if reason is not None:
        progress.notices.append(_move_aside(path, reason, now))
    return progress


def _atomic_write_text(path: Path, text: str) -> None:

    atomic_write_text(path, text)


def save_progress(progress: Progress, path: str | os.PathLike | None = None, *,
                  now: datetime | None = None) -> Path:
    """Write ``progress`` atomically to ``path`` (default: where it was loaded from, else ``progress_path()``).

    The file on disk is read first and merged: entries this session changed win, every other entry on disk
    (written by another session meanwhile) is kept, skill entries are united. If the file on disk has gone bad
    it is moved aside first (notice in ``progress.notices``). Afterwards ``progress`` holds what was written.
    """
    target = Path(path).expanduser() if path is not None else (progress.path or progress_path())
    on_disk, reason = _read_progress(target)
    if reason is not None:
        progress.notices.append(_move_aside(target, reason, now))
    merged_cards = dict(progress.cards)
    merged_skills = list(progress.skills)
    merged_extra = dict(progress.extra)
    if on_disk is not None:
        merged_cards.update(on_disk["cards"])
        merged_cards.update({card_id: progress.cards[card_id] for card_id in progress.touched
                             if card_id in progress.cards})
        disk_skills = [dict(entry) for entry in on_disk.get("skills", [])]
        merged_skills = disk_skills + [entry for entry in progress.skills if entry not in disk_skills]
        merged_extra = {**{k: v for k, v in on_disk.items() if k not in ("version", "cards", "skills")},
                        **progress.extra}
    merged_skills.sort(key=lambda entry: parse_time(entry["time"]))
    progress.cards, progress.skills, progress.extra = merged_cards, merged_skills, merged_extra
    _atomic_write_text(target, json.dumps(progress.to_json(), indent=2, ensure_ascii=False) + "\n")
    progress.path = target
    progress.touched.clear()
    progress.skills_changed = False
    return target


def record_review(progress: Progress, card: Card, grade: str, now: datetime, *, seconds: float = 0.0) -> CardState:
    """Schedule ``card`` after ``grade`` and record the review in ``progress`` (not saved yet)."""
    now = _utc(now)
    state = review(progress.state(card.id, now), grade, now, seconds=seconds, time_limit_s=card.time_limit_s)
    progress.set_state(card.id, state)
    return state


def due_cards(deck: Deck | Iterable[Card], progress: Progress, now: datetime, topic: str | None = None) -> list[Card]:
    """Cards due at ``now`` (new cards included), ordered by due time, then id."""
    return session_cards(deck, progress, now, topic=topic, due_only=True)


def session_cards(deck: Deck | Iterable[Card], progress: Progress, now: datetime, *, topic: str | None = None,
                  due_only: bool = False, limit: int | None = None) -> list[Card]:
    """The cards of a session: all (or only the due) cards of the deck or topic, by due time then id."""
    now = _utc(now)
    if topic is not None:
        if not isinstance(deck, Deck):
            raise TypeError("topic needs a Deck, got a plain list of cards")
        cards: Iterable[Card] = deck.by_topic(topic)
    else:
        cards = deck
    keyed = sorted(((progress.state(card.id, now).due, card.id, card) for card in cards), key=lambda k: k[:2])
    chosen = [card for due, _, card in keyed if not due_only or due <= now]
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        chosen = chosen[:limit]
    return chosen


# --------------------------------------------------------------------------------------------------------------
# Skills
# --------------------------------------------------------------------------------------------------------------


def skill_key(topic: str, skill: str) -> str:
    """How a skill is named in the progress file: ``"<topic>: <skill>"``."""
    return f"{topic}: {skill}"


def record_skills(progress: Progress, ratings: Mapping[str, int], now: datetime) -> dict | None:
    """Store one self-assessment (``{skill key: 1..5}``) with its time; nothing is stored for no ratings."""
    low, high = RATING_RANGE
    for skill, rating in ratings.items():
        if isinstance(rating, bool) or not isinstance(rating, int) or not low <= rating <= high:
            raise ValueError(f"ratings[{skill!r}] must be an integer in [{low}, {high}], got {rating!r}")
    if not ratings:
        return None
    entry = {"time": format_time(_utc(now)), "ratings": dict(ratings)}
    progress.skills.append(entry)
    progress.skills_changed = True
    return entry


@dataclass(frozen=True)
class SkillTrend:
    """One skill's self-ratings over time."""

    skill: str
    first: int
    latest: int
    change: int
    first_time: datetime
    latest_time: datetime
    history: tuple[tuple[datetime, int], ...]


def skill_progress(progress: Progress) -> dict[str, SkillTrend]:
    """Per skill key: first rating, latest rating, change (latest - first) and the whole history."""
    history: dict[str, list[tuple[datetime, int]]] = {}
    entries = sorted(progress.skills, key=lambda entry: parse_time(entry["time"]))
    for entry in entries:
        moment = parse_time(entry["time"])
        for skill, rating in entry["ratings"].items():
            history.setdefault(skill, []).append((moment, rating))
    return {skill: SkillTrend(skill=skill, first=points[0][1], latest=points[-1][1],
                              change=points[-1][1] - points[0][1], first_time=points[0][0],
                              latest_time=points[-1][0], history=tuple(points))
            for skill, points in history.items()}


def latest_skill_ratings(progress: Progress) -> dict[str, int]:
    return {skill: trend.latest for skill, trend in skill_progress(progress).items()}


# --------------------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillStats:
    cards: int
    per_box: tuple[int, ...]
    new: int
    due_now: int
    due_next_7_days: int
    reviews: int
    grades_by_topic: dict[str, dict[str, int]]
    skills: dict[str, SkillTrend]
    unrated_skills: int


def drill_stats(deck: Deck, progress: Progress, now: datetime, topic: str | None = None) -> DrillStats:
    """Counts for ``--stats``. ``due_next_7_days`` counts cards due after now and within 7 days."""
    now = _utc(now)
    topics = [topic] if topic is not None else list(deck.topics)
    per_box = [0] * len(INTERVALS_DAYS)
    new = due_now = soon = reviews = 0
    grades: dict[str, dict[str, int]] = {}
    for name in topics:
        counts = dict.fromkeys(GRADES, 0)
        for card in deck.by_topic(name):
            state = progress.state(card.id, now)
            per_box[state.box] += 1
            new += state.is_new
            due_now += state.due <= now
            soon += now < state.due <= now + timedelta(days=7)
            reviews += len(state.reviews)
            for item in state.reviews:
                counts[item.grade] += 1
        grades[name] = counts
    wanted = {skill_key(name, skill) for name in topics for skill in deck.skills(name)}
    trends = {key: trend for key, trend in skill_progress(progress).items() if key in wanted}
    return DrillStats(cards=sum(per_box), per_box=tuple(per_box), new=new, due_now=due_now, due_next_7_days=soon,
                      reviews=reviews, grades_by_topic=grades, skills=trends,
                      unrated_skills=len(wanted - set(trends)))


def format_stats(deck: Deck, progress: Progress, now: datetime, topic: str | None = None) -> str:
    """The ``--stats`` summary as text. Accuracy = share of reviews not graded "no hire"."""
    stats = drill_stats(deck, progress, now, topic)
    scope = f"topic {topic}" if topic else f"{len(deck.topics)} topics"
    lines = [f"Drill progress at {format_time(now)} ({stats.cards} cards, {scope})",
             f"Progress file: {progress.path}", "", "Cards per box (review interval):"]
    for box, count in enumerate(stats.per_box):
        note = f"  ({stats.new} never reviewed)" if box == 0 and stats.new else ""
        lines.append(f"  box {box} ({INTERVALS_DAYS[box]:>2} days): {count:>4}{note}")
    lines += ["", f"Due now: {stats.due_now}", f"Due in the next 7 days (after now): {stats.due_next_7_days}",
              f"Reviews done: {stats.reviews}", "",
              "Accuracy by topic (reviews: strong / lean / no hire; accuracy = not a no hire):"]
    width = max((len(name) for name in stats.grades_by_topic), default=5)
    for name, counts in stats.grades_by_topic.items():
        total = sum(counts.values())
        if total:
            accuracy = f"{100 * (total - counts['no']) / total:.0f}%"
            lines.append(f"  {name:<{width}}  {total:>3} reviews: {counts['strong']} / {counts['lean']} / "
                         f"{counts['no']}   accuracy {accuracy}")
        else:
            lines.append(f"  {name:<{width}}    0 reviews")
    lines += ["", "Skill ratings (first -> latest):"]
    if stats.skills:
        for key, trend in sorted(stats.skills.items()):
            lines.append(f"  {key}: {trend.first} -> {trend.latest} ({trend.change:+d}) "
                         f"since {trend.first_time:%Y-%m-%d}")
    else:
        lines.append("  none yet")
    if stats.unrated_skills:
        lines.append(f"  {stats.unrated_skills} skill(s) not rated yet: python -m curriculum drill --skills")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# The terminal session
# --------------------------------------------------------------------------------------------------------------


class _Countdown:
    """Rewrites one terminal line (``\\r``) with the time left, once per tick, until stopped."""

    def __init__(self, limit_s: float, out: TextIO, timer: Callable[[], float], tick_s: float = 1.0):
        self.limit_s, self.out, self.timer, self.tick_s = limit_s, out, timer, tick_s
        self.start = timer()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="drill-countdown", daemon=True)

    def text(self) -> str:
        return f"  {_left_text(self.limit_s, self.timer() - self.start)} "

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                self.out.write("\r" + self.text().ljust(30))
                self.out.flush()
            if self._stop.wait(self.tick_s):
                return

    def begin(self) -> _Countdown:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            pass
        self._thread.join(timeout=2 * self.tick_s + 1)


@dataclass
class SessionResult:
    """What a terminal session did: the (card id, grade) pairs in order and how it ended."""

    graded: list[tuple[str, str]] = field(default_factory=list)
    ended: str = "done"  # "done", "quit" or "eof"


def _grade_from(text: str) -> str | None:
    answers = {"s": "strong", "strong": "strong", "l": "lean", "lean": "lean", "n": "no", "no": "no"}
    return answers.get(text.strip().lower())


def _card_text(card: Card) -> str:
    flags = "\n".join(f"  - {flag}" for flag in card.red_flags)
    rubric = card.rubric
    return (f"\n--- Model answer ---\n{card.answer}\n\n--- Rubric ---\n"
            f"Strong hire: {rubric.strong_hire}\nLean hire:   {rubric.lean_hire}\nNo hire:     {rubric.no_hire}\n"
            f"\n--- Red flags (sentences that lose the room) ---\n{flags}\n")


def _console(stdin: TextIO, stdout: TextIO) -> tuple[Callable[..., None], Callable[[], str]]:
    """``say`` writes and flushes; ``read`` reads one line ('' at EOF) and, when the input is not a terminal
    (a pipe or a file), echoes it so that a transcript reads like the interactive session."""
    echo = not _isatty(stdin)

    def say(text: str = "", end: str = "\n") -> None:
        stdout.write(text + end)
        stdout.flush()

    def read() -> str:
        line = stdin.readline()
        if echo and line:
            say(line.rstrip("\r\n"))
        return line

    return say, read


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _say_notices(progress: Progress, say: Callable[[str], None]) -> None:
    for notice in progress.notices:
        say(f"Note: {notice}")
    progress.notices.clear()


def run_session(cards: Sequence[Card], progress: Progress, *, deck: Deck | None = None,
                clock: Callable[[], datetime] = current_time, stdin: TextIO | None = None,
                stdout: TextIO | None = None, timer: Callable[[], float] = time.monotonic,
                live_countdown: bool | None = None, tick_s: float = 1.0) -> SessionResult:
    """Drill ``cards`` in the terminal, saving ``progress`` after every graded card.

    For each card: the prompt and its time limit; a live countdown on a terminal (``live_countdown``, default:
    both streams are TTYs) until Enter; the model answer, rubric and red flags; the self-grade s/l/n (asked
    again on anything else; q quits). EOF ends the session cleanly. Progress is saved before returning.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    if live_countdown is None:
        live_countdown = _isatty(stdin) and _isatty(stdout)
    result = SessionResult()
    say, read = _console(stdin, stdout)

    total = len(cards)
    say(f"Drill: {total} card{'s' if total != 1 else ''}. Answer out loud or on paper within the time limit, "
        f"press Enter for the model answer, then grade yourself like an interviewer:")
    say("  s = strong hire, l = lean hire, n = no hire; q quits (progress is saved after every card).")
    for number, card in enumerate(cards, start=1):
        title = deck.title(card.topic) if deck is not None and card.topic in deck.topics else card.topic
        state = progress.state(card.id, clock())
        say(f"\n[{number}/{total}] {card.id}  ({title} · section: {card.section} · box {state.box})")
        say(f"Time limit: {_clock_text(card.time_limit_s)}")
        say(textwrap.indent(textwrap.fill(card.prompt, width=96), "  ") if "\n" not in card.prompt
            else textwrap.indent(card.prompt, "  "))
        say("\nThink, then press Enter to reveal the model answer (q + Enter quits).")
        countdown = _Countdown(card.time_limit_s, stdout, timer, tick_s).begin() if live_countdown else None
        started = timer()
        try:
            line = read()
        finally:  # Ctrl-C included: the countdown must not keep writing
            if countdown is not None:
                countdown.stop()
        elapsed = timer() - started
        if countdown is not None:
            say()
        if line == "":
            result.ended = "eof"
            break
        if line.strip().lower() in ("q", "quit"):
            result.ended = "quit"
            break
        over = elapsed > card.time_limit_s
        say(f"Time: {_clock_text(elapsed)} of {_clock_text(card.time_limit_s)}"
            + (f" (over the limit by {_clock_text(elapsed - card.time_limit_s)})" if over else ""))
        say(_card_text(card))
        grade = None
        while grade is None:
            say("Grade [s = strong hire, l = lean hire, n = no hire, q = quit]: ", end="")
            answer = read()
            if answer == "":
                result.ended = "eof"
                break
            if answer.strip().lower() in ("q", "quit"):
                result.ended = "quit"
                break
            grade = _grade_from(answer)
            if grade is None:
                say(f"Please type s, l, n or q (got {answer.strip()!r}).")
        if grade is None:
            if result.ended == "eof":
                say()
            break
        now = clock()
        new_state = record_review(progress, card, grade, now, seconds=elapsed)
        save_progress(progress, now=now)
        result.graded.append((card.id, grade))
        say(f"-> {GRADE_LABELS[grade]}: box {new_state.box}, next review {_when_text(new_state.due, now)}. Saved.")
        _say_notices(progress, say)
    if progress.dirty:
        save_progress(progress, now=clock())
        _say_notices(progress, say)
    counts = {grade: sum(1 for _, g in result.graded if g == grade) for grade in GRADES}
    how = {"done": "Session complete", "quit": "Session ended (q)", "eof": "Session ended (end of input)"}
    say(f"\n{how[result.ended]}: {len(result.graded)} card(s) graded (strong {counts['strong']}, "
        f"lean {counts['lean']}, no {counts['no']}). Progress file: {progress.path}")
    return result


def run_skills(deck: Deck, progress: Progress, *, topics: Sequence[str] | None = None,
               clock: Callable[[], datetime] = current_time, stdin: TextIO | None = None,
               stdout: TextIO | None = None) -> dict[str, int]:
    """Ask for a 1-5 rating of each skill; Enter keeps the previous rating (or skips a skill never rated).

    Invalid input is asked again; q or EOF stops early. The new ratings are stored as one timestamped entry
    and saved; returns them.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    say, read = _console(stdin, stdout)
    latest = latest_skill_ratings(progress)
    ratings: dict[str, int] = {}
    say("Skills self-assessment: rate each skill from 1 (cannot do it yet) to 5 (could teach it).")
    say("Enter keeps the previous rating; q stops (ratings given so far are saved).")
    stopped = False
    for topic in topics if topics is not None else deck.topics:
        if stopped:
            break
        say(f"\n{deck.title(topic)} ({topic})")
        for skill in deck.skills(topic):
            key = skill_key(topic, skill)
            before = latest.get(key)
            hint = f"previous {before}, Enter keeps it" if before else "not rated yet, Enter skips"
            while True:
                say(f"  {skill} [{hint}]: ", end="")
                line = read()
                text = line.strip().lower()
                if line == "" or text in ("q", "quit"):
                    stopped = True
                    if line == "":
                        say()
                    break
                if text == "":
                    break
                if text in ("1", "2", "3", "4", "5"):
                    ratings[key] = int(text)
                    break
                say(f"  Please type a whole number from 1 to 5, Enter to keep, or q (got {line.strip()!r}).")
            if stopped:
                break
    if ratings:
        now = clock()
        record_skills(progress, ratings, now)
        save_progress(progress, now=now)
        say(f"\nSaved {len(ratings)} rating(s) to {progress.path}.")
        _say_notices(progress, say)
    else:
        say("\nNo new ratings.")
    return ratings


# --------------------------------------------------------------------------------------------------------------
# Notebook rendering
# --------------------------------------------------------------------------------------------------------------


class _MarkdownText:
    """Fallback when IPython is missing: anything with ``_repr_markdown_`` renders in Jupyter."""

    def __init__(self, data: str):
        self.data = data

    def _repr_markdown_(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return self.data


def _markdown(text: str):
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython ships with the course environment
        return _MarkdownText(text)
    return Markdown(text)


def _limit_words(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def _folded_markdown(card: Card) -> str:
    """Model answer, rubric and red flags as Markdown (blank lines keep it rendering inside <details>)."""
    rubric = card.rubric
    flags = "\n".join(f"- {flag}" for flag in card.red_flags)
    return (f"**Model answer**\n\n{card.answer}\n\n**Rubric**\n\n- **Strong hire:** {rubric.strong_hire}\n"
            f"- **Lean hire:** {rubric.lean_hire}\n- **No hire:** {rubric.no_hire}\n\n"
            f"**Red flags** (sentences that lose the room)\n\n{flags}")


def render_cards(topic: str, deck: Deck | None = None):
    """A topic's cards as Markdown: prompt, time limit and section; answer, rubric and red flags folded away.

    Returns ``IPython.display.Markdown`` (its text is ``.data``); the output has no timestamps.
    """
    deck = load_deck() if deck is None else deck
    entry = deck.topic(topic)
    total = len(entry.cards)
    parts = [f"**Interview drill: {entry.title}** ({total} card{'s' if total != 1 else ''}). Answer each prompt "
             f"out loud or on paper within its time limit, then open the fold and grade yourself against the "
             f"rubric. Spaced repetition in a terminal: `python -m curriculum drill --topic {topic}`."]
    for number, card in enumerate(entry.cards, start=1):
        quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in card.prompt.splitlines())
        parts.append(f"---\n\n**Card {number} of {total}** · `{card.id}` · section: {card.section} · "
                     f"time limit: {_limit_words(card.time_limit_s)}\n\n{quoted}\n\n"
                     f"<details>\n<summary>Model answer, rubric and red flags</summary>\n\n"
                     f"{_folded_markdown(card)}\n\n</details>")
    return _markdown("\n\n".join(parts) + "\n")


# --------------------------------------------------------------------------------------------------------------
# The ipywidgets drill
# --------------------------------------------------------------------------------------------------------------


def _markdown_output(text: str) -> tuple[dict, ...]:
    return ({"output_type": "display_data", "data": {"text/markdown": text, "text/plain": text}, "metadata": {}},)


class DrillWidget:
    """The drill as a notebook app: prompt, countdown, reveal, grade buttons, then the next card.

    Grades are scheduled and saved through the same progress file as the terminal command. Displaying the
    object shows the app; ``box`` is the ipywidgets container. Buttons call ``reveal()`` and ``grade(g)``, which
    tests may call directly. The countdown runs in a background thread and stops at reveal (or ``close()``).
    """

    def __init__(self, topic: str | None = None, due_only: bool = False,
                 progress_file: str | os.PathLike | None = None, *, limit: int | None = None,
                 deck: Deck | None = None, clock: Callable[[], datetime] = current_time,
                 timer: Callable[[], float] = time.monotonic, tick_s: float = 1.0, countdown: bool = True):
        import ipywidgets as widgets

        self.deck = load_deck() if deck is None else deck
        if topic is not None:
            self.deck.topic(topic)  # a clear error naming the valid topics
        self.topic, self.clock, self.timer, self.tick_s, self.use_countdown = topic, clock, timer, tick_s, countdown
        now = clock()
        self.progress = load_progress(progress_file, now=now)
        self.cards = session_cards(self.deck, self.progress, now, topic=topic, due_only=due_only, limit=limit)
        self.index = 0
        self.graded: list[tuple[str, str]] = []
        self.revealed = False
        self.elapsed = 0.0
        self._started = 0.0
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

        self.header = widgets.HTML()
        self.prompt = widgets.Output()
        self.countdown = widgets.Label()
        self.reveal_button = widgets.Button(description="Reveal answer", button_style="info", icon="eye")
        self.answer = widgets.Output()
        self.grade_buttons = {
            "strong": widgets.Button(description="Strong hire", button_style="success"),
            "lean": widgets.Button(description="Lean hire", button_style="warning"),
            "no": widgets.Button(description="No hire", button_style="danger"),
        }
        self.grade_row = widgets.HBox(list(self.grade_buttons.values()))
        self.status = widgets.HTML()
        self.box = widgets.VBox([self.header, self.prompt, self.countdown, self.reveal_button, self.answer,
                                 self.grade_row, self.status])
        self.reveal_button.on_click(lambda _button: self.reveal())
        for grade, button in self.grade_buttons.items():
            button.on_click(lambda _button, grade=grade: self.grade(grade))
        if self.progress.notices:
            self.status.value = "<br>".join(_escape(notice) for notice in self.progress.notices)
            self.progress.notices.clear()
        self._show_card()

    # what the front end displays
    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)

    @property
    def card(self) -> Card | None:
        return self.cards[self.index] if self.index < len(self.cards) else None

    @property
    def done(self) -> bool:
        return self.index >= len(self.cards)

    def _show(self, widget, visible: bool) -> None:
        widget.layout.display = None if visible else "none"

    def _show_card(self) -> None:
        card = self.card
        if card is None:
            self._show_summary()
            return
        self.revealed = False
        title = self.deck.title(card.topic) if card.topic in self.deck.topics else card.topic
        self.header.value = (f"<b>Card {self.index + 1} of {len(self.cards)}</b> · <code>{_escape(card.id)}</code> · "
                             f"{_escape(title)} · section: {_escape(card.section)} · "
                             f"time limit {_clock_text(card.time_limit_s)}")
        self.prompt.outputs = _markdown_output(card.prompt)
        self.answer.outputs = ()
        self._show(self.reveal_button, True)
        self._show(self.grade_row, False)
        self._started = self.timer()
        self.countdown.value = f"Time limit {_clock_text(card.time_limit_s)}"
        if self.use_countdown:
            self._start_countdown(card.time_limit_s)

    def _countdown_text(self, limit_s: int) -> str:
        return _left_text(limit_s, self.timer() - self._started)

    def _start_countdown(self, limit_s: int) -> None:
        stop = threading.Event()

        def tick() -> None:
            while not stop.is_set():
                self.countdown.value = self._countdown_text(limit_s)
                if stop.wait(self.tick_s):
                    break

        self._stop = stop
        self._thread = threading.Thread(target=tick, name="drill-widget-countdown", daemon=True)
        self._thread.start()

    def _stop_countdown(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.tick_s + 1)
        self._stop = self._thread = None

    @property
    def countdown_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def reveal(self) -> None:
        """Stop the clock and show the model answer, rubric and red flags, then the grade buttons."""
        card = self.card
        if card is None or self.revealed:
            return
        self._stop_countdown()
        self.elapsed = self.timer() - self._started
        self.revealed = True
        over = self.elapsed > card.time_limit_s
        self.countdown.value = (f"Time: {_clock_text(self.elapsed)} of {_clock_text(card.time_limit_s)}"
                                + (" (over the limit)" if over else ""))
        self.answer.outputs = _markdown_output(_folded_markdown(card))
        self._show(self.reveal_button, False)
        self._show(self.grade_row, True)

    def grade(self, grade: str) -> CardState | None:
        """Schedule the shown card, save the progress file, and move to the next card."""
        _check_grade(grade)
        card = self.card
        if card is None or not self.revealed:
            return None
        now = self.clock()
        state = record_review(self.progress, card, grade, now, seconds=self.elapsed)
        try:
            save_progress(self.progress, now=now)
        except OSError as err:
            self.status.value = f"<b>Could not save the progress file</b>: {_escape(str(err))}"
        else:
            notices = "".join(f"<br>{_escape(notice)}" for notice in self.progress.notices)
            self.progress.notices.clear()
            self.status.value = (f"{_escape(card.id)}: {GRADE_LABELS[grade]}, box {state.box}, next review "
                                 f"{_when_text(state.due, now)}. Saved to <code>{_escape(str(self.progress.path))}"
                                 f"</code>.{notices}")
        self.graded.append((card.id, grade))
        self.index += 1
        self._show_card()
        return state

    def _show_summary(self) -> None:
        self._stop_countdown()
        self._show(self.reveal_button, False)
        self._show(self.grade_row, False)
        self.prompt.outputs = ()
        self.answer.outputs = ()
        self.countdown.value = ""
        if not self.cards:
            self.header.value = "<b>Nothing to review</b>: no cards are due (or the deck has none for this topic)."
            return
        counts = {grade: sum(1 for _, g in self.graded if g == grade) for grade in GRADES}
        self.header.value = (f"<b>Session complete</b>: {len(self.graded)} card(s): strong hire {counts['strong']}, "
                             f"lean hire {counts['lean']}, no hire {counts['no']}.")

    def close(self) -> None:
        """Stop the countdown thread and close the widgets."""
        self._stop_countdown()
        self.box.close()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def drill_widget(topic: str | None = None, due_only: bool = False, progress_file: str | os.PathLike | None = None,
                 **kwargs: Any) -> DrillWidget:
    """``DrillWidget(...)``: put it last in a cell to show it."""
    return DrillWidget(topic=topic, due_only=due_only, progress_file=progress_file, **kwargs)
