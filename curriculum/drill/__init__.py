"""Interview drill: the card deck, calendar-day spaced repetition, the study plan, mock interviews, the progress
file, terminal and notebook rendering, search and export.

Each module holds one role and says its contract in its own docstring:

- ``deck``        the card-file schema, its validators, ``Deck`` and ``load_deck`` (cards in ``curriculum/cards``)
- ``clock``       ISO 8601 times, ``current_time`` with its overrides, the learner's calendar day and time zone,
                  durations and review days as short phrases
- ``scheduling``  Leitner boxes as pure functions of an injected ``now``, due on calendar days: ``next_box``,
                  ``schedule``, ``review``, ``due_cards``, ``session_cards``, the daily cap ``daily_allowance``
- ``records``     the progress file's JSON structure and its checks (old UTC due times still read)
- ``access``      permissions (unreadable file, read-only file, read-only folder), the save lock, leftovers of
                  killed saves, bad files moved aside
- ``store``       the progress file: location, loading, saves that merge with the file under a lock;
                  ``record_review``
- ``history``     ``undo_last`` (the last grade) and ``reset_topic``
- ``skills``      1-5 skill self-ratings over time
- ``stats``       the counts and text of ``--stats``
- ``plan``        the 21-day study plan: checkpoints from the start date, today's tasks, what is overdue
- ``mock``        the five practice problems as a timed 55-minute mock interview
- ``search``      finding and listing cards
- ``export``      the deck as CSV and as an Anki package
- ``mathtext``    LaTeX maths as Unicode text
- ``termtext``    Markdown and maths rendered for a terminal, wrapped to its width
- ``console``     terminal input and output, the live countdown, typed grades
- ``terminal``    ``run_session`` and ``run_skills``, the ``python -m curriculum drill`` loops
- ``render``      ``render_cards``: a topic's cards as Markdown with the answers folded away
- ``widget``      ``drill_widget``: the same drill as an ipywidgets app

The course map (topics, notebooks, section names) lives in ``curriculum.syllabus``. Every public name is
re-exported here, so ``from curriculum import drill`` then ``drill.load_deck()`` is all a caller needs. Nothing
here imports torch or numpy, so the terminal drill starts fast; rich, pylatexenc, filelock, genanki,
markdown-it-py, IPython, ipywidgets and platformdirs are imported only when used.

Environment variables
    ``CURRICULUM_DRILL_FILE``  the progress file (a path).
    ``CURRICULUM_DRILL_TZ``    the learner's time zone (``Asia/Tokyo``, ``UTC``, ``+09:00``); default: the system's.
    ``CURRICULUM_DRILL_NOW``   testing/override hook: the command line reads "now" from it (ISO 8601, e.g.
                               ``2025-01-31T09:00:00Z``; its offset is the zone unless ``CURRICULUM_DRILL_TZ`` is
                               set; no offset means UTC) instead of the system clock.
    ``CURRICULUM_DRILL_DECK``  testing/authoring hook: the command line reads cards from this folder instead of
                               the package's ``curriculum/cards``.
"""
from ..syllabus import FOUNDATIONS_SECTIONS, NOTEBOOKS, SECTION_NAMES, TOPICS, section_names
from .access import (ProgressPermissionError, ReadOnlyProgressFile, ReadOnlyProgressFolder, UnreadableProgressFile,
                     check_writable)
from .clock import NOW_ENV, TZ_ENV, current_time, format_time, local_date, parse_time
from .deck import (DECK_ENV, Card, Deck, DeckError, Rubric, TopicCards, load_deck, validate_card,
                   validate_topic_file)
from .export import export_anki, export_csv, export_deck
from .history import reset_topic, undo_last
from .mathtext import latex_to_unicode
from .mock import MOCK_BUDGET_S, PRACTICE_PROBLEMS, MockResult, Problem, run_mock
from .plan import CHECKPOINTS, Checkpoint, PlanView, Task, format_plan, plan_view
from .render import render_cards
from .scheduling import (DAILY_CAP, GRADE_LABELS, GRADES, INTERVALS_DAYS, MAX_BOX, CardState, Review,
                         daily_allowance, due_cards, next_box, review, schedule, session_cards)
from .search import format_card_list, search_cards
from .skills import SkillTrend, latest_skill_ratings, record_skills, skill_key, skill_progress
from .stats import DrillStats, drill_stats, format_stats
from .store import (FILE_ENV, Progress, ProgressError, load_progress, progress_path, record_review,
                    save_progress)
from .terminal import SessionResult, run_session, run_skills
from .termtext import render_markdown
from .widget import DrillWidget, drill_widget

__all__ = [
    "TOPICS", "NOTEBOOKS", "SECTION_NAMES", "FOUNDATIONS_SECTIONS", "INTERVALS_DAYS", "MAX_BOX", "GRADES",
    "GRADE_LABELS", "DAILY_CAP", "FILE_ENV", "NOW_ENV", "TZ_ENV", "DECK_ENV",
    "Card", "Rubric", "TopicCards", "Deck", "DeckError", "validate_card", "validate_topic_file", "load_deck",
    "section_names",
    "Review", "CardState", "next_box", "schedule", "review", "due_cards", "session_cards", "daily_allowance",
    "Progress", "ProgressError", "progress_path", "load_progress", "save_progress", "record_review",
    "ProgressPermissionError", "UnreadableProgressFile", "ReadOnlyProgressFile", "ReadOnlyProgressFolder",
    "check_writable", "undo_last", "reset_topic",
    "Checkpoint", "Task", "CHECKPOINTS", "PlanView", "plan_view", "format_plan",
    "Problem", "PRACTICE_PROBLEMS", "MOCK_BUDGET_S", "MockResult", "run_mock",
    "search_cards", "format_card_list", "export_csv", "export_anki", "export_deck",
    "latex_to_unicode", "render_markdown", "local_date",
    "skill_key", "record_skills", "latest_skill_ratings", "SkillTrend", "skill_progress",
    "DrillStats", "drill_stats", "format_stats", "current_time", "parse_time", "format_time",
    "run_session", "run_skills", "SessionResult",
    "render_cards", "DrillWidget", "drill_widget",
]
