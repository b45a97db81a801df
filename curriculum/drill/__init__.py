"""Interview drill: the card deck, spaced-repetition scheduling, the progress file, notebook rendering, a widget.

Each module holds one role and says its contract in its own docstring:

- ``deck``        the card-file schema, its validators, ``Deck`` and ``load_deck`` (cards in ``curriculum/cards``)
- ``clock``       ISO 8601 times in UTC, ``current_time`` with its override, durations as short phrases
- ``scheduling``  Leitner boxes as pure functions of an injected ``now``: ``next_box``, ``schedule``, ``review``,
                  ``due_cards``, ``session_cards``
- ``store``       the progress file: location, atomic merged saves, bad files moved aside; ``record_review``
- ``skills``      1-5 skill self-ratings over time
- ``stats``       the counts and text of ``--stats``
- ``terminal``    ``run_session`` and ``run_skills``, the ``python -m curriculum drill`` loop
- ``render``      ``render_cards``: a topic's cards as Markdown with the answers folded away
- ``widget``      ``drill_widget``: the same drill as an ipywidgets app

The course map (topics, notebooks, section names) lives in ``curriculum.syllabus``. Every public name is
re-exported here, so ``from curriculum import drill`` then ``drill.load_deck()`` is all a caller needs. Nothing
here imports torch or numpy, so the terminal drill starts fast; IPython, ipywidgets and platformdirs are
imported only when used.

Environment variables
    ``CURRICULUM_DRILL_FILE``  the progress file (a path).
    ``CURRICULUM_DRILL_NOW``   testing/override hook: the command line reads "now" from it (ISO 8601, e.g.
                               ``2025-01-31T09:00:00Z``; no zone means UTC) instead of the system clock.
    ``CURRICULUM_DRILL_DECK``  testing/authoring hook: the command line reads cards from this folder instead of
                               the package's ``curriculum/cards``.
"""
from ..syllabus import FOUNDATIONS_SECTIONS, NOTEBOOKS, SECTION_NAMES, TOPICS, section_names
from .clock import NOW_ENV, current_time, format_time, parse_time
from .deck import (DECK_ENV, Card, Deck, DeckError, Rubric, TopicCards, load_deck, validate_card,
                   validate_topic_file)
from .render import render_cards
from .scheduling import (GRADE_LABELS, GRADES, INTERVALS_DAYS, MAX_BOX, CardState, Review, due_cards, next_box,
                         review, schedule, session_cards)
from .skills import SkillTrend, latest_skill_ratings, record_skills, skill_key, skill_progress
from .stats import DrillStats, drill_stats, format_stats
from .store import (FILE_ENV, Progress, ProgressError, load_progress, progress_path, record_review,
                    save_progress)
from .terminal import SessionResult, run_session, run_skills
from .widget import DrillWidget, drill_widget

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
