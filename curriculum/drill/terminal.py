"""The drill in a terminal: ``run_session`` for the cards, ``run_skills`` for the self-assessment.

``python -m curriculum drill`` calls these (see ``curriculum.__main__``). A session first makes sure the
progress file can be saved (``access.check_writable``: a permission problem stops it before the first card)
and says which of its cards are not due yet (early reviews). For each card it shows the prompt and its time
limit, runs a live countdown on one rewritten line (on a terminal) until Enter, shows the model answer, rubric
and red flags (Markdown rendered and wrapped to the terminal's width, maths as Unicode: ``termtext``), then
asks for the self-grade: s (strong hire), l (lean hire), n (no hire); q quits. A card graded no hire comes
back at the end of the session, up to ``RELEARN_LIMIT`` more times, until it earns a better grade. Progress is
saved after every graded card, so a quit, a closed pipe or Ctrl-C loses nothing graded. Both functions take
``stdin``/``stdout`` and a ``clock`` (``run_session`` also a ``timer`` and a ``width``) so tests can script a
whole session.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from .access import check_writable
from .clock import clock_text, current_time, left_text, local_date, when_text
from .console import Console, ask_grade, ending, read_timed
from .deck import Card, Deck
from .scheduling import GRADE_LABELS, grade_counts
from .skills import latest_skill_ratings, record_skills, skill_key
from .store import Progress, progress_path, record_review, save_progress
from .termtext import card_answer_text, prompt_text, terminal_width, wrap

__all__ = ["RELEARN_LIMIT", "SessionResult", "run_session", "run_skills", "say_notices", "early_cards_text"]

RELEARN_LIMIT = 2  # how many more times one session asks a card graded no hire


@dataclass
class SessionResult:
    """What a terminal session did: the (card id, grade) pairs in order and how it ended."""

    graded: list[tuple[str, str]] = field(default_factory=list)
    ended: str = "done"  # "done", "quit" or "eof"


def say_notices(progress: Progress, say: Callable[[str], None]) -> None:
    for notice in progress.notices:
        say(f"Note: {notice}")
    progress.notices.clear()


def early_cards_text(cards: Sequence[Card], progress: Progress, now: datetime, shown: int = 5) -> str | None:
    """A sentence naming the cards of ``cards`` that are not due yet, or None when all are due."""
    today = local_date(now)
    early = [(card.id, progress.state(card.id, now).due) for card in cards]
    early = [(card_id, due) for card_id, due in early if due > today]
    if not early:
        return None
    names = ", ".join(f"{card_id} (due {due:%Y-%m-%d})" for card_id, due in early[:shown])
    more = f" and {len(early) - shown} more" if len(early) > shown else ""
    return (f"{len(early)} of these cards are not due yet and come after the due ones as early reviews: "
            f"{names}{more}. For the due cards alone: --due.")


def run_session(cards: Sequence[Card], progress: Progress, *, deck: Deck | None = None,
                clock: Callable[[], datetime] = current_time, stdin: TextIO | None = None,
                stdout: TextIO | None = None, timer: Callable[[], float] = time.monotonic,
                live_countdown: bool | None = None, tick_s: float = 1.0, width: int | None = None) -> SessionResult:
    """Drill ``cards`` in the terminal, saving ``progress`` after every graded card.

    Raises a ``ProgressPermissionError`` before the first card when the progress file cannot be saved. For each
    card: the prompt and its time limit; a live countdown on a terminal (``live_countdown``, default: both
    streams are TTYs) until Enter; the model answer, rubric and red flags wrapped to ``width`` (default: the
    terminal's); the self-grade s/l/n (asked again on anything else; q quits). A no hire is asked again at the
    end (at most ``RELEARN_LIMIT`` times). EOF ends the session cleanly. Progress is saved before returning.
    """
    console = Console(stdin if stdin is not None else sys.stdin, stdout if stdout is not None else sys.stdout)
    say = console.say
    check_writable(progress.path or progress_path())
    if live_countdown is None:
        live_countdown = console.color and not console.echo
    width = width or terminal_width()
    result = SessionResult()
    queue = list(cards)
    asked_again: dict[str, int] = {}

    total = len(queue)
    say(wrap(f"Drill: {total} card{'s' if total != 1 else ''}. Answer out loud or on paper within the time limit, "
             f"press Enter for the model answer, then grade yourself like an interviewer:", width))
    say(wrap("s = strong hire, l = lean hire, n = no hire; q quits (progress is saved after every card).", width,
             "  "))
    if note := early_cards_text(queue, progress, clock()):
        say(wrap(note, width))
    number = 0
    while number < len(queue):
        card = queue[number]
        number += 1
        now = clock()
        title = deck.title(card.topic) if deck is not None and card.topic in deck.topics else card.topic
        state = progress.state(card.id, now)
        again = " · again: no hire earlier this session" if card.id in asked_again else ""
        early = f" · not due until {state.due:%Y-%m-%d}" if state.due > local_date(now) else ""
        say(f"\n[{number}/{len(queue)}] {card.id}  ({title} · section: {card.section} · box {state.box}{early}"
            f"{again})")
        say(f"Time limit: {clock_text(card.time_limit_s)}")
        say(prompt_text(card, width, color=console.color))
        say("\nThink, then press Enter to reveal the model answer (q + Enter quits).")
        line, elapsed = read_timed(console, lambda spent: f"  {left_text(card.time_limit_s, spent)} ", timer,
                                   tick_s, live_countdown, say)
        if ended := ending(line):
            result.ended = ended
            break
        over = elapsed > card.time_limit_s
        say(f"Time: {clock_text(elapsed)} of {clock_text(card.time_limit_s)}"
            + (f" (over the limit by {clock_text(elapsed - card.time_limit_s)})" if over else ""))
        say(card_answer_text(card, width, color=console.color))
        grade, ended = ask_grade(console)
        if grade is None:
            result.ended = ended or "eof"
            if result.ended == "eof":
                say()
            break
        now = clock()
        new_state = record_review(progress, card, grade, now, seconds=elapsed)
        save_progress(progress, now=now)
        result.graded.append((card.id, grade))
        comes_back = grade == "no" and asked_again.get(card.id, 0) < RELEARN_LIMIT
        if comes_back:
            asked_again[card.id] = asked_again.get(card.id, 0) + 1
            queue.append(card)
        say(f"-> {GRADE_LABELS[grade]}: box {new_state.box}, next review {when_text(new_state.due, now)}"
            + (" (asked again before this session ends)" if comes_back else "") + ". Saved.")
        say_notices(progress, say)
    if progress.dirty:
        save_progress(progress, now=clock())
        say_notices(progress, say)
    counts = grade_counts(result.graded)
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
    console = Console(stdin if stdin is not None else sys.stdin, stdout if stdout is not None else sys.stdout)
    say, read = console.say, console.read
    check_writable(progress.path or progress_path())
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
                if ending(line):
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
        say_notices(progress, say)
    else:
        say("\nNo new ratings.")
    return ratings
