"""The drill in a terminal: ``run_session`` for the cards, ``run_skills`` for the self-assessment.

``python -m curriculum drill`` calls these (see ``curriculum.__main__``). For each card the session shows the
prompt and its time limit, runs a live countdown on one rewritten line (on a terminal) until Enter, shows the
model answer, rubric and red flags, then asks for the self-grade: s (strong hire), l (lean hire), n (no hire);
q quits. Progress is saved after every graded card, so a quit, a closed pipe or Ctrl-C loses nothing graded.
When the input is not a terminal (a pipe or a file), each line read is echoed, so a transcript reads like the
interactive session. Both functions take ``stdin``/``stdout`` and a ``clock`` (and ``run_session`` a ``timer``)
so tests can script a whole session.
"""
from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from .clock import clock_text, current_time, left_text, when_text
from .deck import Card, Deck
from .scheduling import GRADE_LABELS, grade_counts
from .skills import latest_skill_ratings, record_skills, skill_key
from .store import Progress, record_review, save_progress

__all__ = ["SessionResult", "run_session", "run_skills"]


class _Countdown:
    """Rewrites one terminal line (``\\r``) with the time left, once per tick, until stopped."""

    def __init__(self, limit_s: float, out: TextIO, timer: Callable[[], float], tick_s: float = 1.0):
        self.limit_s, self.out, self.timer, self.tick_s = limit_s, out, timer, tick_s
        self.start = timer()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="drill-countdown", daemon=True)

    def text(self) -> str:
        return f"  {left_text(self.limit_s, self.timer() - self.start)} "

    def _run(self) -> None:
        while True:
            with self._lock:  # a stop() that has returned guarantees no further write
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
        with self._lock:  # wait for a write in progress to finish
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
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _say_notices(progress: Progress, say: Callable[[str], None]) -> None:
    for notice in progress.notices:
        say(f"Note: {notice}")
    progress.notices.clear()


def _ending(line: str) -> str | None:
    """How a line read ends the session: "eof" at the end of input ('' from readline), "quit" for q; else None."""
    if line == "":
        return "eof"
    return "quit" if line.strip().lower() in ("q", "quit") else None


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
        say(f"Time limit: {clock_text(card.time_limit_s)}")
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
        if ended := _ending(line):
            result.ended = ended
            break
        over = elapsed > card.time_limit_s
        say(f"Time: {clock_text(elapsed)} of {clock_text(card.time_limit_s)}"
            + (f" (over the limit by {clock_text(elapsed - card.time_limit_s)})" if over else ""))
        say(_card_text(card))
        grade = None
        while grade is None:
            say("Grade [s = strong hire, l = lean hire, n = no hire, q = quit]: ", end="")
            answer = read()
            if ended := _ending(answer):
                result.ended = ended
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
        say(f"-> {GRADE_LABELS[grade]}: box {new_state.box}, next review {when_text(new_state.due, now)}. Saved.")
        _say_notices(progress, say)
    if progress.dirty:
        save_progress(progress, now=clock())
        _say_notices(progress, say)
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
                if _ending(line):
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
